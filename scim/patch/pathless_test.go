package patch

import (
	"strings"
	"testing"

	"github.com/idpkit/idpkit/scim"
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
	se := applyError(t, userJSON, `[{"op":"add","value":{"emails[bad syntax":5}}]`)
	for _, want := range []string{"operation 1 (add)", `"emails[bad syntax"`} {
		if !strings.Contains(se.Detail, want) {
			t.Errorf("detail %q does not mention %q", se.Detail, want)
		}
	}
}
