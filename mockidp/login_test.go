package mockidp

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
)

// rp is a minimal relying party for tests and benchmarks: the
// authorization code flow with PKCE over plain HTTP, redirects not
// followed, with or without a cookie jar (the SSO session).
type rp struct {
	s                *Server
	clientID, secret string
	redirectURI      string
	authServer       string // "" = the org server
	hc               *http.Client
}

func newRP(s *Server, clientID, secret, redirectURI string, jar bool) *rp {
	hc := &http.Client{
		Transport:     s.Client().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if jar {
		hc.Jar, _ = cookiejar.New(nil)
	}
	return &rp{s: s, clientID: clientID, secret: secret, redirectURI: redirectURI, hc: hc}
}

func (c *rp) endpoint(name string) string {
	if c.authServer == "" {
		return c.s.URL + "/oauth2/v1/" + name
	}
	return c.s.URL + "/oauth2/" + c.authServer + "/v1/" + name
}

// tokens is a token response.
type tokens struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	Scope        string `json:"scope"`
	nonce        string
}

func randomString() string { return rand.Text() + rand.Text() }

// authorize sends an authorization request and returns the code from the
// redirect, or an error that says what came back instead.
func (c *rp) authorize(verifier, state, nonce string) (string, error) {
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"client_id": {c.clientID}, "redirect_uri": {c.redirectURI}, "response_type": {"code"}, "scope": {"openid profile email"},
		"state": {state}, "nonce": {nonce}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	resp, err := c.hc.Get(c.endpoint("authorize") + "?" + q.Encode())
	if err != nil {
		return "", err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return "", fmt.Errorf("authorize: %d %.300s", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		return "", err
	}
	if got := loc.Query().Get("state"); got != state {
		return "", fmt.Errorf("authorize: state %q, want %q (%s)", got, state, loc)
	}
	code := loc.Query().Get("code")
	if code == "" {
		return "", fmt.Errorf("authorize: no code in %s", loc)
	}
	return code, nil
}

// exchange redeems a code with the verifier (client_secret_basic).
func (c *rp) exchange(code, verifier string) (tokens, int, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.redirectURI}, "code_verifier": {verifier}}
	req, _ := http.NewRequest(http.MethodPost, c.endpoint("token"), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.clientID), url.QueryEscape(c.secret))
	resp, err := c.hc.Do(req)
	if err != nil {
		return tokens{}, 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var tok tokens
	if resp.StatusCode != http.StatusOK {
		return tok, resp.StatusCode, fmt.Errorf("token: %d %s", resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, &tok); err != nil {
		return tok, resp.StatusCode, fmt.Errorf("token: %w", err)
	}
	if tok.IDToken == "" || tok.AccessToken == "" {
		return tok, resp.StatusCode, fmt.Errorf("token: no tokens in %s", body)
	}
	return tok, resp.StatusCode, nil
}

// login runs authorize and the code exchange.
func (c *rp) login() (tokens, error) {
	verifier, state, nonce := randomString(), randomString(), randomString()
	code, err := c.authorize(verifier, state, nonce)
	if err != nil {
		return tokens{}, err
	}
	tok, _, err := c.exchange(code, verifier)
	tok.nonce = nonce
	return tok, err
}

// mustLogin is login for tests.
func (c *rp) mustLogin(tb testing.TB) tokens {
	tb.Helper()
	tok, err := c.login()
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// claims decodes a JWT's payload without checking it.
func claims(tb testing.TB, jwt string) map[string]any {
	tb.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		tb.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		tb.Fatal(err)
	}
	m := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		tb.Fatal(err)
	}
	return m
}

// newOrg starts a server with one ACTIVE user and one OIDC app (from Go)
// and returns it with an RP for the app.
func newOrg(tb testing.TB, opts ...Option) (*Server, *rp, string) {
	tb.Helper()
	s := NewServer(opts...)
	tb.Cleanup(s.Close)
	u, err := s.AddUser(SeedUser{Login: "alice@example.com", FirstName: "Alice", LastName: "Anderson", Password: "Correct-Horse-9"})
	if err != nil {
		tb.Fatal(err)
	}
	app, err := s.AddApp(SeedApp{Label: "Q.wiki", Type: SeedAppOIDC, RedirectURIs: []string{redirectURI}})
	if err != nil {
		tb.Fatal(err)
	}
	return s, newRP(s, app.OAuthClient.ClientID, app.OAuthClient.ClientSecret, redirectURI, false), u.ID
}
