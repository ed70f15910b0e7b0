package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestNoOpPatchKeepsVersion: a PATCH that changes nothing writes nothing:
// 200 with the stored resource (for a group 204 without a body, unless
// attributes ask for it), the same meta.version, lastModified and ETag,
// and the stored record untouched. A stale If-Match is still 412.
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
	// A group PATCH answers 204 without a body unless it asks for the
	// resource with attributes (then 200 with it), so each group case runs
	// both ways.
	type answer struct {
		name, query string
		status      int
	}
	userAnswers := []answer{{"200", "", http.StatusOK}}
	groupAnswers := []answer{{"204", "", http.StatusNoContent}, {"200", "?attributes=displayName,externalId,members", http.StatusOK}}
	for _, tt := range tests {
		answers := userAnswers
		if strings.HasPrefix(tt.path, "/Groups/") {
			answers = groupAnswers
		}
		for _, a := range answers {
			t.Run(tt.name+"/"+a.name, func(t *testing.T) {
				before := f.call(t, "GET", tt.path+a.query, "", nil)
				stored := snapshot(t, f.store, "acme")
				r := f.call(t, "PATCH", tt.path+a.query, patchBody(tt.ops), nil)
				if r.status != a.status {
					t.Fatalf("status = %d, want %d: %s", r.status, a.status, r.raw)
				}
				var body map[string]any
				if a.status == http.StatusOK {
					body = before.body
				}
				if diff := cmp.Diff(body, r.body); diff != "" {
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
	bad := f.callUnchanged(t, "PATCH", "/Users/"+uid, patchBody(`[{"op":"add","value":{"emails[bad syntax":5}}]`), nil)
	if diff := cmp.Diff(scimError(400, "invalidPath"), errorOf(bad)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if d, _ := bad.body["detail"].(string); !strings.Contains(d, `emails[bad syntax`) {
		t.Errorf("detail %q does not name the key", d)
	}
}
