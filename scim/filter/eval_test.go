package filter

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/schema"
)

const userJSON = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
  "id": "2819c223-7f76-453a-919d-413861904646",
  "externalId": "00uAbC",
  "userName": "Bjensen@Example.com",
  "name": {"givenName": "Barbara", "familyName": "Jensen"},
  "title": "",
  "active": true,
  "emails": [
    {"value": "bjensen@example.com", "type": "work", "primary": true},
    {"value": "babs@jensen.org", "type": "home"}
  ],
  "meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z", "lastModified": "2011-05-13T04:42:34Z", "version": "W/\"3\""},
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984", "manager": {"value": "26118915"}}
}`

func TestEval(t *testing.T) {
	user := mustDecode(t, userJSON)
	group := scim.Resource{"displayName": "Engineering", "members": []any{map[string]any{"value": "u1"}, map[string]any{"value": "u2", "display": "B"}}}
	ut, gt := schema.UserType(), schema.GroupType()
	tests := []struct {
		filter string
		rt     *schema.ResourceType
		r      scim.Resource
		want   bool
	}{
		{`userName eq "bjensen@example.com"`, ut, user, true},
		{`USERNAME EQ "BJENSEN@EXAMPLE.COM"`, ut, user, true},
		{`userName ne "bjensen@example.com"`, ut, user, false},
		{`id eq "2819C223-7F76-453A-919D-413861904646"`, ut, user, false},
		{`id eq "2819c223-7f76-453a-919d-413861904646"`, ut, user, true},
		{`externalId eq "00uabc"`, ut, user, false},
		{`externalId eq "00uAbC"`, ut, user, true},
		{`userName sw "bj" and userName ew "COM"`, ut, user, true},
		{`userName co "@example"`, ut, user, true},
		{`name.familyName eq "jensen"`, ut, user, true},
		{`name.middleName pr`, ut, user, false},
		{`title pr`, ut, user, false},
		{`name pr`, ut, user, true},
		{`emails pr`, ut, user, true},
		{`phoneNumbers pr`, ut, user, false},
		{`nickName eq null`, ut, user, true},
		{`userName ne null`, ut, user, true},
		{`active eq true`, ut, user, true},
		{`active eq false`, ut, user, false},
		{`not (active eq false)`, ut, user, true},
		{`emails.value eq "babs@jensen.org"`, ut, user, true},
		{`emails.type eq "other"`, ut, user, false},
		{`emails co "jensen.org"`, ut, user, true},
		{`emails[type eq "work" and value co "@example.com"]`, ut, user, true},
		{`emails[type eq "home" and value co "@example.com"]`, ut, user, false},
		{`emails[type eq "work"].value eq "bjensen@example.com"`, ut, user, true},
		{`emails[primary eq true].type eq "home"`, ut, user, false},
		{`meta.lastModified gt "2011-05-13T04:42:33Z"`, ut, user, true},
		{`meta.lastModified gt "2011-05-13T06:42:33+02:00"`, ut, user, true},
		{`meta.lastModified ge "2011-05-13T04:42:34.000Z"`, ut, user, true},
		{`meta.created lt "2010-01-01T00:00:00Z"`, ut, user, false},
		{`employeeNumber eq "701984"`, ut, user, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"`, ut, user, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915"`, ut, user, true},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "b"`, ut, user, true},
		{`(userName eq "x" or userName eq "bjensen@example.com") and active eq true`, ut, user, true},
		{`userName eq "x" or userName eq "y" and active eq true`, ut, user, false},
		{`userName gt "a"`, ut, user, true},
		{`displayName eq "engineering"`, gt, group, true},
		{`members[value eq "u2"]`, gt, group, true},
		{`members.value eq "u3"`, gt, group, false},
		{`members eq "u1"`, gt, group, true},
		{`userName eq "a"`, ut, scim.Resource{}, false},
		{`userName eq "a"`, ut, scim.Resource{"userName": 5.0}, false},
		{`emails.value eq "a"`, ut, scim.Resource{"emails": "junk"}, false},
		{`active eq true`, ut, scim.Resource{"active": "True"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, mustEval(t, tt.filter, tt.r, tt.rt)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestEvalErrors(t *testing.T) {
	tests := []string{
		`nope eq "x"`,
		`name.nope pr`,
		`urn:x:y:userName eq "a"`,
		`active gt true`,
		`active co "t"`,
		`active eq "true"`,
		`userName eq 5`,
		`userName gt null`,
		`name eq "x"`,
		`meta.created gt "yesterday"`,
		`meta.created eq 5`,
		`userName[value eq "x"]`,
		`emails[nope eq "x"]`,
		`name[nope eq "x"]`,
		`userName eq "a" or nope pr`,
	}
	for _, f := range tests {
		t.Run(f, func(t *testing.T) {
			if err := evalEmpty(t, f, schema.UserType()); !errors.Is(err, scim.ErrInvalidFilter) {
				t.Errorf("err = %v, want invalidFilter", err)
			}
		})
	}
	if _, err := Eval(&Present{Attr: AttrPath{Name: "a"}}, nil, nil); !errors.Is(err, scim.ErrInvalidFilter) {
		t.Errorf("nil resource type: err = %v", err)
	}
}

func TestMatch(t *testing.T) {
	members := schema.Group().Attribute("members")
	e, err := Parse(`value eq "u1" and display pr`)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		elem map[string]any
		want bool
	}{
		{"match", map[string]any{"value": "u1", "display": "A"}, true},
		{"no display", map[string]any{"value": "u1"}, false},
		{"other", map[string]any{"value": "u2", "display": "A"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Match(e, tt.elem, members)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	bad, _ := Parse(`nope eq "x"`)
	if _, err := Match(bad, map[string]any{}, members); !errors.Is(err, scim.ErrInvalidFilter) {
		t.Errorf("unknown sub-attribute: err = %v", err)
	}
}

func TestEqualities(t *testing.T) {
	tests := []struct {
		filter string
		want   map[string]string
	}{
		{`userName eq "a"`, map[string]string{"userName": "a"}},
		{`USERNAME eq "a" and externalId eq "x" and active eq true`, map[string]string{"userName": "a", "externalId": "x"}},
		{`displayName eq "G" and id eq "1"`, map[string]string{"displayName": "G", "id": "1"}},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a"`, map[string]string{"userName": "a"}},
		{`urn:x:userName eq "a"`, map[string]string{}},
		{`userName eq "a" or externalId eq "x"`, map[string]string{}},
		{`(userName eq "a" or userName eq "b") and externalId eq "x"`, map[string]string{"externalId": "x"}},
		{`not (userName eq "a")`, map[string]string{}},
		{`userName ne "a"`, map[string]string{}},
		{`userName eq "a" and userName eq "b"`, map[string]string{"userName": "a"}},
		{`emails[value eq "a"]`, map[string]string{}},
		{`name.givenName eq "a"`, map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			e, err := Parse(tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, Equalities(e)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// alice has two emails, a work and a home one; nobody has no emails,
// no title and an email without a value.
const (
	alice = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"a","userName":"alice",
	  "title":"Engineer","name":{"givenName":"Alice"},
	  "emails":[{"value":"alice@x.com","type":"work"},{"value":"alice@home.org","type":"home"}],
	  "meta":{"created":"2026-03-01T10:00:00Z"}}`
	onlyWork = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"w","userName":"w",
	  "emails":[{"value":"w@x.com","type":"work"}]}`
	nobody  = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"n","userName":"nobody"}`
	noValue = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"v","userName":"v",
	  "emails":[{"type":"work"}]}`
)

// TestMultiValuedAnyValue: every operator on a multi-valued attribute (or
// a sub-attribute reached through one) holds when any value satisfies it,
// ne included (RFC 7644 §3.4.2.2), the same as the value-path form; not
// (… eq …) stays the negation of eq.
func TestMultiValuedAnyValue(t *testing.T) {
	tests := []struct {
		name, filter, resource string
		want                   bool
	}{
		{"ne sub, another value differs", `emails.value ne "alice@x.com"`, alice, true},
		{"ne value path, another value differs", `emails[value ne "alice@x.com"]`, alice, true},
		{"ne implicit value", `emails ne "alice@x.com"`, alice, true},
		{"ne type with work and home", `emails.type ne "work"`, alice, true},
		{"ne type with only work", `emails.type ne "work"`, onlyWork, false},
		{"ne type value path only work", `emails[type ne "work"]`, onlyWork, false},
		{"ne only value", `emails.value ne "w@x.com"`, onlyWork, false},
		{"ne case-insensitive", `emails.value ne "W@X.COM"`, onlyWork, false},
		{"not eq is the negation", `not (emails.value eq "alice@x.com")`, alice, false},
		{"not eq without that value", `not (emails.value eq "zz@x.com")`, alice, true},
		{"eq any", `emails.value eq "alice@home.org"`, alice, true},
		{"gt any", `emails.value gt "alice@i"`, alice, true},
		{"sw any", `emails.type sw "ho"`, alice, true},

		// absent attribute / empty list (the documented decision)
		{"ne absent single-valued", `title ne "x"`, nobody, true},
		{"ne absent sub of single complex", `name.givenName ne "x"`, nobody, true},
		{"ne no emails", `emails.value ne "x"`, nobody, false},
		{"ne no emails value path", `emails[value ne "x"]`, nobody, false},
		{"ne email without value", `emails.value ne "x"`, noValue, true},
		{"ne email without value, value path", `emails[value ne "x"]`, noValue, true},
		{"gt absent", `title gt "a"`, nobody, false},
		{"not eq no emails", `not (emails.value eq "x")`, nobody, true},
		{"eq null no emails", `emails.value eq null`, nobody, true},
		{"ne null no emails", `emails.value ne null`, nobody, false},
		{"ne null with emails", `emails.value ne null`, alice, true},
		{"ne null email without value", `emails.value ne null`, noValue, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustEval(t, tt.filter, mustDecode(t, tt.resource), schema.UserType())
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.filter, diff)
			}
		})
	}
}

// TestLowercaseDateTime: RFC 3339 §5.6 allows "t" and "z" in lower case.
func TestLowercaseDateTime(t *testing.T) {
	tests := []struct {
		name, filter, resource string
		want                   bool
	}{
		{"lowercase literal", `meta.created eq "2026-03-01t10:00:00z"`, alice, true},
		{"lowercase literal gt", `meta.created gt "2026-02-28t10:00:00z"`, alice, true},
		{"lowercase stored value", `meta.created eq "2026-03-01T10:00:00Z"`, `{"userName":"l","meta":{"created":"2026-03-01t10:00:00z"}}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustEval(t, tt.filter, mustDecode(t, tt.resource), schema.UserType())
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("still refuses a non-date", func(t *testing.T) {
		if err := evalEmpty(t, `meta.created gt "2026-03-01x10:00:00z"`, schema.UserType()); !errors.Is(err, scim.ErrInvalidFilter) {
			t.Errorf("err = %v, want invalidFilter", err)
		}
	})
}
