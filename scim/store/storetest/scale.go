package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/store"
)

// Sizes of the scale tests: large enough that a backend that loads a
// whole table, or issues a statement per row, shows it in the timings of
// the suite, small enough that each test stays well under a second on
// SQLite. The benchmarks of each backend measure speed.
const (
	bigGroup = 5000
	bigList  = 2000
)

// seedMany creates n users in one CreateResources; user i has id
// u%05d, a userName whose order is not the id order, an email on every
// third, and Created 1µs after user i-1.
func seedMany(t *testing.T, s store.Store, n int) []store.Record {
	t.Helper()
	rs := make([]store.Record, n)
	for i := range rs {
		id := fmt.Sprintf("u%05d", i)
		r := user(id, fmt.Sprintf("User%05d@Example.com", (i*7919)%n))
		if i%3 == 0 {
			r.Emails = []string{id + "@mail.example"}
		}
		r.Created, r.Modified = us(i), us(i)
		rs[i] = r
	}
	if err := s.CreateResources(ctxOf(t), tn, rs); err != nil {
		t.Fatalf("CreateResources(%d users): %v", n, err)
	}
	return rs
}

var scaleTests = []test{
	{"BigGroup", func(t *testing.T, s store.Store) {
		users := seedMany(t, s, bigGroup)
		// Members in reverse id order, so that member order is neither id
		// nor creation order.
		want := make([]store.Member, bigGroup)
		for i := range want {
			u := users[bigGroup-1-i]
			want[i] = store.Member{Value: u.ID, Display: u.UserName}
		}
		g := group("big", "Everyone")
		g.Members = &store.MemberChange{Add: want}
		mustCreate(t, s, tn, g)
		if diff := cmp.Diff(want, members(t, s, tn, "big")); diff != "" {
			t.Errorf("ListMembers of %d (-want +got):\n%s", bigGroup, diff)
		}
		// One more member and one fewer, through UpdateResource.
		mustCreate(t, s, tn, user("late", "late"))
		if _, err := changeMembers(t, s, tn, "big", store.MemberChange{Remove: []string{users[0].ID}, Add: ms("late")}); err != nil {
			t.Fatalf("UpdateResource: %v", err)
		}
		got := members(t, s, tn, "big")
		wantAfter := append(slices.Clone(want[:bigGroup-1]), store.Member{Value: "late"})
		if diff := cmp.Diff(wantAfter, got); diff != "" {
			t.Errorf("ListMembers after an update (-want +got):\n%s", diff)
		}
		sub, err := s.ListMembers(ctxOf(t), tn, "big", []string{users[10].ID, "late", users[4000].ID})
		if err != nil {
			t.Fatalf("ListMembers(ids): %v", err)
		}
		if diff := cmp.Diff([]string{users[4000].ID, users[10].ID, "late"}, memberIDs(sub)); diff != "" {
			t.Errorf("ListMembers(ids) (-want +got):\n%s", diff)
		}
		for _, c := range []struct {
			typ   string
			where *store.Cond
			want  int
		}{
			{store.TypeGroup, store.Eq(store.FieldMember, users[2500].ID), 1},
			{store.TypeGroup, store.Eq(store.FieldMember, users[0].ID), 0},
			{store.TypeUser, store.Eq(store.FieldGroup, "big"), bigGroup},
			{store.TypeUser, not(pr(store.FieldGroup)), 1},
		} {
			if n := count(t, s, tn, c.typ, c.where); n != c.want {
				t.Errorf("CountResources(%s, %s) = %d, want %d", c.typ, condString(c.where), n, c.want)
			}
		}
	}},
	{"BigList", func(t *testing.T, s store.Store) {
		users := seedMany(t, s, bigList)
		byName := slices.Clone(users)
		slices.SortStableFunc(byName, func(a, b store.Record) int {
			return strings.Compare(store.Fold(b.UserName), store.Fold(a.UserName))
		})
		withEmail := func(rs []store.Record) []string {
			var out []string
			for _, r := range rs {
				if len(r.Emails) > 0 {
					out = append(out, r.ID)
				}
			}
			return out
		}
		for _, c := range []struct {
			name  string
			where *store.Cond
			sort  store.Field
			desc  bool
			want  []string
		}{
			{"default order", nil, "", false, ids(users)},
			{"userName descending", nil, store.FieldUserName, true, ids(byName)},
			{"with an email, by userName", pr(store.FieldEmail), store.FieldUserName, true, withEmail(byName)},
		} {
			t.Run(c.name, func(t *testing.T) {
				if n := count(t, s, tn, store.TypeUser, c.where); n != len(c.want) {
					t.Errorf("CountResources(%s) = %d, want %d", condString(c.where), n, len(c.want))
				}
				var got []string
				const size = 150
				for off := 0; off < len(c.want); off += size {
					got = append(got, list(t, s, tn, store.TypeUser, store.Query{Where: c.where, Sort: c.sort, Desc: c.desc, Offset: off, Limit: size})...)
				}
				if diff := cmp.Diff(c.want, got); diff != "" {
					t.Errorf("pages of %d (-want +got):\n%s", size, diff)
				}
				q := store.Query{Where: c.where, Sort: c.sort, Desc: c.desc, Offset: len(c.want)}
				if got := list(t, s, tn, store.TypeUser, q); len(got) != 0 {
					t.Errorf("ListResources(%s) = %d records, want none", describe(q), len(got))
				}
			})
		}
	}},
}
