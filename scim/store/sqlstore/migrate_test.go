package sqlstore

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/store"
)

// TestMigration2 builds a database of migration 1's shape (members inside
// the group's JSON, no emails index), opens it with this build and checks
// what migration 2 moved.
func TestMigration2(t *testing.T) {
	for name, dsn := range backends {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			d := dsn(t)
			old := openAt(t, d, 1, Options{})
			for _, row := range []struct{ typ, id, userName, displayName, data string }{
				{"User", "u1", "alice", "Alice", `{"userName":"alice","emails":[{"value":"Alice@Example.com"},{"value":"a2@example.com"}]}`},
				{"User", "u2", "bob", "BOB", `{"userName":"bob"}`},
				{"Group", "g1", "", "Admins", `{"displayName":"Admins","members":[{"value":"u2","display":"Bob"},{"value":"gone"},{"value":"u1"},{"value":"g1"}]}`},
				{"Group", "g2", "", "Empty", `{"displayName":"Empty"}`},
			} {
				if _, err := old.w.ExecContext(ctx, old.q(`INSERT INTO resources (tenant, type, id, version, user_name, user_name_folded,
					external_id, display_name, data, created, modified) VALUES ('acme', $1, $2, 1, $3, $3, '', $4, $5, 1, 1)`),
					row.typ, row.id, row.userName, row.displayName, []byte(row.data)); err != nil {
					t.Fatal(err)
				}
			}
			old.Close()

			s := openAt(t, d, len(migrations), Options{})
			var num int
			if err := s.r.QueryRowContext(ctx, `SELECT MAX(num) FROM migrations`).Scan(&num); err != nil || num != len(migrations) {
				t.Fatalf("migrations recorded: %d, %v", num, err)
			}
			for _, typ := range []string{store.TypeUser, store.TypeGroup} {
				if n, err := s.CountResources(ctx, "acme", typ, nil); err != nil || n != 2 {
					t.Errorf("CountResources(%s) after migration 2 = %d, %v; want 2", typ, n, err)
				}
			}
			m, err := s.ListMembers(ctx, "acme", "g1", nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]store.Member{{Value: "u2", Display: "Bob"}, {Value: "u1"}}, m); diff != "" {
				t.Errorf("members (-want +got):\n%s", diff)
			}
			g, err := s.GetResource(ctx, "acme", store.TypeGroup, "g1")
			if err != nil {
				t.Fatal(err)
			}
			var data map[string]any
			if err := json.Unmarshal(g.Data, &data); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(map[string]any{"displayName": "Admins"}, data); diff != "" {
				t.Errorf("group data (-want +got):\n%s", diff)
			}
			u, err := s.GetResource(ctx, "acme", store.TypeUser, "u1")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"Alice@Example.com", "a2@example.com"}, u.Emails); diff != "" {
				t.Errorf("emails (-want +got):\n%s", diff)
			}
			for _, c := range []struct {
				name string
				typ  string
				cond *store.Cond
				want []string
			}{
				{"email", store.TypeUser, store.Eq(store.FieldEmail, "alice@example.com"), []string{"u1"}},
				{"displayName folded", store.TypeUser, store.Eq(store.FieldDisplayName, "bob"), []string{"u2"}},
				{"groups", store.TypeUser, store.Eq(store.FieldGroup, "g1"), []string{"u1", "u2"}},
			} {
				t.Run(c.name, func(t *testing.T) {
					got, err := s.ListResources(ctx, "acme", c.typ, store.Query{Where: c.cond})
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(c.want, ids(got)); diff != "" {
						t.Errorf("(-want +got):\n%s", diff)
					}
				})
			}
		})
	}
}
