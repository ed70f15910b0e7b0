package schema

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim"
)

func TestSplitPath(t *testing.T) {
	tests := []struct {
		in             string
		urn, name, sub string
	}{
		{"userName", "", "userName", ""},
		{"name.givenName", "", "name", "givenName"},
		{scim.SchemaEnterpriseUser + ":manager.value", scim.SchemaEnterpriseUser, "manager", "value"},
		{scim.SchemaUser + ":userName", scim.SchemaUser, "userName", ""},
		{"URN:x:y", "URN:x", "y", ""},
		{"", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			u, n, s := SplitPath(tt.in)
			if diff := cmp.Diff([]string{tt.urn, tt.name, tt.sub}, []string{u, n, s}); diff != "" {
				t.Errorf("SplitPath(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	user := UserType()
	tests := []struct {
		name           string
		urn, attr, sub string
		want           string // Name of the attribute found, "" for an error
		caseExact      bool
	}{
		{"core", "", "USERNAME", "", "userName", false},
		{"id exact", "", "id", "", "id", true},
		{"externalId exact", "", "externalid", "", "externalId", true},
		{"sub", "", "name", "GIVENNAME", "givenName", false},
		{"meta", "", "meta", "lastModified", "lastModified", false},
		{"emails value", "", "emails", "value", "value", false},
		{"extension without urn", "", "employeeNumber", "", "employeeNumber", false},
		{"extension with urn", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user", "manager", "value", "value", true},
		{"core urn", scim.SchemaUser, "userName", "", "userName", false},
		{"core urn common", scim.SchemaUser, "id", "", "id", true},
		{"unknown", "", "nope", "", "", false},
		{"unknown sub", "", "name", "nope", "", false},
		{"unknown urn", "urn:x", "userName", "", "", false},
		{"extension attr under core urn", scim.SchemaUser, "employeeNumber", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := user.Lookup(tt.urn, tt.attr, tt.sub)
			if tt.want == "" {
				if !errors.Is(err, ErrUnknownAttribute) {
					t.Fatalf("err = %v, want ErrUnknownAttribute", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]any{tt.want, tt.caseExact}, []any{a.Name, a.CaseExact}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCharacteristics(t *testing.T) {
	u, g := UserType(), GroupType()
	get := func(rt *ResourceType, name, sub string) *Attribute {
		a, err := rt.Lookup("", name, sub)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	type ch struct {
		Required, CaseExact bool
		Mutability          string
		Returned            string
		Uniqueness          string
	}
	tests := []struct {
		name string
		a    *Attribute
		want ch
	}{
		{"userName", get(u, "userName", ""), ch{true, false, ReadWrite, ReturnedDefault, UniqueServer}},
		{"id", get(u, "id", ""), ch{false, true, ReadOnly, ReturnedAlways, UniqueServer}},
		{"password", get(u, "password", ""), ch{false, false, WriteOnly, ReturnedNever, UniqueNone}},
		{"groups", get(u, "groups", ""), ch{false, false, ReadOnly, ReturnedDefault, UniqueNone}},
		{"emails.value", get(u, "emails", "value"), ch{false, false, ReadWrite, ReturnedDefault, UniqueNone}},
		{"group displayName", get(g, "displayName", ""), ch{true, false, ReadWrite, ReturnedDefault, UniqueNone}},
		{"members", get(g, "members", ""), ch{false, false, ReadWrite, ReturnedDefault, UniqueNone}},
		{"members.value", get(g, "members", "value"), ch{true, true, Immutable, ReturnedDefault, UniqueNone}},
		{"meta", get(g, "meta", ""), ch{false, false, ReadOnly, ReturnedDefault, UniqueNone}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ch{tt.a.Required, tt.a.CaseExact, tt.a.Mutability, tt.a.Returned, tt.a.Uniqueness}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	runNormalize(t, []normCase{
		{
			name: "canonical case, drops unknown and readOnly",
			rt:   UserType(),
			in: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"USERNAME":"a@x","id":"nope","meta":{"created":"x"},
				"groups":[{"value":"g"}],"custom":1,"Name":{"GivenName":"A","bogus":"b"},"active":"True",
				"emails":[{"value":"a@x","primary":"false","type":"work"}]}`,
			want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a@x","name":{"givenName":"A"},"active":true,
				"emails":[{"value":"a@x","primary":false,"type":"work"}]}`,
		},
		{
			name: "extension object and URN-qualified key",
			rt:   UserType(),
			in: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a",
				"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"Department":"R&D","manager":{"value":"m1"}},
				"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"42"}`,
			want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"userName":"a",
				"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D","manager":{"value":"m1"},"employeeNumber":"42"}}`,
		},
		{
			name: "listed extension kept, schemas absent added",
			rt:   UserType(),
			in:   `{"userName":"a","externalId":"00u1"}`,
			want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a","externalId":"00u1"}`,
		},
		{
			name: "group with bare-string and object members",
			rt:   GroupType(),
			in:   `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"G","members":["u1",{"value":"u2","$ref":null,"display":"B"}]}`,
			want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"G","members":[{"value":"u1"},{"value":"u2","display":"B"}]}`,
		},
		{name: "missing userName", rt: UserType(), in: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]}`, errType: scim.TypeInvalidValue},
		{name: "empty displayName", rt: GroupType(), in: `{"displayName":""}`, errType: scim.TypeInvalidValue},
		{name: "schemas without core", rt: UserType(), in: `{"schemas":["urn:x"],"userName":"a"}`, errType: scim.TypeInvalidValue},
		{name: "schemas not a list", rt: UserType(), in: `{"schemas":"x","userName":"a"}`, errType: scim.TypeInvalidValue},
		{name: "boolean garbage", rt: UserType(), in: `{"userName":"a","active":"nope"}`, errType: scim.TypeInvalidValue},
		{name: "string as number", rt: UserType(), in: `{"userName":1}`, errType: scim.TypeInvalidValue},
		{name: "single-valued list", rt: UserType(), in: `{"userName":["a"]}`, errType: scim.TypeInvalidValue},
		{name: "complex not object", rt: UserType(), in: `{"userName":"a","name":5}`, errType: scim.TypeInvalidValue},
		{name: "extension not object", rt: UserType(), in: `{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":"x"}`, errType: scim.TypeInvalidValue},
		{name: "nested list", rt: UserType(), in: `{"userName":"a","emails":[[{"value":"x"}]]}`, errType: scim.TypeInvalidValue},
	})
}

func TestJSON(t *testing.T) {
	rt := UserType().JSON("https://h/t/a/scim/v2")
	want := decode(t, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],"id":"User","name":"User","endpoint":"/Users",
		"description":"User Account","schema":"urn:ietf:params:scim:schemas:core:2.0:User",
		"schemaExtensions":[{"schema":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","required":false}],
		"meta":{"resourceType":"ResourceType","location":"https://h/t/a/scim/v2/ResourceTypes/User"}}`)
	if diff := cmp.Diff(want, roundTrip(t, rt)); diff != "" {
		t.Errorf("ResourceType (-want +got):\n%s", diff)
	}
	tests := []struct {
		name string
		s    *Schema
		n    int
	}{
		{"User", User(), 21},
		{"EnterpriseUser", EnterpriseUser(), 6},
		{"Group", Group(), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := roundTrip(t, tt.s.JSONAt("https://h/"))
			meta := map[string]any{"resourceType": "Schema", "location": "https://h/Schemas/" + tt.s.ID}
			if diff := cmp.Diff([]any{tt.s.ID, meta, tt.n}, []any{got["id"], got["meta"], len(got["attributes"].([]any))}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzNormalize checks that Normalize fails only with a 400 *scim.Error
// and that its result is already normal.
func FuzzNormalize(f *testing.F) {
	f.Add(`{"userName":"a","emails":[{"value":"x","primary":"True"}]}`)
	f.Add(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":"x"}}`)
	f.Add(`{"name.givenName":"x","userName":"y","members":["a"],"displayName":"z"}`)
	f.Fuzz(func(t *testing.T, s string) {
		var r scim.Resource
		if json.Unmarshal([]byte(s), &r) != nil {
			return
		}
		for _, rt := range []*ResourceType{UserType(), GroupType()} {
			got, err := rt.Normalize(r)
			if err != nil {
				var se *scim.Error
				if !errors.As(err, &se) || se.Status != 400 {
					t.Fatalf("error %v is not a 400 *scim.Error", err)
				}
				continue
			}
			again, err := rt.Normalize(got)
			if err != nil {
				t.Fatalf("normalised %v does not normalise again: %v", got, err)
			}
			if diff := cmp.Diff(got, again); diff != "" {
				t.Fatalf("Normalize is not idempotent (-once +twice):\n%s", diff)
			}
		}
	})
}
