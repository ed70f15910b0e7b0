package server

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/filter"
	"github.com/idpkit/idpkit/scim/schema"
	"github.com/idpkit/idpkit/scim/store"
)

func pdCmp(f store.Field, op, v string) store.Cond { return store.Cond{Field: f, Op: op, Value: v} }

func pdTime(f store.Field, op, v string) store.Cond {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		panic(err)
	}
	return store.Cond{Field: f, Op: op, Time: t.UTC()}
}

func pdRef(c store.Cond) *store.Cond { return &c }

func pdNot(c store.Cond) store.Cond { return store.Cond{Not: &c} }

func pdAnd(cs ...store.Cond) store.Cond { return store.Cond{And: cs} }

func pdOr(cs ...store.Cond) store.Cond { return store.Cond{Or: cs} }

func TestPushdown(t *testing.T) {
	const (
		un  = store.FieldUserName
		dn  = store.FieldDisplayName
		ext = store.FieldExternalID
		id  = store.FieldID
		em  = store.FieldEmail
		cr  = store.FieldCreated
		mod = store.FieldModified
		mem = store.FieldMember
		grp = store.FieldGroup
	)
	none := noneCond()
	users, groups := schema.UserType(), schema.GroupType()
	tests := []struct {
		name   string
		rt     *schema.ResourceType
		filter string
		want   *store.Cond
		exact  bool
	}{
		// Single-valued strings.
		{"userName eq", users, `userName eq "Bjensen"`, pdRef(pdCmp(un, "eq", "Bjensen")), true},
		{"names case-insensitive", users, `UserName EQ "x"`, pdRef(pdCmp(un, "eq", "x")), true},
		{"core urn", users, `urn:ietf:params:scim:schemas:core:2.0:User:userName sw "a%"`, pdRef(pdCmp(un, "sw", "a%")), true},
		{"urn for id", users, `urn:ietf:params:scim:schemas:core:2.0:User:id eq "A"`, pdRef(pdCmp(id, "eq", "A")), true},
		{"userName co", users, `userName co "_\\"`, pdRef(pdCmp(un, "co", `_\`)), true},
		{"userName ew", users, `userName ew "x"`, pdRef(pdCmp(un, "ew", "x")), true},
		{"userName gt", users, `userName gt "m"`, pdRef(pdCmp(un, "gt", "m")), true},
		{"userName ge", users, `userName ge "m"`, pdRef(pdCmp(un, "ge", "m")), true},
		{"userName lt is exact: never empty", users, `userName lt "m"`, pdRef(pdCmp(un, "lt", "m")), true},
		{"userName le", users, `userName le "m"`, pdRef(pdCmp(un, "le", "m")), true},
		{"userName ne", users, `userName ne "m"`, pdRef(pdCmp(un, "ne", "m")), true},
		{"userName pr", users, `userName pr`, pdRef(pdCmp(un, "pr", "")), true},
		{"userName eq null", users, `userName eq null`, pdRef(pdNot(pdCmp(un, "pr", ""))), true},
		{"userName ne null", users, `userName ne null`, pdRef(pdCmp(un, "pr", "")), true},
		{"id eq", users, `id eq "AbC"`, pdRef(pdCmp(id, "eq", "AbC")), true},
		{"group id", groups, `id ne "x"`, pdRef(pdCmp(id, "ne", "x")), true},
		{"externalId eq", users, `externalId eq "E1"`, pdRef(pdCmp(ext, "eq", "E1")), true},
		{"externalId lt: empty values are less", users, `externalId lt "E1"`, pdRef(pdOr(pdCmp(ext, "lt", "E1"), pdNot(pdCmp(ext, "pr", "")))), false},
		{"user displayName le: may be empty", users, `displayName le "b"`, pdRef(pdOr(pdCmp(dn, "le", "b"), pdNot(pdCmp(dn, "pr", "")))), false},
		{"group displayName le: required", groups, `displayName le "b"`, pdRef(pdCmp(dn, "le", "b")), true},
		{"group displayName co", groups, `displayName co "Ops"`, pdRef(pdCmp(dn, "co", "Ops")), true},

		// Empty and odd literals.
		{"eq empty", users, `displayName eq ""`, nil, false},
		{"ne empty", users, `externalId ne ""`, nil, false},
		{"co empty", users, `userName co ""`, nil, false},
		{"gt empty is pr", users, `externalId gt ""`, pdRef(pdCmp(ext, "pr", "")), true},
		{"lt empty is nothing", users, `externalId lt ""`, none, true},
		{"NUL", users, `userName eq "a\u0000b"`, nil, false},

		// emails.
		{"emails.value eq", users, `emails.value eq "A@x"`, pdRef(pdCmp(em, "eq", "A@x")), true},
		{"EMAILS.VALUE co", users, `EMAILS.VALUE co "@X"`, pdRef(pdCmp(em, "co", "@X")), true},
		{"emails co", users, `emails co "@x"`, pdRef(pdCmp(em, "co", "@x")), true},
		{"emails.value gt", users, `emails.value gt "m"`, pdRef(pdCmp(em, "gt", "m")), true},
		{"emails.value ge", users, `emails.value ge "m"`, pdRef(pdCmp(em, "ge", "m")), true},
		{"emails.value lt", users, `emails.value lt "m"`, nil, false},
		{"emails.value ne", users, `emails.value ne "a@x"`, nil, false},
		{"emails ne", users, `emails ne "a@x"`, nil, false},
		{"emails.value pr", users, `emails.value pr`, pdRef(pdCmp(em, "pr", "")), true},
		{"emails pr", users, `emails pr`, nil, false},
		{"emails eq null", users, `emails eq null`, pdRef(pdNot(pdCmp(em, "pr", ""))), true},
		{"emails.value ne null", users, `emails.value ne null`, pdRef(pdCmp(em, "pr", "")), true},
		{"value path on value", users, `emails[value eq "a@x"]`, pdRef(pdCmp(em, "eq", "a@x")), true},
		{"value path or", users, `emails[value eq "a" or value sw "b"]`, pdRef(pdOr(pdCmp(em, "eq", "a"), pdCmp(em, "sw", "b"))), true},
		{"value path and", users, `emails[value sw "a" and value ew "b"]`, pdRef(pdAnd(pdCmp(em, "sw", "a"), pdCmp(em, "ew", "b"))), false},
		{"value path type and value", users, `emails[type eq "work" and value co "@x"]`, pdRef(pdCmp(em, "co", "@x")), false},
		{"sub-attribute after value path", users, `emails[type eq "work"].value eq "a"`, pdRef(pdCmp(em, "eq", "a")), false},
		{"value path type only", users, `emails[type eq "work"]`, nil, false},
		{"value path not", users, `emails[not (value eq "a")]`, nil, false},
		{"value path eq null", users, `emails[value eq null]`, nil, false},
		{"value path pr", users, `emails[value pr]`, pdRef(pdCmp(em, "pr", "")), true},
		{"emails.type", users, `emails.type eq "work"`, nil, false},

		// Dates.
		{"created gt", users, `meta.created gt "2020-01-02T03:04:05.123Z"`, pdRef(pdTime(cr, "gt", "2020-01-02T03:04:05.123Z")), true},
		{"created offset, lowercase", users, `meta.created ge "2020-01-02t05:04:05+02:00"`, pdRef(pdTime(cr, "ge", "2020-01-02T03:04:05Z")), true},
		{"lastModified eq", groups, `meta.lastModified eq "2020-01-02T03:04:05.000001Z"`, pdRef(pdTime(mod, "eq", "2020-01-02T03:04:05.000001Z")), true},
		{"sub-µs eq", users, `meta.created eq "2020-01-02T03:04:05.0000001Z"`, none, true},
		{"sub-µs ne", users, `meta.created ne "2020-01-02T03:04:05.0000001Z"`, nil, true},
		{"sub-µs gt", users, `meta.created gt "2020-01-02T03:04:05.0000019Z"`, pdRef(pdTime(cr, "gt", "2020-01-02T03:04:05.000001Z")), true},
		{"sub-µs ge", users, `meta.created ge "2020-01-02T03:04:05.0000019Z"`, pdRef(pdTime(cr, "gt", "2020-01-02T03:04:05.000001Z")), true},
		{"sub-µs lt", users, `meta.created lt "2020-01-02T03:04:05.0000019Z"`, pdRef(pdTime(cr, "le", "2020-01-02T03:04:05.000001Z")), true},
		{"sub-µs le", users, `meta.created le "2020-01-02T03:04:05.0000019Z"`, pdRef(pdTime(cr, "le", "2020-01-02T03:04:05.000001Z")), true},
		{"created sw", users, `meta.created sw "2020"`, nil, false},
		{"created pr", users, `meta.created pr`, pdRef(pdCmp(cr, "pr", "")), true},
		{"created eq null", users, `meta.created eq null`, pdRef(pdNot(pdCmp(cr, "pr", ""))), true},
		{"year out of range", users, `meta.created gt "0000-01-01T00:00:00Z"`, nil, false},
		{"meta value path", users, `meta[created lt "2020-01-01T00:00:00Z"]`, pdRef(pdTime(cr, "lt", "2020-01-01T00:00:00Z")), true},

		// Membership.
		{"members.value eq", groups, `members.value eq "u1"`, pdRef(pdCmp(mem, "eq", "u1")), true},
		{"members eq", groups, `members eq "u1"`, pdRef(pdCmp(mem, "eq", "u1")), true},
		{"members value path", groups, `members[value eq "u1"]`, pdRef(pdCmp(mem, "eq", "u1")), true},
		{"members pr", groups, `members pr`, pdRef(pdCmp(mem, "pr", "")), true},
		{"members.value ne", groups, `members.value ne "u1"`, nil, false},
		{"members.value sw", groups, `members.value sw "u"`, nil, false},
		{"members.display", groups, `members.display eq "x"`, nil, false},
		{"groups.value eq", users, `groups.value eq "g1"`, pdRef(pdCmp(grp, "eq", "g1")), true},
		{"groups eq null", users, `groups eq null`, pdRef(pdNot(pdCmp(grp, "pr", ""))), true},
		{"groups.display", users, `groups.display eq "x"`, nil, false},

		// Not indexed.
		{"givenName", users, `name.givenName eq "x"`, nil, false},
		{"active", users, `active eq true`, nil, false},
		{"enterprise", users, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "1"`, nil, false},
		{"resourceType", users, `meta.resourceType eq "User"`, nil, false},
		{"version", users, `meta.version eq "W/\"1\""`, nil, false},

		// Combinators.
		{"and flattens", users, `userName eq "a" and (externalId eq "b" and id eq "c")`, pdRef(pdAnd(pdCmp(un, "eq", "a"), pdCmp(ext, "eq", "b"), pdCmp(id, "eq", "c"))), true},
		{"and drops unpushable", users, `userName eq "a" and title eq "b"`, pdRef(pdCmp(un, "eq", "a")), false},
		{"and of unpushables", users, `title eq "a" and nickName eq "b"`, nil, false},
		{"and with none", users, `userName eq "a" and externalId lt ""`, none, true},
		{"or flattens", users, `userName eq "a" or (externalId eq "b" or id eq "c")`, pdRef(pdOr(pdCmp(un, "eq", "a"), pdCmp(ext, "eq", "b"), pdCmp(id, "eq", "c"))), true},
		{"or with unpushable", users, `userName eq "a" or title eq "b"`, nil, false},
		{"or with inexact", users, `userName eq "a" or externalId le "b"`, pdRef(pdOr(pdCmp(un, "eq", "a"), pdCmp(ext, "le", "b"), pdNot(pdCmp(ext, "pr", "")))), false},
		{"or with none", users, `userName eq "a" or externalId lt ""`, pdRef(pdCmp(un, "eq", "a")), true},
		{"or with all", users, `title eq "a" or meta.created ne "2020-01-02T03:04:05.0000001Z"`, nil, true},
		{"not", users, `not (userName eq "a")`, pdRef(pdNot(pdCmp(un, "eq", "a"))), true},
		{"not not", users, `not (not (userName eq "a"))`, pdRef(pdCmp(un, "eq", "a")), true},
		{"not of inexact", users, `not (userName eq "a" and title eq "b")`, nil, false},
		{"not of none", users, `not (externalId lt "")`, nil, true},
		{"not emails", users, `not (emails.value eq "a")`, pdRef(pdNot(pdCmp(em, "eq", "a"))), true},
		{"mixed", users, `(userName sw "a" or emails co "@b") and not (groups.value eq "g") and active eq true`,
			pdRef(pdAnd(pdOr(pdCmp(un, "sw", "a"), pdCmp(em, "co", "@b")), pdNot(pdCmp(grp, "eq", "g")))), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := filter.Parse(tt.filter)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.filter, err)
			}
			if err := filter.Validate(e, tt.rt); err != nil {
				t.Fatalf("Validate(%q): %v", tt.filter, err)
			}
			got, exact := pushdown(e, tt.rt)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("pushdown(%q) cond (-want +got):\n%s", tt.filter, diff)
			}
			if exact != tt.exact {
				t.Errorf("pushdown(%q) exact = %v, want %v", tt.filter, exact, tt.exact)
			}
		})
	}
}

func TestPushdownNil(t *testing.T) {
	got, exact := pushdown(nil, schema.UserType())
	if got != nil || !exact {
		t.Errorf("pushdown(nil) = %v, %v; want nil, true", got, exact)
	}
}

func TestPushSort(t *testing.T) {
	users, groups := schema.UserType(), schema.GroupType()
	tests := []struct {
		rt     *schema.ResourceType
		sortBy string
		want   store.Field
		ok     bool
	}{
		{users, "userName", store.FieldUserName, true},
		{users, "USERNAME", store.FieldUserName, true},
		{users, "urn:ietf:params:scim:schemas:core:2.0:User:userName", store.FieldUserName, true},
		{users, "displayName", store.FieldDisplayName, true},
		{groups, "displayName", store.FieldDisplayName, true},
		{users, "externalId", store.FieldExternalID, true},
		{groups, "id", store.FieldID, true},
		{users, "meta.created", store.FieldCreated, true},
		{groups, "meta.lastModified", store.FieldModified, true},
		{users, "emails", "", false},
		{users, "emails.value", "", false},
		{users, "name.givenName", "", false},
		{users, "title", "", false},
		{users, "meta.version", "", false},
		{users, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "", false},
		{groups, "members.value", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.rt.Name+" "+tt.sortBy, func(t *testing.T) {
			so, err := resolveSort(tt.sortBy, tt.rt)
			if err != nil {
				t.Fatalf("resolveSort(%q): %v", tt.sortBy, err)
			}
			got, ok := pushSort(so)
			if diff := cmp.Diff(tt.want, got); diff != "" || ok != tt.ok {
				t.Errorf("pushSort(%q) = %q, %v; want %q, %v", tt.sortBy, got, ok, tt.want, tt.ok)
			}
		})
	}
	if _, ok := pushSort(nil); ok {
		t.Error("pushSort(nil) ok, want not")
	}
}
