package storetest

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/store"
)

var bulkTests = []test{
	{"CreateAll", func(t *testing.T, s store.Store) {
		in := []store.Record{fullUser("u1"), user("u2", "bob"), group("g1", "Team")}
		in[0].Emails = []string{"b@example.com", "a@example.com"}
		in[1].Version = 9 // ignored: the store sets Version
		if err := s.CreateResources(ctxOf(t), tn, in); err != nil {
			t.Fatalf("CreateResources: %v", err)
		}
		for _, r := range in {
			got := mustGet(t, s, tn, r.Type, r.ID)
			want := r
			want.Version = 1
			if want.Created.IsZero() {
				want.Created, want.Modified = got.Created, got.Modified
				checkUTC(t, "store-set times of "+r.ID, got.Created, got.Modified)
			}
			if diff := cmp.Diff(want, got, opts); diff != "" {
				t.Errorf("GetResource(%s) after CreateResources (-want +got):\n%s", r.ID, diff)
			}
		}
		if n := count(t, s, tn, store.TypeUser, nil); n != 2 {
			t.Errorf("CountResources(User) = %d, want 2", n)
		}
		if diff := cmp.Diff([]string{"u1"}, list(t, s, tn, store.TypeUser, store.Query{Where: store.Eq(store.FieldEmail, "A@example.com")})); diff != "" {
			t.Errorf("emails of a bulk-created user (-want +got):\n%s", diff)
		}
	}},
	{"Empty", func(t *testing.T, s store.Store) {
		if err := s.CreateResources(ctxOf(t), tn, nil); err != nil {
			t.Errorf("CreateResources(nil): %v", err)
		}
	}},
	{"AllOrNothing", func(t *testing.T, s store.Store) {
		e := user("e1", "existing")
		e.Emails = []string{"e@example.com"}
		mustCreate(t, s, tn, e)
		mustCreate(t, s, tn, group("eg", "Existing"))
		withEmail := func(r store.Record) store.Record { r.Emails = []string{r.ID + "@example.com"}; return r }
		for _, c := range []struct {
			name string
			in   []store.Record
		}{
			{"userName twice in the batch", []store.Record{withEmail(user("n1", "new")), user("n2", "carol"), user("n3", "CAROL")}},
			{"userName of an existing user", []store.Record{withEmail(user("n1", "new")), user("n2", "Existing")}},
			{"id twice in the batch", []store.Record{user("n1", "new"), user("n1", "other")}},
			{"id of an existing user", []store.Record{user("n1", "new"), user("e1", "other")}},
			{"id of an existing group", []store.Record{group("n1", "New"), group("eg", "Other")}},
		} {
			t.Run(c.name, func(t *testing.T) {
				err := s.CreateResources(ctxOf(t), tn, c.in)
				wantErr(t, "CreateResources", err, store.ErrExists)
				if diff := cmp.Diff([]string{"e1"}, list(t, s, tn, store.TypeUser, store.Query{})); diff != "" {
					t.Errorf("users after a failed CreateResources (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff([]string{"eg"}, list(t, s, tn, store.TypeGroup, store.Query{})); diff != "" {
					t.Errorf("groups after a failed CreateResources (-want +got):\n%s", diff)
				}
				if n := count(t, s, tn, store.TypeUser, pr(store.FieldEmail)); n != 1 {
					t.Errorf("%d users have emails after a failed CreateResources, want 1", n)
				}
			})
		}
	}},
}

var emailTests = []test{
	{"KeptInOrder", func(t *testing.T, s store.Store) {
		in := user("u1", "alice")
		in.Emails = []string{"Work@Example.com", "home@example.com", "a@example.com"}
		got := mustCreate(t, s, tn, in)
		if diff := cmp.Diff(in.Emails, got.Emails); diff != "" {
			t.Errorf("CreateResource returned emails (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(in.Emails, mustGet(t, s, tn, store.TypeUser, "u1").Emails); diff != "" {
			t.Errorf("GetResource emails (-want +got):\n%s", diff)
		}
	}},
	{"Duplicates", func(t *testing.T, s store.Store) {
		// A client may send one address twice (as work and home): the
		// store keeps what it was given, and a filter finds the user once.
		in := user("u1", "alice")
		in.Emails = []string{"a@example.com", "A@example.com", "a@example.com"}
		mustCreate(t, s, tn, in)
		if diff := cmp.Diff(in.Emails, mustGet(t, s, tn, store.TypeUser, "u1").Emails); diff != "" {
			t.Errorf("GetResource emails (-want +got):\n%s", diff)
		}
		where := store.Eq(store.FieldEmail, "a@example.com")
		if diff := cmp.Diff([]string{"u1"}, list(t, s, tn, store.TypeUser, store.Query{Where: where})); diff != "" {
			t.Errorf("ListResources(%s) (-want +got):\n%s", condString(where), diff)
		}
		if n := count(t, s, tn, store.TypeUser, where); n != 1 {
			t.Errorf("CountResources(%s) = %d, want 1", condString(where), n)
		}
	}},
	{"SharedAddress", func(t *testing.T, s store.Store) {
		// emails.value is not unique: two users may share one.
		for _, id := range []string{"u1", "u2"} {
			u := user(id, id)
			u.Emails = []string{"team@example.com"}
			mustCreate(t, s, tn, u)
		}
		if diff := cmp.Diff([]string{"u1", "u2"}, list(t, s, tn, store.TypeUser, store.Query{Where: store.Eq(store.FieldEmail, "TEAM@example.com")})); diff != "" {
			t.Errorf("ListResources (-want +got):\n%s", diff)
		}
	}},
	{"ReplacedOnUpdate", func(t *testing.T, s store.Store) {
		in := user("u1", "alice")
		in.Emails = []string{"old@example.com", "keep@example.com"}
		mustCreate(t, s, tn, in)
		for _, c := range []struct {
			name   string
			emails []string
		}{
			{"reordered and changed", []string{"keep@example.com", "new@example.com"}},
			{"unchanged by an update that keeps them", []string{"keep@example.com", "new@example.com"}},
			{"cleared", nil},
			{"set again", []string{"again@example.com"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := mustGet(t, s, tn, store.TypeUser, "u1").Emails
				got, err := s.UpdateResource(ctxOf(t), tn, store.TypeUser, "u1", func(r *store.Record) error {
					if diff := cmp.Diff(before, r.Emails, opts); diff != "" {
						t.Errorf("update callback saw emails (-want +got):\n%s", diff)
					}
					r.Emails = c.emails
					return nil
				})
				if err != nil {
					t.Fatalf("UpdateResource: %v", err)
				}
				if diff := cmp.Diff(c.emails, got.Emails, opts); diff != "" {
					t.Errorf("UpdateResource returned emails (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(c.emails, mustGet(t, s, tn, store.TypeUser, "u1").Emails, opts); diff != "" {
					t.Errorf("GetResource emails (-want +got):\n%s", diff)
				}
				for _, e := range []string{"old@example.com", "keep@example.com", "new@example.com", "again@example.com"} {
					var want []string
					for _, have := range c.emails {
						if have == e {
							want = []string{"u1"}
						}
					}
					if diff := cmp.Diff(want, list(t, s, tn, store.TypeUser, store.Query{Where: store.Eq(store.FieldEmail, e)}), opts); diff != "" {
						t.Errorf("users with email %s (-want +got):\n%s", e, diff)
					}
				}
			})
		}
	}},
	{"KeptOnOtherUpdates", func(t *testing.T, s store.Store) {
		in := user("u1", "alice")
		in.Emails = []string{"a@example.com"}
		mustCreate(t, s, tn, in)
		if _, err := s.UpdateResource(ctxOf(t), tn, store.TypeUser, "u1", func(r *store.Record) error {
			r.DisplayName = "Alice"
			return nil
		}); err != nil {
			t.Fatalf("UpdateResource: %v", err)
		}
		if diff := cmp.Diff(in.Emails, mustGet(t, s, tn, store.TypeUser, "u1").Emails); diff != "" {
			t.Errorf("emails after an update that leaves them (-want +got):\n%s", diff)
		}
	}},
	{"AbortedUpdateKeepsThem", func(t *testing.T, s store.Store) {
		in := user("u1", "alice")
		in.Emails = []string{"a@example.com"}
		mustCreate(t, s, tn, in)
		mustCreate(t, s, tn, user("u2", "bob"))
		for _, c := range []struct {
			name   string
			update func(*store.Record) error
			target error
		}{
			{"callback error", func(r *store.Record) error { r.Emails = []string{"x@example.com"}; return errBoom }, errBoom},
			{"userName taken", func(r *store.Record) error { r.Emails, r.UserName = []string{"x@example.com"}, "BOB"; return nil }, store.ErrExists},
		} {
			_, err := s.UpdateResource(ctxOf(t), tn, store.TypeUser, "u1", c.update)
			wantErr(t, c.name, err, c.target)
			if diff := cmp.Diff(in.Emails, mustGet(t, s, tn, store.TypeUser, "u1").Emails); diff != "" {
				t.Errorf("%s: emails (-want +got):\n%s", c.name, diff)
			}
			if n := count(t, s, tn, store.TypeUser, store.Eq(store.FieldEmail, "x@example.com")); n != 0 {
				t.Errorf("%s: %d users have the aborted email", c.name, n)
			}
		}
	}},
	{"GoneOnDelete", func(t *testing.T, s store.Store) {
		in := user("u1", "alice")
		in.Emails = []string{"a@example.com"}
		mustCreate(t, s, tn, in)
		if err := s.DeleteResource(ctxOf(t), tn, store.TypeUser, "u1"); err != nil {
			t.Fatalf("DeleteResource: %v", err)
		}
		if n := count(t, s, tn, store.TypeUser, pr(store.FieldEmail)); n != 0 {
			t.Errorf("CountResources(emails pr) = %d after delete, want 0", n)
		}
		// The same id again, without emails, has none.
		got := mustCreate(t, s, tn, user("u1", "alice"))
		if len(got.Emails) != 0 || len(mustGet(t, s, tn, store.TypeUser, "u1").Emails) != 0 {
			t.Errorf("re-created user has emails %q", mustGet(t, s, tn, store.TypeUser, "u1").Emails)
		}
		if n := count(t, s, tn, store.TypeUser, store.Eq(store.FieldEmail, "a@example.com")); n != 0 {
			t.Errorf("the deleted user's email still selects %d users", n)
		}
		// DeleteResourceVersion too.
		u := user("u2", "bob")
		u.Emails = []string{"b@example.com"}
		mustCreate(t, s, tn, u)
		if err := s.DeleteResourceVersion(ctxOf(t), tn, store.TypeUser, "u2", 1); err != nil {
			t.Fatalf("DeleteResourceVersion: %v", err)
		}
		if n := count(t, s, tn, store.TypeUser, pr(store.FieldEmail)); n != 0 {
			t.Errorf("CountResources(emails pr) = %d after DeleteResourceVersion, want 0", n)
		}
	}},
}
