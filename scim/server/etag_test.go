package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Every single-resource response carries an ETag equal to meta.version
// (RFC 7644 §3.14).
func TestETagHeader(t *testing.T) {
	f := newFixture(t)
	uid := f.createUser(t, "etag-h@example.com")
	steps := []struct {
		name, method, path, body string
		status                   int
		version                  string
	}{
		{"POST user", "POST", "/Users", `{"userName":"etag-h2@example.com"}`, 201, `W/"1"`},
		{"GET user", "GET", "/Users/" + uid, "", 200, `W/"1"`},
		{"PUT user", "PUT", "/Users/" + uid, `{"userName":"etag-h@example.com","title":"a"}`, 200, `W/"2"`},
		{"PATCH user", "PATCH", "/Users/" + uid, `{"Operations":[{"op":"replace","path":"title","value":"b"}]}`, 200, `W/"3"`},
		{"GET user again", "GET", "/Users/" + uid + "?attributes=userName", "", 200, `W/"3"`},
		{"POST group", "POST", "/Groups", `{"displayName":"etag-g"}`, 201, `W/"1"`},
	}
	var gid string
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			r := f.call(t, st.method, st.path, st.body, nil)
			meta, _ := r.body["meta"].(map[string]any)
			got := []any{r.status, r.header.Get("ETag"), meta["version"]}
			if diff := cmp.Diff([]any{st.status, st.version, st.version}, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
			}
			if st.name == "POST group" {
				gid, _ = r.body["id"].(string)
			}
		})
	}
	t.Run("group PATCH and PUT", func(t *testing.T) {
		// A group PATCH answers 204 with the tag and no body (RFC 7644
		// §3.5.2); the GET after it shows that version.
		r := f.call(t, "PATCH", "/Groups/"+gid, `{"Operations":[{"op":"add","path":"members","value":[{"value":"`+uid+`"}]}]}`, nil)
		g := f.call(t, "GET", "/Groups/"+gid, "", nil)
		p := f.call(t, "PUT", "/Groups/"+gid, `{"displayName":"etag-g2"}`, nil)
		got := []any{r.status, r.raw, r.header.Get("ETag"), g.header.Get("ETag"), g.body["meta"].(map[string]any)["version"],
			p.status, p.header.Get("ETag"), p.body["meta"].(map[string]any)["version"]}
		if diff := cmp.Diff([]any{204, "", `W/"2"`, `W/"2"`, `W/"2"`, 200, `W/"3"`, `W/"3"`}, got); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestIfNoneMatch(t *testing.T) {
	f := newFixture(t)
	uid := f.createUser(t, "inm@example.com")
	if r := f.call(t, "PATCH", "/Users/"+uid, `{"Operations":[{"op":"replace","path":"title","value":"x"}]}`, nil); r.status != 200 {
		t.Fatalf("PATCH: %s", r.raw)
	}
	// The user is now at version 2.
	tests := []struct {
		name   string
		hdr    string
		status int
	}{
		{"current weak tag", `W/"2"`, 304},
		{"current strong tag", `"2"`, 304},
		{"star", `*`, 304},
		{"list with the current tag", `W/"1", W/"2"`, 304},
		{"stale tag", `W/"1"`, 200},
		{"other tag", `"abc"`, 200},
		{"empty", ``, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.call(t, "GET", "/Users/"+uid, "", map[string]string{"If-None-Match": tt.hdr})
			got := []any{r.status, r.header.Get("ETag"), r.raw == ""}
			want := []any{tt.status, `W/"2"`, tt.status == 304}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
			}
			if tt.status == 200 && r.body["userName"] != "inm@example.com" {
				t.Errorf("200 without the resource: %s", r.raw)
			}
		})
	}
	t.Run("unknown id is still 404", func(t *testing.T) {
		r := f.call(t, "GET", "/Users/nope", "", map[string]string{"If-None-Match": "*"})
		if diff := cmp.Diff(scimError(404, ""), errorOf(r)); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("two header lines", func(t *testing.T) {
		req, _ := http.NewRequest("GET", f.base("acme")+"/Users/"+uid, nil)
		req.Header.Set("Authorization", "Bearer "+f.acmeToken)
		req.Header.Add("If-None-Match", `W/"7"`)
		req.Header.Add("If-None-Match", `W/"2"`)
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotModified {
			t.Errorf("status = %d, want 304", resp.StatusCode)
		}
	})
}

// A stale If-Match is 412 and leaves the resource as it was.
func TestIfMatchUnchanged(t *testing.T) {
	f := newFixture(t)
	uid := f.createUser(t, "im@example.com")
	g := f.call(t, "POST", "/Groups", `{"displayName":"im","members":[{"value":"`+uid+`"}]}`, nil)
	gid := g.body["id"].(string)
	// The user's tag reflects its group (W/"1-…"); its strong form matches.
	strong := strings.TrimPrefix(f.call(t, "GET", "/Users/"+uid, "", nil).header.Get("ETag"), "W/")
	tests := []struct {
		name, method, path, body, ifMatch string
		want                              int
	}{
		{"PUT stale", "PUT", "/Users/" + uid, `{"userName":"im2@example.com"}`, `W/"5"`, 412},
		{"PATCH stale", "PATCH", "/Users/" + uid, `{"Operations":[{"op":"replace","path":"active","value":false}]}`, `"5"`, 412},
		{"PATCH stale list", "PATCH", "/Groups/" + gid, `{"Operations":[{"op":"remove","path":"members"}]}`, `W/"3", W/"4"`, 412},
		{"DELETE stale", "DELETE", "/Users/" + uid, "", `W/"2"`, 412},
		{"DELETE group stale", "DELETE", "/Groups/" + gid, "", `"x"`, 412},
		{"PATCH strong matches weak", "PATCH", "/Users/" + uid, `{"Operations":[{"op":"replace","path":"title","value":"t"}]}`, strong, 200},
		{"PUT star", "PUT", "/Users/" + uid, `{"userName":"im@example.com","title":"u"}`, `*`, 200},
		{"DELETE list with current", "DELETE", "/Groups/" + gid, "", `W/"9", W/"1"`, 204},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.checkPrecondition(t, tt.method, tt.path, tt.body, map[string]string{"If-Match": tt.ifMatch}, tt.want)
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
		if r := f.call(t, "PATCH", "/Groups/"+gid, `{"Operations":[{"op":"replace","path":"displayName","value":"Renamed"}]}`, nil); r.status != http.StatusNoContent {
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
		{"PATCH group other tag", "PATCH", "/Groups/" + gid, `{"Operations":[{"op":"replace","path":"displayName","value":"y"}]}`, `W/"5"`, 204},
		{"DELETE old tag", "DELETE", "/Users/" + uid, "", `W/"1"`, 204},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.checkPrecondition(t, tt.method, tt.path, tt.body, map[string]string{"If-None-Match": tt.ifNoneMatch}, tt.want)
		})
	}
}
