package op

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeDirectory is an in-memory Directory.
type fakeDirectory struct {
	users     map[string]User   // by id
	passwords map[string]string // by login
	inactive  map[string]bool   // by login
	clients   map[string]Client
}

func (d *fakeDirectory) Authenticate(_ context.Context, login, password string) (User, error) {
	for _, u := range d.users {
		if strings.EqualFold(u.Login, login) {
			if d.passwords[u.Login] != password {
				return User{}, errors.New("fake: wrong password")
			}
			if d.inactive[u.Login] {
				return User{}, errors.New("fake: user not active")
			}
			return u, nil
		}
	}
	return User{}, errors.New("fake: unknown user")
}

func (d *fakeDirectory) User(_ context.Context, id string) (User, bool) {
	u, ok := d.users[id]
	return u, ok
}

func (d *fakeDirectory) Client(_ context.Context, id string) (Client, bool) {
	c, ok := d.clients[id]
	return c, ok
}

const (
	testRedirect = "https://app.example/t/acme/oidc/callback"
	testLogout   = "https://app.example/t/acme/signed-out"
	alicePass    = "Correct-Horse-1"
)

func newFakeDirectory() *fakeDirectory {
	return &fakeDirectory{
		users: map[string]User{
			"00u1alice": {ID: "00u1alice", Login: "alice@example.com", Email: "alice@example.com", FirstName: "Alice", LastName: "Liddell", Groups: []string{"Engineering", "Everyone"}},
			"00u2bob":   {ID: "00u2bob", Login: "bob@example.com", Email: "bob@example.com", FirstName: "Bob", LastName: "Builder"},
		},
		passwords: map[string]string{"alice@example.com": alicePass, "bob@example.com": "bob-pass-1"},
		inactive:  map[string]bool{"bob@example.com": true},
		clients: map[string]Client{
			"0oaweb":    {ID: "0oaweb", Secret: "web secret+/=", RedirectURIs: []string{testRedirect}, PostLogoutRedirectURIs: []string{testLogout}, GrantTypes: []string{"authorization_code", "refresh_token"}},
			"0oapost":   {ID: "0oapost", Secret: "post-secret", RedirectURIs: []string{testRedirect}, AuthMethod: AuthMethodPost},
			"0oapublic": {ID: "0oapublic", RedirectURIs: []string{testRedirect}, AuthMethod: AuthMethodNone},
		},
	}
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a provider behind a real httptest server and a browser-like client.
type env struct {
	p     *Provider
	srv   *httptest.Server
	dir   *fakeDirectory
	clock *fakeClock
	// browser keeps cookies and never follows redirects.
	browser *http.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{dir: newFakeDirectory(), clock: &fakeClock{t: time.Now().Truncate(time.Second)}}
	var base string
	p, err := New(Config{
		BaseURL:     func() string { return base },
		OrgID:       "00o1org",
		AuthServers: []string{"aus1custom"},
		Directory:   e.dir,
		Now:         e.clock.Now,
		SigningKeys: testKeys(t),
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	mux := http.NewServeMux()
	p.Register(mux)
	e.p = p
	e.srv = httptest.NewServer(mux)
	base = e.srv.URL
	t.Cleanup(e.srv.Close)
	e.browser = e.newBrowser(t)
	return e
}

func (e *env) newBrowser(t testing.TB) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// testKeys reads the two fixture keys, so tests skip RSA key generation.
func testKeys(t testing.TB) []crypto.Signer {
	t.Helper()
	var out []crypto.Signer
	for _, name := range []string{"mockidp-op-1.pem", "mockidp-op-2.pem"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "keys", name))
		if err != nil {
			t.Fatalf("fixture key: %v", err)
		}
		blk, _ := pem.Decode(b)
		if blk == nil {
			t.Fatalf("fixture key %s: no PEM block", name)
		}
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			t.Fatalf("fixture key %s: %v", name, err)
		}
		out = append(out, k.(crypto.Signer))
	}
	return out
}

// pkce returns a verifier and its S256 challenge.
func pkce(seed string) (verifier, challenge string) {
	verifier = strings.Repeat(seed, 43/len(seed)+1)[:43]
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// authzQuery is a valid authorization request for the web client.
func authzQuery(challenge string) url.Values {
	return url.Values{
		"client_id":             {"0oaweb"},
		"redirect_uri":          {testRedirect},
		"response_type":         {"code"},
		"scope":                 {"openid profile email groups"},
		"state":                 {"st-123"},
		"nonce":                 {"n-456"},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
	}
}

type response struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, c *http.Client, req *http.Request) response {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

func (e *env) get(t *testing.T, path string, q url.Values) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+path+"?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, e.browser, req)
}

func (e *env) postForm(t *testing.T, c *http.Client, path string, form url.Values, header http.Header) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, vs := range header {
		req.Header[k] = vs
	}
	return do(t, c, req)
}

// submitLogin fills the login form in page and posts it.
func (e *env) submitLogin(t *testing.T, page response, username, password string) response {
	t.Helper()
	hiddenRE := regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	m := regexp.MustCompile(`<form method="post" action="([^"]*)">`).FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("no login form in page (status %d):\n%s", page.status, page.body)
	}
	form := url.Values{}
	for _, h := range hiddenRE.FindAllStringSubmatch(page.body, -1) {
		form.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	form.Set("username", username)
	form.Set("password", password)
	return e.postForm(t, e.browser, html.UnescapeString(m[1]), form, nil)
}

// callback parses a redirect to testRedirect and returns its query.
func callback(t *testing.T, r response) url.Values {
	t.Helper()
	if r.status != http.StatusFound {
		t.Fatalf("status %d, want 302; body:\n%s", r.status, r.body)
	}
	u, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != testRedirect {
		t.Fatalf("redirected to %s, want %s", got, testRedirect)
	}
	return u.Query()
}

// signIn runs authorize → form → credentials for server as and returns the
// code.
func (e *env) signIn(t *testing.T, as string, q url.Values) string {
	t.Helper()
	page := e.get(t, (&authServer{id: as}).endpoint("authorize"), q)
	if page.status != http.StatusOK && page.status != http.StatusFound {
		t.Fatalf("authorize status %d:\n%s", page.status, page.body)
	}
	if page.status == http.StatusOK { // no SSO session yet
		page = e.submitLogin(t, page, "alice@example.com", alicePass)
	}
	cb := callback(t, page)
	if cb.Get("state") != q.Get("state") {
		t.Fatalf("state %q, want %q", cb.Get("state"), q.Get("state"))
	}
	if cb.Get("code") == "" {
		t.Fatalf("no code in callback: %v", cb)
	}
	return cb.Get("code")
}

func basic(id, secret string) http.Header {
	raw := url.QueryEscape(id) + ":" + url.QueryEscape(secret)
	return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(raw))}}
}

// exchange redeems a code at as's token endpoint as the web client.
func (e *env) exchange(t *testing.T, as, code, verifier string) response {
	t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testRedirect}, "code_verifier": {verifier}}
	return e.postForm(t, http.DefaultClient, (&authServer{id: as}).endpoint("token"), form, basic("0oaweb", "web secret+/="))
}

func decodeTokens(t *testing.T, r response) tokenResponse {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("token status %d: %s", r.status, r.body)
	}
	var tr tokenResponse
	if err := json.Unmarshal([]byte(r.body), &tr); err != nil {
		t.Fatalf("token body %q: %v", r.body, err)
	}
	return tr
}

func decodeOAuthError(t *testing.T, r response) oauthError {
	t.Helper()
	var oe oauthError
	if err := json.Unmarshal([]byte(r.body), &oe); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	return oe
}
