package interop

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/idpkit/idpkit/mockidp"
	"github.com/idpkit/idpkit/mockidp/op"
)

// rpResult is what rp.mjs prints.
type rpResult struct {
	Node      string `json:"node"`
	Discovery struct {
		Issuer                string `json:"issuer"`
		AuthorizationEndpoint string `json:"authorization_endpoint"`
		TokenEndpoint         string `json:"token_endpoint"`
		UserinfoEndpoint      string `json:"userinfo_endpoint"`
		EndSessionEndpoint    string `json:"end_session_endpoint"`
	} `json:"discovery"`
	Authorize struct {
		Params map[string]string `json:"params"`
	} `json:"authorize"`
	LoginForm struct {
		Status int      `json:"status"`
		Method string   `json:"method"`
		Action string   `json:"action"`
		Fields []string `json:"fields"`
	} `json:"loginForm"`
	Callback struct {
		Status        int    `json:"status"`
		Target        string `json:"target"`
		HasCode       bool   `json:"hasCode"`
		StateMatches  bool   `json:"stateMatches"`
		Error         string `json:"error"`
		SessionCookie bool   `json:"sessionCookie"`
	} `json:"callback"`
	Tokens  rpTokens `json:"tokens"`
	Refresh rpTokens `json:"refresh"`
	// UserInfo is the UserInfo response as openid-client returned it.
	UserInfo map[string]any `json:"userinfo"`
	Logout   struct {
		Hops []struct {
			Status int    `json:"status"`
			URL    string `json:"url"`
		} `json:"hops"`
		Landed        string `json:"landed"`
		Status        int    `json:"status"`
		StateMatches  bool   `json:"stateMatches"`
		SessionCookie bool   `json:"sessionCookie"`
	} `json:"logout"`
	AfterLogout struct {
		Status     int  `json:"status"`
		SignInForm bool `json:"signInForm"`
	} `json:"afterLogout"`
	Error *struct {
		Step    string `json:"step"`
		Name    string `json:"name"`
		Code    string `json:"code"`
		Message string `json:"message"`
		Cause   any    `json:"cause"`
	} `json:"error"`
}

// rpTokens is a token response; tokens are SHA-256 fingerprints.
type rpTokens struct {
	TokenType    string         `json:"token_type"`
	Scope        string         `json:"scope"`
	ExpiresIn    int            `json:"expires_in"`
	AccessToken  string         `json:"access_token"`
	RefreshToken string         `json:"refresh_token"`
	IDToken      string         `json:"id_token"`
	Claims       map[string]any `json:"claims"`
}

// landing is the loopback client: it records what arrives at the
// redirect URIs (rp.mjs follows only the post-logout redirect).
type landing struct {
	mu   sync.Mutex
	hits []string // path?query
}

func (l *landing) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	l.hits = append(l.hits, r.URL.RequestURI())
	l.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

func (l *landing) seen() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.hits...)
}

// mockRP is a mock Okta with one user and one OIDC web app whose redirect
// URIs are on a loopback server of the test.
type mockRP struct {
	srv           *mockidp.Server
	land          *landing
	redirectURI   string
	postLogoutURI string
	userID        string
}

const (
	rpLogin    = "ada@example.com"
	rpPassword = "Correct-Horse-9"
	rpClientID = "0oainterop"
	// The secret has characters that client_secret_basic must URL-encode
	// (RFC 6749 §2.3.1).
	rpSecret = "interop-secret-with+plus/and=equals"
)

func newMockRP(t *testing.T) *mockRP {
	t.Helper()
	land := &landing{}
	client := httptest.NewServer(land)
	t.Cleanup(client.Close)
	m := &mockRP{land: land, redirectURI: client.URL + "/callback", postLogoutURI: client.URL + "/signed-out"}
	seed := &mockidp.Seed{
		Users: []mockidp.SeedUser{{Login: rpLogin, FirstName: "Ada", LastName: "Lovelace", Password: rpPassword}},
		Apps: []mockidp.SeedApp{{
			Label: "Interop RP", Type: mockidp.SeedAppOIDC,
			ClientID: rpClientID, ClientSecret: rpSecret,
			RedirectURIs: []string{m.redirectURI}, PostLogoutRedirectURIs: []string{m.postLogoutURI},
			TokenEndpointAuthMethod: "client_secret_basic", GrantTypes: []string{"authorization_code", "refresh_token"},
		}},
		Assignments: []mockidp.SeedAssignment{{App: "Interop RP", Users: []string{rpLogin}}},
	}
	m.srv = mockidp.NewServer(mockidp.WithSeed(seed))
	t.Cleanup(m.srv.Close)
	m.userID = m.srv.Seeded().Users[rpLogin]
	return m
}

// run runs rp.mjs against one of the mock's authorization servers.
func (m *mockRP) run(t *testing.T, p *peers, issuer string) (got rpResult, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stderr, err = p.runJSON(ctx, t, "rp.mjs", map[string]string{
		"issuer": issuer, "clientId": rpClientID, "clientSecret": rpSecret,
		"redirectUri": m.redirectURI, "postLogoutRedirectUri": m.postLogoutURI,
		"username": rpLogin, "password": rpPassword,
	}, &got)
	return got, stderr, err
}

// TestOpenIDClientAgainstMock signs in with openid-client against the mock
// Okta's org server and default custom server.
func TestOpenIDClientAgainstMock(t *testing.T) {
	p := needPeers(t)
	t.Logf("openid-client %s on node %s", p.pinned["openid-client"], p.nodeVersion)
	m := newMockRP(t)
	srv, land, redirectURI, postLogoutURI, userID := m.srv, m.land, m.redirectURI, m.postLogoutURI, m.userID
	const login = rpLogin

	for _, tc := range []struct{ name, authServer string }{
		{"org server", ""},
		{"default custom server", "default"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			issuer := srv.Issuer(tc.authServer)
			got, stderr, err := m.run(t, p, issuer)
			if got.Error != nil {
				t.Fatalf("openid-client failed at step %q: %s: %s (code %q, cause %v)\nstderr:\n%s",
					got.Error.Step, got.Error.Name, got.Error.Message, got.Error.Code, got.Error.Cause, stderr)
			}
			if err != nil {
				t.Fatalf("rp.mjs: %v\nstderr:\n%s", err, stderr)
			}
			prefix := "/oauth2/v1/"
			if tc.authServer != "" {
				prefix = "/oauth2/" + tc.authServer + "/v1/"
			}
			base := srv.URL

			t.Run("discovery", func(t *testing.T) {
				if diff := cmp.Diff(issuer, got.Discovery.Issuer); diff != "" {
					t.Errorf("issuer (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(base+prefix+"logout", got.Discovery.EndSessionEndpoint); diff != "" {
					t.Errorf("end_session_endpoint (-want +got):\n%s", diff)
				}
			})
			t.Run("authorization request", func(t *testing.T) {
				ps := got.Authorize.Params
				for k, want := range map[string]string{
					"response_type": "code", "client_id": rpClientID, "redirect_uri": redirectURI,
					"code_challenge_method": "S256", "scope": "openid profile email offline_access",
				} {
					if ps[k] != want {
						t.Errorf("%s = %q, want %q", k, ps[k], want)
					}
				}
				for _, k := range []string{"state", "nonce", "code_challenge"} {
					if ps[k] == "" {
						t.Errorf("the authorization URL has no %s", k)
					}
				}
			})
			t.Run("sign-in form", func(t *testing.T) {
				f := got.LoginForm
				if f.Status != http.StatusOK || f.Method != http.MethodPost || f.Action != base+prefix+"authorize" {
					t.Errorf("form: status %d, %s %s; want 200, POST %s", f.Status, f.Method, f.Action, base+prefix+"authorize")
				}
				for _, k := range []string{"client_id", "redirect_uri", "state", "nonce", "code_challenge", "username", "password"} {
					if !contains(f.Fields, k) {
						t.Errorf("the sign-in form has no field %q (fields %v)", k, f.Fields)
					}
				}
			})
			t.Run("authorization response", func(t *testing.T) {
				c := got.Callback
				if c.Status != http.StatusFound || c.Target != redirectURI || !c.HasCode || !c.StateMatches || c.Error != "" {
					t.Errorf("callback: %+v; want a 302 to %s with a code and the state", c, redirectURI)
				}
				if !c.SessionCookie {
					t.Error("the sign-in set no SSO session cookie")
				}
			})
			t.Run("ID token", func(t *testing.T) {
				c := got.Tokens.Claims
				want := map[string]any{
					"iss": issuer, "aud": rpClientID, "sub": userID, "nonce": got.Authorize.Params["nonce"],
					"email": login, "preferred_username": login, "name": "Ada Lovelace", "ver": float64(1),
				}
				gotSome := map[string]any{}
				for k := range want {
					gotSome[k] = c[k]
				}
				if diff := cmp.Diff(want, gotSome); diff != "" {
					t.Errorf("claims (-want +got):\n%s", diff)
				}
				for _, k := range []string{"iat", "exp", "auth_time", "at_hash", "jti", "amr"} {
					if _, ok := c[k]; !ok {
						t.Errorf("the ID token has no %s claim", k)
					}
				}
				if jti, _ := c["jti"].(string); !strings.HasPrefix(jti, "ID.") {
					t.Errorf("jti = %q, want an ID.… value", jti)
				}
				if !strings.EqualFold(got.Tokens.TokenType, "bearer") || got.Tokens.RefreshToken == "" || got.Tokens.ExpiresIn <= 0 {
					t.Errorf("token response: type %q, refresh token %v, expires_in %d", got.Tokens.TokenType, got.Tokens.RefreshToken != "", got.Tokens.ExpiresIn)
				}
			})
			t.Run("refresh", func(t *testing.T) {
				r := got.Refresh
				if r.AccessToken == "" || r.AccessToken == got.Tokens.AccessToken {
					t.Errorf("the refreshed access token (%q) must differ from the first (%q)", r.AccessToken, got.Tokens.AccessToken)
				}
				if r.IDToken != "" {
					if sub := r.Claims["sub"]; sub != userID {
						t.Errorf("refreshed ID token sub = %v, want %s", sub, userID)
					}
				}
			})
			t.Run("userinfo", func(t *testing.T) {
				if diff := cmp.Diff(got.Tokens.Claims["sub"], got.UserInfo["sub"]); diff != "" {
					t.Errorf("userinfo sub (-id token +userinfo):\n%s", diff)
				}
				if got.UserInfo["email"] != login {
					t.Errorf("userinfo email = %v, want %s", got.UserInfo["email"], login)
				}
			})
			t.Run("logout", func(t *testing.T) {
				l := got.Logout
				if len(l.Hops) < 2 || l.Hops[0].URL != base+prefix+"logout" || l.Hops[0].Status != http.StatusFound {
					t.Errorf("logout hops %+v; want a 302 from %s", l.Hops, base+prefix+"logout")
				}
				if l.Landed != postLogoutURI || l.Status != http.StatusOK || !l.StateMatches {
					t.Errorf("logout landed on %s (HTTP %d, state matches %v); want %s with the state", l.Landed, l.Status, l.StateMatches, postLogoutURI)
				}
				if l.SessionCookie {
					t.Error("the SSO session cookie is still set after logout")
				}
				if a := got.AfterLogout; a.Status != http.StatusOK || !a.SignInForm {
					t.Errorf("after logout the authorization request answered %d (sign-in form %v); want the sign-in form again", a.Status, a.SignInForm)
				}
			})
		})
	}
	var landed []string
	for _, h := range land.seen() {
		landed = append(landed, strings.SplitN(h, "?", 2)[0])
	}
	if diff := cmp.Diff([]string{"/signed-out", "/signed-out"}, landed); diff != "" {
		t.Errorf("requests at the client (-want +got):\n%s", diff)
	}
}

// openid-client's verdicts that differ from the catalogue's Expect, or
// pin where the refusal happens. Every other fault is expected to do what
// op.FaultInfo.Expect says, refused when the code is redeemed.
var openidClientVerdicts = map[string]struct{ outcome, step, why string }{
	"iat-future": {"accept", "", "oauth4webapi checks that iat is a number and not over an hour old, never that it is not in the future " +
		"(Core §3.1.3.7 item 10 leaves how far from now to the client)"},
	"wrong-azp": {"accept", "", "oauth4webapi compares azp only when aud has several values (Core §3.1.3.7 items 4–5)"},
	"wrong-at-hash": {"accept", "", "oauth4webapi does not check at_hash for an ID token from the token endpoint " +
		"(Core §3.1.3.8: at_hash is optional in the code flow)"},
	"kid-absent-multiple-jwks": {"refuse", "code-grant", "with several keys and no kid it refuses to guess (OAUTH_KEY_SELECTION_FAILED)"},
	"userinfo-sub-mismatch":    {"refuse", "userinfo", "fetchUserInfo compares sub with the ID token's (Core §5.3.2)"},
}

// TestOpenIDClientJudgesFaults arms each of the mock's faults once and
// asks openid-client to sign in: what a certified relying party refuses
// the mock's faults must really break, and what it accepts must stay
// usable. Rows where openid-client is more lenient than the catalogue are
// listed in openidClientVerdicts with the reason.
func TestOpenIDClientJudgesFaults(t *testing.T) {
	p := needPeers(t)
	for _, f := range op.FaultNames() {
		t.Run(f.Name, func(t *testing.T) {
			t.Parallel()
			want, step, why := f.Expect, "code-grant", ""
			if v, ok := openidClientVerdicts[f.Name]; ok {
				want, step, why = v.outcome, v.step, v.why
			}
			m := newMockRP(t)
			if err := m.srv.ArmFault(f.Name, false); err != nil {
				t.Fatalf("arm %s: %v", f.Name, err)
			}
			got, stderr, err := m.run(t, p, m.srv.Issuer(""))
			verdict := "accept"
			if got.Error != nil {
				verdict = "refuse"
				t.Logf("refused at %s: %s %s (cause %v)", got.Error.Step, got.Error.Code, got.Error.Message, got.Error.Cause)
			} else if err != nil {
				t.Fatalf("rp.mjs: %v\nstderr:\n%s", err, stderr)
			}
			if why != "" {
				t.Logf("openid-client: %s", why)
			}
			switch {
			case want == "either":
			case verdict != want:
				t.Errorf("openid-client did %s the fault %s (%s); want %s", verdict, f.Name, f.Description, want)
			case verdict == "refuse" && got.Error.Step != step:
				t.Errorf("openid-client refused %s at step %q, want %q", f.Name, got.Error.Step, step)
			}
		})
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
