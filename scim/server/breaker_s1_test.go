package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/secret"
	"github.com/idpkit/idpkit/scim/store"
)

// Regression tests for defects a reviewer found: malformed query strings,
// invalid UTF-8 bodies, User ETags and groups, If-None-Match on writes,
// bulkId substitution, error detail length, GET …/.search, long filters
// and blank required strings.

// A query string that is not valid URL encoding, or not UTF-8, is 400:
// never a list with the bad parameter silently dropped.
func TestMalformedQuery(t *testing.T) {
	f := newFixture(t)
	uid := f.createUser(t, "50%off@x.com")
	f.createUser(t, "other@x.com")
	gid := f.call(t, "POST", "/Groups", `{"displayName":"q"}`, nil).body["id"].(string)
	patch := `{"Operations":[{"op":"replace","path":"title","value":"changed"}]}`
	tests := []struct {
		name, method, path, body string
		want                     map[string]any
	}{
		{"bare % in a filter", "GET", "/Users?filter=userName%20eq%20%2250%off@x.com%22", "", scimError(400, "invalidFilter")},
		{"%zz filter", "GET", "/Users?filter=%zz", "", scimError(400, "invalidFilter")},
		{"semicolon after a filter", "GET", "/Users?filter=userName%20eq%20%22nobody%22;x=1", "", scimError(400, "invalidFilter")},
		{"filter not UTF-8", "GET", "/Users?filter=userName%20eq%20%22%FF%22", "", scimError(400, "invalidFilter")},
		{"count", "GET", "/Users?count=%zz", "", scimError(400, "invalidValue")},
		{"sortBy", "GET", "/Users?sortBy=password%zz", "", scimError(400, "invalidValue")},
		{"excludedAttributes", "GET", "/Users?excludedAttributes=%zz", "", scimError(400, "invalidValue")},
		{"attributes not UTF-8", "GET", "/Users?attributes=%FF", "", scimError(400, "invalidValue")},
		{"parameter name not UTF-8", "GET", "/Users?%FF=1", "", scimError(400, "invalidValue")},
		{"get one", "GET", "/Users/" + uid + "?attributes=%zz", "", scimError(400, "invalidValue")},
		{"groups list", "GET", "/Groups?filter=displayName%20eq%20%22q%zz%22", "", scimError(400, "invalidFilter")},
		{"POST", "POST", "/Users?attributes=%zz", `{"userName":"new@x.com"}`, scimError(400, "invalidValue")},
		{"PUT", "PUT", "/Users/" + uid + "?attributes=userName;x", `{"userName":"50%off@x.com","title":"changed"}`, scimError(400, "invalidValue")},
		{"PATCH", "PATCH", "/Groups/" + gid + "?excludedAttributes=%", `{"Operations":[{"op":"replace","path":"displayName","value":"q2"}]}`, scimError(400, "invalidValue")},
		{"PATCH user", "PATCH", "/Users/" + uid + "?attributes=%zz", patch, scimError(400, "invalidValue")},
		{"DELETE", "DELETE", "/Users/" + uid + "?x=%zz", "", scimError(400, "invalidValue")},
		{"search", "POST", "/Users/.search?%zz", `{"filter":"userName pr"}`, scimError(400, "invalidValue")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := snapshot(t, f.store, "acme")
			r := f.call(t, tt.method, tt.path, tt.body, nil)
			if diff := cmp.Diff(tt.want, errorOf(r)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
			}
			if d, _ := r.body["detail"].(string); !strings.Contains(d, "not valid URL encoding") && !strings.Contains(d, "not valid UTF-8") {
				t.Errorf("detail %q does not say what is wrong with the query string", d)
			}
			if diff := cmp.Diff(before, snapshot(t, f.store, "acme")); diff != "" {
				t.Errorf("stored data changed (-before +after):\n%s", diff)
			}
		})
	}
	t.Run("the same filter encoded properly", func(t *testing.T) {
		r := f.call(t, "GET", "/Users?filter=userName%20eq%20%2250%25off@x.com%22", "", nil)
		if diff := cmp.Diff([]any{200, float64(1)}, []any{r.status, r.body["totalResults"]}); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
		}
	})
}

// A body that is not UTF-8, or escapes half a surrogate pair, is 400
// invalidSyntax: it is never stored with U+FFFD in place of what was sent.
func TestBodyUTF8(t *testing.T) {
	f := newFixture(t)
	uid := f.createUser(t, "utf@example.com")
	tests := []struct {
		name, method, path, body string
		status                   int
		userName                 string // of a 201
	}{
		{"invalid UTF-8", "POST", "/Users", "{\"userName\":\"bad\xff\xfeutf\"}", 400, ""},
		{"other invalid UTF-8", "POST", "/Users", "{\"userName\":\"bad\xfe\xffutf\"}", 400, ""},
		{"invalid UTF-8 outside strings", "POST", "/Users", "{\"userName\":\"ok@x\"}\xff", 400, ""},
		{"lone high surrogate", "POST", "/Users", `{"userName":"\ud800"}`, 400, ""},
		{"lone low surrogate", "POST", "/Users", `{"userName":"\udfff"}`, 400, ""},
		{"upper-case escape", "POST", "/Users", `{"userName":"x\uDBFF"}`, 400, ""},
		{"high then not low", "POST", "/Users", `{"userName":"\ud800\u0041"}`, 400, ""},
		{"high then high", "POST", "/Users", `{"userName":"\ud800\ud800"}`, 400, ""},
		{"low then high", "POST", "/Users", `{"userName":"\udc00\ud800"}`, 400, ""},
		{"high at the end", "POST", "/Users", `{"userName":"a","x":"\ud800`, 400, ""},
		{"in a key", "POST", "/Users", `{"userName":"k@x","\ud800":1}`, 400, ""},
		{"PATCH", "PATCH", "/Users/" + uid, `{"Operations":[{"op":"replace","path":"title","value":"\udfff"}]}`, 400, ""},
		{"PUT", "PUT", "/Users/" + uid, "{\"userName\":\"utf@example.com\",\"title\":\"\xc3\"}", 400, ""},
		{"search", "POST", "/Users/.search", `{"filter":"userName eq \"\ud800\""}`, 400, ""},
		{"bulk", "POST", "/Bulk", bulkBody("", `{"method":"POST","bulkId":"a","path":"/Users","data":{"userName":"\ud800"}}`), 400, ""},
		{"valid pair", "POST", "/Users", `{"userName":"smile\ud83d\ude00@x"}`, 201, "smile😀@x"},
		{"escaped backslash before u", "POST", "/Users", `{"userName":"a\\ud800"}`, 201, `a\ud800`},
		{"escaped backslash then escape", "POST", "/Users", `{"userName":"b\\\u00e9"}`, 201, `b\é`},
		{"UTF-8 as sent", "POST", "/Users", `{"userName":"zoë@x"}`, 201, "zoë@x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := snapshot(t, f.store, "acme")
			r := f.call(t, tt.method, tt.path, tt.body, nil)
			if tt.status == 400 {
				if diff := cmp.Diff(scimError(400, "invalidSyntax"), errorOf(r)); diff != "" {
					t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
				}
				if diff := cmp.Diff(before, snapshot(t, f.store, "acme")); diff != "" {
					t.Errorf("stored data changed (-before +after):\n%s", diff)
				}
				return
			}
			if diff := cmp.Diff([]any{tt.status, tt.userName}, []any{r.status, r.body["userName"]}); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
			}
		})
	}
}

// A User's ETag and meta.version reflect its groups: joining, the rename
// and the deletion of a group change them, and If-Match with a tag from
// before is 412.
func TestUserTagFollowsGroups(t *testing.T) {
	f := newFixture(t)
	uid := f.createUser(t, "tag@example.com")
	tagOf := func(t *testing.T) string {
		t.Helper()
		r := f.call(t, "GET", "/Users/"+uid, "", nil)
		meta, _ := r.body["meta"].(map[string]any)
		if diff := cmp.Diff(r.header.Get("ETag"), meta["version"]); diff != "" {
			t.Fatalf("ETag and meta.version differ (-etag +version):\n%s", diff)
		}
		l := f.call(t, "GET", "/Users?filter=id%20eq%20%22"+uid+"%22", "", nil)
		lmeta, _ := asList(l.body["Resources"])[0].(map[string]any)["meta"].(map[string]any)
		if diff := cmp.Diff(r.header.Get("ETag"), lmeta["version"]); diff != "" {
			t.Fatalf("the list's meta.version differs from the ETag (-etag +list):\n%s", diff)
		}
		return r.header.Get("ETag")
	}
	t0 := tagOf(t)
	if t0 != `W/"1"` {
		t.Fatalf("a user in no group has tag %s, want W/\"1\"", t0)
	}
	status := func(t *testing.T, tag string) int {
		t.Helper()
		return f.call(t, "GET", "/Users/"+uid, "", map[string]string{"If-None-Match": tag}).status
	}
	g := f.call(t, "POST", "/Groups", `{"displayName":"Tagged","members":[{"value":"`+uid+`"}]}`, nil)
	gid := g.body["id"].(string)
	t1 := tagOf(t)
	t.Run("joining a group", func(t *testing.T) {
		if diff := cmp.Diff([]any{200, 304, true}, []any{status(t, t0), status(t, t1), strings.HasPrefix(t1, `W/"1-`)}); diff != "" {
			t.Errorf("(-want +got):\n%s\ntags %s %s", diff, t0, t1)
		}
	})
	t.Run("writes with the tag from before joining", func(t *testing.T) {
		for _, c := range []struct{ method, body string }{
			{"PUT", `{"userName":"tag@example.com","title":"x"}`},
			{"PATCH", `{"Operations":[{"op":"replace","path":"title","value":"x"}]}`},
			{"DELETE", ""},
		} {
			before := snapshot(t, f.store, "acme")
			for _, tag := range []string{t0, `"1"`, `1`} {
				r := f.call(t, c.method, "/Users/"+uid, c.body, map[string]string{"If-Match": tag})
				if diff := cmp.Diff(scimError(412, ""), errorOf(r)); diff != "" {
					t.Errorf("%s with If-Match %s (-want +got):\n%s\n%s", c.method, tag, diff, r.raw)
				}
			}
			if diff := cmp.Diff(before, snapshot(t, f.store, "acme")); diff != "" {
				t.Errorf("%s: 412 changed stored data (-before +after):\n%s", c.method, diff)
			}
		}
	})
	t.Run("the current tag in every form", func(t *testing.T) {
		forms := []func(tag, opaque string) string{
			func(tag, _ string) string { return tag },
			func(_, opaque string) string { return `"` + opaque + `"` },
			func(_, opaque string) string { return opaque },
			func(tag, _ string) string { return `W/"0", ` + tag },
		}
		for i, form := range forms {
			tag := form(t1, strings.Trim(strings.TrimPrefix(t1, "W/"), `"`))
			r := f.call(t, "PATCH", "/Users/"+uid, `{"Operations":[{"op":"replace","path":"title","value":"t`+string(rune('a'+i))+`"}]}`, map[string]string{"If-Match": tag})
			if r.status != 200 {
				t.Fatalf("PATCH with If-Match %s: %d %s", tag, r.status, r.raw)
			}
			t1 = r.header.Get("ETag")
			if diff := cmp.Diff(t1, r.body["meta"].(map[string]any)["version"]); diff != "" {
				t.Errorf("ETag and meta.version differ:\n%s", diff)
			}
		}
	})
	t.Run("renaming the group", func(t *testing.T) {
		if r := f.call(t, "PATCH", "/Groups/"+gid, `{"Operations":[{"op":"replace","path":"displayName","value":"Renamed"}]}`, nil); r.status != 200 {
			t.Fatalf("rename: %d %s", r.status, r.raw)
		}
		t2 := tagOf(t)
		if diff := cmp.Diff([]any{200, 304}, []any{status(t, t1), status(t, t2)}); diff != "" {
			t.Errorf("(-want +got):\n%s\ntags %s %s", diff, t1, t2)
		}
		t1 = t2
	})
	t.Run("deleting the group", func(t *testing.T) {
		if r := f.call(t, "DELETE", "/Groups/"+gid, "", nil); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.raw)
		}
		t3 := tagOf(t)
		if diff := cmp.Diff([]any{200, 304}, []any{status(t, t1), status(t, t3)}); diff != "" {
			t.Errorf("(-want +got):\n%s\ntags %s %s", diff, t1, t3)
		}
		if r := f.call(t, "DELETE", "/Users/"+uid, "", map[string]string{"If-Match": t1}); r.status != 412 {
			t.Errorf("DELETE with the tag from before the group's deletion: %d, want 412", r.status)
		}
		if r := f.call(t, "DELETE", "/Users/"+uid, "", map[string]string{"If-Match": t3}); r.status != 204 {
			t.Errorf("DELETE with the current tag: %d %s, want 204", r.status, r.raw)
		}
	})
	t.Run("groups keep the stored version", func(t *testing.T) {
		g := f.call(t, "POST", "/Groups", `{"displayName":"plain"}`, nil)
		if diff := cmp.Diff([]any{`W/"1"`, `W/"1"`}, []any{g.header.Get("ETag"), g.body["meta"].(map[string]any)["version"]}); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

// If-None-Match on PUT, PATCH and DELETE (RFC 7232 §3.2): "*" or a list
// with the current tag is 412 and changes nothing; another tag lets the
// request through.
func TestIfNoneMatchOnWrites(t *testing.T) {
	f := newFixture(t)
	uid := f.createUser(t, "inmw@example.com")
	gid := f.call(t, "POST", "/Groups", `{"displayName":"inmw"}`, nil).body["id"].(string)
	tests := []struct {
		name, method, path, body, ifNoneMatch string
		want                                  int
	}{
		{"PUT star", "PUT", "/Users/" + uid, `{"userName":"inmw@example.com","title":"a"}`, "*", 412},
		{"PUT current", "PUT", "/Users/" + uid, `{"userName":"inmw@example.com","title":"a"}`, `W/"1"`, 412},
		{"PATCH star", "PATCH", "/Users/" + uid, `{"Operations":[{"op":"replace","path":"title","value":"b"}]}`, "*", 412},
		{"PATCH list with current", "PATCH", "/Groups/" + gid, `{"Operations":[{"op":"replace","path":"displayName","value":"x"}]}`, `W/"7", "1"`, 412},
		{"PATCH group star", "PATCH", "/Groups/" + gid, `{"Operations":[{"op":"replace","path":"displayName","value":"x"}]}`, "*", 412},
		{"DELETE star", "DELETE", "/Users/" + uid, "", "*", 412},
		{"DELETE group current", "DELETE", "/Groups/" + gid, "", `W/"1"`, 412},
		{"PUT other tag", "PUT", "/Users/" + uid, `{"userName":"inmw@example.com","title":"a"}`, `W/"9"`, 200},
		{"PATCH old tag", "PATCH", "/Users/" + uid, `{"Operations":[{"op":"replace","path":"title","value":"b"}]}`, `W/"1"`, 200},
		{"PATCH group other tag", "PATCH", "/Groups/" + gid, `{"Operations":[{"op":"replace","path":"displayName","value":"y"}]}`, `W/"5"`, 200},
		{"DELETE old tag", "DELETE", "/Users/" + uid, "", `W/"1"`, 204},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := snapshot(t, f.store, "acme")
			r := f.call(t, tt.method, tt.path, tt.body, map[string]string{"If-None-Match": tt.ifNoneMatch})
			if r.status != tt.want {
				t.Fatalf("status = %d, want %d: %s", r.status, tt.want, r.raw)
			}
			if tt.want == 412 {
				if diff := cmp.Diff(scimError(412, ""), errorOf(r)); diff != "" {
					t.Errorf("mismatch (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(before, snapshot(t, f.store, "acme")); diff != "" {
					t.Errorf("412 changed stored data (-before +after):\n%s", diff)
				}
			}
		})
	}
}

// bulkId references are replaced only where a resource id goes (RFC 7644
// §3.7.2): never in a password or another attribute, and a password is
// never echoed in a detail.
func TestBulkRefsOnlyInReferences(t *testing.T) {
	f := newFixture(t)
	ops := f.bulkOps(t, bulkBody("",
		`{"method":"POST","bulkId":"p1","path":"/Users","data":{"userName":"pw1@example.com","password":"bulkId:MyS3cretPassw0rd"}}`,
		`{"method":"POST","bulkId":"p2","path":"/Users","data":{"userName":"pw2@example.com","password":"bulkId:p3","title":"bulkId:p3"}}`,
		`{"method":"POST","bulkId":"p3","path":"/Users","data":{"userName":"pw3@example.com"}}`,
		`{"method":"POST","bulkId":"g1","path":"/Groups","data":{"displayName":"G","members":[{"value":"bulkId:p3"}]}}`,
		`{"method":"PATCH","path":"/Groups/bulkId:g1","data":{"Operations":[{"op":"add","path":"members","value":[{"value":"bulkId:p1"}]}]}}`,
		`{"method":"PATCH","path":"/Users/bulkId:p1","data":{"Operations":[{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"bulkId:p3"}}}}]}}`,
		`{"method":"PATCH","path":"/Users/bulkId:p2","data":{"Operations":[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":"bulkId:p1"}}]}}`,
		`{"method":"PATCH","path":"/Users/bulkId:p3","data":{"Operations":[{"op":"replace","path":"password","value":"bulkId:p1"}]}}`,
	))
	want := []opSummary{
		{Method: "POST", BulkID: "p1", Status: "201", Location: true, Version: true},
		{Method: "POST", BulkID: "p2", Status: "201", Location: true, Version: true},
		{Method: "POST", BulkID: "p3", Status: "201", Location: true, Version: true},
		{Method: "POST", BulkID: "g1", Status: "201", Location: true, Version: true},
		{Method: "PATCH", Status: "200", Location: true, Version: true},
		{Method: "PATCH", Status: "200", Location: true, Version: true},
		{Method: "PATCH", Status: "200", Location: true, Version: true},
		{Method: "PATCH", Status: "200", Location: true, Version: true},
	}
	if diff := cmp.Diff(want, summarize(ops)); diff != "" {
		t.Fatalf("results (-want +got):\n%s\n%v", diff, ops)
	}
	p1, p2, p3 := idOf(ops[0]), idOf(ops[1]), idOf(ops[2])
	stored := func(id string) scim.Resource {
		rec, err := f.store.GetResource(context.Background(), "acme", store.TypeUser, id)
		if err != nil {
			t.Fatal(err)
		}
		var res scim.Resource
		json.Unmarshal(rec.Data, &res)
		return res
	}
	pw := func(id string) string { s, _ := stored(id)["password"].(string); return s }
	manager := func(id string) any {
		ext, _ := stored(id)[scim.SchemaEnterpriseUser].(map[string]any)
		m, _ := ext["manager"].(map[string]any)
		return m["value"]
	}
	g := f.call(t, "GET", "/Groups/"+idOf(ops[3]), "", nil)
	var memberIDs []any
	for _, m := range asList(g.body["members"]) {
		memberIDs = append(memberIDs, m.(map[string]any)["value"])
	}
	got := map[string]any{
		"p1 password is the literal": secret.VerifyPassword(pw(p1), "bulkId:MyS3cretPassw0rd"),
		"p2 password is the literal": secret.VerifyPassword(pw(p2), "bulkId:p3"),
		"p2 password is not p3's id": secret.VerifyPassword(pw(p2), p3),
		"p2 title":                   stored(p2)["title"],
		"p3 password via PATCH":      secret.VerifyPassword(pw(p3), "bulkId:p1"),
		"members":                    memberIDs,
		"p1 manager":                 manager(p1),
		"p2 manager":                 manager(p2),
	}
	wantGot := map[string]any{
		"p1 password is the literal": true,
		"p2 password is the literal": true,
		"p2 password is not p3's id": false,
		"p2 title":                   "bulkId:p3",
		"p3 password via PATCH":      true,
		"members":                    []any{p3, p1},
		"p1 manager":                 p3,
		"p2 manager":                 p1,
	}
	if diff := cmp.Diff(wantGot, got); diff != "" {
		t.Errorf("stored values (-want +got):\n%s", diff)
	}
	t.Run("a password is never a reference", func(t *testing.T) {
		ops := f.bulkOps(t, bulkBody("",
			`{"method":"POST","bulkId":"q1","path":"/Users","data":{"userName":"pw4@example.com","password":"bulkId:q2"}}`,
			`{"method":"POST","bulkId":"q2","path":"/Users","data":{"userName":"pw5@example.com","password":"bulkId:q1"}}`,
			`{"method":"POST","bulkId":"q3","path":"/Users","data":{"userName":"pw5@example.com","password":"bulkId:TopS3cret"}}`,
		))
		want := []opSummary{
			{Method: "POST", BulkID: "q1", Status: "201", Location: true, Version: true},
			{Method: "POST", BulkID: "q2", Status: "201", Location: true, Version: true},
			{Method: "POST", BulkID: "q3", Status: "409", ScimType: "uniqueness"},
		}
		if diff := cmp.Diff(want, summarize(ops)); diff != "" {
			t.Fatalf("results (-want +got):\n%s\n%v", diff, ops)
		}
		if !secret.VerifyPassword(pw(idOf(ops[0])), "bulkId:q2") {
			t.Errorf("q1's password is not the literal it was sent as")
		}
		if raw, _ := json.Marshal(ops); strings.Contains(string(raw), "TopS3cret") {
			t.Errorf("the bulk response echoes a password: %s", raw)
		}
	})
}

// Error details are at most MaxDetail bytes, cut at a rune boundary.
func TestErrorDetailCapped(t *testing.T) {
	f := newFixture(t)
	long := strings.Repeat("é", 450_000) // 900 KB
	f.call(t, "POST", "/Users", `{"userName":"`+long+`"}`, nil)
	tests := []struct {
		name, method, path, body string
		want                     map[string]any
	}{
		{"conflict quoting the userName", "POST", "/Users", `{"userName":"` + long + `"}`, scimError(409, "uniqueness")},
		{"bad email type", "POST", "/Users", `{"userName":"t@x","emails":[{"value":"a@x","type":"` + long + `"}]}`, scimError(400, "invalidValue")},
		{"unknown filter attribute", "POST", "/Users/.search", `{"filter":"` + strings.Repeat("a", 60_000) + ` pr"}`, scimError(400, "invalidFilter")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.call(t, tt.method, tt.path, tt.body, nil)
			if diff := cmp.Diff(tt.want, errorOf(r)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%.300s", diff, r.raw)
			}
			d, _ := r.body["detail"].(string)
			if len(d) > MaxDetail || !utf8.ValidString(d) || !strings.HasSuffix(d, "…") {
				t.Errorf("detail of %d bytes, valid UTF-8 %v, want at most %d ending in …: %.100s", len(d), utf8.ValidString(d), MaxDetail, d)
			}
		})
	}
	for _, tt := range []struct {
		name, in, want string
	}{
		{"short", "abc", "abc"},
		{"exactly the limit", strings.Repeat("a", MaxDetail), strings.Repeat("a", MaxDetail)},
		{"one over", strings.Repeat("a", MaxDetail+1), strings.Repeat("a", MaxDetail-3) + "…"},
		{"two-byte runes", strings.Repeat("é", MaxDetail), strings.Repeat("é", (MaxDetail-3)/2) + "…"},
	} {
		t.Run("capDetail "+tt.name, func(t *testing.T) {
			in := &scim.Error{Status: 400, ScimType: "invalidValue", Detail: tt.in}
			got := capDetail(in)
			if diff := cmp.Diff(&scim.Error{Status: 400, ScimType: "invalidValue", Detail: tt.want}, got); diff != "" {
				t.Errorf("(-want +got):\n%.500s", diff)
			}
			if in.Detail != tt.in {
				t.Errorf("capDetail changed its argument")
			}
		})
	}
}

// …/.search takes only POST: other methods are 405 with Allow: POST, not
// a lookup of a resource called ".search".
func TestSearchMethods(t *testing.T) {
	f := newFixture(t)
	for _, endpoint := range []string{"/Users/.search", "/Groups/.search", "/.search"} {
		for _, method := range []string{"GET", "PUT", "PATCH", "DELETE"} {
			t.Run(method+" "+endpoint, func(t *testing.T) {
				body := ""
				if method == "PUT" || method == "PATCH" {
					body = `{}`
				}
				r := f.call(t, method, endpoint, body, nil)
				got := []any{errorOf(r), r.header.Get("Allow")}
				if diff := cmp.Diff([]any{scimError(405, ""), "POST"}, got); diff != "" {
					t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
				}
			})
		}
	}
	t.Run("without a token still 401", func(t *testing.T) {
		r := f.call(t, "GET", "/Users/.search", "", map[string]string{"Authorization": ""})
		if diff := cmp.Diff(scimError(401, ""), errorOf(r)); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	})
}

// A filter over MaxFilterLength is 400 invalidFilter, from the query
// string and from a search body.
func TestFilterLength(t *testing.T) {
	f := newFixture(t)
	f.createUser(t, "len@example.com")
	long := strings.Repeat("a", 70_000) + " pr"
	tests := []struct {
		name, method, path, body string
		want                     map[string]any
	}{
		{"query string", "GET", "/Users?filter=" + strings.ReplaceAll(long, " ", "%20"), "", scimError(400, "invalidFilter")},
		{"search body", "POST", "/Users/.search", `{"filter":"` + long + `"}`, scimError(400, "invalidFilter")},
		{"root search", "POST", "/.search", `{"filter":"` + long + `"}`, scimError(400, "invalidFilter")},
		{"long but allowed", "GET", "/Users?filter=userName%20eq%20%22" + strings.Repeat("b", 60_000) + "%22", "", map[string]any{"httpStatus": 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.call(t, tt.method, tt.path, tt.body, nil)
			got := errorOf(r)
			if r.status == 200 {
				got = map[string]any{"httpStatus": r.status}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%.300s", diff, r.raw)
			}
			if d, _ := r.body["detail"].(string); r.status == 400 && !strings.Contains(d, "filter is longer than 65536 bytes") {
				t.Errorf("detail %q does not give the limit", d)
			}
		})
	}
}

// A required string that is only white space is 400 invalidValue naming
// the attribute, on POST, PUT and PATCH, and nothing is stored.
func TestBlankRequired(t *testing.T) {
	f := newFixture(t)
	uid := f.createUser(t, "blank@example.com")
	gid := f.call(t, "POST", "/Groups", `{"displayName":"blank"}`, nil).body["id"].(string)
	tests := []struct {
		name, method, path, body, attr string
	}{
		{"POST spaces", "POST", "/Users", `{"userName":"   "}`, "userName"},
		{"POST tab and newline", "POST", "/Users", `{"userName":"\t\n"}`, "userName"},
		{"POST no-break space", "POST", "/Users", `{"userName":"\u00a0"}`, "userName"},
		{"POST group", "POST", "/Groups", `{"displayName":"  "}`, "displayName"},
		{"PUT user", "PUT", "/Users/" + uid, `{"userName":"  "}`, "userName"},
		{"PUT group", "PUT", "/Groups/" + gid, `{"displayName":" "}`, "displayName"},
		{"PATCH user", "PATCH", "/Users/" + uid, `{"Operations":[{"op":"replace","path":"userName","value":"   "}]}`, "userName"},
		{"PATCH user without path", "PATCH", "/Users/" + uid, `{"Operations":[{"op":"replace","value":{"userName":" "}}]}`, "userName"},
		{"PATCH group", "PATCH", "/Groups/" + gid, `{"Operations":[{"op":"replace","path":"displayName","value":"  "}]}`, "displayName"},
		{"bulk POST", "POST", "/Bulk", bulkBody("", `{"method":"POST","bulkId":"b","path":"/Users","data":{"userName":"  "}}`), "userName"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := snapshot(t, f.store, "acme")
			r := f.call(t, tt.method, tt.path, tt.body, nil)
			body := r.body
			if tt.path == "/Bulk" {
				ops, _ := r.body["Operations"].([]any)
				if len(ops) != 1 {
					t.Fatalf("bulk: %s", r.raw)
				}
				var status string
				status, _ = ops[0].(map[string]any)["status"].(string)
				body, _ = ops[0].(map[string]any)["response"].(map[string]any)
				if status != "400" {
					t.Errorf("bulk operation status %s, want 400", status)
				}
			} else if diff := cmp.Diff(scimError(400, "invalidValue"), errorOf(r)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
			}
			if d, _ := body["detail"].(string); body["scimType"] != "invalidValue" || !strings.Contains(d, `"`+tt.attr+`"`) {
				t.Errorf("detail %q (scimType %v) does not name %s", d, body["scimType"], tt.attr)
			}
			if diff := cmp.Diff(before, snapshot(t, f.store, "acme")); diff != "" {
				t.Errorf("stored data changed (-before +after):\n%s", diff)
			}
		})
	}
	t.Run("names with inner spaces are fine", func(t *testing.T) {
		r := f.call(t, "POST", "/Groups", `{"displayName":" Sales Team "}`, nil)
		if diff := cmp.Diff([]any{201, " Sales Team "}, []any{r.status, r.body["displayName"]}); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	})
}

// An operation of a bulk request does not see the query string of the
// bulk request itself.
func TestBulkIgnoresOuterQuery(t *testing.T) {
	f := newFixture(t)
	r := f.call(t, "POST", "/Bulk?attributes=userName", bulkBody("", `{"method":"POST","bulkId":"a","path":"/Users","data":{"userName":"outer@example.com"}}`), nil)
	if r.status != http.StatusOK {
		t.Fatalf("bulk: %d %s", r.status, r.raw)
	}
	if diff := cmp.Diff([]opSummary{{Method: "POST", BulkID: "a", Status: "201", Location: true, Version: true}}, summarize(asMaps(r.body["Operations"]))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func asMaps(v any) []map[string]any {
	var out []map[string]any
	for _, e := range asList(v) {
		m, _ := e.(map[string]any)
		out = append(out, m)
	}
	return out
}
