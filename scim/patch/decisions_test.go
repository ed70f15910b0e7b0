package patch

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/schema"
)

// TestDecisions proves each PATCH decision idpkit documents (README, "SCIM
// decisions"), one row per rule.
func TestDecisions(t *testing.T) {
	ent := "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	entSchemas := `"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","` + ent + `"]`
	run(t, []patchCase{
		// op is matched case-insensitively
		{name: "op ADD", base: userJSON, ops: `[{"op":"ADD","path":"title","value":"T"}]`, want: `{"title":"T"}`},
		{name: "op rEpLaCe", base: userJSON, ops: `[{"op":"rEpLaCe","path":"title","value":"T"}]`, want: `{"title":"T"}`},
		{name: "op Remove", base: userJSON, ops: `[{"op":"Remove","path":"name.familyName"}]`, want: `{"name":{"givenName":"Alice"}}`},
		{name: "op with spaces", base: userJSON, ops: `[{"op":" replace ","path":"title","value":"T"}]`, want: `{"title":"T"}`},
		{name: "op unknown", base: userJSON, ops: `[{"op":"upsert","path":"title","value":"T"}]`, errType: scim.TypeInvalidSyntax},
		{name: "op missing", base: userJSON, ops: `[{"path":"title","value":"T"}]`, errType: scim.TypeInvalidSyntax},

		// "True"/"False" strings for boolean attributes only
		{name: "bool false string", base: userJSON, ops: `[{"op":"replace","path":"active","value":"false"}]`, want: `{"active":false}`},
		{name: "bool mixed case", base: userJSON, ops: `[{"op":"replace","path":"active","value":"fAlSe"}]`, want: `{"active":false}`},
		{name: "bool Entra path-less", base: userJSON, ops: `[{"op":"Replace","value":{"active":"False"}}]`, want: `{"active":false}`},
		{name: "bool primary string", base: userJSON,
			ops:  `[{"op":"replace","path":"emails[type eq \"work\"].primary","value":"False"}]`,
			want: `{"emails":[{"value":"alice@example.com","type":"work","primary":false}]}`},
		{name: "bool yes refused", base: userJSON, ops: `[{"op":"replace","path":"active","value":"yes"}]`, errType: scim.TypeInvalidValue},
		{name: "bool number refused", base: userJSON, ops: `[{"op":"replace","path":"active","value":0}]`, errType: scim.TypeInvalidValue},
		{name: "string attribute keeps False", base: userJSON, ops: `[{"op":"replace","path":"nickName","value":"False"}]`, want: `{"nickName":"False"}`},
		{name: "string attribute refuses a boolean", base: userJSON, ops: `[{"op":"replace","path":"nickName","value":false}]`, errType: scim.TypeInvalidValue},

		// remove on members with a value list
		{name: "remove listed members only", base: groupJSON,
			ops: `[{"op":"remove","path":"members","value":[{"value":"a"},{"value":"c"}]}]`, want: `{"members":[{"value":"b","display":"Bob"}]}`},
		{name: "remove listed members with $ref null", base: groupJSON,
			ops: `[{"op":"Remove","path":"members","value":[{"value":"a","$ref":null}]}]`, want: `{"members":[{"value":"b","display":"Bob"},{"value":"c"}]}`},
		{name: "remove unknown members changes nothing", base: groupJSON,
			ops: `[{"op":"remove","path":"members","value":[{"value":"zz","$ref":null}]}]`, want: `{}`},
		{name: "remove with only $ref null never empties", base: groupJSON,
			ops: `[{"op":"remove","path":"members","value":[{"$ref":null}]}]`, want: `{}`},
		{name: "remove with an empty list never empties", base: groupJSON,
			ops: `[{"op":"remove","path":"members","value":[]}]`, want: `{}`},
		{name: "remove with one object", base: groupJSON,
			ops: `[{"op":"remove","path":"members","value":{"value":"b"}}]`, want: `{"members":[{"value":"a"},{"value":"c"}]}`},
		{name: "remove with bare ids", base: groupJSON,
			ops: `[{"op":"remove","path":"members","value":["a","b"]}]`, want: `{"members":[{"value":"c"}]}`},
		{name: "remove member ids are caseExact", base: groupJSON,
			ops: `[{"op":"remove","path":"members","value":["A"]}]`, want: `{}`},

		// members as objects, with $ref null, or bare strings
		{name: "add members objects with $ref null", base: groupJSON,
			ops:  `[{"op":"add","path":"members","value":[{"value":"d","$ref":null},{"value":"e","display":"Eve"}]}]`,
			want: `{"members":[{"value":"a"},{"value":"b","display":"Bob"},{"value":"c"},{"value":"d"},{"value":"e","display":"Eve"}]}`},
		{name: "add members bare strings", base: groupJSON,
			ops:  `[{"op":"add","path":"members","value":["d","e"]}]`,
			want: `{"members":[{"value":"a"},{"value":"b","display":"Bob"},{"value":"c"},{"value":"d"},{"value":"e"}]}`},
		{name: "add one member object", base: groupJSON,
			ops:  `[{"op":"add","path":"members","value":{"value":"d"}}]`,
			want: `{"members":[{"value":"a"},{"value":"b","display":"Bob"},{"value":"c"},{"value":"d"}]}`},
		{name: "member type canonical case", base: groupJSON,
			ops:  `[{"op":"add","path":"members","value":[{"value":"d","type":"user"}]}]`,
			want: `{"members":[{"value":"a"},{"value":"b","display":"Bob"},{"value":"c"},{"value":"d","type":"User"}]}`},
		{name: "member type outside canonical values", base: groupJSON,
			ops: `[{"op":"add","path":"members","value":[{"value":"d","type":"Robot"}]}]`, errType: scim.TypeInvalidValue},
		{name: "member without value", base: groupJSON,
			ops: `[{"op":"add","path":"members","value":[{"display":"nobody"}]}]`, errType: scim.TypeInvalidValue},
		{name: "add through a member filter supplies the value", base: groupJSON,
			ops:  `[{"op":"add","path":"members[value eq \"d\"]","value":{"display":"Dee"}}]`,
			want: `{"members":[{"value":"a"},{"value":"b","display":"Bob"},{"value":"c"},{"value":"d","display":"Dee"}]}`},
		{name: "Okta group push: remove then add", base: groupJSON,
			ops:  `[{"op":"remove","path":"members[value eq \"a\"]"},{"op":"add","path":"members","value":[{"value":"a","display":"ann@example.com"}]}]`,
			want: `{"members":[{"value":"b","display":"Bob"},{"value":"c"},{"value":"a","display":"ann@example.com"}]}`},
		{name: "Okta full push replace", base: groupJSON,
			ops: `[{"op":"replace","path":"members","value":[{"value":"x","display":"x@example.com"}]}]`, want: `{"members":[{"value":"x","display":"x@example.com"}]}`},

		// value paths
		{name: "add value path creates the value", base: userJSON,
			ops:  `[{"op":"add","path":"emails[type eq \"home\"].value","value":"x"}]`,
			want: `{"emails":[{"value":"alice@example.com","type":"work","primary":true},{"type":"home","value":"x"}]}`},
		{name: "add value path type in other case is stored canonical", base: userJSON,
			ops:  `[{"op":"add","path":"emails[type eq \"HOME\"].value","value":"x"}]`,
			want: `{"emails":[{"value":"alice@example.com","type":"work","primary":true},{"type":"home","value":"x"}]}`},
		{name: "add value path non-canonical type", base: userJSON,
			ops: `[{"op":"add","path":"emails[type eq \"private\"].value","value":"x"}]`, errType: scim.TypeInvalidValue},
		{name: "add value path that matches sets the sub-attribute", base: userJSON,
			ops:  `[{"op":"add","path":"emails[type eq \"work\"].display","value":"Work"}]`,
			want: `{"emails":[{"value":"alice@example.com","type":"work","primary":true,"display":"Work"}]}`},
		{name: "replace value path matching nothing", base: userJSON,
			ops: `[{"op":"replace","path":"emails[type eq \"home\"].value","value":"x"}]`, errType: scim.TypeNoTarget},
		{name: "replace whole value path matching nothing", base: userJSON,
			ops: `[{"op":"replace","path":"emails[type eq \"home\"]","value":{"value":"x","type":"home"}}]`, errType: scim.TypeNoTarget},
		{name: "replace value path on an absent attribute", base: userJSON,
			ops: `[{"op":"replace","path":"phoneNumbers[type eq \"work\"].value","value":"1"}]`, errType: scim.TypeNoTarget},
		{name: "Entra phone types", base: userJSON,
			ops: `[{"op":"Add","path":"phoneNumbers[type eq \"work\"].value","value":"1"},
			       {"op":"Add","path":"phoneNumbers[type eq \"mobile\"].value","value":"2"},
			       {"op":"Add","path":"phoneNumbers[type eq \"fax\"].value","value":"3"},
			       {"op":"Add","path":"addresses[type eq \"work\"].locality","value":"Oslo"}]`,
			want: `{"phoneNumbers":[{"type":"work","value":"1"},{"type":"mobile","value":"2"},{"type":"fax","value":"3"}],"addresses":[{"type":"work","locality":"Oslo"}]}`},
		{name: "remove value path without sub-attribute", base: userJSON,
			ops: `[{"op":"remove","path":"emails[type eq \"work\"]"}]`, want: `{"emails":null}`},
		{name: "value path with an unparseable filter", base: userJSON,
			ops: `[{"op":"remove","path":"emails[type eq \"work\""}]`, errType: scim.TypeInvalidPath},
		{name: "value path on a simple attribute", base: userJSON,
			ops: `[{"op":"remove","path":"title[value eq \"x\"]"}]`, errType: scim.TypeInvalidPath},
		{name: "value path unknown sub-attribute after it", base: userJSON,
			ops: `[{"op":"replace","path":"emails[type eq \"work\"].nope","value":"x"}]`, errType: scim.TypeInvalidPath},

		// primary kept unique
		{name: "new primary resets the others", base: userJSON,
			ops:  `[{"op":"add","path":"emails","value":[{"value":"b@x","type":"home","primary":true}]}]`,
			want: `{"emails":[{"value":"alice@example.com","type":"work","primary":false},{"value":"b@x","type":"home","primary":true}]}`},
		{name: "two primaries in one add", base: userJSON,
			ops: `[{"op":"add","path":"emails","value":[{"value":"b@x","primary":true},{"value":"c@x","primary":"True"}]}]`, errType: scim.TypeInvalidValue},
		{name: "two primaries in one replace", base: userJSON,
			ops: `[{"op":"replace","path":"emails","value":[{"value":"b@x","primary":true},{"value":"c@x","primary":true}]}]`, errType: scim.TypeInvalidValue},
		{name: "two primaries path-less", base: userJSON,
			ops: `[{"op":"replace","value":{"emails":[{"value":"b@x","primary":true},{"value":"c@x","primary":true}]}}]`, errType: scim.TypeInvalidValue},
		{name: "primary through a filter matching two", base: userJSON,
			ops: `[{"op":"add","path":"emails","value":[{"value":"b@x","type":"work"}]},
			       {"op":"replace","path":"emails[type eq \"work\"].primary","value":true}]`, errType: scim.TypeInvalidValue},
		{name: "primary through a filter resets the others", base: userJSON,
			ops: `[{"op":"add","path":"phoneNumbers","value":[{"value":"1","type":"work","primary":true},{"value":"2","type":"mobile"}]},
			       {"op":"replace","path":"phoneNumbers[type eq \"mobile\"].primary","value":true}]`,
			want: `{"phoneNumbers":[{"value":"1","type":"work","primary":false},{"value":"2","type":"mobile","primary":true}]}`},

		// path-less values
		{name: "Entra path-less dotted and URN keys", base: userJSON,
			ops:  `[{"op":"Replace","value":{"displayName":"Al Ex","name.givenName":"Al","` + ent + `:employeeNumber":"701984"}}]`,
			want: `{` + entSchemas + `,"displayName":"Al Ex","name":{"givenName":"Al","familyName":"Example"},"` + ent + `":{"employeeNumber":"701984"}}`},
		{name: "path-less extension object", base: userJSON,
			ops:  `[{"op":"add","value":{"` + ent + `":{"manager":{"value":"m1"},"department":"R&D"}}}]`,
			want: `{` + entSchemas + `,"` + ent + `":{"manager":{"value":"m1"},"department":"R&D"}}`},
		{name: "path-less core URN object", base: userJSON,
			ops: `[{"op":"replace","value":{"urn:ietf:params:scim:schemas:core:2.0:User":{"title":"T"}}}]`, want: `{"title":"T"}`},
		{name: "path-less multi-valued needs an array", base: userJSON,
			ops: `[{"op":"add","value":{"emails":{"value":"b@x"}}}]`, errType: scim.TypeInvalidValue},
		{name: "path-less multi-valued scalar", base: userJSON,
			ops: `[{"op":"add","value":{"emails":"b@x"}}]`, errType: scim.TypeInvalidValue},
		{name: "path-less single-valued array", base: userJSON,
			ops: `[{"op":"replace","value":{"title":["a","b"]}}]`, errType: scim.TypeInvalidValue},

		// readOnly, immutable, required
		{name: "Okta rename repeats the id", base: groupJSON,
			ops: `[{"op":"replace","value":{"id":"g1","displayName":"Wiki"}}]`, want: `{"displayName":"Wiki"}`},
		{name: "rename with the id in another case", base: groupJSON,
			ops: `[{"op":"replace","value":{"id":"G1","displayName":"Wiki"}}]`, errType: scim.TypeMutability},
		{name: "rename with a number id", base: groupJSON,
			ops: `[{"op":"replace","value":{"id":1,"displayName":"Wiki"}}]`, errType: scim.TypeMutability},
		{name: "replace meta", base: userJSON, ops: `[{"op":"replace","path":"meta","value":{"version":"x"}}]`, errType: scim.TypeMutability},
		{name: "remove meta", base: userJSON, ops: `[{"op":"remove","path":"meta"}]`, errType: scim.TypeMutability},
		{name: "add groups on a user", base: userJSON, ops: `[{"op":"add","value":{"groups":[{"value":"g"}]}}]`, errType: scim.TypeMutability},
		{name: "readOnly sub-attribute", base: userJSON, ops: `[{"op":"add","path":"` + ent + `:manager.displayName","value":"x"}]`, errType: scim.TypeMutability},
		{name: "change a member value", base: groupJSON,
			ops: `[{"op":"replace","path":"members[value eq \"b\"]","value":{"value":"z"}}]`, errType: scim.TypeMutability},
		{name: "remove a member's value", base: groupJSON,
			ops: `[{"op":"remove","path":"members[value eq \"b\"].value"}]`, errType: scim.TypeMutability},
		{name: "remove userName", base: userJSON, ops: `[{"op":"remove","path":"userName"}]`, errType: scim.TypeMutability},
		{name: "path-less null userName", base: userJSON, ops: `[{"op":"replace","value":{"userName":null}}]`, errType: scim.TypeMutability},
		{name: "remove displayName of a group", base: groupJSON, ops: `[{"op":"Remove","path":"displayName"}]`, errType: scim.TypeMutability},

		// request shape
		{name: "empty Operations", base: userJSON, ops: `[]`, errType: scim.TypeInvalidSyntax},
		{name: "remove without path", base: groupJSON, ops: `[{"op":"remove","value":[{"value":"a"}]}]`, errType: scim.TypeNoTarget},
		{name: "add without path or value", base: userJSON, ops: `[{"op":"add"}]`, errType: scim.TypeInvalidValue},
		{name: "unknown attribute in a path", base: userJSON, ops: `[{"op":"replace","path":"shoeSize","value":"9"}]`, errType: scim.TypeInvalidPath},
		{name: "unknown extension in a path", base: userJSON, ops: `[{"op":"replace","path":"urn:example:x:2.0:User:a","value":"9"}]`, errType: scim.TypeInvalidPath},

		// order, all or nothing
		{name: "applied in order", base: userJSON,
			ops:  `[{"op":"add","path":"title","value":"A"},{"op":"replace","path":"title","value":"B"},{"op":"remove","path":"title"},{"op":"add","path":"title","value":"C"}]`,
			want: `{"title":"C"}`},
		{name: "later op sees the earlier one", base: userJSON,
			ops:  `[{"op":"add","path":"emails","value":[{"value":"h@x","type":"home"}]},{"op":"replace","path":"emails[type eq \"home\"].value","value":"h2@x"}]`,
			want: `{"emails":[{"value":"alice@example.com","type":"work","primary":true},{"value":"h2@x","type":"home"}]}`},
		{name: "all or nothing on the third op", base: groupJSON,
			ops:     `[{"op":"replace","path":"displayName","value":"X"},{"op":"add","path":"members","value":["z"]},{"op":"replace","path":"members[value eq \"nope\"].display","value":"d"}]`,
			errType: scim.TypeNoTarget},
	})
}

// TestAddManyMembers is Okta's batch of 256 members in one add.
func TestAddManyMembers(t *testing.T) {
	var vals, want []string
	for i := range 256 {
		vals = append(vals, fmt.Sprintf(`{"value":"u%03d","display":"u%03d@example.com"}`, i, i))
		want = append(want, fmt.Sprintf("u%03d", i))
	}
	g := decode(t, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g","displayName":"G"}`)
	got, err := Apply(g, ops(t, `[{"op":"add","path":"members","value":[`+strings.Join(vals, ",")+`]}]`), schema.GroupType())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range got["members"].([]any) {
		ids = append(ids, m.(map[string]any)["value"].(string))
	}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestAddOnValuePathCreatesOnlyFromEq: add on a value path that matches
// nothing creates a value only when the filter says what it is (eq, or an
// and of eq); any other filter is noTarget.
func TestAddOnValuePathCreatesOnlyFromEq(t *testing.T) {
	run(t, []patchCase{
		{name: "co creates nothing", base: userJSON, ops: `[{"op":"add","path":"emails[value co \"zz\"].type","value":"work"}]`, errType: scim.TypeNoTarget},
		{name: "ne creates nothing", base: userJSON, ops: `[{"op":"add","path":"emails[type ne \"work\"].value","value":"x@x"}]`, errType: scim.TypeNoTarget},
		{name: "or creates nothing", base: userJSON, ops: `[{"op":"add","path":"emails[type eq \"home\" or type eq \"other\"].value","value":"x@x"}]`, errType: scim.TypeNoTarget},
		{name: "not creates nothing", base: userJSON, ops: `[{"op":"add","path":"emails[not (type eq \"work\")].value","value":"x@x"}]`, errType: scim.TypeNoTarget},
		{name: "pr creates nothing", base: userJSON, ops: `[{"op":"add","path":"emails[display pr].value","value":"x@x"}]`, errType: scim.TypeNoTarget},
		{name: "eq null creates nothing", base: userJSON, ops: `[{"op":"add","path":"emails[value eq null].display","value":"X"}]`, errType: scim.TypeNoTarget},
		{name: "and with co creates nothing", base: userJSON, ops: `[{"op":"add","path":"emails[type eq \"home\" and value co \"x\"].display","value":"H"}]`, errType: scim.TypeNoTarget},
		{name: "eq creates", base: userJSON, ops: `[{"op":"add","path":"emails[type eq \"home\"].value","value":"h@h"}]`,
			want: `{"emails":[{"value":"alice@example.com","type":"work","primary":true},{"type":"home","value":"h@h"}]}`},
		{name: "and of eq creates", base: userJSON, ops: `[{"op":"add","path":"emails[type eq \"home\" and value eq \"h@h\"].display","value":"H"}]`,
			want: `{"emails":[{"value":"alice@example.com","type":"work","primary":true},{"type":"home","value":"h@h","display":"H"}]}`},
		{name: "co matching something updates", base: userJSON, ops: `[{"op":"add","path":"emails[value co \"alice\"].display","value":"A"}]`,
			want: `{"emails":[{"value":"alice@example.com","type":"work","primary":true,"display":"A"}]}`},
	})
}
