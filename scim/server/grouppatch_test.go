package server

import (
	"context"
	"fmt"
	"maps"
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

// TestGroupPatchFastPathMatchesEngine: every PATCH of a group stores,
// and with attributes answers, what the patch engine gives on the whole
// resource, on the fast path and on the fallback; its ETag is the stored
// version; and a PATCH that changes nothing writes nothing.
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
	// Each case runs twice: without a query parameter the PATCH answers
	// 204 and the group is read back with a GET; with attributes naming
	// every attribute the operations touch it answers 200 with the
	// group, which must equal what a GET then reads.
	modes := []struct{ name, query string }{
		{"204", ""},
		{"200", "?attributes=displayName,externalId,members"},
	}
	for _, tt := range tests {
		for _, mode := range modes {
			t.Run(tt.name+"/"+mode.name, func(t *testing.T) {
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
				delete(want, "meta")
				stored := snapshot(t, f.store, "acme")
				r := f.call(t, "PATCH", "/Groups/"+gid+mode.query, patchBody(tt.ops), nil)
				got := f.call(t, "GET", "/Groups/"+gid, "", nil)
				version := got.body["meta"].(map[string]any)["version"]
				delete(got.body, "meta")
				if diff := cmp.Diff(want, got.body); diff != "" {
					t.Errorf("stored group differs from the engine's result (-engine +stored):\n%s", diff)
				}
				if diff := cmp.Diff(version, r.header.Get("ETag")); diff != "" {
					t.Errorf("PATCH's ETag differs from the stored version (-stored +PATCH):\n%s", diff)
				}
				if mode.query == "" {
					if diff := cmp.Diff([]any{http.StatusNoContent, ""}, []any{r.status, r.raw}); diff != "" {
						t.Errorf("PATCH status and body (-want +got):\n%s", diff)
					}
				} else {
					if r.status != http.StatusOK {
						t.Fatalf("PATCH: %d %s", r.status, r.raw)
					}
					if diff := cmp.Diff(version, r.body["meta"].(map[string]any)["version"]); diff != "" {
						t.Errorf("PATCH's meta.version differs from the stored version (-stored +PATCH):\n%s", diff)
					}
					delete(r.body, "meta")
					if diff := cmp.Diff(want, r.body); diff != "" {
						t.Errorf("response differs from the engine's result (-engine +got):\n%s", diff)
					}
				}
				unchanged := cmp.Diff(stored, snapshot(t, f.store, "acme")) == ""
				if unchanged != tt.noop {
					t.Errorf("stored data unchanged = %v, want %v", unchanged, tt.noop)
				}
			})
		}
	}
}

// TestGroupPatchAnswers: a PATCH of a Group answers 204 No Content with
// the new ETag and no body (RFC 7644 §3.5.2), so that its cost does not
// grow with the group; with attributes or excludedAttributes (RFC 7644
// §3.9) it answers 200 with the resource projected as asked. A PATCH of a
// User still answers 200 with the resource.
func TestGroupPatchAnswers(t *testing.T) {
	f := newFixture(t)
	u := importUsers(t, f, "ga", 2)
	g := f.call(t, "POST", "/Groups", `{"displayName":"GA","members":[{"value":"`+u[0]+`"}]}`, nil)
	if g.status != http.StatusCreated {
		t.Fatalf("create: %d %s", g.status, g.raw)
	}
	gid := g.body["id"].(string)
	rename := func(name string) string {
		return patchBody(`[{"op":"replace","path":"displayName","value":"` + name + `"}]`)
	}
	t.Run("no query parameter", func(t *testing.T) {
		r := f.call(t, "PATCH", "/Groups/"+gid, patchBody(`[{"op":"add","path":"members","value":[{"value":"`+u[1]+`"}]}]`), nil)
		got := f.call(t, "GET", "/Groups/"+gid, "", nil)
		meta, _ := got.body["meta"].(map[string]any)
		want := []any{http.StatusNoContent, "", `W/"2"`, `W/"2"`, []string{u[0], u[1]}}
		if diff := cmp.Diff(want, []any{r.status, r.raw, r.header.Get("ETag"), meta["version"], memberIDs(got.body)}); diff != "" {
			t.Errorf("status, body, ETag, then GET's meta.version and members (-want +got):\n%s", diff)
		}
		if ct := r.header.Get("Content-Type"); ct != "" {
			t.Errorf("204 has Content-Type %q", ct)
		}
	})
	t.Run("no-op without query parameter", func(t *testing.T) {
		stored := snapshot(t, f.store, "acme")
		r := f.call(t, "PATCH", "/Groups/"+gid, patchBody(`[{"op":"add","path":"members","value":[{"value":"`+u[1]+`"}]}]`), nil)
		if diff := cmp.Diff([]any{http.StatusNoContent, "", `W/"2"`}, []any{r.status, r.raw, r.header.Get("ETag")}); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(stored, snapshot(t, f.store, "acme")); diff != "" {
			t.Errorf("a no-op PATCH wrote (-before +after):\n%s", diff)
		}
	})
	t.Run("attributes=displayName", func(t *testing.T) {
		r := f.call(t, "PATCH", "/Groups/"+gid+"?attributes=displayName", rename("GA2"), nil)
		if r.status != http.StatusOK {
			t.Fatalf("status = %d, want 200: %s", r.status, r.raw)
		}
		// Only displayName, and what is always returned (RFC 7643 §7).
		keys := slices.Sorted(maps.Keys(r.body))
		meta, _ := r.body["meta"].(map[string]any)
		got := []any{keys, r.body["schemas"], r.body["id"], r.body["displayName"], meta["version"], r.header.Get("ETag")}
		want := []any{[]string{"displayName", "id", "meta", "schemas"}, []any{groupCoreURN}, gid, "GA2", `W/"3"`, `W/"3"`}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("keys, schemas, id, displayName, meta.version, ETag (-want +got):\n%s\n%s", diff, r.raw)
		}
		if diff := cmp.Diff(f.call(t, "GET", "/Groups/"+gid+"?attributes=displayName", "", nil).body, r.body); diff != "" {
			t.Errorf("differs from a GET with the same attributes (-GET +PATCH):\n%s", diff)
		}
	})
	t.Run("excludedAttributes=members", func(t *testing.T) {
		r := f.call(t, "PATCH", "/Groups/"+gid+"?excludedAttributes=members", rename("GA3"), nil)
		if r.status != http.StatusOK {
			t.Fatalf("status = %d, want 200: %s", r.status, r.raw)
		}
		meta, _ := r.body["meta"].(map[string]any)
		_, hasMembers := r.body["members"]
		got := []any{r.body["id"], r.body["displayName"], hasMembers, meta["version"], r.header.Get("ETag")}
		if diff := cmp.Diff([]any{gid, "GA3", false, `W/"4"`, `W/"4"`}, got); diff != "" {
			t.Errorf("id, displayName, has members, meta.version, ETag (-want +got):\n%s\n%s", diff, r.raw)
		}
		if diff := cmp.Diff([]string{u[0], u[1]}, memberIDs(f.call(t, "GET", "/Groups/"+gid, "", nil).body)); diff != "" {
			t.Errorf("members after the rename (-want +got):\n%s", diff)
		}
	})
	t.Run("attributes=members", func(t *testing.T) {
		r := f.call(t, "PATCH", "/Groups/"+gid+"?attributes=members", patchBody(`[{"op":"remove","path":"members[value eq \"`+u[0]+`\"]"}]`), nil)
		if r.status != http.StatusOK {
			t.Fatalf("status = %d, want 200: %s", r.status, r.raw)
		}
		if diff := cmp.Diff([]string{u[1]}, memberIDs(r.body)); diff != "" {
			t.Errorf("members (-want +got):\n%s", diff)
		}
	})
	t.Run("user PATCH is still 200 with the resource", func(t *testing.T) {
		r := f.call(t, "PATCH", "/Users/"+u[0], patchBody(`[{"op":"replace","path":"title","value":"T"}]`), nil)
		meta, _ := r.body["meta"].(map[string]any)
		got := []any{r.status, r.body["id"], r.body["title"], r.header.Get("ETag") == meta["version"]}
		if diff := cmp.Diff([]any{http.StatusOK, u[0], "T", true}, got); diff != "" {
			t.Errorf("(-want +got):\n%s\n%s", diff, r.raw)
		}
	})
}
