package mockidp

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/mockidp/op"
)

// ctl sends one control request; token "" sends none.
func ctl(t *testing.T, s *Server, method, path, token, body string) (int, string, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// ctlJSON is ctl with the server's token, decoding the answer.
func ctlJSON(t *testing.T, s *Server, method, path, body string, want int) map[string]any {
	t.Helper()
	status, b, _ := ctl(t, s, method, path, "SSWS "+s.APIToken, body)
	if status != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, status, want, b)
	}
	m := map[string]any{}
	if strings.TrimSpace(b) != "" {
		if err := json.Unmarshal([]byte(b), &m); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return m
}

func TestControlsIndexAndAuth(t *testing.T) {
	s := NewServer()
	defer s.Close()
	var index struct{ Controls []Control }
	status, body, _ := ctl(t, s, "GET", "/__mock/", "SSWS "+s.APIToken, "")
	if status != 200 {
		t.Fatalf("index: %d %s", status, body)
	}
	json.Unmarshal([]byte(body), &index)
	var routes []string
	for _, c := range index.Controls {
		routes = append(routes, c.Method+" "+c.Path)
		if c.Description == "" {
			t.Errorf("%s %s has no description", c.Method, c.Path)
		}
	}
	want := []string{
		"GET /__mock/", "POST /__mock/users", "POST /__mock/groups", "POST /__mock/apps", "POST /__mock/assignments",
		"POST /__mock/login", "DELETE /__mock/login", "POST /__mock/errors", "DELETE /__mock/errors",
		"GET /__mock/faults", "POST /__mock/faults", "DELETE /__mock/faults", "GET /__mock/clock", "POST /__mock/clock",
		"POST /__mock/keys/rotate", "GET /__mock/requests", "DELETE /__mock/requests", "GET /__mock/tasks", "POST /__mock/tasks/{id}/retry",
		"POST /__mock/trusted-origins", "POST /__mock/reset",
	}
	if diff := cmp.Diff(want, routes); diff != "" {
		t.Errorf("index (-want +got):\n%s", diff)
	}
	// Every route refuses a missing or wrong token before reading anything.
	for _, c := range index.Controls {
		for _, tc := range []struct{ name, auth string }{
			{"no token", ""},
			{"wrong token", "SSWS " + s.APIToken + "x"},
			{"bearer scheme", "Bearer " + s.APIToken},
			{"empty SSWS", "SSWS "},
		} {
			t.Run(c.Method+" "+c.Path+"/"+tc.name, func(t *testing.T) {
				status, body, _ := ctl(t, s, c.Method, c.Path, tc.auth, `{}`)
				var e map[string]any
				json.Unmarshal([]byte(body), &e)
				if status != 401 || e["errorCode"] != "E0000011" || e["errorId"] == nil || e["errorCauses"] == nil {
					t.Errorf("%d %s, want 401 E0000011 in Okta's shape", status, body)
				}
			})
		}
	}
	// A lower-case scheme is accepted, as Okta does.
	if status, body, _ := ctl(t, s, "GET", "/__mock/", "ssws "+s.APIToken, ""); status != 200 {
		t.Errorf("ssws: %d %s", status, body)
	}
}

// TestControlsRoutes runs every route with good input, bad JSON and
// unknown names, against one org, in order.
func TestControlsRoutes(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	s := NewServer(WithNow(func() time.Time { return now }))
	defer s.Close()
	big := `{"login":"` + strings.Repeat("x", ControlsMaxBody) + `"}`
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code                     string   // errorCode, for errors
		contains                 []string // substrings of the answer
	}{
		// users
		{"user", "POST", "/__mock/users", `{"login":"alice@example.com","firstName":"Alice","lastName":"Anderson","password":"Correct-Horse-9"}`, 201, "", []string{`"status":"ACTIVE"`, `"login":"alice@example.com"`, `"id":"00u`, `"_links"`}},
		{"user without password", "POST", "/__mock/users", `{"login":"bob@example.com","firstName":"Bob","lastName":"Brown"}`, 201, "", []string{`"status":"PROVISIONED"`}},
		{"user staged", "POST", "/__mock/users", `{"login":"carol@example.com","firstName":"Carol","lastName":"Clark","status":"staged"}`, 201, "", []string{`"status":"STAGED"`}},
		{"user exists", "POST", "/__mock/users", `{"login":"ALICE@example.com","firstName":"A","lastName":"A"}`, 400, "E0000001", []string{"login: An object with this field already exists"}},
		{"user no login", "POST", "/__mock/users", `{"firstName":"A"}`, 400, "E0000001", []string{"login is required"}},
		{"user bad status", "POST", "/__mock/users", `{"login":"x@example.com","status":"GONE"}`, 400, "E0000001", []string{`unknown status \"GONE\"`}},
		{"user bad json", "POST", "/__mock/users", `{"login":`, 400, "E0000001", []string{"not valid JSON"}},
		{"user syntax error", "POST", "/__mock/users", `{"login" "x"}`, 400, "E0000001", []string{"not valid JSON", "at byte"}},
		{"user unknown field", "POST", "/__mock/users", `{"login":"x@example.com","nick":"x"}`, 400, "E0000001", []string{`unknown field \"nick\"`, "the fields are login, email, firstName"}},
		{"user wrong type", "POST", "/__mock/users", `{"login":7}`, 400, "E0000001", []string{`field \"login\" must be a JSON string, not number`}},
		{"user array", "POST", "/__mock/users", `[]`, 400, "E0000001", []string{"must be a JSON object, not array"}},
		{"user empty body", "POST", "/__mock/users", ``, 400, "E0000001", []string{"the request body is empty"}},
		{"user two values", "POST", "/__mock/users", `{} {}`, 400, "E0000001", []string{"more than one JSON value"}},
		{"user too big", "POST", "/__mock/users", big, 413, "E0000001", []string{"larger than 1048576 bytes"}},
		// groups
		{"group", "POST", "/__mock/groups", `{"name":"Wiki Editors","description":"Edit the wiki","members":["alice@example.com"]}`, 201, "", []string{`"name":"Wiki Editors"`, `"type":"OKTA_GROUP"`, `"id":"00g`}},
		{"group unknown member", "POST", "/__mock/groups", `{"name":"Other","members":["nobody@example.com"]}`, 404, "E0000007", []string{"nobody@example.com (User)"}},
		{"group no name", "POST", "/__mock/groups", `{"description":"x"}`, 400, "E0000001", []string{"name is required"}},
		{"group exists", "POST", "/__mock/groups", `{"name":"wiki editors"}`, 400, "E0000001", []string{"already exists"}},
		{"group bad json", "POST", "/__mock/groups", `{"name":["x"]}`, 400, "E0000001", []string{`field \"name\" must be a JSON string`}},
		{"group unknown field", "POST", "/__mock/groups", `{"name":"x","users":[]}`, 400, "E0000001", []string{`unknown field \"users\"`}},
		// apps
		{"oidc app", "POST", "/__mock/apps", `{"label":"Q.wiki","type":"oidc","clientId":"0oactlapp000000000001","clientSecret":"s3cret-s3cret-s3cret-s3cret-s3cret-s3cr","redirectUris":["http://127.0.0.1:1/t/acme/oidc/callback"]}`, 201, "", []string{`"client_id":"0oactlapp000000000001"`, `"client_secret":"s3cret`, `"signOnMode":"OPENID_CONNECT"`}},
		{"scim app", "POST", "/__mock/apps", `{"label":"Q.wiki SCIM","type":"scim","kind":"catalogue","create":true}`, 201, "", []string{`"name":"scim2testapp"`, `"PUSH_NEW_USERS"`}},
		{"app same client id", "POST", "/__mock/apps", `{"label":"Again","type":"oidc","clientId":"0oactlapp000000000001","redirectUris":["http://127.0.0.1:1/cb"]}`, 400, "E0000001", []string{"client_id"}},
		{"app bad type", "POST", "/__mock/apps", `{"label":"x","type":"saml"}`, 400, "E0000001", []string{`type must be \"oidc\" or \"scim\"`}},
		{"app no redirect", "POST", "/__mock/apps", `{"label":"x","type":"oidc"}`, 400, "E0000001", []string{"redirect_uris"}},
		{"app bad alg", "POST", "/__mock/apps", `{"label":"x","type":"oidc","idTokenSignedResponseAlg":"none","redirectUris":["http://x/cb"]}`, 400, "E0000001", []string{"use RS256 or ES256"}},
		{"app unknown field", "POST", "/__mock/apps", `{"label":"x","type":"oidc","redirect_uris":[]}`, 400, "E0000001", []string{`unknown field \"redirect_uris\"`, "redirectUris"}},
		{"app bad json", "POST", "/__mock/apps", `{"label":"x",}`, 400, "E0000001", []string{"not valid JSON"}},
		// assignments
		{"assign", "POST", "/__mock/assignments", `{"app":"Q.wiki","users":["alice@example.com"],"groups":["Wiki Editors"]}`, 200, "", []string{`"groups":1`, `"users":1`}},
		{"assign by id", "POST", "/__mock/assignments", `{"app":"0oactlapp000000000001","users":["bob@example.com"]}`, 200, "", []string{`"users":1`}},
		{"assign unknown app", "POST", "/__mock/assignments", `{"app":"Nope","users":["alice@example.com"]}`, 404, "E0000007", []string{"Nope (AppInstance)"}},
		{"assign unknown user", "POST", "/__mock/assignments", `{"app":"Q.wiki","users":["nobody@example.com"]}`, 404, "E0000007", []string{"nobody@example.com (User)"}},
		{"assign unknown group", "POST", "/__mock/assignments", `{"app":"Q.wiki","groups":["Nobody"]}`, 404, "E0000007", []string{"Nobody (UserGroup)"}},
		{"assign no app", "POST", "/__mock/assignments", `{"users":["alice@example.com"]}`, 400, "E0000001", []string{"app is required"}},
		{"assign bad json", "POST", "/__mock/assignments", `{"app":"Q.wiki","users":"alice"}`, 400, "E0000001", []string{`field \"users\" must be a JSON array`}},
		// login
		{"login", "POST", "/__mock/login", `{"login":"alice@example.com","clientId":"0oactlapp000000000001","claims":{"department":"R&D"}}`, 202, "", []string{`"queued":1`}},
		{"logins", "POST", "/__mock/login", `[{"login":"alice@example.com"},{"login":"alice@example.com"}]`, 202, "", []string{`"queued":2`}},
		{"login clear", "DELETE", "/__mock/login", ``, 204, "", nil},
		{"login unknown user", "POST", "/__mock/login", `{"login":"nobody@example.com"}`, 404, "E0000007", []string{"nobody@example.com (User)"}},
		{"login unknown user id", "POST", "/__mock/login", `{"userId":"00unope"}`, 404, "E0000007", []string{"00unope (User)"}},
		{"login not active", "POST", "/__mock/login", `{"login":"bob@example.com"}`, 400, "E0000001", []string{"is PROVISIONED; only an ACTIVE user can sign in"}},
		{"login unknown client", "POST", "/__mock/login", `{"login":"alice@example.com","clientId":"0oanope"}`, 404, "E0000007", []string{"0oanope (AppInstance)"}},
		{"login both names", "POST", "/__mock/login", `{"login":"alice@example.com","userId":"00u1"}`, 400, "E0000001", []string{`by \"login\" or by \"userId\"`}},
		{"login empty array", "POST", "/__mock/login", `[]`, 400, "E0000001", []string{"array of logins is empty"}},
		{"login bad json", "POST", "/__mock/login", `{"login":"alice@example.com","claims":[1]}`, 400, "E0000001", []string{`field \"claims\" must be a JSON object`}},
		{"login unknown field", "POST", "/__mock/login", `{"user":"alice@example.com"}`, 400, "E0000001", []string{`unknown field \"user\"`, "login, userId, clientId, claims"}},
		// errors
		{"error", "POST", "/__mock/errors", `{"endpoint":"token","status":503,"error":"temporarily_unavailable","errorDescription":"try later","headers":{"Retry-After":"1"}}`, 202, "", nil},
		{"error delay only", "POST", "/__mock/errors", `{"endpoint":"keys","delayMs":10}`, 202, "", nil},
		{"error delay string", "POST", "/__mock/errors", `{"endpoint":"userinfo","status":500,"delay":"5ms","authServer":"default","sticky":true}`, 202, "", nil},
		{"errors clear", "DELETE", "/__mock/errors", ``, 204, "", nil},
		{"error unknown endpoint", "POST", "/__mock/errors", `{"endpoint":"tokens","status":500}`, 400, "E0000001", []string{`endpoint \"tokens\": use one of discovery, authorize, token`}},
		{"error no status", "POST", "/__mock/errors", `{"endpoint":"token"}`, 400, "E0000001", []string{`give \"status\"`}},
		{"error bad status", "POST", "/__mock/errors", `{"endpoint":"token","status":42}`, 400, "E0000001", []string{"status 42 is not an HTTP status"}},
		{"error bad delay", "POST", "/__mock/errors", `{"endpoint":"token","delay":"soon"}`, 400, "E0000001", []string{`delay \"soon\" is not a duration`}},
		{"error two delays", "POST", "/__mock/errors", `{"endpoint":"token","delay":"1s","delayMs":1}`, 400, "E0000001", []string{"not both"}},
		{"error negative delay", "POST", "/__mock/errors", `{"endpoint":"token","delayMs":-1}`, 400, "E0000001", []string{"must not be negative"}},
		{"error unknown field", "POST", "/__mock/errors", `{"endpoint":"token","status":500,"error_description":"x"}`, 400, "E0000001", []string{`unknown field \"error_description\" (did you mean \"errorDescription\"?)`}},
		// faults
		{"faults", "GET", "/__mock/faults", ``, 200, "", []string{`"armed":[]`, `"name":"wrong-aud"`, `"expect":"refuse"`, `"module":"rp-id_token-aud"`}},
		{"fault", "POST", "/__mock/faults", `{"name":"wrong-aud"}`, 202, "", []string{`{"armed":[{"name":"wrong-aud","sticky":false}]}`}},
		{"fault sticky", "POST", "/__mock/faults", `{"name":"expired","sticky":true}`, 202, "", []string{`{"name":"expired","sticky":true}`}},
		{"faults armed", "GET", "/__mock/faults", ``, 200, "", []string{`"armed":[{"name":"wrong-aud","sticky":false},{"name":"expired","sticky":true}]`}},
		{"faults disarm", "DELETE", "/__mock/faults", ``, 204, "", nil},
		{"faults none armed", "GET", "/__mock/faults", ``, 200, "", []string{`"armed":[]`}},
		{"fault unknown", "POST", "/__mock/faults", `{"name":"wrong-audience"}`, 400, "E0000001", []string{`unknown fault \"wrong-audience\"`, "wrong-aud, missing-aud", "slow-keys"}},
		{"fault bad json", "POST", "/__mock/faults", `{"name":"wrong-aud","sticky":"yes"}`, 400, "E0000001", []string{`field \"sticky\" must be a JSON boolean`}},
		// clock
		{"clock", "GET", "/__mock/clock", ``, 200, "", []string{`{"now":"2025-06-01T12:00:00Z"}`}},
		{"clock advance", "POST", "/__mock/clock", `{"advance":"90s"}`, 200, "", []string{`{"now":"2025-06-01T12:01:30Z"}`}},
		{"clock advance ms", "POST", "/__mock/clock", `{"advanceMs":500}`, 200, "", []string{`{"now":"2025-06-01T12:01:30.5Z"}`}},
		{"clock moved", "GET", "/__mock/clock", ``, 200, "", []string{`{"now":"2025-06-01T12:01:30.5Z"}`}},
		{"clock backwards", "POST", "/__mock/clock", `{"advance":"-1h"}`, 400, "E0000001", []string{"only moves forward"}},
		{"clock bad duration", "POST", "/__mock/clock", `{"advance":"a day"}`, 400, "E0000001", []string{`advance \"a day\" is not a duration`}},
		{"clock nothing", "POST", "/__mock/clock", `{}`, 400, "E0000001", []string{`give one of \"advance\"`}},
		{"clock bad json", "POST", "/__mock/clock", `{"advance":90}`, 400, "E0000001", []string{`field \"advance\" must be a JSON string`}},
		{"clock advance and reset", "POST", "/__mock/clock", `{"advance":"1s","reset":true}`, 400, "E0000001", []string{`give one of \"advance\"`, `\"reset\": true`}},
		{"clock reset false", "POST", "/__mock/clock", `{"reset":false}`, 400, "E0000001", []string{`give one of`}},
		{"clock reset", "POST", "/__mock/clock", `{"reset":true}`, 200, "", []string{`{"now":"2025-06-01T12:00:00Z"}`}},
		{"clock after the reset", "GET", "/__mock/clock", ``, 200, "", []string{`{"now":"2025-06-01T12:00:00Z"}`}},
		{"clock advances again", "POST", "/__mock/clock", `{"advance":"1h"}`, 200, "", []string{`{"now":"2025-06-01T13:00:00Z"}`}},
		// keys
		{"rotate", "POST", "/__mock/keys/rotate", ``, 200, "", []string{`"kids":[`, `"signing":"`}},
		// requests
		{"requests", "GET", "/__mock/requests", ``, 200, "", []string{`"requests":[`}},
		{"requests filtered", "GET", "/__mock/requests?endpoint=token", ``, 200, "", []string{`"requests":[`}},
		{"requests bad endpoint", "GET", "/__mock/requests?endpoint=nope", ``, 400, "E0000001", []string{`endpoint \"nope\"`}},
		{"requests clear", "DELETE", "/__mock/requests", ``, 204, "", nil},
		// tasks
		{"tasks", "GET", "/__mock/tasks", ``, 200, "", []string{`"tasks":`}},
		{"tasks of an app", "GET", "/__mock/tasks?app=0oactlapp000000000001", ``, 200, "", []string{`"tasks":`}},
		{"tasks bad status", "GET", "/__mock/tasks?status=LOST", ``, 400, "E0000001", []string{"status: must be one of"}},
		{"retry unknown task", "POST", "/__mock/tasks/nope/retry", ``, 404, "E0000007", []string{"nope (Task)"}},
		// trusted origins
		{"origin", "POST", "/__mock/trusted-origins", `{"origin":"http://localhost:3000"}`, 201, "", []string{`{"origin":"http://localhost:3000"}`}},
		{"origin bad", "POST", "/__mock/trusted-origins", `{"origin":"localhost:3000"}`, 400, "E0000001", []string{"is not an origin"}},
		{"origin path", "POST", "/__mock/trusted-origins", `{"origin":"http://localhost:3000/app"}`, 400, "E0000001", []string{"is not an origin"}},
		{"origin bad json", "POST", "/__mock/trusted-origins", `{"origins":["x"]}`, 400, "E0000001", []string{`unknown field \"origins\"`}},
		// reset
		{"reset", "POST", "/__mock/reset", ``, 204, "", nil},
		{"reset leaves the clock", "GET", "/__mock/clock", ``, 200, "", []string{`{"now":"2025-06-01T13:00:00Z"}`}},
		// routing
		{"unknown route", "GET", "/__mock/nope", ``, 404, "E0000007", []string{"/__mock/nope (Endpoint)", "GET /__mock/ lists the controls"}},
		{"wrong method", "PUT", "/__mock/users", `{}`, 405, "E0000022", []string{"/__mock/users takes POST"}},
		{"wrong method on faults", "PUT", "/__mock/faults", `{}`, 405, "E0000022", []string{"takes GET, POST, DELETE"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body, hdr := ctl(t, s, tc.method, tc.path, "SSWS "+s.APIToken, tc.body)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %.500s", status, tc.status, body)
			}
			if status == 204 {
				if body != "" {
					t.Errorf("204 with a body %q", body)
				}
				return
			}
			if ct := hdr.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(body), &m); err != nil {
				t.Fatalf("not a JSON object: %v: %.300s", err, body)
			}
			if tc.code != "" {
				causes, _ := m["errorCauses"].([]any)
				if m["errorCode"] != tc.code || m["errorLink"] != tc.code || m["errorSummary"] == "" || m["errorId"] == nil || causes == nil {
					t.Errorf("error %s, want %s in Okta's shape", body, tc.code)
				}
			}
			for _, want := range tc.contains {
				if !strings.Contains(body, want) {
					t.Errorf("answer does not contain %s:\n%.2000s", want, body)
				}
			}
		})
	}
}

// TestControlsDriveALogin: the controls change what the provider does,
// seen by a relying party over HTTP.
func TestControlsDriveALogin(t *testing.T) {
	s := NewServer()
	defer s.Close()
	user := ctlJSON(t, s, "POST", "/__mock/users", `{"login":"alice@example.com","firstName":"Alice","lastName":"A","password":"Correct-Horse-9"}`, 201)
	app := ctlJSON(t, s, "POST", "/__mock/apps", `{"label":"Q.wiki","type":"oidc","redirectUris":["`+redirectURI+`"]}`, 201)
	oc := app["credentials"].(map[string]any)["oauthClient"].(map[string]any)
	c := newRP(s, oc["client_id"].(string), oc["client_secret"].(string), redirectURI, false)

	t.Run("queued login with claims", func(t *testing.T) {
		ctlJSON(t, s, "POST", "/__mock/login", `{"login":"alice@example.com","clientId":"`+c.clientID+`","claims":{"department":"R&D","email":null}}`, 202)
		tok := c.mustLogin(t)
		id := claims(t, tok.IDToken)
		got := []any{id["sub"], id["aud"], id["department"], id["email"] == nil}
		if diff := cmp.Diff([]any{user["id"], c.clientID, "R&D", true}, got); diff != "" {
			t.Errorf("ID token (-want +got):\n%s", diff)
		}
		if _, err := c.login(); err == nil || !strings.Contains(err.Error(), "authorize: 200") {
			t.Errorf("a second login without a queued one or a session: %v, want the login form", err)
		}
	})
	t.Run("fault", func(t *testing.T) {
		ctlJSON(t, s, "POST", "/__mock/faults", `{"name":"wrong-aud"}`, 202)
		ctlJSON(t, s, "POST", "/__mock/login", `[{"login":"alice@example.com"},{"login":"alice@example.com"}]`, 202)
		if aud := claims(t, c.mustLogin(t).IDToken)["aud"]; aud == c.clientID {
			t.Errorf("wrong-aud armed: aud is still the client id")
		}
		if aud := claims(t, c.mustLogin(t).IDToken)["aud"]; aud != c.clientID {
			t.Errorf("one-shot fault used up: aud %v, want the client id", aud)
		}
	})
	t.Run("queued error", func(t *testing.T) {
		ctlJSON(t, s, "POST", "/__mock/errors", `{"endpoint":"token","status":503,"error":"temporarily_unavailable","headers":{"Retry-After":"7"}}`, 202)
		ctlJSON(t, s, "POST", "/__mock/login", `{"login":"alice@example.com"}`, 202)
		verifier := randomString()
		code, err := c.authorize(verifier, "st", "n")
		if err != nil {
			t.Fatal(err)
		}
		if _, status, err := c.exchange(code, verifier); status != 503 || !strings.Contains(err.Error(), "temporarily_unavailable") {
			t.Errorf("token with a queued 503: %d %v", status, err)
		}
	})
	t.Run("request log", func(t *testing.T) {
		reqs := ctlJSON(t, s, "GET", "/__mock/requests?endpoint=token", "", 200)["requests"].([]any)
		var statuses []any
		for _, r := range reqs {
			m := r.(map[string]any)
			statuses = append(statuses, m["status"])
			if m["clientId"] != c.clientID {
				t.Errorf("request %v: clientId", m)
			}
			if params, _ := m["params"].(map[string]any); params["code"] != nil || params["code_verifier"] != nil {
				t.Errorf("request log holds a secret: %v", params)
			}
		}
		if diff := cmp.Diff([]any{200.0, 200.0, 200.0, 503.0}, statuses); diff != "" {
			t.Errorf("token statuses (-want +got):\n%s", diff)
		}
		ctl(t, s, "DELETE", "/__mock/requests", "SSWS "+s.APIToken, "")
		if n := len(s.Requests()); n != 0 {
			t.Errorf("%d requests after DELETE", n)
		}
	})
	t.Run("rotate", func(t *testing.T) {
		before, _ := s.op.KeyIDs()
		got := ctlJSON(t, s, "POST", "/__mock/keys/rotate", "", 200)
		kids := got["kids"].([]any)
		if len(kids) < 2 || kids[len(kids)-1] == before[len(before)-1] {
			t.Errorf("kids %v after rotating %v", kids, before)
		}
		ctlJSON(t, s, "POST", "/__mock/login", `{"login":"alice@example.com"}`, 202)
		if kid := tokenKid(t, c.mustLogin(t).IDToken); kid != got["signing"] {
			t.Errorf("ID token kid %v, want the signing kid %v", kid, got["signing"])
		}
	})
	t.Run("trusted origin", func(t *testing.T) {
		ctlJSON(t, s, "POST", "/__mock/trusted-origins", `{"origin":"http://localhost:3000"}`, 201)
		req, _ := http.NewRequest("GET", s.URL+"/oauth2/v1/keys", nil)
		req.Header.Set("Origin", "http://localhost:3000")
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "http://localhost:3000" {
			t.Errorf("Access-Control-Allow-Origin %q", got)
		}
	})
	t.Run("reset", func(t *testing.T) {
		ctlJSON(t, s, "POST", "/__mock/faults", `{"name":"expired","sticky":true}`, 202)
		ctlJSON(t, s, "POST", "/__mock/login", `{"login":"alice@example.com"}`, 202)
		ctlJSON(t, s, "POST", "/__mock/errors", `{"endpoint":"token","status":500,"sticky":true}`, 202)
		ctl(t, s, "POST", "/__mock/reset", "SSWS "+s.APIToken, "")
		if f := ctlJSON(t, s, "GET", "/__mock/faults", "", 200)["armed"].([]any); len(f) != 0 {
			t.Errorf("armed after reset: %v", f)
		}
		if _, err := c.login(); err == nil || !strings.Contains(err.Error(), "authorize: 200") {
			t.Errorf("login after reset: %v, want the login form (no queued login)", err)
		}
		if u, err := s.Directory().User("alice@example.com"); err != nil || u.ID != user["id"] {
			t.Errorf("the user is gone after reset: %v", err)
		}
	})
}

func tokenKid(t *testing.T, jwt string) any {
	t.Helper()
	h := map[string]any{}
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(b, &h)
	return h["kid"]
}

// TestControlsProvision: apps and assignments made over /__mock/ provision
// to a SCIM app as Okta would, and the tasks show it.
func TestControlsProvision(t *testing.T) {
	var mu sync.Mutex
	var calls []string
	scimSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls = append(calls, r.Method+" "+r.URL.Path)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/scim+json")
		switch {
		case r.Method == "GET":
			io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"startIndex":1,"itemsPerPage":0,"Resources":[]}`)
		case r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/Groups"):
			w.WriteHeader(201)
			io.WriteString(w, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g-1","displayName":"Wiki Editors"}`)
		case r.Method == "POST":
			w.WriteHeader(201)
			io.WriteString(w, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u-1","userName":"alice@example.com","active":true}`)
		default:
			w.WriteHeader(204)
		}
	}))
	defer scimSrv.Close()
	s := NewServer()
	defer s.Close()
	ctlJSON(t, s, "POST", "/__mock/users", `{"login":"alice@example.com","firstName":"Alice","lastName":"A","password":"Correct-Horse-9"}`, 201)
	ctlJSON(t, s, "POST", "/__mock/groups", `{"name":"Wiki Editors","members":["alice@example.com"]}`, 201)
	app := ctlJSON(t, s, "POST", "/__mock/apps", `{"label":"SCIM","type":"scim","baseUrl":"`+scimSrv.URL+`/scim/v2","token":"tok","create":true,"update":true,"deactivate":true}`, 201)
	if got := ctlJSON(t, s, "POST", "/__mock/assignments", `{"app":"SCIM","groups":["Wiki Editors"]}`, 200); got["groups"] != 1.0 || got["users"] != 0.0 {
		t.Errorf("assignments answer %v", got)
	}
	mu.Lock()
	// The user is looked up and created, then the group is pushed (what
	// follows the push is mgmt's business).
	if diff := cmp.Diff([]string{"GET /scim/v2/Users", "POST /scim/v2/Users", "POST /scim/v2/Groups"}, calls[:min(3, len(calls))]); diff != "" {
		t.Errorf("SCIM calls (-want +got):\n%s", diff)
	}
	mu.Unlock()
	au, err := s.Directory().AppUser(app["id"].(string), s.mustUserID(t, "alice@example.com"))
	if err != nil || au.ExternalID != "u-1" {
		t.Errorf("app user %+v %v", au, err)
	}
	tasks := ctlJSON(t, s, "GET", "/__mock/tasks?app="+app["id"].(string), "", 200)["tasks"].([]any)
	if len(tasks) == 0 {
		t.Errorf("no provisioning tasks for the app")
	}
	if diff := cmp.Diff(len(s.Tasks(app["id"].(string))), len(tasks)); diff != "" {
		t.Errorf("Tasks and GET /__mock/tasks differ: %s", diff)
	}
}

func (s *Server) mustUserID(t *testing.T, login string) string {
	t.Helper()
	u, err := s.Directory().User(login)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// TestGoControls: the Go methods, with the errors they return.
func TestGoControls(t *testing.T) {
	s, c, userID := newOrg(t)
	if _, err := s.AddUser(SeedUser{Login: "alice@example.com"}); err == nil {
		t.Error("AddUser with a taken login: no error")
	}
	if _, err := s.AddUser(SeedUser{}); err == nil || !strings.Contains(err.Error(), "mockidp: user: login is required") {
		t.Errorf("AddUser without login: %v", err)
	}
	if _, err := s.AddApp(SeedApp{Label: "x", Type: "saml"}); err == nil {
		t.Error("AddApp with a bad type: no error")
	}
	if _, err := s.AddGroup(SeedGroup{Name: "g", Members: []string{"nobody@example.com"}}); err == nil {
		t.Error("AddGroup with an unknown member: no error")
	}
	g, err := s.AddGroup(SeedGroup{Name: "Wiki Editors", Members: []string{"alice@example.com"}})
	if err != nil || len(g.Members) != 1 || g.Members[0] != userID {
		t.Fatalf("AddGroup: %+v %v", g, err)
	}
	if err := s.Assign(SeedAssignment{App: "Q.wiki", Groups: []string{g.ID}, Users: []string{userID}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Assign(SeedAssignment{App: "nope"}); err == nil {
		t.Error("Assign to an unknown app: no error")
	}
	if _, err := s.AddApp(SeedApp{Label: "Q.wiki", Type: SeedAppOIDC, RedirectURIs: []string{redirectURI}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Assign(SeedAssignment{App: "Q.wiki"}); err == nil || !strings.Contains(err.Error(), "2 apps have the label") {
		t.Errorf("Assign by a shared label: %v", err)
	}
	if err := s.ArmFault("nope", false); err == nil {
		t.Error("ArmFault with an unknown name: no error")
	}
	if err := s.QueueLogin(op.QueuedLogin{Login: "alice@example.com", ClientID: c.clientID, Claims: map[string]any{"tier": "gold"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.ArmFault("wrong-iss", false); err != nil {
		t.Fatal(err)
	}
	id := claims(t, c.mustLogin(t).IDToken)
	if id["tier"] != "gold" || id["iss"] == s.Issuer("") || id["sub"] != userID {
		t.Errorf("ID token %v", id)
	}
	if err := s.QueueError(op.QueuedError{Endpoint: op.EndpointToken, Status: 500, Error: "server_error", Sticky: true}); err != nil {
		t.Fatal(err)
	}
	s.Reset()
	if len(s.Requests()) != 0 || len(s.op.ArmedFaults()) != 0 {
		t.Errorf("after Reset: %d requests, faults %v", len(s.Requests()), s.op.ArmedFaults())
	}
	s.QueueLogin(op.QueuedLogin{UserID: userID})
	if _, err := c.login(); err != nil {
		t.Errorf("login after Reset (the sticky error is gone): %v", err)
	}
	if n := len(s.Requests()); n != 2 {
		t.Errorf("%d requests logged, want authorize and token", n)
	}
	s.ResetRequests()
	if n := len(s.Requests()); n != 0 {
		t.Errorf("%d requests after ResetRequests", n)
	}
}

// TestOptions: WithTrustedOrigins, WithAuthServers and WithRotateEvery
// reach the provider; bad values stop New.
func TestOptions(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	s := NewServer(WithNow(func() time.Time { return now }), WithTrustedOrigins("http://localhost:3000"), WithAuthServers("api"), WithRotateEvery(24*time.Hour))
	defer s.Close()
	req, _ := http.NewRequest("GET", s.URL+"/oauth2/api/.well-known/openid-configuration", nil)
	req.Header.Set("Origin", "http://localhost:3000")
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" {
		t.Errorf("custom server discovery from a trusted origin: %d, ACAO %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	_, before := s.op.KeyIDs()
	s.FastForward(25 * time.Hour)
	if _, after := s.op.KeyIDs(); after == before {
		t.Errorf("signing kid %s unchanged a day after WithRotateEvery(24h)", after)
	}
	for _, cfg := range []Config{
		{TrustedOrigins: []string{"localhost"}},
		{AuthServers: []string{"v1"}},
		{RotateEvery: -time.Second},
		{Seed: &Seed{AuthServers: []string{"a b"}}},
	} {
		if s, err := New(cfg); err == nil {
			s.Close()
			t.Errorf("New(%+v): no error", cfg)
		}
	}
}

// TestSyncPassword: a user added from Go with a password gets it pushed
// to an app with Sync Password on (the seed's "password": true).
func TestSyncPassword(t *testing.T) {
	var mu sync.Mutex
	var created string
	scimSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/scim+json")
		if r.Method == "POST" {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			created = string(b)
			mu.Unlock()
			w.WriteHeader(201)
			io.WriteString(w, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u-1","userName":"alice@example.com","active":true}`)
			return
		}
		io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"startIndex":1,"itemsPerPage":0,"Resources":[]}`)
	}))
	defer scimSrv.Close()
	s := NewServer()
	defer s.Close()
	if _, err := s.AddUser(SeedUser{Login: "alice@example.com", FirstName: "Alice", LastName: "A", Password: "Correct-Horse-9"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddApp(SeedApp{Label: "SCIM", Type: SeedAppSCIM, BaseURL: scimSrv.URL + "/scim/v2", Token: "tok", Create: true, Password: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.Assign(SeedAssignment{App: "SCIM", Users: []string{"alice@example.com"}}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(created, `"password":"Correct-Horse-9"`) {
		t.Errorf("POST /Users body %s: want the user's password", created)
	}
}

// TestES256App: an app's idTokenSignedResponseAlg reaches the provider.
func TestES256App(t *testing.T) {
	s, _, userID := newOrg(t)
	for _, tc := range []struct{ alg, want string }{{"", "RS256"}, {"RS256", "RS256"}, {"ES256", "ES256"}} {
		t.Run("alg "+tc.want+" from "+tc.alg, func(t *testing.T) {
			app, err := s.AddApp(SeedApp{Label: "app " + tc.alg, Type: SeedAppOIDC, RedirectURIs: []string{redirectURI}, IDTokenSignedResponseAlg: tc.alg})
			if err != nil {
				t.Fatal(err)
			}
			c := newRP(s, app.OAuthClient.ClientID, app.OAuthClient.ClientSecret, redirectURI, false)
			s.QueueLogin(op.QueuedLogin{UserID: userID})
			b, err := base64.RawURLEncoding.DecodeString(strings.Split(c.mustLogin(t).IDToken, ".")[0])
			if err != nil {
				t.Fatal(err)
			}
			var h struct{ Alg string }
			json.Unmarshal(b, &h)
			if h.Alg != tc.want {
				t.Errorf("ID token alg %q, want %q", h.Alg, tc.want)
			}
		})
	}
}

// TestControlsRetryTask: a task that failed is retried over /__mock/.
func TestControlsRetryTask(t *testing.T) {
	var mu sync.Mutex
	refuse := true
	scimSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/scim+json")
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.Method == "POST" && refuse:
			w.WriteHeader(400)
			io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","detail":"not today"}`)
		case r.Method == "POST":
			w.WriteHeader(201)
			io.WriteString(w, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u-1","userName":"alice@example.com","active":true}`)
		default:
			io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"startIndex":1,"itemsPerPage":0,"Resources":[]}`)
		}
	}))
	defer scimSrv.Close()
	s := NewServer()
	defer s.Close()
	ctlJSON(t, s, "POST", "/__mock/users", `{"login":"alice@example.com","firstName":"Alice","lastName":"A","password":"Correct-Horse-9"}`, 201)
	app := ctlJSON(t, s, "POST", "/__mock/apps", `{"label":"SCIM","type":"scim","baseUrl":"`+scimSrv.URL+`/scim/v2","token":"tok","create":true}`, 201)
	ctlJSON(t, s, "POST", "/__mock/assignments", `{"app":"SCIM","users":["alice@example.com"]}`, 200)
	failed := ctlJSON(t, s, "GET", "/__mock/tasks?status=FAILED&app="+app["id"].(string), "", 200)["tasks"].([]any)
	if len(failed) != 1 {
		t.Fatalf("failed tasks %v, want the user's create", failed)
	}
	mu.Lock()
	refuse = false
	mu.Unlock()
	id := failed[0].(map[string]any)["id"].(string)
	if got := ctlJSON(t, s, "POST", "/__mock/tasks/"+id+"/retry", "", 200); got["status"] != "SUCCESS" {
		t.Errorf("retried task %v", got)
	}
	if status, body, _ := ctl(t, s, "POST", "/__mock/tasks/"+id+"/retry", "SSWS "+s.APIToken, ""); status != 400 || !strings.Contains(body, "E0000001") {
		t.Errorf("retrying a task that succeeded: %d %s", status, body)
	}
}
