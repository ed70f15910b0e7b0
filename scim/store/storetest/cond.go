package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/store"
)

// us returns the instant n microseconds after the fixtures' epoch: the
// condition fixtures are spaced by microseconds to test the stored
// precision.
func us(n int) time.Time { return at(0).Add(time.Duration(n) * time.Microsecond) }

// cond is the comparison f op v.
func cond(f store.Field, op, v string) *store.Cond { return &store.Cond{Field: f, Op: op, Value: v} }

// tcond is the time comparison f op tm.
func tcond(f store.Field, op string, tm time.Time) *store.Cond {
	return &store.Cond{Field: f, Op: op, Time: tm}
}

// pr is the condition "f pr".
func pr(f store.Field) *store.Cond { return &store.Cond{Field: f, Op: store.OpPr} }

func and(cs ...*store.Cond) *store.Cond {
	out := &store.Cond{And: []store.Cond{}}
	for _, c := range cs {
		out.And = append(out.And, *c)
	}
	return out
}

func or(cs ...*store.Cond) *store.Cond {
	out := &store.Cond{Or: []store.Cond{}}
	for _, c := range cs {
		out.Or = append(out.Or, *c)
	}
	return out
}

func not(c *store.Cond) *store.Cond { return &store.Cond{Not: c} }

// condString renders c for test names and messages.
func condString(c *store.Cond) string {
	switch {
	case c == nil:
		return "<all>"
	case c.And != nil || c.Or != nil:
		word, parts := "and", c.And
		if c.Or != nil {
			word, parts = "or", c.Or
		}
		if len(parts) == 0 {
			return "(empty " + word + ")"
		}
		ss := make([]string, len(parts))
		for i := range parts {
			ss[i] = condString(&parts[i])
		}
		return "(" + strings.Join(ss, " "+word+" ") + ")"
	case c.Not != nil:
		return "not " + condString(c.Not)
	case c.Op == store.OpPr:
		return string(c.Field) + " pr"
	case c.Field == store.FieldCreated || c.Field == store.FieldModified:
		return fmt.Sprintf("%s %s %s", c.Field, c.Op, c.Time.Format(time.RFC3339Nano))
	default:
		return fmt.Sprintf("%s %s %q", c.Field, c.Op, c.Value)
	}
}

// describe renders q for messages.
func describe(q store.Query) string {
	return fmt.Sprintf("where %s sort %q desc %v offset %d limit %d", condString(q.Where), q.Sort, q.Desc, q.Offset, q.Limit)
}

// condUsers are the users the condition tests select from. They are
// created 1µs apart in the order listed (so the default order is this
// order) and modified 1µs apart from us(11) on. u2 has no displayName and
// no emails, u3 no externalId; u4 is full of LIKE metacharacters and u5,
// u6 of non-ASCII text.
func condUsers() []store.Record {
	rs := []store.Record{
		{ID: "u1", UserName: "Alice@Example.com", ExternalID: "EXT-1", DisplayName: "Alice Smith", Emails: []string{"Alice@Work.example", "alice@home.example"}},
		{ID: "u2", UserName: "bob", ExternalID: "ext-1"},
		{ID: "u3", UserName: "carol", DisplayName: "ALICE SMITH", Emails: []string{"carol@work.example"}},
		{ID: "u4", UserName: `a%b_c\d'e`, ExternalID: `x%y_z`, DisplayName: `50% off_`, Emails: []string{`p%q_r@x.example`}},
		{ID: "u5", UserName: "abxcd", ExternalID: "xay", DisplayName: "Straße", Emails: []string{"İstanbul@Example.com"}},
		{ID: "u6", UserName: "ÉLODIE", ExternalID: "ÉLODIE", DisplayName: "🦄 Team", Emails: []string{"😀@emoji.example"}},
	}
	for i := range rs {
		rs[i].Type = store.TypeUser
		rs[i].Data = []byte(`{"id":"` + rs[i].ID + `"}`)
		rs[i].Created, rs[i].Modified = us(1+i), us(11+i)
	}
	return rs
}

// condGroups are the groups of the condition tests: g1 lists u1 and u2,
// g2 (no displayName, no externalId) lists u2, g3 lists nobody.
func condGroups() []store.Record {
	rs := []store.Record{
		{ID: "g1", DisplayName: "Engineering", ExternalID: "G-1", Members: &store.MemberChange{Add: []store.Member{{Value: "u1"}, {Value: "u2"}}}},
		{ID: "g2", Members: &store.MemberChange{Add: []store.Member{{Value: "u2"}}}},
		{ID: "g3", DisplayName: "🦄 Team"},
	}
	for i := range rs {
		rs[i].Type = store.TypeGroup
		rs[i].Data = []byte(`{"id":"` + rs[i].ID + `"}`)
		rs[i].Created, rs[i].Modified = us(21+i), us(31+i)
	}
	return rs
}

type condCase struct {
	where *store.Cond
	want  []string
}

var (
	allUsers = []string{"u1", "u2", "u3", "u4", "u5", "u6"}
	// İ folds to i, ẞ to ß (Go's strings.ToLower, not a locale's).
	dottedI = "i\u0307stanbul@example.com"
)

// userCondCases cover every Field a User has under every Op it allows.
var userCondCases = []condCase{
	// id: exact, always set.
	{cond(store.FieldID, store.OpEq, "u3"), []string{"u3"}},
	{cond(store.FieldID, store.OpEq, "U3"), nil},
	{cond(store.FieldID, store.OpEq, "g1"), nil},
	{cond(store.FieldID, store.OpNe, "u3"), []string{"u1", "u2", "u4", "u5", "u6"}},
	{cond(store.FieldID, store.OpCo, "3"), []string{"u3"}},
	{cond(store.FieldID, store.OpSw, "u"), allUsers},
	{cond(store.FieldID, store.OpSw, "U"), nil},
	{cond(store.FieldID, store.OpEw, "6"), []string{"u6"}},
	{cond(store.FieldID, store.OpGt, "u4"), []string{"u5", "u6"}},
	{cond(store.FieldID, store.OpGe, "u4"), []string{"u4", "u5", "u6"}},
	{cond(store.FieldID, store.OpLt, "u2"), []string{"u1"}},
	{cond(store.FieldID, store.OpLe, "u2"), []string{"u1", "u2"}},
	{pr(store.FieldID), allUsers},

	// userName: folded.
	{cond(store.FieldUserName, store.OpEq, "alice@example.com"), []string{"u1"}},
	{cond(store.FieldUserName, store.OpEq, "ALICE@EXAMPLE.COM"), []string{"u1"}},
	{cond(store.FieldUserName, store.OpEq, ""), nil},
	{cond(store.FieldUserName, store.OpNe, "BOB"), []string{"u1", "u3", "u4", "u5", "u6"}},
	{cond(store.FieldUserName, store.OpCo, "LIC"), []string{"u1"}},
	{cond(store.FieldUserName, store.OpSw, "A"), []string{"u1", "u4", "u5"}},
	{cond(store.FieldUserName, store.OpEw, "COM"), []string{"u1"}},
	{cond(store.FieldUserName, store.OpGt, "BOB"), []string{"u3", "u6"}},
	{cond(store.FieldUserName, store.OpGe, "bob"), []string{"u2", "u3", "u6"}},
	{cond(store.FieldUserName, store.OpLt, "B"), []string{"u1", "u4", "u5"}},
	{cond(store.FieldUserName, store.OpLe, "ABXCD"), []string{"u4", "u5"}},
	{pr(store.FieldUserName), allUsers},

	// externalId: exact; u3 has none.
	{cond(store.FieldExternalID, store.OpEq, "ext-1"), []string{"u2"}},
	{cond(store.FieldExternalID, store.OpEq, "EXT-1"), []string{"u1"}},
	{cond(store.FieldExternalID, store.OpEq, "Ext-1"), nil},
	{cond(store.FieldExternalID, store.OpEq, ""), nil},
	{cond(store.FieldExternalID, store.OpNe, "EXT-1"), []string{"u2", "u3", "u4", "u5", "u6"}},
	{cond(store.FieldExternalID, store.OpCo, "XT"), []string{"u1"}},
	{cond(store.FieldExternalID, store.OpCo, "x"), []string{"u2", "u4", "u5"}},
	{cond(store.FieldExternalID, store.OpCo, ""), []string{"u1", "u2", "u4", "u5", "u6"}},
	{cond(store.FieldExternalID, store.OpSw, "E"), []string{"u1"}},
	{cond(store.FieldExternalID, store.OpSw, ""), []string{"u1", "u2", "u4", "u5", "u6"}},
	{cond(store.FieldExternalID, store.OpEw, "-1"), []string{"u1", "u2"}},
	{cond(store.FieldExternalID, store.OpGt, "a"), []string{"u2", "u4", "u5", "u6"}},
	{cond(store.FieldExternalID, store.OpGe, "xay"), []string{"u5", "u6"}},
	{cond(store.FieldExternalID, store.OpLt, "a"), []string{"u1"}},
	{cond(store.FieldExternalID, store.OpLe, "EXT-1"), []string{"u1"}},
	{pr(store.FieldExternalID), []string{"u1", "u2", "u4", "u5", "u6"}},
	{not(pr(store.FieldExternalID)), []string{"u3"}},

	// displayName: folded; u2 has none.
	{cond(store.FieldDisplayName, store.OpEq, "alice smith"), []string{"u1", "u3"}},
	{cond(store.FieldDisplayName, store.OpEq, ""), nil},
	{cond(store.FieldDisplayName, store.OpNe, "alice smith"), []string{"u2", "u4", "u5", "u6"}},
	{cond(store.FieldDisplayName, store.OpCo, "SMITH"), []string{"u1", "u3"}},
	{cond(store.FieldDisplayName, store.OpSw, "alice"), []string{"u1", "u3"}},
	{cond(store.FieldDisplayName, store.OpEw, "TEAM"), []string{"u6"}},
	{cond(store.FieldDisplayName, store.OpGt, "S"), []string{"u5", "u6"}},
	{cond(store.FieldDisplayName, store.OpGe, "STRASSE"), []string{"u5", "u6"}},
	{cond(store.FieldDisplayName, store.OpLt, "B"), []string{"u1", "u3", "u4"}},
	{cond(store.FieldDisplayName, store.OpLe, "50% OFF_"), []string{"u4"}},
	{pr(store.FieldDisplayName), []string{"u1", "u3", "u4", "u5", "u6"}},
	{not(pr(store.FieldDisplayName)), []string{"u2"}},

	// emails.value: folded, multi-valued; u2 has none, u1 two.
	{cond(store.FieldEmail, store.OpEq, "alice@home.example"), []string{"u1"}},
	{cond(store.FieldEmail, store.OpEq, "ALICE@WORK.EXAMPLE"), []string{"u1"}},
	{cond(store.FieldEmail, store.OpEq, ""), nil},
	{cond(store.FieldEmail, store.OpNe, "alice@home.example"), []string{"u1", "u3", "u4", "u5", "u6"}},
	{cond(store.FieldEmail, store.OpCo, "WORK"), []string{"u1", "u3"}},
	{cond(store.FieldEmail, store.OpCo, "example"), []string{"u1", "u3", "u4", "u5", "u6"}},
	{cond(store.FieldEmail, store.OpSw, "CAROL"), []string{"u3"}},
	{cond(store.FieldEmail, store.OpEw, ".EXAMPLE"), []string{"u1", "u3", "u4", "u6"}},
	{cond(store.FieldEmail, store.OpGt, "b"), []string{"u3", "u4", "u5", "u6"}},
	{cond(store.FieldEmail, store.OpGe, "p"), []string{"u4", "u6"}},
	{cond(store.FieldEmail, store.OpLt, "alice@w"), []string{"u1"}},
	{cond(store.FieldEmail, store.OpLe, "ALICE@HOME.EXAMPLE"), []string{"u1"}},
	{pr(store.FieldEmail), []string{"u1", "u3", "u4", "u5", "u6"}},
	{not(pr(store.FieldEmail)), []string{"u2"}},
	{not(cond(store.FieldEmail, store.OpEq, "alice@home.example")), []string{"u2", "u3", "u4", "u5", "u6"}},

	// groups.value: exact, multi-valued; eq and pr.
	{cond(store.FieldGroup, store.OpEq, "g1"), []string{"u1", "u2"}},
	{cond(store.FieldGroup, store.OpEq, "g2"), []string{"u2"}},
	{cond(store.FieldGroup, store.OpEq, "G1"), nil},
	{cond(store.FieldGroup, store.OpEq, "g3"), nil},
	{cond(store.FieldGroup, store.OpEq, "u1"), nil},
	{pr(store.FieldGroup), []string{"u1", "u2"}},
	{not(pr(store.FieldGroup)), []string{"u3", "u4", "u5", "u6"}},
	{not(cond(store.FieldGroup, store.OpEq, "g2")), []string{"u1", "u3", "u4", "u5", "u6"}},

	// meta.created and meta.lastModified at the exact microsecond.
	{tcond(store.FieldCreated, store.OpEq, us(3)), []string{"u3"}},
	{tcond(store.FieldCreated, store.OpEq, us(3).In(time.FixedZone("X", -7*3600))), []string{"u3"}},
	{tcond(store.FieldCreated, store.OpNe, us(3)), []string{"u1", "u2", "u4", "u5", "u6"}},
	{tcond(store.FieldCreated, store.OpGt, us(3)), []string{"u4", "u5", "u6"}},
	{tcond(store.FieldCreated, store.OpGe, us(3)), []string{"u3", "u4", "u5", "u6"}},
	{tcond(store.FieldCreated, store.OpLt, us(3)), []string{"u1", "u2"}},
	{tcond(store.FieldCreated, store.OpLe, us(3)), []string{"u1", "u2", "u3"}},
	{tcond(store.FieldCreated, store.OpGt, us(6)), nil},
	{tcond(store.FieldCreated, store.OpGe, us(1)), allUsers},
	{pr(store.FieldCreated), allUsers},
	{tcond(store.FieldModified, store.OpEq, us(14)), []string{"u4"}},
	{tcond(store.FieldModified, store.OpNe, us(11)), []string{"u2", "u3", "u4", "u5", "u6"}},
	{tcond(store.FieldModified, store.OpGt, us(15)), []string{"u6"}},
	{tcond(store.FieldModified, store.OpGe, us(15)), []string{"u5", "u6"}},
	{tcond(store.FieldModified, store.OpLt, us(12)), []string{"u1"}},
	{tcond(store.FieldModified, store.OpLe, us(12)), []string{"u1", "u2"}},
	{pr(store.FieldModified), allUsers},

	// LIKE metacharacters are literal.
	{cond(store.FieldUserName, store.OpCo, "%"), []string{"u4"}},
	{cond(store.FieldUserName, store.OpCo, "_"), []string{"u4"}},
	{cond(store.FieldUserName, store.OpCo, `\`), []string{"u4"}},
	{cond(store.FieldUserName, store.OpCo, `\d`), []string{"u4"}},
	{cond(store.FieldUserName, store.OpCo, "'"), []string{"u4"}},
	{cond(store.FieldUserName, store.OpCo, "%%"), nil},
	{cond(store.FieldUserName, store.OpCo, "b_c"), []string{"u4"}},
	{cond(store.FieldUserName, store.OpSw, "a%"), []string{"u4"}},
	{cond(store.FieldUserName, store.OpSw, "a_"), nil},
	{cond(store.FieldUserName, store.OpEw, `d'e`), []string{"u4"}},
	{cond(store.FieldUserName, store.OpEq, `A%B_C\D'E`), []string{"u4"}},
	{cond(store.FieldUserName, store.OpEq, `a%b_c\\d'e`), nil},
	{cond(store.FieldExternalID, store.OpCo, "%y_"), []string{"u4"}},
	{cond(store.FieldExternalID, store.OpCo, "_"), []string{"u4"}},
	{cond(store.FieldExternalID, store.OpSw, "x%"), []string{"u4"}},
	{cond(store.FieldDisplayName, store.OpEw, "OFF_"), []string{"u4"}},
	{cond(store.FieldDisplayName, store.OpCo, "% "), []string{"u4"}},
	{cond(store.FieldEmail, store.OpCo, "%Q_"), []string{"u4"}},
	{cond(store.FieldEmail, store.OpSw, "p%"), []string{"u4"}},

	// Non-ASCII text folds as strings.ToLower does.
	{cond(store.FieldUserName, store.OpEq, "élodie"), []string{"u6"}},
	{cond(store.FieldUserName, store.OpEq, "Élodie"), []string{"u6"}},
	{cond(store.FieldUserName, store.OpEq, "elodie"), nil},
	{cond(store.FieldUserName, store.OpSw, "É"), []string{"u6"}},
	{cond(store.FieldExternalID, store.OpEq, "élodie"), nil},
	{cond(store.FieldExternalID, store.OpEq, "ÉLODIE"), []string{"u6"}},
	{cond(store.FieldDisplayName, store.OpEq, "STRAßE"), []string{"u5"}},
	{cond(store.FieldDisplayName, store.OpEq, "STRAẞE"), []string{"u5"}},
	{cond(store.FieldDisplayName, store.OpEq, "strasse"), nil},
	{cond(store.FieldDisplayName, store.OpCo, "ß"), []string{"u5"}},
	{cond(store.FieldDisplayName, store.OpCo, "🦄"), []string{"u6"}},
	{cond(store.FieldDisplayName, store.OpEq, "🦄 TEAM"), []string{"u6"}},
	{cond(store.FieldEmail, store.OpEq, "İSTANBUL@EXAMPLE.COM"), []string{"u5"}},
	{cond(store.FieldEmail, store.OpEq, "istanbul@example.com"), []string{"u5"}},
	{cond(store.FieldEmail, store.OpEq, dottedI), nil},
	{cond(store.FieldEmail, store.OpSw, "😀"), []string{"u6"}},

	// Values no column can hold equal nothing, and are not errors.
	{cond(store.FieldID, store.OpEq, "u1\x00"), nil},
	{cond(store.FieldID, store.OpNe, "u1\x00"), allUsers},
	{cond(store.FieldUserName, store.OpEq, "bob\x00"), nil},
	{cond(store.FieldUserName, store.OpEq, "\x00"), nil},
	{cond(store.FieldUserName, store.OpCo, "\x00"), nil},
	{cond(store.FieldUserName, store.OpSw, "\xff"), nil},
	{cond(store.FieldUserName, store.OpEw, "b\xffob"), nil},
	{cond(store.FieldExternalID, store.OpEq, "\xffext-1"), nil},
	{cond(store.FieldExternalID, store.OpNe, "\xff"), allUsers},
	{cond(store.FieldDisplayName, store.OpCo, "\x00"), nil},
	{cond(store.FieldEmail, store.OpEq, "\xff"), nil},
	{cond(store.FieldEmail, store.OpNe, "\x00"), []string{"u1", "u3", "u4", "u5", "u6"}},
	{cond(store.FieldGroup, store.OpEq, "g1\x00"), nil},

	// And, Or, Not.
	{and(), allUsers},
	{or(), nil},
	{not(and()), nil},
	{not(or()), allUsers},
	{not(not(cond(store.FieldID, store.OpEq, "u1"))), []string{"u1"}},
	{and(cond(store.FieldUserName, store.OpSw, "a"), pr(store.FieldExternalID)), []string{"u1", "u4", "u5"}},
	{and(cond(store.FieldUserName, store.OpSw, "a"), or()), nil},
	{or(cond(store.FieldID, store.OpEq, "u2"), cond(store.FieldExternalID, store.OpEq, "xay")), []string{"u2", "u5"}},
	{or(and(cond(store.FieldDisplayName, store.OpCo, "smith"), pr(store.FieldExternalID)), cond(store.FieldEmail, store.OpCo, "emoji")), []string{"u1", "u6"}},
	{not(or(cond(store.FieldUserName, store.OpSw, "a"), pr(store.FieldEmail))), []string{"u2"}},
	{not(cond(store.FieldDisplayName, store.OpEq, "alice smith")), []string{"u2", "u4", "u5", "u6"}},
	{not(cond(store.FieldExternalID, store.OpNe, "EXT-1")), []string{"u1"}},
	{and(cond(store.FieldEmail, store.OpCo, "work"), cond(store.FieldEmail, store.OpCo, "home")), []string{"u1"}},
	{or(cond(store.FieldID, store.OpEq, "u6"), cond(store.FieldID, store.OpEq, "u1"), cond(store.FieldID, store.OpEq, "u1"), cond(store.FieldID, store.OpEq, "nope")), []string{"u1", "u6"}},
	{and(not(pr(store.FieldGroup)), tcond(store.FieldCreated, store.OpLt, us(5))), []string{"u3", "u4"}},
}

// groupCondCases cover the fields of a Group, members.value in
// particular.
var groupCondCases = []condCase{
	{cond(store.FieldMember, store.OpEq, "u1"), []string{"g1"}},
	{cond(store.FieldMember, store.OpEq, "u2"), []string{"g1", "g2"}},
	{cond(store.FieldMember, store.OpEq, "U2"), nil},
	{cond(store.FieldMember, store.OpEq, "u3"), nil},
	{cond(store.FieldMember, store.OpEq, "g1"), nil},
	{cond(store.FieldMember, store.OpEq, "\x00"), nil},
	{pr(store.FieldMember), []string{"g1", "g2"}},
	{not(pr(store.FieldMember)), []string{"g3"}},
	{not(cond(store.FieldMember, store.OpEq, "u1")), []string{"g2", "g3"}},
	{and(cond(store.FieldMember, store.OpEq, "u1"), cond(store.FieldMember, store.OpEq, "u2")), []string{"g1"}},
	{or(cond(store.FieldMember, store.OpEq, "u1"), cond(store.FieldDisplayName, store.OpEq, "🦄 TEAM")), []string{"g1", "g3"}},
	{cond(store.FieldDisplayName, store.OpEq, "ENGINEERING"), []string{"g1"}},
	{cond(store.FieldDisplayName, store.OpNe, "engineering"), []string{"g2", "g3"}},
	{cond(store.FieldDisplayName, store.OpCo, "🦄"), []string{"g3"}},
	{cond(store.FieldDisplayName, store.OpLt, "z"), []string{"g1"}},
	{pr(store.FieldDisplayName), []string{"g1", "g3"}},
	{pr(store.FieldExternalID), []string{"g1"}},
	{cond(store.FieldExternalID, store.OpEq, "g-1"), nil},
	{cond(store.FieldID, store.OpSw, "g"), []string{"g1", "g2", "g3"}},
	{cond(store.FieldID, store.OpEq, "u1"), nil},
	{tcond(store.FieldCreated, store.OpGt, us(21)), []string{"g2", "g3"}},
	{tcond(store.FieldModified, store.OpLe, us(32)), []string{"g1", "g2"}},
	{and(), []string{"g1", "g2", "g3"}},
	{or(), nil},
}

// seedConds creates condUsers and condGroups in tenant tn.
func seedConds(t *testing.T, s store.Store) {
	t.Helper()
	for _, r := range condUsers() {
		mustCreate(t, s, tn, r)
	}
	for _, r := range condGroups() {
		mustCreate(t, s, tn, r)
	}
}

func runCondCases(t *testing.T, s store.Store, typ string, cases []condCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(condString(c.where), func(t *testing.T) {
			got, err := s.ListResources(ctxOf(t), tn, typ, store.Query{Where: c.where})
			if err != nil {
				t.Fatalf("ListResources(%s, %s): %v", typ, condString(c.where), err)
			}
			if diff := cmp.Diff(c.want, ids(got), opts); diff != "" {
				t.Errorf("ListResources(%s, %s) (-want +got):\n%s", typ, condString(c.where), diff)
			}
			n, err := s.CountResources(ctxOf(t), tn, typ, c.where)
			if err != nil {
				t.Fatalf("CountResources(%s, %s): %v", typ, condString(c.where), err)
			}
			if n != len(c.want) {
				t.Errorf("CountResources(%s, %s) = %d, want %d", typ, condString(c.where), n, len(c.want))
			}
		})
	}
}

var condTests = []test{
	{"Users", func(t *testing.T, s store.Store) {
		seedConds(t, s)
		runCondCases(t, s, store.TypeUser, userCondCases)
	}},
	{"Groups", func(t *testing.T, s store.Store) {
		seedConds(t, s)
		runCondCases(t, s, store.TypeGroup, groupCondCases)
	}},
	{"Records", func(t *testing.T, s store.Store) {
		// What a filtered list returns is the stored record, emails in
		// order, members never.
		seedConds(t, s)
		for _, want := range condUsers() {
			got, err := s.ListResources(ctxOf(t), tn, store.TypeUser, store.Query{Where: store.Eq(store.FieldID, want.ID)})
			if err != nil || len(got) != 1 {
				t.Fatalf("ListResources(id eq %s) = %v, %v; want one record", want.ID, ids(got), err)
			}
			want.Version = 1
			if diff := cmp.Diff(want, got[0], opts); diff != "" {
				t.Errorf("listed %s (-want +got):\n%s", want.ID, diff)
			}
		}
		for _, want := range condGroups() {
			got := mustGet(t, s, tn, store.TypeGroup, want.ID)
			want.Version, want.Members = 1, nil
			if diff := cmp.Diff(want, got, opts); diff != "" {
				t.Errorf("GetResource(%s) (-want +got):\n%s", want.ID, diff)
			}
		}
	}},
}
