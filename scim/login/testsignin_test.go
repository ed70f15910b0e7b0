package login_test

import (
	"context"
	"encoding/json"
	"html/template"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/mockidp"
	"github.com/idpkit/idpkit/mockidp/directory"
	"github.com/idpkit/idpkit/mockidp/op"
	"github.com/idpkit/idpkit/scim/adminapi"
	"github.com/idpkit/idpkit/scim/app"
	"github.com/idpkit/idpkit/scim/app/apptest"
	"github.com/idpkit/idpkit/scim/login"
	"github.com/idpkit/idpkit/scim/tenant"
)

const testPassword = "correct-horse-battery-staple"

// testSignInEnv is an app server whose tenant acme signs in through a
// mock Okta, with Okta users alice (provisioned, active), bob (assigned
// to the sign-in app, never provisioned), carol (provisioned, then
// deactivated) and dave (not assigned to the sign-in app).
type testSignInEnv struct {
	srv     *apptest.Server
	created tenant.Created
	okta    *mockidp.Server
	ids     map[string]string // Okta user ids by login
}

func newTestSignInEnv(t *testing.T, mode string) *testSignInEnv {
	t.Helper()
	ctx := context.Background()
	e := &testSignInEnv{srv: apptest.Start(t, nil, apptest.WithOIDCResponseMode(mode), apptest.WithAudit(t)), ids: map[string]string{}}
	e.created = e.srv.Tenant(t, "acme")
	e.okta = mockidp.NewServer()
	t.Cleanup(e.okta.Close)
	oidcApp, err := e.okta.Directory().CreateApp(directory.App{Label: "idpkit sign-in", OAuthClient: &directory.OAuthClient{RedirectURIs: []string{e.created.RedirectURI}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []directory.Profile{
		{Login: "alice@example.com", Email: "alice@example.com", FirstName: "Alice", LastName: "<b>Smith</b>"},
		{Login: "bob@example.com", Email: "bob@example.com", FirstName: "Bob", LastName: "Jones"},
		{Login: "carol@example.com", Email: "carol@example.com", FirstName: "Carol", LastName: "White"},
		{Login: "dave@example.com", Email: "dave@example.com", FirstName: "Dave", LastName: "Black"},
	} {
		u, err := e.okta.Directory().CreateUser(p, testPassword, true)
		if err != nil {
			t.Fatal(err)
		}
		e.ids[p.Login] = u.ID
	}
	if err := e.okta.Assign(mockidp.SeedAssignment{App: oidcApp.ID, Users: []string{"alice@example.com", "bob@example.com", "carol@example.com"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Tenants(e.srv.Config).Configure(ctx, "acme", tenant.SignIn{OktaDomain: e.okta.URL, ClientID: oidcApp.OAuthClient.ClientID, ClientSecret: oidcApp.OAuthClient.ClientSecret}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		login  string
		active bool
	}{{"alice@example.com", true}, {"carol@example.com", false}} {
		body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"` + u.login + `","externalId":"` + e.ids[u.login] + `","active":true}`
		if code := e.scim(t, http.MethodPost, "/Users", body); code != http.StatusCreated {
			t.Fatalf("provision %s: %d", u.login, code)
		}
		if !u.active {
			// Okta deactivates with a PATCH after the user was pushed.
			id := e.userID(t, u.login)
			patch := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`
			if code := e.scim(t, http.MethodPatch, "/Users/"+id, patch); code != http.StatusOK {
				t.Fatalf("deactivate %s: %d", u.login, code)
			}
		}
	}
	return e
}

func (e *testSignInEnv) scim(t *testing.T, method, path, body string) int {
	t.Helper()
	req, _ := http.NewRequest(method, e.created.SCIMBaseURL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.created.Token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := e.srv.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (e *testSignInEnv) userID(t *testing.T, userName string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.created.SCIMBaseURL+"/Users?filter="+url.QueryEscape(`userName eq "`+userName+`"`), nil)
	req.Header.Set("Authorization", "Bearer "+e.created.Token)
	resp, err := e.srv.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Resources []struct {
			ID string `json:"id"`
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || len(list.Resources) != 1 {
		t.Fatalf("look up %s: %v %+v", userName, err, list)
	}
	return list.Resources[0].ID
}

// adminBrowser is a browser (cookie jar, redirects followed) signed in as
// the tenant's admin through a fresh one-time admin link.
type adminBrowser struct {
	t    *testing.T
	c    *http.Client
	e    *testSignInEnv
	mode string
}

func (e *testSignInEnv) admin(t *testing.T, mode string) *adminBrowser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &adminBrowser{t: t, c: &http.Client{Jar: jar}, e: e, mode: mode}
	link, err := app.Tenants(e.srv.Config).AdminLink(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := b.get(link); resp.StatusCode != http.StatusOK {
		t.Fatalf("admin link: %d", resp.StatusCode)
	}
	return b
}

func (b *adminBrowser) get(u string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Get(u)
	if err != nil {
		b.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

// result reads GET …/admin/api/test-sign-in?id=id.
func (b *adminBrowser) result(id string) (int, adminapi.TestSignIn) {
	b.t.Helper()
	resp, body := b.get(b.e.srv.URL + "/t/acme/admin/api/test-sign-in?id=" + url.QueryEscape(id))
	var res adminapi.TestSignIn
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal([]byte(body), &res); err != nil {
			b.t.Fatalf("result %q: %v", body, err)
		}
	}
	return resp.StatusCode, res
}

// testSignIn opens the popup page for id and signs in at the mock's form
// as user; it returns where the popup ended and its page.
func (b *adminBrowser) testSignIn(id, user string) (*http.Response, string) {
	b.t.Helper()
	resp, body := b.get(b.e.srv.URL + "/t/acme/admin/test-sign-in?id=" + id)
	if resp.Request.URL.Path == "/t/acme/oidc/callback" {
		return resp, body // Okta's session signed the user in at once
	}
	if resp.Request.URL.Host != strings.TrimPrefix(b.e.okta.URL, "http://") {
		b.t.Fatalf("the popup did not reach Okta: %s %d\n%.1000s", resp.Request.URL, resp.StatusCode, body)
	}
	r, page := resp, []byte(body)
	if strings.Contains(body, `name="password"`) {
		r, page = submitForm(b.t, b.c, resp.Request.URL, page, url.Values{"username": {user}, "password": {testPassword}})
	}
	if b.mode == login.ResponseModeFormPost && r.StatusCode == http.StatusOK && r.Request.URL.Path != "/t/acme/oidc/callback" {
		// The mock's auto-submitting form, posted as a browser would.
		r, page = submitForm(b.t, b.c, r.Request.URL, page, nil)
	}
	return r, string(page)
}

func (b *adminBrowser) hasSession() bool {
	u, _ := url.Parse(b.e.srv.URL + "/t/acme/me")
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == login.SessionCookie {
			return true
		}
	}
	return false
}

// TestTestSignIn: a test sign-in through the mock Okta runs the real
// sign-in's checks, stores the outcome for the admin session that started
// it and starts no session.
func TestTestSignIn(t *testing.T) {
	const id = "test-id-0123456789abcdefABCDEF"
	for _, mode := range []string{"query", "form_post"} {
		t.Run(mode, func(t *testing.T) {
			e := newTestSignInEnv(t, mode)
			notProvisioned := "bob@example.com (Okta user " + e.ids["bob@example.com"] + ") signed in at Okta, but Okta never provisioned them to this tenant: assign them, or a group they are in, to the SCIM app in Okta."
			tests := []struct {
				login  string
				status int
				title  string
				want   adminapi.TestSignIn // Claims only "sub" compared
			}{
				{"alice@example.com", http.StatusOK, "Test sign-in worked",
					adminapi.TestSignIn{Done: true, OK: true, Message: "Signed in as alice@example.com.", UserName: "alice@example.com", Claims: map[string]any{"sub": e.ids["alice@example.com"]}}},
				{"bob@example.com", http.StatusForbidden, "Test sign-in refused",
					adminapi.TestSignIn{Done: true, Message: notProvisioned, Claims: map[string]any{"sub": e.ids["bob@example.com"]}}},
				{"carol@example.com", http.StatusForbidden, "Test sign-in refused",
					adminapi.TestSignIn{Done: true, Message: "carol@example.com is deactivated in this tenant (SCIM active is false): reactivate or reassign them in Okta.", UserName: "carol@example.com", Claims: map[string]any{"sub": e.ids["carol@example.com"]}}},
				{"dave@example.com", http.StatusForbidden, "Test sign-in refused",
					adminapi.TestSignIn{Done: true, Message: "Okta refused the sign-in (access_denied: User is not assigned to the client application): assign the person, or a group they are in, to the OIDC app in Okta."}},
			}
			for i, tt := range tests {
				t.Run(tt.login, func(t *testing.T) {
					b := e.admin(t, mode)
					id := id + string(rune('a'+i))
					if code, got := b.result(id); code != http.StatusOK || got.Done {
						t.Errorf("before the sign-in: %d %+v, want 200 and done false", code, got)
					}
					resp, page := b.testSignIn(id, tt.login)
					if resp.Request.URL.Path != "/t/acme/oidc/callback" || resp.StatusCode != tt.status {
						t.Errorf("the popup ended at %s with %d, want the callback with %d", resp.Request.URL.Path, resp.StatusCode, tt.status)
					}
					for _, s := range []string{"<title>" + tt.title + " · idpkit</title>", "<p>" + template.HTMLEscapeString(tt.want.Message) + "</p>",
						"<p>To test as someone else, click Test sign-in again and sign in as them.</p>", "<p>You can close this window.</p>"} {
						if !strings.Contains(page, s) {
							t.Errorf("popup page lacks %q:\n%s", s, page)
						}
					}
					code, got := b.result(id)
					if code != http.StatusOK {
						t.Fatalf("result: %d", code)
					}
					if tt.want.Claims != nil {
						if got.Claims["sub"] == nil || got.Claims["iss"] != e.okta.URL {
							t.Errorf("claims %v lack sub or iss", got.Claims)
						}
						for k := range got.Claims {
							if k != "sub" {
								delete(got.Claims, k)
							}
						}
						if !strings.Contains(page, "<dt>sub</dt><dd>"+e.ids[tt.login]+"</dd>") {
							t.Errorf("popup page does not list the sub claim:\n%s", page)
						}
					}
					if diff := cmp.Diff(tt.want, got); diff != "" {
						t.Errorf("result (-want +got):\n%s", diff)
					}
					if b.hasSession() {
						t.Error("a test sign-in set the session cookie")
					}
					if resp, _ := b.get(e.srv.URL + "/t/acme/me"); resp.StatusCode == http.StatusOK {
						t.Errorf("after a test sign-in /me answers %d", resp.StatusCode)
					}
					// Reading does not consume the outcome.
					if _, again := b.result(id); !again.Done || again.OK != tt.want.OK {
						t.Errorf("a second read: %+v", again)
					}
				})
			}
		})
	}
}

// TestTestSignInAccess: outcomes are bound to the admin session and the
// id; the popup page and the API need an admin session and a valid id.
func TestTestSignInAccess(t *testing.T) {
	const id = "ZmFrZS1pZC0wMTIzNDU2Nzg5YWJj"
	e := newTestSignInEnv(t, "query")
	b := e.admin(t, "query")
	if resp, _ := b.testSignIn(id, "alice@example.com"); resp.StatusCode != http.StatusOK {
		t.Fatalf("test sign-in: %d", resp.StatusCode)
	}
	if _, got := b.result(id); !got.OK {
		t.Fatalf("result: %+v", got)
	}
	// The claims are escaped on the page.
	_, page := b.testSignIn(id, "alice@example.com")
	if strings.Contains(page, "<b>Smith</b>") || !strings.Contains(page, "&lt;b&gt;Smith&lt;/b&gt;") {
		t.Errorf("the name claim is not escaped on the page:\n%s", page)
	}

	other := e.admin(t, "query")
	if code, got := other.result(id); code != http.StatusOK || got.Done {
		t.Errorf("another admin session reads %d %+v, want done false", code, got)
	}
	if code, got := b.result(id + "x"); code != http.StatusOK || got.Done {
		t.Errorf("another id reads %d %+v, want done false", code, got)
	}
	// Started, and waiting at Okta's sign-in form.
	pending := id + "-pending"
	if resp, _ := other.get(e.srv.URL + "/t/acme/admin/test-sign-in?id=" + pending); resp.Request.URL.Host != strings.TrimPrefix(e.okta.URL, "http://") {
		t.Fatalf("the popup did not reach Okta: %s", resp.Request.URL)
	}
	if code, got := other.result(pending); code != http.StatusOK || !cmp.Equal(got, adminapi.TestSignIn{}) {
		t.Errorf("a pending test sign-in reads %d %+v, want done false", code, got)
	}

	for _, bad := range []string{"", "short", strings.Repeat("a", 129), "has spaces in it 0123456789", "dots.are.not.allowed.0123456789", id + "&id=" + id} {
		t.Run("malformed id "+bad, func(t *testing.T) {
			resp, body := b.get(e.srv.URL + "/t/acme/admin/api/test-sign-in?id=" + strings.ReplaceAll(bad, " ", "+"))
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"error":"invalid_request"`) {
				t.Errorf("API: %d %s, want 400 invalid_request", resp.StatusCode, body)
			}
			resp, body = b.get(e.srv.URL + "/t/acme/admin/test-sign-in?id=" + strings.ReplaceAll(bad, " ", "+"))
			if resp.StatusCode != http.StatusBadRequest || resp.Request.URL.Host != strings.TrimPrefix(e.srv.URL, "http://") || !strings.Contains(body, "Test sign-in button") {
				t.Errorf("page: %d at %s, want a 400 page here:\n%s", resp.StatusCode, resp.Request.URL, body)
			}
		})
	}

	t.Run("no admin session", func(t *testing.T) {
		jar, _ := cookiejar.New(nil)
		anon := &adminBrowser{t: t, c: &http.Client{Jar: jar}, e: e}
		resp, body := anon.get(e.srv.URL + "/t/acme/admin/test-sign-in?id=" + id)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Admin sign-in needed") {
			t.Errorf("page: %d, want 401 Admin sign-in needed:\n%s", resp.StatusCode, body)
		}
		if code, _ := anon.result(id); code != http.StatusUnauthorized {
			t.Errorf("API: %d, want 401", code)
		}
	})

	t.Run("sign-in not configured", func(t *testing.T) {
		e.srv.Tenant(t, "beta")
		link, err := app.Tenants(e.srv.Config).AdminLink(context.Background(), "beta")
		if err != nil {
			t.Fatal(err)
		}
		jar, _ := cookiejar.New(nil)
		nb := &adminBrowser{t: t, c: &http.Client{Jar: jar}, e: e}
		nb.get(link)
		resp, body := nb.get(e.srv.URL + "/t/beta/admin/test-sign-in?id=" + id)
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "Sign-in is not set up yet") || strings.Contains(body, "To test as someone else") {
			t.Errorf("page: %d, want 503 saying sign-in is not set up:\n%s", resp.StatusCode, body)
		}
		resp, body = nb.get(e.srv.URL + "/t/beta/admin/api/test-sign-in?id=" + id)
		var got adminapi.TestSignIn
		json.Unmarshal([]byte(body), &got)
		if resp.StatusCode != http.StatusOK || !got.Done || got.OK || !strings.Contains(got.Message, "Sign-in is not set up yet") {
			t.Errorf("API: %d %s, want done and refused", resp.StatusCode, body)
		}
	})
}

// TestTestSignInPromptLogin: a test sign-in asks Okta for its sign-in
// form (prompt=login) although the browser has an Okta session, so the
// admin can test as another person; a normal sign-in does not.
func TestTestSignInPromptLogin(t *testing.T) {
	e := newTestSignInEnv(t, "query")
	b := e.admin(t, "query")
	const id = "prompt-login-0123456789abcdef"
	if _, page := b.testSignIn(id+"a", "alice@example.com"); !strings.Contains(page, "Signed in as alice@example.com.") {
		t.Fatalf("first test sign-in:\n%s", page)
	}
	// Okta has a session for alice in this browser now.
	resp, page := b.testSignIn(id+"b", "bob@example.com")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "bob@example.com (Okta user") {
		t.Errorf("second test sign-in as bob: %d\n%s", resp.StatusCode, page)
	}

	noRedirect := &http.Client{Jar: b.c.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tt := range []struct {
		path, prompt string
	}{
		{"/t/acme/admin/test-sign-in?id=" + id + "c", "login"},
		{"/t/acme/login", ""},
	} {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := noRedirect.Get(e.srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			loc, err := url.Parse(resp.Header.Get("Location"))
			if err != nil || resp.StatusCode != http.StatusFound {
				t.Fatalf("%d %q: %v", resp.StatusCode, resp.Header.Get("Location"), err)
			}
			if diff := cmp.Diff(tt.prompt, loc.Query().Get("prompt")); diff != "" {
				t.Errorf("prompt (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTestSignInAdminWording: every refused test sign-in is told to the
// admin, who started it, naming what to fix; none of its sentences speak
// to the person signing in.
func TestTestSignInAdminWording(t *testing.T) {
	e := newTestSignInEnv(t, "query")
	b := e.admin(t, "query")
	tests := []struct {
		name   string
		arm    func() error
		prefix bool // want is the start of the sentence
		want   string
	}{
		{"another error at Okta", func() error {
			return e.okta.QueueError(op.QueuedError{Endpoint: op.EndpointAuthorize, Status: http.StatusFound, Error: "consent_required", Description: "Consent is needed."})
		}, false, "Okta refused the sign-in (consent_required: Consent is needed); check the OIDC app in Okta, then test again."},
		{"access denied, in words for the person", func() error {
			return e.okta.QueueError(op.QueuedError{Endpoint: op.EndpointAuthorize, Status: http.StatusFound, Error: "access_denied", Description: "You are not assigned to your app."})
		}, false, "Okta refused the sign-in (access_denied: You are not assigned to your app): assign the person, or a group they are in, to the OIDC app in Okta."},
		{"code refused", func() error {
			return e.okta.QueueError(op.QueuedError{Endpoint: op.EndpointToken, Status: http.StatusBadRequest, Error: "invalid_grant", Description: "The authorization code is invalid or has expired."})
		}, false, "Okta's token endpoint refused the sign-in code (invalid_grant: The authorization code is invalid or has expired.); check the Client ID and Client secret in the Connect Okta dialog and that the OIDC app in Okta allows the Authorization Code grant, then test again."},
		{"bad signature", func() error { return e.okta.ArmFault("invalid-signature", false) },
			true, "Okta's answer was refused: its ID token could not be verified ("},
		{"wrong nonce", func() error { return e.okta.ArmFault("wrong-nonce", false) },
			false, "Okta's answer was refused: its ID token does not belong to this sign-in (its nonce differs); test again."},
		{"UserInfo of another user", func() error { return e.okta.ArmFault("userinfo-sub-mismatch", false) },
			false, "A person signing in would see: “Okta's user information names another user than its identity token; please start again, and ask your administrator if this keeps happening.”"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := "wording-0123456789abcdefgh" + string(rune('a'+i))
			if err := tt.arm(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(e.okta.DisarmFaults)
			_, page := b.testSignIn(id, "alice@example.com")
			_, got := b.result(id)
			if !got.Done || got.OK {
				t.Fatalf("outcome %+v, want refused", got)
			}
			msg := got.Message
			if tt.prefix && strings.HasPrefix(msg, tt.want) {
				msg = tt.want
			}
			if diff := cmp.Diff(tt.want, msg); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
			if !strings.Contains(page, template.HTMLEscapeString(got.Message)) {
				t.Errorf("the popup page does not show the message:\n%s", page)
			}
		})
	}
}
