package sqlstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/idpkit/idpkit/scim/store"
)

// Keys that come from URLs (tenant names, resource ids, filter values) may
// hold NUL bytes or invalid UTF-8, which PostgreSQL's text type refuses.
// Such keys name nothing: lookups answer ErrNotFound or an empty list, never
// a database error (which the HTTP layers turn into a 500).
func TestUnstorableKeys(t *testing.T) {
	for name, open := range map[string]func(*testing.T) store.Store{"sqlite": newSQLite, "postgres": newPostgres} {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			ctx := context.Background()
			if err := s.CreateTenant(ctx, store.Tenant{Name: "acme", TokenHash: []byte{1}}); err != nil {
				t.Fatal(err)
			}
			for _, key := range []string{"a\x00b", "\x00", "\xff\xfe", "caf\xc3"} {
				t.Run("", func(t *testing.T) {
					notFound := func(what string, err error) {
						t.Helper()
						if !errors.Is(err, store.ErrNotFound) {
							t.Errorf("%s(%q) = %v, want ErrNotFound", what, key, err)
						}
					}
					_, err := s.GetTenant(ctx, key)
					notFound("GetTenant", err)
					_, err = s.UpdateTenant(ctx, key, func(*store.Tenant) error { return nil })
					notFound("UpdateTenant", err)
					_, err = s.GetResource(ctx, "acme", store.TypeUser, key)
					notFound("GetResource", err)
					_, err = s.GetResource(ctx, key, store.TypeUser, "x")
					notFound("GetResource tenant", err)
					_, err = s.UpdateResource(ctx, "acme", store.TypeUser, key, func(*store.Record) error { return nil })
					notFound("UpdateResource", err)
					notFound("DeleteResource", s.DeleteResource(ctx, "acme", store.TypeUser, key))
					_, err = s.GetToken(ctx, "session", key)
					notFound("GetToken", err)
					_, err = s.TakeToken(ctx, "session", key)
					notFound("TakeToken", err)
					if err := s.DeleteToken(ctx, "session", key); err != nil {
						t.Errorf("DeleteToken(%q) = %v", key, err)
					}
					for _, f := range []store.Field{store.FieldID, store.FieldUserName, store.FieldExternalID, store.FieldDisplayName, store.FieldEmail, store.FieldGroup} {
						q := store.Query{Where: store.Eq(f, key)}
						recs, err := s.ListResources(ctx, "acme", store.TypeUser, q)
						if err != nil || len(recs) != 0 {
							t.Errorf("ListResources(%+v) = %v, %v; want none", q, recs, err)
						}
					}
					if _, err := s.ListMembers(ctx, "acme", key, nil); !errors.Is(err, store.ErrNotFound) {
						t.Errorf("ListMembers(%q) = %v, want ErrNotFound", key, err)
					}
					if g, err := s.GroupsOf(ctx, "acme", []string{key}); err != nil || len(g) != 0 {
						t.Errorf("GroupsOf(%q) = %v, %v; want none", key, g, err)
					}
					if n, err := s.CountResources(ctx, key, store.TypeUser, nil); err != nil || n != 0 {
						t.Errorf("CountResources(%q) = %d, %v", key, n, err)
					}
				})
			}
		})
	}
}
