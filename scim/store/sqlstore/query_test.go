package sqlstore

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/store"
)

// fixture stores a small tenant: users u1…u5 and groups g1, g2.
func fixture(t *testing.T, s *Store) {
	t.Helper()
	ctx := t.Context()
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	users := []store.Record{
		{ID: "u1", UserName: "Alice", DisplayName: "Alice A", ExternalID: "x1", Emails: []string{"Alice@Example.com", "a@work.example"}},
		{ID: "u2", UserName: "bob", DisplayName: "Bob%_\\", Emails: []string{"bob@example.com"}},
		{ID: "u3", UserName: "carol", ExternalID: "X1"},
		{ID: "u4", UserName: "Dave", DisplayName: "alice a"},
		{ID: "u5", UserName: "éve", DisplayName: "Ève"},
	}
	for i, u := range users {
		u.Type = store.TypeUser
		u.Data = []byte(`{}`)
		u.Created = base.Add(time.Duration(i) * time.Minute)
		if i == 4 {
			u.Created = users[0].Created // a tie with u1, broken by id
		}
		if _, err := s.CreateResource(ctx, "acme", u); err != nil {
			t.Fatalf("create %s: %v", u.ID, err)
		}
		users[i] = u
	}
	for i, g := range []store.Record{
		{ID: "g1", DisplayName: "Admins", Members: &store.MemberChange{Add: []store.Member{{Value: "u2"}, {Value: "u1", Display: "Alice"}}}},
		{ID: "g2", DisplayName: "Everyone", Members: &store.MemberChange{Add: []store.Member{{Value: "u1"}, {Value: "u3"}}}},
	} {
		g.Type = store.TypeGroup
		g.Data = []byte(`{}`)
		g.Created = base.Add(time.Duration(10+i) * time.Minute)
		if _, err := s.CreateResource(ctx, "acme", g); err != nil {
			t.Fatalf("create %s: %v", g.ID, err)
		}
	}
	// Another tenant with a user of the same id must never leak in.
	if _, err := s.CreateResource(ctx, "other", store.Record{Type: store.TypeUser, ID: "u1", UserName: "alice", Emails: []string{"alice@example.com"}}); err != nil {
		t.Fatal(err)
	}
}

func ids(rs []store.Record) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func TestQueries(t *testing.T) {
	eq := store.Eq
	c := func(f store.Field, op, v string) store.Cond { return store.Cond{Field: f, Op: op, Value: v} }
	p := func(c store.Cond) *store.Cond { return &c }
	t0 := time.Date(2024, 1, 1, 0, 2, 0, 0, time.UTC)
	cases := []struct {
		name string
		typ  string
		q    store.Query
		want []string
	}{
		{"all", store.TypeUser, store.Query{}, []string{"u1", "u5", "u2", "u3", "u4"}},
		{"id eq", store.TypeUser, store.Query{Where: eq(store.FieldID, "u3")}, []string{"u3"}},
		{"userName folded", store.TypeUser, store.Query{Where: eq(store.FieldUserName, "ALICE")}, []string{"u1"}},
		{"userName unicode fold", store.TypeUser, store.Query{Where: eq(store.FieldUserName, "ÉVE")}, []string{"u5"}},
		{"externalId exact", store.TypeUser, store.Query{Where: eq(store.FieldExternalID, "x1")}, []string{"u1"}},
		{"externalId ne includes unset", store.TypeUser, store.Query{Where: p(c(store.FieldExternalID, store.OpNe, "x1"))}, []string{"u5", "u2", "u3", "u4"}},
		{"externalId pr", store.TypeUser, store.Query{Where: p(c(store.FieldExternalID, store.OpPr, ""))}, []string{"u1", "u3"}},
		{"displayName eq folded", store.TypeUser, store.Query{Where: eq(store.FieldDisplayName, "ALICE A")}, []string{"u1", "u4"}},
		{"displayName co wildcard chars", store.TypeUser, store.Query{Where: p(c(store.FieldDisplayName, store.OpCo, "%_\\"))}, []string{"u2"}},
		{"displayName co percent only", store.TypeUser, store.Query{Where: p(c(store.FieldDisplayName, store.OpCo, "%"))}, []string{"u2"}},
		{"displayName sw", store.TypeUser, store.Query{Where: p(c(store.FieldDisplayName, store.OpSw, "Ali"))}, []string{"u1", "u4"}},
		{"displayName ew", store.TypeUser, store.Query{Where: p(c(store.FieldDisplayName, store.OpEw, "E A"))}, []string{"u1", "u4"}},
		{"displayName ew unicode", store.TypeUser, store.Query{Where: p(c(store.FieldDisplayName, store.OpEw, "ève"))}, []string{"u5"}},
		{"id sw exact case", store.TypeUser, store.Query{Where: p(c(store.FieldID, store.OpSw, "U"))}, []string{}},
		{"id co exact case", store.TypeUser, store.Query{Where: p(c(store.FieldID, store.OpCo, "U"))}, []string{}},
		{"externalId co exact case", store.TypeUser, store.Query{Where: p(c(store.FieldExternalID, store.OpCo, "X"))}, []string{"u3"}},
		{"userName gt", store.TypeUser, store.Query{Where: p(c(store.FieldUserName, store.OpGt, "carol"))}, []string{"u5", "u4"}},
		{"displayName lt excludes unset", store.TypeUser, store.Query{Where: p(c(store.FieldDisplayName, store.OpLt, "b"))}, []string{"u1", "u4"}},
		{"emails eq", store.TypeUser, store.Query{Where: eq(store.FieldEmail, "ALICE@example.COM")}, []string{"u1"}},
		{"emails co", store.TypeUser, store.Query{Where: p(c(store.FieldEmail, store.OpCo, "example.com"))}, []string{"u1", "u2"}},
		{"emails ne needs a value", store.TypeUser, store.Query{Where: p(c(store.FieldEmail, store.OpNe, "bob@example.com"))}, []string{"u1"}},
		{"emails pr", store.TypeUser, store.Query{Where: p(c(store.FieldEmail, store.OpPr, ""))}, []string{"u1", "u2"}},
		{"not emails pr", store.TypeUser, store.Query{Where: &store.Cond{Not: p(c(store.FieldEmail, store.OpPr, ""))}}, []string{"u5", "u3", "u4"}},
		{"groups eq", store.TypeUser, store.Query{Where: eq(store.FieldGroup, "g2")}, []string{"u1", "u3"}},
		{"groups pr", store.TypeUser, store.Query{Where: p(c(store.FieldGroup, store.OpPr, ""))}, []string{"u1", "u2", "u3"}},
		{"members eq", store.TypeGroup, store.Query{Where: eq(store.FieldMember, "u3")}, []string{"g2"}},
		{"members pr", store.TypeGroup, store.Query{Where: p(c(store.FieldMember, store.OpPr, ""))}, []string{"g1", "g2"}},
		{"members on users", store.TypeUser, store.Query{Where: eq(store.FieldMember, "u3")}, []string{}},
		{"created gt", store.TypeUser, store.Query{Where: &store.Cond{Field: store.FieldCreated, Op: store.OpGe, Time: t0}}, []string{"u3", "u4"}},
		{"and or", store.TypeUser, store.Query{Where: &store.Cond{Or: []store.Cond{
			{And: []store.Cond{c(store.FieldUserName, store.OpSw, "b"), c(store.FieldEmail, store.OpPr, "")}},
			c(store.FieldID, store.OpEq, "u4"),
		}}}, []string{"u2", "u4"}},
		{"empty and", store.TypeUser, store.Query{Where: &store.Cond{And: []store.Cond{}}, Limit: 1}, []string{"u1"}},
		{"empty or", store.TypeUser, store.Query{Where: &store.Cond{Or: []store.Cond{}}}, []string{}},
		{"invalid utf-8 eq", store.TypeUser, store.Query{Where: eq(store.FieldUserName, "\xff")}, []string{}},
		{"nul ne", store.TypeUser, store.Query{Where: p(c(store.FieldUserName, store.OpNe, "a\x00"))}, []string{"u1", "u5", "u2", "u3", "u4"}},
		{"sort displayName", store.TypeUser, store.Query{Sort: store.FieldDisplayName}, []string{"u1", "u4", "u2", "u5", "u3"}},
		{"sort displayName desc", store.TypeUser, store.Query{Sort: store.FieldDisplayName, Desc: true}, []string{"u3", "u5", "u2", "u1", "u4"}},
		{"sort userName", store.TypeUser, store.Query{Sort: store.FieldUserName}, []string{"u1", "u2", "u3", "u4", "u5"}},
		{"sort externalId", store.TypeUser, store.Query{Sort: store.FieldExternalID}, []string{"u3", "u1", "u5", "u2", "u4"}},
		{"page", store.TypeUser, store.Query{Offset: 1, Limit: 2}, []string{"u5", "u2"}},
		{"offset only", store.TypeUser, store.Query{Offset: 3}, []string{"u3", "u4"}},
		{"sorted page", store.TypeUser, store.Query{Sort: store.FieldDisplayName, Desc: true, Offset: 1, Limit: 3}, []string{"u5", "u2", "u1"}},
	}
	for name, dsn := range backends {
		t.Run(name, func(t *testing.T) {
			s := openAt(t, dsn(t), len(migrations), Options{})
			fixture(t, s)
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					got, err := s.ListResources(t.Context(), "acme", tc.typ, tc.q)
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(tc.want, ids(got)); diff != "" {
						t.Errorf("ListResources (-want +got):\n%s", diff)
					}
					n, err := s.CountResources(t.Context(), "acme", tc.typ, tc.q.Where)
					if err != nil {
						t.Fatal(err)
					}
					if tc.q.Offset == 0 && tc.q.Limit == 0 && n != len(tc.want) {
						t.Errorf("CountResources = %d, want %d", n, len(tc.want))
					}
				})
			}
			t.Run("errors", func(t *testing.T) {
				deep := store.Eq(store.FieldID, "u1")
				for range maxCondDepth + 1 {
					deep = &store.Cond{Not: deep}
				}
				for _, q := range []store.Query{
					{Where: deep},
					{Sort: store.FieldEmail},
					{Where: p(c(store.FieldMember, store.OpCo, "u"))},
					{Where: p(c("nickName", store.OpEq, "u"))},
					{Where: &store.Cond{Field: store.FieldCreated, Op: store.OpSw}},
				} {
					if _, err := s.ListResources(t.Context(), "acme", store.TypeUser, q); !errors.Is(err, errCond) {
						t.Errorf("ListResources(%+v) = %v, want errCond", q, err)
					}
				}
			})
		})
	}
}

func TestPrefixEnd(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"a", "b"}, {"ab", "ac"}, {"a\U0010FFFF", "b"}, {"\uD7FF", "\uE000"}, {"\U0010FFFF", ""},
	} {
		t.Run(fmt.Sprintf("%q", c.in), func(t *testing.T) {
			got, _ := prefixEnd(c.in)
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestLongConditions runs conditions of thousands of comparisons joined by
// one And or Or, as a long filter under the server's length limit gives,
// on both backends: SQLite refuses an expression tree deeper than 1,000.
func TestLongConditions(t *testing.T) {
	for name, dsn := range backends {
		t.Run(name, func(t *testing.T) {
			s := openAt(t, dsn(t), len(migrations), Options{})
			ctx := t.Context()
			if _, err := s.CreateResource(ctx, "acme", store.Record{Type: store.TypeUser, ID: "u1", UserName: "alice", Emails: []string{"a@x.com"}}); err != nil {
				t.Fatal(err)
			}
			var and, or []store.Cond
			for i := range 3000 {
				and = append(and, store.Cond{Field: store.FieldUserName, Op: store.OpNe, Value: fmt.Sprint("zz", i)})
				or = append(or, store.Cond{Field: store.FieldEmail, Op: store.OpCo, Value: fmt.Sprint("@nowhere", i)})
			}
			or = append(or, store.Cond{Field: store.FieldEmail, Op: store.OpCo, Value: "@x."})
			for _, c := range []struct {
				name  string
				where *store.Cond
			}{{"and", &store.Cond{And: and}}, {"or", &store.Cond{Or: or}}} {
				got, err := s.ListResources(ctx, "acme", store.TypeUser, store.Query{Where: c.where})
				if err != nil || len(got) != 1 {
					t.Errorf("%s of %d comparisons: %d resources, %v; want alice", c.name, len(and), len(got), err)
				}
			}
		})
	}
}
