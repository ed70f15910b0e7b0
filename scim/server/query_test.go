package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A query string that is not valid URL encoding, or not UTF-8, is 400:
// never a list with the bad parameter silently dropped.
func TestMalformedQuery(t *testing.T) {
	f := newFixture(t)
	uid := f.createUser(t, "50%off@x.com")
	f.createUser(t, "other@x.com")
	gid := f.call(t, "POST", "/Groups", `{"displayName":"q"}`, nil).body["id"].(string)
	patch := `{"Operations":[{"op":"replace","path":"title","value":"changed"}]}`
	tests := []struct {
		name, method, path, body string
		want                     map[string]any
	}{
		{"bare % in a filter", "GET", "/Users?filter=userName%20eq%20%2250%off@x.com%22", "", scimError(400, "invalidFilter")},
		{"%zz filter", "GET", "/Users?filter=%zz", "", scimError(400, "invalidFilter")},
		{"semicolon after a filter", "GET", "/Users?filter=userName%20eq%20%22nobody%22;x=1", "", scimError(400, "invalidFilter")},
		{"filter not UTF-8", "GET", "/Users?filter=userName%20eq%20%22%FF%22", "", scimError(400, "invalidFilter")},
		{"count", "GET", "/Users?count=%zz", "", scimError(400, "invalidValue")},
		{"sortBy", "GET", "/Users?sortBy=password%zz", "", scimError(400, "invalidValue")},
		{"excludedAttributes", "GET", "/Users?excludedAttributes=%zz", "", scimError(400, "invalidValue")},
		{"attributes not UTF-8", "GET", "/Users?attributes=%FF", "", scimError(400, "invalidValue")},
		{"parameter name not UTF-8", "GET", "/Users?%FF=1", "", scimError(400, "invalidValue")},
		{"get one", "GET", "/Users/" + uid + "?attributes=%zz", "", scimError(400, "invalidValue")},
		{"groups list", "GET", "/Groups?filter=displayName%20eq%20%22q%zz%22", "", scimError(400, "invalidFilter")},
		{"POST", "POST", "/Users?attributes=%zz", `{"userName":"new@x.com"}`, scimError(400, "invalidValue")},
		{"PUT", "PUT", "/Users/" + uid + "?attributes=userName;x", `{"userName":"50%off@x.com","title":"changed"}`, scimError(400, "invalidValue")},
		{"PATCH", "PATCH", "/Groups/" + gid + "?excludedAttributes=%", `{"Operations":[{"op":"replace","path":"displayName","value":"q2"}]}`, scimError(400, "invalidValue")},
		{"PATCH user", "PATCH", "/Users/" + uid + "?attributes=%zz", patch, scimError(400, "invalidValue")},
		{"DELETE", "DELETE", "/Users/" + uid + "?x=%zz", "", scimError(400, "invalidValue")},
		{"search", "POST", "/Users/.search?%zz", `{"filter":"userName pr"}`, scimError(400, "invalidValue")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.callUnchanged(t, tt.method, tt.path, tt.body, nil)
			if diff := cmp.Diff(tt.want, errorOf(r)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
			}
			if d, _ := r.body["detail"].(string); !strings.Contains(d, "not valid URL encoding") && !strings.Contains(d, "not valid UTF-8") {
				t.Errorf("detail %q does not say what is wrong with the query string", d)
			}
		})
	}
	t.Run("the same filter encoded properly", func(t *testing.T) {
		r := f.call(t, "GET", "/Users?filter=userName%20eq%20%2250%25off@x.com%22", "", nil)
		if diff := cmp.Diff([]any{200, float64(1)}, []any{r.status, r.body["totalResults"]}); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
		}
	})
}

// The RFC 7644 §3.4.2 parameters are read whatever the case of their
// names, and only once: a repeated, re-cased or empty filter is 400, never
// a list filtered by one of them or not at all.
func TestQueryParameterNames(t *testing.T) {
	f := newFixture(t)
	f.createUser(t, "alice@x.com")
	f.createUser(t, "bob@x.com")
	eqAlice := "userName%20eq%20%22alice@x.com%22"
	eqBob := "userName%20eq%20%22bob@x.com%22"
	tests := []struct {
		name, path string
		want       map[string]any // the error, or the totalResults of a 200
	}{
		{"filter twice", "/Users?filter=" + eqAlice + "&filter=" + eqBob, scimError(400, "invalidFilter")},
		{"empty filter then a filter", "/Users?filter=&filter=" + eqBob, scimError(400, "invalidFilter")},
		{"filter in two cases", "/Users?filter=" + eqAlice + "&Filter=" + eqBob, scimError(400, "invalidFilter")},
		{"empty filter", "/Users?filter=", scimError(400, "invalidFilter")},
		{"blank filter", "/Users?filter=%20%20", scimError(400, "invalidFilter")},
		{"count twice", "/Users?count=1&count=1000", scimError(400, "invalidValue")},
		{"excludedAttributes twice", "/Users?excludedAttributes=title&excludedAttributes=emails", scimError(400, "invalidValue")},
		{"sortBy twice", "/Users?sortBy=userName&sortBy=bogus", scimError(400, "invalidValue")},
		{"Filter capitalised", "/Users?Filter=" + eqAlice, map[string]any{"totalResults": float64(1)}},
		{"FILTER and COUNT", "/Users?FILTER=" + eqBob + "&COUNT=5", map[string]any{"totalResults": float64(1)}},
		{"an unknown parameter twice is ignored", "/Users?x=1&x=2", map[string]any{"totalResults": float64(2)}},
		{"a filter on /ServiceProviderConfig", "/ServiceProviderConfig?filter=patch.supported%20eq%20true", scimError(403, "")},
		{"a filter on /Schemas", "/Schemas?filter=id%20eq%20%22x%22", scimError(403, "")},
		{"a filter on /ResourceTypes", "/ResourceTypes?filter=name%20eq%20%22User%22", scimError(403, "")},
		{"a filter on one schema", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User?filter=x%20pr", scimError(403, "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.call(t, "GET", tt.path, "", nil)
			got := errorOf(r)
			if r.status == 200 {
				got = map[string]any{"totalResults": r.body["totalResults"]}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
			}
		})
	}
}

// A filter over MaxFilterLength is 400 invalidFilter, from the query
// string and from a search body.
func TestFilterLength(t *testing.T) {
	f := newFixture(t)
	f.createUser(t, "len@example.com")
	long := strings.Repeat("a", 70_000) + " pr"
	tests := []struct {
		name, method, path, body string
		want                     map[string]any
	}{
		{"query string", "GET", "/Users?filter=" + strings.ReplaceAll(long, " ", "%20"), "", scimError(400, "invalidFilter")},
		{"search body", "POST", "/Users/.search", `{"filter":"` + long + `"}`, scimError(400, "invalidFilter")},
		{"root search", "POST", "/.search", `{"filter":"` + long + `"}`, scimError(400, "invalidFilter")},
		{"long but allowed", "GET", "/Users?filter=userName%20eq%20%22" + strings.Repeat("b", 60_000) + "%22", "", map[string]any{"httpStatus": 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.call(t, tt.method, tt.path, tt.body, nil)
			got := errorOf(r)
			if r.status == 200 {
				got = map[string]any{"httpStatus": r.status}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%.300s", diff, r.raw)
			}
			if d, _ := r.body["detail"].(string); r.status == 400 && !strings.Contains(d, "filter is longer than 65536 bytes") {
				t.Errorf("detail %q does not give the limit", d)
			}
		})
	}
}

// …/.search takes only POST: other methods are 405 with Allow: POST, not
// a lookup of a resource called ".search".
func TestSearchMethods(t *testing.T) {
	f := newFixture(t)
	for _, endpoint := range []string{"/Users/.search", "/Groups/.search", "/.search"} {
		for _, method := range []string{"GET", "PUT", "PATCH", "DELETE"} {
			t.Run(method+" "+endpoint, func(t *testing.T) {
				body := ""
				if method == "PUT" || method == "PATCH" {
					body = `{}`
				}
				r := f.call(t, method, endpoint, body, nil)
				got := []any{errorOf(r), r.header.Get("Allow")}
				if diff := cmp.Diff([]any{scimError(405, ""), "POST"}, got); diff != "" {
					t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
				}
			})
		}
	}
	t.Run("without a token still 401", func(t *testing.T) {
		r := f.call(t, "GET", "/Users/.search", "", map[string]string{"Authorization": ""})
		if diff := cmp.Diff(scimError(401, ""), errorOf(r)); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestLowercaseDateTimeFilter: "t" and "z" may be lowercase (RFC 3339 §5.6).
func TestLowercaseDateTimeFilter(t *testing.T) {
	f := newFixture(t)
	f.createUser(t, "dt@example.com")
	r := f.call(t, "GET", `/Users?filter=meta.created%20gt%20%222000-01-01t00:00:00z%22`, "", nil)
	if r.status != http.StatusOK {
		t.Fatalf("status = %d: %s", r.status, r.raw)
	}
	if diff := cmp.Diff(float64(1), r.body["totalResults"]); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
