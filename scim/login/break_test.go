package login

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/secret"
	"github.com/idpkit/idpkit/scim/store"
)

// hostileEnv is an env in mode whose logs are recorded, with alice
// provisioned and signing in at the provider.
func hostileEnv(t *testing.T, mode string) (*env, *logRecorder) {
	t.Helper()
	rec := &logRecorder{}
	e := newEnv(t, func(c *Config) { c.ResponseMode = mode; c.Logger = slog.New(rec) })
	e.op.setUser(opUser{sub: "00ualice", login: "alice@example.com", email: "alice@example.com"})
	e.addUser("u1", "alice@example.com", "00ualice", true)
	return e, rec
}

// authResponse runs /login and /authorize in e's mode and returns the
// callback URL (without query) and the authorization response's
// parameters, as Okta would deliver them.
func (e *env) authResponse(b *browser, mode string) (string, url.Values) {
	e.t.Helper()
	if mode == ResponseModeFormPost {
		return e.startFormPostLogin(b)
	}
	u, err := url.Parse(e.startLogin(b))
	if err != nil {
		e.t.Fatal(err)
	}
	q := u.Query()
	u.RawQuery = ""
	return u.String(), q
}

// deliver sends the authorization response v to the callback as mode does.
func (b *browser) deliver(mode, cb string, v url.Values) result {
	if mode == ResponseModeFormPost {
		return b.post(cb, v)
	}
	return b.get(cb + "?" + v.Encode())
}

// checkRefused asserts that r is a readable refusal that left no session,
// and that the logs hold none of the sign-in's secrets.
func checkRefused(t *testing.T, e *env, rec *logRecorder, r result, secrets ...string) {
	t.Helper()
	if r.status < 400 || r.status >= 500 && r.status != http.StatusBadGateway {
		t.Errorf("status %d is not a 4xx or 502", r.status)
	}
	if setCookieFor(r, SessionCookie) != nil && setCookieFor(r, SessionCookie).MaxAge >= 0 {
		t.Errorf("a session cookie was set")
	}
	if n := e.store.countTokens(KindSession); n != 0 {
		t.Errorf("%d sessions in the store", n)
	}
	if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q, want a page", ct)
	}
	if strings.Contains(r.body, "<script") || strings.Contains(r.body, "<img") {
		t.Errorf("the page reflects markup:\n%s", r.body)
	}
	logs := rec.text()
	for _, s := range secrets {
		if len(s) >= 8 && strings.Contains(logs, s) {
			t.Errorf("the logs hold the secret %.10s…", s)
		}
	}
}

// TestCallbackAttacks: hostile authorization responses at the callback,
// in both response modes, are refused with a readable 4xx page and no
// session, before any token request.
func TestCallbackAttacks(t *testing.T) {
	long := strings.Repeat("A", 5000)
	script := `<script>alert(document.cookie)</script><img src=x onerror=alert(1)>`
	tests := []struct {
		name  string
		modes []string // nil: both
		// edit changes the response before delivery; it may return
		// another browser to deliver it from.
		edit      func(e *env, b *browser, v url.Values) *browser
		setup     func(e *env)
		status    int
		bodyHas   string
		bodyLacks string
		tokens    int // token requests expected
	}{
		{name: "state repeated with another value", edit: func(e *env, b *browser, v url.Values) *browser {
			v["state"] = []string{v.Get("state"), "forged"}
			return b
		}, status: 400, bodyHas: "more than once"},
		{name: "state repeated with the same value", edit: func(e *env, b *browser, v url.Values) *browser {
			v["state"] = []string{v.Get("state"), v.Get("state")}
			return b
		}, status: 400, bodyHas: "more than once"},
		{name: "code repeated", edit: func(e *env, b *browser, v url.Values) *browser {
			v["code"] = []string{v.Get("code"), "other"}
			return b
		}, status: 400, bodyHas: "more than once"},
		{name: "iss repeated", edit: func(e *env, b *browser, v url.Values) *browser {
			v["iss"] = []string{e.op.srv.URL, "https://evil.example"}
			return b
		}, status: 400, bodyHas: "more than once"},
		{name: "no state", edit: func(e *env, b *browser, v url.Values) *browser { v.Del("state"); return b },
			status: 400, bodyHas: "has no state"},
		{name: "empty code", edit: func(e *env, b *browser, v url.Values) *browser { v.Set("code", ""); return b },
			status: 400, bodyHas: "no authorization code"},
		{name: "huge state", edit: func(e *env, b *browser, v url.Values) *browser { v.Set("state", long); return b },
			status: 400, bodyHas: "too long"},
		{name: "huge code", edit: func(e *env, b *browser, v url.Values) *browser { v.Set("code", long); return b },
			status: 400, bodyHas: "too long"},
		{name: "CRLF in state", edit: func(e *env, b *browser, v url.Values) *browser {
			v.Set("state", v.Get("state")+"\r\nSet-Cookie: idpkit_session=x")
			return b
		}, status: 400, bodyHas: "unknown, expired or was already used"},
		{name: "state of another tenant", setup: func(e *env) {
			e.store.PutToken(t.Context(), tokenFor("beta-state", "beta", e.now.Add(time.Minute)))
		}, edit: func(e *env, b *browser, v url.Values) *browser { v.Set("state", "beta-state"); return b },
			status: 400, bodyHas: "unknown, expired or was already used"},
		{name: "expired state", edit: func(e *env, b *browser, v url.Values) *browser {
			e.now = e.now.Add(LoginStateTTL + time.Second)
			return b
		}, status: 400, bodyHas: "expired"},
		{name: "another browser", edit: func(e *env, b *browser, v url.Values) *browser { return newBrowser(e.t) },
			status: 400, bodyHas: "started in another browser"},
		{name: "error with markup, for this sign-in", edit: func(e *env, b *browser, v url.Values) *browser {
			v.Del("code")
			v.Set("error", "access_denied")
			v.Set("error_description", "Denied "+script+"\r\nLocation: https://evil.example")
			return b
		}, status: 403, bodyHas: "Denied &lt;script&gt;alert(document.cookie)&lt;/script&gt;&lt;img"},
		{name: "error with markup and a forged state", edit: func(e *env, b *browser, v url.Values) *browser {
			v.Del("code")
			v.Set("state", "forged")
			v.Set("error", "access_denied")
			v.Set("error_description", "Call +1 555 0100 to unlock your account "+script)
			return b
		}, status: 400, bodyHas: "unknown, expired or was already used", bodyLacks: "555 0100"},
		{name: "error without state", edit: func(e *env, b *browser, v url.Values) *browser {
			v.Del("code")
			v.Del("state")
			v.Set("error", "access_denied")
			v.Set("error_description", "Call +1 555 0100 to unlock your account")
			return b
		}, status: 400, bodyHas: "has no state", bodyLacks: "555 0100"},
		{name: "error for a sign-in of another browser", edit: func(e *env, b *browser, v url.Values) *browser {
			v.Del("code")
			v.Set("error", "access_denied")
			v.Set("error_description", "Call +1 555 0100 to unlock your account")
			return newBrowser(e.t)
		}, status: 400, bodyHas: "started in another browser", bodyLacks: "555 0100"},
		{name: "huge error description is cut", edit: func(e *env, b *browser, v url.Values) *browser {
			v.Del("code")
			v.Set("error", "access_denied")
			v.Set("error_description", strings.Repeat("x", 5000))
			return b
		}, status: 403, bodyHas: "xxx…", bodyLacks: strings.Repeat("x", 1000)},
		{name: "iss of another issuer (RFC 9207)", edit: func(e *env, b *browser, v url.Values) *browser {
			v.Set("iss", "https://evil.example")
			return b
		}, status: 400, bodyHas: "another issuer"},
		{name: "iss with a trailing slash", edit: func(e *env, b *browser, v url.Values) *browser {
			v.Set("iss", e.op.srv.URL+"/")
			return b
		}, status: 400, bodyHas: "another issuer"},
		{name: "error with iss of another issuer", edit: func(e *env, b *browser, v url.Values) *browser {
			v.Del("code")
			v.Set("iss", "https://evil.example")
			v.Set("error", "access_denied")
			v.Set("error_description", "Call +1 555 0100")
			return b
		}, status: 400, bodyHas: "another issuer", bodyLacks: "555 0100"},
		{name: "no iss though discovery says it is sent", setup: func(e *env) {
			e.op.set(func(op *testOP) {
				op.discoveryEdit = func(d map[string]any) { d["authorization_response_iss_parameter_supported"] = true }
			})
		}, edit: func(e *env, b *browser, v url.Values) *browser { return b }, status: 400, bodyHas: "does not name its issuer"},
		{name: "form_post: GET", modes: []string{ResponseModeFormPost}, status: 405, bodyHas: "not as a GET"},
		{name: "form_post: JSON body", modes: []string{ResponseModeFormPost}, status: 415, bodyHas: "not a form"},
		{name: "form_post: multipart body", modes: []string{ResponseModeFormPost}, status: 415, bodyHas: "not a form"},
		{name: "form_post: huge body", modes: []string{ResponseModeFormPost}, status: 413, bodyHas: "too large"},
		{name: "form_post: state in the query, not the body", modes: []string{ResponseModeFormPost}, status: 400, bodyHas: "has no state"},
		{name: "query: POST", modes: []string{ResponseModeQuery}, status: 405, bodyHas: "not as a POST"},
	}
	for _, mode := range []string{ResponseModeQuery, ResponseModeFormPost} {
		for _, tt := range tests {
			if tt.modes != nil && tt.modes[0] != mode {
				continue
			}
			t.Run(mode+"/"+tt.name, func(t *testing.T) {
				e, rec := hostileEnv(t, mode)
				if tt.setup != nil {
					tt.setup(e)
				}
				b := newBrowser(t)
				cb, v := e.authResponse(b, mode)
				secrets := []string{v.Get("state"), v.Get("code")}
				var r result
				form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
				switch {
				case tt.edit != nil:
					r = tt.edit(e, b, v).deliver(mode, cb, v)
				case strings.HasSuffix(tt.name, ": GET"):
					r = b.get(cb + "?" + v.Encode())
				case strings.HasSuffix(tt.name, ": POST"):
					r = b.do(http.MethodPost, cb, form, v.Encode())
				case strings.HasSuffix(tt.name, "JSON body"):
					body, _ := json.Marshal(map[string]string{"state": v.Get("state"), "code": v.Get("code")})
					r = b.do(http.MethodPost, cb, map[string]string{"Content-Type": "application/json"}, string(body))
				case strings.HasSuffix(tt.name, "multipart body"):
					r = b.do(http.MethodPost, cb, map[string]string{"Content-Type": "multipart/form-data; boundary=x"},
						"--x\r\nContent-Disposition: form-data; name=\"state\"\r\n\r\n"+v.Get("state")+"\r\n--x--\r\n")
				case strings.HasSuffix(tt.name, "huge body"):
					v.Set("pad", strings.Repeat("p", 1<<20))
					r = b.do(http.MethodPost, cb, form, v.Encode())
				case strings.HasSuffix(tt.name, "not the body"):
					r = b.do(http.MethodPost, cb+"?"+v.Encode(), form, "")
				}
				if r.status != tt.status {
					t.Errorf("status = %d, want %d", r.status, tt.status)
				}
				if !strings.Contains(r.body, tt.bodyHas) {
					t.Errorf("page lacks %q:\n%s", tt.bodyHas, r.body)
				}
				if tt.bodyLacks != "" && strings.Contains(r.body, tt.bodyLacks) {
					t.Errorf("page shows %q:\n%s", tt.bodyLacks, r.body)
				}
				checkRefused(t, e, rec, r, secrets...)
				if got := e.op.hitCount("token"); got != tt.tokens {
					t.Errorf("token requests = %d, want %d", got, tt.tokens)
				}
			})
		}
	}
}

// TestIssParameter: an iss parameter equal to the issuer (RFC 9207 §2.4)
// is accepted, in both response modes, with or without the provider
// announcing it.
func TestIssParameter(t *testing.T) {
	for _, mode := range []string{ResponseModeQuery, ResponseModeFormPost} {
		for _, announced := range []bool{false, true} {
			t.Run(mode+"/announced="+strconv.FormatBool(announced), func(t *testing.T) {
				e, _ := hostileEnv(t, mode)
				if announced {
					e.op.set(func(op *testOP) {
						op.discoveryEdit = func(d map[string]any) { d["authorization_response_iss_parameter_supported"] = true }
					})
				}
				b := newBrowser(t)
				cb, v := e.authResponse(b, mode)
				v.Set("iss", e.op.srv.URL)
				r := b.deliver(mode, cb, v)
				if r.status != http.StatusSeeOther || setCookieFor(r, SessionCookie) == nil {
					t.Errorf("announced %v: %d\n%s", announced, r.status, r.body)
				}
			})
		}
	}
}

// TestHostileProvider: a provider that lies in discovery, floods the
// keys, or answers the token request in the wrong shape gives a 502 (or
// a 400 for a token that does not verify), never a 500, a hang or a
// session.
func TestHostileProvider(t *testing.T) {
	ecJWKs := func(n int) []any {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		keys := make([]any, n)
		for i := range keys {
			keys[i] = publicJWK(k, "ec"+strconv.Itoa(i), "ES256")
		}
		return keys
	}
	huge := func(ct string, n int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ct)
			w.Write([]byte(`{"keys":[],"issuer":"`))
			chunk := bytes.Repeat([]byte("x"), 64<<10)
			for i := 0; i < n/len(chunk); i++ {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
			w.Write([]byte(`"}`))
		}
	}
	redirect := func(to string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, http.StatusTemporaryRedirect) }
	}
	tests := []struct {
		name    string
		setup   func(e *env)
		atLogin bool // /login itself is refused
		status  int
		bodyHas string
	}{
		{"discovery names another issuer", func(e *env) {
			e.op.set(func(op *testOP) { op.discoveryEdit = func(d map[string]any) { d["issuer"] = "https://evil.example" } })
		}, true, 502, "cannot be reached"},
		{"jwks_uri on another host", func(e *env) {
			e.op.set(func(op *testOP) {
				op.discoveryEdit = func(d map[string]any) { d["jwks_uri"] = "https://evil.example/keys" }
			})
		}, true, 502, "cannot be reached"},
		{"token endpoint on another host", func(e *env) {
			e.op.set(func(op *testOP) {
				op.discoveryEdit = func(d map[string]any) { d["token_endpoint"] = "http://169.254.169.254/token" }
			})
		}, true, 502, "cannot be reached"},
		{"authorization endpoint on another host", func(e *env) {
			e.op.set(func(op *testOP) {
				op.discoveryEdit = func(d map[string]any) { d["authorization_endpoint"] = "https://evil.example/authorize" }
			})
		}, true, 502, "cannot be reached"},
		{"no token endpoint", func(e *env) {
			e.op.set(func(op *testOP) { op.discoveryEdit = func(d map[string]any) { delete(d, "token_endpoint") } })
		}, true, 502, "cannot be reached"},
		{"discovery of 8 MB", func(e *env) {
			e.op.set(func(op *testOP) {
				op.override = map[string]http.HandlerFunc{"discovery": huge("application/json", 8<<20)}
			})
		}, true, 502, "cannot be reached"},
		{"discovery redirects", func(e *env) {
			e.op.set(func(op *testOP) {
				op.override = map[string]http.HandlerFunc{"discovery": redirect("http://169.254.169.254/latest/meta-data/")}
			})
		}, true, 502, "cannot be reached"},
		{"token endpoint redirects", func(e *env) {
			e.op.set(func(op *testOP) {
				op.override = map[string]http.HandlerFunc{"token": redirect("https://evil.example/token")}
			})
		}, false, 502, "cannot be reached"},
		{"token endpoint answers 200 with HTML", func(e *env) {
			e.op.set(func(op *testOP) { op.tokenStatus, op.tokenBody = 200, "<html><body>Sign in</body></html>" })
		}, false, 502, "cannot be reached"},
		{"token response without access_token", func(e *env) {
			e.op.set(func(op *testOP) { op.tokenEdit = func(r map[string]any) { delete(r, "access_token") } })
		}, false, 502, "cannot be reached"},
		{"token_type mac", func(e *env) {
			e.op.set(func(op *testOP) { op.tokenEdit = func(r map[string]any) { r["token_type"] = "mac" } })
		}, false, 502, "type"},
		{"no token_type", func(e *env) {
			e.op.set(func(op *testOP) { op.tokenEdit = func(r map[string]any) { delete(r, "token_type") } })
		}, false, 502, "type"},
		{"token response of 8 MB", func(e *env) {
			e.op.set(func(op *testOP) { op.override = map[string]http.HandlerFunc{"token": huge("application/json", 8<<20)} })
		}, false, 502, "cannot be reached"},
		{"ID token of 1 MB", func(e *env) {
			e.op.setTweak(func(c map[string]any) { c["pad"] = strings.Repeat("p", 1<<20) })
		}, false, 502, "cannot be reached"},
		{"ID token nested 20000 deep", func(e *env) {
			e.op.setTweak(func(c map[string]any) {
				c["deep"] = json.RawMessage(strings.Repeat("[", 20000) + strings.Repeat("]", 20000))
			})
		}, false, 400, "could not be verified"},
		{"JWKS of 10,000 keys", func(e *env) {
			e.op.set(func(op *testOP) {
				op.jwks = func() []any { return append([]any{publicJWK(op.key, "k1", "RS256")}, ecJWKs(10000)...) }
			})
		}, false, 502, "signing keys"},
		{"JWKS of 500 small keys", func(e *env) {
			e.op.set(func(op *testOP) {
				op.jwks = func() []any { return append([]any{publicJWK(op.key, "k1", "RS256")}, ecJWKs(500)...) }
			})
		}, false, 502, "signing keys"},
		{"JWKS of 8 MB", func(e *env) {
			e.op.set(func(op *testOP) { op.override = map[string]http.HandlerFunc{"keys": huge("application/json", 8<<20)} })
		}, false, 502, "signing keys"},
		{"JWKS redirects", func(e *env) {
			e.op.set(func(op *testOP) {
				op.override = map[string]http.HandlerFunc{"keys": redirect("https://evil.example/keys")}
			})
		}, false, 502, "signing keys"},
		{"userinfo of 8 MB", func(e *env) {
			e.op.set(func(op *testOP) {
				op.override = map[string]http.HandlerFunc{"userinfo": huge("application/json", 8<<20)}
			})
		}, false, 502, "user information"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, rec := hostileEnv(t, ResponseModeQuery)
			tt.setup(e)
			b := newBrowser(t)
			r := b.get(e.app.URL + "/t/acme/login")
			var secrets []string
			if !tt.atLogin {
				if r.status != http.StatusFound {
					t.Fatalf("/login = %d\n%s", r.status, r.body)
				}
				r = b.get(r.header.Get("Location"))
				cb, _ := url.Parse(r.header.Get("Location"))
				secrets = append(secrets, cb.Query().Get("state"), cb.Query().Get("code"))
				r = b.get(cb.String())
			}
			if diff := cmp.Diff(tt.status, r.status); diff != "" {
				t.Errorf("status (-want +got):\n%s\n%.2000s", diff, r.body)
			}
			if !strings.Contains(r.body, tt.bodyHas) {
				t.Errorf("page lacks %q:\n%.2000s", tt.bodyHas, r.body)
			}
			checkRefused(t, e, rec, r, secrets...)
			if logs := rec.text(); len(logs) > 64<<10 {
				t.Errorf("the logs hold %d bytes", len(logs))
			}
		})
	}
}

// tokenFor is a login state of tenant that no browser is bound to.
func tokenFor(state, tenant string, expires time.Time) store.Token {
	v, _ := json.Marshal(loginState{Verifier: "v", Nonce: "n", Binding: secret.HashString("someone else"), Issuer: "https://evil.example", ClientID: "0oaclient"})
	return store.Token{Kind: KindLoginState, Key: secret.HashString(state), Tenant: tenant, Value: v, Expires: expires}
}

// TestSessionAttacks: a session cookie the browser had before signing in
// is never adopted and does not outlive the sign-in; signing out ends the
// session on the server; another site cannot sign anyone out.
func TestSessionAttacks(t *testing.T) {
	me := func(e *env, b *browser, cookie string) int {
		return b.do(http.MethodGet, e.app.URL+"/t/acme/me", map[string]string{"Cookie": SessionCookie + "=" + cookie, "Accept": "application/json"}, "").status
	}
	signIn := func(e *env, b *browser) string {
		r := b.get(e.startLogin(b))
		c := setCookieFor(r, SessionCookie)
		if r.status != http.StatusSeeOther || c == nil {
			t.Fatalf("sign-in = %d %s", r.status, r.body)
		}
		return c.Value
	}
	logout := func(e *env, b *browser, hdr map[string]string) result {
		return b.do(http.MethodPost, e.app.URL+"/t/acme/logout", hdr, "")
	}
	tests := []struct {
		name string
		run  func(e *env, b *browser) []int
		want []int
	}{
		{"planted session cookie is not adopted", func(e *env, b *browser) []int {
			const planted = "planted-by-an-attacker-0123456789abcdef"
			u, _ := url.Parse(e.app.URL + "/t/acme/")
			b.c.Jar.SetCookies(u, []*http.Cookie{{Name: SessionCookie, Value: planted, Path: "/t/acme"}})
			got := signIn(e, b)
			return []int{map[bool]int{true: 1, false: 0}[got == planted], me(e, b, planted), me(e, b, got)}
		}, []int{0, 401, 200}},
		{"a second sign-in ends the first session", func(e *env, b *browser) []int {
			first := signIn(e, b)
			second := signIn(e, b)
			return []int{me(e, b, first), me(e, b, second), e.store.countTokens(KindSession)}
		}, []int{401, 200, 1}},
		{"a cookie replayed after sign-out is dead", func(e *env, b *browser) []int {
			sid := signIn(e, b)
			r := logout(e, b, nil)
			return []int{r.status, me(e, b, sid), e.store.countTokens(KindSession)}
		}, []int{200, 401, 0}},
		{"sign-out posted by another site (Origin)", func(e *env, b *browser) []int {
			sid := signIn(e, b)
			r := logout(e, b, map[string]string{"Origin": "https://evil.example"})
			return []int{r.status, map[bool]int{true: 1, false: 0}[setCookieFor(r, SessionCookie) != nil], me(e, b, sid)}
		}, []int{403, 0, 200}},
		{"sign-out posted by another site (Sec-Fetch-Site)", func(e *env, b *browser) []int {
			sid := signIn(e, b)
			r := logout(e, b, map[string]string{"Sec-Fetch-Site": "cross-site"})
			return []int{r.status, map[bool]int{true: 1, false: 0}[setCookieFor(r, SessionCookie) != nil], me(e, b, sid)}
		}, []int{403, 0, 200}},
		{"sign-out from this app's page", func(e *env, b *browser) []int {
			sid := signIn(e, b)
			r := logout(e, b, map[string]string{"Origin": e.app.URL, "Sec-Fetch-Site": "same-origin"})
			return []int{r.status, me(e, b, sid)}
		}, []int{200, 401}},
		{"sign-out with Origin null", func(e *env, b *browser) []int {
			sid := signIn(e, b)
			return []int{logout(e, b, map[string]string{"Origin": "null"}).status, me(e, b, sid)}
		}, []int{403, 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := hostileEnv(t, ResponseModeQuery)
			if diff := cmp.Diff(tt.want, tt.run(e, newBrowser(t))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestOpenRedirects: no parameter of login, logout or a reloaded callback
// sends the browser anywhere but the provider's authorization endpoint
// (with this app's redirect URI) or the tenant's own pages.
func TestOpenRedirects(t *testing.T) {
	evil := url.Values{}
	for _, p := range []string{"next", "return_to", "returnTo", "redirect", "redirect_uri", "continue", "url", "RelayState"} {
		evil.Set(p, "https://evil.example/x")
	}
	e, _ := hostileEnv(t, ResponseModeQuery)
	b := newBrowser(t)
	var got []string
	r := b.get(e.app.URL + "/t/acme/login?" + evil.Encode())
	loc, _ := url.Parse(r.header.Get("Location"))
	got = append(got, loc.Scheme+"://"+loc.Host+loc.Path, loc.Query().Get("redirect_uri"))
	cb, _ := url.Parse(b.get(loc.String()).header.Get("Location"))
	q := cb.Query()
	for k, v := range evil {
		if k != "redirect_uri" {
			q[k] = v
		}
	}
	cb.RawQuery = q.Encode()
	got = append(got, b.get(cb.String()).header.Get("Location"), b.get(cb.String()).header.Get("Location"))
	r = b.do(http.MethodPost, e.app.URL+"/t/acme/logout?"+evil.Encode(), nil, "")
	got = append(got, strconv.Itoa(r.status)+" "+r.header.Get("Location"))
	r = b.get(e.app.URL + "//evil.example/t/acme/login")
	got = append(got, r.header.Get("Location"))
	want := []string{e.op.srv.URL + "/oauth2/v1/authorize", e.app.URL + "/t/acme/oidc/callback", "/t/acme/me", "/t/acme/me", "200 ", "/evil.example/t/acme/login"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Locations: login, its redirect_uri, callback, reload, logout, a path with // (-want +got):\n%s", diff)
	}
}

// TestCookieAttributes: every cookie of a sign-in, a refusal and a
// sign-out is HttpOnly, has the tenant's path, SameSite=Lax (the login
// cookie SameSite=None in form_post mode) and is Secure on https and in
// form_post mode.
func TestCookieAttributes(t *testing.T) {
	type attrs struct {
		Name     string
		Path     string
		HttpOnly bool
		Secure   bool
		SameSite http.SameSite
		Deleted  bool
	}
	tests := []struct {
		mode  string
		https bool
	}{{ResponseModeQuery, false}, {ResponseModeQuery, true}, {ResponseModeFormPost, false}, {ResponseModeFormPost, true}}
	for _, tt := range tests {
		t.Run(tt.mode+"/https="+strconv.FormatBool(tt.https), func(t *testing.T) {
			e, _ := hostileEnv(t, tt.mode)
			public := e.app.URL
			if tt.https {
				public = "https://app.example"
				e.tenants.PublicURL = public
				e.op.redirectURI = e.tenants.RedirectURI("acme")
			}
			secure := tt.https || tt.mode == ResponseModeFormPost
			loginSameSite := http.SameSiteLaxMode
			if tt.mode == ResponseModeFormPost {
				loginSameSite = http.SameSiteNoneMode
			}
			var got []attrs
			collect := func(r result) {
				resp := http.Response{Header: r.header}
				for _, c := range resp.Cookies() {
					got = append(got, attrs{c.Name, c.Path, c.HttpOnly, c.Secure, c.SameSite, c.MaxAge < 0})
				}
			}
			b := newBrowser(t)
			// A refused sign-in (another browser), then a sign-in, then the
			// session ending at /me (deactivated) and a sign-out.
			for _, refuse := range []bool{true, false} {
				cb, v := e.authResponse(b, tt.mode)
				cb = strings.Replace(cb, public, e.app.URL, 1)
				from := b
				if refuse {
					from = newBrowser(t)
				}
				collect(from.deliver(tt.mode, cb, v))
			}
			e.setActive("u1", false)
			collect(b.get(e.app.URL + "/t/acme/me"))
			collect(b.do(http.MethodPost, e.app.URL+"/t/acme/logout", nil, ""))
			collect(b.get(e.app.URL + "/t/acme/login"))
			want := []attrs{
				{SessionCookie, "/t/acme", true, secure, http.SameSiteLaxMode, false},
				{SessionCookie, "/t/acme", true, secure, http.SameSiteLaxMode, true},
				{SessionCookie, "/t/acme", true, secure, http.SameSiteLaxMode, true},
				{LoginCookie, "/t/acme", true, secure, loginSameSite, false},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Set-Cookies of callback, /me, logout, login (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLargeIDToken: an ID token with a large claim set that fits in the
// 1 MiB bound of the token response still signs in; one beyond it is a
// 502 (TestHostileProvider).
func TestLargeIDToken(t *testing.T) {
	e, _ := hostileEnv(t, ResponseModeQuery)
	e.op.setTweak(func(c map[string]any) {
		for i := range 20000 {
			c["claim"+strconv.Itoa(i)] = i
		}
	})
	if got, r := e.signInOnce(); got.Status != http.StatusSeeOther || !got.SignedIn {
		t.Errorf("sign-in = %+v\n%.1000s", got, r.body)
	}
}
