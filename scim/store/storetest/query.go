package storetest

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/store"
)

var userNameTests = []test{
	{"UniqueCaseInsensitive", func(t *testing.T, s store.Store) {
		want := mustCreate(t, s, tn, user("u1", "Alice@Example.com"))
		for _, name := range []string{"Alice@Example.com", "alice@example.com", "ALICE@EXAMPLE.COM"} {
			_, err := s.CreateResource(ctxOf(t), tn, user("u-"+name, name))
			wantErr(t, "CreateResource("+name+")", err, store.ErrExists)
		}
		n, err := s.CountResources(ctxOf(t), tn, store.TypeUser)
		if err != nil || n != 1 {
			t.Errorf("CountResources = %d, %v; want 1, nil", n, err)
		}
		if diff := cmp.Diff(want, mustGet(t, s, tn, store.TypeUser, "u1"), opts); diff != "" {
			t.Errorf("record changed (-want +got):\n%s", diff)
		}
	}},
	{"EmptyIsNotUnique", func(t *testing.T, s store.Store) {
		// Groups have no userName; any number may exist, and they never
		// collide with a User.
		mustCreate(t, s, tn, user("u1", "alice"))
		for _, id := range []string{"g1", "g2", "g3"} {
			mustCreate(t, s, tn, group(id, "Same Name"))
		}
		g := group("g4", "x")
		g.UserName = "" // explicit
		mustCreate(t, s, tn, g)
	}},
	{"UniqueOnUpdate", func(t *testing.T, s store.Store) {
		mustCreate(t, s, tn, user("u1", "alice"))
		want := mustCreate(t, s, tn, user("u2", "bob"))
		_, err := s.UpdateResource(ctxOf(t), tn, store.TypeUser, "u2", func(r *store.Record) error {
			r.UserName = "ALICE"
			return nil
		})
		wantErr(t, "UpdateResource to a taken userName", err, store.ErrExists)
		if diff := cmp.Diff(want, mustGet(t, s, tn, store.TypeUser, "u2"), opts); diff != "" {
			t.Errorf("refused update changed the record (-want +got):\n%s", diff)
		}
	}},
	{"ChangeOwnCase", func(t *testing.T, s store.Store) {
		mustCreate(t, s, tn, user("u1", "alice"))
		got, err := s.UpdateResource(ctxOf(t), tn, store.TypeUser, "u1", func(r *store.Record) error {
			r.UserName = "Alice"
			return nil
		})
		if err != nil {
			t.Fatalf("UpdateResource changing only the case: %v", err)
		}
		if got.UserName != "Alice" {
			t.Errorf("UserName = %q, want %q (stored as given)", got.UserName, "Alice")
		}
	}},
	{"FreedByRename", func(t *testing.T, s store.Store) {
		mustCreate(t, s, tn, user("u1", "alice"))
		if _, err := s.UpdateResource(ctxOf(t), tn, store.TypeUser, "u1", func(r *store.Record) error {
			r.UserName = "alice.old"
			return nil
		}); err != nil {
			t.Fatalf("UpdateResource: %v", err)
		}
		mustCreate(t, s, tn, user("u2", "Alice"))
	}},
}

var queryTests = []test{
	{"Filters", func(t *testing.T, s store.Store) {
		recs := []store.Record{
			{Type: store.TypeUser, ID: "u1", UserName: "Alice@Example.com", ExternalID: "EXT-1", DisplayName: "Alice", Created: at(1)},
			{Type: store.TypeUser, ID: "u2", UserName: "bob@example.com", ExternalID: "ext-1", DisplayName: "Bob", Created: at(2)},
			{Type: store.TypeUser, ID: "u3", UserName: "carol@example.com", ExternalID: "EXT-3", DisplayName: "Alice", Created: at(3)},
			{Type: store.TypeGroup, ID: "g1", DisplayName: "Alice", ExternalID: "EXT-1", Created: at(4)},
		}
		for _, r := range recs {
			r.Data = []byte(`{}`)
			mustCreate(t, s, tn, r)
		}
		for _, c := range []struct {
			name string
			typ  string
			q    store.Query
			want []string
		}{
			{"all users", store.TypeUser, store.Query{}, []string{"u1", "u2", "u3"}},
			{"userName exact", store.TypeUser, store.Query{UserName: "Alice@Example.com"}, []string{"u1"}},
			{"userName lower", store.TypeUser, store.Query{UserName: "alice@example.com"}, []string{"u1"}},
			{"userName upper", store.TypeUser, store.Query{UserName: "BOB@EXAMPLE.COM"}, []string{"u2"}},
			{"userName unknown", store.TypeUser, store.Query{UserName: "dave@example.com"}, nil},
			{"externalId exact", store.TypeUser, store.Query{ExternalID: "EXT-1"}, []string{"u1"}},
			{"externalId is case-sensitive", store.TypeUser, store.Query{ExternalID: "ext-1"}, []string{"u2"}},
			{"externalId on groups", store.TypeGroup, store.Query{ExternalID: "EXT-1"}, []string{"g1"}},
			{"displayName", store.TypeUser, store.Query{DisplayName: "Alice"}, []string{"u1", "u3"}},
			{"displayName is case-sensitive", store.TypeUser, store.Query{DisplayName: "alice"}, nil},
			{"displayName on groups", store.TypeGroup, store.Query{DisplayName: "Alice"}, []string{"g1"}},
			{"id", store.TypeUser, store.Query{ID: "u2"}, []string{"u2"}},
			{"id of other type", store.TypeUser, store.Query{ID: "g1"}, nil},
			{"fields and together", store.TypeUser, store.Query{DisplayName: "Alice", ExternalID: "EXT-3"}, []string{"u3"}},
			{"fields and together, no match", store.TypeUser, store.Query{UserName: "alice@example.com", ExternalID: "EXT-3"}, nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				got, err := s.ListResources(ctxOf(t), tn, c.typ, c.q)
				if err != nil {
					t.Fatalf("ListResources(%+v): %v", c.q, err)
				}
				if diff := cmp.Diff(c.want, ids(got), opts); diff != "" {
					t.Errorf("ListResources(%s, %+v) (-want +got):\n%s", c.typ, c.q, diff)
				}
			})
		}
	}},
}

var isolationTests = []test{
	{"Tenants", func(t *testing.T, s store.Store) {
		mustCreateTenant(t, s, store.Tenant{Name: "one", TokenHash: []byte{1}})
		mustCreateTenant(t, s, store.Tenant{Name: "two", TokenHash: []byte{2}})
		// The same ids and userNames in both tenants.
		for _, tenant := range []string{"one", "two"} {
			u := user("u1", "alice")
			u.ExternalID, u.DisplayName, u.Data = "ext", "Alice", []byte(`{"tenant":"`+tenant+`"}`)
			mustCreate(t, s, tenant, u)
			mustCreate(t, s, tenant, group("g1", "Team"))
		}
		mustCreate(t, s, "one", user("u2", "bob"))

		if got := mustGet(t, s, "two", store.TypeUser, "u1"); string(got.Data) != `{"tenant":"two"}` {
			t.Errorf("tenant two's u1 has data %s", got.Data)
		}
		for _, c := range []struct {
			tenant string
			q      store.Query
			want   []string
		}{
			{"one", store.Query{}, []string{"u1", "u2"}},
			{"two", store.Query{}, []string{"u1"}},
			{"two", store.Query{UserName: "ALICE"}, []string{"u1"}},
			{"two", store.Query{UserName: "bob"}, nil},
			{"two", store.Query{ID: "u2"}, nil},
			{"three", store.Query{}, nil},
		} {
			got, err := s.ListResources(ctxOf(t), c.tenant, store.TypeUser, c.q)
			if err != nil {
				t.Fatalf("ListResources: %v", err)
			}
			if diff := cmp.Diff(c.want, ids(got), opts); diff != "" {
				t.Errorf("ListResources(%s, %+v) (-want +got):\n%s", c.tenant, c.q, diff)
			}
			for _, r := range got {
				if r.ID == "u1" && string(r.Data) != `{"tenant":"`+c.tenant+`"}` {
					t.Errorf("ListResources(%s) returned u1 with data %s", c.tenant, r.Data)
				}
			}
		}
		if n, _ := s.CountResources(ctxOf(t), "two", store.TypeUser); n != 1 {
			t.Errorf("CountResources(two) = %d, want 1", n)
		}

		// Updates and deletes stay in their tenant.
		if _, err := s.UpdateResource(ctxOf(t), "one", store.TypeUser, "u1", func(r *store.Record) error {
			r.DisplayName = "changed"
			return nil
		}); err != nil {
			t.Fatalf("UpdateResource: %v", err)
		}
		if got := mustGet(t, s, "two", store.TypeUser, "u1"); got.DisplayName != "Alice" || got.Version != 1 {
			t.Errorf("tenant two's u1 = %q version %d after tenant one's update", got.DisplayName, got.Version)
		}
		if err := s.DeleteResource(ctxOf(t), "one", store.TypeGroup, "g1"); err != nil {
			t.Fatalf("DeleteResource: %v", err)
		}
		mustGet(t, s, "two", store.TypeGroup, "g1")
		_, err := s.UpdateResource(ctxOf(t), "two", store.TypeUser, "u2", func(*store.Record) error { return nil })
		wantErr(t, "UpdateResource of tenant one's u2 in tenant two", err, store.ErrNotFound)
		wantErr(t, "DeleteResource of tenant one's u2 in tenant two", s.DeleteResource(ctxOf(t), "two", store.TypeUser, "u2"), store.ErrNotFound)
	}},
}
