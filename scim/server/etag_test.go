package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Every single-resource response carries an ETag equal to meta.version
// (RFC 7644 §3.14).
func TestETagHeader(t *testing.T) {
	f := newFixture(t)
	uid := f.createUser(t, "etag-h@example.com")
	steps := []struct {
		name, method, path, body string
		status                   int
		version                  string
	}{
		{"POST user", "POST", "/Users", `{"userName":"etag-h2@example.com"}`, 201, `W/"1"`},
		{"GET user", "GET", "/Users/" + uid, "", 200, `W/"1"`},
		{"PUT user", "PUT", "/Users/" + uid, `{"userName":"etag-h@example.com","title":"a"}`, 200, `W/"2"`},
		{"PATCH user", "PATCH", "/Users/" + uid, `{"Operations":[{"op":"replace","path":"title","value":"b"}]}`, 200, `W/"3"`},
		{"GET user again", "GET", "/Users/" + uid + "?attributes=userName", "", 200, `W/"3"`},
		{"POST group", "POST", "/Groups", `{"displayName":"etag-g"}`, 201, `W/"1"`},
	}
	var gid string
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			r := f.call(t, st.method, st.path, st.body, nil)
			meta, _ := r.body["meta"].(map[string]any)
			got := []any{r.status, r.header.Get("ETag"), meta["version"]}
			if diff := cmp.Diff([]any{st.status, st.version, st.version}, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
			}
			if st.name == "POST group" {
				gid, _ = r.body["id"].(string)
			}
		})
	}
	t.Run("group PATCH and PUT", func(t *testing.T) {
		r := f.call(t, "PATCH", "/Groups/"+gid, `{"Operations":[{"op":"add","path":"members","value":[{"value":"`+uid+`"}]}]}`, nil)
		p := f.call(t, "PUT", "/Groups/"+gid, `{"displayName":"etag-g2"}`, nil)
		got := []any{r.status, r.header.Get("ETag"), p.status, p.header.Get("ETag"), p.body["meta"].(map[string]any)["version"]}
		if diff := cmp.Diff([]any{200, `W/"2"`, 200, `W/"3"`, `W/"3"`}, got); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestIfNoneMatch(t *testing.T) {
	f := newFixture(t)
	uid := f.createUser(t, "inm@example.com")
	if r := f.call(t, "PATCH", "/Users/"+uid, `{"Operations":[{"op":"replace","path":"title","value":"x"}]}`, nil); r.status != 200 {
		t.Fatalf("PATCH: %s", r.raw)
	}
	// The user is now at version 2.
	tests := []struct {
		name   string
		hdr    string
		status int
	}{
		{"current weak tag", `W/"2"`, 304},
		{"current strong tag", `"2"`, 304},
		{"star", `*`, 304},
		{"list with the current tag", `W/"1", W/"2"`, 304},
		{"stale tag", `W/"1"`, 200},
		{"other tag", `"abc"`, 200},
		{"empty", ``, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.call(t, "GET", "/Users/"+uid, "", map[string]string{"If-None-Match": tt.hdr})
			got := []any{r.status, r.header.Get("ETag"), r.raw == ""}
			want := []any{tt.status, `W/"2"`, tt.status == 304}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
			}
			if tt.status == 200 && r.body["userName"] != "inm@example.com" {
				t.Errorf("200 without the resource: %s", r.raw)
			}
		})
	}
	t.Run("unknown id is still 404", func(t *testing.T) {
		r := f.call(t, "GET", "/Users/nope", "", map[string]string{"If-None-Match": "*"})
		if diff := cmp.Diff(scimError(404, ""), errorOf(r)); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("two header lines", func(t *testing.T) {
		req, _ := http.NewRequest("GET", f.base("acme")+"/Users/"+uid, nil)
		req.Header.Set("Authorization", "Bearer "+f.acmeToken)
		req.Header.Add("If-None-Match", `W/"7"`)
		req.Header.Add("If-None-Match", `W/"2"`)
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotModified {
			t.Errorf("status = %d, want 304", resp.StatusCode)
		}
	})
}

// A stale If-Match is 412 and leaves the resource as it was.
func TestIfMatchUnchanged(t *testing.T) {
	f := newFixture(t)
	uid := f.createUser(t, "im@example.com")
	g := f.call(t, "POST", "/Groups", `{"displayName":"im","members":[{"value":"`+uid+`"}]}`, nil)
	gid := g.body["id"].(string)
	// The user's tag reflects its group (W/"1-…"); its strong form matches.
	strong := strings.TrimPrefix(f.call(t, "GET", "/Users/"+uid, "", nil).header.Get("ETag"), "W/")
	tests := []struct {
		name, method, path, body, ifMatch string
		want                              int
	}{
		{"PUT stale", "PUT", "/Users/" + uid, `{"userName":"im2@example.com"}`, `W/"5"`, 412},
		{"PATCH stale", "PATCH", "/Users/" + uid, `{"Operations":[{"op":"replace","path":"active","value":false}]}`, `"5"`, 412},
		{"PATCH stale list", "PATCH", "/Groups/" + gid, `{"Operations":[{"op":"remove","path":"members"}]}`, `W/"3", W/"4"`, 412},
		{"DELETE stale", "DELETE", "/Users/" + uid, "", `W/"2"`, 412},
		{"DELETE group stale", "DELETE", "/Groups/" + gid, "", `"x"`, 412},
		{"PATCH strong matches weak", "PATCH", "/Users/" + uid, `{"Operations":[{"op":"replace","path":"title","value":"t"}]}`, strong, 200},
		{"PUT star", "PUT", "/Users/" + uid, `{"userName":"im@example.com","title":"u"}`, `*`, 200},
		{"DELETE list with current", "DELETE", "/Groups/" + gid, "", `W/"9", W/"1"`, 204},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := snapshot(t, f.store, "acme")
			r := f.call(t, tt.method, tt.path, tt.body, map[string]string{"If-Match": tt.ifMatch})
			if r.status != tt.want {
				t.Fatalf("status = %d, want %d: %s", r.status, tt.want, r.raw)
			}
			if tt.want == 412 {
				if diff := cmp.Diff(scimError(412, ""), errorOf(r)); diff != "" {
					t.Errorf("mismatch (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(before, snapshot(t, f.store, "acme")); diff != "" {
					t.Errorf("412 changed stored data (-before +after):\n%s", diff)
				}
			}
		})
	}
}
