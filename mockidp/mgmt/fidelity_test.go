package mgmt

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// events returns "eventType RESULT" for each System Log event of the given types.
func (e *env) events(types ...string) []string {
	e.t.Helper()
	var logs []map[string]any
	e.do("GET", "/api/v1/logs?limit=1000", nil).json(e.t, &logs)
	var out []string
	for _, l := range logs {
		for _, ty := range types {
			if l["eventType"] == ty {
				out = append(out, fmt.Sprint(ty, " ", l["outcome"].(map[string]any)["result"]))
			}
		}
	}
	return out
}

func TestSaveToAppSettingsReadsGroups(t *testing.T) {
	features := map[string]any{"create": map[string]any{"lifecycleCreate": map[string]any{"status": "ENABLED"}}}
	tests := []struct {
		name       string
		activate   bool // connection saved with activate=true (Test API Credentials)
		failGroups bool
		want       []string
		wantEvents []string
	}{
		{
			name:     "enabled connection: Save reads the groups",
			activate: true,
			want:     []string{"GET /Users?startIndex=1&count=2", "GET /Groups?startIndex=1&count=100"},
			wantEvents: []string{
				"application.provision.connection.test SUCCESS", "application.provision.group.list SUCCESS",
			},
		},
		{
			name:     "connection not enabled: nothing is sent",
			activate: false,
		},
		{
			name:       "a failing group list is logged, the save still succeeds",
			activate:   true,
			failGroups: true,
			want:       []string{"GET /Users?startIndex=1&count=2", "GET /Groups?startIndex=1&count=100"},
			wantEvents: []string{
				"application.provision.connection.test SUCCESS", "application.provision.group.list FAILURE",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Config{})
			stub := newSCIMStub(t)
			stub.fail = tt.failGroups
			r := e.do("POST", "/api/v1/apps", map[string]any{"name": "scim2testapp", "label": "SCIM", "signOnMode": "AUTO_LOGIN", "settings": map[string]any{"app": map[string]any{"baseUrl": stub.URL()}}})
			id := r.obj(t)["id"].(string)
			if r := e.do("POST", fmt.Sprintf("/api/v1/apps/%s/connections/default?activate=%t", id, tt.activate), map[string]any{"profile": map[string]any{"authScheme": "TOKEN", "token": "scim-secret"}}); r.status != 201 {
				t.Fatalf("connection: %d %s", r.status, r.body)
			}
			if r := e.do("PUT", "/api/v1/apps/"+id+"/features/USER_PROVISIONING", features); r.status != 200 {
				t.Fatalf("features: %d %s", r.status, r.body)
			}
			if diff := cmp.Diff(tt.want, stub.RawCalls()); diff != "" {
				t.Errorf("SCIM requests (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantEvents, e.events("application.provision.connection.test", "application.provision.group.list")); diff != "" {
				t.Errorf("System Log (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLifecycleReachesApp follows one assigned user through Okta's
// lifecycle: deactivation and suspension set active false in the app,
// activation and unsuspension set it back with the id Okta kept, and no
// transition looks the user up again or creates it anew.
func TestLifecycleReachesApp(t *testing.T) {
	e := newEnv(t, Config{})
	stub := newSCIMStub(t)
	app := e.scimApp(stub, true, true, true)
	u := e.createUser("alice@example.com")
	if r := e.do("POST", "/api/v1/apps/"+app+"/users", map[string]any{"id": u, "scope": "USER"}); r.status != 200 {
		t.Fatalf("assign: %d %s", r.status, r.body)
	}
	stub.Calls()
	steps := []struct {
		op         string
		want       []string
		wantActive any
		wantStatus string // the app user's status in Okta
	}{
		{"deactivate", []string{"PATCH /Users/U1"}, false, "INACTIVE"},
		{"activate", []string{"PATCH /Users/U1"}, true, "PROVISIONED"},
		{"suspend", []string{"PATCH /Users/U1"}, false, "INACTIVE"},
		{"unsuspend", []string{"PATCH /Users/U1"}, true, "PROVISIONED"},
		{"suspend", []string{"PATCH /Users/U1"}, false, "INACTIVE"},
		{"deactivate", nil, false, "INACTIVE"}, // already inactive in the app
		{"activate", []string{"PATCH /Users/U1"}, true, "PROVISIONED"},
	}
	for i, s := range steps {
		t.Run(fmt.Sprint(i, " ", s.op), func(t *testing.T) {
			if r := e.do("POST", "/api/v1/users/"+u+"/lifecycle/"+s.op, nil); r.status != 200 {
				t.Fatalf("%s: %d %s", s.op, r.status, r.body)
			}
			if diff := cmp.Diff(s.want, stub.Calls()); diff != "" {
				t.Errorf("SCIM calls (-want +got):\n%s", diff)
			}
			if got := stub.users["U1"]["active"]; got != s.wantActive {
				t.Errorf("active in the app = %v, want %v", got, s.wantActive)
			}
			au := e.do("GET", "/api/v1/apps/"+app+"/users/"+u, nil).obj(t)
			if au["status"] != s.wantStatus || au["externalId"] != "U1" {
				t.Errorf("app user status %v externalId %v, want %s U1", au["status"], au["externalId"], s.wantStatus)
			}
		})
	}
	if diff := cmp.Diff([]string{
		"application.provision.user.deactivate SUCCESS", "application.provision.user.reactivate SUCCESS",
		"application.provision.user.deactivate SUCCESS", "application.provision.user.reactivate SUCCESS",
		"application.provision.user.deactivate SUCCESS", "application.provision.user.reactivate SUCCESS",
	}, e.events("application.provision.user.deactivate", "application.provision.user.reactivate")); diff != "" {
		t.Errorf("System Log (-want +got):\n%s", diff)
	}
}

func TestImport(t *testing.T) {
	e := newEnv(t, Config{})
	stub := newSCIMStub(t)
	app := e.scimApp(stub, true, true, true)
	for i := range 150 {
		id := fmt.Sprintf("U%03d", i)
		stub.users[id] = map[string]any{"id": id, "userName": fmt.Sprintf("user%03d@example.com", i), "active": true}
	}
	stub.groups["G1"] = map[string]any{"id": "G1", "displayName": "Engineering"}

	got, err := e.h.Import(context.Background(), app)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if diff := cmp.Diff([]string{
		"GET /Users?startIndex=1&count=100", "GET /Users?startIndex=101&count=100", "GET /Groups?startIndex=1&count=100",
	}, stub.RawCalls()); diff != "" {
		t.Errorf("SCIM requests (-want +got):\n%s", diff)
	}
	if len(got.Users) != 150 || got.Users[0]["id"] != "U000" || got.Users[149]["id"] != "U149" || len(got.Groups) != 1 {
		t.Errorf("imported %d users (first %v, last %v) and %d groups, want 150 and 1", len(got.Users), got.Users[0]["id"], got.Users[len(got.Users)-1]["id"], len(got.Groups))
	}
	if diff := cmp.Diff([]string{"system.import.start SUCCESS", "system.import.complete SUCCESS"}, e.events("system.import.start", "system.import.complete")); diff != "" {
		t.Errorf("System Log (-want +got):\n%s", diff)
	}

	t.Run("a failing page fails the import", func(t *testing.T) {
		stub.fail = true // the stub still answers GET /Users, but not GET /Groups
		defer func() { stub.fail = false }()
		_, err := e.h.Import(context.Background(), app)
		var oe *Error
		if !errors.As(err, &oe) || oe.ErrorCode != "E0000001" || !strings.Contains(oe.ErrorSummary, "500") {
			t.Errorf("Import: %v, want E0000001 naming the 500", err)
		}
	})
	t.Run("a disabled connection is refused", func(t *testing.T) {
		e.do("POST", "/api/v1/apps/"+app+"/connections/default/lifecycle/deactivate", nil)
		stub.Calls()
		if _, err := e.h.Import(context.Background(), app); err == nil {
			t.Error("Import with a disabled connection succeeded")
		}
		if c := stub.Calls(); len(c) != 0 {
			t.Errorf("requests sent: %v", c)
		}
	})
}

// TestUpdateOfUserTheAppLost: a 404 on the GET before a profile push stops
// that user's push; Okta neither retries nor creates the user again, and
// the failure is in the System Log and the app user's syncState.
func TestUpdateOfUserTheAppLost(t *testing.T) {
	e := newEnv(t, Config{})
	stub := newSCIMStub(t)
	app := e.scimApp(stub, true, true, true)
	u := e.createUser("alice@example.com")
	e.do("POST", "/api/v1/apps/"+app+"/users", map[string]any{"id": u, "scope": "USER"})
	stub.Calls()
	delete(stub.users, "U1")
	for i := range 2 {
		if r := e.do("POST", "/api/v1/users/"+u, map[string]any{"profile": map[string]any{"title": fmt.Sprint("T", i)}}); r.status != 200 {
			t.Fatalf("update: %d %s", r.status, r.body)
		}
		if diff := cmp.Diff([]string{"GET /Users/U1"}, stub.Calls()); diff != "" {
			t.Errorf("update %d: SCIM calls (-want +got):\n%s", i, diff)
		}
	}
	if au := e.do("GET", "/api/v1/apps/"+app+"/users/"+u, nil).obj(t); au["syncState"] != "ERROR" || au["externalId"] != "U1" {
		t.Errorf("app user syncState %v externalId %v, want ERROR U1", au["syncState"], au["externalId"])
	}
	if diff := cmp.Diff([]string{"application.provision.user.push_profile FAILURE", "application.provision.user.push_profile FAILURE"}, e.events("application.provision.user.push_profile")); diff != "" {
		t.Errorf("System Log (-want +got):\n%s", diff)
	}
}
