package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/store"
)

func patchBody(ops string) string {
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":` + ops + `}`
}

// TestNoOpPatchKeepsVersion: a PATCH that changes nothing writes nothing:
// 200 with the stored resource, the same meta.version, lastModified and
// ETag, and the stored record untouched. A stale If-Match is still 412.
func TestNoOpPatchKeepsVersion(t *testing.T) {
	f := newFixture(t)
	uid := f.createUser(t, "noop@example.com")
	other := f.createUser(t, "other@example.com")
	g := f.call(t, "POST", "/Groups", `{"displayName":"Noop","members":[{"value":"`+uid+`"}]}`, nil)
	if g.status != http.StatusCreated {
		t.Fatalf("create group: %d %s", g.status, g.raw)
	}
	gid := g.body["id"].(string)
	tests := []struct {
		name, path, ops string
	}{
		{"remove by a filter matching nothing", "/Users/" + uid, `[{"op":"remove","path":"emails[value eq \"nomatch\"]"}]`},
		{"remove an absent title", "/Users/" + uid, `[{"op":"remove","path":"title"}]`},
		{"add an email already there", "/Users/" + uid, `[{"op":"add","path":"emails","value":[{"value":"noop@example.com","type":"work","primary":true}]}]`},
		{"replace with the same value", "/Users/" + uid, `[{"op":"replace","path":"active","value":true}]`},
		{"path-less unknown attribute", "/Users/" + uid, `[{"op":"replace","value":{"nosuch":"x"}}]`},
		{"path-less unknown sub-attribute", "/Users/" + uid, `[{"op":"replace","value":{"name.nosuch":"x"}}]`},
		{"path-less unknown extension attribute", "/Users/" + uid, `[{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:nosuch":"x"}}]`},
		{"remove unknown members", "/Groups/" + gid, `[{"op":"remove","path":"members","value":[{"value":"nope"}]}]`},
		{"remove a member not in the group", "/Groups/" + gid, `[{"op":"remove","path":"members[value eq \"` + other + `\"]"}]`},
		{"add a member already there", "/Groups/" + gid, `[{"op":"add","path":"members","value":[{"value":"` + uid + `"}]}]`},
		{"Okta rename to the same name", "/Groups/" + gid, `[{"op":"replace","value":{"id":"` + gid + `","displayName":"Noop"}}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.call(t, "GET", tt.path, "", nil)
			stored := snapshot(t, f.store, "acme")
			r := f.call(t, "PATCH", tt.path, patchBody(tt.ops), nil)
			if r.status != http.StatusOK {
				t.Fatalf("status = %d, want 200: %s", r.status, r.raw)
			}
			if diff := cmp.Diff(before.body, r.body); diff != "" {
				t.Errorf("response differs from the resource before (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(before.header.Get("ETag"), r.header.Get("ETag")); diff != "" {
				t.Errorf("ETag changed (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(stored, snapshot(t, f.store, "acme")); diff != "" {
				t.Errorf("a no-op PATCH wrote (-before +after):\n%s", diff)
			}
		})
	}
	t.Run("stale If-Match on a no-op is 412", func(t *testing.T) {
		r := f.call(t, "PATCH", "/Users/"+uid, patchBody(`[{"op":"remove","path":"title"}]`), map[string]string{"If-Match": `W/"99"`})
		if diff := cmp.Diff(scimError(412, ""), errorOf(r)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("a real change still bumps the version", func(t *testing.T) {
		before := f.call(t, "GET", "/Users/"+uid, "", nil)
		r := f.call(t, "PATCH", "/Users/"+uid, patchBody(`[{"op":"replace","path":"title","value":"New"}]`), nil)
		if r.status != http.StatusOK {
			t.Fatalf("status = %d: %s", r.status, r.raw)
		}
		bv := before.body["meta"].(map[string]any)["version"]
		av := r.body["meta"].(map[string]any)["version"]
		if bv == av {
			t.Errorf("version stayed %v after a change", av)
		}
	})
}

// TestPathlessValuePathKeyOverHTTP: a value-path key works without a path,
// and a key that is no path is 400 invalidPath, with nothing written.
func TestPathlessValuePathKeyOverHTTP(t *testing.T) {
	f := newFixture(t)
	uid := f.createUser(t, "vp@example.com")
	r := f.call(t, "PATCH", "/Users/"+uid, patchBody(`[{"op":"replace","value":{"emails[type eq \"work\"].value":"e@w"}},{"op":"Add","value":{"addresses[type eq \"work\"].locality":"Paris"}}]`), nil)
	if r.status != http.StatusOK {
		t.Fatalf("status = %d: %s", r.status, r.raw)
	}
	got := map[string]any{"emails": r.body["emails"], "addresses": r.body["addresses"]}
	want := map[string]any{
		"emails":    []any{map[string]any{"value": "e@w", "type": "work", "primary": true}},
		"addresses": []any{map[string]any{"type": "work", "locality": "Paris"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	before := snapshot(t, f.store, "acme")
	bad := f.call(t, "PATCH", "/Users/"+uid, patchBody(`[{"op":"add","value":{"emails[bad syntax":5}}]`), nil)
	if diff := cmp.Diff(scimError(400, "invalidPath"), errorOf(bad)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if d, _ := bad.body["detail"].(string); !strings.Contains(d, `emails[bad syntax`) {
		t.Errorf("detail %q does not name the key", d)
	}
	if diff := cmp.Diff(before, snapshot(t, f.store, "acme")); diff != "" {
		t.Errorf("a failed PATCH wrote (-before +after):\n%s", diff)
	}
}

// TestBlankRequiredOverHTTP: "   " is no userName or displayName.
func TestBlankRequiredOverHTTP(t *testing.T) {
	f := newFixture(t)
	uid := f.createUser(t, "blank@example.com")
	tests := []struct {
		name, method, path, body, detail string
	}{
		{"POST blank userName", "POST", "/Users", `{"userName":"   "}`, "userName"},
		{"POST blank displayName", "POST", "/Groups", `{"displayName":" \t "}`, "displayName"},
		{"PUT blank userName", "PUT", "/Users/" + uid, `{"userName":"  "}`, "userName"},
		{"PATCH blank userName", "PATCH", "/Users/" + uid, patchBody(`[{"op":"replace","path":"userName","value":"  "}]`), `operation 1 (replace): attribute "userName"`},
		{"PATCH remove userName", "PATCH", "/Users/" + uid, patchBody(`[{"op":"add","path":"title","value":"x"},{"op":"remove","path":"userName"}]`), `operation 2 (remove): attribute "userName"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := snapshot(t, f.store, "acme")
			r := f.call(t, tt.method, tt.path, tt.body, nil)
			if r.status != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400: %s", r.status, r.raw)
			}
			if d, _ := r.body["detail"].(string); !strings.Contains(d, tt.detail) {
				t.Errorf("detail %q does not contain %q", d, tt.detail)
			}
			if diff := cmp.Diff(before, snapshot(t, f.store, "acme")); diff != "" {
				t.Errorf("a refused write changed data (-before +after):\n%s", diff)
			}
		})
	}
}

// TestLowercaseDateTimeFilter: "t" and "z" may be lowercase (RFC 3339 §5.6).
func TestLowercaseDateTimeFilter(t *testing.T) {
	f := newFixture(t)
	f.createUser(t, "dt@example.com")
	r := f.call(t, "GET", `/Users?filter=meta.created%20gt%20%222000-01-01t00:00:00z%22`, "", nil)
	if r.status != http.StatusOK {
		t.Fatalf("status = %d: %s", r.status, r.raw)
	}
	if diff := cmp.Diff(float64(1), r.body["totalResults"]); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// rawCall is a request that is safe in a goroutine: it reports failures
// as errors instead of failing the test.
func (f *fixture) rawCall(method, path, body string) (int, string, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.base("acme")+path, rd)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+f.acmeToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data), err
}

// TestAddMemberRacesDelete: PATCH adding U to G concurrently with DELETE
// of U never leaves G listing U, and G can then be PUT with its own
// members.
func TestAddMemberRacesDelete(t *testing.T) {
	f := newFixture(t)
	g := f.call(t, "POST", "/Groups", `{"displayName":"Race"}`, nil)
	gid := g.body["id"].(string)
	for i := range 30 {
		uid := f.createUser(t, fmt.Sprintf("race%d@example.com", i))
		var wg sync.WaitGroup
		var patchStatus, delStatus int
		var patchErr, delErr error
		var patchRaw string
		wg.Add(2)
		go func() {
			defer wg.Done()
			patchStatus, patchRaw, patchErr = f.rawCall("PATCH", "/Groups/"+gid, patchBody(`[{"op":"add","path":"members","value":[{"value":"`+uid+`"}]}]`))
		}()
		go func() {
			defer wg.Done()
			delStatus, _, delErr = f.rawCall("DELETE", "/Users/"+uid, "")
		}()
		wg.Wait()
		if patchErr != nil || delErr != nil {
			t.Fatalf("trial %d: %v %v", i, patchErr, delErr)
		}
		if delStatus != http.StatusNoContent {
			t.Fatalf("trial %d: DELETE = %d", i, delStatus)
		}
		if patchStatus != http.StatusOK && patchStatus != http.StatusBadRequest {
			t.Fatalf("trial %d: PATCH = %d %s", i, patchStatus, patchRaw)
		}
		cur := f.call(t, "GET", "/Groups/"+gid, "", nil)
		var ids []string
		list, _ := cur.body["members"].([]any)
		for _, m := range list {
			ids = append(ids, m.(map[string]any)["value"].(string))
		}
		if len(ids) != 0 {
			t.Fatalf("trial %d (PATCH %d): group lists %v after its user %s was deleted", i, patchStatus, ids, uid)
		}
	}
}

// TestPutDropsDanglingMembers: a member the stored group lists whose user
// no longer exists is dropped by a PUT that repeats it; a new unknown
// member is still 400.
func TestPutDropsDanglingMembers(t *testing.T) {
	f := newFixture(t)
	uid := f.createUser(t, "kept@example.com")
	g := f.call(t, "POST", "/Groups", `{"displayName":"Dangling","members":[{"value":"`+uid+`"}]}`, nil)
	gid := g.body["id"].(string)
	// Leave a dangling member behind, as the race with DELETE once did.
	_, err := f.store.UpdateResource(context.Background(), "acme", store.TypeGroup, gid, func(rec *store.Record) error {
		var res map[string]any
		if err := json.Unmarshal(rec.Data, &res); err != nil {
			return err
		}
		res["members"] = append(res["members"].([]any), map[string]any{"value": "gone-user", "type": "User", "display": "gone@example.com"})
		data, err := json.Marshal(res)
		rec.Data = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	cur := f.call(t, "GET", "/Groups/"+gid, "", nil)
	body, _ := json.Marshal(map[string]any{"displayName": "Dangling", "members": cur.body["members"]})
	r := f.call(t, "PUT", "/Groups/"+gid, string(body), nil)
	if r.status != http.StatusOK {
		t.Fatalf("PUT with its own members = %d: %s", r.status, r.raw)
	}
	var ids []string
	for _, m := range r.body["members"].([]any) {
		ids = append(ids, m.(map[string]any)["value"].(string))
	}
	if diff := cmp.Diff([]string{uid}, ids); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	bad := f.call(t, "PUT", "/Groups/"+gid, `{"displayName":"Dangling","members":[{"value":"`+uid+`"},{"value":"never-was"}]}`, nil)
	if diff := cmp.Diff(scimError(400, "invalidValue"), errorOf(bad)); diff != "" {
		t.Errorf("new unknown member (-want +got):\n%s", diff)
	}
	if d, _ := bad.body["detail"].(string); !strings.Contains(d, "never-was") {
		t.Errorf("detail %q does not name the member", d)
	}
}
