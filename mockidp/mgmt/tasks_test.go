package mgmt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/idpkit/idpkit/mockidp/directory"
)

// kindApp is scimApp for an app of a provisioning kind, with every "To
// App" feature on and Sync Password as asked.
func (e *env) kindApp(stub *scimStub, kind string, password bool) string {
	e.t.Helper()
	r := e.do("POST", "/api/v1/apps", map[string]any{"name": "scim2testapp", "label": "SCIM " + kind, "signOnMode": "AUTO_LOGIN",
		"settings": map[string]any{"app": map[string]any{"baseUrl": stub.URL(), "provisioningKind": kind}}})
	if r.status != 200 {
		e.t.Fatalf("create app: %d %s", r.status, r.body)
	}
	id := r.obj(e.t)["id"].(string)
	if r := e.do("POST", "/api/v1/apps/"+id+"/connections/default", map[string]any{"profile": map[string]any{"authScheme": "TOKEN", "token": "scim-secret"}}); r.status != 201 {
		e.t.Fatalf("connection: %d %s", r.status, r.body)
	}
	pw := "DISABLED"
	if password {
		pw = "ENABLED"
	}
	on := map[string]any{"status": "ENABLED"}
	if r := e.do("PUT", "/api/v1/apps/"+id+"/features/USER_PROVISIONING", map[string]any{
		"create": map[string]any{"lifecycleCreate": on},
		"update": map[string]any{"profile": on, "lifecycleDeactivate": on, "password": map[string]any{"status": pw}},
	}); r.status != 200 {
		e.t.Fatalf("features: %d %s", r.status, r.body)
	}
	stub.Calls()
	return id
}

// summary is a task as "action STATUS: METHOD path status, …" with the
// paths' queries cut.
func summary(t Task) string {
	var as []string
	for _, a := range t.Attempts {
		p, _, _ := strings.Cut(a.Path, "?")
		s := fmt.Sprintf("%s %s %d", a.Method, p, a.Status)
		if a.RetryAfter != "" {
			s += " retry-after " + a.RetryAfter
		}
		as = append(as, s)
	}
	return t.Action + " " + t.Status + ": " + strings.Join(as, ", ")
}

func summaries(ts []Task) []string {
	var out []string
	for _, t := range ts {
		out = append(out, summary(t))
	}
	return out
}

func (e *env) tasks(query string) []Task {
	e.t.Helper()
	rec := httptest.NewRecorder()
	e.h.ServeTasks(rec, httptest.NewRequest("GET", "/__mock/tasks"+query, nil))
	if rec.Code != 200 {
		e.t.Fatalf("ServeTasks%s: %d %s", query, rec.Code, rec.Body)
	}
	var out struct{ Tasks []Task }
	resp{status: rec.Code, body: rec.Body.Bytes()}.json(e.t, &out)
	return out.Tasks
}

func TestTasks(t *testing.T) {
	e := newEnv(t, Config{})
	stub := newSCIMStub(t)
	app := e.scimApp(stub, true, true, true)
	alice := e.createUser("alice@example.com")
	e.do("POST", "/api/v1/apps/"+app+"/users", map[string]any{"id": alice, "scope": "USER"})

	got := e.h.Tasks(app)
	if diff := cmp.Diff([]string{
		"test SUCCESS: GET /Users 200", "settings SUCCESS: GET /Groups 200",
		"user.create SUCCESS: GET /Users 200, POST /Users 201",
	}, summaries(got)); diff != "" {
		t.Errorf("tasks (-want +got):\n%s", diff)
	}
	last := got[len(got)-1]
	want := Task{ID: last.ID, AppID: app, Action: ActionUserCreate, ObjectID: alice, Status: TaskSuccess, Created: t0, Updated: t0, Attempts: []Attempt{
		{Time: t0, Method: "GET", Path: "/Users?filter=userName%20eq%20%22alice%40example.com%22&startIndex=1&count=100", Status: 200},
		{Time: t0, Method: "POST", Path: "/Users", Status: 201},
	}}
	if diff := cmp.Diff(want, last); diff != "" {
		t.Errorf("task (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(e.h.Tasks(app), e.h.Tasks("")); diff != "" {
		t.Errorf("every app's tasks differ from the one app's (-app +all):\n%s", diff)
	}
	if got := e.h.Tasks("0oanotanapp"); len(got) != 0 {
		t.Errorf("tasks of an unknown app: %v", got)
	}
	if tk, err := e.h.Task(last.ID); err != nil || tk.ID != last.ID {
		t.Errorf("Task(%s) = %v, %v", last.ID, tk.ID, err)
	}
	var nf *directory.NotFoundError
	if _, err := e.h.Task("tsknope"); !errors.As(err, &nf) {
		t.Errorf("Task(unknown) = %v, want a NotFoundError", err)
	}
}

// A 429 with Retry-After, then success: both attempts are in the task, and
// the engine waited what the server asked.
func TestTaskRetryAfter(t *testing.T) {
	e := newEnv(t, Config{})
	stub := newSCIMStub(t)
	app := e.scimApp(stub, true, true, true)
	alice := e.createUser("alice@example.com")
	n := 0
	stub.set(func(s *scimStub) {
		s.answer = func(r *http.Request, _ map[string]any) (int, map[string]string, any) {
			if r.Method == "POST" && n == 0 {
				n++
				return 429, map[string]string{"Retry-After": "2"}, map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:Error"}, "status": "429", "detail": "slow down"}
			}
			return 0, nil, nil
		}
	})
	e.Slept()
	e.do("POST", "/api/v1/apps/"+app+"/users", map[string]any{"id": alice, "scope": "USER"})
	got := e.tasks("?app=" + app + "&action=user.create")
	if diff := cmp.Diff([]string{"user.create SUCCESS: GET /Users 200, POST /Users 429 retry-after 2, POST /Users 201"}, summaries(got)); diff != "" {
		t.Errorf("tasks (-want +got):\n%s", diff)
	}
	if w := got[0].Attempts[1].WaitMs; w != 2000 {
		t.Errorf("waitMs %d, want 2000", w)
	}
	if diff := cmp.Diff([]time.Duration{2 * time.Second}, e.Slept()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	if au := e.do("GET", "/api/v1/apps/"+app+"/users/"+alice, nil).obj(t); au["syncState"] != "SYNCHRONIZED" {
		t.Errorf("app user %v", au)
	}
}

// A task that fails after its retries keeps the assignment (syncState
// ERROR); the admin's retry, once the app works again, completes it.
func TestTaskFailsThenAdminRetries(t *testing.T) {
	e := newEnv(t, Config{})
	stub := newSCIMStub(t)
	app := e.scimApp(stub, true, true, true)
	alice := e.createUser("alice@example.com")
	stub.set(func(s *scimStub) { s.fail = true })
	e.do("POST", "/api/v1/apps/"+app+"/users", map[string]any{"id": alice, "scope": "USER"})
	failed := e.tasks("?status=failed")
	if diff := cmp.Diff([]string{"user.create FAILED: GET /Users 500, GET /Users 500, GET /Users 500, GET /Users 500"}, summaries(failed)); diff != "" {
		t.Fatalf("failed tasks (-want +got):\n%s", diff)
	}
	if !strings.Contains(failed[0].Error, "500") {
		t.Errorf("task error %q does not name the 500", failed[0].Error)
	}
	if n := len(e.Slept()); n != 3 {
		t.Errorf("%d waits, want 3", n)
	}
	au := e.do("GET", "/api/v1/apps/"+app+"/users/"+alice, nil).obj(t)
	if au["syncState"] != "ERROR" || au["externalId"] != nil || au["scope"] != "USER" {
		t.Errorf("app user after the failure %v", au)
	}

	if _, err := e.h.RetryTask(context.Background(), e.tasks("?action=test")[0].ID); !errors.Is(err, ErrTaskNotRetryable) {
		t.Errorf("retry of a successful task: %v, want ErrTaskNotRetryable", err)
	}
	stub.set(func(s *scimStub) { s.fail = false })
	stub.Calls()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/__mock/tasks/"+failed[0].ID+"/retry", nil)
	req.SetPathValue("id", failed[0].ID)
	e.h.ServeRetryTask(rec, req)
	if rec.Code != 200 {
		t.Fatalf("retry: %d %s", rec.Code, rec.Body)
	}
	var retried Task
	resp{body: rec.Body.Bytes()}.json(t, &retried)
	if diff := cmp.Diff("user.create SUCCESS: GET /Users 500, GET /Users 500, GET /Users 500, GET /Users 500, GET /Users 200, POST /Users 201", summary(retried)); diff != "" {
		t.Errorf("retried task (-want +got):\n%s", diff)
	}
	if retried.Retried != 1 || retried.Error != "" {
		t.Errorf("retried %d error %q", retried.Retried, retried.Error)
	}
	if au := e.do("GET", "/api/v1/apps/"+app+"/users/"+alice, nil).obj(t); au["syncState"] != "SYNCHRONIZED" || au["externalId"] != "U1" {
		t.Errorf("app user after the retry %v", au)
	}
	if got := e.tasks("?status=FAILED"); len(got) != 0 {
		t.Errorf("failed tasks after the retry: %v", summaries(got))
	}

	rec = httptest.NewRecorder()
	req = httptest.NewRequest("POST", "/__mock/tasks/tsknope/retry", nil)
	req.SetPathValue("id", "tsknope")
	e.h.ServeRetryTask(rec, req)
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), "E0000007") {
		t.Errorf("retry of an unknown task: %d %s", rec.Code, rec.Body)
	}
}

// The retry of a task uses the connection as it is now; a connection that
// was disabled meanwhile fails the task without a request.
func TestTaskRetryNeedsTheConnection(t *testing.T) {
	e := newEnv(t, Config{})
	stub := newSCIMStub(t)
	app := e.scimApp(stub, true, true, true)
	alice := e.createUser("alice@example.com")
	stub.set(func(s *scimStub) { s.fail = true })
	e.do("POST", "/api/v1/apps/"+app+"/users", map[string]any{"id": alice, "scope": "USER"})
	id := e.tasks("?status=FAILED")[0].ID
	e.do("POST", "/api/v1/apps/"+app+"/connections/default/lifecycle/deactivate", nil)
	stub.Calls()
	tk, err := e.h.RetryTask(context.Background(), id)
	if err != nil || tk.Status != TaskFailed || !strings.Contains(tk.Error, "not enabled") {
		t.Errorf("retry: %v, %s %q", err, tk.Status, tk.Error)
	}
	if c := stub.Calls(); len(c) != 0 {
		t.Errorf("requests sent: %v", c)
	}
}

// A 404 on the GET before a push ends the task as STOPPED, after one request.
func TestTaskStopped(t *testing.T) {
	e := newEnv(t, Config{})
	stub := newSCIMStub(t)
	app := e.scimApp(stub, true, true, true)
	alice := e.createUser("alice@example.com")
	e.do("POST", "/api/v1/apps/"+app+"/users", map[string]any{"id": alice, "scope": "USER"})
	stub.set(func(s *scimStub) { delete(s.users, "U1") })
	e.do("POST", "/api/v1/users/"+alice, map[string]any{"profile": map[string]any{"title": "CTO"}})
	got := e.tasks("?status=STOPPED")
	if diff := cmp.Diff([]string{"user.update STOPPED: GET /Users/U1 404"}, summaries(got)); diff != "" {
		t.Errorf("stopped tasks (-want +got):\n%s", diff)
	}
	if len(e.tasks("?status=stopped")) != 1 {
		t.Error("the status filter is not case-insensitive")
	}
}

func TestServeTasksRefusesUnknownStatus(t *testing.T) {
	e := newEnv(t, Config{})
	rec := httptest.NewRecorder()
	e.h.ServeTasks(rec, httptest.NewRequest("GET", "/__mock/tasks?status=DONE", nil))
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "E0000001") {
		t.Errorf("unknown status: %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	e.h.ServeTasks(rec, httptest.NewRequest("GET", "/__mock/tasks", nil))
	if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"tasks":[]}` {
		t.Errorf("no tasks: %d %s", rec.Code, rec.Body)
	}
}

func TestTaskLogKeepsTheNewest(t *testing.T) {
	var l taskLog
	for i := range MaxTasks + 5 {
		l.add(&taskRecord{task: Task{ID: fmt.Sprint("t", i)}})
	}
	all := l.snapshot(func(Task) bool { return true })
	if len(all) != MaxTasks || all[0].ID != "t5" || all[len(all)-1].ID != fmt.Sprint("t", MaxTasks+4) {
		t.Errorf("kept %d tasks from %s to %s", len(all), all[0].ID, all[len(all)-1].ID)
	}
	if _, ok := l.get("t4"); ok {
		t.Error("a dropped task can still be looked up")
	}
	if _, ok := l.get("t5"); !ok {
		t.Error("a kept task cannot be looked up")
	}
}

// Tasks can be read while provisioning runs (go test -race).
func TestTasksConcurrently(t *testing.T) {
	e := newEnv(t, Config{})
	stub := newSCIMStub(t)
	app := e.scimApp(stub, true, true, true)
	var users []string
	for i := range 8 {
		users = append(users, e.createUser(fmt.Sprintf("user%d@example.com", i)))
	}
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Go(func() {
			if _, err := e.h.AssignUser(context.Background(), app, u, ""); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() { e.h.Tasks(app) })
	}
	wg.Wait()
	if n := len(e.tasks("?action=user.create&status=SUCCESS")); n != len(users) {
		t.Errorf("%d successful pushes, want %d", n, len(users))
	}
}

// TestKindsThroughTheAPI: what each kind of app receives for the same
// admin actions.
func TestKindsThroughTheAPI(t *testing.T) {
	for _, tc := range []struct {
		kind string
		want [][]string // SCIM calls per step: assign group, profile change, add member, rename, remove member, deactivate
	}{
		{"test", [][]string{
			{"GET /Users", "POST /Users", "POST /Groups", "PATCH /Groups/G2", "PATCH /Groups/G2"},
			{"GET /Users/U1", "PUT /Users/U1"},
			{"GET /Users", "POST /Users", "PATCH /Groups/G2", "PATCH /Groups/G2"},
			{"PATCH /Groups/G2"},
			{"PATCH /Groups/G2", "PATCH /Groups/G2", "PATCH /Users/U3"},
			{"PATCH /Users/U1"},
		}},
		{"catalogue", [][]string{
			{"GET /Users", "POST /Users", "POST /Groups", "PATCH /Groups/G2", "PATCH /Groups/G2"},
			{"PATCH /Users/U1"},
			{"GET /Users", "POST /Users", "PATCH /Groups/G2", "PATCH /Groups/G2"},
			{"PATCH /Groups/G2"},
			{"PATCH /Groups/G2", "PATCH /Groups/G2", "PATCH /Users/U3"},
			{"PATCH /Users/U1"},
		}},
		{"custom", [][]string{
			{"GET /Users", "POST /Users", "POST /Groups"},
			{"GET /Users/U1", "PUT /Users/U1"},
			{"GET /Users", "POST /Users", "PUT /Groups/G2"},
			{"PUT /Groups/G2"},
			{"PUT /Groups/G2", "GET /Users/U3", "PUT /Users/U3"},
			{"GET /Users/U1", "PUT /Users/U1"},
		}},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			e := newEnv(t, Config{})
			stub := newSCIMStub(t)
			app := e.kindApp(stub, tc.kind, false)
			if got := e.do("GET", "/api/v1/apps/"+app, nil).obj(t)["settings"].(map[string]any)["app"].(map[string]any)["provisioningKind"]; got != tc.kind {
				t.Errorf("provisioningKind %v, want %s", got, tc.kind)
			}
			alice := e.createUser("alice@example.com")
			bob := e.createUser("bob@example.com")
			g := e.createGroup("Eng")
			e.do("PUT", "/api/v1/groups/"+g+"/users/"+alice, nil)
			steps := []func(){
				func() { e.do("PUT", "/api/v1/apps/"+app+"/groups/"+g, nil) },
				func() {
					e.do("POST", "/api/v1/users/"+alice, map[string]any{"profile": map[string]any{"lastName": "Smith"}})
				},
				func() { e.do("PUT", "/api/v1/groups/"+g+"/users/"+bob, nil) },
				func() {
					e.do("PUT", "/api/v1/groups/"+g, map[string]any{"profile": map[string]any{"name": "Engineering"}})
				},
				func() { e.do("DELETE", "/api/v1/groups/"+g+"/users/"+bob, nil) },
				func() { e.do("POST", "/api/v1/users/"+alice+"/lifecycle/deactivate", nil) },
			}
			var bodies [][]map[string]any
			for i, step := range steps {
				step()
				bodies = append(bodies, stub.Bodies())
				if diff := cmp.Diff(tc.want[i], stub.Calls()); diff != "" {
					t.Errorf("step %d: SCIM calls (-want +got):\n%s", i, diff)
				}
			}
			if failed := e.tasks("?status=FAILED"); len(failed) != 0 {
				t.Errorf("failed tasks: %v", summaries(failed))
			}
			switch tc.kind {
			case "catalogue":
				if diff := cmp.Diff(map[string]any{"name": map[string]any{"familyName": "Smith"}, "displayName": "Alice Smith"},
					bodies[1][0]["Operations"].([]any)[0].(map[string]any)["value"]); diff != "" {
					t.Errorf("profile PATCH value (-want +got):\n%s", diff)
				}
			case "custom":
				if ms := bodies[0][2]["members"].([]any); len(ms) != 1 {
					t.Errorf("group POST members %v, want alice", ms)
				}
				if ms := bodies[2][2]["members"].([]any); len(ms) != 2 || bodies[2][2]["displayName"] != "Eng" {
					t.Errorf("group PUT after adding bob %v", bodies[2][2])
				}
				if ms := bodies[4][0]["members"].([]any); len(ms) != 1 || bodies[4][0]["displayName"] != "Engineering" {
					t.Errorf("group PUT after removing bob %v", bodies[4][0])
				}
				if bodies[5][1]["active"] != false {
					t.Errorf("deactivation PUT %v", bodies[5][1])
				}
			}
		})
	}
}

func TestProvisioningKindInput(t *testing.T) {
	e := newEnv(t, Config{})
	for _, tc := range []struct {
		in, want string
		status   int
	}{{"", "test", 200}, {"TEST", "test", 200}, {"Catalogue", "catalogue", 200}, {"custom", "custom", 200}, {"oin", "", 400}} {
		t.Run(tc.in, func(t *testing.T) {
			r := e.do("POST", "/api/v1/apps", map[string]any{"name": "scim2testapp", "label": "K",
				"settings": map[string]any{"app": map[string]any{"baseUrl": "https://app.example/scim/v2", "provisioningKind": tc.in}}})
			if r.status != tc.status {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if tc.status != 200 {
				if !strings.Contains(string(r.body), "settings.app.provisioningKind") {
					t.Errorf("error %s does not name the field", r.body)
				}
				return
			}
			if got := r.obj(t)["settings"].(map[string]any)["app"].(map[string]any)["provisioningKind"]; got != tc.want {
				t.Errorf("provisioningKind %v, want %s", got, tc.want)
			}
		})
	}
	if _, err := e.dir.CreateApp(directory.App{Label: "bad", Provisioning: &directory.Provisioning{Kind: "weird"}}); err == nil {
		t.Error("the directory accepted an unknown kind")
	}
}

// Sync Password: the user's Okta password goes with the POST and with
// every change; without it a random password is created.
func TestPasswordSync(t *testing.T) {
	for _, tc := range []struct {
		kind     string
		password bool
		change   []string // SCIM calls for the password change
	}{
		{"test", true, []string{"PATCH /Users/U1"}},
		{"catalogue", true, []string{"PATCH /Users/U1"}},
		{"custom", true, []string{"GET /Users/U1", "PUT /Users/U1"}},
		{"test", false, nil},
	} {
		t.Run(fmt.Sprint(tc.kind, " ", tc.password), func(t *testing.T) {
			e := newEnv(t, Config{})
			stub := newSCIMStub(t)
			app := e.kindApp(stub, tc.kind, tc.password)
			alice := e.createUser("alice@example.com") // password Correct-Horse-9
			e.do("POST", "/api/v1/apps/"+app+"/users", map[string]any{"id": alice, "scope": "USER"})
			bodies := stub.Bodies()
			stub.Calls()
			sent := bodies[1]["password"]
			if tc.password && sent != "Correct-Horse-9" || !tc.password && (sent == "Correct-Horse-9" || len(sent.(string)) < 16) {
				t.Errorf("POST password %v", sent)
			}
			if r := e.do("POST", "/api/v1/users/"+alice, map[string]any{"credentials": map[string]any{"password": map[string]any{"value": "Battery-Staple-42"}}}); r.status != 200 {
				t.Fatalf("password change: %d %s", r.status, r.body)
			}
			bodies = stub.Bodies()
			if diff := cmp.Diff(tc.change, stub.Calls()); diff != "" {
				t.Errorf("SCIM calls (-want +got):\n%s", diff)
			}
			if !tc.password {
				return
			}
			last := bodies[len(bodies)-1]
			var got any = last["password"]
			if ops, ok := last["Operations"].([]any); ok {
				got = ops[0].(map[string]any)["value"].(map[string]any)["password"]
			}
			if got != "Battery-Staple-42" {
				t.Errorf("pushed password %v in %v", got, last)
			}
			if diff := cmp.Diff([]string{"user.password SUCCESS"}, statuses(e.tasks("?action=user.password"))); diff != "" {
				t.Errorf("password tasks (-want +got):\n%s", diff)
			}
		})
	}
}

func statuses(ts []Task) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Action+" "+t.Status)
	}
	return out
}

// A group push whose member PATCH fails keeps the group's id in the app,
// and the retry sends the members to that group rather than a second POST.
func TestPartialGroupPushKeepsTheGroup(t *testing.T) {
	e := newEnv(t, Config{})
	stub := newSCIMStub(t)
	app := e.scimApp(stub, true, true, true)
	alice := e.createUser("alice@example.com")
	g := e.createGroup("Eng")
	e.do("PUT", "/api/v1/groups/"+g+"/users/"+alice, nil)
	broken := true
	stub.set(func(s *scimStub) {
		s.answer = func(r *http.Request, _ map[string]any) (int, map[string]string, any) {
			if broken && r.Method == "PATCH" && strings.HasPrefix(r.URL.Path, "/scim/v2/Groups/") {
				return 400, nil, map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:Error"}, "status": "400", "detail": "no"}
			}
			return 0, nil, nil
		}
	})
	e.do("PUT", "/api/v1/apps/"+app+"/groups/"+g, nil)
	ag, err := e.dir.AppGroup(app, g)
	if err != nil || ag.PushedID != "G2" {
		t.Fatalf("pushed id %q, %v; want G2", ag.PushedID, err)
	}
	failed := e.tasks("?status=FAILED")
	if diff := cmp.Diff([]string{"group.push FAILED: POST /Groups 201, PATCH /Groups/G2 400"}, summaries(failed)); diff != "" {
		t.Fatalf("failed tasks (-want +got):\n%s", diff)
	}
	stub.set(func(*scimStub) { broken = false })
	stub.Calls()
	if tk, err := e.h.RetryTask(context.Background(), failed[0].ID); err != nil || tk.Status != TaskSuccess {
		t.Fatalf("retry: %v %v", tk.Status, err)
	}
	if diff := cmp.Diff([]string{"PATCH /Groups/G2", "PATCH /Groups/G2"}, stub.Calls()); diff != "" {
		t.Errorf("retry calls (-want +got):\n%s", diff)
	}
}

// Every task ends with its outcome in the System Log as before.
func TestTasksAndSystemLogAgree(t *testing.T) {
	e := newEnv(t, Config{})
	stub := newSCIMStub(t)
	app := e.scimApp(stub, true, true, true)
	alice := e.createUser("alice@example.com")
	e.do("POST", "/api/v1/apps/"+app+"/users", map[string]any{"id": alice, "scope": "USER"})
	e.do("DELETE", "/api/v1/apps/"+app+"/users/"+alice, nil)
	got := statuses(e.h.Tasks(app))
	if diff := cmp.Diff([]string{"test SUCCESS", "settings SUCCESS", "user.create SUCCESS", "user.deactivate SUCCESS"}, got); diff != "" {
		t.Errorf("tasks (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"application.provision.user.push SUCCESS", "application.provision.user.deactivate SUCCESS"},
		e.events("application.provision.user.push", "application.provision.user.deactivate"), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("System Log (-want +got):\n%s", diff)
	}
}

func TestUnlinkGroup(t *testing.T) {
	for _, tc := range []struct {
		name   string
		delete bool
		want   []string
	}{{"leave the group in the app", false, nil}, {"delete the group in the app", true, []string{"DELETE /Groups/G2"}}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Config{})
			stub := newSCIMStub(t)
			app := e.scimApp(stub, true, true, true)
			alice := e.createUser("alice@example.com")
			bob := e.createUser("bob@example.com")
			g := e.createGroup("Eng")
			e.do("PUT", "/api/v1/groups/"+g+"/users/"+alice, nil)
			e.do("PUT", "/api/v1/apps/"+app+"/groups/"+g, nil)
			stub.Calls()
			if err := e.h.UnlinkGroup(context.Background(), app, g, tc.delete); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, stub.Calls()); diff != "" {
				t.Errorf("unlink calls (-want +got):\n%s", diff)
			}
			// An unlinked group's membership is no longer pushed; its members stay assigned.
			e.do("PUT", "/api/v1/groups/"+g+"/users/"+bob, nil)
			if diff := cmp.Diff([]string{"GET /Users", "POST /Users"}, stub.Calls()); diff != "" {
				t.Errorf("calls after unlink (-want +got):\n%s", diff)
			}
			if err := e.h.UnlinkGroup(context.Background(), app, g, true); err != nil || len(stub.Calls()) != 0 {
				t.Errorf("second unlink: %v", err)
			}
			// Assigning it again pushes it as a new group.
			e.do("PUT", "/api/v1/apps/"+app+"/groups/"+g, nil)
			if diff := cmp.Diff([]string{"POST /Groups", "PATCH /Groups/G4", "PATCH /Groups/G4"}, stub.Calls()); diff != "" {
				t.Errorf("calls after reassigning (-want +got):\n%s", diff)
			}
		})
	}
}
