//go:build !js

package check

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/idpkit/idpkit/mockidp"
)

// naiveRP is the relying party of a hurried tutorial: golang.org/x/oauth2
// and go-oidc with every check switched off, a fixed state that is never
// compared, no nonce, no PKCE, and UserInfo read without comparing its
// sub. It only refuses what makes the code exchange fail.
type naiveRP struct {
	srv      *httptest.Server
	conf     *oauth2.Config
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	// noUserinfo makes it skip UserInfo, as OpenID Connect allows.
	noUserinfo atomic.Bool

	mu       sync.Mutex
	sessions map[string]string // cookie → sub
}

func startNaiveRP(t *testing.T, mock *mockidp.Server) (*naiveRP, string) {
	t.Helper()
	rp := &naiveRP{sessions: map[string]string{}}
	mux := http.NewServeMux()
	rp.srv = httptest.NewServer(mux)
	t.Cleanup(rp.srv.Close)
	app, err := mock.AddApp(mockidp.SeedApp{Label: "naive", Type: "oidc", RedirectURIs: []string{rp.srv.URL + "/callback"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rp.provider, err = oidc.NewProvider(ctx, mock.Issuer(""))
	if err != nil {
		t.Fatal(err)
	}
	rp.conf = &oauth2.Config{
		ClientID: app.OAuthClient.ClientID, ClientSecret: app.OAuthClient.ClientSecret,
		Endpoint: rp.provider.Endpoint(), RedirectURL: rp.srv.URL + "/callback",
		Scopes: []string{oidc.ScopeOpenID, "profile", "email"},
	}
	rp.verifier = rp.provider.Verifier(&oidc.Config{
		SkipClientIDCheck: true, SkipIssuerCheck: true, SkipExpiryCheck: true,
		InsecureSkipSignatureCheck: true, SupportedSigningAlgs: []string{"RS256", "HS256"},
	})
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, rp.conf.AuthCodeURL("state"), http.StatusFound)
	})
	mux.HandleFunc("GET /callback", rp.callback)
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		ok := false
		if c, err := r.Cookie("naive"); err == nil {
			rp.mu.Lock()
			_, ok = rp.sessions[c.Value]
			rp.mu.Unlock()
		}
		if !ok {
			http.Error(w, "not signed in", http.StatusUnauthorized)
			return
		}
		w.Write([]byte("signed in"))
	})
	return rp, app.OAuthClient.ClientID
}

func (rp *naiveRP) callback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if e := r.FormValue("error"); e != "" {
		http.Error(w, "login failed: "+e, http.StatusBadRequest)
		return
	}
	tok, err := rp.conf.Exchange(ctx, r.FormValue("code"))
	if err != nil {
		http.Error(w, "login failed", http.StatusBadRequest)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := rp.verifier.Verify(ctx, raw)
	if err != nil {
		http.Error(w, "login failed", http.StatusBadRequest)
		return
	}
	if !rp.noUserinfo.Load() {
		if _, err := rp.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err != nil {
			http.Error(w, "login failed", http.StatusBadRequest)
			return
		}
	}
	c := &http.Cookie{Name: "naive", Value: rand.Text(), Path: "/"}
	rp.mu.Lock()
	rp.sessions[c.Value] = idt.Subject
	rp.mu.Unlock()
	http.SetCookie(w, c)
	http.Redirect(w, r, "/me", http.StatusSeeOther)
}

// TestRPWrongRelyingParty runs the RP catalogue against the naive RP and
// asserts exactly which checks fail: every fault it should refuse but a
// token endpoint error, and the state, nonce, PKCE, browser-binding,
// reload (it sends the used code again) and refetch checks.
func TestRPWrongRelyingParty(t *testing.T) {
	mock := mockidp.NewServer()
	t.Cleanup(mock.Close)
	const login = "pat.naive@example.com"
	if _, err := mock.AddUser(mockidp.SeedUser{Login: login, FirstName: "Pat", LastName: "Naive", Password: "Naive-Passw0rd!"}); err != nil {
		t.Fatal(err)
	}
	rp, clientID := startNaiveRP(t, mock)
	if err := mock.Assign(mockidp.SeedAssignment{App: "naive", Users: []string{login}}); err != nil {
		t.Fatal(err)
	}
	target := &RPTarget{LoginURL: rp.srv.URL + "/login", SessionURL: rp.srv.URL + "/me",
		MockURL: mock.URL, MockToken: mock.APIToken, Login: login, ClientID: clientID}
	checks, err := RPChecks(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	results := RunRPAll(context.Background(), checks, target, nil)
	var failed, skipped []string
	for _, r := range results {
		if r.ID == "rp-sends-pkce-s256" {
			// No PKCE at all: said once per login, as such.
			if n := strings.Count(r.Error, "no code_challenge was sent"); n != 2 || strings.Contains(r.Error, "code_challenge_method is") {
				t.Errorf("%s says \"no code_challenge was sent\" %d times (want 2, once per login) or judges a code_challenge_method:\n%s", r.ID, n, r.Error)
			}
		}
		switch {
		case r.Skipped:
			skipped = append(skipped, r.ID)
		case !r.Passed:
			failed = append(failed, r.ID)
		}
		if testing.Verbose() && !r.Passed {
			t.Logf("%s: %s", r.ID, r.Error)
		}
	}
	want := []string{
		"rp-sends-state", "rp-sends-nonce", "rp-sends-pkce-s256", "rp-callback-other-browser", "rp-callback-reload", "rp-jwks-no-refetch-storm",
		"rp-refuses-invalid-signature", "rp-refuses-alg-none", "rp-refuses-hs256-client-secret", "rp-refuses-wrong-iss",
		"rp-refuses-wrong-aud", "rp-refuses-missing-aud", "rp-refuses-missing-sub", "rp-refuses-missing-iat",
		"rp-refuses-iat-future", "rp-refuses-expired", "rp-refuses-wrong-nonce", "rp-refuses-kid-unpublished",
		"rp-refuses-aud-array-no-azp", "rp-refuses-wrong-azp", "rp-refuses-wrong-at-hash", "rp-refuses-userinfo-sub-mismatch",
	}
	slices.Sort(want)
	slices.Sort(failed)
	if diff := cmp.Diff(want, failed); diff != "" {
		t.Errorf("failed checks (-want +got):\n%s", diff)
	}
	// It never fetches the JWKS, so the faults of its contents never
	// reach it; it uses response_mode=query.
	wantSkipped := []string{"rp-form-post-cookies", "rp-accepts-jwks-secp256k1-key", "rp-accepts-jwks-okp-key",
		"rp-accepts-jwks-unparseable-key", "rp-accepts-slow-keys"}
	slices.Sort(wantSkipped)
	slices.Sort(skipped)
	if diff := cmp.Diff(wantSkipped, skipped); diff != "" {
		t.Errorf("skipped checks (-want +got):\n%s", diff)
	}

	// An RP that never reads UserInfo never meets a UserInfo fault: the
	// check is skipped, not failed, although that RP signs the person in.
	rp.noUserinfo.Store(true)
	for _, c := range checks {
		if c.ID != "rp-refuses-userinfo-sub-mismatch" {
			continue
		}
		r := RunRP(context.Background(), c, target)
		if !r.Skipped || !strings.Contains(r.Error, "the RP does not call UserInfo") {
			t.Errorf("%s against an RP without UserInfo: %+v, want skipped because it does not call UserInfo", c.ID, r)
		}
	}
}

// rpStubEnv is a mock with one user and two OIDC apps, and the stub RP
// whose /login a test row writes.
type rpStubEnv struct {
	login         atomic.Pointer[http.HandlerFunc] // the RP's /login
	mock          *mockidp.Server
	rp, elsewhere *httptest.Server
	client, other string // the RP's client id, another app's
	restricted    string // an app with access "assigned" that nobody is assigned to
	callback      string // the RP's registered redirect URI
}

const rpStubLogin = "sam.stub@example.com"

func startRPStub(t *testing.T) *rpStubEnv {
	t.Helper()
	e := &rpStubEnv{mock: mockidp.NewServer()}
	t.Cleanup(e.mock.Close)
	mux := http.NewServeMux()
	e.rp = httptest.NewServer(mux)
	t.Cleanup(e.rp.Close)
	e.elsewhere = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html><body><h1>Another sign-in page</h1></body></html>"))
	}))
	t.Cleanup(e.elsewhere.Close)
	e.callback = e.rp.URL + "/callback"
	if _, err := e.mock.AddUser(mockidp.SeedUser{Login: rpStubLogin, FirstName: "Sam", LastName: "Stub", Password: "Stub-Passw0rd!"}); err != nil {
		t.Fatal(err)
	}
	for i, label := range []string{"stub", "other"} {
		app, err := e.mock.AddApp(mockidp.SeedApp{Label: label, Type: "oidc", RedirectURIs: []string{e.callback}})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.mock.Assign(mockidp.SeedAssignment{App: label, Users: []string{rpStubLogin}}); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			e.client = app.OAuthClient.ClientID
		} else {
			e.other = app.OAuthClient.ClientID
		}
	}
	app, err := e.mock.AddApp(mockidp.SeedApp{Label: "restricted", Type: "oidc", RedirectURIs: []string{e.callback}, Access: mockidp.AccessAssigned})
	if err != nil {
		t.Fatal(err)
	}
	e.restricted = app.OAuthClient.ClientID
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) { (*e.login.Load())(w, r) })
	mux.HandleFunc("GET /start", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	return e
}

// authorize is an authorization request of the mock's org server.
func (e *rpStubEnv) authorize(client, redirectURI string) string {
	return e.mock.URL + "/oauth2/v1/authorize?" + url.Values{"client_id": {client}, "redirect_uri": {redirectURI},
		"response_type": {"code"}, "scope": {"openid"}, "state": {"st-0123456789abcdef0123456789"}}.Encode()
}

func (e *rpStubEnv) target() *RPTarget {
	return &RPTarget{LoginURL: e.rp.URL + "/login", MockURL: e.mock.URL, MockToken: e.mock.APIToken, Login: rpStubLogin, ClientID: e.client}
}

// redirectTo answers /login with a redirect to the URL to returns.
func redirectTo(to func(e *rpStubEnv) string) func(e *rpStubEnv) http.HandlerFunc {
	return func(e *rpStubEnv) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to(e), http.StatusFound) }
	}
}

// TestPreflightRP asserts that PreflightRP says in one line what keeps
// every RP check from running. The rows share one mock: those that move
// its clock come last.
func TestPreflightRP(t *testing.T) {
	e := startRPStub(t)
	good := redirectTo(func(e *rpStubEnv) string { return e.authorize(e.client, e.callback) })
	for _, tc := range []struct {
		name   string
		login  func(e *rpStubEnv) http.HandlerFunc
		target func(e *rpStubEnv, t *RPTarget)
		want   []string // substrings of the error; none: no error
	}{
		{name: "a login URL that leads to the mock's authorize endpoint", login: good},
		{name: "no client id given: any client", login: redirectTo(func(e *rpStubEnv) string { return e.authorize(e.other, e.callback) }),
			target: func(e *rpStubEnv, t *RPTarget) { t.ClientID = "" }},
		{name: "a 404", login: func(*rpStubEnv) http.HandlerFunc { return http.NotFound },
			want: []string{"check: the RP's login URL answered GET ", "/login → 404 text/plain", "not a redirect to the mock's authorize endpoint"}},
		{name: "a page", login: func(*rpStubEnv) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.Write([]byte("<html><body><a href=/start>Sign in with Okta</a></body></html>"))
			}
		}, want: []string{`/login → 200 text/html "Sign in with Okta", not a redirect to the mock's authorize endpoint (http://127.0.0.1:`}},
		{name: "a redirect to a page that is not found", login: redirectTo(func(e *rpStubEnv) string { return "/start" }),
			want: []string{"check: the RP's login URL led the browser through GET ", "/login → 302, then GET ", "/start → 404", "never to the mock's authorize endpoint"}},
		{name: "a redirect to another provider's authorize endpoint", login: redirectTo(func(e *rpStubEnv) string { return e.elsewhere.URL + "/oauth2/v1/authorize?client_id=x" }),
			want: []string{"sent the browser to the authorize endpoint " + "", "/oauth2/v1/authorize, which is not the mock's", "the RP's issuer must be the mock's"}},
		{name: "a login URL that does not answer", login: good, target: func(e *rpStubEnv, t *RPTarget) { t.LoginURL = "http://127.0.0.1:1/login" },
			want: []string{"check: the RP's login URL http://127.0.0.1:1/login does not answer: "}},
		{name: "an authorization request for another client", login: redirectTo(func(e *rpStubEnv) string { return e.authorize(e.other, e.callback) }),
			want: []string{"check: the RP's authorization request is for client_id ", "not the client id the checks sign in for (", ", --client-id)"}},
		{name: "a redirect URI the app does not list", login: redirectTo(func(e *rpStubEnv) string { return e.authorize(e.client, e.rp.URL+"/elsewhere") }),
			want: []string{"check: the mock refused the RP's authorization request", "/elsewhere\" one of the app's sign-in redirect URIs?): GET ", "→ 400"}},
		{name: "a user not assigned to the RP's app", login: redirectTo(func(e *rpStubEnv) string { return e.authorize(e.restricted, e.callback) }),
			target: func(e *rpStubEnv, t *RPTarget) { t.ClientID = e.restricted },
			want: []string{`check: the mock answered the RP's authorization request for "sam.stub@example.com" with error access_denied (User is not assigned to the client application.)`,
				`assign that user to the RP's app at the mock (POST /__mock/assignments {"app":"`, `"users":["sam.stub@example.com"]}), or give the app access: everyone`}},
		{name: "an unknown user", login: good, target: func(e *rpStubEnv, t *RPTarget) { t.Login = "nobody@example.com" },
			want: []string{`check: the mock cannot sign in "nobody@example.com"`}},
		{name: "a mock whose clock is a minute ahead", login: good, target: func(e *rpStubEnv, t *RPTarget) { e.mock.FastForward(time.Minute) }},
		{name: "a mock whose clock is ahead", login: good, target: func(e *rpStubEnv, t *RPTarget) { e.mock.FastForward(25 * time.Hour) },
			want: []string{"check: the mock's clock is 25h1m ahead of this machine's", "restart the mock, or reset its clock with POST /__mock/clock {\"reset\":true}"}},
		{name: "a test that moves both clocks", login: good, target: func(e *rpStubEnv, t *RPTarget) {
			e.mock.FastForward(25 * time.Hour)
			t.Advance = func(time.Duration) {}
		}},
		{name: "nothing given", login: good, target: func(e *rpStubEnv, t *RPTarget) { *t = RPTarget{} },
			want: []string{"check: the checks need the RP's login URL, the mock's URL and the login of a mock user the RP accepts"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.login(e)
			e.login.Store(&h)
			target := e.target()
			if tc.target != nil {
				tc.target(e, target)
			}
			err := PreflightRP(context.Background(), target)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("PreflightRP: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("PreflightRP passed, want %q", tc.want)
			}
			if testing.Verbose() {
				t.Log(err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("the error is more than one line:\n%v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// cacheKeys is a JWKS cache as the jose npm library keeps one: fetched on
// first use; a token whose kid it lacks makes it fetch again, but not
// within cooldown of its last fetch; a token without kid needs exactly
// one key in the cache (with several, it is refused: jose's
// ERR_JWKS_MULTIPLE_MATCHING_KEYS), without a fetch.
type cacheKeys struct {
	url      string
	now      func() time.Time
	cooldown time.Duration

	mu      sync.Mutex
	keys    []jose.JSONWebKey
	fetched time.Time
}

func (k *cacheKeys) fetch(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, "GET", k.url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return err
	}
	k.keys, k.fetched = nil, k.now()
	for _, key := range set.Keys {
		if _, ok := key.Key.(*rsa.PublicKey); ok && key.Use != "enc" {
			k.keys = append(k.keys, key)
		}
	}
	return nil
}

func (k *cacheKeys) match(kid string) []jose.JSONWebKey {
	var out []jose.JSONWebKey
	for _, key := range k.keys {
		if kid == "" || key.KeyID == kid {
			out = append(out, key)
		}
	}
	return out
}

// VerifySignature implements oidc.KeySet.
func (k *cacheKeys) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, err
	}
	kid := jws.Signatures[0].Header.KeyID
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.keys == nil {
		if err := k.fetch(ctx); err != nil {
			return nil, err
		}
	}
	keys := k.match(kid)
	if len(keys) == 0 && kid != "" && k.now().Sub(k.fetched) >= k.cooldown {
		if err := k.fetch(ctx); err != nil {
			return nil, err
		}
		keys = k.match(kid)
	}
	switch {
	case len(keys) == 0:
		return nil, errors.New("no applicable key found in the JSON Web Key Set")
	case len(keys) > 1:
		return nil, errors.New("multiple matching keys found in the JSON Web Key Set")
	}
	return jws.Verify(keys[0].Key)
}

// cacheRP is a relying party that verifies ID tokens with a cacheKeys on
// a clock of its own, which the test moves.
type cacheRP struct {
	srv      *httptest.Server
	conf     *oauth2.Config
	verifier *oidc.IDTokenVerifier
	offset   atomic.Int64
	// refused is the status of a refused login's page.
	refused int

	mu       sync.Mutex
	sessions map[string]bool
}

func (rp *cacheRP) now() time.Time { return time.Now().Add(time.Duration(rp.offset.Load())) }

// startCacheRP starts a cacheRP with an OIDC app of its own at mock.
func startCacheRP(t *testing.T, mock *mockidp.Server, label, login string, cooldown time.Duration, refused int) (*cacheRP, string) {
	t.Helper()
	rp := &cacheRP{sessions: map[string]bool{}, refused: refused}
	mux := http.NewServeMux()
	rp.srv = httptest.NewServer(mux)
	t.Cleanup(rp.srv.Close)
	app, err := mock.AddApp(mockidp.SeedApp{Label: label, Type: "oidc", RedirectURIs: []string{rp.srv.URL + "/callback"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := mock.Assign(mockidp.SeedAssignment{App: label, Users: []string{login}}); err != nil {
		t.Fatal(err)
	}
	provider, err := oidc.NewProvider(context.Background(), mock.Issuer(""))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		JWKS string `json:"jwks_uri"`
	}
	if err := provider.Claims(&meta); err != nil {
		t.Fatal(err)
	}
	rp.conf = &oauth2.Config{ClientID: app.OAuthClient.ClientID, ClientSecret: app.OAuthClient.ClientSecret,
		Endpoint: provider.Endpoint(), RedirectURL: rp.srv.URL + "/callback", Scopes: []string{oidc.ScopeOpenID}}
	keys := &cacheKeys{url: meta.JWKS, now: rp.now, cooldown: cooldown}
	rp.verifier = oidc.NewVerifier(mock.Issuer(""), keys, &oidc.Config{ClientID: app.OAuthClient.ClientID, Now: rp.now})
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, rp.conf.AuthCodeURL(rand.Text()), http.StatusFound)
	})
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		tok, err := rp.conf.Exchange(r.Context(), r.FormValue("code"))
		if err != nil {
			http.Error(w, "login failed", http.StatusBadRequest)
			return
		}
		raw, _ := tok.Extra("id_token").(string)
		if _, err := rp.verifier.Verify(r.Context(), raw); err != nil {
			http.Error(w, "login failed: "+err.Error(), rp.refused)
			return
		}
		c := &http.Cookie{Name: "cache", Value: rand.Text(), Path: "/"}
		rp.mu.Lock()
		rp.sessions[c.Value] = true
		rp.mu.Unlock()
		http.SetCookie(w, c)
		http.Redirect(w, r, "/me", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("cache")
		rp.mu.Lock()
		ok := err == nil && rp.sessions[c.Value]
		rp.mu.Unlock()
		if !ok {
			http.Error(w, "not signed in", http.StatusUnauthorized)
			return
		}
		w.Write([]byte("signed in"))
	})
	return rp, app.OAuthClient.ClientID
}

// rpCheckByID returns the catalogue's check id.
func rpCheckByID(t *testing.T, id string) RPCheck {
	t.Helper()
	i := slices.IndexFunc(RP(), func(c RPCheck) bool { return c.ID == id })
	if i < 0 {
		t.Fatalf("no check %s", id)
	}
	return RP()[i]
}

// TestRPKeyCache runs the key rotation and kid-absent checks against an RP
// whose JWKS cache behaves as jose's: a refetch cooldown, several cached
// keys refused for a token without kid. A cooldown of up to 30 s is waited
// out once (the clocks moved with Advance, or the RP's alone standing in
// for real time); a longer one fails with a hint that names the check.
func TestRPKeyCache(t *testing.T) {
	const (
		rotation = "rp-accepts-key-rotation-op-sign-key"
		single   = "rp-accepts-kid-absent-single-jwks"
	)
	for _, tc := range []struct {
		name     string
		check    string
		cooldown time.Duration
		refused  int  // the status of the RP's refusal page; 0 is 400
		cold     bool // no login before the check: the RP has not fetched the JWKS
		advance  bool // RPTarget.Advance moves the RP's clock
		want     string
		moves    []time.Duration // RPTarget.Advance's moves, or the waits
		errs     []string        // substrings of the result's error
	}{
		{name: "rotation, a 30 s cooldown waited out", check: rotation, cooldown: 30 * time.Second,
			want: "passed", moves: []time.Duration{rpCooldown}, errs: nil},
		{name: "rotation, a 30 s cooldown, clocks moved past it before the login", check: rotation, cooldown: 30 * time.Second, advance: true,
			want: "passed", moves: []time.Duration{rpRefetchGap}},
		{name: "rotation, a cooldown the clocks' move and the wait pass", check: rotation, cooldown: rpRefetchGap + 20*time.Second, advance: true,
			want: "passed", moves: []time.Duration{rpRefetchGap, rpCooldown}},
		{name: "rotation, an hour's cooldown", check: rotation, cooldown: time.Hour,
			want: "failed", moves: []time.Duration{rpCooldown}, errs: []string{
				"the check let 31s pass (a refetch cooldown of up to 30 s is allowed) and signed in again with another new key",
				"login 2, after the cooldown", "also 31s after its first refusal", "run it alone with idpkit conform rp --check rp-accepts-key-rotation-op-sign-key"}},
		{name: "kid absent, a cold cache: the single key", check: single, cooldown: 30 * time.Second, cold: true, want: "passed"},
		{name: "kid absent, several keys cached", check: single, cooldown: 30 * time.Second,
			want: "skipped", errs: []string{"the kid-absent-multiple-jwks case, where refusing is right", "right after the RP starts (idpkit conform rp --check rp-accepts-kid-absent-single-jwks)"}},
		{name: "kid absent, several keys cached, a server error", check: single, cooldown: 30 * time.Second, refused: 500,
			want: "failed", errs: []string{"the RP answered the person with 500; it did not fetch the JWKS during the login, so it checked the token without kid against the several keys it had cached (the kid-absent-multiple-jwks case)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mock := mockidp.NewServer()
			t.Cleanup(mock.Close)
			const login = "kim.cache@example.com"
			if _, err := mock.AddUser(mockidp.SeedUser{Login: login, FirstName: "Kim", LastName: "Cache", Password: "Cache-Passw0rd!"}); err != nil {
				t.Fatal(err)
			}
			refused := tc.refused
			if refused == 0 {
				refused = http.StatusBadRequest
			}
			rp, clientID := startCacheRP(t, mock, "cache", login, tc.cooldown, refused)
			var moves []time.Duration
			target := &RPTarget{LoginURL: rp.srv.URL + "/login", SessionURL: rp.srv.URL + "/me",
				MockURL: mock.URL, MockToken: mock.APIToken, Login: login, ClientID: clientID,
				wait: func(_ context.Context, d time.Duration) error {
					moves = append(moves, d)
					rp.offset.Add(int64(d))
					return nil
				}}
			if tc.advance {
				target.Advance = func(d time.Duration) {
					moves = append(moves, d)
					rp.offset.Add(int64(d))
				}
			}
			ctx := context.Background()
			if !tc.cold {
				if r := RunRP(ctx, rpCheckByID(t, "rp-accepts-valid-login"), target); !r.Passed {
					t.Fatalf("the login before the check: %s", r.Error)
				}
			}
			r := RunRP(ctx, rpCheckByID(t, tc.check), target)
			if testing.Verbose() {
				t.Logf("%s: %s", r.Status(), r.Error)
			}
			if diff := cmp.Diff([]any{tc.want, tc.moves}, []any{r.Status(), moves}); diff != "" {
				t.Errorf("status and clock moves (-want +got):\n%s\n%s", diff, r.Error)
			}
			for _, e := range tc.errs {
				if !strings.Contains(r.Error, e) {
					t.Errorf("the result lacks %q:\n%s", e, r.Error)
				}
			}
		})
	}
}

// TestRPLoginsThatMissTheRP asserts that a check whose logins never bring
// an ID token to the RP fails, saying why: a login URL that answers 404,
// an authorization request for another client than ClientID.
func TestRPLoginsThatMissTheRP(t *testing.T) {
	e := startRPStub(t)
	notFound := func(*rpStubEnv) http.HandlerFunc { return http.NotFound }
	otherClient := redirectTo(func(e *rpStubEnv) string { return e.authorize(e.other, e.callback) })
	for _, tc := range []struct {
		name, check string
		login       func(e *rpStubEnv) http.HandlerFunc
		errs        []string
	}{
		{"the refetch storm check, a 404", "rp-jwks-no-refetch-storm", notFound, []string{
			"login 1 got no ID token to the RP, so no token signed by an unpublished key was put to it: the login URL did not lead the browser to the mock's authorize endpoint (it ended with 404 at "}},
		{"the refetch storm check, another client", "rp-jwks-no-refetch-storm", otherClient, []string{
			"login 1 got no ID token to the RP, so no token signed by an unpublished key was put to it: the RP's authorization request is for client_id "}},
		{"a valid login, another client", "rp-accepts-valid-login", otherClient, []string{
			"login 1: the RP's authorization request is for client_id ", "(" + e.client + ", --client-id): the mock signs the queued user in only for that client"}},
		{"a fault, another client", "rp-refuses-alg-none", otherClient, []string{
			"the RP's authorization request is for client_id ", "so the RP never saw fault alg-none"}},
		{"a fault, a 404", "rp-refuses-alg-none", notFound, []string{
			"the login URL did not lead the browser to the mock's authorize endpoint (it ended with 404 at ", "so the RP never saw fault alg-none"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.login(e)
			e.login.Store(&h)
			r := RunRP(context.Background(), rpCheckByID(t, tc.check), e.target())
			if r.Status() != "failed" {
				t.Fatalf("%s: %s, want failed\n%s", tc.check, r.Status(), r.Error)
			}
			for _, s := range tc.errs {
				if !strings.Contains(r.Error, s) {
					t.Errorf("the result lacks %q:\n%s", s, r.Error)
				}
			}
		})
	}
}
