package filter

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/schema"
)

// oktaUser is a user as idpkit stores what Okta and Entra send, with the
// enterprise extension and meta.
const oktaUser = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
  "id": "a1B2c3",
  "externalId": "00uAbCdEf",
  "userName": "Chloé.Martin@Example.com",
  "displayName": "Chloé \"Coco\" Martin",
  "name": {"givenName": "Chloé", "familyName": "Martin"},
  "title": "Engineer",
  "active": false,
  "emails": [
    {"value": "chloe.martin@example.com", "type": "work", "primary": true},
    {"value": "coco@home.example.org", "type": "home"}
  ],
  "phoneNumbers": [{"value": "+33 1 23 45 67 89", "type": "mobile"}],
  "x509Certificates": [{"value": "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx"}],
  "meta": {"resourceType": "User", "created": "2026-03-01T10:00:00.000Z", "lastModified": "2026-03-02T08:30:15.123456Z"},
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "4711", "department": "Research & Development", "manager": {"value": "m9"}}
}`

const oktaGroup = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
  "id": "g-42",
  "displayName": "Wiki Editors",
  "members": [{"value": "a1B2c3", "display": "chloe"}, {"value": "u-2"}]
}`

// TestFilterForms proves every form of the filter grammar of RFC 7644
// §3.4.2.2 that idpkit supports, evaluated against a realistic user and
// group: each row must match (true) or not (false).
func TestFilterForms(t *testing.T) {
	user, group := mustDecode(t, oktaUser), mustDecode(t, oktaGroup)
	thing := scim.Resource{"count": 3.0, "ratio": 0.25, "blob": "AAEC", "flag": true}
	ut, gt, tt := schema.UserType(), schema.GroupType(), thingType()
	ent := "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	tests := []struct {
		name   string
		filter string
		rt     *schema.ResourceType
		r      scim.Resource
		want   bool
	}{
		// operators
		{"eq", `userName eq "chloé.martin@example.com"`, ut, user, true},
		{"eq other", `userName eq "chloe.martin@example.com"`, ut, user, false},
		{"ne", `title ne "Manager"`, ut, user, true},
		{"ne same", `title ne "engineer"`, ut, user, false},
		{"ne absent", `nickName ne "x"`, ut, user, true},
		{"co", `displayName co "coco"`, ut, user, true},
		{"co no", `displayName co "bob"`, ut, user, false},
		{"sw", `userName sw "CHLOÉ."`, ut, user, true},
		{"sw no", `userName sw "martin"`, ut, user, false},
		{"ew", `userName ew "@EXAMPLE.COM"`, ut, user, true},
		{"ew no", `userName ew ".org"`, ut, user, false},
		{"pr", `title pr`, ut, user, true},
		{"pr absent", `nickName pr`, ut, user, false},
		{"pr complex", `name pr`, ut, user, true},
		{"pr multi", `emails pr`, ut, user, true},
		{"gt string", `title gt "Analyst"`, ut, user, true},
		{"ge string", `title ge "engineer"`, ut, user, true},
		{"lt string", `title lt "Analyst"`, ut, user, false},
		{"le string", `title le "Zebra"`, ut, user, true},
		{"gt integer", `count gt 2`, tt, thing, true},
		{"ge integer", `count ge 3`, tt, thing, true},
		{"lt integer", `count lt 3`, tt, thing, false},
		{"le integer", `count le 3.0`, tt, thing, true},
		{"eq decimal", `ratio eq 2.5e-1`, tt, thing, true},
		{"lt decimal", `ratio lt -1`, tt, thing, false},
		{"eq binary", `blob eq "AAEC"`, tt, thing, true},
		{"ne boolean", `flag ne false`, tt, thing, true},
		// logic, precedence (grouping, then not, and, or) and parentheses
		{"and", `active eq false and title eq "Engineer"`, ut, user, true},
		{"and one false", `active eq true and title eq "Engineer"`, ut, user, false},
		{"or", `title eq "x" or title eq "engineer"`, ut, user, true},
		{"not", `not (active eq true)`, ut, user, true},
		{"and binds tighter than or", `title eq "Engineer" or title eq "x" and active eq true`, ut, user, true},
		{"grouping overrides", `(title eq "Engineer" or title eq "x") and active eq true`, ut, user, false},
		{"not binds tighter than and", `not (active eq true) and title pr`, ut, user, true},
		{"not of a group", `not (title eq "Engineer" or active eq true)`, ut, user, false},
		{"nested groups", `((userName pr) and ((not (nickName pr))))`, ut, user, true},
		{"keywords any case", `title eq "x" OR Not (active Eq TRUE) AnD title Pr`, ut, user, true},
		// value paths and sub-attributes
		{"value path and", `emails[type eq "work" and value co "@example.com"]`, ut, user, true},
		{"value path and no", `emails[type eq "home" and value co "@example.com"]`, ut, user, false},
		{"value path or", `emails[type eq "other" or value ew ".org"]`, ut, user, true},
		{"value path not", `emails[not (type eq "work")]`, ut, user, true},
		{"value path primary", `emails[primary eq true and type eq "work"]`, ut, user, true},
		{"value path sub-attribute", `emails[type eq "work"].value eq "chloe.martin@example.com"`, ut, user, true},
		{"value path sub-attribute other value", `emails[type eq "home"].value eq "chloe.martin@example.com"`, ut, user, false},
		{"value path sub-attribute then and", `emails[type eq "work"].value sw "chloe" and active eq false`, ut, user, true},
		{"sub-attribute", `name.familyName eq "martin"`, ut, user, true},
		{"sub-attribute of multi-valued", `emails.type eq "home"`, ut, user, true},
		{"multi-valued without sub compares value", `emails co "home.example"`, ut, user, true},
		{"phone type mobile", `phoneNumbers[type eq "mobile"]`, ut, user, true},
		// URN-qualified names
		{"extension URN", ent + `:department eq "research & development"`, ut, user, true},
		{"extension URN other", ent + `:department eq "Sales"`, ut, user, false},
		{"extension URN sub-attribute", ent + `:manager.value eq "m9"`, ut, user, true},
		{"extension unqualified", `employeeNumber eq "4711"`, ut, user, true},
		{"core URN", `urn:ietf:params:scim:schemas:core:2.0:User:userName eq "CHLOÉ.MARTIN@EXAMPLE.COM"`, ut, user, true},
		{"core URN sub-attribute", `urn:ietf:params:scim:schemas:core:2.0:User:name.givenName eq "chloé"`, ut, user, true},
		{"URN any case", `URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:EMPLOYEENUMBER eq "4711"`, ut, user, true},
		// dateTime compared as instants
		{"created gt", `meta.created gt "2026-03-01T09:59:59Z"`, ut, user, true},
		{"created lt", `meta.created lt "2026-03-01T10:00:00Z"`, ut, user, false},
		{"created eq other offset", `meta.created eq "2026-03-01T11:00:00+01:00"`, ut, user, true},
		{"created eq other fraction digits", `meta.created eq "2026-03-01T10:00:00Z"`, ut, user, true},
		{"lastModified ge with fraction", `meta.lastModified ge "2026-03-02T08:30:15.123456000Z"`, ut, user, true},
		{"lastModified gt by a microsecond", `meta.lastModified gt "2026-03-02T08:30:15.123455Z"`, ut, user, true},
		{"lastModified lt other offset", `meta.lastModified lt "2026-03-02T03:30:16-05:00"`, ut, user, true},
		{"lastModified le earlier", `meta.lastModified le "2026-03-02T08:30:15Z"`, ut, user, false},
		// booleans by type
		{"active eq false", `active eq false`, ut, user, true},
		{"active eq true", `active eq true`, ut, user, false},
		{"active stored as string by an older write", `active eq true`, ut, scim.Resource{"active": "True"}, true},
		// caseExact per attribute
		{"userName not caseExact", `USERNAME eq "CHLOÉ.MARTIN@EXAMPLE.COM"`, ut, user, true},
		{"id caseExact", `id eq "A1B2C3"`, ut, user, false},
		{"id exact", `id eq "a1B2c3"`, ut, user, true},
		{"externalId caseExact", `externalId eq "00uabcdef"`, ut, user, false},
		{"externalId exact", `externalId eq "00uAbCdEf"`, ut, user, true},
		{"externalId sw caseExact", `externalId sw "00UA"`, ut, user, false},
		{"manager.value caseExact", ent + `:manager.value eq "M9"`, ut, user, false},
		// names and operators case-insensitive
		{"names and operators", `USERNAME EQ "chloé.martin@example.com"`, ut, user, true},
		{"sub-attribute any case", `NAME.FAMILYNAME SW "MAR"`, ut, user, true},
		{"value path any case", `EMAILS[TYPE EQ "WORK"].VALUE PR`, ut, user, true},
		// JSON string escapes and UTF-8
		{"escaped quotes", `displayName co "\"Coco\""`, ut, user, true},
		{"unicode escape", `name.givenName eq "Chlo\u00e9"`, ut, user, true},
		{"raw UTF-8", `name.givenName eq "chloé"`, ut, user, true},
		{"escaped solidus and ampersand", ent + `:department eq "Research \u0026 Development"`, ut, user, true},
		{"e without accent is another letter", `name.givenName eq "Chloe"`, ut, user, false},
		// groups (Entra)
		{"Entra group membership", `id eq "g-42" and members[value eq "a1B2c3"]`, gt, group, true},
		{"Entra group membership other user", `id eq "g-42" and members[value eq "u-3"]`, gt, group, false},
		{"Entra group membership other group", `id eq "g-43" and members[value eq "a1B2c3"]`, gt, group, false},
		{"member value caseExact", `members[value eq "A1B2C3"]`, gt, group, false},
		{"group displayName", `displayName eq "wiki editors"`, gt, group, true},
		{"members.value", `members.value eq "u-2"`, gt, group, true},
		// null
		{"eq null absent", `nickName eq null`, ut, user, true},
		{"ne null present", `title ne null`, ut, user, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Parse(tc.filter)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.filter, err)
			}
			got, err := Eval(e, tc.r, tc.rt)
			if err != nil {
				t.Fatalf("Eval(%q): %v", tc.filter, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Eval(%q) (-want +got):\n%s", tc.filter, diff)
			}
			// The printed form means the same.
			again, err := Parse(e.String())
			if err != nil {
				t.Fatalf("Parse(String()) = %q: %v", e.String(), err)
			}
			got2, err := Eval(again, tc.r, tc.rt)
			if err != nil || got2 != got {
				t.Errorf("String() %q evaluates to %v, %v; want %v", e.String(), got2, err, got)
			}
		})
	}
}

// TestFilterTypeErrors proves the type rules: a comparison that does not fit
// its attribute is 400 invalidFilter, never a silent false.
func TestFilterTypeErrors(t *testing.T) {
	ut, gt, tt := schema.UserType(), schema.GroupType(), thingType()
	tests := []struct {
		name, filter string
		rt           *schema.ResourceType
	}{
		{"string true against a boolean", `active eq "true"`, ut},
		{"number against a boolean", `active eq 1`, ut},
		{"gt on a boolean", `active gt false`, ut},
		{"ge on a boolean", `active ge true`, ut},
		{"lt on a boolean", `active lt true`, ut},
		{"le on a boolean", `active le false`, ut},
		{"co on a boolean", `active co "t"`, ut},
		{"gt on binary", `x509Certificates.value gt "AA"`, ut},
		{"le on binary", `blob le "AA"`, tt},
		{"sw on binary", `blob sw "AA"`, tt},
		{"number against binary", `blob eq 1`, tt},
		{"string against an integer", `count eq "3"`, tt},
		{"co on an integer", `count co 3`, tt},
		{"boolean against a decimal", `ratio eq true`, tt},
		{"number against a string", `userName eq 5`, ut},
		{"boolean against a string", `title eq true`, ut},
		{"not a dateTime", `meta.created gt "last week"`, ut},
		{"date without time", `meta.lastModified gt "2026-03-01"`, ut},
		{"number against a dateTime", `meta.created gt 5`, ut},
		{"gt null", `title gt null`, ut},
		{"co null", `title co null`, ut},
		{"complex compared", `name eq "x"`, ut},
		{"complex meta compared", `meta eq "x"`, ut},
		{"unknown attribute", `nope eq "x"`, ut},
		{"unknown sub-attribute", `name.nope eq "x"`, ut},
		{"unknown schema URN", `urn:example:other:2.0:User:userName eq "x"`, ut},
		{"extension attribute under the core URN", `urn:ietf:params:scim:schemas:core:2.0:User:department eq "x"`, ut},
		{"user attribute on a group", `userName eq "x"`, gt},
		{"value path on a simple attribute", `userName[value eq "x"]`, ut},
		{"unknown sub-attribute in a value path", `members[nope eq "x"]`, gt},
		{"number against members.value", `members[value eq 1]`, gt},
		{"bad half of an or", `userName pr or nope pr`, ut},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := evalEmpty(t, tc.filter, tc.rt)
			var se *scim.Error
			if !errors.As(err, &se) || !errors.Is(err, scim.ErrInvalidFilter) || se.Status != 400 || se.Detail == "" {
				t.Errorf("Eval(%q) err = %v, want 400 invalidFilter with a detail", tc.filter, err)
			}
		})
	}
}

// TestParseShapes pins the AST of the forms the RFC and the IdPs write.
func TestParseShapes(t *testing.T) {
	ent := "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	tests := []struct {
		in   string
		want Expr
	}{
		{ent + `:department eq "x"`, &Compare{Attr: AttrPath{URN: ent, Name: "department"}, Op: "eq", Value: "x"}},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"`, &Compare{Attr: AttrPath{URN: scim.SchemaUser, Name: "userName"}, Op: "eq", Value: "x"}},
		{`id eq "g" and members[value eq "u"]`, &And{Left: cmpEq("id", "g"), Right: &ValuePath{Attr: AttrPath{Name: "members"}, Filter: cmpEq("value", "u")}}},
		{`not (a pr) or b pr and c pr`, &Or{Left: &Not{X: &Present{AttrPath{Name: "a"}}}, Right: &And{Left: &Present{AttrPath{Name: "b"}}, Right: &Present{AttrPath{Name: "c"}}}}},
		{`a eq "\"quoted\""`, &Compare{Attr: AttrPath{Name: "a"}, Op: "eq", Value: `"quoted"`}},
		{`a eq "\u00e9" or a eq "é"`, &Or{Left: cmpEq("a", "é"), Right: cmpEq("a", "é")}},
		{`a lt 10 and b ge -0.5`, &And{Left: &Compare{Attr: AttrPath{Name: "a"}, Op: "lt", Value: 10.0}, Right: &Compare{Attr: AttrPath{Name: "b"}, Op: "ge", Value: -0.5}}},
		{`a eq false`, &Compare{Attr: AttrPath{Name: "a"}, Op: "eq", Value: false}},
		{`a NE NULL`, &Compare{Attr: AttrPath{Name: "a"}, Op: "ne", Value: nil}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Parse(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
