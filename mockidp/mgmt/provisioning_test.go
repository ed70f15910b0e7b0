package mgmt

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/idpkit/idpkit/mockidp/directory"
)

// scimApp creates the SCIM app, its connection (Test API Credentials) and
// the three "To App" features, as the guide's admin does.
func (e *env) scimApp(stub *scimStub, create, update, deactivate bool) string {
	e.t.Helper()
	r := e.do("POST", "/api/v1/apps", map[string]any{"name": "scim2testapp", "label": "Q.wiki SCIM", "signOnMode": "AUTO_LOGIN", "settings": map[string]any{"app": map[string]any{"baseUrl": stub.URL()}}})
	if r.status != 200 {
		e.t.Fatalf("create app: %d %s", r.status, r.body)
	}
	id := r.obj(e.t)["id"].(string)
	if r := e.do("POST", "/api/v1/apps/"+id+"/connections/default?activate=false", map[string]any{"profile": map[string]any{"authScheme": "TOKEN", "token": "scim-secret"}}); r.status != 201 {
		e.t.Fatalf("connection: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/api/v1/apps/"+id+"/connections/default/lifecycle/activate", nil); r.status != 204 {
		e.t.Fatalf("test credentials: %d %s", r.status, r.body)
	}
	st := func(b bool) map[string]any {
		if b {
			return map[string]any{"status": "ENABLED"}
		}
		return map[string]any{"status": "DISABLED"}
	}
	if r := e.do("PUT", "/api/v1/apps/"+id+"/features/USER_PROVISIONING", map[string]any{
		"create": map[string]any{"lifecycleCreate": st(create)},
		"update": map[string]any{"profile": st(update), "lifecycleDeactivate": st(deactivate), "password": st(false)},
	}); r.status != 200 {
		e.t.Fatalf("features: %d %s", r.status, r.body)
	}
	stub.Calls()
	return id
}

func TestConnection(t *testing.T) {
	e := newEnv(t, Config{})
	stub := newSCIMStub(t)
	r := e.do("POST", "/api/v1/apps", map[string]any{"name": "scim2testapp", "label": "SCIM", "signOnMode": "AUTO_LOGIN", "settings": map[string]any{"app": map[string]any{"baseUrl": stub.URL()}}})
	id := r.obj(t)["id"].(string)

	r = e.do("POST", "/api/v1/apps/"+id+"/connections/default", map[string]any{"profile": map[string]any{"authScheme": "TOKEN", "token": "wrong"}})
	if r.status != 400 {
		t.Fatalf("wrong token: %d %s", r.status, r.body)
	}
	if sum := errorShape(t, r)["errorSummary"].(string); !strings.HasPrefix(sum, "Api validation failed: Error authenticating: the SCIM server answered 401 Unauthorized to GET /Users?startIndex=1&count=2") ||
		strings.Contains(sum, "provision:") || strings.Contains(sum, "client:") || strings.Contains(sum, "scim:") || strings.Count(sum, ". ") > 0 {
		t.Errorf("errorSummary %q: want one sentence saying what the SCIM server answered", sum)
	}
	if diff := cmp.Diff([]string{"GET /Users"}, stub.Calls()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if got := e.do("GET", "/api/v1/apps/"+id+"/connections/default", nil).obj(t)["status"]; got != "DISABLED" {
		t.Errorf("status after failure %v", got)
	}

	r = e.do("POST", "/api/v1/apps/"+id+"/connections/default", map[string]any{"profile": map[string]any{"authScheme": "TOKEN", "token": "scim-secret"}})
	if r.status != 201 {
		t.Fatalf("right token: %d %s", r.status, r.body)
	}
	got := r.obj(t)
	delete(got, "_links")
	if diff := cmp.Diff(map[string]any{"authScheme": "TOKEN", "status": "ENABLED", "baseUrl": stub.URL(), "profile": map[string]any{"authScheme": "TOKEN"}}, got); diff != "" {
		t.Errorf("connection (-want +got):\n%s", diff)
	}
	var feats []map[string]any
	e.do("GET", "/api/v1/apps/"+id+"/features", nil).json(t, &feats)
	if len(feats) != 1 || feats[0]["name"] != "USER_PROVISIONING" || feats[0]["status"] != "ENABLED" {
		t.Errorf("features %v", feats)
	}
}

func TestProvisioningOrder(t *testing.T) {
	e := newEnv(t, Config{})
	stub := newSCIMStub(t)
	app := e.scimApp(stub, true, true, true)
	alice := e.createUser("alice@example.com")
	bob := e.createUser("bob@example.com")
	carol := e.createUser("carol@example.com")
	dave := e.createUser("dave@example.com")
	g := e.createGroup("Engineering")
	for _, u := range []string{alice, bob, carol} {
		e.do("PUT", "/api/v1/groups/"+g+"/users/"+u, nil)
	}
	if c := stub.Calls(); len(c) != 0 {
		t.Fatalf("calls before any assignment: %v", c)
	}
	steps := []struct {
		name, method, path string
		body               any
		status             int
		want               []string
	}{
		{"assign group", "PUT", "/api/v1/apps/" + app + "/groups/" + g, nil, 200, []string{
			"GET /Users", "POST /Users", "GET /Users", "POST /Users", "GET /Users", "POST /Users", "POST /Groups", "PATCH /Groups/G4", "PATCH /Groups/G4",
		}},
		{"assign user", "POST", "/api/v1/apps/" + app + "/users", map[string]any{"id": dave, "scope": "USER", "credentials": map[string]any{"userName": "dave@example.com"}}, 200, []string{
			"GET /Users", "POST /Users",
		}},
		{"profile update", "POST", "/api/v1/users/" + alice, map[string]any{"profile": map[string]any{"lastName": "Changed"}}, 200, []string{
			"GET /Users/U1", "PUT /Users/U1",
		}},
		{"unassign user", "DELETE", "/api/v1/apps/" + app + "/users/" + dave, nil, 204, []string{"PATCH /Users/U5"}},
		{"unassign group member directly refused", "DELETE", "/api/v1/apps/" + app + "/users/" + bob, nil, 400, nil},
		{"remove member", "DELETE", "/api/v1/groups/" + g + "/users/" + bob, nil, 204, []string{"PATCH /Groups/G4", "PATCH /Groups/G4", "PATCH /Users/U2"}},
		{"add member", "PUT", "/api/v1/groups/" + g + "/users/" + dave, nil, 204, []string{"GET /Users", "PATCH /Users/U5", "PATCH /Groups/G4", "PATCH /Groups/G4"}},
		{"deactivate user", "POST", "/api/v1/users/" + carol + "/lifecycle/deactivate", nil, 200, []string{"PATCH /Users/U3"}},
		{"no push to a deactivated user", "POST", "/api/v1/users/" + carol, map[string]any{"profile": map[string]any{"title": "x"}}, 200, nil},
		{"reactivate user", "POST", "/api/v1/users/" + carol + "/lifecycle/activate", nil, 200, []string{"PATCH /Users/U3"}},
		{"suspend user", "POST", "/api/v1/users/" + carol + "/lifecycle/suspend", nil, 200, []string{"PATCH /Users/U3"}},
		{"unsuspend user", "POST", "/api/v1/users/" + carol + "/lifecycle/unsuspend", nil, 200, []string{"PATCH /Users/U3"}},
		{"rename group", "PUT", "/api/v1/groups/" + g, map[string]any{"profile": map[string]any{"name": "Eng"}}, 200, []string{"PATCH /Groups/G4"}},
		{"unassign group", "DELETE", "/api/v1/apps/" + app + "/groups/" + g, nil, 204, []string{"PATCH /Users/U1", "PATCH /Users/U3", "PATCH /Users/U5", "DELETE /Groups/G4"}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			r := e.do(s.method, s.path, s.body)
			if r.status != s.status {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if diff := cmp.Diff(s.want, stub.Calls()); diff != "" {
				t.Errorf("SCIM calls (-want +got):\n%s", diff)
			}
		})
	}
	if got := stub.users["U1"]["name"].(map[string]any)["familyName"]; got != "Changed" {
		t.Errorf("profile change did not reach the app: %v", got)
	}
	var logs []map[string]any
	e.do("GET", "/api/v1/logs?filter=eventType%20eq%20%22application.provision.user.push%22&limit=1000", nil).json(t, &logs)
	if len(logs) != 5 { // alice, bob, carol, dave, and dave again after his unassignment
		t.Errorf("push events %d, want 5", len(logs))
	}
	for _, l := range logs {
		if l["outcome"].(map[string]any)["result"] != "SUCCESS" || l["legacyEventType"] != "app.user_management.push_new_user" {
			t.Errorf("event %v", l)
		}
	}
}

func TestProvisioningFeatures(t *testing.T) {
	for _, tc := range []struct {
		name                       string
		create, update, deactivate bool
		want                       []string
	}{
		{"all off", false, false, false, nil},
		{"create only", true, false, false, []string{"GET /Users", "POST /Users"}},
		{"create and update", true, true, false, []string{"GET /Users", "POST /Users", "GET /Users/U1", "PUT /Users/U1"}},
		{"all on", true, true, true, []string{"GET /Users", "POST /Users", "GET /Users/U1", "PUT /Users/U1", "PATCH /Users/U1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Config{})
			stub := newSCIMStub(t)
			app := e.scimApp(stub, tc.create, tc.update, tc.deactivate)
			u := e.createUser("alice@example.com")
			e.do("POST", "/api/v1/apps/"+app+"/users", map[string]any{"id": u, "scope": "USER"})
			e.do("POST", "/api/v1/users/"+u, map[string]any{"profile": map[string]any{"title": "CTO"}})
			e.do("DELETE", "/api/v1/apps/"+app+"/users/"+u, nil)
			if diff := cmp.Diff(tc.want, stub.Calls()); diff != "" {
				t.Errorf("SCIM calls (-want +got):\n%s", diff)
			}
		})
	}
}

func TestProvisioningFailureIsLogged(t *testing.T) {
	e := newEnv(t, Config{})
	stub := newSCIMStub(t)
	app := e.scimApp(stub, true, true, true)
	stub.fail = true
	u := e.createUser("alice@example.com")
	r := e.do("POST", "/api/v1/apps/"+app+"/users", map[string]any{"id": u, "scope": "USER"})
	if r.status != 200 {
		t.Fatalf("a provisioning failure failed the call: %d %s", r.status, r.body)
	}
	au := r.obj(t)
	if au["syncState"] != directory.SyncError || au["externalId"] != nil || au["scope"] != "USER" {
		t.Errorf("app user %s", r.body)
	}
	var logs []map[string]any
	e.do("GET", "/api/v1/logs?filter=outcome.result%20eq%20%22FAILURE%22", nil).json(t, &logs)
	if len(logs) != 1 {
		t.Fatalf("failure events %v", logs)
	}
	l := logs[0]
	if l["eventType"] != "application.provision.user.push" || !strings.Contains(l["outcome"].(map[string]any)["reason"].(string), "500") {
		t.Errorf("event %v", l)
	}
	var targets []string
	for _, tg := range l["target"].([]any) {
		targets = append(targets, tg.(map[string]any)["type"].(string))
	}
	if diff := cmp.Diff([]string{"User", "AppInstance"}, targets); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
}

func TestAppAssignmentShapes(t *testing.T) {
	e := newEnv(t, Config{})
	stub := newSCIMStub(t)
	app := e.scimApp(stub, true, false, false)
	u := e.createUser("alice@example.com")
	g := e.createGroup("Eng")
	r := e.do("POST", "/api/v1/apps/"+app+"/users", map[string]any{"id": u, "scope": "USER", "credentials": map[string]any{"userName": "alice@example.com"}})
	got := r.obj(t)
	delete(got, "_links")
	stamp := "2024-03-21T09:00:00.000Z"
	if diff := cmp.Diff(map[string]any{
		"id": u, "externalId": "U1", "created": stamp, "lastUpdated": stamp, "scope": "USER", "status": "PROVISIONED",
		"statusChanged": stamp, "passwordChanged": nil, "syncState": "SYNCHRONIZED", "lastSync": stamp,
		"credentials": map[string]any{"userName": "alice@example.com"}, "profile": map[string]any{},
	}, got); diff != "" {
		t.Errorf("app user (-want +got):\n%s", diff)
	}
	r = e.do("PUT", "/api/v1/apps/"+app+"/groups/"+g, map[string]any{})
	got = r.obj(t)
	delete(got, "_links")
	if diff := cmp.Diff(map[string]any{"id": g, "lastUpdated": stamp, "priority": float64(0), "profile": map[string]any{}}, got); diff != "" {
		t.Errorf("app group (-want +got):\n%s", diff)
	}
	var list []map[string]any
	e.do("GET", "/api/v1/apps/"+app+"/groups", nil).json(t, &list)
	if len(list) != 1 {
		t.Errorf("app groups %v", list)
	}
	e.do("GET", "/api/v1/apps/"+app+"/users", nil).json(t, &list)
	if len(list) != 1 {
		t.Errorf("app users %v", list)
	}
}
