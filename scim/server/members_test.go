package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/store"
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
		if patchStatus != http.StatusOK && patchStatus != http.StatusBadRequest {
			t.Fatalf("trial %d: PATCH = %d %s", i, patchStatus, patchRaw)
		}
		cur := f.call(t, "GET", "/Groups/"+gid, "", nil)
		ids := memberIDs(cur.body)
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
	if diff := cmp.Diff([]string{uid}, memberIDs(r.body)); diff != "" {
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
