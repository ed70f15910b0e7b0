package app_test

import (
	"context"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/app"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
)

// TestRateLimits checks that New shares one failure limiter between the
// SCIM server and the admin routes, unless DisableRateLimits, and that
// an address over its budget is refused only its wrong credentials: the
// right token and the real admin link pass from it (it may be Okta's
// egress address, or a NAT, shared with the attacker).
func TestRateLimits(t *testing.T) {
	const scimJSON = "application/scim+json; charset=utf-8"
	tests := []struct {
		name    string
		disable bool
		// Answers, after 19 wrong tokens from one address, to: a wrong
		// admin link (the 20th failure), a wrong token and the right token
		// from that address, the right token from another, then a wrong
		// and the real admin link from the first address.
		want []answer
	}{
		{"on by default", false, []answer{{403, "", ""}, {429, "3", scimJSON}, {200, "", scimJSON}, {200, "", scimJSON}, {429, "3", ""}, {200, "", ""}}},
		{"DisableRateLimits", true, []answer{{403, "", ""}, {401, "", scimJSON}, {200, "", scimJSON}, {200, "", scimJSON}, {403, "", ""}, {200, "", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			st, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "x.db"), sqlstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			cfg := app.Config{Store: st, PublicURL: "http://idpkit.example", DisableRateLimits: tt.disable}
			h := app.New(cfg)
			created, err := app.Tenants(cfg).Create(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			do := func(ip, path, token string) answer {
				req := httptest.NewRequest("GET", path, nil)
				req.RemoteAddr = ip
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				a := answer{Status: w.Code, RetryAfter: w.Header().Get("Retry-After")}
				if ct := w.Header().Get("Content-Type"); ct == scimJSON {
					a.SCIM = ct
				}
				return a
			}
			link, err := url.Parse(created.AdminURL)
			if err != nil {
				t.Fatal(err)
			}
			const attacker, okta = "192.0.2.66:4000", "198.51.100.1:443"
			var got []answer
			statuses := map[int]int{}
			for range 19 {
				statuses[do(attacker, "/t/acme/scim/v2/Users", "wrong").Status]++
			}
			if diff := cmp.Diff(map[int]int{401: 19}, statuses); diff != "" {
				t.Fatalf("19 wrong tokens (-want +got):\n%s", diff)
			}
			// The admin link's failure counts with the SCIM ones.
			got = append(got, do(attacker, "/t/acme/admin/login?token=guess", ""))
			got = append(got, do(attacker, "/t/acme/scim/v2/Users", "wrong"))
			got = append(got, do(attacker, "/t/acme/scim/v2/Users", created.Token))
			got = append(got, do(okta, "/t/acme/scim/v2/Users", created.Token))
			got = append(got, do(attacker, "/t/acme/admin/login?token=guess2", ""))
			got = append(got, do(attacker, link.RequestURI(), ""))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("answers (-want +got):\n%s", diff)
			}
		})
	}
}

// answer is what TestRateLimits compares of a response: its status, its
// Retry-After, and its Content-Type when that is SCIM's.
type answer struct {
	Status     int
	RetryAfter string
	SCIM       string
}
