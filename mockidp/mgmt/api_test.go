package mgmt

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func errorShape(t *testing.T, r resp) map[string]any {
	t.Helper()
	m := r.obj(t)
	id, _ := m["errorId"].(string)
	if !strings.HasPrefix(id, "oae") || m["errorLink"] != m["errorCode"] {
		t.Errorf("error body %s: want errorId oae… and errorLink = errorCode", r.body)
	}
	delete(m, "errorId")
	delete(m, "errorLink")
	return m
}

func TestAuth(t *testing.T) {
	e := newEnv(t, Config{})
	want := map[string]any{"errorCode": "E0000011", "errorSummary": "Invalid token provided", "errorCauses": []any{}}
	for _, tc := range []struct {
		name, auth string
		status     int
	}{
		{"missing", "", 401},
		{"bearer", "Bearer " + testToken, 401},
		{"wrong", "SSWS nope", 401},
		{"prefix of token", "SSWS " + testToken[:5], 401},
		{"right", "SSWS " + testToken, 200},
		{"scheme case", "ssws " + testToken, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.doAuth(tc.auth, "GET", "/api/v1/users", nil)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if r.header.Get("X-Rate-Limit-Limit") == "" || r.header.Get("X-Rate-Limit-Remaining") == "" || r.header.Get("X-Rate-Limit-Reset") == "" {
				t.Errorf("rate limit headers missing: %v", r.header)
			}
			if tc.status == 401 {
				if diff := cmp.Diff(want, errorShape(t, r)); diff != "" {
					t.Errorf("body (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestUserErrors(t *testing.T) {
	e := newEnv(t, Config{})
	alice := e.createUser("alice@example.com")
	profile := func(login string) map[string]any {
		return map[string]any{"profile": map[string]any{"login": login, "email": login, "firstName": "A", "lastName": "B"}}
	}
	tests := []struct {
		name, method, path string
		body               any
		status             int
		want               map[string]any
	}{
		{"duplicate login", "POST", "/api/v1/users?activate=true", profile("ALICE@example.com"), 400, map[string]any{
			"errorCode": "E0000001", "errorSummary": "Api validation failed: login",
			"errorCauses": []any{map[string]any{"errorSummary": "login: An object with this field already exists in the current organization"}}}},
		{"no last name", "POST", "/api/v1/users", map[string]any{"profile": map[string]any{"login": "b@example.com", "email": "b@example.com", "firstName": "B"}}, 400, map[string]any{
			"errorCode": "E0000001", "errorSummary": "Api validation failed: lastName",
			"errorCauses": []any{map[string]any{"errorSummary": "lastName: The field cannot be left blank"}}}},
		{"short password", "POST", "/api/v1/users", map[string]any{"profile": profile("c@example.com")["profile"], "credentials": map[string]any{"password": map[string]any{"value": "x"}}}, 400, map[string]any{
			"errorCode": "E0000001", "errorSummary": "Api validation failed: password",
			"errorCauses": []any{map[string]any{"errorSummary": "password: Password requirements were not met. Password requirements: at least 8 characters."}}}},
		{"bad json", "POST", "/api/v1/users", "{", 400, map[string]any{"errorCode": "E0000003", "errorSummary": "The request body was not well-formed.", "errorCauses": []any{}}},
		{"profile wrong type", "POST", "/api/v1/users", map[string]any{"profile": map[string]any{"login": 7}}, 400, map[string]any{
			"errorCode": "E0000001", "errorSummary": "Api validation failed: login",
			"errorCauses": []any{map[string]any{"errorSummary": "login: Does not match required pattern"}}}},
		{"unknown user", "GET", "/api/v1/users/00uNOPE", nil, 404, map[string]any{"errorCode": "E0000007", "errorSummary": "Not found: Resource not found: 00uNOPE (User)", "errorCauses": []any{}}},
		{"unknown group", "GET", "/api/v1/groups/00gNOPE", nil, 404, map[string]any{"errorCode": "E0000007", "errorSummary": "Not found: Resource not found: 00gNOPE (UserGroup)", "errorCauses": []any{}}},
		{"unknown app", "GET", "/api/v1/apps/0oaNOPE", nil, 404, map[string]any{"errorCode": "E0000007", "errorSummary": "Not found: Resource not found: 0oaNOPE (AppInstance)", "errorCauses": []any{}}},
		{"activate active", "POST", "/api/v1/users/" + alice + "/lifecycle/activate", nil, 403, map[string]any{"errorCode": "E0000016", "errorSummary": "Activation failed because the user is already active", "errorCauses": []any{}}},
		{"unsuspend active", "POST", "/api/v1/users/" + alice + "/lifecycle/unsuspend", nil, 400, map[string]any{
			"errorCode": "E0000001", "errorSummary": "Api validation failed: cannot unsuspend a user that is not suspended",
			"errorCauses": []any{map[string]any{"errorSummary": "cannot unsuspend a user that is not suspended"}}}},
		{"unknown endpoint", "GET", "/api/v1/nothing", nil, 404, map[string]any{"errorCode": "E0000007", "errorSummary": "Not found: Resource not found: /api/v1/nothing (Endpoint)", "errorCauses": []any{}}},
		{"wrong method", "PATCH", "/api/v1/users", nil, 405, map[string]any{"errorCode": "E0000022", "errorSummary": "The endpoint does not support the provided HTTP method", "errorCauses": []any{}}},
		{"bad filter", "GET", "/api/v1/users?filter=" + "profile.login%20eq", nil, 400, map[string]any{"errorCode": "E0000031", "errorSummary": "Invalid search criteria.", "errorCauses": []any{map[string]any{"errorSummary": `filter: unsupported expression "profile.login eq"`}}}},
		{"bad limit", "GET", "/api/v1/users?limit=x", nil, 400, map[string]any{"errorCode": "E0000001", "errorSummary": "Api validation failed: limit", "errorCauses": []any{map[string]any{"errorSummary": "limit: must be a positive integer"}}}},
		{"oidc app without redirect", "POST", "/api/v1/apps", map[string]any{"name": "oidc_client", "label": "x", "signOnMode": "OPENID_CONNECT", "settings": map[string]any{"oauthClient": map[string]any{"grant_types": []string{"authorization_code"}}}}, 400, map[string]any{
			"errorCode": "E0000001", "errorSummary": "Api validation failed: redirect_uris",
			"errorCauses": []any{map[string]any{"errorSummary": "redirect_uris: At least one redirect URI is required for the authorization_code grant"}}}},
		{"body too large", "POST", "/api/v1/groups", `{"profile":{"name":"` + strings.Repeat("x", MaxBodyBytes) + `"}}`, 413, map[string]any{"errorCode": "E0000003", "errorSummary": "The request body was not well-formed: it is larger than 1 MiB.", "errorCauses": []any{}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.method, tc.path, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if diff := cmp.Diff(tc.want, errorShape(t, r)); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUserShape(t *testing.T) {
	e := newEnv(t, Config{})
	r := e.do("POST", "/api/v1/users?activate=true", map[string]any{
		"profile":     map[string]any{"login": "alice@example.com", "email": "alice@example.com", "firstName": "Alice", "lastName": "Example", "nickName": "Al"},
		"credentials": map[string]any{"password": map[string]any{"value": "Correct-Horse-9"}},
	})
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	u := r.obj(t)
	id := u["id"].(string)
	stamp := "2024-03-21T09:00:00.000Z"
	want := map[string]any{
		"id": id, "status": "ACTIVE", "created": stamp, "activated": stamp, "statusChanged": stamp,
		"lastLogin": nil, "lastUpdated": stamp, "passwordChanged": stamp,
		"profile": map[string]any{"login": "alice@example.com", "email": "alice@example.com", "firstName": "Alice", "lastName": "Example", "nickName": "Al", "mobilePhone": nil, "secondEmail": nil},
		"credentials": map[string]any{
			"password": map[string]any{}, "provider": map[string]any{"type": "OKTA", "name": "OKTA"},
			"emails": []any{map[string]any{"value": "alice@example.com", "status": "VERIFIED", "type": "PRIMARY"}},
		},
	}
	links := u["_links"].(map[string]any)
	delete(u, "_links")
	delete(u, "type")
	if diff := cmp.Diff(want, u); diff != "" {
		t.Errorf("user (-want +got):\n%s", diff)
	}
	if got := links["self"].(map[string]any)["href"]; got != e.srv.URL+"/api/v1/users/"+id {
		t.Errorf("self link %v", got)
	}

	for _, tc := range []struct {
		name, method, path string
		body               any
		wantStatus         string
		wantProfile        map[string]any
	}{
		{"get by login", "GET", "/api/v1/users/alice@example.com", nil, "ACTIVE", nil},
		{"partial update", "POST", "/api/v1/users/" + id, map[string]any{"profile": map[string]any{"title": "CTO"}}, "ACTIVE",
			map[string]any{"login": "alice@example.com", "email": "alice@example.com", "firstName": "Alice", "lastName": "Example", "nickName": "Al", "title": "CTO", "mobilePhone": nil, "secondEmail": nil}},
		{"full update", "PUT", "/api/v1/users/" + id, map[string]any{"profile": map[string]any{"login": "alice@example.com", "email": "alice@example.com", "firstName": "Alicia", "lastName": "Example"}}, "ACTIVE",
			map[string]any{"login": "alice@example.com", "email": "alice@example.com", "firstName": "Alicia", "lastName": "Example", "mobilePhone": nil, "secondEmail": nil}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.method, tc.path, tc.body)
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			got := r.obj(t)
			if got["id"] != id || got["status"] != tc.wantStatus {
				t.Errorf("id %v status %v", got["id"], got["status"])
			}
			if tc.wantProfile != nil {
				if diff := cmp.Diff(tc.wantProfile, got["profile"]); diff != "" {
					t.Errorf("profile (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestLifecycleAndDelete(t *testing.T) {
	e := newEnv(t, Config{})
	id := e.createUser("alice@example.com")
	steps := []struct {
		method, path string
		status       int
		wantStatus   string // of GET afterwards; "" = gone
	}{
		{"POST", "/lifecycle/suspend", 200, "SUSPENDED"},
		{"POST", "/lifecycle/unsuspend", 200, "ACTIVE"},
		{"POST", "/lifecycle/deactivate", 200, "DEPROVISIONED"},
		{"POST", "/lifecycle/activate", 200, "ACTIVE"},
		{"DELETE", "", 204, "DEPROVISIONED"}, // the first DELETE deactivates
		{"DELETE", "", 204, ""},
	}
	for i, s := range steps {
		r := e.do(s.method, "/api/v1/users/"+id+s.path, nil)
		if r.status != s.status {
			t.Fatalf("step %d %s %s: %d %s", i, s.method, s.path, r.status, r.body)
		}
		g := e.do("GET", "/api/v1/users/"+id, nil)
		switch {
		case s.wantStatus == "" && g.status != 404:
			t.Fatalf("step %d: user still there: %s", i, g.body)
		case s.wantStatus != "" && g.obj(t)["status"] != s.wantStatus:
			t.Fatalf("step %d: status %v, want %s", i, g.obj(t)["status"], s.wantStatus)
		}
	}
}

func linkHeader(r resp) map[string]string {
	out := map[string]string{}
	for _, l := range r.header.Values("Link") {
		url, rel, _ := strings.Cut(l, ">; rel=")
		out[strings.Trim(rel, `"`)] = strings.TrimPrefix(url, "<")
	}
	return out
}

func TestPagination(t *testing.T) {
	e := newEnv(t, Config{})
	var want []string
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		want = append(want, e.createUser(n+"user@example.com"))
	}
	var got []string
	path := "/api/v1/users?limit=2"
	pages := 0
	for path != "" {
		r := e.do("GET", path, nil)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
		var users []map[string]any
		r.json(t, &users)
		for _, u := range users {
			got = append(got, u["id"].(string))
		}
		links := linkHeader(r)
		if !strings.HasPrefix(links["self"], e.srv.URL+"/api/v1/users?") {
			t.Errorf("self link %q", links["self"])
		}
		path = strings.TrimPrefix(links["next"], e.srv.URL)
		pages++
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ids across pages (-want +got):\n%s", diff)
	}
	if pages != 3 {
		t.Errorf("pages %d, want 3", pages)
	}
	r := e.do("GET", "/api/v1/users?limit=2&after="+want[1], nil)
	if diff := cmp.Diff(map[string]string{
		"self": e.srv.URL + "/api/v1/users?after=" + want[1] + "&limit=2",
		"next": e.srv.URL + "/api/v1/users?after=" + want[3] + "&limit=2",
	}, linkHeader(r)); diff != "" {
		t.Errorf("links (-want +got):\n%s", diff)
	}
}

func TestSearch(t *testing.T) {
	e := newEnv(t, Config{})
	a := e.createUser("alice@example.com")
	b := e.createUser("bob@example.com")
	e.do("POST", "/api/v1/users/"+b+"/lifecycle/suspend", nil)
	c := e.createUser("carol@example.com")
	e.do("POST", "/api/v1/users/"+c+"/lifecycle/deactivate", nil)
	for _, tc := range []struct {
		name, query string
		want        []string
	}{
		{"no filter leaves out deactivated users", ``, []string{a, b}},
		{"q leaves out deactivated users", `q=carol`, nil},
		{"filter status deprovisioned", `filter=status%20eq%20%22DEPROVISIONED%22`, []string{c}},
		{"filter login", `filter=profile.login%20eq%20%22alice@example.com%22`, []string{a}},
		{"filter login case", `filter=profile.login%20eq%20%22ALICE@example.com%22`, []string{a}},
		{"filter status", `filter=status%20eq%20%22SUSPENDED%22`, []string{b}},
		{"filter or", `filter=profile.login%20eq%20%22alice@example.com%22%20or%20status%20eq%20%22SUSPENDED%22`, []string{a, b}},
		{"filter and", `filter=profile.login%20eq%20%22alice@example.com%22%20and%20status%20eq%20%22SUSPENDED%22`, nil},
		{"q", `q=bo`, []string{b}},
		{"search sw", `search=profile.email%20sw%20%22al%22`, []string{a}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("GET", "/api/v1/users?"+tc.query, nil)
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			var users []map[string]any
			r.json(t, &users)
			var got []string
			for _, u := range users {
				got = append(got, u["id"].(string))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGroups(t *testing.T) {
	e := newEnv(t, Config{})
	a := e.createUser("alice@example.com")
	g := e.createGroup("Engineering")
	if r := e.do("POST", "/api/v1/groups", map[string]any{"profile": map[string]any{"name": "engineering"}}); r.status != 400 {
		t.Errorf("duplicate group name: %d %s", r.status, r.body)
	}
	for _, step := range []struct {
		method, path string
		status       int
	}{
		{"PUT", "/api/v1/groups/" + g + "/users/" + a, 204},
		{"PUT", "/api/v1/groups/" + g + "/users/" + a, 204},
		{"PUT", "/api/v1/groups/" + g + "/users/00uNOPE", 404},
	} {
		if r := e.do(step.method, step.path, nil); r.status != step.status {
			t.Errorf("%s %s: %d %s", step.method, step.path, r.status, r.body)
		}
	}
	var members []map[string]any
	e.do("GET", "/api/v1/groups/"+g+"/users", nil).json(t, &members)
	if len(members) != 1 || members[0]["id"] != a {
		t.Errorf("members %v", members)
	}
	var groups []map[string]any
	e.do("GET", "/api/v1/users/"+a+"/groups", nil).json(t, &groups)
	if len(groups) != 2 || groups[0]["profile"].(map[string]any)["name"] != "Everyone" {
		t.Fatalf("user groups (want Everyone, Engineering) %v", groups)
	}
	got := groups[1]
	delete(got, "_links")
	stamp := "2024-03-21T09:00:00.000Z"
	if diff := cmp.Diff(map[string]any{
		"id": g, "created": stamp, "lastUpdated": stamp, "lastMembershipUpdated": stamp,
		"objectClass": []any{"okta:user_group"}, "type": "OKTA_GROUP",
		"profile": map[string]any{"name": "Engineering", "description": "d"},
	}, got); diff != "" {
		t.Errorf("group (-want +got):\n%s", diff)
	}
	if r := e.do("DELETE", "/api/v1/groups/"+g+"/users/"+a, nil); r.status != 204 {
		t.Errorf("remove member: %d", r.status)
	}
	e.do("GET", "/api/v1/groups/"+g+"/users", nil).json(t, &members)
	if len(members) != 0 {
		t.Errorf("members after removal %v", members)
	}
}

func TestOIDCApp(t *testing.T) {
	e := newEnv(t, Config{})
	r := e.do("POST", "/api/v1/apps", map[string]any{
		"name": "oidc_client", "label": "Q.wiki", "signOnMode": "OPENID_CONNECT",
		"credentials": map[string]any{"oauthClient": map[string]any{"token_endpoint_auth_method": "client_secret_post"}},
		"settings": map[string]any{"oauthClient": map[string]any{
			"redirect_uris": []string{"http://127.0.0.1:8080/t/acme/oidc/callback"}, "post_logout_redirect_uris": []string{"http://127.0.0.1:8080/"},
			"response_types": []string{"code"}, "grant_types": []string{"authorization_code"}, "application_type": "web",
		}},
	})
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	app := r.obj(t)
	creds := app["credentials"].(map[string]any)["oauthClient"].(map[string]any)
	secret, _ := creds["client_secret"].(string)
	if creds["client_id"] != app["id"] || len(secret) != 40 || !strings.HasPrefix(app["id"].(string), "0oa") {
		t.Errorf("client id %v (app %v), secret %q", creds["client_id"], app["id"], secret)
	}
	if diff := cmp.Diff(map[string]any{
		"client_uri": nil, "logo_uri": nil,
		"redirect_uris": []any{"http://127.0.0.1:8080/t/acme/oidc/callback"}, "post_logout_redirect_uris": []any{"http://127.0.0.1:8080/"},
		"response_types": []any{"code"}, "grant_types": []any{"authorization_code"}, "application_type": "web",
		"consent_method": "REQUIRED", "issuer_mode": "ORG_URL",
	}, app["settings"].(map[string]any)["oauthClient"]); diff != "" {
		t.Errorf("settings.oauthClient (-want +got):\n%s", diff)
	}
	if app["signOnMode"] != "OPENID_CONNECT" || app["name"] != "oidc_client" || app["status"] != "ACTIVE" || creds["token_endpoint_auth_method"] != "client_secret_post" {
		t.Errorf("app %s", r.body)
	}
	c, ok := e.dir.Client(app["id"].(string))
	if !ok || c.OAuthClient.ClientSecret != secret {
		t.Errorf("directory client %+v %v", c, ok)
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, Config{RateLimit: 2})
	for i, want := range []int{200, 200, 429} {
		r := e.do("GET", "/api/v1/groups", nil)
		if r.status != want {
			t.Fatalf("request %d: %d, want %d", i, r.status, want)
		}
		if got := r.header.Get("X-Rate-Limit-Reset"); got != "1711011660" {
			t.Errorf("reset %q", got)
		}
		if want == 429 && errorShape(t, r)["errorCode"] != "E0000047" {
			t.Errorf("429 body %s", r.body)
		}
	}
}
