package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/store"
)

// snapshot is every stored resource of a tenant: type/id → version and data.
func snapshot(t testing.TB, st store.Store, tenant string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, typ := range []string{store.TypeUser, store.TypeGroup} {
		recs, err := st.ListResources(context.Background(), tenant, typ, store.Query{})
		if err != nil {
			t.Fatalf("list %s: %v", typ, err)
		}
		for _, r := range recs {
			out[typ+"/"+r.ID] = strconv.FormatInt(r.Version, 10) + " " + string(r.Data)
			if typ != store.TypeGroup {
				continue
			}
			ms, err := st.ListMembers(context.Background(), tenant, r.ID, nil)
			if err != nil {
				t.Fatalf("members of %s: %v", r.ID, err)
			}
			for _, m := range ms {
				out[typ+"/"+r.ID] += "\n" + m.Value + " " + m.Display
			}
		}
	}
	return out
}

// checkReply asserts the invariants every answer of the service keeps:
// never a 5xx; every 4xx is SCIM error JSON whose status matches, with a
// scimType on 400 and 409 (RFC 7644 §3.12 defines scimType for those).
func checkReply(t testing.TB, method, target string, rec *httptest.ResponseRecorder) {
	t.Helper()
	code := rec.Code
	if code >= 500 {
		t.Fatalf("%s %q: status %d: %s", method, target, code, rec.Body.String())
	}
	if code < 400 {
		return
	}
	if ct := rec.Header().Get("Content-Type"); ct != ContentType {
		t.Fatalf("%s %q: %d with Content-Type %q: %s", method, target, code, ct, rec.Body.String())
	}
	var e struct {
		Schemas  []string `json:"schemas"`
		Status   string   `json:"status"`
		ScimType string   `json:"scimType"`
		Detail   string   `json:"detail"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
		t.Fatalf("%s %q: %d body is not JSON: %v: %q", method, target, code, err, rec.Body.String())
	}
	if diff := cmp.Diff([]string{scim.SchemaError}, e.Schemas); diff != "" {
		t.Fatalf("%s %q: %d schemas (-want +got):\n%s", method, target, code, diff)
	}
	if e.Status != strconv.Itoa(code) || e.Detail == "" {
		t.Fatalf("%s %q: %d body status %q detail %q", method, target, code, e.Status, e.Detail)
	}
	if (code == http.StatusBadRequest || code == http.StatusConflict) && e.ScimType == "" {
		t.Fatalf("%s %q: %d without scimType: %s", method, target, code, rec.Body.String())
	}
}

var fuzzMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

// FuzzHandler drives the whole service with random methods, paths, query
// strings and bodies. No answer is a 5xx or a panic, every 4xx is SCIM
// error JSON, a rejected request leaves tenant acme's data as it was, and
// tenant beta's data never changes.
func FuzzHandler(f *testing.F) {
	seeds := []struct {
		method, path uint8
		suffix, q, b string
	}{
		{0, 0, "", "filter=userName%20eq%20%22a%40example.com%22&startIndex=1&count=2", ""},
		{0, 0, "", "filter=((userName%20pr))&attributes=userName,emails.value&excludedAttributes=name", ""},
		{0, 0, "", "startIndex=-5&count=99999999999999999999", ""},
		{1, 0, "", "", `{"userName":"fz@example.com","name":{"givenName":"F"},"password":"x"}`},
		{1, 0, "", "", `{"userName":"nul\u0000@example.com"}`},
		{1, 0, "", "", `{"userName":"Ünïcødé-ß-\u212a@example.com"}`},
		{3, 1, "", "", `{"Operations":[{"op":"replace","value":{"active":false}},{"op":"replace","path":"id","value":"x"}]}`},
		{3, 1, "", "", `{"Operations":[{"op":"replace","path":"userName","value":"b@example.com"}]}`},
		{3, 3, "", "", `{"Operations":[{"op":"add","path":"members","value":[{"value":"USER"}]},{"op":"bogus"}]}`},
		{3, 3, "", "", `{"Operations":[{"op":"remove","path":"members[value eq \"USER\"]"}]}`},
		{2, 3, "", "", `{"displayName":"G","members":[{"value":"USER"},{"value":"BETA"}]}`},
		{1, 4, "", "", `{"filter":"userName sw \"a\"","startIndex":0,"count":-1,"attributes":["userName"]}`},
		{4, 1, "", "", ""},
		{0, 5, "", "", ""},
		{0, 0, "/../../beta/scim/v2/Users", "", ""},
		{1, 2, "", "", `{"displayName":"` + strings.Repeat("[", 20) + `"}`},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.suffix, s.q, s.b)
	}
	fx := newFixture(f)
	h := fx.srv.Config.Handler
	userID := fuzzCreate(f, h, "acme", fx.acmeToken, "/Users", `{"userName":"a@example.com","emails":[{"value":"a@example.com"}]}`)
	groupID := fuzzCreate(f, h, "acme", fx.acmeToken, "/Groups", `{"displayName":"Team","members":[{"value":"`+userID+`"}]}`)
	betaID := fuzzCreate(f, h, "beta", fx.betaToken, "/Users", `{"userName":"b@example.com"}`)
	fuzzCreate(f, h, "beta", fx.betaToken, "/Groups", `{"displayName":"Beta","members":[{"value":"`+betaID+`"}]}`)
	paths := []string{"/Users", "/Users/" + userID, "/Groups", "/Groups/" + groupID, "/Users/.search",
		"/ServiceProviderConfig", "/Schemas", "/ResourceTypes", "/Users/" + betaID, "/Groups/.search", ""}
	beta := snapshot(f, fx.store, "beta")

	f.Fuzz(func(t *testing.T, method, path uint8, suffix, query, body string) {
		m := fuzzMethods[int(method)%len(fuzzMethods)]
		body = strings.NewReplacer("USER", userID, "BETA", betaID, "GROUP", groupID).Replace(body)
		target := "/t/acme/scim/v2" + paths[int(path)%len(paths)] + suffix
		if query != "" {
			target += "?" + query
		}
		req, err := http.NewRequest(m, "http://example.test"+target, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Authorization", "Bearer "+fx.acmeToken)
		req.Header.Set("Content-Type", scim.MediaType)
		before := snapshot(t, fx.store, "acme")
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, req)
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("%s %q (body %d bytes) took %v", m, target, len(body), d)
		}
		if p := req.URL.Path; p == "/t/acme/scim/v2" || strings.HasPrefix(p, "/t/acme/scim/v2/") {
			checkReply(t, m, target, rec) // other paths are not the service's
		} else if rec.Code >= 500 {
			t.Fatalf("%s %q: status %d", m, target, rec.Code)
		}
		if rec.Code >= 400 {
			if diff := cmp.Diff(before, snapshot(t, fx.store, "acme")); diff != "" {
				t.Fatalf("%s %q rejected with %d changed stored data (-before +after):\n%s", m, target, rec.Code, diff)
			}
		}
		if diff := cmp.Diff(beta, snapshot(t, fx.store, "beta")); diff != "" {
			t.Fatalf("%s %q as acme changed tenant beta (-before +after):\n%s", m, target, diff)
		}
	})
}

// fuzzCreate POSTs a resource and returns its id.
func fuzzCreate(t testing.TB, h http.Handler, tenant, token, path, body string) string {
	t.Helper()
	rec := serve(h, tenant, token, "POST", path, body)
	if rec.Code != http.StatusCreated {
		t.Fatalf("create %s: %d %s", path, rec.Code, rec.Body.String())
	}
	var res map[string]any
	json.Unmarshal(rec.Body.Bytes(), &res)
	id, _ := res["id"].(string)
	return id
}

// serve sends one request straight to the handler.
func serve(h http.Handler, tenant, token, method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "http://example.test/t/"+tenant+"/scim/v2"+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", scim.MediaType)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// FuzzPatch sends random PATCH operations to a user and a group: the
// answer is 200 with the stored resource (for a group, 204 with its ETag
// and no body unless excludedAttributes asks for the resource), or a
// SCIM 4xx that changed nothing (RFC 7644 §3.5.2: a PATCH is applied
// entirely or not at all).
func FuzzPatch(f *testing.F) {
	for _, s := range []string{
		`[{"op":"replace","value":{"active":false}}]`,
		`[{"op":"replace","value":{"active":false}},{"op":"replace","path":"id","value":"x"}]`,
		`[{"op":"add","path":"emails","value":[{"value":"x@example.com","type":"work"}]},{"op":"remove","path":"emails[type eq \"work\"]"}]`,
		`[{"op":"replace","path":"userName","value":"other@example.com"}]`,
		`[{"op":"replace","path":"userName","value":"a\u0000"}]`,
		`[{"op":"add","path":"members","value":[{"value":"USER"},{"value":"BETA"}]}]`,
		`[{"op":"remove","path":"members[value eq \"USER\"]"},{"op":"replace","value":{"id":"GROUP","displayName":"R"}}]`,
		`[{"op":"replace","path":"name.givenName","value":"X"},{"op":"remove","path":"name[givenName eq 1]"}]`,
		`[{"op":"add","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"USER"}}}}]`,
		`[{"op":"remove","path":"userName"}]`,
		`[{"op":"remove","path":"members"}]`,
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	fx := newFixture(f)
	h := fx.srv.Config.Handler
	userID := fuzzCreate(f, h, "acme", fx.acmeToken, "/Users", `{"userName":"p@example.com","name":{"givenName":"P"},"emails":[{"value":"p@example.com","type":"work"}]}`)
	fuzzCreate(f, h, "acme", fx.acmeToken, "/Users", `{"userName":"other@example.com"}`)
	groupID := fuzzCreate(f, h, "acme", fx.acmeToken, "/Groups", `{"displayName":"G","members":[{"value":"`+userID+`"}]}`)
	betaID := fuzzCreate(f, h, "beta", fx.betaToken, "/Users", `{"userName":"b@example.com"}`)
	beta := snapshot(f, fx.store, "beta")
	f.Fuzz(func(t *testing.T, ops string, group bool) {
		ops = strings.NewReplacer("USER", userID, "BETA", betaID, "GROUP", groupID).Replace(ops)
		path := "/Users/" + userID
		if group {
			path = "/Groups/" + groupID
			// A group PATCH answers 204 unless it asks for the resource;
			// half the inputs (by length, so that a seed stays what it is)
			// ask with excludedAttributes and must get 200.
			if len(ops)%2 == 1 {
				path += "?excludedAttributes=members"
			}
		}
		body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":` + ops + `}`
		before := snapshot(t, fx.store, "acme")
		rec := serve(h, "acme", fx.acmeToken, "PATCH", path, body)
		checkReply(t, "PATCH", path, rec)
		switch {
		case rec.Code >= 400:
			if diff := cmp.Diff(before, snapshot(t, fx.store, "acme")); diff != "" {
				t.Fatalf("PATCH %s rejected with %d changed stored data (-before +after):\n%s", ops, rec.Code, diff)
			}
		case rec.Code == http.StatusOK && (!group || strings.Contains(path, "?")):
			got := serve(h, "acme", fx.acmeToken, "GET", path, "")
			var a, b map[string]any
			json.Unmarshal(rec.Body.Bytes(), &a)
			json.Unmarshal(got.Body.Bytes(), &b)
			if diff := cmp.Diff(b, a); diff != "" {
				t.Fatalf("PATCH %s answer differs from what GET reads (-get +patch):\n%s", ops, diff)
			}
			if diff := cmp.Diff(got.Header().Get("ETag"), rec.Header().Get("ETag")); diff != "" {
				t.Fatalf("PATCH %s ETag differs from what GET reads (-get +patch):\n%s", ops, diff)
			}
		case rec.Code == http.StatusNoContent && group && !strings.Contains(path, "?"):
			got := serve(h, "acme", fx.acmeToken, "GET", path, "")
			if rec.Body.Len() != 0 || rec.Header().Get("ETag") == "" || rec.Header().Get("ETag") != got.Header().Get("ETag") {
				t.Fatalf("PATCH %s: 204 with body %q and ETag %q; GET reads ETag %q", ops, rec.Body.String(), rec.Header().Get("ETag"), got.Header().Get("ETag"))
			}
		default:
			t.Fatalf("PATCH %s: unexpected status %d", ops, rec.Code)
		}
		if diff := cmp.Diff(beta, snapshot(t, fx.store, "beta")); diff != "" {
			t.Fatalf("PATCH as acme changed tenant beta:\n%s", diff)
		}
	})
}
