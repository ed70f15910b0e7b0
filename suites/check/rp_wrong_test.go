//go:build !js

package check

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
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
	if _, err := rp.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err != nil {
		http.Error(w, "login failed", http.StatusBadRequest)
		return
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
}
