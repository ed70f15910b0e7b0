package patch

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/schema"
)

const userJSON = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
  "id": "u1",
  "userName": "alice@example.com",
  "name": {"givenName": "Alice", "familyName": "Example"},
  "active": true,
  "emails": [{"value": "alice@example.com", "type": "work", "primary": true}],
  "meta": {"resourceType": "User", "created": "2026-01-01T00:00:00Z", "lastModified": "2026-01-01T00:00:00Z"}
}`

const groupJSON = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
  "id": "g1",
  "displayName": "Engineering",
  "members": [{"value": "a"}, {"value": "b", "display": "Bob"}, {"value": "c"}],
  "meta": {"resourceType": "Group"}
}`

// decode decodes a JSON object.
func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("%v in %s", err, s)
	}
	return m
}

// with returns the base resource with the top-level keys of changes set
// (a null deletes the key).
func with(t *testing.T, base, changes string) map[string]any {
	m := decode(t, base)
	for k, v := range decode(t, changes) {
		if v == nil {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	return m
}

// ops decodes a JSON array of PATCH operations.
func ops(t *testing.T, s string) []scim.PatchOperation {
	t.Helper()
	var o []scim.PatchOperation
	if err := json.Unmarshal([]byte(s), &o); err != nil {
		t.Fatal(err)
	}
	return o
}

// typeOf is the resource type of base, userJSON or groupJSON.
func typeOf(base string) *schema.ResourceType {
	if base == groupJSON {
		return schema.GroupType()
	}
	return schema.UserType()
}

// applyError applies ops to base, which must fail with a *scim.Error,
// and returns that error.
func applyError(t *testing.T, base, opsJSON string) *scim.Error {
	t.Helper()
	_, err := Apply(decode(t, base), ops(t, opsJSON), typeOf(base))
	var se *scim.Error
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want *scim.Error", err)
	}
	return se
}

// patchCase is a row of a run table.
type patchCase struct {
	name    string
	base    string // userJSON or groupJSON
	ops     string
	want    string // changes to base as a JSON object; ignored when errType is set
	errType string
}

// run applies each case, checking that the input is left as it was and
// that an error leaves no result.
func run(t *testing.T, tests []patchCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := decode(t, tt.base)
			got, err := Apply(in, ops(t, tt.ops), typeOf(tt.base))
			if diff := cmp.Diff(decode(t, tt.base), in); diff != "" {
				t.Errorf("input modified (-before +after):\n%s", diff)
			}
			if tt.errType != "" {
				var se *scim.Error
				if !errors.As(err, &se) || se.ScimType != tt.errType || se.Status != 400 {
					t.Fatalf("err = %v, want 400 %s", err, tt.errType)
				}
				if got != nil {
					t.Errorf("result = %v on error, want nil", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(with(t, tt.base, tt.want), got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestOktaAndEntraShapes(t *testing.T) {
	run(t, []patchCase{
		{name: "S01 path-less replace active", base: userJSON,
			ops: `[{"op":"replace","value":{"active":false}}]`, want: `{"active":false}`},
		{name: "S02 group rename repeating the id", base: groupJSON,
			ops: `[{"op":"replace","value":{"id":"g1","displayName":"Engineering EU"}}]`, want: `{"displayName":"Engineering EU"}`},
		{name: "S02 rename with another id", base: groupJSON,
			ops: `[{"op":"replace","value":{"id":"g2","displayName":"x"}}]`, errType: scim.TypeMutability},
		{name: "S06 Replace displayName", base: userJSON,
			ops: `[{"op":"Replace","path":"displayName","value":"Dave Example"}]`, want: `{"displayName":"Dave Example"}`},
		{name: "S06 Add title", base: userJSON,
			ops: `[{"op":"Add","path":"title","value":"Engineer"}]`, want: `{"title":"Engineer"}`},
		{name: "S06 Remove title", base: userJSON,
			ops: `[{"op":"Add","path":"title","value":"Engineer"},{"op":"Remove","path":"title"}]`, want: `{}`},
		{name: "S07 string False", base: userJSON,
			ops: `[{"op":"Replace","path":"active","value":"False"}]`, want: `{"active":false}`},
		{name: "S07 string TRUE path-less", base: userJSON,
			ops: `[{"op":"replace","value":{"active":"TRUE"}}]`, want: `{"active":true}`},
		{name: "S07 nope", base: userJSON,
			ops: `[{"op":"replace","path":"active","value":"nope"}]`, errType: scim.TypeInvalidValue},
		{name: "S07 string for a string attribute stays", base: userJSON,
			ops: `[{"op":"replace","path":"title","value":"True"}]`, want: `{"title":"True"}`},
		{name: "S08 remove members with a value list", base: groupJSON,
			ops:  `[{"op":"Remove","path":"members","value":[{"value":"b"}]}]`,
			want: `{"members":[{"value":"a"},{"value":"c"}]}`},
		{name: "S08 remove members with $ref null", base: groupJSON,
			ops:  `[{"op":"Remove","path":"members","value":[{"value":"b","$ref":null},{"value":"zzz"}]}]`,
			want: `{"members":[{"value":"a"},{"value":"c"}]}`},
		{name: "S09 remove members value filter", base: groupJSON,
			ops: `[{"op":"remove","path":"members[value eq \"b\"]"}]`, want: `{"members":[{"value":"a"},{"value":"c"}]}`},
		{name: "S09 comma pseudo-filter", base: groupJSON,
			ops: `[{"op":"remove","path":"members[display eq x,value eq a]"}]`, errType: scim.TypeInvalidPath},
		{name: "add members", base: groupJSON,
			ops:  `[{"op":"add","path":"members","value":[{"value":"d","display":"x"}]}]`,
			want: `{"members":[{"value":"a"},{"value":"b","display":"Bob"},{"value":"c"},{"value":"d","display":"x"}]}`},
		{name: "add members as bare strings, de-duplicated", base: groupJSON,
			ops:  `[{"op":"add","path":"members","value":["a","d","d"]}]`,
			want: `{"members":[{"value":"a"},{"value":"b","display":"Bob"},{"value":"c"},{"value":"d"}]}`},
		{name: "add member already present merges display", base: groupJSON,
			ops:  `[{"op":"Add","path":"members","value":[{"value":"a","display":"Ann"}]}]`,
			want: `{"members":[{"value":"a","display":"Ann"},{"value":"b","display":"Bob"},{"value":"c"}]}`},
		{name: "path-less add members", base: groupJSON,
			ops:  `[{"op":"add","value":{"members":[{"value":"d"}]}}]`,
			want: `{"members":[{"value":"a"},{"value":"b","display":"Bob"},{"value":"c"},{"value":"d"}]}`},
		{name: "replace members", base: groupJSON,
			ops: `[{"op":"replace","path":"members","value":[{"value":"z"}]}]`, want: `{"members":[{"value":"z"}]}`},
		{name: "remove all members", base: groupJSON,
			ops: `[{"op":"remove","path":"members"}]`, want: `{"members":null}`},
		{name: "remove last listed members drops the attribute", base: groupJSON,
			ops: `[{"op":"remove","path":"members","value":["a","b","c"]}]`, want: `{"members":null}`},
		{name: "Entra manager", base: userJSON,
			ops:  `[{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"m1"}]`,
			want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"m1"}}}`},
		{name: "Entra work email by filter", base: userJSON,
			ops:  `[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@example.com"}]`,
			want: `{"emails":[{"value":"new@example.com","type":"work","primary":true}]}`},
		{name: "Entra add phone by filter creates it", base: userJSON,
			ops:  `[{"op":"Add","path":"phoneNumbers[type eq \"mobile\"].value","value":"+1 555"}]`,
			want: `{"phoneNumbers":[{"type":"mobile","value":"+1 555"}]}`},
	})
}

func TestRules(t *testing.T) {
	ent := "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	entSchemas := `"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","` + ent + `"]`
	run(t, []patchCase{
		{name: "no operations", base: userJSON, ops: `[]`, errType: scim.TypeInvalidSyntax},
		{name: "unknown op", base: userJSON, ops: `[{"op":"move","path":"title","value":"x"}]`, errType: scim.TypeInvalidSyntax},
		{name: "remove without path", base: userJSON, ops: `[{"op":"remove"}]`, errType: scim.TypeNoTarget},
		{name: "path-less value not an object", base: userJSON, ops: `[{"op":"replace","value":"x"}]`, errType: scim.TypeInvalidValue},
		{name: "add without value", base: userJSON, ops: `[{"op":"add","path":"title"}]`, errType: scim.TypeInvalidValue},
		{name: "bad path", base: userJSON, ops: `[{"op":"add","path":"name..x","value":"x"}]`, errType: scim.TypeInvalidPath},
		{name: "unknown attribute with path", base: userJSON, ops: `[{"op":"add","path":"nope","value":"x"}]`, errType: scim.TypeInvalidPath},
		{name: "unknown sub-attribute in filter", base: userJSON, ops: `[{"op":"remove","path":"emails[nope eq \"x\"]"}]`, errType: scim.TypeInvalidPath},
		{name: "unknown attribute without path ignored", base: userJSON,
			ops: `[{"op":"replace","value":{"nope":1,"Title":"T","schemas":["x"]}}]`, want: `{"title":"T"}`},
		{name: "dotted and URN keys without path", base: userJSON,
			ops:  `[{"op":"replace","value":{"name.givenName":"Al","NAME.familyName":"Ex","` + ent + `:employeeNumber":"7"}}]`,
			want: `{` + entSchemas + `,"name":{"givenName":"Al","familyName":"Ex"},"` + ent + `":{"employeeNumber":"7"}}`},
		{name: "extension object without path", base: userJSON,
			ops:  `[{"op":"add","value":{"` + ent + `":{"Department":"R&D","bogus":1}}}]`,
			want: `{` + entSchemas + `,"` + ent + `":{"department":"R&D"}}`},
		{name: "extension URN as path", base: userJSON,
			ops:  `[{"op":"add","path":"` + ent + `","value":{"costCenter":"4130"}}]`,
			want: `{` + entSchemas + `,"` + ent + `":{"costCenter":"4130"}}`},
		{name: "remove an extension attribute drops the empty extension", base: userJSON,
			ops:  `[{"op":"add","path":"` + ent + `:costCenter","value":"1"},{"op":"remove","path":"` + ent + `:costCenter"}]`,
			want: `{}`},
		{name: "replace complex merges", base: userJSON,
			ops: `[{"op":"replace","path":"name","value":{"middleName":"M"}}]`, want: `{"name":{"givenName":"Alice","familyName":"Example","middleName":"M"}}`},
		{name: "sub-attribute", base: userJSON,
			ops: `[{"op":"replace","path":"Name.GivenName","value":"Al"}]`, want: `{"name":{"givenName":"Al","familyName":"Example"}}`},
		{name: "remove sub-attribute", base: userJSON,
			ops: `[{"op":"remove","path":"name.givenName"}]`, want: `{"name":{"familyName":"Example"}}`},
		{name: "canonical case for a key stored in another case", base: userJSON,
			ops: `[{"op":"replace","path":"USERNAME","value":"b@example.com"}]`, want: `{"userName":"b@example.com"}`},
		{name: "wrong type", base: userJSON, ops: `[{"op":"replace","path":"userName","value":5}]`, errType: scim.TypeInvalidValue},
		{name: "list for single-valued", base: userJSON, ops: `[{"op":"replace","path":"title","value":["a"]}]`, errType: scim.TypeInvalidValue},
		{name: "object for a string", base: userJSON, ops: `[{"op":"replace","path":"title","value":{"$bad":1}}]`, errType: scim.TypeInvalidValue},
		{name: "remove required", base: userJSON, ops: `[{"op":"remove","path":"userName"}]`, errType: scim.TypeMutability},
		{name: "empty required", base: groupJSON, ops: `[{"op":"replace","path":"displayName","value":""}]`, errType: scim.TypeMutability},
		{name: "replace id same", base: userJSON, ops: `[{"op":"replace","path":"id","value":"u1"}]`, want: `{}`},
		{name: "replace id other", base: userJSON, ops: `[{"op":"replace","path":"id","value":"u2"}]`, errType: scim.TypeMutability},
		{name: "remove id", base: userJSON, ops: `[{"op":"remove","path":"id"}]`, errType: scim.TypeMutability},
		{name: "write meta", base: userJSON, ops: `[{"op":"replace","path":"meta.created","value":"2020-01-01T00:00:00Z"}]`, errType: scim.TypeMutability},
		{name: "write meta path-less", base: userJSON, ops: `[{"op":"replace","value":{"meta":{"version":"x"}}}]`, errType: scim.TypeMutability},
		{name: "write groups", base: userJSON, ops: `[{"op":"add","path":"groups","value":[{"value":"g"}]}]`, errType: scim.TypeMutability},
		{name: "schemas ignored", base: userJSON, ops: `[{"op":"replace","path":"schemas","value":["x"]}]`, want: `{}`},
		{name: "immutable member value cannot change", base: groupJSON,
			ops: `[{"op":"replace","path":"members[value eq \"a\"].value","value":"z"}]`, errType: scim.TypeMutability},
		{name: "immutable member value may be written unchanged", base: groupJSON,
			ops:  `[{"op":"replace","path":"members[value eq \"a\"]","value":{"value":"a","display":"Ann"}}]`,
			want: `{"members":[{"value":"a","display":"Ann"},{"value":"b","display":"Bob"},{"value":"c"}]}`},
		{name: "replace on filter matching nothing", base: groupJSON,
			ops: `[{"op":"replace","path":"members[value eq \"zz\"].display","value":"x"}]`, errType: scim.TypeNoTarget},
		{name: "remove on filter matching nothing is a no-op", base: groupJSON,
			ops: `[{"op":"remove","path":"members[value eq \"zz\"]"}]`, want: `{}`},
		{name: "remove sub-attribute through filter", base: groupJSON,
			ops:  `[{"op":"remove","path":"members[value eq \"b\"].display"}]`,
			want: `{"members":[{"value":"a"},{"value":"b"},{"value":"c"}]}`},
		{name: "add email primary resets the others", base: userJSON,
			ops:  `[{"op":"add","path":"emails","value":[{"value":"h@example.com","type":"home","primary":"true"}]}]`,
			want: `{"emails":[{"value":"alice@example.com","type":"work","primary":false},{"value":"h@example.com","type":"home","primary":true}]}`},
		{name: "email de-duplicated case-insensitively", base: userJSON,
			ops:  `[{"op":"add","path":"emails","value":{"value":"ALICE@example.com","display":"A"}}]`,
			want: `{"emails":[{"value":"alice@example.com","type":"work","primary":true,"display":"A"}]}`},
		{name: "set primary through filter", base: userJSON,
			ops: `[{"op":"add","path":"emails","value":[{"value":"h@x","type":"home"}]},
			       {"op":"replace","path":"emails[type eq \"home\"].primary","value":true}]`,
			want: `{"emails":[{"value":"alice@example.com","type":"work","primary":false},{"value":"h@x","type":"home","primary":true}]}`},
		{name: "replace whole value through filter", base: userJSON,
			ops:  `[{"op":"replace","path":"emails[type eq \"work\"]","value":{"value":"w@x","type":"work"}}]`,
			want: `{"emails":[{"value":"w@x","type":"work"}]}`},
		{name: "add through filter creates the value", base: userJSON,
			ops:  `[{"op":"add","path":"addresses[type eq \"work\"]","value":{"locality":"Oslo"}}]`,
			want: `{"addresses":[{"type":"work","locality":"Oslo"}]}`},
		{name: "sub-attribute of every value", base: userJSON,
			ops: `[{"op":"replace","path":"emails.display","value":"D"}]`, want: `{"emails":[{"value":"alice@example.com","type":"work","primary":true,"display":"D"}]}`},
		{name: "path-less null removes", base: userJSON,
			ops: `[{"op":"replace","value":{"name":null}}]`, want: `{"name":null}`},
		{name: "all or nothing", base: userJSON,
			ops: `[{"op":"replace","path":"title","value":"T"},{"op":"replace","path":"active","value":"maybe"}]`, errType: scim.TypeInvalidValue},
		{name: "password is writable", base: userJSON,
			ops: `[{"op":"replace","path":"password","value":"s3cret"}]`, want: `{"password":"s3cret"}`},
	})
}

func TestApplyNilInput(t *testing.T) {
	got, err := Apply(nil, ops(t, `[{"op":"add","path":"userName","value":"a"}]`), schema.UserType())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"userName": "a", "schemas": []any{scim.SchemaUser}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := Apply(nil, ops(t, `[{"op":"add","path":"userName","value":"a"}]`), nil); err == nil {
		t.Error("nil resource type: no error")
	}
}
