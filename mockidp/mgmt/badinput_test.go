package mgmt

import (
	"testing"
)

// Malformed bodies on every write endpoint get an Okta error below 500.
func TestBadInputNeverFails500(t *testing.T) {
	e := newEnv(t, Config{})
	stub := newSCIMStub(t)
	app := e.scimApp(stub, true, true, true)
	u := e.createUser("alice@example.com")
	g := e.createGroup("Eng")
	paths := []struct{ method, path string }{
		{"POST", "/api/v1/users"},
		{"POST", "/api/v1/users/" + u},
		{"PUT", "/api/v1/users/" + u},
		{"POST", "/api/v1/groups"},
		{"PUT", "/api/v1/groups/" + g},
		{"POST", "/api/v1/apps"},
		{"POST", "/api/v1/apps/" + app + "/connections/default"},
		{"PUT", "/api/v1/apps/" + app + "/features/USER_PROVISIONING"},
		{"POST", "/api/v1/apps/" + app + "/users"},
		{"PUT", "/api/v1/apps/" + app + "/groups/" + g},
		{"GET", "/api/v1/logs?since=yesterday"},
		{"GET", "/api/v1/users?filter=%22"},
		{"GET", "/api/v1/users?search=a%20eq%20%22b"},
		{"GET", "/api/v1/groups?limit=-1"},
		{"POST", "/api/v1/users/" + u + "/lifecycle/explode"},
		{"PUT", "/api/v1/apps/" + app + "/features/GROUP_PUSH"},
	}
	bodies := []string{"{", "[]", "null", "7", `"x"`, `{"profile":[]}`, `{"profile":{"login":null,"email":[1]}}`, `{"credentials":{"password":{"value":7}}}`,
		`{"name":"oidc_client","settings":{"oauthClient":{"redirect_uris":"x"}}}`, `{"name":"scim2testapp","label":"x","settings":{"app":{"baseUrl":"::"}}}`,
		`{"profile":{"authScheme":"OAUTH2"}}`, `{"create":{"lifecycleCreate":{"status":"MAYBE"}}}`, `{"id":"00uNOPE"}`, `{"capabilities":5}`}
	for _, p := range paths {
		for _, b := range bodies {
			r := e.do(p.method, p.path, b)
			if r.status >= 500 || r.status < 400 && r.status != 200 && r.status != 201 && r.status != 204 {
				t.Errorf("%s %s %s: %d %s", p.method, p.path, b, r.status, r.body)
			}
			if r.status >= 400 {
				m := r.obj(t)
				if m["errorCode"] == nil || m["errorSummary"] == nil {
					t.Errorf("%s %s %s: not an Okta error: %s", p.method, p.path, b, r.body)
				}
			}
		}
	}
}
