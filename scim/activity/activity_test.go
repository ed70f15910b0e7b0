package activity

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/adminapi"
)

// exchange is one request of a transcript in testdata/okta.
type exchange struct {
	Method   string          `json:"method"`
	Path     string          `json:"path"`
	Body     json.RawMessage `json:"body"`
	Response struct {
		Status int `json:"status"`
	} `json:"response"`
}

// TestActionTranscripts names every request of every Okta transcript. The
// want lists are what Action says from the request's shape, with
// GroupPatch applied to group PATCHes; a user PUT or PATCH stays "Update
// user" here, the server turning it into a deactivation or reactivation
// from the stored user (scim/server's TestActivityTranscripts).
func TestActionTranscripts(t *testing.T) {
	want := map[string][]string{
		"assign-user-existing-active.json":   {ActionLookUpUser},
		"assign-user-existing-inactive.json": {ActionLookUpUser, ActionUpdateUser},
		"assign-user-new.json":               {ActionLookUpUser, ActionCreateUser},
		"deactivate-custom.json":             {ActionReadUser, ActionUpdateUser},
		"deactivate.json":                    {ActionUpdateUser},
		"group-delete.json":                  {ActionDeleteGroup},
		"group-push-create-custom.json":      {ActionCreateGroup},
		"group-push-create.json":             {ActionCreateGroup, ActionRenameGroup, ActionUpdateGroupMembers},
		"group-push-membership-custom.json":  {ActionUpdateGroup},
		"group-push-membership.json":         {ActionRenameGroup, ActionUpdateGroupMembers},
		"group-rename.json":                  {ActionRenameGroup},
		"import-groups.json":                 {ActionImportGroups},
		"import-users.json":                  {ActionImportUsers, ActionImportUsers},
		"password-push-custom.json":          {ActionReadUser, ActionUpdateUser},
		"password-push.json":                 {ActionUpdateUser},
		"profile-update-catalogue.json":      {ActionUpdateUser},
		"profile-update.json":                {ActionReadUser, ActionUpdateUser},
		"reactivate.json":                    {ActionUpdateUser},
		"retry-after-429.json":               {ActionLookUpUser, ActionLookUpUser, ActionCreateUser},
		"save-to-app-settings.json":          {ActionImportGroups},
		"test-api-credentials.json":          {ActionTestCredentials},
	}
	files, err := filepath.Glob("../../testdata/okta/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts in testdata/okta: %v", err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			w, ok := want[name]
			if !ok {
				t.Fatalf("transcript %s has no row in this table: add the actions of its requests", name)
			}
			var got []string
			for _, ex := range readTranscript(t, file) {
				path, rawQuery, _ := strings.Cut(ex.Path, "?")
				q, err := url.ParseQuery(rawQuery)
				if err != nil {
					t.Fatalf("%s %s: query: %v", ex.Method, ex.Path, err)
				}
				a := Action(ex.Method, path, q, ex.Response.Status)
				if ex.Method == http.MethodPatch && strings.HasPrefix(path, "/Groups/") {
					var pr scim.PatchRequest
					if err := json.Unmarshal(ex.Body, &pr); err != nil {
						t.Fatalf("%s %s: body: %v", ex.Method, ex.Path, err)
					}
					a = GroupPatch(pr.Operations)
				}
				got = append(got, a)
			}
			if diff := cmp.Diff(w, got); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
		})
	}
}

// readTranscript decodes one testdata/okta file.
func readTranscript(t *testing.T, file string) []exchange {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var exs []exchange
	if err := json.Unmarshal(b, &exs); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if len(exs) == 0 {
		t.Fatalf("%s: no requests", file)
	}
	return exs
}

func TestAction(t *testing.T) {
	for _, tc := range []struct {
		method, path, query string
		status              int
		want                string
	}{
		{"GET", "/Users", "startIndex=1&count=2", 200, ActionTestCredentials},
		{"GET", "/Users", "startIndex=1&count=2", 401, ActionWrongSecret},
		{"GET", "/Users", "startIndex=1&count=2&attributes=id", 200, ActionImportUsers},
		{"GET", "/Users", "", 200, ActionListUsers},
		{"GET", "/Users", `filter=externalId eq "x"`, 200, ActionLookUpUser},
		{"GET", "/Groups", `filter=displayName eq "Engineering"`, 200, ActionLookUpGroup},
		{"GET", "/Groups", "count=2&startIndex=1", 200, ActionImportGroups},
		{"GET", "/Groups", "", 200, ActionListGroups},
		{"POST", "/Users", "", 409, ActionCreateUser},
		{"POST", "/Users/.search", "", 200, ActionSearchUsers},
		{"POST", "/Groups/.search", "", 200, ActionSearchGroups},
		{"GET", "/Users/.search", "", 405, ActionUnsupported},
		{"GET", "/Groups/abc", "", 404, ActionReadGroup},
		{"PUT", "/Groups/abc", "", 200, ActionUpdateGroup},
		{"DELETE", "/Users/abc", "", 204, ActionDeleteUser},
		{"PUT", "/Users", "", 405, ActionUnsupported},
		{"GET", "/Users/", "", 404, ActionUnsupported},
		{"POST", "/.search", "", 200, ActionSearch},
		{"POST", "/Bulk", "", 200, ActionBulk},
		{"GET", "/ServiceProviderConfig", "", 200, ActionReadServiceProviderConfig},
		{"GET", "/ServiceProviderConfig/x", "", 404, ActionUnsupported},
		{"GET", "/ResourceTypes", "", 200, ActionReadResourceTypes},
		{"GET", "/ResourceTypes/User", "", 200, ActionReadResourceTypes},
		{"GET", "/Schemas", "", 200, ActionReadSchemas},
		{"GET", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", "", 200, ActionReadSchemas},
		{"POST", "/Schemas", "", 405, ActionUnsupported},
		{"GET", "", "", 404, ActionUnsupported},
		{"GET", "/", "", 404, ActionUnsupported},
		{"GET", "/Nope", "", 404, ActionUnsupported},
	} {
		t.Run(tc.method+" "+tc.path+"?"+tc.query, func(t *testing.T) {
			q, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, Action(tc.method, tc.path, q, tc.status)); diff != "" {
				t.Errorf("Action (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("nil query", func(t *testing.T) {
		if diff := cmp.Diff(ActionListUsers, Action("GET", "/Users", nil, 400)); diff != "" {
			t.Errorf("Action (-want +got):\n%s", diff)
		}
	})
}

func TestUserChange(t *testing.T) {
	for _, tc := range []struct {
		was, is bool
		want    string
	}{
		{true, false, ActionDeactivateUser},
		{false, true, ActionReactivateUser},
		{true, true, ActionUpdateUser},
		{false, false, ActionUpdateUser},
	} {
		t.Run(fmt.Sprint(tc.was, tc.is), func(t *testing.T) {
			if diff := cmp.Diff(tc.want, UserChange(tc.was, tc.is)); diff != "" {
				t.Errorf("UserChange (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGroupPatch(t *testing.T) {
	for _, tc := range []struct {
		name string
		ops  string
		want string
	}{
		{"okta rename", `[{"op":"replace","value":{"displayName":"X","id":"g1"}}]`, ActionRenameGroup},
		{"path rename", `[{"op":"replace","path":"displayName","value":"X"}]`, ActionRenameGroup},
		{"urn rename", `[{"op":"replace","path":"urn:ietf:params:scim:schemas:core:2.0:Group:displayName","value":"X"}]`, ActionRenameGroup},
		{"add members", `[{"op":"add","path":"members","value":[{"value":"u1"}]}]`, ActionUpdateGroupMembers},
		{"remove filtered", `[{"op":"remove","path":"members[value eq \"u1\"]"}]`, ActionUpdateGroupMembers},
		{"path-less members", `[{"op":"replace","value":{"members":[]}}]`, ActionUpdateGroupMembers},
		{"rename and members", `[{"op":"replace","value":{"displayName":"X"}},{"op":"add","path":"members","value":[]}]`, ActionUpdateGroup},
		{"externalId", `[{"op":"replace","path":"externalId","value":"e"}]`, ActionUpdateGroup},
		{"value not an object", `[{"op":"replace","value":"x"}]`, ActionUpdateGroup},
		{"no operations", `[]`, ActionUpdateGroup},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ops []scim.PatchOperation
			if err := json.Unmarshal([]byte(tc.ops), &ops); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, GroupPatch(ops)); diff != "" {
				t.Errorf("GroupPatch (-want +got):\n%s", diff)
			}
		})
	}
}

// req is a request told apart by its path.
func req(i int) adminapi.Request {
	return adminapi.Request{At: time.Unix(int64(i), 0), Method: "GET", Path: fmt.Sprint("/Users/", i), Status: 200}
}

// paths returns the paths of rs.
func paths(rs []adminapi.Request) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.Path)
	}
	return out
}

func TestLog(t *testing.T) {
	for _, tc := range []struct {
		name      string
		perTenant int
		add, n    int
		want      []string
	}{
		{"empty", 3, 0, 10, []string{}},
		{"fewer than the ring", 3, 2, 10, []string{"/Users/1", "/Users/0"}},
		{"exactly the ring", 3, 3, 10, []string{"/Users/2", "/Users/1", "/Users/0"}},
		{"wrapped", 3, 7, 10, []string{"/Users/6", "/Users/5", "/Users/4"}},
		{"wrapped, n smaller", 3, 8, 2, []string{"/Users/7", "/Users/6"}},
		{"n zero", 3, 5, 0, []string{}},
		{"default size", 0, 50, 100, func() []string {
			var out []string
			for i := 49; i >= 50-adminapi.MaxRequests; i-- {
				out = append(out, fmt.Sprint("/Users/", i))
			}
			return out
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := New(tc.perTenant)
			for i := range tc.add {
				l.Add("acme", req(i))
				l.Add("beta", adminapi.Request{Path: "/Groups"})
			}
			got := l.Recent("acme", tc.n)
			if got == nil {
				t.Fatal("Recent returned nil, want a non-nil slice")
			}
			if diff := cmp.Diff(tc.want, paths(got)); diff != "" {
				t.Errorf("Recent (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("Recent is a copy", func(t *testing.T) {
		l := New(2)
		l.Add("acme", req(1))
		l.Recent("acme", 1)[0].Path = "changed"
		if diff := cmp.Diff([]string{"/Users/1"}, paths(l.Recent("acme", 1))); diff != "" {
			t.Errorf("Recent (-want +got):\n%s", diff)
		}
	})
	t.Run("Forget", func(t *testing.T) {
		l := New(2)
		l.Add("acme", req(1))
		l.Add("beta", req(2))
		l.Forget("acme")
		l.Forget("nobody")
		if diff := cmp.Diff([]string{}, paths(l.Recent("acme", 5))); diff != "" {
			t.Errorf("acme after Forget (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"/Users/2"}, paths(l.Recent("beta", 5))); diff != "" {
			t.Errorf("beta (-want +got):\n%s", diff)
		}
	})
}

// TestLogTenantCap: writing to one tenant more than the cap drops the
// tenant written to least recently, not the one read or created first.
func TestLogTenantCap(t *testing.T) {
	l := New(2)
	l.maxTenants = 3
	l.Add("a", req(1))
	l.Add("b", req(2))
	l.Add("c", req(3))
	l.Add("a", req(4)) // a is now the most recently written
	l.Recent("b", 1)   // reading does not count
	l.Add("d", req(5)) // drops b
	got := map[string][]string{}
	for _, tn := range []string{"a", "b", "c", "d"} {
		got[tn] = paths(l.Recent(tn, 5))
	}
	want := map[string][]string{"a": {"/Users/4", "/Users/1"}, "b": {}, "c": {"/Users/3"}, "d": {"/Users/5"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tenants (-want +got):\n%s", diff)
	}
	if n := len(l.tenants); n != 3 || l.lru.Len() != 3 {
		t.Errorf("holds %d tenants (%d in the lru list), want 3", n, l.lru.Len())
	}
}

// TestLogConcurrent is for the race detector: writers and readers of
// many tenants at once, and the bounds still hold after.
func TestLogConcurrent(t *testing.T) {
	l := New(5)
	l.maxTenants = 50
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 500 {
				tn := fmt.Sprint("t", (w*500+i)%80)
				l.Add(tn, req(i))
				if rs := l.Recent(tn, 10); len(rs) > 5 {
					t.Errorf("Recent returned %d requests, more than the ring holds", len(rs))
				}
				if i%100 == 0 {
					l.Forget(tn)
				}
			}
		})
	}
	wg.Wait()
	if n := len(l.tenants); n > 50 || l.lru.Len() != n {
		t.Errorf("holds %d tenants (%d in the lru list), want at most 50", n, l.lru.Len())
	}
}
