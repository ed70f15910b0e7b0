package sqlstore

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/store"
)

func TestMembers(t *testing.T) {
	for name, dsn := range backends {
		t.Run(name, func(t *testing.T) {
			s := openAt(t, dsn(t), len(migrations), Options{})
			ctx := t.Context()
			fixture(t, s)
			members := func(ids []string) []store.Member {
				t.Helper()
				got, err := s.ListMembers(ctx, "acme", "g1", ids)
				if err != nil {
					t.Fatal(err)
				}
				return got
			}
			if diff := cmp.Diff([]store.Member{{Value: "u2"}, {Value: "u1", Display: "Alice"}}, members(nil)); diff != "" {
				t.Errorf("members of g1 (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]store.Member{{Value: "u1", Display: "Alice"}}, members([]string{"u1", "u3", "nope"})); diff != "" {
				t.Errorf("members of g1 among ids (-want +got):\n%s", diff)
			}
			if _, err := s.ListMembers(ctx, "acme", "nope", nil); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("ListMembers(absent) = %v, want ErrNotFound", err)
			}

			// Idempotent add keeps the place, takes a new display; Remove; a
			// missing member fails the whole write.
			g, err := s.UpdateResource(ctx, "acme", store.TypeGroup, "g1", func(r *store.Record) error {
				r.Members = &store.MemberChange{Remove: []string{"u9"}, Add: []store.Member{{Value: "u2", Display: "Bob"}, {Value: "u4"}, {Value: "u1"}}}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if g.Version != 2 || g.Members != nil {
				t.Errorf("updated group: version %d members %v", g.Version, g.Members)
			}
			if diff := cmp.Diff([]store.Member{{Value: "u2", Display: "Bob"}, {Value: "u1", Display: "Alice"}, {Value: "u4"}}, members(nil)); diff != "" {
				t.Errorf("after add (-want +got):\n%s", diff)
			}
			_, err = s.UpdateResource(ctx, "acme", store.TypeGroup, "g1", func(r *store.Record) error {
				r.DisplayName = "changed"
				r.Members = &store.MemberChange{Replace: true, Add: []store.Member{{Value: "x"}, {Value: "u3"}, {Value: "g2"}, {Value: "x"}}}
				return nil
			})
			var me *store.MissingMembersError
			if !errors.As(err, &me) || !errors.Is(err, store.ErrMissingMember) {
				t.Fatalf("add missing = %v, want *MissingMembersError", err)
			}
			if diff := cmp.Diff([]string{"x", "g2"}, me.IDs); diff != "" {
				t.Errorf("missing (-want +got):\n%s", diff)
			}
			if got, _ := s.GetResource(ctx, "acme", store.TypeGroup, "g1"); got.DisplayName != "Admins" || got.Version != 2 {
				t.Errorf("failed update wrote: %+v", got)
			}
			if _, err := s.CreateResource(ctx, "acme", store.Record{Type: store.TypeGroup, ID: "g3", Members: &store.MemberChange{Add: []store.Member{{Value: "u1"}, {Value: "other"}}}}); !errors.As(err, &me) {
				t.Errorf("create with missing member = %v", err)
			}
			if _, err := s.GetResource(ctx, "acme", store.TypeGroup, "g3"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("g3 after failed create: %v", err)
			}

			groups, err := s.GroupsOf(ctx, "acme", []string{"u1", "u3", "u5", "u1"})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string][]store.GroupRef{"u1": {{ID: "g1", DisplayName: "Admins"}, {ID: "g2", DisplayName: "Everyone"}}, "u3": {{ID: "g2", DisplayName: "Everyone"}}}
			if diff := cmp.Diff(want, groups); diff != "" {
				t.Errorf("GroupsOf (-want +got):\n%s", diff)
			}

			// Deleting a user bumps its groups and removes it from them.
			if err := s.DeleteResource(ctx, "acme", store.TypeUser, "u1"); err != nil {
				t.Fatal(err)
			}
			for id, v := range map[string]int64{"g1": 3, "g2": 2} {
				g, err := s.GetResource(ctx, "acme", store.TypeGroup, id)
				if err != nil || g.Version != v {
					t.Errorf("%s after user delete: version %d, %v; want %d", id, g.Version, err, v)
				}
			}
			if diff := cmp.Diff([]store.Member{{Value: "u2", Display: "Bob"}, {Value: "u4"}}, members(nil)); diff != "" {
				t.Errorf("after user delete (-want +got):\n%s", diff)
			}
			if got, _ := s.ListResources(ctx, "acme", store.TypeUser, store.Query{Where: store.Eq(store.FieldEmail, "alice@example.com")}); len(got) != 0 {
				t.Errorf("emails of a deleted user still match: %v", ids(got))
			}
			if err := s.DeleteResourceVersion(ctx, "acme", store.TypeUser, "u4", 7); !errors.Is(err, store.ErrStale) {
				t.Errorf("DeleteResourceVersion stale = %v", err)
			}
			if err := s.DeleteResource(ctx, "acme", store.TypeGroup, "g1"); err != nil {
				t.Fatal(err)
			}
			if got, _ := s.GroupsOf(ctx, "acme", []string{"u2", "u4"}); len(got) != 0 {
				t.Errorf("GroupsOf after group delete = %v", got)
			}
			var n int
			if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM members`).Scan(&n); err != nil || n != 1 {
				t.Errorf("members rows = %d, %v; want 1 (u3 in g2)", n, err)
			}

			// Emails follow updates.
			if _, err := s.UpdateResource(ctx, "acme", store.TypeUser, "u2", func(r *store.Record) error {
				r.Emails = []string{"B@new.example"}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			got, _ := s.ListResources(ctx, "acme", store.TypeUser, store.Query{Where: store.Eq(store.FieldEmail, "b@NEW.example")})
			if diff := cmp.Diff([]string{"u2"}, ids(got)); diff != "" {
				t.Errorf("new email (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"B@new.example"}, got[0].Emails); diff != "" {
				t.Errorf("stored emails (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCreateResourcesAllOrNothing(t *testing.T) {
	for name, dsn := range backends {
		t.Run(name, func(t *testing.T) {
			s := openAt(t, dsn(t), len(migrations), Options{})
			ctx := t.Context()
			batch := []store.Record{
				{Type: store.TypeUser, ID: "a", UserName: "A", Emails: []string{"a@x"}},
				{Type: store.TypeUser, ID: "b", UserName: "b"},
				{Type: store.TypeGroup, ID: "g", Members: &store.MemberChange{Add: []store.Member{{Value: "a"}, {Value: "b"}}}},
			}
			if err := s.CreateResources(ctx, "acme", append(batch, store.Record{Type: store.TypeUser, ID: "c", UserName: "a"})); !errors.Is(err, store.ErrExists) {
				t.Fatalf("colliding batch = %v, want ErrExists", err)
			}
			if n, _ := s.CountResources(ctx, "acme", store.TypeUser, nil); n != 0 {
				t.Fatalf("after failed batch: %d users", n)
			}
			if err := s.CreateResources(ctx, "acme", batch); err != nil {
				t.Fatal(err)
			}
			m, err := s.ListMembers(ctx, "acme", "g", nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]store.Member{{Value: "a"}, {Value: "b"}}, m); diff != "" {
				t.Errorf("members (-want +got):\n%s", diff)
			}
		})
	}
}
