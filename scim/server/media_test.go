package server

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Request bodies must be application/scim+json or application/json (RFC
// 7644 §3.8, §8.1); anything else is 415 and writes nothing.
func TestUnsupportedMediaType(t *testing.T) {
	f := newFixture(t)
	uid := f.createUser(t, "media@example.com")
	patch := `{"Operations":[{"op":"replace","path":"title","value":"x"}]}`
	requests := []struct{ name, method, path, body string }{
		{"POST /Users", "POST", "/Users", `{"userName":"media2@example.com"}`},
		{"PUT", "PUT", "/Users/" + uid, `{"userName":"media@example.com","title":"y"}`},
		{"PATCH", "PATCH", "/Users/" + uid, patch},
		{"POST .search", "POST", "/Users/.search", `{}`},
		{"POST /.search", "POST", "/.search", `{}`},
		{"POST /Groups", "POST", "/Groups", `{"displayName":"media"}`},
	}
	types := []string{
		"text/plain",
		"application/xml",
		"application/x-www-form-urlencoded",
		"multipart/form-data; boundary=x",
		"application/scim+xml",
		"application/jsonx",
		"application/",
		"json",
	}
	for _, rq := range requests {
		for _, ct := range types {
			t.Run(rq.name+" "+ct, func(t *testing.T) {
				r := f.callUnchanged(t, rq.method, rq.path, rq.body, map[string]string{"Content-Type": ct})
				if diff := cmp.Diff(scimError(415, ""), errorOf(r)); diff != "" {
					t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
				}
				if !strings.Contains(str(r.body["detail"]), "application/scim+json") {
					t.Errorf("detail does not say what to send: %s", r.raw)
				}
			})
		}
	}
}

func TestAcceptedMediaTypes(t *testing.T) {
	f := newFixture(t)
	uid := f.createUser(t, "accepted@example.com")
	types := []string{
		"application/scim+json",
		"application/scim+json; charset=utf-8",
		"APPLICATION/SCIM+JSON; CHARSET=UTF-8",
		"application/json",
		"application/json;charset=utf-8",
		"Application/Json; charset=\"utf-8\"",
		"", // none: read as JSON
	}
	for i, ct := range types {
		t.Run("content-type "+ct, func(t *testing.T) {
			hdr := map[string]string{"Content-Type": ct}
			got := []any{}
			r := f.call(t, "POST", "/Users", `{"userName":"acc`+strconv.Itoa(i)+`@example.com"}`, hdr)
			got = append(got, r.status, r.header.Get("Content-Type"))
			r = f.call(t, "PUT", "/Users/"+uid, `{"userName":"accepted@example.com","title":"t`+strconv.Itoa(i)+`"}`, hdr)
			got = append(got, r.status)
			r = f.call(t, "PATCH", "/Users/"+uid, `{"Operations":[{"op":"replace","path":"nickName","value":"n"}]}`, hdr)
			got = append(got, r.status)
			r = f.call(t, "POST", "/Users/.search", `{"count":1}`, hdr)
			got = append(got, r.status)
			want := []any{201, "application/scim+json; charset=utf-8", 200, 200, 200}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("Accept is not enforced", func(t *testing.T) {
		for _, accept := range []string{"text/html", "application/xml", "application/json", "*/*"} {
			r := f.call(t, "GET", "/Users/"+uid, "", map[string]string{"Accept": accept})
			if diff := cmp.Diff([]any{200, "application/scim+json; charset=utf-8"}, []any{r.status, r.header.Get("Content-Type")}); diff != "" {
				t.Errorf("Accept %s (-want +got):\n%s", accept, diff)
			}
		}
	})
	t.Run("GET and DELETE ignore Content-Type", func(t *testing.T) {
		r := f.call(t, "GET", "/Users", "", map[string]string{"Content-Type": "text/plain"})
		if r.status != http.StatusOK {
			t.Errorf("GET with text/plain = %d: %s", r.status, r.raw)
		}
	})
}

// Bodies nest at most MaxJSONDepth levels; the check runs before decoding.
func TestJSONDepth(t *testing.T) {
	f := newFixture(t)
	uid := f.createUser(t, "depth@example.com")
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	nestObj := func(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }
	tests := []struct {
		name, method, path, body string
		status                   int
		scimType                 string
	}{
		// The body object is level 1.
		{"32 levels", "POST", "/Users", `{"userName":"d32@example.com","x":` + nest(MaxJSONDepth-1) + `}`, 201, ""},
		{"33 levels", "POST", "/Users", `{"userName":"d33@example.com","x":` + nest(MaxJSONDepth) + `}`, 400, "invalidSyntax"},
		{"33 levels of objects", "POST", "/Users", `{"userName":"d33o@example.com","x":` + nestObj(MaxJSONDepth) + `}`, 400, "invalidSyntax"},
		{"32 levels of objects", "POST", "/Users", `{"userName":"d32o@example.com","x":` + nestObj(MaxJSONDepth-1) + `}`, 201, ""},
		{"brackets in strings do not count", "POST", "/Users", `{"userName":"[[` + strings.Repeat("{[", 40) + `@example.com"}`, 201, ""},
		{"escaped quotes stay in the string", "POST", "/Users", `{"userName":"q\"` + strings.Repeat("[", 40) + `\\@example.com"}`, 201, ""},
		{"deep PATCH", "PATCH", "/Users/" + uid, `{"Operations":[{"op":"add","path":"title","value":` + nest(40) + `}]}`, 400, "invalidSyntax"},
		{"deep PUT", "PUT", "/Users/" + uid, `{"userName":"depth@example.com","x":` + nestObj(100) + `}`, 400, "invalidSyntax"},
		{"deep search", "POST", "/Users/.search", `{"filter":` + nest(33) + `}`, 400, "invalidSyntax"},
		{"deep root search", "POST", "/.search", `{"attributes":` + nest(1000) + `}`, 400, "invalidSyntax"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := snapshot(t, f.store, "acme")
			r := f.call(t, tt.method, tt.path, tt.body, nil)
			if diff := cmp.Diff([]any{tt.status, tt.scimType}, []any{r.status, str(r.body["scimType"])}); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%.300s", diff, r.raw)
			}
			if tt.status == 400 {
				if !strings.Contains(str(r.body["detail"]), strconv.Itoa(MaxJSONDepth)) {
					t.Errorf("detail does not state the limit: %s", r.raw)
				}
				if diff := cmp.Diff(before, snapshot(t, f.store, "acme")); diff != "" {
					t.Errorf("stored data changed (-before +after):\n%.2000s", diff)
				}
			}
		})
	}
}

func TestWithinDepth(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{`{}`, true},
		{`[[[]]]`, true},
		{`[[[[]]]]`, false},
		{`{"a":[{"b":1}]}`, true},
		{`{"a":[{"b":[]}]}`, false},
		{`"[[[[[["`, true},
		{`["\"[[[["]`, true},
		{`["\\",[[[]]]]`, false},
		{`]]]][[[`, true}, // not JSON: the decoder refuses it
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := withinDepth([]byte(tt.in), 3); got != tt.want {
				t.Errorf("withinDepth(%s, 3) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
