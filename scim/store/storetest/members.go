package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/store"
)

// groupWith is a group whose create adds the users ids, without display.
func groupWith(id, displayName string, ids ...string) store.Record {
	g := group(id, displayName)
	g.Members = &store.MemberChange{Add: ms(ids...)}
	return g
}

// ms returns members with the given values and no display.
func ms(ids ...string) []store.Member {
	out := make([]store.Member, 0, len(ids))
	for _, id := range ids {
		out = append(out, store.Member{Value: id})
	}
	return out
}

// seedUsers creates users with the given ids (userName = id).
func seedUsers(t *testing.T, s store.Store, tenant string, ids ...string) {
	t.Helper()
	for _, id := range ids {
		mustCreate(t, s, tenant, user(id, id))
	}
}

// changeMembers applies mc to group id with UpdateResource and returns
// the result.
func changeMembers(t *testing.T, s store.Store, tenant, id string, mc store.MemberChange) (store.Record, error) {
	t.Helper()
	return s.UpdateResource(ctxOf(t), tenant, store.TypeGroup, id, func(r *store.Record) error {
		r.Members = &mc
		return nil
	})
}

var memberTests = []test{
	{"Create", func(t *testing.T, s store.Store) {
		seedUsers(t, s, tn, "u1", "u2", "u3")
		in := group("g1", "Team")
		in.Members = &store.MemberChange{Add: []store.Member{{Value: "u2", Display: "Bob"}, {Value: "u1"}, {Value: "u3", Display: "carol"}}}
		got := mustCreate(t, s, tn, in)
		want := group("g1", "Team")
		want.Version, want.Created, want.Modified = 1, got.Created, got.Modified
		if diff := cmp.Diff(want, got, opts); diff != "" {
			t.Errorf("CreateResource returned (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want, mustGet(t, s, tn, store.TypeGroup, "g1"), opts); diff != "" {
			t.Errorf("GetResource (-want +got):\n%s", diff)
		}
		wantMembers := []store.Member{{Value: "u2", Display: "Bob"}, {Value: "u1"}, {Value: "u3", Display: "carol"}}
		if diff := cmp.Diff(wantMembers, members(t, s, tn, "g1")); diff != "" {
			t.Errorf("ListMembers (-want +got):\n%s", diff)
		}
	}},
	{"IgnoredForUsers", func(t *testing.T, s store.Store) {
		u := user("u1", "alice")
		u.Members = &store.MemberChange{Add: ms("nobody")}
		got := mustCreate(t, s, tn, u)
		if got.Members != nil {
			t.Errorf("CreateResource returned Members %+v, want nil", got.Members)
		}
		if _, err := s.UpdateResource(ctxOf(t), tn, store.TypeUser, "u1", func(r *store.Record) error {
			r.Members = &store.MemberChange{Add: ms("nobody")}
			return nil
		}); err != nil {
			t.Errorf("UpdateResource of a User with Members: %v, want them ignored", err)
		}
	}},
	{"UpdateOrder", func(t *testing.T, s store.Store) {
		// Replace, then Remove, then Add, whatever the fields' order.
		seedUsers(t, s, tn, "u1", "u2", "u3", "u4")
		mustCreate(t, s, tn, groupWith("g1", "Team", "u1", "u2", "u3"))
		for i, c := range []struct {
			name   string
			change store.MemberChange
			want   []string
		}{
			{"add appends", store.MemberChange{Add: ms("u4")}, []string{"u1", "u2", "u3", "u4"}},
			{"remove then add moves to the end", store.MemberChange{Remove: []string{"u1"}, Add: ms("u1")}, []string{"u2", "u3", "u4", "u1"}},
			{"remove ignores non-members", store.MemberChange{Remove: []string{"u3", "nobody", "u3"}}, []string{"u2", "u4", "u1"}},
			{"replace then add", store.MemberChange{Replace: true, Add: ms("u3", "u1")}, []string{"u3", "u1"}},
			{"replace, remove, add", store.MemberChange{Replace: true, Remove: []string{"u2"}, Add: ms("u2", "u4")}, []string{"u2", "u4"}},
			{"replace with nothing", store.MemberChange{Replace: true}, nil},
			{"add to an empty group", store.MemberChange{Add: ms("u4", "u2")}, []string{"u4", "u2"}},
			{"empty change", store.MemberChange{}, []string{"u4", "u2"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				got, err := changeMembers(t, s, tn, "g1", c.change)
				if err != nil {
					t.Fatalf("UpdateResource: %v", err)
				}
				if got.Version != int64(i+2) {
					t.Errorf("Version = %d, want %d", got.Version, i+2)
				}
				if got.Members != nil {
					t.Errorf("UpdateResource returned Members %+v, want nil", got.Members)
				}
				if diff := cmp.Diff(c.want, memberIDs(members(t, s, tn, "g1")), opts); diff != "" {
					t.Errorf("ListMembers (-want +got):\n%s", diff)
				}
			})
		}
	}},
	{"IdempotentAdd", func(t *testing.T, s store.Store) {
		seedUsers(t, s, tn, "u1", "u2", "u3", "u4")
		g := group("g1", "Team")
		g.Members = &store.MemberChange{Add: []store.Member{{Value: "u1", Display: "one"}, {Value: "u2", Display: "two"}, {Value: "u3"}}}
		mustCreate(t, s, tn, g)
		for _, c := range []struct {
			name string
			add  []store.Member
			want []store.Member
		}{
			{"new display replaces", []store.Member{{Value: "u1", Display: "One"}},
				[]store.Member{{Value: "u1", Display: "One"}, {Value: "u2", Display: "two"}, {Value: "u3"}}},
			{"empty display keeps", []store.Member{{Value: "u2"}},
				[]store.Member{{Value: "u1", Display: "One"}, {Value: "u2", Display: "two"}, {Value: "u3"}}},
			{"display set later", []store.Member{{Value: "u3", Display: "three"}},
				[]store.Member{{Value: "u1", Display: "One"}, {Value: "u2", Display: "two"}, {Value: "u3", Display: "three"}}},
			{"twice in one add", []store.Member{{Value: "u4", Display: "a"}, {Value: "u1"}, {Value: "u4", Display: "b"}, {Value: "u4"}},
				[]store.Member{{Value: "u1", Display: "One"}, {Value: "u2", Display: "two"}, {Value: "u3", Display: "three"}, {Value: "u4", Display: "b"}}},
		} {
			t.Run(c.name, func(t *testing.T) {
				if _, err := changeMembers(t, s, tn, "g1", store.MemberChange{Add: c.add}); err != nil {
					t.Fatalf("UpdateResource: %v", err)
				}
				if diff := cmp.Diff(c.want, members(t, s, tn, "g1")); diff != "" {
					t.Errorf("ListMembers (-want +got):\n%s", diff)
				}
			})
		}
	}},
	{"KeptByOtherUpdates", func(t *testing.T, s store.Store) {
		seedUsers(t, s, tn, "u1", "u2")
		mustCreate(t, s, tn, groupWith("g1", "Team", "u2", "u1"))
		if _, err := s.UpdateResource(ctxOf(t), tn, store.TypeGroup, "g1", func(r *store.Record) error {
			r.DisplayName, r.Data = "Renamed", []byte(`{"displayName":"Renamed"}`)
			return nil
		}); err != nil {
			t.Fatalf("UpdateResource: %v", err)
		}
		if diff := cmp.Diff([]string{"u2", "u1"}, memberIDs(members(t, s, tn, "g1"))); diff != "" {
			t.Errorf("ListMembers after an update without Members (-want +got):\n%s", diff)
		}
		// An aborted update with a member change changes nothing.
		_, err := s.UpdateResource(ctxOf(t), tn, store.TypeGroup, "g1", func(r *store.Record) error {
			r.Members = &store.MemberChange{Replace: true}
			return errBoom
		})
		wantErr(t, "UpdateResource", err, errBoom)
		if diff := cmp.Diff([]string{"u2", "u1"}, memberIDs(members(t, s, tn, "g1"))); diff != "" {
			t.Errorf("ListMembers after an aborted update (-want +got):\n%s", diff)
		}
	}},
	{"ListMembers", func(t *testing.T, s store.Store) {
		seedUsers(t, s, tn, "u1", "u2", "u3", "u4")
		mustCreate(t, s, tn, groupWith("g1", "Team", "u3", "u1", "u4"))
		mustCreate(t, s, tn, group("empty", "Empty"))
		for _, c := range []struct {
			name  string
			group string
			ids   []string
			want  []string
		}{
			{"all", "g1", nil, []string{"u3", "u1", "u4"}},
			{"some, in member order", "g1", []string{"u4", "nobody", "u3", "u2"}, []string{"u3", "u4"}},
			{"one", "g1", []string{"u1"}, []string{"u1"}},
			{"repeated", "g1", []string{"u1", "u1"}, []string{"u1"}},
			{"none of them", "g1", []string{"u2", "nobody"}, nil},
			{"empty ids", "g1", []string{}, nil},
			{"empty group", "empty", nil, nil},
			{"empty group, some", "empty", []string{"u1"}, nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				got, err := s.ListMembers(ctxOf(t), tn, c.group, c.ids)
				if err != nil {
					t.Fatalf("ListMembers(%s, %q): %v", c.group, c.ids, err)
				}
				if diff := cmp.Diff(c.want, memberIDs(got), opts); diff != "" {
					t.Errorf("ListMembers(%s, %q) (-want +got):\n%s", c.group, c.ids, diff)
				}
			})
		}
		for _, c := range []struct{ name, tenant, group string }{
			{"absent", tn, "nope"},
			{"a user's id", tn, "u1"},
			{"other tenant", "other", "g1"},
			{"id in other case", tn, "G1"},
		} {
			t.Run("not found/"+c.name, func(t *testing.T) {
				_, err := s.ListMembers(ctxOf(t), c.tenant, c.group, nil)
				wantErr(t, "ListMembers", err, store.ErrNotFound)
				_, err = s.ListMembers(ctxOf(t), c.tenant, c.group, []string{"u1"})
				wantErr(t, "ListMembers with ids", err, store.ErrNotFound)
			})
		}
	}},
	{"MissingMembers", func(t *testing.T, s store.Store) {
		seedUsers(t, s, tn, "u1", "u2")
		seedUsers(t, s, "other", "x1")
		mustCreate(t, s, tn, group("g2", "Other group"))
		g1 := mustCreate(t, s, tn, groupWith("g1", "Team", "u1"))
		for _, c := range []struct {
			name    string
			change  store.MemberChange
			missing []string
		}{
			{"absent id", store.MemberChange{Add: ms("u2", "nobody")}, []string{"nobody"}},
			{"a group's id", store.MemberChange{Add: ms("g2")}, []string{"g2"}},
			{"the group itself", store.MemberChange{Add: ms("g1")}, []string{"g1"}},
			{"a user of another tenant", store.MemberChange{Add: ms("x1", "u2")}, []string{"x1"}},
			{"id in other case", store.MemberChange{Add: ms("U2")}, []string{"U2"}},
			{"several, in order", store.MemberChange{Add: ms("z9", "u2", "g2", "x1")}, []string{"z9", "g2", "x1"}},
			{"with replace and remove", store.MemberChange{Replace: true, Remove: []string{"u1"}, Add: ms("u2", "nobody")}, []string{"nobody"}},
			{"unstorable", store.MemberChange{Add: ms("u2\x00")}, []string{"u2\x00"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := s.UpdateResource(ctxOf(t), tn, store.TypeGroup, "g1", func(r *store.Record) error {
					r.DisplayName, r.Data = "Changed", []byte(`{"changed":true}`)
					r.Members = &c.change
					return nil
				})
				checkMissing(t, err, c.missing)
				if diff := cmp.Diff(g1, mustGet(t, s, tn, store.TypeGroup, "g1"), opts); diff != "" {
					t.Errorf("refused update changed the group (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff([]string{"u1"}, memberIDs(members(t, s, tn, "g1"))); diff != "" {
					t.Errorf("refused update changed the members (-want +got):\n%s", diff)
				}
			})
		}
		t.Run("create", func(t *testing.T) {
			_, err := s.CreateResource(ctxOf(t), tn, groupWith("g3", "New", "u1", "nobody", "g2"))
			checkMissing(t, err, []string{"nobody", "g2"})
			_, err = s.GetResource(ctxOf(t), tn, store.TypeGroup, "g3")
			wantErr(t, "GetResource of the refused group", err, store.ErrNotFound)
			_, err = s.ListMembers(ctxOf(t), tn, "g3", nil)
			wantErr(t, "ListMembers of the refused group", err, store.ErrNotFound)
			gotOf, err := s.GroupsOf(ctxOf(t), tn, []string{"u1"})
			if err != nil {
				t.Fatalf("GroupsOf: %v", err)
			}
			if diff := cmp.Diff(map[string][]store.GroupRef{"u1": {{ID: "g1", DisplayName: "Team"}}}, gotOf, opts); diff != "" {
				t.Errorf("GroupsOf after a refused create (-want +got):\n%s", diff)
			}
			// The id is free: the group can be created without the bad member.
			mustCreate(t, s, tn, groupWith("g3", "New", "u1"))
		})
	}},
	{"GroupsOf", func(t *testing.T, s store.Store) {
		seedUsers(t, s, tn, "u1", "u2", "u3", "u4")
		// Created in an order their ids do not have: GroupsOf lists the
		// groups in their default order (created, then id).
		for i, g := range []store.Record{
			groupWith("g4", "Four", "u1", "u2"),
			groupWith("g1", "One", "u2", "u1"),
			groupWith("g3", "", "u2"),
			groupWith("g2", "Two"),
		} {
			g.Created = us(10 - i)
			if g.ID == "g3" {
				g.Created = us(7) // ties with g2's us(7): id order
			}
			mustCreate(t, s, tn, g)
		}
		// Default order: g2 (us 7), g3 (us 7), g1 (us 9), g4 (us 10).
		for _, c := range []struct {
			name  string
			users []string
			want  map[string][]store.GroupRef
		}{
			{"several", []string{"u1", "u2", "u3", "nobody"}, map[string][]store.GroupRef{
				"u1": {{ID: "g1", DisplayName: "One"}, {ID: "g4", DisplayName: "Four"}},
				"u2": {{ID: "g3"}, {ID: "g1", DisplayName: "One"}, {ID: "g4", DisplayName: "Four"}},
			}},
			{"one", []string{"u2"}, map[string][]store.GroupRef{
				"u2": {{ID: "g3"}, {ID: "g1", DisplayName: "One"}, {ID: "g4", DisplayName: "Four"}},
			}},
			{"repeated", []string{"u1", "u1"}, map[string][]store.GroupRef{
				"u1": {{ID: "g1", DisplayName: "One"}, {ID: "g4", DisplayName: "Four"}},
			}},
			{"none in groups", []string{"u3", "u4"}, map[string][]store.GroupRef{}},
			{"nil", nil, map[string][]store.GroupRef{}},
		} {
			t.Run(c.name, func(t *testing.T) {
				got, err := s.GroupsOf(ctxOf(t), tn, c.users)
				if err != nil {
					t.Fatalf("GroupsOf(%q): %v", c.users, err)
				}
				if diff := cmp.Diff(c.want, got, opts); diff != "" {
					t.Errorf("GroupsOf(%q) (-want +got):\n%s", c.users, diff)
				}
			})
		}
		// The display name is the group's current one.
		if _, err := s.UpdateResource(ctxOf(t), tn, store.TypeGroup, "g4", func(r *store.Record) error { r.DisplayName = "Vier"; return nil }); err != nil {
			t.Fatalf("UpdateResource: %v", err)
		}
		got, err := s.GroupsOf(ctxOf(t), tn, []string{"u1"})
		if err != nil {
			t.Fatalf("GroupsOf: %v", err)
		}
		want := map[string][]store.GroupRef{"u1": {{ID: "g1", DisplayName: "One"}, {ID: "g4", DisplayName: "Vier"}}}
		if diff := cmp.Diff(want, got, opts); diff != "" {
			t.Errorf("GroupsOf after a rename (-want +got):\n%s", diff)
		}
	}},
	{"GroupsOfMany", func(t *testing.T, s store.Store) {
		// More users than one statement's parameters on some databases.
		const n = 1200
		var users []store.Record
		var all []string
		for i := range n {
			id := fmt.Sprintf("u%04d", i)
			users = append(users, user(id, id))
			all = append(all, id)
		}
		if err := s.CreateResources(ctxOf(t), tn, users); err != nil {
			t.Fatalf("CreateResources: %v", err)
		}
		var even []string
		for i := 0; i < n; i += 2 {
			even = append(even, all[i])
		}
		for i, g := range []store.Record{groupWith("even", "Even", even...), groupWith("all", "All", all...)} {
			g.Created = us(i)
			mustCreate(t, s, tn, g)
		}
		got, err := s.GroupsOf(ctxOf(t), tn, all)
		if err != nil {
			t.Fatalf("GroupsOf: %v", err)
		}
		if len(got) != n {
			t.Errorf("GroupsOf returned %d users, want %d", len(got), n)
		}
		for i, id := range all {
			want := []store.GroupRef{{ID: "even", DisplayName: "Even"}, {ID: "all", DisplayName: "All"}}
			if i%2 == 1 {
				want = want[1:]
			}
			if diff := cmp.Diff(want, got[id]); diff != "" {
				t.Fatalf("GroupsOf[%s] (-want +got):\n%s", id, diff)
			}
		}
		sub, err := s.ListMembers(ctxOf(t), tn, "all", all[n-300:])
		if err != nil {
			t.Fatalf("ListMembers: %v", err)
		}
		if diff := cmp.Diff(all[n-300:], memberIDs(sub)); diff != "" {
			t.Errorf("ListMembers with %d ids (-want +got):\n%s", 300, diff)
		}
	}},
	{"DeleteUser", func(t *testing.T, s store.Store) {
		seedUsers(t, s, tn, "u1", "u2", "u3")
		before := map[string]store.Record{}
		for _, g := range []store.Record{
			groupWith("g1", "One", "u1", "u2"),
			groupWith("g2", "Two", "u1"),
			groupWith("g3", "Three", "u2", "u3"),
		} {
			g.Created, g.Modified = at(-time.Hour), at(-time.Hour)
			before[g.ID] = mustCreate(t, s, tn, g)
		}
		if err := s.DeleteResource(ctxOf(t), tn, store.TypeUser, "u1"); err != nil {
			t.Fatalf("DeleteResource: %v", err)
		}
		for _, c := range []struct {
			group   string
			members []string
			bumped  bool
		}{{"g1", []string{"u2"}, true}, {"g2", nil, true}, {"g3", []string{"u2", "u3"}, false}} {
			if diff := cmp.Diff(c.members, memberIDs(members(t, s, tn, c.group)), opts); diff != "" {
				t.Errorf("ListMembers(%s) after deleting u1 (-want +got):\n%s", c.group, diff)
			}
			got := mustGet(t, s, tn, store.TypeGroup, c.group)
			want := before[c.group]
			if !c.bumped {
				if diff := cmp.Diff(want, got, opts); diff != "" {
					t.Errorf("%s, which did not list u1, changed (-want +got):\n%s", c.group, diff)
				}
				continue
			}
			if got.Version != want.Version+1 {
				t.Errorf("%s Version = %d, want %d", c.group, got.Version, want.Version+1)
			}
			if !got.Modified.After(want.Modified) {
				t.Errorf("%s Modified = %v, want later than %v", c.group, got.Modified, want.Modified)
			}
			checkUTC(t, c.group, got.Modified)
			want.Version, want.Modified = got.Version, got.Modified
			if diff := cmp.Diff(want, got, opts); diff != "" {
				t.Errorf("%s changed beyond Version and Modified (-want +got):\n%s", c.group, diff)
			}
		}
		got, err := s.GroupsOf(ctxOf(t), tn, []string{"u1"})
		if err != nil || len(got) != 0 {
			t.Errorf("GroupsOf(u1) after delete = %v, %v; want none", got, err)
		}
		if diff := cmp.Diff([]string{"g3"}, list(t, s, tn, store.TypeGroup, store.Query{Where: store.Eq(store.FieldMember, "u3")}), opts); diff != "" {
			t.Errorf("groups of u3 (-want +got):\n%s", diff)
		}
		if n := count(t, s, tn, store.TypeGroup, store.Eq(store.FieldMember, "u1")); n != 0 {
			t.Errorf("%d groups still list the deleted u1", n)
		}
		// A new user with the same id is in no group.
		mustCreate(t, s, tn, user("u1", "u1"))
		if diff := cmp.Diff([]string{"u2"}, memberIDs(members(t, s, tn, "g1"))); diff != "" {
			t.Errorf("ListMembers(g1) after re-creating u1 (-want +got):\n%s", diff)
		}
	}},
	{"DeleteUserVersion", func(t *testing.T, s store.Store) {
		seedUsers(t, s, tn, "u1")
		g := mustCreate(t, s, tn, groupWith("g1", "One", "u1"))
		if err := s.DeleteResourceVersion(ctxOf(t), tn, store.TypeUser, "u1", 1); err != nil {
			t.Fatalf("DeleteResourceVersion: %v", err)
		}
		if got := members(t, s, tn, "g1"); len(got) != 0 {
			t.Errorf("ListMembers(g1) = %v after DeleteResourceVersion of u1, want none", got)
		}
		if got := mustGet(t, s, tn, store.TypeGroup, "g1"); got.Version != g.Version+1 {
			t.Errorf("g1 Version = %d, want %d", got.Version, g.Version+1)
		}
	}},
	{"DeleteGroup", func(t *testing.T, s store.Store) {
		seedUsers(t, s, tn, "u1", "u2")
		mustCreate(t, s, tn, groupWith("g1", "One", "u1", "u2"))
		mustCreate(t, s, tn, groupWith("g2", "Two", "u2"))
		u1 := mustGet(t, s, tn, store.TypeUser, "u1")
		if err := s.DeleteResource(ctxOf(t), tn, store.TypeGroup, "g1"); err != nil {
			t.Fatalf("DeleteResource: %v", err)
		}
		_, err := s.ListMembers(ctxOf(t), tn, "g1", nil)
		wantErr(t, "ListMembers of the deleted group", err, store.ErrNotFound)
		got, err := s.GroupsOf(ctxOf(t), tn, []string{"u1", "u2"})
		if err != nil {
			t.Fatalf("GroupsOf: %v", err)
		}
		if diff := cmp.Diff(map[string][]store.GroupRef{"u2": {{ID: "g2", DisplayName: "Two"}}}, got, opts); diff != "" {
			t.Errorf("GroupsOf after deleting g1 (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"u2"}, list(t, s, tn, store.TypeUser, store.Query{Where: pr(store.FieldGroup)}), opts); diff != "" {
			t.Errorf("users in a group (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(u1, mustGet(t, s, tn, store.TypeUser, "u1"), opts); diff != "" {
			t.Errorf("deleting a group changed its member (-want +got):\n%s", diff)
		}
		// A new group with the same id starts empty.
		mustCreate(t, s, tn, group("g1", "One again"))
		if got := members(t, s, tn, "g1"); len(got) != 0 {
			t.Errorf("re-created g1 has members %v", got)
		}
		// DeleteResourceVersion of a group removes its members too.
		if err := s.DeleteResourceVersion(ctxOf(t), tn, store.TypeGroup, "g2", 1); err != nil {
			t.Fatalf("DeleteResourceVersion: %v", err)
		}
		if n := count(t, s, tn, store.TypeUser, pr(store.FieldGroup)); n != 0 {
			t.Errorf("%d users in a group after deleting every group", n)
		}
	}},
}

// checkMissing fails unless err is a *store.MissingMembersError naming
// exactly want.
func checkMissing(t *testing.T, err error, want []string) {
	t.Helper()
	if !errors.Is(err, store.ErrMissingMember) {
		t.Errorf("error %v, want one matching store.ErrMissingMember", err)
	}
	var mm *store.MissingMembersError
	if !errors.As(err, &mm) {
		t.Errorf("error %v (%T), want a *store.MissingMembersError", err, err)
		return
	}
	if diff := cmp.Diff(want, mm.IDs); diff != "" {
		t.Errorf("MissingMembersError.IDs (-want +got):\n%s", diff)
	}
}
