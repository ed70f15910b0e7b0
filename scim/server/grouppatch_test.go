package server

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/patch"
	"github.com/idpkit/idpkit/scim/schema"
	"github.com/idpkit/idpkit/scim/store"
)

// countingStore records the member reads and group lookups a request
// makes.
type countingStore struct {
	store.Store
	mu          sync.Mutex
	listMembers [][]string // the ids of each ListMembers call; nil for all
	groupsOf    int
	scans       int
}

func (s *countingStore) ListMembers(ctx context.Context, tenant, groupID string, ids []string) ([]store.Member, error) {
	s.mu.Lock()
	s.listMembers = append(s.listMembers, slices.Clone(ids))
	s.mu.Unlock()
	return s.Store.ListMembers(ctx, tenant, groupID, ids)
}

func (s *countingStore) GroupsOf(ctx context.Context, tenant string, userIDs []string) (map[string][]store.GroupRef, error) {
	s.mu.Lock()
	s.groupsOf++
	s.mu.Unlock()
	return s.Store.GroupsOf(ctx, tenant, userIDs)
}

func (s *countingStore) ScanResources(ctx context.Context, tenant, typ string, q store.Query, fn func(store.Record) error) error {
	s.mu.Lock()
	s.scans++
	s.mu.Unlock()
	return s.Store.ScanResources(ctx, tenant, typ, q, fn)
}

// reset forgets what was counted.
func (s *countingStore) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listMembers, s.groupsOf, s.scans = nil, 0, 0
}

// countingFixture is a fixture whose server reads through a countingStore.
func countingFixture(t testing.TB) (*fixture, *countingStore) {
	t.Helper()
	f := newFixture(t)
	cs := &countingStore{Store: f.store}
	mux := http.NewServeMux()
	f.server = New(Config{Store: cs, PublicURL: f.srv.URL})
	f.server.Register(mux)
	f.srv.Config.Handler = mux
	return f, cs
}

// importUsers seeds n users named prefix00000@example.com… with Import.
func importUsers(t testing.TB, f *fixture, prefix string, n int) []string {
	t.Helper()
	users := make([]scim.Resource, n)
	for i := range users {
		users[i] = scim.Resource{"userName": fmt.Sprintf("%s%06d@example.com", prefix, i), "active": true,
			"emails": []any{map[string]any{"value": fmt.Sprintf("%s%06d@example.com", prefix, i), "primary": true}}}
	}
	ids, err := f.server.Import(context.Background(), "acme", store.TypeUser, users)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestGroupPatchFastPathMatchesEngine: every PATCH of a group answers and
// stores what the patch engine gives on the whole resource, on the fast
// path and on the fallback, and a PATCH that changes nothing writes
// nothing.
func TestGroupPatchFastPathMatchesEngine(t *testing.T) {
	f := newFixture(t)
	u := importUsers(t, f, "pm", 5)
	m := func(id string) string { return `{"value":"` + id + `"}` }
	md := func(id, d string) string { return `{"value":"` + id + `","display":"` + d + `"}` }
	tests := []struct {
		name, ops string
		fast      bool
		noop      bool
	}{
		{"add new", `[{"op":"add","path":"members","value":[` + m(u[2]) + `,` + md(u[3], "Three") + `]}]`, true, false},
		{"add existing", `[{"op":"add","path":"members","value":[` + m(u[0]) + `]}]`, true, true},
		{"add existing, same display", `[{"op":"Add","path":"members","value":[` + md(u[1], "One") + `]}]`, true, true},
		{"add existing, new display", `[{"op":"add","path":"members","value":[` + md(u[1], "Uno") + `]}]`, true, false},
		{"add one object", `[{"op":"add","path":"members","value":` + m(u[4]) + `}]`, true, false},
		{"add bare ids", `[{"op":"add","path":"members","value":["` + u[4] + `","` + u[2] + `"]}]`, true, false},
		{"add qualified path", `[{"op":"add","path":"urn:ietf:params:scim:schemas:core:2.0:Group:members","value":[` + m(u[2]) + `]}]`, true, false},
		{"okta remove", `[{"op":"remove","path":"members[value eq \"` + u[0] + `\"]"}]`, true, false},
		{"okta remove absent", `[{"op":"remove","path":"members[value eq \"` + u[4] + `\"]"}]`, true, true},
		{"entra remove", `[{"op":"Remove","path":"members","value":[` + m(u[1]) + `,` + m("nope") + `]}]`, true, false},
		{"entra remove absent", `[{"op":"Remove","path":"members","value":[` + m("nope") + `]}]`, true, true},
		{"remove all", `[{"op":"remove","path":"members"}]`, true, false},
		{"replace all", `[{"op":"replace","path":"members","value":[` + m(u[3]) + `,` + m(u[0]) + `]}]`, true, false},
		{"replace with the same", `[{"op":"replace","path":"members","value":[` + m(u[0]) + `,` + md(u[1], "One") + `]}]`, true, true},
		{"path-less add", `[{"op":"add","value":{"members":[` + m(u[2]) + `],"externalId":"x1"}}]`, true, false},
		{"path-less replace", `[{"op":"replace","value":{"displayName":"Renamed","members":[` + m(u[2]) + `]}}]`, true, false},
		{"okta rename to the same", `[{"op":"replace","value":{"displayName":"PM"}}]`, true, true},
		{"rename", `[{"op":"replace","path":"displayName","value":"PM2"}]`, true, false},
		{"add then remove", `[{"op":"add","path":"members","value":[` + m(u[2]) + `]},{"op":"remove","path":"members[value eq \"` + u[2] + `\"]"}]`, true, true},
		{"remove then add back", `[{"op":"remove","path":"members[value eq \"` + u[0] + `\"]"},{"op":"add","path":"members","value":[` + m(u[0]) + `]}]`, true, false},
		{"remove then add new", `[{"op":"remove","path":"members"},{"op":"add","path":"members","value":[` + m(u[4]) + `]}]`, true, false},
		{"fallback remove by display", `[{"op":"remove","path":"members[display eq \"One\"]"}]`, false, false},
		{"fallback remove by display, none", `[{"op":"remove","path":"members[display eq \"nobody\"]"}]`, false, true},
		{"fallback replace display", `[{"op":"replace","path":"members[value eq \"` + u[0] + `\"].display","value":"Zero"}]`, false, false},
		{"fallback with an add", `[{"op":"add","path":"members","value":[` + m(u[3]) + `]},{"op":"remove","path":"members[display eq \"One\"]"}]`, false, false},
	}
	k := &kind{rt: schema.GroupType(), typ: store.TypeGroup, endpoint: "Groups"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := f.call(t, "POST", "/Groups", `{"displayName":"PM","members":[`+m(u[0])+`,`+md(u[1], "One")+`]}`, nil)
			if g.status != http.StatusCreated {
				t.Fatalf("create: %d %s", g.status, g.raw)
			}
			gid := g.body["id"].(string)
			plan := newMemberPlan()
			var req scim.PatchRequest
			if err := jsonUnmarshal(patchBody(tt.ops), &req); err != nil {
				t.Fatal(err)
			}
			fast := true
			for _, op := range req.Operations {
				if _, ok := planOp(op, plan); !ok {
					fast = false
				}
			}
			if fast != tt.fast {
				t.Errorf("fast path = %v, want %v", fast, tt.fast)
			}
			// What the engine gives on the whole resource, with displays
			// completed as a write completes them.
			want, err := patch.Apply(g.body, req.Operations, k.rt)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range asList(want["members"]) {
				mm := e.(map[string]any)
				if _, ok := mm["display"]; !ok {
					mm["display"] = f.stored(t, store.TypeUser, str(mm["value"]))["userName"]
				}
				mm["$ref"], mm["type"] = f.base("acme")+"/Users/"+str(mm["value"]), "User"
			}
			stored := snapshot(t, f.store, "acme")
			r := f.call(t, "PATCH", "/Groups/"+gid, patchBody(tt.ops), nil)
			if r.status != http.StatusOK {
				t.Fatalf("PATCH: %d %s", r.status, r.raw)
			}
			for _, res := range []scim.Resource{want, r.body} {
				delete(res, "meta")
			}
			if diff := cmp.Diff(want, r.body); diff != "" {
				t.Errorf("response differs from the engine's result (-engine +got):\n%s", diff)
			}
			got := f.call(t, "GET", "/Groups/"+gid, "", nil)
			delete(got.body, "meta")
			if diff := cmp.Diff(r.body, got.body); diff != "" {
				t.Errorf("stored group differs from the response (-response +stored):\n%s", diff)
			}
			unchanged := cmp.Diff(stored, snapshot(t, f.store, "acme")) == ""
			if unchanged != tt.noop {
				t.Errorf("stored data unchanged = %v, want %v", unchanged, tt.noop)
			}
		})
	}
}
