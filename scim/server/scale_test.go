package server

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/store"
)

// bigGroup imports n users and one group holding all of them; it returns
// the users' ids and the group's id.
func bigGroup(t testing.TB, f *fixture, n int) ([]string, string) {
	t.Helper()
	ids := importUsers(t, f, "big", n)
	members := make([]any, len(ids))
	for i, id := range ids {
		members[i] = map[string]any{"value": id}
	}
	g, err := f.server.Import(t.Context(), "acme", store.TypeGroup, []scim.Resource{{"displayName": "Everyone", "members": members}})
	if err != nil {
		t.Fatal(err)
	}
	return ids, g[0]
}

// TestBigGroup: with a 100,000-member group, a PATCH adding 256 members
// reads only those (ListMembers with the named ids, never in full), GET
// with excludedAttributes=members never reads members, and a list page
// reads the groups of its users with one GroupsOf call.
func TestBigGroup(t *testing.T) {
	const n = 100000
	f, cs := countingFixture(t)
	t0 := time.Now()
	ids, gid := bigGroup(t, f, n)
	t.Logf("seeded in %v", time.Since(t0))
	extra := importUsers(t, f, "extra", 256)

	var b strings.Builder
	var want []string
	for i, id := range extra {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"value":"` + id + `"}`)
		want = append(want, id)
	}
	cs.reset()
	r := f.call(t, "PATCH", "/Groups/"+gid+"?excludedAttributes=members", patchBody(`[{"op":"add","path":"members","value":[`+b.String()+`]}]`), nil)
	if r.status != http.StatusOK || r.body["members"] != nil {
		t.Fatalf("PATCH: %d %.300s", r.status, r.raw)
	}
	if diff := cmp.Diff([][]string{want}, cs.listMembers); diff != "" {
		t.Errorf("ListMembers calls of the PATCH (-want +got):\n%.2000s", diff)
	}
	ms, err := f.store.ListMembers(t.Context(), "acme", gid, nil)
	if err != nil || len(ms) != n+256 || ms[n].Value != extra[0] || ms[n].Display != "extra000000@example.com" {
		t.Errorf("after PATCH: %d members, %v", len(ms), err)
	}

	t.Run("GET without members", func(t *testing.T) {
		for _, q := range []string{"?excludedAttributes=members", "?attributes=displayName", "?attributes=id,externalId"} {
			cs.reset()
			r := f.call(t, "GET", "/Groups/"+gid+q, "", nil)
			if r.status != http.StatusOK || r.body["members"] != nil || len(cs.listMembers) != 0 {
				t.Errorf("GET %s: %d, members %v, %d ListMembers calls", q, r.status, r.body["members"] != nil, len(cs.listMembers))
			}
		}
	})
	t.Run("a list page calls GroupsOf once", func(t *testing.T) {
		// Import gives a batch one creation time and ties go by id, so
		// the page holds imported users in id order, not import order.
		imported := map[string]bool{}
		for _, id := range slices.Concat(ids, extra) {
			imported[id] = true
		}
		seen := map[string]bool{}
		for _, start := range []string{"50001", "50101"} {
			cs.reset()
			r := f.call(t, "GET", "/Users?startIndex="+start+"&count=100", "", nil)
			if r.status != http.StatusOK || len(asList(r.body["Resources"])) != 100 || r.body["totalResults"] != float64(n+256) {
				t.Fatalf("list from %s: %d %.300s", start, r.status, r.raw)
			}
			if cs.groupsOf != 1 || cs.scans != 0 {
				t.Errorf("page from %s: GroupsOf calls = %d, scans = %d; want 1 and 0", start, cs.groupsOf, cs.scans)
			}
			us := asMaps(r.body["Resources"])
			var groups []string
			for _, g := range asMaps(us[0]["groups"]) {
				groups = append(groups, str(g["value"]))
			}
			if diff := cmp.Diff([]any{true, []string{gid}}, []any{imported[str(us[0]["id"])], groups}); diff != "" {
				t.Errorf("page from %s: first user %s imported, and its groups (-want +got):\n%s", start, us[0]["id"], diff)
			}
			for _, u := range us {
				id := str(u["id"])
				if seen[id] {
					t.Errorf("page from %s repeats user %s", start, id)
				}
				seen[id] = true
			}
		}
	})
	t.Run("Okta remove", func(t *testing.T) {
		// Without a query parameter the answer is 204 and no body: the
		// PATCH reads only the member it names.
		cs.reset()
		r := f.call(t, "PATCH", "/Groups/"+gid, patchBody(`[{"op":"remove","path":"members[value eq \"`+ids[7]+`\"]"}]`), nil)
		if r.status != http.StatusNoContent || r.raw != "" || r.header.Get("ETag") != `W/"3"` {
			t.Fatalf("PATCH: %d %s %.300s, want 204 W/\"3\" and no body", r.status, r.header.Get("ETag"), r.raw)
		}
		if diff := cmp.Diff([][]string{{ids[7]}}, cs.listMembers); diff != "" {
			t.Errorf("ListMembers calls (-want +got):\n%s", diff)
		}
	})
}

// TestImport: Import creates users and groups as POST would, refuses
// what POST refuses, and resolves members and their displays.
func TestImport(t *testing.T) {
	f := newFixture(t)
	ids := importUsers(t, f, "imp", 3)
	u := f.call(t, "GET", "/Users/"+ids[1], "", nil)
	if u.status != http.StatusOK || u.body["userName"] != "imp000001@example.com" || u.header.Get("ETag") != `W/"1"` {
		t.Fatalf("imported user: %d %s", u.status, u.raw)
	}
	l := f.call(t, "GET", "/Users?filter="+escapeQuery(`emails.value eq "IMP000002@example.com"`), "", nil)
	if l.body["totalResults"] != float64(1) {
		t.Errorf("filter on an imported email: %s", l.raw)
	}
	g, err := f.server.Import(t.Context(), "acme", store.TypeGroup, []scim.Resource{
		{"displayName": "G", "members": []any{map[string]any{"value": ids[2]}, map[string]any{"value": ids[0], "display": "Zero"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	gr := f.call(t, "GET", "/Groups/"+g[0], "", nil)
	got := []string{}
	for _, m := range asMaps(gr.body["members"]) {
		got = append(got, str(m["value"])+" "+str(m["display"]))
	}
	if diff := cmp.Diff([]string{ids[2] + " imp000002@example.com", ids[0] + " Zero"}, got); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	for _, tt := range []struct {
		name, typ string
		res       scim.Resource
	}{
		{"no userName", store.TypeUser, scim.Resource{"active": true}},
		{"taken userName", store.TypeUser, scim.Resource{"userName": "IMP000000@example.com"}},
		{"unknown member", store.TypeGroup, scim.Resource{"displayName": "H", "members": []any{map[string]any{"value": "nope"}}}},
		{"unknown type", "Device", scim.Resource{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := snapshot(t, f.store, "acme")
			if _, err := f.server.Import(t.Context(), "acme", tt.typ, []scim.Resource{tt.res}); err == nil {
				t.Errorf("Import succeeded")
			}
			if diff := cmp.Diff(before, snapshot(t, f.store, "acme")); diff != "" {
				t.Errorf("a failed import wrote (-before +after):\n%s", diff)
			}
		})
	}
}
