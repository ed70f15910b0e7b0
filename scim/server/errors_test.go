package server

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim"
)

// Error details are at most MaxDetail bytes, cut at a rune boundary.
func TestErrorDetailCapped(t *testing.T) {
	f := newFixture(t)
	long := strings.Repeat("é", 450_000) // 900 KB
	f.call(t, "POST", "/Users", `{"userName":"`+long+`"}`, nil)
	tests := []struct {
		name, method, path, body string
		want                     map[string]any
	}{
		{"conflict quoting the userName", "POST", "/Users", `{"userName":"` + long + `"}`, scimError(409, "uniqueness")},
		{"bad email type", "POST", "/Users", `{"userName":"t@x","emails":[{"value":"a@x","type":"` + long + `"}]}`, scimError(400, "invalidValue")},
		{"unknown filter attribute", "POST", "/Users/.search", `{"filter":"` + strings.Repeat("a", 60_000) + ` pr"}`, scimError(400, "invalidFilter")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.call(t, tt.method, tt.path, tt.body, nil)
			if diff := cmp.Diff(tt.want, errorOf(r)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%.300s", diff, r.raw)
			}
			d, _ := r.body["detail"].(string)
			if len(d) > MaxDetail || !utf8.ValidString(d) || !strings.HasSuffix(d, "…") {
				t.Errorf("detail of %d bytes, valid UTF-8 %v, want at most %d ending in …: %.100s", len(d), utf8.ValidString(d), MaxDetail, d)
			}
		})
	}
	for _, tt := range []struct {
		name, in, want string
	}{
		{"short", "abc", "abc"},
		{"exactly the limit", strings.Repeat("a", MaxDetail), strings.Repeat("a", MaxDetail)},
		{"one over", strings.Repeat("a", MaxDetail+1), strings.Repeat("a", MaxDetail-3) + "…"},
		{"two-byte runes", strings.Repeat("é", MaxDetail), strings.Repeat("é", (MaxDetail-3)/2) + "…"},
	} {
		t.Run("capDetail "+tt.name, func(t *testing.T) {
			in := &scim.Error{Status: 400, ScimType: "invalidValue", Detail: tt.in}
			got := capDetail(in)
			if diff := cmp.Diff(&scim.Error{Status: 400, ScimType: "invalidValue", Detail: tt.want}, got); diff != "" {
				t.Errorf("(-want +got):\n%.500s", diff)
			}
			if in.Detail != tt.in {
				t.Errorf("capDetail changed its argument")
			}
		})
	}
}

func TestErrors(t *testing.T) {
	f := newFixture(t)
	id := f.createUser(t, "err@example.com")
	big := `{"userName":"` + strings.Repeat("a", MaxBody) + `"}`
	tests := []struct {
		name      string
		method    string
		path      string
		body      string
		hdr       map[string]string
		want      map[string]any
		wantAllow string
	}{
		{name: "unknown endpoint", method: "GET", path: "/Nope", want: scimError(404, "")},
		{name: "service root", method: "GET", path: "/", want: scimError(404, "")},
		{name: "service root without slash", method: "GET", path: "", want: scimError(404, "")},
		{name: "trailing slash", method: "GET", path: "/Users/", want: scimError(404, "")},
		{name: "too deep", method: "GET", path: "/Users/" + id + "/x", want: scimError(404, "")},
		{name: "unknown id", method: "GET", path: "/Users/does-not-exist", want: scimError(404, "")},
		{name: "unknown group", method: "GET", path: "/Groups/does-not-exist", want: scimError(404, "")},
		{name: "unknown resource type", method: "GET", path: "/ResourceTypes/Device", want: scimError(404, "")},
		{name: "unknown schema", method: "GET", path: "/Schemas/urn:x", want: scimError(404, "")},
		{name: "DELETE on collection", method: "DELETE", path: "/Users", want: scimError(405, ""), wantAllow: "GET, POST"},
		{name: "POST on resource", method: "POST", path: "/Users/" + id, body: `{}`, want: scimError(405, ""), wantAllow: "GET, PUT, PATCH, DELETE"},
		{name: "POST on discovery", method: "POST", path: "/ServiceProviderConfig", body: `{}`, want: scimError(405, ""), wantAllow: "GET"},
		{name: "bad JSON", method: "POST", path: "/Users", body: `{"userName":`, want: scimError(400, "invalidSyntax")},
		{name: "JSON array", method: "POST", path: "/Users", body: `[1]`, want: scimError(400, "invalidSyntax")},
		{name: "JSON null", method: "POST", path: "/Users", body: `null`, want: scimError(400, "invalidSyntax")},
		{name: "trailing garbage", method: "POST", path: "/Users", body: `{"userName":"a"} x`, want: scimError(400, "invalidSyntax")},
		{name: "empty body", method: "POST", path: "/Users", want: scimError(400, "invalidSyntax")},
		{name: "form body", method: "POST", path: "/Users", body: `userName=a`, hdr: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, want: scimError(415, "")},
		{name: "body over 1 MiB", method: "POST", path: "/Users", body: big, want: scimError(413, "")},
		{name: "PUT body over 1 MiB", method: "PUT", path: "/Users/" + id, body: big, want: scimError(413, "")},
		{name: "missing userName", method: "POST", path: "/Users", body: `{"name":{"givenName":"x"}}`, want: scimError(400, "invalidValue")},
		{name: "wrong type", method: "POST", path: "/Users", body: `{"userName":5}`, want: scimError(400, "invalidValue")},
		{name: "PATCH bad JSON", method: "PATCH", path: "/Users/" + id, body: `{"Operations":`, want: scimError(400, "invalidSyntax")},
		{name: "PATCH Operations not a list", method: "PATCH", path: "/Users/" + id, body: `{"Operations":{}}`, want: scimError(400, "invalidSyntax")},
		{name: "PATCH no operations", method: "PATCH", path: "/Users/" + id, body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[]}`, want: scimError(400, "invalidSyntax")},
		{name: "PATCH unknown id", method: "PATCH", path: "/Users/nope", body: `{"Operations":[{"op":"replace","value":{"active":false}}]}`, want: scimError(404, "")},
		{name: "PUT unknown id", method: "PUT", path: "/Users/nope", body: `{"userName":"x"}`, want: scimError(404, "")},
		{name: "DELETE unknown id", method: "DELETE", path: "/Users/nope", want: scimError(404, "")},
		{name: "unknown filter attribute", method: "GET", path: "/Users?filter=shoeSize%20eq%2042", want: scimError(400, "invalidFilter")},
		{name: "unparsable filter", method: "GET", path: "/Users?filter=userName%20eq", want: scimError(400, "invalidFilter")},
		{name: "filter unknown operator", method: "GET", path: "/Users?filter=userName%20zz%20%22a%22", want: scimError(400, "invalidFilter")},
		{name: "non-numeric count", method: "GET", path: "/Users?count=ten", want: scimError(400, "invalidValue")},
		{name: "non-numeric startIndex", method: "GET", path: "/Users?startIndex=1.5", want: scimError(400, "invalidValue")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.call(t, tt.method, tt.path, tt.body, tt.hdr)
			if diff := cmp.Diff(tt.want, errorOf(r)); diff != "" {
				t.Errorf("%s %s mismatch (-want +got):\n%s\n%s", tt.method, tt.path, diff, r.raw)
			}
			if diff := cmp.Diff(tt.wantAllow, r.header.Get("Allow")); diff != "" {
				t.Errorf("Allow mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
