package mgmt

import (
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// oidcApp creates an OIDC web app as the App Integration Wizard's API
// does, without assignments.
func (e *env) oidcApp(label string) string {
	e.t.Helper()
	r := e.do("POST", "/api/v1/apps", map[string]any{
		"name": "oidc_client", "label": label, "signOnMode": "OPENID_CONNECT",
		"settings": map[string]any{"oauthClient": map[string]any{"redirect_uris": []string{"http://127.0.0.1:8080/cb"}}},
	})
	if r.status != 200 {
		e.t.Fatalf("create app: %d %s", r.status, r.body)
	}
	return r.obj(e.t)["id"].(string)
}

func (e *env) appUserIDs(app string) []string {
	e.t.Helper()
	var aus []map[string]any
	e.do("GET", "/api/v1/apps/"+app+"/users", nil).json(e.t, &aus)
	ids := []string{}
	for _, au := range aus {
		ids = append(ids, au["id"].(string)+" "+au["scope"].(string))
	}
	return ids
}

func TestEveryoneGroup(t *testing.T) {
	e := newEnv(t, Config{})
	alice := e.createUser("alice@example.com")

	var groups []map[string]any
	e.do("GET", "/api/v1/groups?filter="+url.QueryEscape(`type eq "BUILT_IN"`), nil).json(t, &groups)
	if len(groups) != 1 {
		t.Fatalf("BUILT_IN groups: %v", groups)
	}
	everyone := groups[0]
	id := everyone["id"].(string)
	if diff := cmp.Diff(map[string]any{"name": "Everyone", "description": "All users in your organization"}, everyone["profile"]); diff != "" || everyone["type"] != "BUILT_IN" {
		t.Errorf("Everyone (type %v) profile (-want +got):\n%s", everyone["type"], diff)
	}

	app := e.oidcApp("web")
	if got := e.appUserIDs(app); len(got) != 0 {
		t.Errorf("a new OIDC app has app users %v, want none (Okta assigns nobody)", got)
	}
	if r := e.do("PUT", "/api/v1/apps/"+app+"/groups/"+id, map[string]any{}); r.status != 200 {
		t.Fatalf("assign Everyone: %d %s", r.status, r.body)
	}
	bob := e.createUser("bob@example.com") // joins the app through Everyone
	if diff := cmp.Diff([]string{alice + " GROUP", bob + " GROUP"}, e.appUserIDs(app)); diff != "" {
		t.Errorf("app users (-want +got):\n%s", diff)
	}
	var members []map[string]any
	e.do("GET", "/api/v1/groups/"+id+"/users", nil).json(t, &members)
	if len(members) != 2 {
		t.Errorf("Everyone has %d members, want 2", len(members))
	}

	stub := newSCIMStub(t)
	scim := e.scimApp(stub, true, true, true)
	for _, tc := range []struct {
		name, method, path string
		body               any
	}{
		{"rename", "PUT", "/api/v1/groups/" + id, map[string]any{"profile": map[string]any{"name": "All"}}},
		{"delete", "DELETE", "/api/v1/groups/" + id, nil},
		{"remove a member", "DELETE", "/api/v1/groups/" + id + "/users/" + alice, nil},
		{"assign to a SCIM app", "PUT", "/api/v1/apps/" + scim + "/groups/" + id, map[string]any{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.method, tc.path, tc.body)
			if r.status != 400 || errorShape(t, r)["errorCode"] != "E0000001" {
				t.Errorf("%d %s, want 400 E0000001", r.status, r.body)
			}
		})
	}
	if calls := stub.Calls(); len(calls) != 0 {
		t.Errorf("the SCIM app got %v", calls)
	}
	if r := e.do("DELETE", "/api/v1/apps/"+app+"/groups/"+id, nil); r.status != 204 {
		t.Fatalf("unassign Everyone: %d %s", r.status, r.body)
	}
	if got := e.appUserIDs(app); len(got) != 0 {
		t.Errorf("after unassigning Everyone the app has users %v", got)
	}
}
