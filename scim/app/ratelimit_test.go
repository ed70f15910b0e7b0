package app_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/app"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
)

// TestRateLimits checks that New shares one failure limiter between the
// SCIM server and the admin routes, unless DisableRateLimits.
func TestRateLimits(t *testing.T) {
	tests := []struct {
		name    string
		disable bool
		// Statuses, after 19 wrong tokens from one address, of: a wrong
		// admin link (the 20th failure), a wrong token and the right token
		// from that address, and the right token from another.
		want []int
	}{
		{"on by default", false, []int{403, 429, 429, 200}},
		{"DisableRateLimits", true, []int{403, 401, 200, 200}},
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
			do := func(ip, path, token string) int {
				req := httptest.NewRequest("GET", path, nil)
				req.RemoteAddr = ip
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				return w.Code
			}
			const attacker, okta = "192.0.2.66:4000", "198.51.100.1:443"
			var got []int
			statuses := map[int]int{}
			for range 19 {
				statuses[do(attacker, "/t/acme/scim/v2/Users", "wrong")]++
			}
			if diff := cmp.Diff(map[int]int{401: 19}, statuses); diff != "" {
				t.Fatalf("19 wrong tokens (-want +got):\n%s", diff)
			}
			// The admin link's failure counts with the SCIM ones.
			got = append(got, do(attacker, "/t/acme/admin/login?token=guess", ""))
			got = append(got, do(attacker, "/t/acme/scim/v2/Users", "wrong"))
			got = append(got, do(attacker, "/t/acme/scim/v2/Users", created.Token))
			got = append(got, do(okta, "/t/acme/scim/v2/Users", created.Token))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
		})
	}
}
