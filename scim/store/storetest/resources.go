package storetest

import (
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/store"
)

const tn = "acme" // the tenant of the single-tenant tests

func fullUser(id string) store.Record {
	return store.Record{
		Type:        store.TypeUser,
		ID:          id,
		UserName:    "Alice.Smith@Example.com",
		ExternalID:  "00u1abcd",
		DisplayName: "Alice Smith",
		Data:        []byte(`{"id":"` + id + `","userName":"Alice.Smith@Example.com","active":true}`),
		Created:     at(0),
		Modified:    at(250 * time.Millisecond),
	}
}

var resourceTests = []test{
	{"CreateGet", func(t *testing.T, s store.Store) {
		in := fullUser("u1")
		in.Version = 7 // ignored: the store sets Version
		got := mustCreate(t, s, tn, in)
		want := fullUser("u1")
		want.Version = 1
		if diff := cmp.Diff(want, got, opts); diff != "" {
			t.Errorf("CreateResource returned (-want +got):\n%s", diff)
		}
		stored := mustGet(t, s, tn, store.TypeUser, "u1")
		if diff := cmp.Diff(want, stored, opts); diff != "" {
			t.Errorf("GetResource (-want +got):\n%s", diff)
		}
		checkUTC(t, "GetResource", stored.Created, stored.Modified)
	}},
	{"CreateSetsTimes", func(t *testing.T, s store.Store) {
		got := mustCreate(t, s, tn, group("g1", "Engineering"))
		checkUTC(t, "CreateResource", got.Created, got.Modified)
		stored := mustGet(t, s, tn, store.TypeGroup, "g1")
		if diff := cmp.Diff(got, stored, opts); diff != "" {
			t.Errorf("GetResource differs from what CreateResource returned (-create +get):\n%s", diff)
		}
	}},
	{"CreateDuplicateID", func(t *testing.T, s store.Store) {
		want := mustCreate(t, s, tn, user("u1", "alice"))
		_, err := s.CreateResource(ctxOf(t), tn, user("u1", "bob"))
		wantErr(t, "CreateResource with a taken id", err, store.ErrExists)
		if diff := cmp.Diff(want, mustGet(t, s, tn, store.TypeUser, "u1"), opts); diff != "" {
			t.Errorf("failed create changed the record (-want +got):\n%s", diff)
		}
		// The same id under another type is another resource.
		mustCreate(t, s, tn, group("u1", "Team"))
	}},
	{"GetNotFound", func(t *testing.T, s store.Store) {
		mustCreate(t, s, tn, user("u1", "alice"))
		for _, c := range []struct{ name, tenant, typ, id string }{
			{"unknown id", tn, store.TypeUser, "u2"},
			{"other type", tn, store.TypeGroup, "u1"},
			{"other tenant", "other", store.TypeUser, "u1"},
			{"id in other case", tn, store.TypeUser, "U1"},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := s.GetResource(ctxOf(t), c.tenant, c.typ, c.id)
				wantErr(t, "GetResource", err, store.ErrNotFound)
			})
		}
	}},
	{"ListOrderAndCount", func(t *testing.T, s store.Store) {
		// Inserted out of order; ties on Created are broken by ID.
		for _, c := range []struct {
			id string
			d  time.Duration
		}{{"e", 3 * time.Second}, {"c", time.Second}, {"b", time.Second}, {"a", 2 * time.Second}, {"d", 0}} {
			r := user(c.id, "user-"+c.id)
			r.Created, r.Modified = at(c.d), at(c.d)
			mustCreate(t, s, tn, r)
		}
		mustCreate(t, s, tn, group("g", "Group"))
		got, err := s.ListResources(ctxOf(t), tn, store.TypeUser, store.Query{})
		if err != nil {
			t.Fatalf("ListResources: %v", err)
		}
		if diff := cmp.Diff([]string{"d", "b", "c", "a", "e"}, ids(got)); diff != "" {
			t.Errorf("ListResources order (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(mustGet(t, s, tn, store.TypeUser, "b"), got[1], opts); diff != "" {
			t.Errorf("listed record differs from GetResource (-get +list):\n%s", diff)
		}
		for _, c := range []struct {
			typ  string
			want int
		}{{store.TypeUser, 5}, {store.TypeGroup, 1}, {"Other", 0}} {
			n, err := s.CountResources(ctxOf(t), tn, c.typ, nil)
			if err != nil {
				t.Fatalf("CountResources(%s): %v", c.typ, err)
			}
			if n != c.want {
				t.Errorf("CountResources(%s) = %d, want %d", c.typ, n, c.want)
			}
		}
	}},
	{"ListEmpty", func(t *testing.T, s store.Store) {
		got, err := s.ListResources(ctxOf(t), tn, store.TypeUser, store.Query{})
		if err != nil {
			t.Fatalf("ListResources: %v", err)
		}
		if len(got) != 0 {
			t.Errorf("ListResources on an empty store = %v, want none", ids(got))
		}
		n, err := s.CountResources(ctxOf(t), tn, store.TypeUser, nil)
		if err != nil || n != 0 {
			t.Errorf("CountResources = %d, %v; want 0, nil", n, err)
		}
	}},
	{"UpdateVersions", func(t *testing.T, s store.Store) {
		created := mustCreate(t, s, tn, fullUser("u1"))
		for v := int64(2); v <= 4; v++ {
			got, err := s.UpdateResource(ctxOf(t), tn, store.TypeUser, "u1", func(r *store.Record) error {
				if r.Version != v-1 {
					t.Errorf("update saw Version %d, want %d", r.Version, v-1)
				}
				r.Version = 100 // ignored
				r.DisplayName = "Alice v" + strconv.FormatInt(v, 10)
				r.Data = []byte(`{"v":` + strconv.FormatInt(v, 10) + `}`)
				r.Modified = at(time.Duration(v) * time.Hour)
				return nil
			})
			if err != nil {
				t.Fatalf("UpdateResource #%d: %v", v-1, err)
			}
			want := created
			want.Version = v
			want.DisplayName = "Alice v" + strconv.FormatInt(v, 10)
			want.Data = []byte(`{"v":` + strconv.FormatInt(v, 10) + `}`)
			want.Modified = at(time.Duration(v) * time.Hour)
			if diff := cmp.Diff(want, got, opts); diff != "" {
				t.Errorf("UpdateResource #%d returned (-want +got):\n%s", v-1, diff)
			}
			if diff := cmp.Diff(want, mustGet(t, s, tn, store.TypeUser, "u1"), opts); diff != "" {
				t.Errorf("GetResource after update #%d (-want +got):\n%s", v-1, diff)
			}
		}
	}},
	{"UpdateTimes", func(t *testing.T, s store.Store) {
		created := mustCreate(t, s, tn, fullUser("u1"))
		got, err := s.UpdateResource(ctxOf(t), tn, store.TypeUser, "u1", func(r *store.Record) error { r.ExternalID = "x"; return nil })
		if err != nil {
			t.Fatalf("UpdateResource: %v", err)
		}
		if !got.Modified.Equal(created.Modified) || !got.Created.Equal(created.Created) {
			t.Errorf("times = %v, %v; want %v, %v kept as the update left them", got.Created, got.Modified, created.Created, created.Modified)
		}
		got, err = s.UpdateResource(ctxOf(t), tn, store.TypeUser, "u1", func(r *store.Record) error {
			r.Created, r.Modified = time.Time{}, time.Time{}
			return nil
		})
		if err != nil {
			t.Fatalf("UpdateResource: %v", err)
		}
		if got.Modified.Equal(created.Modified) {
			t.Errorf("Modified unchanged at %v; an update that zeroes it gets the store's time", got.Modified)
		}
		if !got.Created.Equal(created.Created) {
			t.Errorf("Created = %v, want %v", got.Created, created.Created)
		}
		checkUTC(t, "UpdateResource", got.Created, got.Modified)
	}},
	{"UpdateAbort", func(t *testing.T, s store.Store) {
		want := mustCreate(t, s, tn, fullUser("u1"))
		_, err := s.UpdateResource(ctxOf(t), tn, store.TypeUser, "u1", func(r *store.Record) error {
			r.UserName = "changed"
			r.Data[0] = 'X' // an in-place change must not leak either
			return errBoom
		})
		wantErr(t, "UpdateResource", err, errBoom)
		if diff := cmp.Diff(want, mustGet(t, s, tn, store.TypeUser, "u1"), opts); diff != "" {
			t.Errorf("aborted update changed the record (-want +got):\n%s", diff)
		}
	}},
	{"UpdateNotFound", func(t *testing.T, s store.Store) {
		mustCreate(t, s, tn, user("u1", "alice"))
		called := false
		_, err := s.UpdateResource(ctxOf(t), tn, store.TypeGroup, "u1", func(*store.Record) error { called = true; return nil })
		wantErr(t, "UpdateResource", err, store.ErrNotFound)
		if called {
			t.Error("UpdateResource called update for an absent resource")
		}
	}},
	{"UpdateCannotChangeTypeOrID", func(t *testing.T, s store.Store) {
		want := mustCreate(t, s, tn, user("u1", "alice"))
		for _, c := range []struct {
			name   string
			mutate func(*store.Record)
		}{
			{"type", func(r *store.Record) { r.Type = store.TypeGroup }},
			{"id", func(r *store.Record) { r.ID = "u2" }},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := s.UpdateResource(ctxOf(t), tn, store.TypeUser, "u1", func(r *store.Record) error { c.mutate(r); return nil })
				if err == nil {
					t.Error("UpdateResource succeeded, want an error")
				}
				if diff := cmp.Diff(want, mustGet(t, s, tn, store.TypeUser, "u1"), opts); diff != "" {
					t.Errorf("refused update changed the record (-want +got):\n%s", diff)
				}
				_, err = s.GetResource(ctxOf(t), tn, store.TypeGroup, "u1")
				wantErr(t, "GetResource(Group u1)", err, store.ErrNotFound)
				_, err = s.GetResource(ctxOf(t), tn, store.TypeUser, "u2")
				wantErr(t, "GetResource(User u2)", err, store.ErrNotFound)
			})
		}
	}},
	{"DeleteVersion", func(t *testing.T, s store.Store) {
		mustCreate(t, s, tn, user("u1", "alice"))
		if _, err := s.UpdateResource(ctxOf(t), tn, store.TypeUser, "u1", func(r *store.Record) error { return nil }); err != nil {
			t.Fatalf("UpdateResource: %v", err)
		}
		// u1 is at version 2 now: deleting version 1 must leave it alone.
		wantErr(t, "DeleteResourceVersion(1)", s.DeleteResourceVersion(ctxOf(t), tn, store.TypeUser, "u1", 1), store.ErrStale)
		if _, err := s.GetResource(ctxOf(t), tn, store.TypeUser, "u1"); err != nil {
			t.Fatalf("GetResource after a stale delete: %v", err)
		}
		wantErr(t, "DeleteResourceVersion of other type", s.DeleteResourceVersion(ctxOf(t), tn, store.TypeGroup, "u1", 2), store.ErrNotFound)
		if err := s.DeleteResourceVersion(ctxOf(t), tn, store.TypeUser, "u1", 2); err != nil {
			t.Fatalf("DeleteResourceVersion(2): %v", err)
		}
		_, err := s.GetResource(ctxOf(t), tn, store.TypeUser, "u1")
		wantErr(t, "GetResource after delete", err, store.ErrNotFound)
		wantErr(t, "DeleteResourceVersion of a deleted resource", s.DeleteResourceVersion(ctxOf(t), tn, store.TypeUser, "u1", 2), store.ErrNotFound)
	}},
	{"Delete", func(t *testing.T, s store.Store) {
		mustCreate(t, s, tn, user("u1", "alice"))
		mustCreate(t, s, tn, user("u2", "bob"))
		if err := s.DeleteResource(ctxOf(t), tn, store.TypeUser, "u1"); err != nil {
			t.Fatalf("DeleteResource: %v", err)
		}
		_, err := s.GetResource(ctxOf(t), tn, store.TypeUser, "u1")
		wantErr(t, "GetResource after delete", err, store.ErrNotFound)
		wantErr(t, "second DeleteResource", s.DeleteResource(ctxOf(t), tn, store.TypeUser, "u1"), store.ErrNotFound)
		wantErr(t, "DeleteResource of other type", s.DeleteResource(ctxOf(t), tn, store.TypeGroup, "u2"), store.ErrNotFound)
		n, err := s.CountResources(ctxOf(t), tn, store.TypeUser, nil)
		if err != nil || n != 1 {
			t.Errorf("CountResources = %d, %v; want 1, nil", n, err)
		}
		// The id and the userName are free again; the new record starts at Version 1.
		got := mustCreate(t, s, tn, user("u1", "ALICE"))
		if got.Version != 1 {
			t.Errorf("re-created Version = %d, want 1", got.Version)
		}
	}},
}
