package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/store"
)

// A PATCH is all or nothing (RFC 7644 §3.5.2): when any operation fails,
// the resource is left exactly as it was, version included.
func TestRejectedPatchLeavesResource(t *testing.T) {
	f := newFixture(t)
	uid := f.createUser(t, "atomic@example.com")
	other := f.createUser(t, "taken@example.com")
	g := f.call(t, "POST", "/Groups", `{"displayName":"Atomic","members":[{"value":"`+uid+`"}]}`, nil)
	gid := g.body["id"].(string)
	tests := []struct {
		name, path, ops, scimType string
	}{
		{"second op changes id", "/Users/" + uid, `{"op":"replace","value":{"active":false}},{"op":"replace","path":"id","value":"x"}`, "mutability"},
		{"second op has a bad path", "/Users/" + uid, `{"op":"replace","path":"userName","value":"new@example.com"},{"op":"remove","path":"emails[value eq"}`, "invalidPath"},
		{"second op is unknown", "/Users/" + uid, `{"op":"add","path":"emails","value":[{"value":"b@example.com"}]},{"op":"bogus","path":"active","value":true}`, "invalidSyntax"},
		{"second op removes a required attribute", "/Users/" + uid, `{"op":"replace","path":"displayName","value":"D"},{"op":"remove","path":"userName"}`, ""},
		{"userName taken", "/Users/" + uid, `{"op":"replace","path":"active","value":false},{"op":"replace","path":"userName","value":"TAKEN@example.com"}`, "uniqueness"},
		{"group rename then unknown member", "/Groups/" + gid, `{"op":"replace","value":{"displayName":"Renamed"}},{"op":"add","path":"members","value":[{"value":"nope"}]}`, "invalidValue"},
		{"group remove then bad filter", "/Groups/" + gid, `{"op":"remove","path":"members[value eq \"` + uid + `\"]"},{"op":"remove","path":"members[nope eq 1]"}`, ""},
		{"NUL in userName", "/Users/" + uid, `{"op":"replace","path":"userName","value":"a\u0000b@example.com"}`, "invalidValue"},
	}
	_ = other
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := snapshot(t, f.store, "acme")
			r := f.call(t, "PATCH", tt.path, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`+tt.ops+`]}`, nil)
			if r.status < 400 || r.status >= 500 {
				t.Fatalf("status = %d, want a 4xx: %s", r.status, r.raw)
			}
			if tt.scimType != "" {
				if diff := cmp.Diff(tt.scimType, r.body["scimType"]); diff != "" {
					t.Errorf("scimType (-want +got):\n%s\n%s", diff, r.raw)
				}
			}
			if diff := cmp.Diff(before, snapshot(t, f.store, "acme")); diff != "" {
				t.Errorf("stored data changed (-before +after):\n%s", diff)
			}
		})
	}
}

// Hostile bodies, paths and headers get a SCIM 4xx, never a 5xx, and
// write nothing.
func TestHostileInput(t *testing.T) {
	f := newFixture(t)
	uid := f.createUser(t, "hostile@example.com")
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	deepObj := func(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }
	tests := []struct {
		name, method, path, body string
		hdr                      map[string]string
		status                   int
		scimType                 string
	}{
		{name: "array nested past the decoder limit", method: "POST", path: "/Users", body: `{"userName":"d1","name":` + deep(20000) + `}`, status: 400, scimType: "invalidSyntax"},
		{name: "object nested past the decoder limit", method: "POST", path: "/Users", body: `{"userName":"d2","x":` + deepObj(20000) + `}`, status: 400, scimType: "invalidSyntax"},
		{name: "deep array in a known attribute", method: "POST", path: "/Users", body: `{"userName":"d3","emails":` + deep(9000) + `}`, status: 400, scimType: "invalidSyntax"},
		{name: "deep object in a known attribute", method: "POST", path: "/Users", body: `{"userName":"d4","name":{"givenName":` + deepObj(9000) + `}}`, status: 400, scimType: "invalidSyntax"},
		{name: "deep PATCH value", method: "PATCH", path: "/Users/" + uid, body: `{"Operations":[{"op":"add","path":"emails","value":` + deep(9000) + `}]}`, status: 400},
		{name: "deep search body", method: "POST", path: "/Users/.search", body: `{"filter":` + deep(9000) + `}`, status: 400, scimType: "invalidSyntax"},
		{name: "deep filter", method: "GET", path: "/Users?filter=" + strings.Repeat("(", 5000) + "userName%20pr" + strings.Repeat(")", 5000), status: 400, scimType: "invalidFilter"},
		{name: "deep not filter", method: "GET", path: "/Users?filter=" + strings.Repeat("not(", 5000) + "userName%20pr" + strings.Repeat(")", 5000), status: 400, scimType: "invalidFilter"},
		{name: "NUL in userName", method: "POST", path: "/Users", body: `{"userName":"nul\u0000@example.com"}`, status: 400, scimType: "invalidValue"},
		{name: "NUL in externalId", method: "POST", path: "/Users", body: `{"userName":"nul2@example.com","externalId":"00u\u0000"}`, status: 400, scimType: "invalidValue"},
		{name: "NUL in group displayName", method: "POST", path: "/Groups", body: `{"displayName":"G\u0000"}`, status: 400, scimType: "invalidValue"},
		{name: "NUL in PUT userName", method: "PUT", path: "/Users/" + uid, body: `{"userName":"\u0000"}`, status: 400, scimType: "invalidValue"},
		{name: "NUL in id", method: "GET", path: "/Users/a%00b", status: 404},
		{name: "invalid UTF-8 in id", method: "DELETE", path: "/Users/%FF%FE", status: 404},
		{name: "NUL in a filter value", method: "GET", path: "/Users?filter=userName%20eq%20%22a%00%22", status: 400, scimType: "invalidFilter"},
		{name: "escaped NUL in a filter value", method: "GET", path: "/Users?filter=userName%20eq%20%22a%5Cu0000%22", status: 200},
		{name: "invalid UTF-8 in a filter value", method: "GET", path: "/Users?filter=externalId%20eq%20%22%FF%22", status: 400, scimType: "invalidFilter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := snapshot(t, f.store, "acme")
			start := time.Now()
			r := f.call(t, tt.method, tt.path, tt.body, tt.hdr)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
			if diff := cmp.Diff([]any{tt.status, tt.scimType}, []any{r.status, str(r.body["scimType"])}); diff != "" && !(tt.scimType == "" && r.status == tt.status) {
				t.Errorf("status, scimType (-want +got):\n%s\n%.300s", diff, r.raw)
			}
			if tt.status >= 400 {
				if diff := cmp.Diff(before, snapshot(t, f.store, "acme")); diff != "" {
					t.Errorf("stored data changed (-before +after):\n%.2000s", diff)
				}
			}
		})
	}
}

// Unicode userNames are stored as sent and found case-insensitively.
func TestUnicodeUserName(t *testing.T) {
	f := newFixture(t)
	for _, name := range []string{"Ünïcødé@example.com", "用户@例子.测试", "Ωmega-😀@example.com", "e\u0301cole@example.com"} {
		t.Run(name, func(t *testing.T) {
			r := f.call(t, "POST", "/Users", `{"userName":"`+name+`"}`, nil)
			if r.status != http.StatusCreated || r.body["userName"] != name {
				t.Fatalf("create = %d: %s", r.status, r.raw)
			}
			q := f.call(t, "GET", "/Users?filter="+escapeQuery(`userName eq "`+strings.ToUpper(name)+`"`), "", nil)
			if diff := cmp.Diff([]any{200, float64(1)}, []any{q.status, q.body["totalResults"]}); diff != "" {
				t.Errorf("filter by upper case (-want +got):\n%s\n%s", diff, q.raw)
			}
			dup := f.call(t, "POST", "/Users", `{"userName":"`+strings.ToLower(name)+`"}`, nil)
			if diff := cmp.Diff(scimError(409, "uniqueness"), errorOf(dup)); diff != "" && strings.ToLower(name) != name || dup.status != 409 {
				t.Errorf("duplicate in lower case (-want +got):\n%s\n%s", diff, dup.raw)
			}
		})
	}
}

// Authorization header shapes (RFC 6750 §2.1: "Bearer" 1*SP b64token,
// the scheme case-insensitive). Several Authorization headers are refused:
// a proxy in front may have judged another one than the server reads.
func TestBearerShapes(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		values []string
		want   int
	}{
		{"canonical", []string{"Bearer " + f.acmeToken}, 200},
		{"lower-case scheme", []string{"bearer " + f.acmeToken}, 200},
		{"upper-case scheme", []string{"BEARER " + f.acmeToken}, 200},
		{"two spaces", []string{"Bearer  " + f.acmeToken}, 200},
		{"trailing space", []string{"Bearer " + f.acmeToken + " "}, 200},
		{"tab", []string{"Bearer\t" + f.acmeToken}, 401},
		{"no space", []string{"Bearer" + f.acmeToken}, 401},
		{"token with a space inside", []string{"Bearer " + f.acmeToken[:10] + " " + f.acmeToken[10:]}, 401},
		{"token only", []string{f.acmeToken}, 401},
		{"case-changed token", []string{"Bearer " + strings.ToUpper(f.acmeToken)}, 401},
		{"token prefix", []string{"Bearer " + f.acmeToken[:42]}, 401},
		{"token plus a character", []string{"Bearer " + f.acmeToken + "x"}, 401},
		{"two headers, good first", []string{"Bearer " + f.acmeToken, "Bearer nope"}, 401},
		{"two headers, good second", []string{"Bearer nope", "Bearer " + f.acmeToken}, 401},
		{"two good headers", []string{"Bearer " + f.acmeToken, "Bearer " + f.acmeToken}, 401},
		{"beta's token", []string{"Bearer " + f.betaToken}, 401},
		{"NUL after the token", []string{"Bearer " + f.acmeToken + "\x00"}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "http://example.test/t/acme/scim/v2/Users", nil)
			req.Header["Authorization"] = tt.values
			rec := httptest.NewRecorder()
			f.srv.Config.Handler.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("status = %d, want %d: %s", rec.Code, tt.want, rec.Body.String())
			}
			checkReply(t, "GET", "/Users", rec)
		})
	}
	t.Run("unknown tenant with NUL", func(t *testing.T) {
		rec := serve(f.srv.Config.Handler, "a%00b", f.acmeToken, "GET", "/Users", "")
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("status = %d, want 401: %s", rec.Code, rec.Body.String())
		}
	})
}

// A group of 10,000 members is created, patched and read in full, and a
// failed PATCH of it changes nothing. It takes a few seconds.
func TestLargeGroup(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const n = 10000
	ids := make([]string, n)
	now := time.Now().UTC()
	var gen idSource
	for i := range ids {
		ids[i] = gen.next(time.Now())
		name := fmt.Sprintf("big%05d@example.com", i)
		data, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "id": ids[i], "userName": name, "active": true})
		if _, err := f.store.CreateResource(ctx, "acme", store.Record{Type: store.TypeUser, ID: ids[i], UserName: name, Data: data, Created: now, Modified: now}); err != nil {
			t.Fatal(err)
		}
	}
	g := f.call(t, "POST", "/Groups", `{"displayName":"Everyone"}`, nil)
	gid := g.body["id"].(string)
	var b strings.Builder
	b.WriteString(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[`)
	for i, id := range ids {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"value":"` + id + `"}`)
	}
	b.WriteString(`]}`)
	add := b.String()

	start := time.Now()
	bad := f.call(t, "PATCH", "/Groups/"+gid, add+`,{"op":"add","path":"members","value":[{"value":"nope"}]}]}`, nil)
	if diff := cmp.Diff(scimError(400, "invalidValue"), errorOf(bad)); diff != "" {
		t.Errorf("failing PATCH (-want +got):\n%s\n%.300s", diff, bad.raw)
	}
	if r := f.call(t, "GET", "/Groups/"+gid, "", nil); r.body["members"] != nil || r.header.Get("ETag") != `W/"1"` {
		t.Errorf("failed PATCH changed the group: %s %.300s", r.header.Get("ETag"), r.raw)
	}
	// A group PATCH answers 204 and no body, whatever the group's size.
	r := f.call(t, "PATCH", "/Groups/"+gid, add+`]}`, nil)
	if diff := cmp.Diff([]any{204, "", `W/"2"`}, []any{r.status, r.raw, r.header.Get("ETag")}); diff != "" {
		t.Fatalf("PATCH add (-want +got):\n%s\n%.300s", diff, r.raw)
	}
	r = f.call(t, "GET", "/Groups/"+gid, "", nil)
	if diff := cmp.Diff([]any{200, ids, `W/"2"`}, []any{r.status, memberIDs(r.body), r.header.Get("ETag")}); diff != "" {
		t.Fatalf("GET after the add (-want +got):\n%s", diff)
	}
	// With excludedAttributes=members it answers 200 with the rest.
	r = f.call(t, "PATCH", "/Groups/"+gid+"?excludedAttributes=members", `{"Operations":[{"op":"remove","path":"members[value eq \"`+ids[n/2]+`\"]"}]}`, nil)
	_, hasMembers := r.body["members"]
	if diff := cmp.Diff([]any{200, "Everyone", false, `W/"3"`}, []any{r.status, r.body["displayName"], hasMembers, r.header.Get("ETag")}); diff != "" {
		t.Errorf("PATCH remove (-want +got):\n%s\n%.300s", diff, r.raw)
	}
	r = f.call(t, "GET", "/Groups/"+gid, "", nil)
	want := slices.Concat(ids[:n/2], ids[n/2+1:])
	if diff := cmp.Diff([]any{200, want}, []any{r.status, memberIDs(r.body)}); diff != "" {
		t.Errorf("GET after the remove (-want +got):\n%s", diff)
	}
	u := f.call(t, "GET", "/Users/"+ids[0], "", nil)
	if len(asList(u.body["groups"])) != 1 {
		t.Errorf("user groups = %v", u.body["groups"])
	}
	l := f.call(t, "GET", "/Users?count=1000&startIndex=9001", "", nil)
	if diff := cmp.Diff([]any{200, float64(n), 1000}, []any{l.status, l.body["totalResults"], len(asList(l.body["Resources"]))}); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}
	// Speed is measured by benchmarks, not asserted here.
	t.Logf("10,000-member group: %v", time.Since(start))
}
