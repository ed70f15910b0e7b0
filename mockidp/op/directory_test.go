package op

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// UserByLogin completes fakeDirectory (helpers_test.go) as a Directory:
// an ACTIVE user by login, case-insensitively.
func (d *fakeDirectory) UserByLogin(_ context.Context, login string) (User, bool) {
	for _, u := range d.users {
		if strings.EqualFold(u.Login, login) && !d.inactive[u.Login] {
			return u, true
		}
	}
	return User{}, false
}

// Clients and a user the tests of controls, CORS, ES256, rotation and the
// client credentials grant add to the fake directory.
const (
	ctlESClient     = "0oaes256"
	ctlServiceID    = "0oaservice"
	ctlServiceKey   = "service-secret"
	ctlPublicSvc    = "0oapublicsvc"
	ctlCarolID      = "00u3carol"
	ctlCarolLogin   = "carol@example.com"
	ctlTrustedOrig  = "https://spa.example"
	ctlTrustedOrig2 = "http://localhost:5173"
)

// ctlEnv is newEnv (helpers_test.go) with more directory entries and a
// config the test may change before New.
func ctlEnv(t testing.TB, mutate func(*Config)) *env {
	t.Helper()
	e := &env{dir: newFakeDirectory(), clock: &fakeClock{t: time.Now().Truncate(time.Second)}}
	e.dir.users[ctlCarolID] = User{ID: ctlCarolID, Login: ctlCarolLogin, Email: ctlCarolLogin, FirstName: "Carol", LastName: "Danvers"}
	e.dir.passwords[ctlCarolLogin] = "carol-pass-1"
	e.dir.clients[ctlESClient] = Client{ID: ctlESClient, Secret: "es secret", RedirectURIs: []string{testRedirect},
		PostLogoutRedirectURIs: []string{testLogout}, SigningAlg: AlgES256}
	e.dir.clients[ctlServiceID] = Client{ID: ctlServiceID, Secret: ctlServiceKey, GrantTypes: []string{"client_credentials"}}
	e.dir.clients[ctlPublicSvc] = Client{ID: ctlPublicSvc, AuthMethod: AuthMethodNone, RedirectURIs: []string{testRedirect},
		GrantTypes: []string{"authorization_code", "client_credentials"}}
	var base string
	cfg := Config{
		BaseURL:     func() string { return base },
		OrgID:       "00o1org",
		AuthServers: []string{"aus1custom"},
		Directory:   e.dir,
		Now:         e.clock.Now,
		SigningKeys: testKeys(t),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	p, err := New(cfg)
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

// ctlPayload decodes a JWT's claims without verifying it.
func ctlPayload(t *testing.T, raw string) map[string]any {
	t.Helper()
	return ctlPart(t, raw, 1)
}

// ctlHeader decodes a JWT's protected header.
func ctlHeader(t *testing.T, raw string) map[string]any {
	t.Helper()
	return ctlPart(t, raw, 0)
}

func ctlPart(t *testing.T, raw string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %.40q", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatalf("JWS part %d: %v", i, err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("JWS part %d: %v", i, err)
	}
	return m
}

// ctlRequest sends one request with headers and returns the response.
func (e *env) ctlRequest(t *testing.T, c *http.Client, method, path, body string, header http.Header) response {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, vs := range header {
		req.Header[http.CanonicalHeaderKey(k)] = vs
	}
	return do(t, c, req)
}
