package sqlstore

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/store"
)

// TestUpgradeOddData builds a migration-1 database with what TestMigration2
// leaves out (two tenants sharing a member id, JSON of unexpected shapes,
// microsecond times, versions above 1), opens it with this build and
// checks that nothing readable was lost and that the migrated rows behave
// as new ones: unique userNames, membership lookups, and a user delete
// that cascades to its groups.
func TestUpgradeOddData(t *testing.T) {
	// us is an instant with microseconds, as migration 1's code wrote.
	const us = int64(1796314192707570)
	for name, dsn := range backends {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			d := dsn(t)
			old := openAt(t, d, 1, Options{})
			rows := []struct {
				tenant, typ, id, userName, externalID, displayName, data string
				version                                                  int64
			}{
				{"acme", "User", "u1", "Alice", "ext-1", "", `{"userName":"Alice","emails":[{"value":"A@x.com"},{"value":5},{"type":"work"}]}`, 3},
				{"acme", "User", "u2", "bob", "", "", `{"userName":"bob","emails":"b@x.com"}`, 1},
				{"acme", "User", "u3", "carol", "", "", `[1,2]`, 1},
				{"other", "User", "x1", "xavier", "", "", `{"userName":"xavier"}`, 1},
				{"other", "User", "u1", "alice-other", "", "", `{"userName":"alice-other"}`, 1},
				{"acme", "Group", "g1", "", "g-ext", "Admins", `{"displayName":"Admins","externalId":"g-ext","members":[{"value":"u1","display":7},{"value":"x1"},"u2",{"value":"u2","display":"Bob"}]}`, 5},
				{"acme", "Group", "g2", "", "", "Null", `{"displayName":"Null","members":null}`, 1},
				{"acme", "Group", "g3", "", "", "Object", `{"displayName":"Object","members":{"value":"u1"}}`, 1},
				{"other", "Group", "g1", "", "", "Other", `{"displayName":"Other","members":[{"value":"u1"},{"value":"x1"}]}`, 1},
			}
			for _, r := range rows {
				if _, err := old.w.ExecContext(ctx, old.q(`INSERT INTO resources (tenant, type, id, version, user_name, user_name_folded,
					external_id, display_name, data, created, modified) VALUES ($1, $2, $3, $4, $5, LOWER($5), $6, $7, $8, $9, $10)`),
					r.tenant, r.typ, r.id, r.version, r.userName, r.externalID, r.displayName, []byte(r.data), us, us+1); err != nil {
					t.Fatal(err)
				}
			}
			old.Close()

			s := openAt(t, d, len(migrations), Options{})
			for _, r := range rows {
				got, err := s.GetResource(ctx, r.tenant, r.typ, r.id)
				if err != nil {
					t.Fatalf("GetResource(%s, %s, %s): %v", r.tenant, r.typ, r.id, err)
				}
				want := time.UnixMicro(us).UTC()
				if !got.Created.Equal(want) || !got.Modified.Equal(want.Add(time.Microsecond)) || got.Version != r.version {
					t.Errorf("%s/%s/%s: created %v modified %v version %d; want %v, %v, %d", r.tenant, r.typ, r.id,
						got.Created, got.Modified, got.Version, want, want.Add(time.Microsecond), r.version)
				}
				if r.typ == store.TypeUser && string(got.Data) != r.data {
					t.Errorf("%s/%s data = %s; want it unchanged", r.tenant, r.id, got.Data)
				}
				if r.typ == store.TypeGroup {
					var data map[string]any
					if err := json.Unmarshal(got.Data, &data); err != nil {
						t.Fatal(err)
					}
					if _, ok := data["members"]; ok {
						t.Errorf("%s/%s data still holds members: %s", r.tenant, r.id, got.Data)
					}
				}
			}
			for _, c := range []struct {
				tenant, id string
				want       []store.Member
			}{
				{"acme", "g1", []store.Member{{Value: "u1"}, {Value: "u2", Display: "Bob"}}},
				{"acme", "g2", nil},
				{"acme", "g3", nil},
				{"other", "g1", []store.Member{{Value: "u1"}, {Value: "x1"}}},
			} {
				t.Run("members "+c.tenant+"/"+c.id, func(t *testing.T) {
					m, err := s.ListMembers(ctx, c.tenant, c.id, nil)
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(c.want, m); diff != "" {
						t.Errorf("(-want +got):\n%s", diff)
					}
				})
			}
			u1, err := s.GetResource(ctx, "acme", store.TypeUser, "u1")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"A@x.com"}, u1.Emails); diff != "" {
				t.Errorf("u1 emails (-want +got):\n%s", diff)
			}
			for _, c := range []struct {
				name, tenant, typ string
				where             *store.Cond
				want              []string
			}{
				{"email folded", "acme", store.TypeUser, store.Eq(store.FieldEmail, "a@X.com"), []string{"u1"}},
				{"userName folded", "acme", store.TypeUser, store.Eq(store.FieldUserName, "ALICE"), []string{"u1"}},
				{"externalId", "acme", store.TypeUser, store.Eq(store.FieldExternalID, "ext-1"), []string{"u1"}},
				{"group externalId", "acme", store.TypeGroup, store.Eq(store.FieldExternalID, "g-ext"), []string{"g1"}},
				{"groups of u1", "acme", store.TypeUser, store.Eq(store.FieldGroup, "g1"), []string{"u1", "u2"}},
				{"members u1 acme", "acme", store.TypeGroup, store.Eq(store.FieldMember, "u1"), []string{"g1"}},
				{"members u1 other", "other", store.TypeGroup, store.Eq(store.FieldMember, "u1"), []string{"g1"}},
				{"modified at its microsecond", "acme", store.TypeUser,
					&store.Cond{Field: store.FieldModified, Op: store.OpEq, Time: time.UnixMicro(us + 1)}, []string{"u1", "u2", "u3"}},
			} {
				t.Run(c.name, func(t *testing.T) {
					got, err := s.ListResources(ctx, c.tenant, c.typ, store.Query{Where: c.where})
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(c.want, ids(got)); diff != "" {
						t.Errorf("(-want +got):\n%s", diff)
					}
				})
			}
			for _, c := range []struct {
				tenant, typ string
				want        int
			}{{"acme", store.TypeUser, 3}, {"acme", store.TypeGroup, 3}, {"other", store.TypeUser, 2}, {"other", store.TypeGroup, 1}} {
				if n, err := s.CountResources(ctx, c.tenant, c.typ, nil); err != nil || n != c.want {
					t.Errorf("CountResources(%s, %s) = %d, %v; want %d", c.tenant, c.typ, n, err, c.want)
				}
			}

			now := time.UnixMicro(us + 1000).UTC()
			if _, err := s.CreateResource(ctx, "acme", store.Record{Type: store.TypeUser, ID: "u9", UserName: "ALICE",
				Data: []byte(`{"userName":"ALICE"}`), Created: now, Modified: now}); !errors.Is(err, store.ErrExists) {
				t.Errorf("create ALICE over migrated Alice: %v; want ErrExists", err)
			}
			if err := s.DeleteResource(ctx, "acme", store.TypeUser, "u1"); err != nil {
				t.Fatal(err)
			}
			g1, err := s.GetResource(ctx, "acme", store.TypeGroup, "g1")
			if err != nil {
				t.Fatal(err)
			}
			if g1.Version != 6 {
				t.Errorf("g1 version after its member's delete = %d; want 6", g1.Version)
			}
			m, err := s.ListMembers(ctx, "acme", "g1", nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]store.Member{{Value: "u2", Display: "Bob"}}, m); diff != "" {
				t.Errorf("g1 members after deleting u1 (-want +got):\n%s", diff)
			}
			m, err = s.ListMembers(ctx, "other", "g1", nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]store.Member{{Value: "u1"}, {Value: "x1"}}, m); diff != "" {
				t.Errorf("other tenant's g1 after deleting acme's u1 (-want +got):\n%s", diff)
			}
		})
	}
}
