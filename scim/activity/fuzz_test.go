package activity

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/adminapi"
)

// allActions are every name Action, UserChange and GroupPatch return.
var allActions = map[string]bool{}

func init() {
	for _, a := range []string{
		ActionTestCredentials, ActionLookUpUser, ActionImportUsers, ActionListUsers, ActionSearchUsers, ActionCreateUser,
		ActionReadUser, ActionUpdateUser, ActionDeactivateUser, ActionReactivateUser, ActionDeleteUser,
		ActionLookUpGroup, ActionImportGroups, ActionListGroups, ActionSearchGroups, ActionCreateGroup, ActionReadGroup,
		ActionUpdateGroup, ActionUpdateGroupMembers, ActionRenameGroup, ActionDeleteGroup,
		ActionSearch, ActionBulk, ActionReadServiceProviderConfig, ActionReadResourceTypes, ActionReadSchemas,
		ActionUnsupported, ActionWrongSecret, ActionNoSecret,
	} {
		allActions[a] = true
	}
}

// FuzzActivity feeds arbitrary requests to Action, arbitrary PATCH
// operations (JSON) to GroupPatch, arbitrary query strings to RedactQuery
// and the results to a Log: nothing panics, every name is one of the
// Action constants, a secret parameter's value never survives RedactQuery,
// and the Log keeps at most its bound, newest first.
func FuzzActivity(f *testing.F) {
	f.Add("GET", "/Users", "startIndex=1&count=2", 200, []byte(`[]`))
	f.Add("GET", "/Users", `filter=userName%20eq%20%22a%22&access_token=abc`, 200, []byte(`[]`))
	f.Add("PATCH", "/Groups/g1", "", 204, []byte(`[{"op":"add","path":"members","value":[{"value":"u1"}]}]`))
	f.Add("PATCH", "/Groups/g1", "", 204, []byte(`[{"op":"replace","value":{"id":"g1","displayName":"x"}}]`))
	f.Add("PATCH", "/Groups/g1", "", 204, []byte(`[{"op":"replace","path":"urn:ietf:params:scim:schemas:core:2.0:Group:displayName","value":"x"}]`))
	f.Add("PATCH", "/Groups/g1", "", 204, []byte(`[{"op":"remove","path":"members[value eq \"u1\"]"}]`))
	f.Add("POST", "/Users/.search", "", 200, []byte(`[{"op":"x","path":"urn:","value":null}]`))
	f.Add("DELETE", "//Users//", "filter=password+eq+%22x%22&token", 401, []byte(`[{"value":"not an object"}]`))
	f.Add("GET", "/ServiceProviderConfig/x", "filter=%zz", 404, []byte(`[{"path":":"}]`))
	f.Fuzz(func(t *testing.T, method, path, rawQuery string, status int, opsJSON []byte) {
		q, _ := url.ParseQuery(rawQuery)
		if a := Action(method, path, q, status); !allActions[a] {
			t.Fatalf("Action(%q, %q, %q, %d) = %q, not an action name", method, path, rawQuery, status, a)
		}
		var ops []scim.PatchOperation
		if json.Unmarshal(opsJSON, &ops) == nil {
			if a := GroupPatch(ops); !allActions[a] {
				t.Fatalf("GroupPatch = %q, not an action name", a)
			}
		}
		red := RedactQuery(rawQuery)
		for _, p := range strings.Split(red, "&") {
			k, v, ok := strings.Cut(p, "=")
			name, err := url.QueryUnescape(k)
			if err != nil {
				name = k
			}
			if ok && sensitiveName(name) && v != Redacted {
				t.Fatalf("RedactQuery(%q) = %q keeps the value of %q", rawQuery, red, name)
			}
		}
		if strings.Count(red, "&") != strings.Count(rawQuery, "&") {
			t.Fatalf("RedactQuery(%q) = %q changed the parameters", rawQuery, red)
		}
		if RedactQuery(red) != red {
			t.Fatalf("RedactQuery is not idempotent: %q, then %q", red, RedactQuery(red))
		}
		if rf := RedactFilter(path); utf8.ValidString(path) && !utf8.ValidString(rf) {
			t.Fatalf("RedactFilter(%q) = %q is not UTF-8", path, rf)
		}
		l := New(3)
		for i := range 5 {
			l.Add("t", adminapi.Request{Method: method, Path: red, Status: status + i})
		}
		got := l.Recent("t", 10)
		if len(got) != 3 || got[0].Status != status+4 || got[2].Status != status+2 {
			t.Fatalf("Recent after 5 adds to a log of 3: %+v", got)
		}
	})
}
