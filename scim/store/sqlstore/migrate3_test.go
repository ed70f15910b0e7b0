package sqlstore

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/store"
)

// TestMigration3 builds a migration-2 database with tenants (one with
// sign-in configured, one bare), opens it with this build and checks that
// every tenant is kept as it was, without a previous token, and that the
// new columns then store a rotation's grace period.
func TestMigration3(t *testing.T) {
	const us = int64(1796314192707570) // an instant with microseconds
	for name, dsn := range backends {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			d := dsn(t)
			old := openAt(t, d, 2, Options{})
			want := []store.Tenant{
				{Name: "acme", TokenHash: []byte{0x01, 0x00, 0xff}, OktaDomain: "https://dev-1.okta.com", AuthServer: "default",
					Issuer: "https://dev-1.okta.com/oauth2/default", ClientID: "0oa1", ClientSecret: "s3cr3t",
					Created: time.UnixMicro(us).UTC(), Modified: time.UnixMicro(us + 1).UTC()},
				{Name: "bare", TokenHash: []byte{0x02}, Created: time.UnixMicro(us + 2).UTC(), Modified: time.UnixMicro(us + 2).UTC()},
			}
			for _, tn := range want {
				if _, err := old.w.ExecContext(ctx, old.q(`INSERT INTO tenants (name, token_hash, okta_domain, auth_server, issuer,
					client_id, client_secret, created, modified) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`),
					tn.Name, tn.TokenHash, tn.OktaDomain, tn.AuthServer, tn.Issuer, tn.ClientID, tn.ClientSecret,
					toDB(tn.Created), toDB(tn.Modified)); err != nil {
					t.Fatal(err)
				}
			}
			old.Close()

			s := openAt(t, d, 3, Options{})
			var done int
			if err := s.r.QueryRowContext(ctx, `SELECT MAX(num) FROM migrations`).Scan(&done); err != nil || done != 3 {
				t.Fatalf("migrations recorded: %d, %v; want 3", done, err)
			}
			// Later migrations add tenant columns this build reads
			// (5: admin_group), so read the tenants at the newest one:
			// old tenants get no admin group.
			s.Close()
			s = openAt(t, d, Migrations(), Options{})
			for _, w := range want {
				got, err := s.GetTenant(ctx, w.Name)
				if err != nil {
					t.Fatalf("GetTenant(%s): %v", w.Name, err)
				}
				if diff := cmp.Diff(w, got); diff != "" {
					t.Errorf("tenant %s after migration 3 (-want +got):\n%s", w.Name, diff)
				}
			}
			grace := time.UnixMicro(us + 600_000_000).UTC()
			if _, err := s.UpdateTenant(ctx, "acme", func(tn *store.Tenant) error {
				tn.PrevTokenHash, tn.TokenHash, tn.PrevTokenExpires = tn.TokenHash, []byte{0x03}, grace
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			got, err := s.GetTenant(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			w := want[0]
			w.PrevTokenHash, w.TokenHash, w.PrevTokenExpires = want[0].TokenHash, []byte{0x03}, grace
			if diff := cmp.Diff(w, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
				t.Errorf("acme after a rotation with grace (-want +got):\n%s", diff)
			}
		})
	}
}
