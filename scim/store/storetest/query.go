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
		n, err := s.CountResources(ctxOf(t), tn, store.TypeUser, nil)
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
		and := func(cs ...*store.Cond) *store.Cond {
			out := &store.Cond{And: []store.Cond{}}
			for _, c := range cs {
				out.And = append(out.And, *c)
			}
			return out
		}
		for _, c := range []struct {
			name  string
			typ   string
			where *store.Cond
			want  []string
		}{
			{"all users", store.TypeUser, nil, []string{"u1", "u2", "u3"}},
			{"all groups", store.TypeGroup, nil, []string{"g1"}},
			{"other type", "Other", nil, nil},
			{"userName exact", store.TypeUser, store.Eq(store.FieldUserName, "Alice@Example.com"), []string{"u1"}},
			{"userName lower", store.TypeUser, store.Eq(store.FieldUserName, "alice@example.com"), []string{"u1"}},
			{"userName upper", store.TypeUser, store.Eq(store.FieldUserName, "BOB@EXAMPLE.COM"), []string{"u2"}},
			{"userName unknown", store.TypeUser, store.Eq(store.FieldUserName, "dave@example.com"), nil},
			{"externalId exact", store.TypeUser, store.Eq(store.FieldExternalID, "EXT-1"), []string{"u1"}},
			{"externalId is case-sensitive", store.TypeUser, store.Eq(store.FieldExternalID, "ext-1"), []string{"u2"}},
			{"externalId on groups", store.TypeGroup, store.Eq(store.FieldExternalID, "EXT-1"), []string{"g1"}},
			{"displayName", store.TypeUser, store.Eq(store.FieldDisplayName, "Alice"), []string{"u1", "u3"}},
			{"displayName is folded", store.TypeUser, store.Eq(store.FieldDisplayName, "aLICE"), []string{"u1", "u3"}},
			{"displayName on groups", store.TypeGroup, store.Eq(store.FieldDisplayName, "alice"), []string{"g1"}},
			{"id", store.TypeUser, store.Eq(store.FieldID, "u2"), []string{"u2"}},
			{"id is exact", store.TypeUser, store.Eq(store.FieldID, "U2"), nil},
			{"id of other type", store.TypeUser, store.Eq(store.FieldID, "g1"), nil},
			{"fields and together", store.TypeUser, and(store.Eq(store.FieldDisplayName, "Alice"), store.Eq(store.FieldExternalID, "EXT-3")), []string{"u3"}},
			{"fields and together, no match", store.TypeUser, and(store.Eq(store.FieldUserName, "alice@example.com"), store.Eq(store.FieldExternalID, "EXT-3")), nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				got := list(t, s, tn, c.typ, store.Query{Where: c.where})
				if diff := cmp.Diff(c.want, got, opts); diff != "" {
					t.Errorf("ListResources(%s, %s) (-want +got):\n%s", c.typ, condString(c.where), diff)
				}
				if n := count(t, s, tn, c.typ, c.where); n != len(c.want) {
					t.Errorf("CountResources(%s, %s) = %d, want %d", c.typ, condString(c.where), n, len(c.want))
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
			u.Emails = []string{tenant + "@example.com"}
			mustCreate(t, s, tenant, u)
			mustCreate(t, s, tenant, group("g1", "Team"))
		}
		mustCreate(t, s, "one", user("u2", "bob"))

		if got := mustGet(t, s, "two", store.TypeUser, "u1"); string(got.Data) != `{"tenant":"two"}` {
			t.Errorf("tenant two's u1 has data %s", got.Data)
		}
		for _, c := range []struct {
			tenant string
			where  *store.Cond
			want   []string
		}{
			{"one", nil, []string{"u1", "u2"}},
			{"two", nil, []string{"u1"}},
			{"two", store.Eq(store.FieldUserName, "ALICE"), []string{"u1"}},
			{"two", store.Eq(store.FieldUserName, "bob"), nil},
			{"two", store.Eq(store.FieldID, "u2"), nil},
			{"two", store.Eq(store.FieldEmail, "one@example.com"), nil},
			{"two", store.Eq(store.FieldEmail, "two@example.com"), []string{"u1"}},
			{"three", nil, nil},
		} {
			got, err := s.ListResources(ctxOf(t), c.tenant, store.TypeUser, store.Query{Where: c.where})
			if err != nil {
				t.Fatalf("ListResources: %v", err)
			}
			if diff := cmp.Diff(c.want, ids(got), opts); diff != "" {
				t.Errorf("ListResources(%s, %s) (-want +got):\n%s", c.tenant, condString(c.where), diff)
			}
			for _, r := range got {
				if r.ID == "u1" && string(r.Data) != `{"tenant":"`+c.tenant+`"}` {
					t.Errorf("ListResources(%s) returned u1 with data %s", c.tenant, r.Data)
				}
			}
			if n := count(t, s, c.tenant, store.TypeUser, c.where); n != len(c.want) {
				t.Errorf("CountResources(%s, %s) = %d, want %d", c.tenant, condString(c.where), n, len(c.want))
			}
		}

		// Updates and deletes stay in their tenant.
		if _, err := s.UpdateResource(ctxOf(t), "one", store.TypeUser, "u1", func(r *store.Record) error {
			r.DisplayName = "changed"
			r.Emails = nil
			return nil
		}); err != nil {
			t.Fatalf("UpdateResource: %v", err)
		}
		if got := mustGet(t, s, "two", store.TypeUser, "u1"); got.DisplayName != "Alice" || got.Version != 1 || !cmp.Equal([]string{"two@example.com"}, got.Emails) {
			t.Errorf("tenant two's u1 = %q version %d emails %q after tenant one's update", got.DisplayName, got.Version, got.Emails)
		}
		if err := s.DeleteResource(ctxOf(t), "one", store.TypeGroup, "g1"); err != nil {
			t.Fatalf("DeleteResource: %v", err)
		}
		mustGet(t, s, "two", store.TypeGroup, "g1")
		_, err := s.UpdateResource(ctxOf(t), "two", store.TypeUser, "u2", func(*store.Record) error { return nil })
		wantErr(t, "UpdateResource of tenant one's u2 in tenant two", err, store.ErrNotFound)
		wantErr(t, "DeleteResource of tenant one's u2 in tenant two", s.DeleteResource(ctxOf(t), "two", store.TypeUser, "u2"), store.ErrNotFound)
	}},
	{"Members", func(t *testing.T, s store.Store) {
		// The same user and group ids in both tenants, with different
		// memberships.
		for _, tenant := range []string{"one", "two"} {
			for _, id := range []string{"u1", "u2", "u3"} {
				mustCreate(t, s, tenant, user(id, id+"@"+tenant))
			}
		}
		mustCreate(t, s, "one", groupWith("g1", "Team", "u1", "u2"))
		mustCreate(t, s, "two", groupWith("g1", "Team", "u3"))
		mustCreate(t, s, "two", groupWith("g2", "Other", "u1"))

		check := func(when string, want map[string]map[string][]string) {
			t.Helper()
			for tenant, groups := range want {
				for g, wantIDs := range groups {
					got, err := s.ListMembers(ctxOf(t), tenant, g, nil)
					if err != nil {
						t.Errorf("%s: ListMembers(%s, %s): %v", when, tenant, g, err)
						continue
					}
					if diff := cmp.Diff(wantIDs, memberIDs(got), opts); diff != "" {
						t.Errorf("%s: ListMembers(%s, %s) (-want +got):\n%s", when, tenant, g, diff)
					}
				}
			}
		}
		check("after create", map[string]map[string][]string{
			"one": {"g1": {"u1", "u2"}},
			"two": {"g1": {"u3"}, "g2": {"u1"}},
		})
		_, err := s.ListMembers(ctxOf(t), "one", "g2", nil)
		wantErr(t, "ListMembers of tenant two's g2 in tenant one", err, store.ErrNotFound)

		gotOf, err := s.GroupsOf(ctxOf(t), "two", []string{"u1", "u2", "u3"})
		if err != nil {
			t.Fatalf("GroupsOf: %v", err)
		}
		wantOf := map[string][]store.GroupRef{"u1": {{ID: "g2", DisplayName: "Other"}}, "u3": {{ID: "g1", DisplayName: "Team"}}}
		if diff := cmp.Diff(wantOf, gotOf, opts); diff != "" {
			t.Errorf("GroupsOf(two) (-want +got):\n%s", diff)
		}
		for _, c := range []struct {
			tenant, typ string
			where       *store.Cond
			want        []string
		}{
			{"one", store.TypeGroup, store.Eq(store.FieldMember, "u1"), []string{"g1"}},
			{"two", store.TypeGroup, store.Eq(store.FieldMember, "u1"), []string{"g2"}},
			{"two", store.TypeGroup, store.Eq(store.FieldMember, "u2"), nil},
			{"one", store.TypeUser, store.Eq(store.FieldGroup, "g1"), []string{"u1", "u2"}},
			{"two", store.TypeUser, store.Eq(store.FieldGroup, "g1"), []string{"u3"}},
		} {
			if diff := cmp.Diff(c.want, list(t, s, c.tenant, c.typ, store.Query{Where: c.where}), opts); diff != "" {
				t.Errorf("ListResources(%s, %s, %s) (-want +got):\n%s", c.tenant, c.typ, condString(c.where), diff)
			}
		}

		// Deleting tenant one's u1 leaves tenant two's g2 alone.
		g2 := mustGet(t, s, "two", store.TypeGroup, "g2")
		if err := s.DeleteResource(ctxOf(t), "one", store.TypeUser, "u1"); err != nil {
			t.Fatalf("DeleteResource: %v", err)
		}
		// Deleting tenant two's g1 leaves tenant one's g1 alone.
		if err := s.DeleteResource(ctxOf(t), "two", store.TypeGroup, "g1"); err != nil {
			t.Fatalf("DeleteResource: %v", err)
		}
		check("after deletes", map[string]map[string][]string{
			"one": {"g1": {"u2"}},
			"two": {"g2": {"u1"}},
		})
		if diff := cmp.Diff(g2, mustGet(t, s, "two", store.TypeGroup, "g2"), opts); diff != "" {
			t.Errorf("tenant two's g2 changed by a delete in tenant one (-want +got):\n%s", diff)
		}
	}},
}
