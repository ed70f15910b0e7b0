package server

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestFilterOnTimesShown checks that meta.lastModified as a client reads
// it is what filters compare, also for a time the store set by itself:
// deleting a member's user moves its group's lastModified on, at the
// store's microsecond precision. Each filter is asked as pushed to SQL
// and, with an "or" on an attribute that is not indexed, as evaluated in
// memory; both must agree.
func TestFilterOnTimesShown(t *testing.T) {
	f := newFixture(t)
	u := f.call(t, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"gone@example.com"}`, nil)
	g := f.call(t, "POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Team","members":[{"value":"`+str(u.body["id"])+`"}]}`, nil)
	if r := f.call(t, "DELETE", "/Users/"+str(u.body["id"]), "", nil); r.status != http.StatusNoContent {
		t.Fatalf("DELETE user: %d %s", r.status, r.raw)
	}
	gid := str(g.body["id"])
	got := f.call(t, "GET", "/Groups/"+gid, "", nil)
	shown := str(got.body["meta"].(map[string]any)["lastModified"])
	if shown == str(g.body["meta"].(map[string]any)["lastModified"]) && got.header.Get("ETag") == g.header.Get("ETag") {
		t.Fatalf("the group did not move on when its member's user was deleted: %s", got.raw)
	}
	for _, tc := range []struct {
		op   string
		want []string
	}{
		{"eq", []string{gid}},
		{"ge", []string{gid}},
		{"le", []string{gid}},
		{"gt", nil},
		{"lt", nil},
	} {
		for _, extra := range []string{"", ` or members.display eq "nobody"`} {
			q := `meta.lastModified ` + tc.op + ` "` + shown + `"` + extra
			r := f.call(t, "GET", "/Groups?filter="+url.QueryEscape(q), "", nil)
			var ids []string
			for _, m := range asMaps(r.body["Resources"]) {
				ids = append(ids, str(m["id"]))
			}
			if diff := cmp.Diff(tc.want, ids); diff != "" || r.status != http.StatusOK {
				t.Errorf("%s: status %d, ids (-want +got):\n%s", q, r.status, diff)
			}
		}
	}
}
