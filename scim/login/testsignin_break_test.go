package login_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/idpkit/idpkit/mockidp"
	"github.com/idpkit/idpkit/mockidp/directory"
	"github.com/idpkit/idpkit/mockidp/op"
	"github.com/idpkit/idpkit/scim/app"
	"github.com/idpkit/idpkit/scim/app/apptest"
	"github.com/idpkit/idpkit/scim/login"
	"github.com/idpkit/idpkit/scim/tenant"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// breakEnv is newTestSignInEnv with the app's log kept and the sign-in
// app's client secret known; only alice is provisioned.
type breakEnv struct {
	*testSignInEnv
	logs         *syncBuffer
	clientSecret string
}

func newBreakEnv(t *testing.T, mode string) *breakEnv {
	t.Helper()
	logs := &syncBuffer{}
	withLog := func(c *app.Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	e := &testSignInEnv{srv: apptest.Start(t, nil, apptest.WithOIDCResponseMode(mode), withLog), ids: map[string]string{}}
	e.created = e.srv.Tenant(t, "acme")
	e.okta = mockidp.NewServer()
	t.Cleanup(e.okta.Close)
	oidcApp, err := e.okta.Directory().CreateApp(directory.App{Label: "idpkit sign-in", OAuthClient: &directory.OAuthClient{RedirectURIs: []string{e.created.RedirectURI, strings.Replace(e.created.RedirectURI, "/t/acme/", "/t/beta/", 1)}}})
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.okta.Directory().CreateUser(directory.Profile{Login: "alice@example.com", Email: "alice@example.com", FirstName: "Alice", LastName: "Smith"}, testPassword, true)
	if err != nil {
		t.Fatal(err)
	}
	e.ids["alice@example.com"] = u.ID
	if err := e.okta.Assign(mockidp.SeedAssignment{App: oidcApp.ID, Users: []string{"alice@example.com"}}); err != nil {
		t.Fatal(err)
	}
	in := tenant.SignIn{OktaDomain: e.okta.URL, ClientID: oidcApp.OAuthClient.ClientID, ClientSecret: oidcApp.OAuthClient.ClientSecret}
	if _, err := app.Tenants(e.srv.Config).Configure(context.Background(), "acme", in); err != nil {
		t.Fatal(err)
	}
	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"alice@example.com","externalId":"` + u.ID + `","active":true}`
	if code := e.scim(t, http.MethodPost, "/Users", body); code != http.StatusCreated {
		t.Fatalf("provision alice: %d", code)
	}
	return &breakEnv{testSignInEnv: e, logs: logs, clientSecret: oidcApp.OAuthClient.ClientSecret}
}

// cookieWatch records every Set-Cookie the app server sends.
type cookieWatch struct {
	next http.RoundTripper
	host string
	mu   sync.Mutex
	set  []string // "METHOD path: Set-Cookie value"
}

func (c *cookieWatch) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err == nil && r.URL.Host == c.host {
		c.mu.Lock()
		for _, v := range resp.Header.Values("Set-Cookie") {
			c.set = append(c.set, r.Method+" "+r.URL.Path+": "+v)
		}
		c.mu.Unlock()
	}
	return resp, err
}

// sessionCookies returns the recorded Set-Cookie headers that name the
// user session cookie.
func (c *cookieWatch) sessionCookies() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, s := range c.set {
		if _, v, _ := strings.Cut(s, ": "); strings.HasPrefix(v, login.SessionCookie+"=") {
			out = append(out, s)
		}
	}
	return out
}

// watch makes b record the app server's Set-Cookie headers.
func (b *adminBrowser) watch() *cookieWatch {
	next := b.c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	w := &cookieWatch{next: next, host: strings.TrimPrefix(b.e.srv.URL, "http://")}
	b.c.Transport = w
	return w
}

// callbackURL opens the popup for id, signs in at Okta when asked and
// returns the callback URL Okta redirects to, without following it.
func (b *adminBrowser) callbackURL(t *testing.T, id string) *url.URL {
	t.Helper()
	b.c.CheckRedirect = func(r *http.Request, _ []*http.Request) error {
		if strings.HasSuffix(r.URL.Path, "/oidc/callback") {
			return http.ErrUseLastResponse
		}
		return nil
	}
	defer func() { b.c.CheckRedirect = nil }()
	resp, body := b.get(b.e.srv.URL + "/t/acme/admin/test-sign-in?id=" + id)
	if strings.Contains(body, `name="password"`) {
		resp, _ = submitForm(t, b.c, resp.Request.URL, []byte(body), url.Values{"username": {"alice@example.com"}, "password": {testPassword}})
	}
	cb, err := resp.Location()
	if err != nil || !strings.HasSuffix(cb.Path, "/oidc/callback") {
		t.Fatalf("no redirect to the callback: %d %v", resp.StatusCode, err)
	}
	return cb
}

// TestTestSignInNeverTouchesTheSession: on every path a test sign-in
// takes (worked, refused by Okta, token refused, replayed callback, the
// callback in another browser, another tenant's callback) the app sends
// no Set-Cookie for the user session, and a session the browser had
// stays valid.
func TestTestSignInNeverTouchesTheSession(t *testing.T) {
	const id = "break-id-0123456789abcdefABCDEF"
	e := newBreakEnv(t, "query")
	b := e.admin(t, "query")
	// The browser also has a user session, from a real sign-in.
	if resp, _ := b.signIn(t, "alice@example.com"); resp.Request.URL.Path != "/t/acme/me" {
		t.Fatalf("real sign-in ended at %s", resp.Request.URL)
	}
	w := b.watch()
	check := func(t *testing.T, what string) {
		t.Helper()
		if got := w.sessionCookies(); len(got) != 0 {
			t.Errorf("%s: the app set the session cookie: %q", what, got)
		}
		if resp, _ := b.get(e.srv.URL + "/t/acme/me"); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: the user session ended (/me answers %d)", what, resp.StatusCode)
		}
	}

	t.Run("worked, then replayed", func(t *testing.T) {
		resp, _ := b.testSignIn(id+"a", "alice@example.com")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("test sign-in: %d", resp.StatusCode)
		}
		check(t, "worked")
		// The same callback again (a reload): refused, nothing set.
		again, _ := b.get(resp.Request.URL.String())
		if again.Request.URL.Path == "/t/acme/oidc/callback" && again.StatusCode == http.StatusOK {
			t.Errorf("a replayed test callback answered 200")
		}
		if _, got := b.result(id + "a"); !got.OK {
			t.Errorf("the replay spoiled the stored outcome: %+v", got)
		}
		check(t, "replayed")
	})
	t.Run("refused at Okta", func(t *testing.T) {
		if err := e.okta.QueueError(op.QueuedError{Endpoint: op.EndpointAuthorize, Status: http.StatusFound, Error: "access_denied", Description: "no"}); err != nil {
			t.Fatal(err)
		}
		b.get(e.srv.URL + "/t/acme/admin/test-sign-in?id=" + id + "b")
		if _, got := b.result(id + "b"); !got.Done || got.OK {
			t.Errorf("outcome %+v, want refused", got)
		}
		check(t, "refused")
	})
	t.Run("token refused", func(t *testing.T) {
		if err := e.okta.QueueError(op.QueuedError{Endpoint: op.EndpointToken, Status: http.StatusBadRequest, Error: "invalid_grant"}); err != nil {
			t.Fatal(err)
		}
		b.testSignIn(id+"c", "alice@example.com")
		if _, got := b.result(id + "c"); !got.Done || got.OK {
			t.Errorf("outcome %+v, want refused", got)
		}
		check(t, "token refused")
	})
	t.Run("callback in another browser", func(t *testing.T) {
		// The admin's popup comes back from Okta; the callback URL is
		// opened by another browser (no login cookie of this sign-in).
		cb := b.callbackURL(t, id+"d")
		jar, _ := cookiejar.New(nil)
		other := &http.Client{Jar: jar, Transport: w}
		got, err := other.Get(cb.String())
		if err != nil {
			t.Fatal(err)
		}
		got.Body.Close()
		if got.StatusCode == http.StatusOK {
			t.Errorf("the other browser's callback answered 200")
		}
		if _, res := b.result(id + "d"); res.OK || len(res.Claims) != 0 {
			t.Errorf("outcome %+v, want refused without claims", res)
		}
		check(t, "another browser")
	})
	t.Run("another tenant's callback", func(t *testing.T) {
		e.srv.Tenant(t, "beta")
		cb := b.callbackURL(t, id+"e")
		cb.Path = "/t/beta/oidc/callback"
		got, _ := b.get(cb.String())
		if got.StatusCode == http.StatusOK {
			t.Errorf("beta's callback finished acme's test sign-in: %d", got.StatusCode)
		}
		if _, res := b.result(id + "e"); res.OK {
			t.Errorf("outcome %+v after beta's callback", res)
		}
		check(t, "another tenant")
	})
}

// TestSignInHidesEchoedClientSecret: a token endpoint that echoes the
// client secret into its error gets it onto no page, into no test
// sign-in outcome and into no log line.
func TestSignInHidesEchoedClientSecret(t *testing.T) {
	const id = "echo-id-0123456789abcdefABCDEF"
	e := newBreakEnv(t, "query")
	b := e.admin(t, "query")
	enc := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(e.clientSecret)))
	for i, status := range []int{http.StatusBadRequest, http.StatusInternalServerError} {
		desc := "you sent " + e.clientSecret + " and " + url.QueryEscape(e.clientSecret) + " " + enc
		if err := e.okta.QueueError(op.QueuedError{Endpoint: op.EndpointToken, Status: status, Error: "invalid_grant " + e.clientSecret, Description: desc}); err != nil {
			t.Fatal(err)
		}
		_, page := b.testSignIn(id+string(rune('a'+i)), "alice@example.com")
		_, res := b.result(id + string(rune('a'+i)))
		if !res.Done || res.OK {
			t.Fatalf("outcome %+v, want refused", res)
		}
		for what, text := range map[string]string{"page": page, "outcome": res.Message, "log": e.logs.String()} {
			if strings.Contains(text, e.clientSecret) || strings.Contains(text, enc) {
				t.Errorf("status %d: the %s holds the client secret:\n%s", status, what, text)
			}
		}
	}
}

// signIn is a real sign-in at /t/acme/login as user.
func (b *adminBrowser) signIn(t *testing.T, user string) (*http.Response, string) {
	t.Helper()
	resp, body := b.get(b.e.srv.URL + "/t/acme/login")
	if !strings.Contains(body, `name="password"`) {
		return resp, body
	}
	r, page := submitForm(t, b.c, resp.Request.URL, []byte(body), url.Values{"username": {user}, "password": {testPassword}})
	return r, string(page)
}

// TestTestSignInNotFramed: the popup's pages, the dialog and its APIs
// may not be framed (clickjacking) and send no referrer.
func TestTestSignInNotFramed(t *testing.T) {
	const id = "frame-id-0123456789abcdefABCDEF"
	e := newBreakEnv(t, "query")
	b := e.admin(t, "query")
	resp, _ := b.testSignIn(id, "alice@example.com")
	jar, _ := cookiejar.New(nil)
	anon := &adminBrowser{t: t, c: &http.Client{Jar: jar}, e: e.testSignInEnv}
	anonPage, _ := anon.get(e.srv.URL + "/t/acme/admin/test-sign-in?id=" + id)
	apiResult, _ := b.get(e.srv.URL + "/t/acme/admin/api/test-sign-in?id=" + id)
	apiActivity, _ := b.get(e.srv.URL + "/t/acme/admin/api/activity")
	apiSettings, _ := b.get(e.srv.URL + "/t/acme/admin/api/settings")
	dialog, _ := b.get(e.srv.URL + "/t/acme/admin/connect-okta")
	if got := dialog.Header.Get("Content-Security-Policy"); !strings.Contains(got, "script-src 'self' 'wasm-unsafe-eval'") || !strings.Contains(got, "connect-src 'self'") {
		t.Errorf("connect-okta: Content-Security-Policy %q does not keep scripts and fetches to the page's own origin", got)
	}
	for name, r := range map[string]*http.Response{"popup result": resp, "popup without admin session": anonPage, "api/test-sign-in": apiResult,
		"api/activity": apiActivity, "api/settings": apiSettings, "connect-okta": dialog} {
		if r.StatusCode >= 500 {
			t.Errorf("%s: %d", name, r.StatusCode)
		}
		if got := r.Header.Get("X-Frame-Options"); got != "DENY" {
			t.Errorf("%s: X-Frame-Options %q, want DENY", name, got)
		}
		if got := r.Header.Get("Content-Security-Policy"); !strings.Contains(got, "frame-ancestors 'none'") {
			t.Errorf("%s: Content-Security-Policy %q lacks frame-ancestors 'none'", name, got)
		}
		if got := r.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", name, got)
		}
	}
}

// adminCookie returns b's admin session cookie value for tenant.
func (b *adminBrowser) adminCookie(tenant string) string {
	u, _ := url.Parse(b.e.srv.URL + "/t/" + tenant + "/admin/")
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == login.AdminCookie {
			return c.Value
		}
	}
	return ""
}

// TestAdminAPIsAreTenantBound: tenant acme's admin cookie, sent by hand
// to tenant beta's activity and test sign-in APIs and popup, gets a 401,
// and beta's own admin cannot read acme's outcome.
func TestAdminAPIsAreTenantBound(t *testing.T) {
	const id = "tenant-id-0123456789abcdefABCDEF"
	e := newBreakEnv(t, "query")
	acme := e.admin(t, "query")
	if resp, _ := acme.testSignIn(id, "alice@example.com"); resp.StatusCode != http.StatusOK {
		t.Fatalf("test sign-in: %d", resp.StatusCode)
	}
	e.srv.Tenant(t, "beta")
	link, err := app.Tenants(e.srv.Config).AdminLink(context.Background(), "beta")
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	beta := &adminBrowser{t: t, c: &http.Client{Jar: jar}, e: e.testSignInEnv}
	beta.get(link)
	acmeCookie, betaCookie := acme.adminCookie("acme"), beta.adminCookie("beta")
	if acmeCookie == "" || betaCookie == "" {
		t.Fatal("no admin cookies")
	}
	send := func(cookie, path string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
		req.Header.Set("Cookie", login.AdminCookie+"="+cookie)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	for _, path := range []string{"/t/beta/admin/api/activity", "/t/beta/admin/api/test-sign-in?id=" + id, "/t/beta/admin/test-sign-in?id=" + id} {
		if code, body := send(acmeCookie, path); code != http.StatusUnauthorized {
			t.Errorf("acme's cookie at %s: %d %.200s, want 401", path, code, body)
		}
	}
	if code, body := send(betaCookie, "/t/beta/admin/api/test-sign-in?id="+id); code != http.StatusOK || !strings.Contains(body, `"done":false`) {
		t.Errorf("beta's admin reads acme's outcome: %d %s", code, body)
	}
	if code, body := send(betaCookie, "/t/acme/admin/api/test-sign-in?id="+id); code != http.StatusUnauthorized {
		t.Errorf("beta's cookie at acme: %d %s", code, body)
	}
	if code, body := send(acmeCookie, "/t/acme/admin/api/test-sign-in?id="+id); code != http.StatusOK || !strings.Contains(body, `"ok":true`) {
		t.Errorf("acme's own outcome: %d %s", code, body)
	}
}
