//go:build !js

package check

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/mockidp/op"
)

// The mock provider's one client and user in these tests.
const (
	opTestCallback   = "https://rp.example.com/oidc/callback"
	opTestSignedOut  = "https://rp.example.com/signed-out"
	opTestLogin      = "alice@example.com"
	opTestPassword   = "Correct-Horse-9"
	opTestClientID   = "0oaOPCHECKS"
	opTestSecret     = "s3cret-with+special/chars="
	opTestUserID     = "00uALICE"
	opTestRegistered = opTestCallback
)

// opTestDirectory is the provider's directory: one user, one client.
type opTestDirectory struct{ client op.Client }

func (d opTestDirectory) user() op.User {
	return op.User{ID: opTestUserID, Login: opTestLogin, Email: opTestLogin, FirstName: "Alice", LastName: "Example"}
}

func (d opTestDirectory) Authenticate(_ context.Context, login, password string) (op.User, error) {
	if strings.EqualFold(login, opTestLogin) && password == opTestPassword {
		return d.user(), nil
	}
	return op.User{}, errors.New("bad credentials")
}

func (d opTestDirectory) User(_ context.Context, id string) (op.User, bool) {
	return d.user(), id == opTestUserID
}

func (d opTestDirectory) UserByLogin(_ context.Context, login string) (op.User, bool) {
	return d.user(), strings.EqualFold(login, opTestLogin)
}

func (d opTestDirectory) Client(_ context.Context, id string) (op.Client, bool) {
	return d.client, id == d.client.ID
}

// opTestKeys reads the fixed RSA keys of testdata/keys, so that starting a
// provider does not generate keys.
func opTestKeys(t *testing.T) []crypto.Signer {
	t.Helper()
	var keys []crypto.Signer
	for _, name := range []string{"mockidp-op-1.pem", "mockidp-op-2.pem"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "keys", name))
		if err != nil {
			t.Fatal(err)
		}
		blk, _ := pem.Decode(b)
		if blk == nil {
			t.Fatalf("%s: no PEM block", name)
		}
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			k2, err2 := x509.ParsePKCS1PrivateKey(blk.Bytes)
			if err2 != nil {
				t.Fatalf("%s: %v", name, err)
			}
			k = k2
		}
		keys = append(keys, k.(crypto.Signer))
	}
	return keys
}

// opTestSetup is one row's provider: which authorization server, how the
// client is registered, what the provider does wrong.
type opTestSetup struct {
	server   string                          // "" is the org server
	client   func(*op.Client)                // changes the client's registration
	provider func(*testing.T, *op.Provider)  // arms faults
	wrap     func(http.Handler) http.Handler // breaks a behaviour on the wire
	target   func(*OPTarget)                 // changes what the relying party knows
}

// startOPTarget starts the mock's OpenID provider as s says and returns
// the target.
func startOPTarget(t *testing.T, s opTestSetup) *OPTarget {
	t.Helper()
	var srv *httptest.Server
	client := op.Client{
		ID: opTestClientID, Secret: opTestSecret, RedirectURIs: []string{opTestCallback},
		PostLogoutRedirectURIs: []string{opTestSignedOut},
		GrantTypes:             []string{"authorization_code", "refresh_token"},
	}
	if s.client != nil {
		s.client(&client)
	}
	p, err := op.New(op.Config{BaseURL: func() string { return srv.URL }, Directory: opTestDirectory{client}, SigningKeys: opTestKeys(t)})
	if err != nil {
		t.Fatal(err)
	}
	if s.provider != nil {
		s.provider(t, p)
	}
	mux := http.NewServeMux()
	p.Register(mux)
	var h http.Handler = mux
	if s.wrap != nil {
		h = s.wrap(mux)
	}
	srv = httptest.NewServer(h)
	t.Cleanup(srv.Close)
	target := &OPTarget{
		Issuer: p.Issuer(s.server), ClientID: opTestClientID, ClientSecret: opTestSecret,
		RedirectURI: opTestCallback, PostLogoutRedirectURI: opTestSignedOut, AuthMethod: client.AuthMethod,
		Username: opTestLogin, Password: opTestPassword, Client: srv.Client(),
	}
	if s.target != nil {
		s.target(target)
	}
	return target
}

// opArm arms a fault of the mock provider, sticky.
func opArm(name string) func(*testing.T, *op.Provider) {
	return func(t *testing.T, p *op.Provider) {
		if err := p.ArmFault(name, true); err != nil {
			t.Fatal(err)
		}
	}
}

// opEditParams lets f change a request's parameters: the query of a GET,
// the form of a POST.
func opEditParams(r *http.Request, f func(url.Values)) {
	if r.Method == http.MethodPost {
		b, _ := io.ReadAll(r.Body)
		v, _ := url.ParseQuery(string(b))
		f(v)
		enc := v.Encode()
		r.Body = io.NopCloser(strings.NewReader(enc))
		r.ContentLength = int64(len(enc))
		r.Header.Set("Content-Length", strconv.Itoa(len(enc)))
		return
	}
	q := r.URL.Query()
	f(q)
	r.URL.RawQuery = q.Encode()
}

// opRecorded is a response the middleware holds before sending it on.
type opRecorded struct {
	status int
	header http.Header
	body   []byte
}

func opRecord(h http.Handler, r *http.Request) *opRecorded {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return &opRecorded{status: rec.Code, header: rec.Header().Clone(), body: rec.Body.Bytes()}
}

func (rc *opRecorded) send(w http.ResponseWriter) {
	for k, vs := range rc.header {
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(rc.body)))
	w.WriteHeader(rc.status)
	w.Write(rc.body)
}

// Faults, one behaviour broken per middleware.

func opTrailingSlashIssuer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration") {
			next.ServeHTTP(w, r)
			return
		}
		rc := opRecord(next, r)
		var m map[string]any
		if json.Unmarshal(rc.body, &m) == nil {
			m["issuer"] = m["issuer"].(string) + "/"
			rc.body, _ = json.Marshal(m)
		}
		rc.send(w)
	})
}

func opReusableCodes(next http.Handler) http.Handler {
	var mu sync.Mutex
	issued := map[string]*opRecorded{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/v1/token") || r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		var code string
		opEditParams(r, func(v url.Values) {
			if v.Get("grant_type") == "authorization_code" {
				code = v.Get("code")
			}
		})
		mu.Lock()
		prev := issued[code]
		mu.Unlock()
		if prev != nil {
			prev.send(w) // the same tokens again, and nothing revoked
			return
		}
		rc := opRecord(next, r)
		if code != "" && rc.status == http.StatusOK {
			mu.Lock()
			issued[code] = rc
			mu.Unlock()
		}
		rc.send(w)
	})
}

func opUncheckedRedirectURI(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/v1/token"):
			opEditParams(r, func(v url.Values) { v.Set("redirect_uri", opTestRegistered) })
			next.ServeHTTP(w, r)
		case strings.HasSuffix(r.URL.Path, "/v1/authorize"):
			var asked string
			opEditParams(r, func(v url.Values) {
				if u := v.Get("redirect_uri"); u != "" && u != opTestRegistered {
					asked = u
					v.Set("redirect_uri", opTestRegistered)
				}
			})
			rc := opRecord(next, r)
			if loc := rc.header.Get("Location"); asked != "" && strings.HasPrefix(loc, opTestRegistered) {
				got, _ := url.Parse(loc)
				to, _ := url.Parse(asked)
				q := to.Query()
				for k, vs := range got.Query() {
					q[k] = vs
				}
				to.RawQuery = q.Encode()
				rc.header.Set("Location", to.String())
			}
			rc.send(w)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func opUncheckedPKCE(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/v1/authorize"):
			opEditParams(r, func(v url.Values) { v.Del("code_challenge"); v.Del("code_challenge_method") })
		case strings.HasSuffix(r.URL.Path, "/v1/token"):
			opEditParams(r, func(v url.Values) { v.Del("code_verifier") })
		}
		next.ServeHTTP(w, r)
	})
}

// opDropParam removes one authorization request parameter (when it has
// value, if value is not empty).
func opDropParam(name, value string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/v1/authorize") {
				opEditParams(r, func(v url.Values) {
					if value == "" || v.Get(name) == value {
						v.Del(name)
					}
				})
			}
			next.ServeHTTP(w, r)
		})
	}
}

// opDropState removes state from the authorization endpoint's redirects.
func opDropState(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/v1/authorize") {
			next.ServeHTTP(w, r)
			return
		}
		rc := opRecord(next, r)
		if loc, err := url.Parse(rc.header.Get("Location")); err == nil && loc.RawQuery != "" {
			q := loc.Query()
			q.Del("state")
			loc.RawQuery = q.Encode()
			rc.header.Set("Location", loc.String())
		}
		rc.send(w)
	})
}

// opDropHeader removes a response header on paths ending in suffix.
func opDropHeader(suffix, header string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasSuffix(r.URL.Path, suffix) {
				next.ServeHTTP(w, r)
				return
			}
			rc := opRecord(next, r)
			rc.header.Del(header)
			rc.send(w)
		})
	}
}

// opFailedChecks runs the whole OP catalogue and returns the IDs of the checks
// that did not pass, with their errors.
func opFailedChecks(t *testing.T, target *OPTarget) ([]string, map[string]string) {
	t.Helper()
	var ids []string
	errs := map[string]string{}
	for _, r := range RunOPAll(context.Background(), OP(), target, nil) {
		if !r.Passed {
			id := r.ID
			if r.Skipped {
				id += " (skipped)"
			}
			ids = append(ids, id)
			errs[id] = r.Error
		}
	}
	return ids, errs
}

// TestOPCatalogueAgainstWrongOP runs the OP catalogue against the mock's
// provider as it is, and with one behaviour broken per row, and asserts
// exactly which checks fail.
func TestOPCatalogueAgainstWrongOP(t *testing.T) {
	for _, tc := range []struct {
		name string
		opTestSetup
		want []string
	}{
		{name: "the mock as it is, org server"},
		{name: "the mock as it is, default server, client_secret_post", opTestSetup: opTestSetup{
			server: "default", client: func(c *op.Client) { c.AuthMethod = op.AuthMethodPost }}},
		{name: "the mock as it is, ES256 ID tokens", opTestSetup: opTestSetup{
			server: "default", client: func(c *op.Client) { c.SigningAlg = op.AlgES256 }}},
		{name: "no refresh grant and no post-logout redirect URI known", opTestSetup: opTestSetup{
			client: func(c *op.Client) { c.GrantTypes = []string{"authorization_code"} },
			target: func(t *OPTarget) { t.PostLogoutRedirectURI = "" }},
			want: []string{"op-refresh (skipped)", "op-logout-redirect (skipped)"}},

		// The rows the catalogue is for: one behaviour broken each.
		{name: "issuer with a trailing slash", opTestSetup: opTestSetup{wrap: opTrailingSlashIssuer},
			want: []string{"op-discovery-issuer"}},
		{name: "codes reusable", opTestSetup: opTestSetup{wrap: opReusableCodes},
			want: []string{"op-code-reuse"}},
		{name: "redirect_uri not checked", opTestSetup: opTestSetup{wrap: opUncheckedRedirectURI},
			want: []string{"op-code-redirect-uri", "op-code-token-redirect-uri"}},
		{name: "PKCE not checked", opTestSetup: opTestSetup{wrap: opUncheckedPKCE},
			want: []string{"op-pkce-verifier-missing", "op-pkce-verifier-wrong", "op-pkce-verifier-length", "op-pkce-plain"}},
		{name: "prompt=none ignored", opTestSetup: opTestSetup{wrap: opDropParam("prompt", "none")},
			want: []string{"op-prompt-none-no-session"}},
		{name: "max_age ignored", opTestSetup: opTestSetup{wrap: opDropParam("max_age", "")},
			want: []string{"op-prompt-max-age-zero"}},

		// More of the same, on the wire and with the mock's own faults.
		{name: "state dropped from redirects", opTestSetup: opTestSetup{wrap: opDropState},
			want: []string{"op-code-state", "op-pkce-plain", "op-prompt-none-no-session"}},
		{name: "JWK Set without Cache-Control", opTestSetup: opTestSetup{wrap: opDropHeader("/v1/keys", "Cache-Control")},
			want: []string{"op-jwks-cache-control"}},
		{name: "UserInfo 401 without WWW-Authenticate", opTestSetup: opTestSetup{wrap: opDropHeader("/v1/userinfo", "WWW-Authenticate")},
			want: []string{"op-userinfo-no-token", "op-userinfo-bad-token"}},
		{name: "token responses cacheable", opTestSetup: opTestSetup{wrap: opDropHeader("/v1/token", "Cache-Control")},
			want: []string{"op-code-flow"}},
		{name: "fault wrong-at-hash", opTestSetup: opTestSetup{provider: opArm("wrong-at-hash")},
			want: []string{"op-code-at-hash"}},
		{name: "fault wrong-nonce", opTestSetup: opTestSetup{provider: opArm("wrong-nonce")},
			want: []string{"op-code-id-token", "op-prompt-max-age-zero", "op-prompt-max-age-session", "op-refresh"}},
		{name: "fault userinfo-sub-mismatch", opTestSetup: opTestSetup{provider: opArm("userinfo-sub-mismatch")},
			want: []string{"op-userinfo-get", "op-userinfo-post"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := startOPTarget(t, tc.opTestSetup)
			got, errs := opFailedChecks(t, target)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				var b strings.Builder
				for _, id := range got {
					if !slices.Contains(tc.want, id) {
						b.WriteString("\n--- " + id + ":\n" + errs[id])
					}
				}
				t.Errorf("failed checks (-want +got):\n%s%s", diff, b.String())
			}
			for _, id := range tc.want {
				if e := errs[id]; e != "" && !strings.Contains(e, "§") && !strings.HasSuffix(id, "(skipped)") {
					t.Errorf("%s failed without naming the rule's section:\n%s", id, e)
				}
			}
		})
	}
}

// TestPreflightOP asserts that what keeps every OP check from running is
// said in one line: an unreachable provider, one that is not an OpenID
// provider, a login that fails, a client authentication mismatch.
func TestPreflightOP(t *testing.T) {
	notOP := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte("<html><body><h1>Page not found</h1></body></html>"))
	}))
	t.Cleanup(notOP.Close)
	post := func(c *op.Client) { c.AuthMethod = op.AuthMethodPost }
	for _, tc := range []struct {
		name string
		opTestSetup
		want []string // substrings of the error; none: no error
	}{
		{name: "the mock, client_secret_basic"},
		{name: "the mock, client_secret_post", opTestSetup: opTestSetup{client: post, target: func(t *OPTarget) { t.AuthMethod = "client_secret_post" }}},
		{name: "unreachable", opTestSetup: opTestSetup{target: func(t *OPTarget) { t.Issuer = "http://127.0.0.1:1" }},
			want: []string{"check: the provider at http://127.0.0.1:1 is unreachable (GET http://127.0.0.1:1/.well-known/openid-configuration: dial tcp "}},
		{name: "not an OpenID provider", opTestSetup: opTestSetup{target: func(t *OPTarget) { t.Issuer, t.Client = notOP.URL, notOP.Client() }},
			want: []string{"check: " + notOP.URL + " is not an OpenID provider: GET " + notOP.URL + "/.well-known/openid-configuration answered 404 text/html \"Page not found\", not a discovery document"}},
		{name: "an issuer with a trailing slash", opTestSetup: opTestSetup{target: func(t *OPTarget) { t.Issuer += "/" }},
			want: []string{"differ only by a trailing slash, and an issuer must match exactly (OpenID Connect Discovery 1.0 §4.3); use --issuer http://127.0.0.1:"}},
		{name: "a wrong password", opTestSetup: opTestSetup{target: func(t *OPTarget) { t.Password = "wrong" }},
			want: []string{"check: the login as alice@example.com failed (the provider showed its login form again", `; the provider's page says "Sign In`, "Unable to sign in"}},
		{name: "an unregistered redirect URI", opTestSetup: opTestSetup{target: func(t *OPTarget) { t.RedirectURI = "https://rp.example.com/elsewhere" }},
			want: []string{"check: the provider refused the authorization request with 400 (are the client id and the redirect URI https://rp.example.com/elsewhere one of its clients'", "The 'redirect_uri' parameter must be a Login redirect URI"}},
		{name: "basic for a client_secret_post client", opTestSetup: opTestSetup{client: post, target: func(t *OPTarget) { t.AuthMethod = "client_secret_basic" }},
			want: []string{"check: the token endpoint refused the client's credentials sent with client_secret_basic (401 invalid_client: ", "accepted them with client_secret_post: the client authenticates with client_secret_post, so set the auth method to it (--auth-method client_secret_post)"}},
		{name: "post for a client_secret_basic client", opTestSetup: opTestSetup{target: func(t *OPTarget) { t.AuthMethod = "client_secret_post" }},
			want: []string{"accepted them with client_secret_basic", "(--auth-method client_secret_basic)"}},
		{name: "a wrong secret", opTestSetup: opTestSetup{target: func(t *OPTarget) { t.ClientSecret = "wrong" }},
			want: []string{"check: the token endpoint refused the client's credentials with client_secret_basic and with client_secret_post (401 invalid_client: ", "check the client id and secret (--client-id, --client-secret)"}},
		{name: "an incomplete target", opTestSetup: opTestSetup{target: func(t *OPTarget) { t.Username = "" }},
			want: []string{"check: the OP target needs Username"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := PreflightOP(context.Background(), startOPTarget(t, tc.opTestSetup))
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("PreflightOP: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("PreflightOP passed, want %q", tc.want)
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
