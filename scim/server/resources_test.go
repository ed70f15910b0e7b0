package server

import (
	"fmt"
	"net/http"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCreate(t *testing.T) {
	f := newFixture(t)
	r := f.call(t, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"Ann@Example.com","externalId":"00u1",
		"id":"client-chosen","meta":{"version":"W/\"99\""},"groups":[{"value":"g"}],"password":"hunter2","active":"True"}`, nil)
	id, _ := r.body["id"].(string)
	meta, _ := r.body["meta"].(map[string]any)
	got := map[string]any{
		"status": r.status, "location": r.header.Get("Location"), "etag": r.header.Get("ETag"),
		"userName": r.body["userName"], "active": r.body["active"], "externalId": r.body["externalId"],
		"password": r.body["password"], "groups": r.body["groups"], "idIsUUID": len(id) == 36 && id != "client-chosen",
		"meta.resourceType": meta["resourceType"], "meta.location": meta["location"], "meta.version": meta["version"],
		"meta.created": meta["created"] != nil, "meta.lastModified": meta["lastModified"] != nil,
	}
	loc := f.base("acme") + "/Users/" + id
	want := map[string]any{
		"status": 201, "location": loc, "etag": `W/"1"`,
		"userName": "Ann@Example.com", "active": true, "externalId": "00u1",
		"password": nil, "groups": nil, "idIsUUID": true,
		"meta.resourceType": "User", "meta.location": loc, "meta.version": `W/"1"`,
		"meta.created": true, "meta.lastModified": true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("create mismatch (-want +got):\n%s\n%s", diff, r.raw)
	}
	g := f.call(t, "GET", "/Users/"+id, "", nil)
	if _, has := g.body["password"]; has {
		t.Errorf("GET returns the password: %s", g.raw)
	}
	if got := g.header.Get("ETag"); got != `W/"1"` {
		t.Errorf("GET ETag = %q, want W/\"1\"", got)
	}
}

func TestUniqueness(t *testing.T) {
	f := newFixture(t)
	a := f.createUser(t, "Taken@example.com")
	b := f.createUser(t, "other@example.com")
	tests := []struct {
		name, method, path, body string
	}{
		{"POST same case", "POST", "/Users", `{"userName":"Taken@example.com"}`},
		{"POST other case", "POST", "/Users", `{"userName":"taken@EXAMPLE.com"}`},
		{"PUT onto taken", "PUT", "/Users/" + b, `{"userName":"TAKEN@example.com"}`},
		{"PATCH onto taken", "PATCH", "/Users/" + b, `{"Operations":[{"op":"replace","path":"userName","value":"taken@example.com"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.call(t, tt.method, tt.path, tt.body, nil)
			if diff := cmp.Diff(scimError(409, "uniqueness"), errorOf(r)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
			}
		})
	}
	t.Run("own userName in another case", func(t *testing.T) {
		r := f.call(t, "PUT", "/Users/"+a, `{"userName":"taken@example.com"}`, nil)
		if diff := cmp.Diff([]any{200, "taken@example.com"}, []any{r.status, r.body["userName"]}); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
		}
	})
}

func TestPaging(t *testing.T) {
	f := newFixture(t)
	var ids []string
	for i := range 5 {
		ids = append(ids, f.createUser(t, fmt.Sprintf("page%d@example.com", i)))
	}
	tests := []struct {
		query     string
		wantStart float64
		wantIDs   []string
	}{
		{"", 1, ids},
		{"?startIndex=1&count=2", 1, ids[0:2]},
		{"?startIndex=3&count=2", 3, ids[2:4]},
		{"?startIndex=5&count=2", 5, ids[4:5]},
		{"?startIndex=6&count=2", 6, nil},
		{"?startIndex=0&count=1", 1, ids[0:1]},
		{"?startIndex=-4&count=1", 1, ids[0:1]},
		{"?count=0", 1, nil},
		{"?count=-3", 1, nil},
		{"?count=5000", 1, ids},
		{"?count=99999999999999999999", 1, ids},
		{"?startIndex=99999999999999999999", 1 << 31, nil},
		{"?count=%202%20", 1, ids[0:2]},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := f.call(t, "GET", "/Users"+tt.query, "", nil)
			res, isList := r.body["Resources"].([]any)
			gotIDs := []string{}
			for _, u := range res {
				gotIDs = append(gotIDs, u.(map[string]any)["id"].(string))
			}
			want := map[string]any{"status": 200, "isList": true, "schemas": []any{"urn:ietf:params:scim:api:messages:2.0:ListResponse"},
				"totalResults": float64(5), "startIndex": tt.wantStart, "itemsPerPage": float64(len(tt.wantIDs)), "ids": append([]string{}, tt.wantIDs...)}
			got := map[string]any{"status": r.status, "isList": isList, "schemas": r.body["schemas"],
				"totalResults": r.body["totalResults"], "startIndex": r.body["startIndex"], "itemsPerPage": r.body["itemsPerPage"], "ids": gotIDs}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
			}
		})
	}
	t.Run("empty tenant lists []", func(t *testing.T) {
		r := f.callTenant(t, "beta", f.betaToken, "GET", "/Groups", "", nil)
		if diff := cmp.Diff([]any{200, float64(0), []any{}}, []any{r.status, r.body["totalResults"], r.body["Resources"]}); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
		}
	})
}

func TestFilter(t *testing.T) {
	f := newFixture(t)
	a := f.createUser(t, "Fa@example.com")
	f.createUser(t, "fb@example.com")
	f.call(t, "PATCH", "/Users/"+a, `{"Operations":[{"op":"replace","value":{"externalId":"00uA","displayName":"Ann A"}}]}`, nil)
	g := f.call(t, "POST", "/Groups", `{"displayName":"Admins","members":[{"value":"`+a+`"}]}`, nil)
	gid := g.body["id"].(string)
	tests := []struct {
		path string
		want int
	}{
		{`/Users?filter=userName eq "fa@example.com"`, 1},
		{`/Users?filter=userName eq "FA@EXAMPLE.COM"`, 1},
		{`/Users?filter=externalId eq "00uA"`, 1},
		{`/Users?filter=externalId eq "00ua"`, 0}, // caseExact
		{`/Users?filter=displayName eq "ann a"`, 1},
		{`/Users?filter=urn:ietf:params:scim:schemas:core:2.0:User:userName eq "fb@example.com"`, 1},
		{`/Users?filter=userName sw "f" and active eq true`, 2},
		{`/Users?filter=emails[type eq "work" and value co "fb@"]`, 1},
		{`/Users?filter=groups.value eq "` + gid + `"`, 1},
		{`/Groups?filter=displayName eq "admins"`, 1},
		{`/Groups?filter=id eq "` + gid + `" and members[value eq "` + a + `"]&excludedAttributes=members`, 1},
		{`/Users?filter=userName eq "nobody@example.com"`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := f.call(t, "GET", escapeQuery(tt.path), "", nil)
			if diff := cmp.Diff([]any{200, float64(tt.want)}, []any{r.status, r.body["totalResults"]}); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
			}
		})
	}
}

// escapeQuery percent-encodes spaces and quotes in a test path.
func escapeQuery(p string) string {
	out := []byte{}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case ' ':
			out = append(out, "%20"...)
		case '"':
			out = append(out, "%22"...)
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

func TestProjection(t *testing.T) {
	f := newFixture(t)
	r := f.call(t, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
		"userName":"proj@example.com","name":{"givenName":"P","familyName":"Q"},"emails":[{"value":"proj@example.com","type":"work"}],"title":"Dev",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D","costCenter":"7"}}`, nil)
	id := r.body["id"].(string)
	f.call(t, "POST", "/Groups", `{"displayName":"G","members":[{"value":"`+id+`"}]}`, nil)
	keys := func(m map[string]any) []string {
		var out []string
		for k, v := range m {
			if sub, ok := v.(map[string]any); ok && k != "meta" {
				for sk := range sub {
					out = append(out, k+"."+sk)
				}
				continue
			}
			if list, ok := v.([]any); ok && k != "schemas" && len(list) > 0 {
				if el, ok := list[0].(map[string]any); ok {
					for sk := range el {
						out = append(out, k+"[]."+sk)
					}
					continue
				}
			}
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	const ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	tests := []struct {
		query string
		want  []string
	}{
		{"?attributes=userName", []string{"id", "meta", "schemas", "userName"}},
		{"?attributes=USERNAME,name.givenName", []string{"id", "meta", "name.givenName", "schemas", "userName"}},
		{"?attributes=emails.value", []string{"emails[].value", "id", "meta", "schemas"}},
		{"?attributes=" + ent + ":department", []string{"id", "meta", "schemas", ent + ".department"}},
		{"?attributes=" + ent, []string{"id", "meta", "schemas", ent + ".costCenter", ent + ".department"}},
		{"?attributes=id,meta,schemas", []string{"id", "meta", "schemas"}},
		{"?attributes=unknownThing", []string{"id", "meta", "schemas"}},
		{"?excludedAttributes=emails,name,groups," + ent + ",title", []string{"id", "meta", "schemas", "userName"}},
		{"?excludedAttributes=id,meta,schemas,name.familyName,emails,groups," + ent + ",title", []string{"id", "meta", "name.givenName", "schemas", "userName"}},
		{"?excludedAttributes=groups.display,emails,name," + ent + ",title", []string{"groups[].$ref", "groups[].type", "groups[].value", "id", "meta", "schemas", "userName"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			one := f.call(t, "GET", "/Users/"+id+tt.query, "", nil)
			if diff := cmp.Diff(tt.want, keys(one.body)); diff != "" {
				t.Errorf("GET /Users/{id} mismatch (-want +got):\n%s\n%s", diff, one.raw)
			}
			list := f.call(t, "GET", "/Users"+tt.query, "", nil)
			res := list.body["Resources"].([]any)
			if diff := cmp.Diff(tt.want, keys(res[0].(map[string]any))); diff != "" {
				t.Errorf("GET /Users mismatch (-want +got):\n%s\n%s", diff, list.raw)
			}
		})
	}
	t.Run("excludedAttributes=members on groups", func(t *testing.T) {
		r := f.call(t, "GET", "/Groups?excludedAttributes=members", "", nil)
		g := r.body["Resources"].([]any)[0].(map[string]any)
		if diff := cmp.Diff([]string{"displayName", "id", "meta", "schemas"}, keys(g)); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
		}
	})
	t.Run("POST honours attributes", func(t *testing.T) {
		r := f.call(t, "POST", "/Users?attributes=userName", `{"userName":"proj2@example.com","title":"x"}`, nil)
		if diff := cmp.Diff([]string{"id", "meta", "schemas", "userName"}, keys(r.body)); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
		}
	})
}

func TestPut(t *testing.T) {
	f := newFixture(t)
	r := f.call(t, "POST", "/Users", `{"userName":"put@example.com","externalId":"00u9","title":"Dev","nickName":"pp","name":{"givenName":"A","familyName":"B"},"active":true}`, nil)
	id := r.body["id"].(string)
	created := r.body["meta"].(map[string]any)["created"]
	p := f.call(t, "PUT", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"other","userName":"Put2@example.com",
		"meta":{"created":"2000-01-01T00:00:00Z"},"name":{"givenName":"A"},"active":false,"groups":[{"value":"x"}],"password":"p"}`, nil)
	meta, _ := p.body["meta"].(map[string]any)
	got := map[string]any{"status": p.status, "id": p.body["id"], "userName": p.body["userName"], "active": p.body["active"],
		"name": p.body["name"], "title": p.body["title"], "nickName": p.body["nickName"], "externalId": p.body["externalId"],
		"password": p.body["password"], "groups": p.body["groups"], "created": meta["created"], "version": meta["version"], "etag": p.header.Get("ETag")}
	want := map[string]any{"status": 200, "id": id, "userName": "Put2@example.com", "active": false,
		"name": map[string]any{"givenName": "A"}, "title": nil, "nickName": nil, "externalId": nil,
		"password": nil, "groups": nil, "created": created, "version": `W/"2"`, "etag": `W/"2"`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PUT mismatch (-want +got):\n%s\n%s", diff, p.raw)
	}
	g := f.call(t, "GET", "/Users/"+id, "", nil)
	if diff := cmp.Diff(p.body, g.body); diff != "" {
		t.Errorf("GET after PUT differs from the PUT response (-put +get):\n%s", diff)
	}
	old := f.call(t, "GET", `/Users?filter=userName%20eq%20%22put@example.com%22`, "", nil)
	if diff := cmp.Diff(float64(0), old.body["totalResults"]); diff != "" {
		t.Errorf("old userName still found (-want +got):\n%s", diff)
	}
}

func TestIfMatch(t *testing.T) {
	f := newFixture(t)
	id := f.createUser(t, "etag@example.com")
	patch := `{"Operations":[{"op":"replace","path":"title","value":"x"}]}`
	tests := []struct {
		name, method, body, ifMatch string
		want                        int
	}{
		{"PATCH stale", "PATCH", patch, `W/"7"`, 412},
		{"PUT stale", "PUT", `{"userName":"etag@example.com"}`, `W/"7"`, 412},
		{"DELETE stale", "DELETE", "", `"7"`, 412},
		{"PATCH current", "PATCH", patch, `W/"1"`, 200},
		{"PATCH current in a list", "PATCH", `{"Operations":[{"op":"replace","path":"title","value":"y"}]}`, `W/"9", W/"2"`, 200},
		{"PUT star", "PUT", `{"userName":"etag@example.com"}`, `*`, 200},
		{"PATCH old version now", "PATCH", patch, `W/"1"`, 412},
		{"DELETE current", "DELETE", "", `W/"4"`, 204},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.call(t, tt.method, "/Users/"+id, tt.body, map[string]string{"If-Match": tt.ifMatch})
			if r.status != tt.want {
				t.Fatalf("status = %d, want %d: %s", r.status, tt.want, r.raw)
			}
			if tt.want == 412 {
				if diff := cmp.Diff(scimError(412, ""), errorOf(r)); diff != "" {
					t.Errorf("mismatch (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestDelete(t *testing.T) {
	f := newFixture(t)
	a := f.createUser(t, "del-a@example.com")
	b := f.createUser(t, "del-b@example.com")
	g := f.call(t, "POST", "/Groups", `{"displayName":"D","members":[{"value":"`+a+`"},{"value":"`+b+`"}]}`, nil)
	gid := g.body["id"].(string)

	r := f.call(t, "DELETE", "/Users/"+a, "", nil)
	if diff := cmp.Diff([]any{204, ""}, []any{r.status, r.raw}); diff != "" {
		t.Errorf("DELETE mismatch (-want +got):\n%s", diff)
	}
	if r := f.call(t, "GET", "/Users/"+a, "", nil); r.status != http.StatusNotFound {
		t.Errorf("GET deleted user = %d, want 404", r.status)
	}
	if r := f.call(t, "DELETE", "/Users/"+a, "", nil); r.status != http.StatusNotFound {
		t.Errorf("second DELETE = %d, want 404", r.status)
	}
	gr := f.call(t, "GET", "/Groups/"+gid, "", nil)
	if diff := cmp.Diff([]string{b}, memberIDs(gr.body)); diff != "" {
		t.Errorf("members after deleting a user (-want +got):\n%s", diff)
	}
	if r := f.call(t, "DELETE", "/Groups/"+gid, "", nil); r.status != http.StatusNoContent {
		t.Errorf("DELETE group = %d, want 204", r.status)
	}
	u := f.call(t, "GET", "/Users/"+b, "", nil)
	if _, has := u.body["groups"]; has {
		t.Errorf("user still lists a deleted group: %s", u.raw)
	}
}

func TestGroupMembers(t *testing.T) {
	f := newFixture(t)
	a := f.createUser(t, "mem-a@example.com")
	b := f.createUser(t, "mem-b@example.com")
	other := f.createUserIn(t, "beta", f.betaToken, "mem-x@example.com")

	t.Run("members completed", func(t *testing.T) {
		r := f.call(t, "POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Team",
			"members":[{"value":"`+a+`","display":"Ann"},{"value":"`+b+`"},{"value":"`+b+`"}]}`, nil)
		want := []any{
			map[string]any{"value": a, "display": "Ann", "$ref": f.base("acme") + "/Users/" + a, "type": "User"},
			map[string]any{"value": b, "display": "mem-b@example.com", "$ref": f.base("acme") + "/Users/" + b, "type": "User"},
		}
		if diff := cmp.Diff([]any{201, want}, []any{r.status, r.body["members"]}); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
		}
		u := f.call(t, "GET", "/Users/"+b, "", nil)
		wantGroups := []any{map[string]any{"value": r.body["id"], "display": "Team", "$ref": f.base("acme") + "/Groups/" + r.body["id"].(string), "type": "direct"}}
		if diff := cmp.Diff(wantGroups, u.body["groups"]); diff != "" {
			t.Errorf("user groups mismatch (-want +got):\n%s", diff)
		}
	})
	gr := f.call(t, "POST", "/Groups", `{"displayName":"Empty","members":[]}`, nil)
	gid, _ := gr.body["id"].(string)
	bad := []struct {
		name, method, path, body string
	}{
		{"POST unknown user", "POST", "/Groups", `{"displayName":"X","members":[{"value":"nope"}]}`},
		{"POST other tenant's user", "POST", "/Groups", `{"displayName":"X","members":[{"value":"` + other + `"}]}`},
		{"POST member without value", "POST", "/Groups", `{"displayName":"X","members":[{"display":"a"}]}`},
		{"POST group as member", "POST", "/Groups", `{"displayName":"X","members":[{"value":"` + gid + `","type":"Group"}]}`},
		{"PUT other tenant's user", "PUT", "/Groups/" + gid, `{"displayName":"X","members":[{"value":"` + other + `"}]}`},
		{"PATCH add unknown", "PATCH", "/Groups/" + gid, `{"Operations":[{"op":"add","path":"members","value":[{"value":"` + a + `"},{"value":"nope"}]}]}`},
		{"PATCH add other tenant's user", "PATCH", "/Groups/" + gid, `{"Operations":[{"op":"add","path":"members","value":[{"value":"` + other + `"}]}]}`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			r := f.call(t, tt.method, tt.path, tt.body, nil)
			if diff := cmp.Diff(scimError(400, "invalidValue"), errorOf(r)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
			}
		})
	}
	t.Run("failed PATCH left the group alone", func(t *testing.T) {
		r := f.call(t, "GET", "/Groups/"+gid, "", nil)
		if diff := cmp.Diff([]any{nil, `W/"1"`}, []any{r.body["members"], r.header.Get("ETag")}); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
		}
	})
	t.Run("PATCH add then remove", func(t *testing.T) {
		r := f.call(t, "PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
			{"op":"add","path":"members","value":[{"value":"`+a+`","display":"mem-a"},{"value":"`+b+`"}]}]}`, nil)
		// Without attributes a group PATCH answers 204 and no body.
		if diff := cmp.Diff([]any{204, "", `W/"2"`}, []any{r.status, r.raw, r.header.Get("ETag")}); diff != "" {
			t.Errorf("add mismatch (-want +got):\n%s\n%s", diff, r.raw)
		}
		got := f.call(t, "GET", "/Groups/"+gid, "", nil)
		wantAdded := []any{
			map[string]any{"value": a, "display": "mem-a", "$ref": f.base("acme") + "/Users/" + a, "type": "User"},
			map[string]any{"value": b, "display": "mem-b@example.com", "$ref": f.base("acme") + "/Users/" + b, "type": "User"},
		}
		if diff := cmp.Diff([]any{200, `W/"2"`, wantAdded}, []any{got.status, got.header.Get("ETag"), got.body["members"]}); diff != "" {
			t.Errorf("GET after the add (-want +got):\n%s\n%s", diff, got.raw)
		}
		// With attributes it answers 200 with them.
		r = f.call(t, "PATCH", "/Groups/"+gid+"?attributes=displayName,members", `{"Operations":[{"op":"remove","path":"members[value eq \"`+a+`\"]"},
			{"op":"replace","value":{"id":"`+gid+`","displayName":"Renamed"}}]}`, nil)
		want := []any{200, `W/"3"`, "Renamed", []any{map[string]any{"value": b, "display": "mem-b@example.com", "$ref": f.base("acme") + "/Users/" + b, "type": "User"}}}
		if diff := cmp.Diff(want, []any{r.status, r.header.Get("ETag"), r.body["displayName"], r.body["members"]}); diff != "" {
			t.Errorf("remove mismatch (-want +got):\n%s\n%s", diff, r.raw)
		}
	})
}

func TestTenantIsolation(t *testing.T) {
	f := newFixture(t)
	a := f.createUserIn(t, "acme", f.acmeToken, "same@example.com")
	b := f.createUserIn(t, "beta", f.betaToken, "same@example.com")
	if a == b {
		t.Fatal("two tenants got the same id")
	}
	tests := []struct {
		name, method, path, body string
		want                     int
	}{
		{"GET other tenant's user", "GET", "/Users/" + b, "", 404},
		{"PUT other tenant's user", "PUT", "/Users/" + b, `{"userName":"x@example.com"}`, 404},
		{"PATCH other tenant's user", "PATCH", "/Users/" + b, `{"Operations":[{"op":"replace","value":{"active":false}}]}`, 404},
		{"DELETE other tenant's user", "DELETE", "/Users/" + b, "", 404},
		{"GET own user", "GET", "/Users/" + a, "", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.call(t, tt.method, tt.path, tt.body, nil)
			if r.status != tt.want {
				t.Errorf("status = %d, want %d: %s", r.status, tt.want, r.raw)
			}
		})
	}
	t.Run("lists are per tenant", func(t *testing.T) {
		for tenant, tok := range map[string]string{"acme": f.acmeToken, "beta": f.betaToken} {
			r := f.callTenant(t, tenant, tok, "GET", `/Users?filter=userName%20eq%20%22same@example.com%22`, "", nil)
			want := map[string]string{"acme": a, "beta": b}[tenant]
			res := asList(r.body["Resources"])
			if len(res) != 1 || res[0].(map[string]any)["id"] != want {
				t.Errorf("%s: got %s, want only %s", tenant, r.raw, want)
			}
		}
	})
	t.Run("beta's user untouched", func(t *testing.T) {
		r := f.callTenant(t, "beta", f.betaToken, "GET", "/Users/"+b, "", nil)
		if diff := cmp.Diff([]any{200, "same@example.com", true, `W/"1"`}, []any{r.status, r.body["userName"], r.body["active"], r.header.Get("ETag")}); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	})
}

// Concurrent PATCHes of one group never lose a member: each runs inside
// the store's update transaction.
func TestConcurrentPatch(t *testing.T) {
	f := newFixture(t)
	const n = 12
	ids := make([]string, n)
	for i := range ids {
		ids[i] = f.createUser(t, fmt.Sprintf("conc%d@example.com", i))
	}
	g := f.call(t, "POST", "/Groups", `{"displayName":"Many"}`, nil)
	gid := g.body["id"].(string)
	// Each PATCH answers 204 and no body, with the version it wrote: the
	// tags are W/"2" to W/"n+1", each once.
	type answer struct {
		err, tag string
	}
	answers := make(chan answer, n)
	for _, id := range ids {
		go func() {
			resp, body, err := f.send("acme", f.acmeToken, "PATCH", "/Groups/"+gid, `{"Operations":[{"op":"add","path":"members","value":[{"value":"`+id+`"}]}]}`, nil)
			switch {
			case err != nil:
				answers <- answer{err: err.Error()}
			case resp.StatusCode != http.StatusNoContent || len(body) > 0:
				answers <- answer{err: fmt.Sprintf("PATCH = %d: %s", resp.StatusCode, body)}
			default:
				answers <- answer{tag: resp.Header.Get("ETag")}
			}
		}()
	}
	var tags, wantTags []string
	for i := range ids {
		wantTags = append(wantTags, fmt.Sprintf(`W/"%d"`, i+2))
		a := <-answers
		if a.err != "" {
			t.Error(a.err)
			continue
		}
		tags = append(tags, a.tag)
	}
	sort.Strings(tags)
	sort.Strings(wantTags)
	if diff := cmp.Diff(wantTags, tags); diff != "" {
		t.Errorf("PATCH tags (-want +got):\n%s", diff)
	}
	r := f.call(t, "GET", "/Groups/"+gid, "", nil)
	got := memberIDs(r.body)
	sort.Strings(got)
	want := append([]string{}, ids...)
	sort.Strings(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("members mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(fmt.Sprintf(`W/"%d"`, n+1), r.header.Get("ETag")); diff != "" {
		t.Errorf("ETag mismatch (-want +got):\n%s", diff)
	}
}
