package login_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/idpkit/idpkit/scim/activity"
	"github.com/idpkit/idpkit/scim/adminapi"
	"github.com/idpkit/idpkit/scim/app/apptest"
	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/tenant"
)

// admin is a browser signed in as one tenant's admin, and the tenant.
type admin struct {
	t       *testing.T
	srv     *apptest.Server
	client  *http.Client
	created tenant.Created
	csrf    string
}

// newAdmin creates tenant name on srv and signs a browser in with its
// one-time admin link.
func newAdmin(t *testing.T, srv *apptest.Server, name string) *admin {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	a := &admin{t: t, srv: srv, client: &http.Client{Jar: jar, Transport: srv.Client.Transport}, created: srv.Tenant(t, name)}
	if st, body := a.do("GET", a.created.AdminURL, nil, ""); st != http.StatusOK {
		t.Fatalf("admin link: %d %s", st, body)
	}
	var s adminapi.Settings
	st, body := a.do("GET", a.api("settings"), nil, "")
	if err := json.Unmarshal([]byte(body), &s); err != nil || st != http.StatusOK || s.CSRF == "" {
		t.Fatalf("settings: %d %s: %v", st, body, err)
	}
	a.csrf = s.CSRF
	return a
}

// api is the URL of the tenant's admin API endpoint.
func (a *admin) api(endpoint string) string {
	return a.srv.URL + "/t/" + a.created.Tenant + "/admin/api/" + endpoint
}

// do sends a request with the admin's cookies and returns status and body.
func (a *admin) do(method, url string, hdr map[string]string, body string) (int, string) {
	a.t.Helper()
	return send(a.t, a.client, method, url, hdr, body)
}

// send makes one request and reads its answer.
func send(t *testing.T, c *http.Client, method, url string, hdr map[string]string, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// activity reads GET …/api/activity, and its raw JSON.
func (a *admin) activity() (adminapi.Activity, string) {
	a.t.Helper()
	st, body := a.do("GET", a.api("activity"), nil, "")
	var got adminapi.Activity
	if err := json.Unmarshal([]byte(body), &got); err != nil || st != http.StatusOK {
		a.t.Fatalf("activity: %d %s: %v", st, body, err)
	}
	return got, body
}

// scim sends a SCIM request to the tenant with token ("" for none) and
// returns status and body.
func (a *admin) scim(token, method, path, body string) (int, string) {
	a.t.Helper()
	hdr := map[string]string{"User-Agent": "Okta SCIM Client 1.0.0"}
	if token != "" {
		hdr["Authorization"] = "Bearer " + token
	}
	if body != "" {
		hdr["Content-Type"] = "application/scim+json"
	}
	return send(a.t, a.srv.Client, method, a.created.SCIMBaseURL+path, hdr, body)
}

// created returns the "id" of a SCIM answer.
func idOf(t *testing.T, body string) string {
	t.Helper()
	var v struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil || v.ID == "" {
		t.Fatalf("no id in %s: %v", body, err)
	}
	return v.ID
}

// summary is a Request without its time, as the tests compare it.
type summary struct {
	Method, Path string
	Status       int
	Action       string
}

// summaries drops what varies from rs.
func summaries(rs []adminapi.Request) []summary {
	out := []summary{}
	for _, r := range rs {
		out = append(out, summary{r.Method, r.Path, r.Status, r.Action})
	}
	return out
}

func TestActivity(t *testing.T) {
	srv := apptest.Start(t, nil)
	acme := newAdmin(t, srv, "acme")
	beta := newAdmin(t, srv, "beta")
	token := acme.created.Token
	start := time.Now().Add(-time.Minute)

	t.Run("fresh tenant", func(t *testing.T) {
		got, raw := acme.activity()
		want := adminapi.Activity{Requests: []adminapi.Request{},
			Users:  adminapi.ResourceList{Recent: []adminapi.Provisioned{}},
			Groups: adminapi.ResourceList{Recent: []adminapi.Provisioned{}}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("activity (-want +got):\n%s", diff)
		}
		for _, s := range []string{`"connected":null`, `"requests":[]`, `"recent":[]`} {
			if !strings.Contains(raw, s) {
				t.Errorf("activity JSON has no %s: %s", s, raw)
			}
		}
	})

	t.Run("Test API Credentials connects", func(t *testing.T) {
		if st, body := acme.scim(token, "GET", "/Users?startIndex=1&count=2", ""); st != http.StatusOK {
			t.Fatalf("GET /Users: %d %s", st, body)
		}
		got, _ := acme.activity()
		if got.Connected == nil {
			t.Fatal("connected is null after a request with the secret")
		}
		want := adminapi.Request{Method: "GET", Path: "/Users?startIndex=1&count=2", Status: 200, Action: "Test API Credentials", UserAgent: "Okta SCIM Client 1.0.0"}
		if diff := cmp.Diff(want, *got.Connected, cmpopts.IgnoreFields(adminapi.Request{}, "At")); diff != "" {
			t.Errorf("connected (-want +got):\n%s", diff)
		}
		if at := got.Connected.At; at.Before(start) || at.After(time.Now().Add(time.Minute)) {
			t.Errorf("connected at %v, want about now", at)
		}
		if diff := cmp.Diff([]adminapi.Request{*got.Connected}, got.Requests); diff != "" {
			t.Errorf("requests (-want +got):\n%s", diff)
		}
	})

	t.Run("wrong secret is listed, connected stays", func(t *testing.T) {
		before, _ := acme.activity()
		if st, _ := acme.scim("not-the-secret", "GET", "/Users?startIndex=1&count=2", ""); st != http.StatusUnauthorized {
			t.Fatalf("wrong secret answered %d", st)
		}
		if st, _ := acme.scim("", "GET", "/Groups", ""); st != http.StatusUnauthorized {
			t.Fatalf("no secret answered %d", st)
		}
		got, _ := acme.activity()
		if diff := cmp.Diff([]summary{
			{"GET", "/Groups", 401, "No secret"},
			{"GET", "/Users?startIndex=1&count=2", 401, "Wrong secret"},
			{"GET", "/Users?startIndex=1&count=2", 200, "Test API Credentials"},
		}, summaries(got.Requests)); diff != "" {
			t.Errorf("requests (-want +got):\n%s", diff)
		}
		if !strings.HasPrefix(got.Requests[1].Detail, "authentication failed") {
			t.Errorf("detail of the 401 = %q", got.Requests[1].Detail)
		}
		if diff := cmp.Diff(before.Connected, got.Connected); diff != "" {
			t.Errorf("connected changed (-want +got):\n%s", diff)
		}
	})

	var aliceID string
	t.Run("users and groups", func(t *testing.T) {
		st, body := acme.scim(token, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"alice@example.com","name":{"givenName":"Alice","familyName":"Example"},"active":true}`)
		if st != http.StatusCreated {
			t.Fatalf("create alice: %d %s", st, body)
		}
		aliceID = idOf(t, body)
		st, body = acme.scim(token, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bob@example.com","displayName":"Bob B.","name":{"formatted":"Robert B."}}`)
		if st != http.StatusCreated {
			t.Fatalf("create bob: %d %s", st, body)
		}
		bobID := idOf(t, body)
		time.Sleep(5 * time.Millisecond) // the store's times are milliseconds
		st, body = acme.scim(token, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"carol@example.com","name":{"formatted":"Carol C.","givenName":"Carol"}}`)
		if st != http.StatusCreated {
			t.Fatalf("create carol: %d %s", st, body)
		}
		carolID := idOf(t, body)
		st, body = acme.scim(token, "POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Engineering","members":[{"value":"`+aliceID+`"},{"value":"`+bobID+`"}]}`)
		if st != http.StatusCreated {
			t.Fatalf("create group: %d %s", st, body)
		}
		groupID := idOf(t, body)
		time.Sleep(5 * time.Millisecond) // the store's times are milliseconds
		if st, body := acme.scim(token, "PATCH", "/Users/"+aliceID, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`); st != http.StatusOK {
			t.Fatalf("deactivate alice: %d %s", st, body)
		}
		if st, body := acme.scim(token, "GET", `/Users?filter=userName%20eq%20%22carol%40example.com%22&startIndex=1&count=100`, ""); st != http.StatusOK {
			t.Fatalf("look up: %d %s", st, body)
		}
		if st, body := acme.scim(token, "POST", "/Users", `{"userName":"ALICE@example.com"}`); st != http.StatusConflict {
			t.Fatalf("create alice again: %d %s", st, body)
		}
		got, _ := acme.activity()
		ignore := cmpopts.IgnoreFields(adminapi.Provisioned{}, "Modified")
		// carol has no active: absent counts as active, as at sign-in.
		if diff := cmp.Diff(adminapi.ResourceList{Total: 3, Recent: []adminapi.Provisioned{
			{ID: aliceID, Name: "alice@example.com", DisplayName: "Alice Example", Active: false},
			{ID: carolID, Name: "carol@example.com", DisplayName: "Carol C.", Active: true},
			{ID: bobID, Name: "bob@example.com", DisplayName: "Bob B.", Active: true},
		}}, got.Users, ignore); diff != "" {
			t.Errorf("users, the most recently modified first (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(adminapi.ResourceList{Total: 1, Recent: []adminapi.Provisioned{
			{ID: groupID, Name: "Engineering", Active: true, Members: 2},
		}}, got.Groups, ignore); diff != "" {
			t.Errorf("groups (-want +got):\n%s", diff)
		}
		if got.Users.Recent[0].Modified.Before(got.Users.Recent[1].Modified) {
			t.Errorf("users out of order: %+v", got.Users.Recent)
		}
		if diff := cmp.Diff([]summary{
			{"POST", "/Users", 409, "Create user"},
			{"GET", `/Users?filter=userName eq "carol@example.com"&startIndex=1&count=100`, 200, "Look up user"},
			{"PATCH", "/Users/" + aliceID, 200, "Deactivate user"},
			{"POST", "/Groups", 201, "Create group"},
			{"POST", "/Users", 201, "Create user"},
			{"POST", "/Users", 201, "Create user"},
			{"POST", "/Users", 201, "Create user"},
		}, summaries(got.Requests[:7])); diff != "" {
			t.Errorf("latest requests (-want +got):\n%s", diff)
		}
		if d := got.Requests[0].Detail; !strings.HasPrefix(d, "uniqueness: ") {
			t.Errorf("detail of the 409 = %q, want it to start with the scimType", d)
		}
	})

	t.Run("at most MaxRequests, newest first", func(t *testing.T) {
		for range adminapi.MaxRequests + 5 {
			acme.scim(token, "GET", "/Users/"+aliceID, "")
		}
		got, _ := acme.activity()
		if len(got.Requests) != adminapi.MaxRequests {
			t.Fatalf("%d requests, want %d", len(got.Requests), adminapi.MaxRequests)
		}
		for i, r := range got.Requests {
			if r.Action != "Read user" {
				t.Errorf("request %d is %q, want Read user", i, r.Action)
			}
			if i > 0 && r.At.After(got.Requests[i-1].At) {
				t.Errorf("request %d (%v) is newer than request %d (%v)", i, r.At, i-1, got.Requests[i-1].At)
			}
		}
	})

	t.Run("tenant isolation", func(t *testing.T) {
		if st, _ := beta.scim(beta.created.Token, "GET", "/Groups?startIndex=1&count=100", ""); st != http.StatusOK {
			t.Fatalf("beta import groups: %d", st)
		}
		// acme's secret at beta, and a tenant that does not exist.
		beta.scim(token, "GET", "/Users", "")
		send(t, srv.Client, "GET", srv.URL+"/t/nobody/scim/v2/Users", map[string]string{"Authorization": "Bearer " + token}, "")
		gotBeta, _ := beta.activity()
		if diff := cmp.Diff([]summary{
			{"GET", "/Users", 401, "Wrong secret"},
			{"GET", "/Groups?startIndex=1&count=100", 200, "Import groups"},
		}, summaries(gotBeta.Requests)); diff != "" {
			t.Errorf("beta's requests (-want +got):\n%s", diff)
		}
		if gotBeta.Connected == nil || gotBeta.Connected.Action != "Import groups" || gotBeta.Users.Total != 0 || gotBeta.Groups.Total != 0 {
			t.Errorf("beta's activity shows another tenant's: %+v", gotBeta)
		}
		gotAcme, _ := acme.activity()
		for _, r := range gotAcme.Requests {
			if r.Action != "Read user" {
				t.Errorf("acme lists a request it did not get: %+v", r)
			}
		}
		// beta's admin session does not read acme's activity.
		cookie := beta.client.Jar.Cookies(mustURL(t, beta.api("activity")))
		if len(cookie) != 1 {
			t.Fatalf("beta has %d admin cookies", len(cookie))
		}
		st, body := send(t, srv.Client, "GET", acme.api("activity"), map[string]string{"Cookie": cookie[0].Name + "=" + cookie[0].Value}, "")
		if st != http.StatusUnauthorized || strings.Contains(body, "Read user") {
			t.Errorf("acme's activity with beta's session = %d %s", st, body)
		}
	})

	t.Run("rotating the secret disconnects", func(t *testing.T) {
		st, body := acme.do("POST", acme.api("secret"), map[string]string{adminapi.CSRFHeader: acme.csrf}, "")
		var s adminapi.Secret
		if err := json.Unmarshal([]byte(body), &s); err != nil || st != http.StatusOK || s.Token == "" {
			t.Fatalf("rotate: %d %s: %v", st, body, err)
		}
		got, raw := acme.activity()
		if got.Connected != nil || !strings.Contains(raw, `"connected":null`) {
			t.Errorf("connected after rotation = %+v, want null", got.Connected)
		}
		if st, _ := acme.scim(token, "GET", "/Users?startIndex=1&count=2", ""); st != http.StatusUnauthorized {
			t.Errorf("the old secret answered %d", st)
		}
		if got, _ := acme.activity(); got.Connected != nil || got.Requests[0].Action != "Wrong secret" {
			t.Errorf("after the old secret: connected %+v, latest %+v", got.Connected, got.Requests[0])
		}
		if st, _ := acme.scim(s.Token, "GET", "/Users?startIndex=1&count=2", ""); st != http.StatusOK {
			t.Errorf("the new secret answered %d", st)
		}
		acme.scim(s.Token, "GET", "/Groups?startIndex=1&count=100", "")
		got, _ = acme.activity()
		if got.Connected == nil || got.Connected.Action != "Test API Credentials" || got.Connected.Status != 200 {
			t.Errorf("connected with the new secret = %+v, want its first request", got.Connected)
		}
	})

	t.Run("a rotation with grace says until when the previous secret works", func(t *testing.T) {
		if got, raw := acme.activity(); got.PreviousSecretUntil != nil || strings.Contains(raw, "previousSecretUntil") {
			t.Fatalf("before: previousSecretUntil %v", got.PreviousSecretUntil)
		}
		st, body := acme.do("POST", acme.api("secret"), map[string]string{adminapi.CSRFHeader: acme.csrf, "Content-Type": "application/json"}, `{"graceSeconds":600}`)
		if st != http.StatusOK {
			t.Fatalf("rotate: %d %s", st, body)
		}
		got, _ := acme.activity()
		if u := got.PreviousSecretUntil; u == nil || u.Before(time.Now().Add(9*time.Minute)) || u.After(time.Now().Add(11*time.Minute)) {
			t.Errorf("previousSecretUntil = %v, want about 10 minutes from now", u)
		}
		if got, _ := beta.activity(); got.PreviousSecretUntil != nil {
			t.Errorf("beta's activity carries acme's grace: %v", got.PreviousSecretUntil)
		}
	})

	t.Run("a mark that is not JSON reads as null", func(t *testing.T) {
		err := srv.Config.Store.PutToken(context.Background(), store.Token{Kind: activity.KindConnected, Key: "beta", Tenant: "beta", Value: []byte("{oops"), Expires: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := beta.activity(); got.Connected != nil || len(got.Requests) == 0 {
			t.Errorf("beta's activity with a broken mark: %+v", got)
		}
	})

	t.Run("no admin session", func(t *testing.T) {
		st, body := send(t, srv.Client, "GET", acme.api("activity"), nil, "")
		var e adminapi.Error
		if err := json.Unmarshal([]byte(body), &e); err != nil || st != http.StatusUnauthorized || e.Error != "login_required" {
			t.Errorf("activity without a session = %d %s", st, body)
		}
	})

	t.Run("GET only", func(t *testing.T) {
		st, body := acme.do("POST", acme.api("activity"), map[string]string{adminapi.CSRFHeader: acme.csrf}, "")
		var e adminapi.Error
		if err := json.Unmarshal([]byte(body), &e); err != nil || st != http.StatusMethodNotAllowed {
			t.Errorf("POST activity = %d %s", st, body)
		}
	})
}

// mustURL parses s.
func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
