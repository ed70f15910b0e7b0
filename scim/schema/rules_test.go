package schema

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim"
)

// typesType has one attribute of every RFC 7643 §2.3 data type, and an
// immutable one, which User and Group lack.
func typesType() *ResourceType {
	return &ResourceType{
		ID: "Thing", Name: "Thing", Endpoint: "/Things",
		Schema: &Schema{ID: "urn:example:Thing", Name: "Thing", Attributes: []*Attribute{
			attr("s", TypeString, "a string"),
			attr("b", TypeBoolean, "a boolean"),
			attr("d", TypeDecimal, "a decimal"),
			attr("i", TypeInteger, "an integer"),
			attr("t", TypeDateTime, "a dateTime"),
			attr("r", TypeReference, "a reference", refs("external")),
			attr("bin", TypeBinary, "binary"),
			attr("c", TypeComplex, "complex", subs(attr("x", TypeString, "x"), attr("serial", TypeString, "serial", immutable))),
			attr("serial", TypeString, "immutable", immutable, exact),
			attr("since", TypeDateTime, "immutable date", immutable),
			attr("tags", TypeString, "multi-valued strings", multi),
			attr("must", TypeString, "required", required),
		}},
	}
}

func TestNormalizeTypes(t *testing.T) {
	th := typesType()
	const sch = `"schemas":["urn:example:Thing"],"must":"m"`
	runNormalize(t, []normCase{
		{name: "every type", rt: th,
			in:   `{"must":"m","s":"x","b":"TRUE","d":1.5,"i":-3,"t":"2026-03-01T10:00:00.5+01:00","r":"https://x/y","bin":"AAEC/w==","c":{"X":"1"},"tags":["a","b"]}`,
			want: `{` + sch + `,"s":"x","b":true,"d":1.5,"i":-3,"t":"2026-03-01T10:00:00.5+01:00","r":"https://x/y","bin":"AAEC/w==","c":{"x":"1"},"tags":["a","b"]}`},
		{name: "string given a number", rt: th, in: `{"must":"m","s":1}`, errType: scim.TypeInvalidValue, detail: `"s"`},
		{name: "string given a boolean", rt: th, in: `{"must":"m","s":true}`, errType: scim.TypeInvalidValue, detail: `"s"`},
		{name: "boolean given a word", rt: th, in: `{"must":"m","b":"yes"}`, errType: scim.TypeInvalidValue, detail: `"b"`},
		{name: "boolean given a number", rt: th, in: `{"must":"m","b":1}`, errType: scim.TypeInvalidValue, detail: `"b"`},
		{name: "decimal given a string", rt: th, in: `{"must":"m","d":"1.5"}`, errType: scim.TypeInvalidValue, detail: `"d"`},
		{name: "integer given a fraction", rt: th, in: `{"must":"m","i":1.5}`, errType: scim.TypeInvalidValue, detail: `"i"`},
		{name: "integer given a string", rt: th, in: `{"must":"m","i":"1"}`, errType: scim.TypeInvalidValue, detail: `"i"`},
		{name: "dateTime not a date", rt: th, in: `{"must":"m","t":"yesterday"}`, errType: scim.TypeInvalidValue, detail: `"t"`},
		{name: "dateTime without time", rt: th, in: `{"must":"m","t":"2026-03-01"}`, errType: scim.TypeInvalidValue, detail: `"t"`},
		{name: "dateTime given a number", rt: th, in: `{"must":"m","t":1700000000}`, errType: scim.TypeInvalidValue, detail: `"t"`},
		{name: "reference given an object", rt: th, in: `{"must":"m","r":{"x":1}}`, errType: scim.TypeInvalidValue, detail: `"r"`},
		{name: "binary not base64", rt: th, in: `{"must":"m","bin":"not base64!"}`, errType: scim.TypeInvalidValue, detail: `"bin"`},
		{name: "complex given a string", rt: th, in: `{"must":"m","c":"x"}`, errType: scim.TypeInvalidValue, detail: `"c"`},
		{name: "sub-attribute of the wrong type", rt: th, in: `{"must":"m","c":{"x":2}}`, errType: scim.TypeInvalidValue, detail: `"c.x"`},
		{name: "single-valued given an array", rt: th, in: `{"must":"m","s":["x"]}`, errType: scim.TypeInvalidValue, detail: `"s"`},
		{name: "multi-valued given a scalar", rt: th, in: `{"must":"m","tags":"a"}`, errType: scim.TypeInvalidValue, detail: `"tags"`},
		{name: "multi-valued element of the wrong type", rt: th, in: `{"must":"m","tags":["a",1]}`, errType: scim.TypeInvalidValue, detail: `"tags"`},
		{name: "required missing", rt: th, in: `{"s":"x"}`, errType: scim.TypeInvalidValue, detail: `"must"`},
		{name: "required null", rt: th, in: `{"must":null}`, errType: scim.TypeInvalidValue, detail: `"must"`},
	})
}

func TestNormalizeUserAndGroup(t *testing.T) {
	u, g := UserType(), GroupType()
	const us = `"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]`
	const gs = `"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"]`
	runNormalize(t, []normCase{
		// Okta's POST body, with readOnly values that are ignored
		{name: "Okta create", rt: u,
			in: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a@example.com","name":{"givenName":"A","familyName":"B"},
				"emails":[{"primary":true,"value":"a@example.com","type":"work"}],"displayName":"A B","locale":"en-US","externalId":"00u1",
				"groups":[],"password":"pw","active":true,"id":"ignored","meta":{"created":"ignored"}}`,
			want: `{` + us + `,"userName":"a@example.com","name":{"givenName":"A","familyName":"B"},
				"emails":[{"primary":true,"value":"a@example.com","type":"work"}],"displayName":"A B","locale":"en-US","externalId":"00u1",
				"password":"pw","active":true}`},
		{name: "Entra create with string booleans and phone types", rt: u,
			in: `{"userName":"e@x","active":"True","phoneNumbers":[{"type":"mobile","value":"1"},{"type":"fax","value":"2"},{"type":"work","value":"3","primary":"true"}],
				"addresses":[{"type":"work","locality":"Oslo","primary":"False"}]}`,
			want: `{` + us + `,"userName":"e@x","active":true,"phoneNumbers":[{"type":"mobile","value":"1"},{"type":"fax","value":"2"},{"type":"work","value":"3","primary":true}],
				"addresses":[{"type":"work","locality":"Oslo","primary":false}]}`},
		// canonical values
		{name: "canonical types in other case", rt: u,
			in:   `{"userName":"a","emails":[{"value":"a","type":"WORK"},{"value":"b","type":"Home"}],"ims":[{"value":"x","type":"XMPP"}],"photos":[{"value":"https://p","type":"Thumbnail"}]}`,
			want: `{` + us + `,"userName":"a","emails":[{"value":"a","type":"work"},{"value":"b","type":"home"}],"ims":[{"value":"x","type":"xmpp"}],"photos":[{"value":"https://p","type":"thumbnail"}]}`},
		{name: "email type outside canonical values", rt: u, in: `{"userName":"a","emails":[{"value":"a","type":"private"}]}`, errType: scim.TypeInvalidValue, detail: `"emails.type"`},
		{name: "phone type outside canonical values", rt: u, in: `{"userName":"a","phoneNumbers":[{"value":"1","type":"cell"}]}`, errType: scim.TypeInvalidValue, detail: `"phoneNumbers.type"`},
		{name: "address type outside canonical values", rt: u, in: `{"userName":"a","addresses":[{"type":"office"}]}`, errType: scim.TypeInvalidValue, detail: `"addresses.type"`},
		{name: "entitlement types are free", rt: u, in: `{"userName":"a","entitlements":[{"value":"e","type":"anything"}]}`,
			want: `{` + us + `,"userName":"a","entitlements":[{"value":"e","type":"anything"}]}`},
		{name: "member type canonical", rt: g, in: `{"displayName":"G","members":[{"value":"u","type":"user"}]}`,
			want: `{` + gs + `,"displayName":"G","members":[{"value":"u","type":"User"}]}`},
		{name: "member type outside canonical values", rt: g, in: `{"displayName":"G","members":[{"value":"u","type":"Device"}]}`, errType: scim.TypeInvalidValue, detail: `"members.type"`},
		// multi-valued shape
		{name: "emails as a string", rt: u, in: `{"userName":"a","emails":"a@x"}`, errType: scim.TypeInvalidValue, detail: `"emails"`},
		{name: "emails as one object", rt: u, in: `{"userName":"a","emails":{"value":"a@x"}}`, errType: scim.TypeInvalidValue, detail: `"emails"`},
		{name: "members as one object", rt: g, in: `{"displayName":"G","members":{"value":"u"}}`, errType: scim.TypeInvalidValue, detail: `"members"`},
		{name: "members as bare ids", rt: g, in: `{"displayName":"G","members":["u1","u2"]}`,
			want: `{` + gs + `,"displayName":"G","members":[{"value":"u1"},{"value":"u2"}]}`},
		{name: "empty members", rt: g, in: `{"displayName":"G","members":[]}`, want: `{` + gs + `,"displayName":"G"}`},
		{name: "name as a list", rt: u, in: `{"userName":"a","name":[{"givenName":"x"}]}`, errType: scim.TypeInvalidValue, detail: `"name"`},
		// required attributes and sub-attributes
		{name: "no userName", rt: u, in: `{"name":{"givenName":"x"}}`, errType: scim.TypeInvalidValue, detail: `"userName"`},
		{name: "empty userName", rt: u, in: `{"userName":""}`, errType: scim.TypeInvalidValue, detail: `"userName"`},
		{name: "no displayName", rt: g, in: `{"members":[]}`, errType: scim.TypeInvalidValue, detail: `"displayName"`},
		{name: "member without value", rt: g, in: `{"displayName":"G","members":[{"display":"x"}]}`, errType: scim.TypeInvalidValue, detail: `"members.value"`},
		{name: "member with empty value", rt: g, in: `{"displayName":"G","members":[{"value":"","display":"x"}]}`, errType: scim.TypeInvalidValue, detail: `"members.value"`},
		{name: "email without value is allowed by RFC 7643 §8.7.1", rt: u, in: `{"userName":"a","emails":[{"type":"work"}]}`,
			want: `{` + us + `,"userName":"a","emails":[{"type":"work"}]}`},
		// primary
		{name: "two primaries", rt: u, in: `{"userName":"a","emails":[{"value":"a","primary":true},{"value":"b","primary":"TRUE"}]}`, errType: scim.TypeInvalidValue, detail: `"emails"`},
		{name: "one primary and false ones", rt: u, in: `{"userName":"a","emails":[{"value":"a","primary":false},{"value":"b","primary":true}]}`,
			want: `{` + us + `,"userName":"a","emails":[{"value":"a","primary":false},{"value":"b","primary":true}]}`},
		// readOnly
		{name: "readOnly sub-attribute dropped", rt: u,
			in:   `{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"m","displayName":"Boss"}}}`,
			want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"m"}}}`},
	})
}

func TestCheckImmutable(t *testing.T) {
	th, g := typesType(), GroupType()
	tests := []struct {
		name       string
		rt         *ResourceType
		prev, next string
		ok         bool
	}{
		{"set on create-like first write", th, `{"must":"m"}`, `{"must":"m","serial":"S1"}`, true},
		{"sent again unchanged", th, `{"serial":"S1"}`, `{"serial":"S1"}`, true},
		{"changed", th, `{"serial":"S1"}`, `{"serial":"S2"}`, false},
		{"caseExact change", th, `{"serial":"S1"}`, `{"serial":"s1"}`, false},
		{"left out", th, `{"serial":"S1"}`, `{}`, false},
		{"dateTime same instant other offset", th, `{"since":"2026-01-01T10:00:00Z"}`, `{"since":"2026-01-01T11:00:00.000+01:00"}`, true},
		{"dateTime changed", th, `{"since":"2026-01-01T10:00:00Z"}`, `{"since":"2026-01-01T10:00:01Z"}`, false},
		{"immutable sub-attribute changed", th, `{"c":{"serial":"a","x":"1"}}`, `{"c":{"serial":"b","x":"1"}}`, false},
		{"mutable sub-attribute changed", th, `{"c":{"serial":"a","x":"1"}}`, `{"c":{"serial":"a","x":"2"}}`, true},
		{"readWrite changed", th, `{"s":"a"}`, `{"s":"b"}`, true},
		{"members added and removed", g, `{"members":[{"value":"a","type":"User"},{"value":"b"}]}`, `{"members":[{"value":"b"},{"value":"c","type":"User"}]}`, true},
		{"member type changed", g, `{"members":[{"value":"a","type":"User"}]}`, `{"members":[{"value":"a","type":"Group"}]}`, false},
		{"member $ref derived by the server", g, `{"members":[{"value":"a","$ref":"http://old/Users/a"}]}`, `{"members":[{"value":"a","$ref":"http://new/Users/a"}]}`, true},
		{"member type given later", g, `{"members":[{"value":"a"}]}`, `{"members":[{"value":"a","type":"User"}]}`, true},
		{"id is readOnly, not immutable", g, `{"id":"1","displayName":"G"}`, `{"displayName":"G"}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.rt.CheckImmutable(decode(t, tt.prev), decode(t, tt.next))
			if tt.ok {
				if err != nil {
					t.Fatalf("err = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, scim.ErrMutability) {
				t.Fatalf("err = %v, want 400 mutability", err)
			}
		})
	}
}

func TestCheckRequiredExtension(t *testing.T) {
	rt := &ResourceType{ID: "U", Schema: User(), Extensions: []Extension{{Schema: &Schema{ID: "urn:example:ext", Attributes: []*Attribute{attr("badge", TypeString, "b", required)}}}}}
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"extension absent", `{"userName":"a"}`, true},
		{"extension with its required attribute", `{"userName":"a","urn:example:ext":{"badge":"1"}}`, true},
		{"extension without it", `{"userName":"a","urn:example:ext":{"other":"1"}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := rt.CheckRequired(decode(t, tt.in))
			if diff := cmp.Diff(tt.ok, err == nil); diff != "" {
				t.Errorf("err = %v (-want ok +got ok):\n%s", err, diff)
			}
			if err != nil && !errors.Is(err, scim.ErrInvalidValue) {
				t.Errorf("err = %v, want invalidValue", err)
			}
		})
	}
}

func TestStripNever(t *testing.T) {
	rt := &ResourceType{ID: "U", Schema: User(), Extensions: []Extension{{Schema: &Schema{ID: "urn:example:ext", Attributes: []*Attribute{
		attr("pin", TypeString, "p", func(a *Attribute) { a.Returned = ReturnedNever }), attr("badge", TypeString, "b"),
	}}}}}
	in := decode(t, `{"userName":"a","password":"x","PassWord":"y","urn:example:ext":{"pin":"1","badge":"2"}}`)
	want := decode(t, `{"userName":"a","urn:example:ext":{"badge":"2"}}`)
	if diff := cmp.Diff(want, rt.StripNever(in)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, ok := in["password"]; !ok {
		t.Error("StripNever modified its input")
	}
}

// TestBlankRequired: a required string of white space only is missing
// (400 invalidValue naming it); other white space is kept as sent.
func TestBlankRequired(t *testing.T) {
	const user = `"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]`
	const group = `"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"]`
	runNormalize(t, []normCase{
		{name: "blank userName", rt: UserType(), in: `{"userName":"   "}`, errType: "invalidValue", detail: `"userName"`},
		{name: "tab and newline userName", rt: UserType(), in: `{"userName":"\t\n"}`, errType: "invalidValue", detail: `"userName"`},
		{name: "blank displayName", rt: GroupType(), in: `{"displayName":"  "}`, errType: "invalidValue", detail: `"displayName"`},
		{name: "blank member value", rt: GroupType(), in: `{"displayName":"G","members":[{"value":" "}]}`, errType: "invalidValue", detail: `"members.value"`},
		{name: "padded userName kept", rt: UserType(), in: `{"userName":" a "}`, want: `{` + user + `,"userName":" a "}`},
		{name: "blank optional title kept", rt: UserType(), in: `{"userName":"a","title":" "}`, want: `{` + user + `,"userName":"a","title":" "}`},
		{name: "displayName", rt: GroupType(), in: `{"displayName":"G"}`, want: `{` + group + `,"displayName":"G"}`},
	})
}

// TestLowercaseDateTimeBody: RFC 3339 §5.6 allows a lowercase "t" and "z";
// the value is accepted and stored in upper case.
func TestLowercaseDateTimeBody(t *testing.T) {
	th := typesType()
	const sch = `"schemas":["urn:example:Thing"],"must":"m"`
	runNormalize(t, []normCase{
		{name: "lowercase t and z", rt: th, in: `{` + sch + `,"t":"2008-01-23t04:56:22z"}`, want: `{` + sch + `,"t":"2008-01-23T04:56:22Z"}`},
		{name: "lowercase t with offset", rt: th, in: `{` + sch + `,"t":"2008-01-23t04:56:22.5+02:00"}`, want: `{` + sch + `,"t":"2008-01-23T04:56:22.5+02:00"}`},
		{name: "upper case unchanged", rt: th, in: `{` + sch + `,"t":"2008-01-23T04:56:22Z"}`, want: `{` + sch + `,"t":"2008-01-23T04:56:22Z"}`},
		{name: "still not a date", rt: th, in: `{` + sch + `,"t":"2008-01-23x04:56:22z"}`, errType: "invalidValue", detail: `"t"`},
	})
}
