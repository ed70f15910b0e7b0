package server

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/secret"
	"github.com/idpkit/idpkit/scim/store"
)

func TestBulkReferences(t *testing.T) {
	created := []opSummary{
		{Method: "POST", BulkID: "u1", Status: "201", Location: true, Version: true},
		{Method: "POST", BulkID: "g1", Status: "201", Location: true, Version: true},
	}
	tests := []struct {
		name string
		ops  []string
		want []opSummary
	}{
		{"user first", []string{opUser1, opGroup1}, created},
		{"group first", []string{opGroup1, opUser1}, []opSummary{created[1], created[0]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			ops := f.bulkOps(t, bulkBody("", tt.ops...))
			if diff := cmp.Diff(tt.want, summarize(ops)); diff != "" {
				t.Fatalf("results (-want +got):\n%s", diff)
			}
			byID := map[string]map[string]any{}
			for _, op := range ops {
				byID[op["bulkId"].(string)] = op
			}
			uid, gid := idOf(byID["u1"]), idOf(byID["g1"])
			g := f.call(t, "GET", "/Groups/"+gid, "", nil)
			u := f.call(t, "GET", "/Users/"+uid, "", nil)
			got := []any{g.body["members"], u.body["groups"].([]any)[0].(map[string]any)["value"], u.body["password"],
				byID["u1"]["location"], byID["g1"]["version"]}
			want := []any{
				[]any{map[string]any{"value": uid, "display": "bulk1@example.com", "type": "User", "$ref": f.base("acme") + "/Users/" + uid}},
				gid, nil, f.base("acme") + "/Users/" + uid, g.header.Get("ETag"),
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("stored resources (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("reference in a path", func(t *testing.T) {
		f := newFixture(t)
		ops := f.bulkOps(t, bulkBody("",
			`{"method":"PATCH","path":"/Users/bulkId:u1","data":{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}}`,
			opUser1,
			`{"method":"DELETE","path":"/Groups/bulkId:g1"}`,
			opGroup1,
		))
		want := []opSummary{
			{Method: "PATCH", Status: "200", Location: true, Version: true},
			{Method: "POST", BulkID: "u1", Status: "201", Location: true, Version: true},
			{Method: "DELETE", Status: "204", Location: true},
			{Method: "POST", BulkID: "g1", Status: "201", Location: true, Version: true},
		}
		if diff := cmp.Diff(want, summarize(ops)); diff != "" {
			t.Fatalf("results (-want +got):\n%s", diff)
		}
		u := f.call(t, "GET", "/Users/"+idOf(ops[1]), "", nil)
		g := f.call(t, "GET", "/Groups/"+idOf(ops[3]), "", nil)
		if diff := cmp.Diff([]any{false, `W/"2"`, 404}, []any{u.body["active"], ops[0]["version"], g.status}); diff != "" {
			t.Errorf("after the bulk (-want +got):\n%s", diff)
		}
	})
}

func TestBulkDuplicateAndCircular(t *testing.T) {
	manager := func(bulkID, userName, ref string) string {
		return `{"method":"POST","bulkId":"` + bulkID + `","path":"/Users","data":{"userName":"` + userName + `",
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"bulkId:` + ref + `"}}}}`
	}
	f := newFixture(t)
	ops := f.bulkOps(t, bulkBody("",
		manager("a", "ca@example.com", "b"),
		manager("b", "cb@example.com", "a"),
		manager("self", "cs@example.com", "self"),
		manager("c", "cc@example.com", "a"), // depends on a cycle
		manager("d", "cd@example.com", "e"), // forward reference, no cycle
		`{"method":"POST","bulkId":"e","path":"/Users","data":{"userName":"ce@example.com"}}`,
		`{"method":"POST","bulkId":"e","path":"/Users","data":{"userName":"ce2@example.com"}}`, // duplicate bulkId
	))
	want := []opSummary{
		{Method: "POST", BulkID: "a", Status: "409", ScimType: "invalidValue"},
		{Method: "POST", BulkID: "b", Status: "409", ScimType: "invalidValue"},
		{Method: "POST", BulkID: "self", Status: "409", ScimType: "invalidValue"},
		{Method: "POST", BulkID: "c", Status: "400", ScimType: "invalidValue"},
		{Method: "POST", BulkID: "d", Status: "201", Location: true, Version: true},
		{Method: "POST", BulkID: "e", Status: "201", Location: true, Version: true},
		{Method: "POST", BulkID: "e", Status: "400", ScimType: "invalidValue"},
	}
	if diff := cmp.Diff(want, summarize(ops)); diff != "" {
		t.Fatalf("results (-want +got):\n%s", diff)
	}
	d := f.call(t, "GET", "/Users/"+idOf(ops[4]), "", nil)
	ext, _ := d.body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].(map[string]any)
	mgr, _ := ext["manager"].(map[string]any)
	if diff := cmp.Diff(idOf(ops[5]), mgr["value"]); diff != "" {
		t.Errorf("manager of d (-want +got):\n%s", diff)
	}
	for i, part := range map[int]string{0: "circular", 3: "bulkId:a", 6: "operation 6"} {
		if detail := ops[i]["response"].(map[string]any)["detail"].(string); !strings.Contains(detail, part) {
			t.Errorf("operation %d: detail %q does not mention %q", i+1, detail, part)
		}
	}
}

// bulkId references are replaced only where a resource id goes (RFC 7644
// §3.7.2): never in a password or another attribute, and a password is
// never echoed in a detail.
func TestBulkRefsOnlyInReferences(t *testing.T) {
	// The passwords are kept to show they were stored as sent.
	f := newFixtureWith(t, Config{KeepPasswordHashes: true})
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
		{Method: "PATCH", Status: "204", Location: true, Version: true}, // a group PATCH has no body
		{Method: "PATCH", Status: "200", Location: true, Version: true},
		{Method: "PATCH", Status: "200", Location: true, Version: true},
		{Method: "PATCH", Status: "200", Location: true, Version: true},
	}
	if diff := cmp.Diff(want, summarize(ops)); diff != "" {
		t.Fatalf("results (-want +got):\n%s\n%v", diff, ops)
	}
	p1, p2, p3 := idOf(ops[0]), idOf(ops[1]), idOf(ops[2])
	stored := func(id string) scim.Resource { return f.stored(t, store.TypeUser, id) }
	pw := func(id string) string { s, _ := stored(id)["password"].(string); return s }
	manager := func(id string) any {
		ext, _ := stored(id)[scim.SchemaEnterpriseUser].(map[string]any)
		m, _ := ext["manager"].(map[string]any)
		return m["value"]
	}
	g := f.call(t, "GET", "/Groups/"+idOf(ops[3]), "", nil)
	got := map[string]any{
		"p1 password is the literal": secret.VerifyPassword(pw(p1), "bulkId:MyS3cretPassw0rd"),
		"p2 password is the literal": secret.VerifyPassword(pw(p2), "bulkId:p3"),
		"p2 password is not p3's id": secret.VerifyPassword(pw(p2), p3),
		"p2 title":                   stored(p2)["title"],
		"p3 password via PATCH":      secret.VerifyPassword(pw(p3), "bulkId:p1"),
		"members":                    memberIDs(g.body),
		"p1 manager":                 manager(p1),
		"p2 manager":                 manager(p2),
	}
	wantGot := map[string]any{
		"p1 password is the literal": true,
		"p2 password is the literal": true,
		"p2 password is not p3's id": false,
		"p2 title":                   "bulkId:p3",
		"p3 password via PATCH":      true,
		"members":                    []string{p3, p1},
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

// References are found in every form the single endpoints accept: a bare
// manager id, a path naming the whole extension, URN-qualified members,
// and the value filter of Okta's member removal path.
func TestBulkRefsInEveryForm(t *testing.T) {
	f := newFixture(t)
	ext := scim.SchemaEnterpriseUser
	ops := f.bulkOps(t, bulkBody("",
		`{"method":"POST","bulkId":"m","path":"/Users","data":{"userName":"m@example.com"}}`,
		`{"method":"POST","bulkId":"a","path":"/Users","data":{"userName":"a@example.com","`+ext+`":{"manager":"bulkId:m"}}}`,
		`{"method":"POST","bulkId":"b","path":"/Users","data":{"userName":"b@example.com"}}`,
		`{"method":"PATCH","path":"/Users/bulkId:b","data":{"Operations":[{"op":"replace","path":"`+ext+`","value":{"manager":{"value":"bulkId:m"}}}]}}`,
		`{"method":"POST","bulkId":"c","path":"/Users","data":{"userName":"c@example.com"}}`,
		`{"method":"PATCH","path":"/Users/bulkId:c","data":{"Operations":[{"op":"add","path":"manager","value":"bulkId:m"}]}}`,
		`{"method":"POST","bulkId":"g","path":"/Groups","data":{"displayName":"G","members":[{"value":"bulkId:a"},{"value":"bulkId:b"}]}}`,
		`{"method":"PATCH","path":"/Groups/bulkId:g","data":{"Operations":[{"op":"add","path":"urn:ietf:params:scim:schemas:core:2.0:Group:members","value":[{"value":"bulkId:c"}]}]}}`,
		`{"method":"PATCH","path":"/Groups/bulkId:g","data":{"Operations":[{"op":"remove","path":"members[value eq \"bulkId:a\"]"}]}}`,
		`{"method":"PATCH","path":"/Groups/bulkId:g","data":{"Operations":[{"op":"add","value":{"urn:ietf:params:scim:schemas:core:2.0:Group:members":[{"value":"bulkId:m"}]}}]}}`,
	))
	// A group PATCH answers 204 (no body), with the group's new version.
	wantOps := []opSummary{
		{Method: "POST", BulkID: "m", Status: "201", Location: true, Version: true},
		{Method: "POST", BulkID: "a", Status: "201", Location: true, Version: true},
		{Method: "POST", BulkID: "b", Status: "201", Location: true, Version: true},
		{Method: "PATCH", Status: "200", Location: true, Version: true},
		{Method: "POST", BulkID: "c", Status: "201", Location: true, Version: true},
		{Method: "PATCH", Status: "200", Location: true, Version: true},
		{Method: "POST", BulkID: "g", Status: "201", Location: true, Version: true},
		{Method: "PATCH", Status: "204", Location: true, Version: true},
		{Method: "PATCH", Status: "204", Location: true, Version: true},
		{Method: "PATCH", Status: "204", Location: true, Version: true},
	}
	if diff := cmp.Diff(wantOps, summarize(ops)); diff != "" {
		t.Fatalf("results (-want +got):\n%s\n%v", diff, ops)
	}
	if diff := cmp.Diff([]any{`W/"2"`, `W/"3"`, `W/"4"`}, []any{ops[7]["version"], ops[8]["version"], ops[9]["version"]}); diff != "" {
		t.Errorf("versions of the group PATCHes (-want +got):\n%s", diff)
	}
	m, a, b, c := idOf(ops[0]), idOf(ops[1]), idOf(ops[2]), idOf(ops[4])
	manager := func(id string) any {
		e, _ := f.stored(t, store.TypeUser, id)[ext].(map[string]any)
		mm, _ := e["manager"].(map[string]any)
		return mm["value"]
	}
	g := f.call(t, "GET", "/Groups/"+idOf(ops[6]), "", nil)
	got := map[string]any{"a's manager": manager(a), "b's manager": manager(b), "c's manager": manager(c), "members": memberIDs(g.body), "group's ETag": g.header.Get("ETag")}
	want := map[string]any{"a's manager": m, "b's manager": m, "c's manager": m, "members": []string{b, c, m}, "group's ETag": `W/"4"`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stored references (-want +got):\n%s", diff)
	}
}
