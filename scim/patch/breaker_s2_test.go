package patch

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/schema"
)

// TestPathlessKeys: a key of a path-less value holding "[" is a PATCH path
// applied as if given as "path"; a key that is no path is invalidPath;
// unknown attributes are ignored, as POST and PUT ignore them.
func TestPathlessKeys(t *testing.T) {
	ent := "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	run(t, []patchCase{
		{name: "replace value-path key", base: userJSON,
			ops:  `[{"op":"replace","value":{"emails[type eq \"work\"].value":"e@w"}}]`,
			want: `{"emails":[{"value":"e@w","type":"work","primary":true}]}`},
		{name: "Add value-path key creates", base: userJSON,
			ops:  `[{"op":"Add","value":{"addresses[type eq \"work\"].locality":"Paris"}}]`,
			want: `{"addresses":[{"type":"work","locality":"Paris"}]}`},
		{name: "value-path key without sub-attribute", base: userJSON,
			ops:  `[{"op":"add","value":{"emails[type eq \"home\"]":{"value":"h@h"}}}]`,
			want: `{"emails":[{"value":"alice@example.com","type":"work","primary":true},{"type":"home","value":"h@h"}]}`},
		{name: "value-path key next to a plain key", base: userJSON,
			ops:  `[{"op":"replace","value":{"title":"T","emails[type eq \"work\"].display":"W"}}]`,
			want: `{"title":"T","emails":[{"value":"alice@example.com","type":"work","primary":true,"display":"W"}]}`},
		{name: "replace value-path key matching nothing", base: userJSON,
			ops: `[{"op":"replace","value":{"emails[type eq \"home\"].value":"x"}}]`, errType: scim.TypeNoTarget},
		{name: "value-path key on an unknown attribute", base: userJSON,
			ops: `[{"op":"add","value":{"nosuch[type eq \"x\"]":1}}]`, errType: scim.TypeInvalidPath},
		{name: "bad syntax key", base: userJSON, ops: `[{"op":"add","value":{"emails[bad syntax":5}}]`, errType: scim.TypeInvalidPath},
		{name: "key with a space", base: userJSON, ops: `[{"op":"add","value":{"my title":"x"}}]`, errType: scim.TypeInvalidPath},
		{name: "unknown attribute ignored", base: userJSON, ops: `[{"op":"replace","value":{"nosuch":"x"}}]`, want: `{}`},
		{name: "unknown sub-attribute ignored", base: userJSON, ops: `[{"op":"replace","value":{"name.nosuch":"x"}}]`, want: `{}`},
		{name: "unknown enterprise attribute ignored", base: userJSON, ops: `[{"op":"replace","value":{"` + ent + `:nosuch":"x"}}]`, want: `{}`},
		{name: "unknown extension attribute ignored", base: userJSON, ops: `[{"op":"replace","value":{"urn:example:custom:1.0:User:shoe":"42"}}]`, want: `{}`},
		{name: "unknown key in extension object ignored", base: userJSON, ops: `[{"op":"replace","value":{"` + ent + `":{"nosuch":"x"}}}]`, want: `{}`},
		{name: "known extension key still applies", base: userJSON, ops: `[{"op":"replace","value":{"` + ent + `:employeeNumber":"7"}}]`,
			want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","` + ent + `"],"` + ent + `":{"employeeNumber":"7"}}`},
	})
}

// TestPathlessKeyErrorNamesKey: the invalidPath error names the key.
func TestPathlessKeyErrorNamesKey(t *testing.T) {
	_, err := Apply(decode(t, userJSON), ops(t, `[{"op":"add","value":{"emails[bad syntax":5}}]`), schema.UserType())
	var se *scim.Error
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want *scim.Error", err)
	}
	for _, want := range []string{"operation 1 (add)", `"emails[bad syntax"`} {
		if !strings.Contains(se.Detail, want) {
			t.Errorf("detail %q does not mention %q", se.Detail, want)
		}
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

// TestRequiredErrorsNameTheOperation: removing, emptying or blanking a
// required attribute names the operation that did it.
func TestRequiredErrorsNameTheOperation(t *testing.T) {
	tests := []struct {
		name, base, ops, scimType, want string
	}{
		{"remove userName", userJSON, `[{"op":"add","path":"title","value":"T"},{"op":"remove","path":"userName"}]`,
			scim.TypeMutability, `operation 2 (remove): attribute "userName"`},
		{"empty displayName", groupJSON, `[{"op":"Replace","path":"displayName","value":""}]`,
			scim.TypeMutability, `operation 1 (Replace): attribute "displayName"`},
		{"path-less null userName", userJSON, `[{"op":"replace","value":{"userName":null}},{"op":"add","path":"title","value":"T"}]`,
			scim.TypeMutability, `operation 1 (replace): attribute "userName"`},
		{"blank userName", userJSON, `[{"op":"replace","path":"userName","value":"   "}]`,
			scim.TypeInvalidValue, `operation 1 (replace): attribute "userName"`},
		{"last of two removes", userJSON, `[{"op":"remove","path":"userName"},{"op":"add","path":"userName","value":"b"},{"op":"remove","path":"userName"}]`,
			scim.TypeMutability, `operation 3 (remove): attribute "userName"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := schema.UserType()
			if tt.base == groupJSON {
				rt = schema.GroupType()
			}
			_, err := Apply(decode(t, tt.base), ops(t, tt.ops), rt)
			var se *scim.Error
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want *scim.Error", err)
			}
			if diff := cmp.Diff(tt.scimType, se.ScimType); diff != "" {
				t.Errorf("scimType (-want +got):\n%s", diff)
			}
			if !strings.Contains(se.Detail, tt.want) {
				t.Errorf("detail %q does not contain %q", se.Detail, tt.want)
			}
		})
	}
	t.Run("remove then add back succeeds", func(t *testing.T) {
		got, err := Apply(decode(t, userJSON), ops(t, `[{"op":"remove","path":"userName"},{"op":"add","path":"userName","value":"b"}]`), schema.UserType())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff("b", got["userName"]); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}
