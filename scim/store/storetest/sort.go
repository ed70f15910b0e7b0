package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/store"
)

// sortUsers are the users of the sort tests, with ties and unset values
// in every sortable field. Their default order (meta.created, then id)
// is k a c z m b: a and c share a creation time.
func sortUsers() []store.Record {
	rs := []struct {
		id           string
		created, mod int
		userName     string
		externalID   string
		displayName  string
	}{
		{"k", 1, 5, "bob", "B", "Zed"},
		{"c", 2, 5, "Alice", "", ""},
		{"a", 2, 3, "carol", "a", "zed"},
		{"z", 3, 1, "ÉLODIE", "B", ""},
		{"m", 4, 3, "dave", "", "alice"},
		{"b", 5, 5, "_under", "b", "ZED"},
	}
	out := make([]store.Record, 0, len(rs))
	for _, r := range rs {
		out = append(out, store.Record{
			Type: store.TypeUser, ID: r.id, UserName: r.userName, ExternalID: r.externalID, DisplayName: r.displayName,
			Data: []byte(`{}`), Created: us(r.created), Modified: us(r.mod),
		})
	}
	return out
}

// sortDefault is sortUsers in the default order.
var sortDefault = []string{"k", "a", "c", "z", "m", "b"}

// sortCases are the orders of sortUsers under every sortable field.
// Strings compare byte-wise after folding ("_" < "a" < "é"), unset values
// come last ascending and first descending, and ties keep the default
// order in both directions.
var sortCases = []struct {
	sort store.Field
	desc bool
	want []string
}{
	{"", false, sortDefault},
	{store.FieldID, false, []string{"a", "b", "c", "k", "m", "z"}},
	{store.FieldID, true, []string{"z", "m", "k", "c", "b", "a"}},
	{store.FieldUserName, false, []string{"b", "c", "k", "a", "m", "z"}},
	{store.FieldUserName, true, []string{"z", "m", "a", "k", "c", "b"}},
	{store.FieldExternalID, false, []string{"k", "z", "a", "b", "c", "m"}},
	{store.FieldExternalID, true, []string{"c", "m", "b", "a", "k", "z"}},
	{store.FieldDisplayName, false, []string{"m", "k", "a", "b", "c", "z"}},
	{store.FieldDisplayName, true, []string{"c", "z", "k", "a", "b", "m"}},
	{store.FieldCreated, false, []string{"k", "a", "c", "z", "m", "b"}},
	{store.FieldCreated, true, []string{"b", "m", "z", "a", "c", "k"}},
	{store.FieldModified, false, []string{"z", "a", "m", "k", "c", "b"}},
	{store.FieldModified, true, []string{"k", "c", "b", "a", "m", "z"}},
}

func seedSort(t *testing.T, s store.Store) {
	t.Helper()
	for _, r := range sortUsers() {
		mustCreate(t, s, tn, r)
	}
	// A group, to show the type is respected.
	mustCreate(t, s, tn, group("g", "Group"))
}

func sortName(f store.Field, desc bool) string {
	name := string(f)
	if name == "" {
		name = "default"
	}
	if desc {
		name += " desc"
	}
	return name
}

var sortTests = []test{
	{"Fields", func(t *testing.T, s store.Store) {
		seedSort(t, s)
		for _, c := range sortCases {
			t.Run(sortName(c.sort, c.desc), func(t *testing.T) {
				q := store.Query{Sort: c.sort, Desc: c.desc}
				if diff := cmp.Diff(c.want, list(t, s, tn, store.TypeUser, q)); diff != "" {
					t.Errorf("ListResources(%s) (-want +got):\n%s", describe(q), diff)
				}
			})
		}
	}},
	{"WithWhere", func(t *testing.T, s store.Store) {
		seedSort(t, s)
		for _, c := range []struct {
			q    store.Query
			want []string
		}{
			{store.Query{Where: pr(store.FieldExternalID), Sort: store.FieldExternalID}, []string{"k", "z", "a", "b"}},
			{store.Query{Where: pr(store.FieldExternalID), Sort: store.FieldExternalID, Desc: true}, []string{"b", "a", "k", "z"}},
			{store.Query{Where: cond(store.FieldDisplayName, store.OpEq, "zed"), Sort: store.FieldUserName, Desc: true}, []string{"a", "k", "b"}},
			{store.Query{Where: cond(store.FieldDisplayName, store.OpEq, "zed"), Sort: store.FieldModified, Offset: 1, Limit: 1}, []string{"k"}},
			{store.Query{Where: or(), Sort: store.FieldUserName}, nil},
		} {
			if diff := cmp.Diff(c.want, list(t, s, tn, store.TypeUser, c.q), opts); diff != "" {
				t.Errorf("ListResources(%s) (-want +got):\n%s", describe(c.q), diff)
			}
		}
	}},
	{"Groups", func(t *testing.T, s store.Store) {
		for i, dn := range []string{"b", "", "A", "c", "a"} {
			g := group(fmt.Sprintf("g%d", i), dn)
			g.Created = us(i)
			mustCreate(t, s, tn, g)
		}
		for _, c := range []struct {
			desc bool
			want []string
		}{
			{false, []string{"g2", "g4", "g0", "g3", "g1"}},
			{true, []string{"g1", "g3", "g0", "g2", "g4"}},
		} {
			q := store.Query{Sort: store.FieldDisplayName, Desc: c.desc}
			if diff := cmp.Diff(c.want, list(t, s, tn, store.TypeGroup, q)); diff != "" {
				t.Errorf("ListResources(Group, %s) (-want +got):\n%s", describe(q), diff)
			}
		}
	}},
}

var pageTests = []test{
	{"CoverWithoutOverlap", func(t *testing.T, s store.Store) {
		// For every order and page size, the pages concatenated are the
		// whole ordered list.
		seedSort(t, s)
		for _, c := range sortCases {
			for size := 1; size <= len(c.want)+1; size++ {
				var got []string
				for off := 0; off < len(c.want)+size; off += size {
					q := store.Query{Sort: c.sort, Desc: c.desc, Offset: off, Limit: size}
					page := list(t, s, tn, store.TypeUser, q)
					if len(page) > size {
						t.Errorf("ListResources(%s) returned %d, more than the limit", describe(q), len(page))
					}
					got = append(got, page...)
				}
				if diff := cmp.Diff(c.want, got); diff != "" {
					t.Errorf("%s in pages of %d (-want +got):\n%s", sortName(c.sort, c.desc), size, diff)
				}
			}
		}
	}},
	{"Bounds", func(t *testing.T, s store.Store) {
		seedSort(t, s)
		for _, c := range []struct {
			q    store.Query
			want []string
		}{
			{store.Query{Limit: 0}, sortDefault},
			{store.Query{Limit: 100}, sortDefault},
			{store.Query{Offset: 4}, []string{"m", "b"}},
			{store.Query{Offset: 4, Limit: 10}, []string{"m", "b"}},
			{store.Query{Offset: 5, Limit: 1}, []string{"b"}},
			{store.Query{Offset: 6}, nil},
			{store.Query{Offset: 6, Limit: 1}, nil},
			{store.Query{Offset: 1000, Limit: 10}, nil},
			{store.Query{Offset: 1, Limit: 2, Sort: store.FieldID, Desc: true}, []string{"m", "k"}},
			{store.Query{Where: pr(store.FieldDisplayName), Offset: 3}, []string{"b"}},
		} {
			if diff := cmp.Diff(c.want, list(t, s, tn, store.TypeUser, c.q), opts); diff != "" {
				t.Errorf("ListResources(%s) (-want +got):\n%s", describe(c.q), diff)
			}
		}
		// Count ignores paging: it is the size of the whole selection.
		if n := count(t, s, tn, store.TypeUser, nil); n != len(sortDefault) {
			t.Errorf("CountResources = %d, want %d", n, len(sortDefault))
		}
	}},
}

var scanTests = []test{
	{"SameAsList", func(t *testing.T, s store.Store) {
		seedSort(t, s)
		queries := []store.Query{
			{},
			{Sort: store.FieldUserName, Desc: true},
			{Where: pr(store.FieldExternalID), Sort: store.FieldModified, Offset: 1, Limit: 2},
			{Offset: 100},
		}
		for _, c := range sortCases {
			queries = append(queries, store.Query{Sort: c.sort, Desc: c.desc})
		}
		for _, q := range queries {
			want, err := s.ListResources(ctxOf(t), tn, store.TypeUser, q)
			if err != nil {
				t.Fatalf("ListResources(%s): %v", describe(q), err)
			}
			var got []store.Record
			if err := s.ScanResources(ctxOf(t), tn, store.TypeUser, q, func(r store.Record) error {
				got = append(got, r)
				return nil
			}); err != nil {
				t.Fatalf("ScanResources(%s): %v", describe(q), err)
			}
			if diff := cmp.Diff(want, got, opts); diff != "" {
				t.Errorf("ScanResources(%s) differs from ListResources (-list +scan):\n%s", describe(q), diff)
			}
		}
	}},
	{"StopsOnError", func(t *testing.T, s store.Store) {
		seedSort(t, s)
		var seen []string
		err := s.ScanResources(ctxOf(t), tn, store.TypeUser, store.Query{}, func(r store.Record) error {
			seen = append(seen, r.ID)
			if len(seen) == 3 {
				return fmt.Errorf("stop at %s: %w", r.ID, errBoom)
			}
			return nil
		})
		if !errors.Is(err, errBoom) {
			t.Errorf("ScanResources returned %v, want the callback's error", err)
		}
		if diff := cmp.Diff(sortDefault[:3], seen); diff != "" {
			t.Errorf("ScanResources called fn with (-want +got):\n%s", diff)
		}
		// The store is usable afterwards.
		if diff := cmp.Diff(sortDefault, list(t, s, tn, store.TypeUser, store.Query{})); diff != "" {
			t.Errorf("ListResources after a stopped scan (-want +got):\n%s", diff)
		}
	}},
	{"Empty", func(t *testing.T, s store.Store) {
		called := false
		if err := s.ScanResources(ctxOf(t), tn, store.TypeUser, store.Query{}, func(store.Record) error { called = true; return nil }); err != nil {
			t.Fatalf("ScanResources: %v", err)
		}
		if called {
			t.Error("ScanResources called fn on an empty store")
		}
	}},
}
