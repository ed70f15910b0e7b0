package server

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

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
		if patchStatus != http.StatusNoContent && patchStatus != http.StatusBadRequest {
			t.Fatalf("trial %d: PATCH = %d %s", i, patchStatus, patchRaw)
		}
		cur := f.call(t, "GET", "/Groups/"+gid, "", nil)
		ids := memberIDs(cur.body)
		if len(ids) != 0 {
			t.Fatalf("trial %d (PATCH %d): group lists %v after its user %s was deleted", i, patchStatus, ids, uid)
		}
	}
}

// TestUnknownMembers: a member that is not a user of the tenant (never
// was, deleted, or of another tenant) is 400 invalidValue naming it, on
// POST, PUT and PATCH, and nothing is written.
func TestUnknownMembers(t *testing.T) {
	f := newFixture(t)
	uid := f.createUser(t, "kept@example.com")
	other := f.createUserIn(t, "beta", f.betaToken, "beta@example.com")
	gone := f.createUser(t, "gone@example.com")
	if r := f.call(t, "DELETE", "/Users/"+gone, "", nil); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.raw)
	}
	g := f.call(t, "POST", "/Groups", `{"displayName":"Known","members":[{"value":"`+uid+`"}]}`, nil)
	gid := g.body["id"].(string)
	for _, id := range []string{"never-was", gone, other} {
		for _, tt := range []struct{ name, method, path, body string }{
			{"POST", "POST", "/Groups", `{"displayName":"New","members":[{"value":"` + uid + `"},{"value":"` + id + `"}]}`},
			{"PUT", "PUT", "/Groups/" + gid, `{"displayName":"Known","members":[{"value":"` + uid + `"},{"value":"` + id + `"}]}`},
			{"PATCH add", "PATCH", "/Groups/" + gid, patchBody(`[{"op":"add","path":"members","value":[{"value":"` + id + `"}]}]`)},
			{"PATCH fallback", "PATCH", "/Groups/" + gid, patchBody(`[{"op":"add","path":"members","value":[{"value":"` + id + `"}]},{"op":"remove","path":"members[display eq \"x\"]"}]`)},
		} {
			t.Run(tt.name+" "+id, func(t *testing.T) {
				bad := f.callUnchanged(t, tt.method, tt.path, tt.body, nil)
				if diff := cmp.Diff(scimError(400, "invalidValue"), errorOf(bad)); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
				if d, _ := bad.body["detail"].(string); !strings.Contains(d, id) {
					t.Errorf("detail %q does not name the member", d)
				}
			})
		}
	}
}
