package login

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
)

// outcome is what a test sees of one callback.
type outcome struct {
	Status   int
	SignedIn bool // a session cookie was set and stored
	Keys     int  // requests to the keys endpoint
	Userinfo int  // requests to the userinfo endpoint
}

// signInOnce runs one login in a new browser and reports the callback.
func (e *env) signInOnce() (outcome, result) {
	e.t.Helper()
	b := newBrowser(e.t)
	before := e.store.countTokens(KindSession)
	r := b.get(e.startLogin(b))
	return outcome{
		Status:   r.status,
		SignedIn: setCookieFor(r, SessionCookie) != nil && e.store.countTokens(KindSession) == before+1,
		Keys:     e.op.hitCount("keys"),
		Userinfo: e.op.hitCount("userinfo"),
	}, r
}

func withOPTimeout(d time.Duration) func(*Config) { return func(c *Config) { c.OPTimeout = d } }

// TestIDTokenValidation: OpenID Connect Core §3.1.3.7, beyond go-oidc:
// each ID token is refused or accepted as the rule says, and a refused
// token never leads to a UserInfo request or a session.
func TestIDTokenValidation(t *testing.T) {
	ok := func(keys, userinfo int) outcome { return outcome{http.StatusSeeOther, true, keys, userinfo} }
	refused := func(keys int) outcome { return outcome{http.StatusBadRequest, false, keys, 0} }
	claims := func(f func(e *env, c map[string]any)) func(e *env) {
		return func(e *env) { e.op.setTweak(func(c map[string]any) { f(e, c) }) }
	}
	signed := func(alg jose.SignatureAlgorithm, key func(e *env) any, kid string) func(e *env) {
		return func(e *env) {
			e.op.set(func(op *testOP) {
				op.encode = func(c map[string]any) string { return signJWT(e.t, alg, key(e), kid, c) }
			})
		}
	}
	k1 := func(e *env) any { return e.op.key }
	ecKey := func(e *env) any { return e.op.ecKey }
	unpublished := func(e *env) any { return e.op.otherKey }
	publish := func(keys ...func(e *env) any) func(e *env) {
		return func(e *env) {
			e.op.set(func(op *testOP) {
				op.jwks = func() []any {
					var out []any
					for _, k := range keys {
						out = append(out, k(e))
					}
					return out
				}
			})
		}
	}
	jwk := func(key func(e *env) any, kid, alg string) func(e *env) any {
		return func(e *env) any { return publicJWK(key(e), kid, alg) }
	}
	fixed := func(m map[string]any) func(e *env) any { return func(*env) any { return m } }
	both := func(fs ...func(e *env)) func(e *env) {
		return func(e *env) {
			for _, f := range fs {
				f(e)
			}
		}
	}
	at := func(e *env, d time.Duration) int64 { return e.now.Add(d).Unix() }
	tests := []struct {
		name    string
		warm    bool // sign in once before setup (keys are cached)
		setup   func(e *env)
		want    outcome
		bodyHas string
	}{
		{"valid RS256", false, func(*env) {}, ok(1, 1), ""},
		{"iat 30 s ahead (clock skew)", false, claims(func(e *env, c map[string]any) {
			c["iat"], c["auth_time"], c["exp"] = at(e, 30*time.Second), at(e, 30*time.Second), at(e, time.Hour+30*time.Second)
		}), ok(1, 1), ""},
		{"iat an hour ahead", false, claims(func(e *env, c map[string]any) {
			c["iat"], c["exp"] = at(e, time.Hour), at(e, 2*time.Hour)
		}), refused(1), "could not be verified"},
		{"no iat", false, claims(func(e *env, c map[string]any) { delete(c, "iat") }), refused(1), "could not be verified"},
		{"iat not a number", false, claims(func(e *env, c map[string]any) { c["iat"] = "yesterday" }), refused(1), "could not be verified"},
		{"exp 30 s ago (clock skew)", false, claims(func(e *env, c map[string]any) {
			c["iat"], c["exp"] = at(e, -time.Hour), at(e, -30*time.Second)
		}), ok(1, 1), ""},
		{"expired 2 minutes ago", false, claims(func(e *env, c map[string]any) {
			c["iat"], c["exp"] = at(e, -time.Hour), at(e, -2*time.Minute)
		}), refused(1), "could not be verified"},
		{"no exp", false, claims(func(e *env, c map[string]any) { delete(c, "exp") }), refused(1), "could not be verified"},
		{"nbf in 10 minutes", false, claims(func(e *env, c map[string]any) { c["nbf"] = at(e, 10*time.Minute) }), refused(1), "could not be verified"},
		{"nbf 30 s ahead", false, claims(func(e *env, c map[string]any) { c["nbf"] = at(e, 30*time.Second) }), ok(1, 1), ""},
		{"no aud", false, claims(func(e *env, c map[string]any) { delete(c, "aud") }), refused(1), "could not be verified"},
		{"aud of another client", false, claims(func(e *env, c map[string]any) { c["aud"] = "0oaother" }), refused(1), "could not be verified"},
		{"aud array without azp", false, claims(func(e *env, c map[string]any) { c["aud"] = []string{e.op.clientID, "0oaother"} }), refused(1), "could not be verified"},
		{"aud array with azp of this client", false, claims(func(e *env, c map[string]any) {
			c["aud"], c["azp"] = []string{e.op.clientID, "0oaother"}, e.op.clientID
		}), ok(1, 1), ""},
		{"one aud, azp of another client", false, claims(func(e *env, c map[string]any) { c["azp"] = "0oaother" }), refused(1), "could not be verified"},
		{"one aud, azp of this client", false, claims(func(e *env, c map[string]any) { c["azp"] = e.op.clientID }), ok(1, 1), ""},
		{"empty sub", false, claims(func(e *env, c map[string]any) { c["sub"] = "" }), refused(1), "incomplete"},
		{"issuer mismatch", false, claims(func(e *env, c map[string]any) { c["iss"] = e.op.srv.URL + "/oauth2/default" }), refused(1), "could not be verified"},
		{"wrong at_hash", false, claims(func(e *env, c map[string]any) { c["at_hash"] = atHashOf("another access token") }), refused(1), "could not be verified"},
		{"no at_hash", false, claims(func(e *env, c map[string]any) { delete(c, "at_hash") }), ok(1, 1), ""},
		{"wrong nonce", false, claims(func(e *env, c map[string]any) { c["nonce"] = "n-0123456789" }), refused(1), "does not belong to this sign-in"},
		{"ES256", false, both(publish(jwk(k1, "k1", "RS256"), jwk(ecKey, "ec", "ES256")), signed(jose.ES256, ecKey, "ec")), ok(1, 1), ""},
		{"RS384 with the published key", false, signed(jose.RS384, k1, "k1"), refused(0), "could not be verified"},
		{"PS256 with the published key", false, signed(jose.PS256, k1, "k1"), refused(0), "could not be verified"},
		{"ES256 under the RSA key's kid", false, both(publish(jwk(k1, "k1", "RS256"), jwk(ecKey, "ec", "ES256")), signed(jose.ES256, ecKey, "k1")), refused(1), "could not be verified"},
		{"no kid, one published key", false, signed(jose.RS256, k1, ""), ok(1, 1), ""},
		{"no kid, several published keys", false, both(publish(jwk(ecKey, "ec", "ES256"), jwk(unpublished, "k0", "RS256"), jwk(k1, "k1", "RS256")), signed(jose.RS256, k1, "")), ok(1, 1), ""},
		{"unusable keys next to the signing key", false, publish(fixed(jwkSecp256k1), fixed(jwkEd25519), fixed(jwkX25519), fixed(jwkGarbageN), jwk(k1, "k1", "RS256")), ok(1, 1), ""},
		{"rotation: a newly published key signs at once", true, both(publish(jwk(k1, "k1", "RS256"), jwk(unpublished, "k2", "RS256")), signed(jose.RS256, unpublished, "k2")), ok(2, 2), ""},
		{"signed by a key never published", true, signed(jose.RS256, unpublished, "k9"), outcome{http.StatusBadRequest, false, 2, 1}, "could not be verified"},
		{"bad signature under the published kid", true, signed(jose.RS256, unpublished, "k1"), outcome{http.StatusBadRequest, false, 1, 1}, "could not be verified"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.op.setUser(opUser{sub: "00ualice", login: "alice@example.com", email: "alice@example.com"})
			e.addUser("u1", "alice@example.com", "00ualice", true)
			if tt.warm {
				if got, r := e.signInOnce(); !got.SignedIn {
					t.Fatalf("warm-up sign-in: %d %s", r.status, r.body)
				}
			}
			tt.setup(e)
			got, r := e.signInOnce()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("outcome (-want +got):\n%s\nbody:\n%s", diff, r.body)
			}
			if tt.bodyHas != "" && !strings.Contains(r.body, tt.bodyHas) {
				t.Errorf("body does not contain %q:\n%s", tt.bodyHas, r.body)
			}
			if !got.SignedIn && !strings.Contains(r.body, `href="/t/acme/login"`) {
				t.Errorf("refusal page has no link to sign in again:\n%s", r.body)
			}
		})
	}
}

// TestUserinfo: OpenID Connect Core §5.3.2. UserInfo is read after the ID
// token verified; a sub other than the ID token's, or a failed request,
// refuses the sign-in; its claims fill in what the ID token lacks.
func TestUserinfo(t *testing.T) {
	str := func(s string) *string { return &s }
	tests := []struct {
		name    string
		opts    []func(*Config)
		setup   func(e *env)
		want    outcome
		bodyHas string
	}{
		{"same sub", nil, func(*env) {}, outcome{http.StatusSeeOther, true, 1, 1}, ""},
		{"another sub", nil, func(e *env) { e.op.set(func(op *testOP) { op.userinfoSub = str("00uvictim") }) },
			outcome{http.StatusBadRequest, false, 1, 1}, "names another user than its identity token"},
		{"no sub", nil, func(e *env) { e.op.set(func(op *testOP) { op.userinfoExtra = map[string]any{"sub": nil} }) },
			outcome{http.StatusBadRequest, false, 1, 1}, "names another user"},
		{"401", nil, func(e *env) { e.op.set(func(op *testOP) { op.userinfoStatus = http.StatusUnauthorized }) },
			outcome{http.StatusBadGateway, false, 1, 1}, "HTTP 401, invalid_token"},
		{"500", nil, func(e *env) { e.op.set(func(op *testOP) { op.userinfoStatus = http.StatusInternalServerError }) },
			outcome{http.StatusBadGateway, false, 1, 1}, "HTTP 500"},
		{"no answer", []func(*Config){withOPTimeout(300 * time.Millisecond)}, func(e *env) { e.op.set(func(op *testOP) { op.hang["userinfo"] = true }) },
			outcome{http.StatusBadGateway, false, 1, 1}, "did not answer within 300ms"},
		{"not in discovery: not called", nil, func(e *env) { e.op.set(func(op *testOP) { op.noUserinfo = true }) },
			outcome{http.StatusSeeOther, true, 1, 0}, ""},
		{"ID token refused: not called", nil, func(e *env) { e.op.set(func(op *testOP) { op.badSignature = true }) },
			outcome{http.StatusBadRequest, false, 1, 0}, "could not be verified"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.opts...)
			e.op.setUser(opUser{sub: "00ualice", login: "alice@example.com", email: "alice@example.com"})
			e.addUser("u1", "alice@example.com", "00ualice", true)
			tt.setup(e)
			got, r := e.signInOnce()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("outcome (-want +got):\n%s\nbody:\n%s", diff, r.body)
			}
			if !strings.Contains(r.body, tt.bodyHas) {
				t.Errorf("body does not contain %q:\n%s", tt.bodyHas, r.body)
			}
		})
	}
}

// TestUserinfoFallback: preferred_username and email come from UserInfo
// only when the ID token has none, and an unverified email is not used.
func TestUserinfoFallback(t *testing.T) {
	tests := []struct {
		name     string
		userName string // the provisioned user's (no externalId)
		idToken  map[string]any
		userinfo map[string]any
		status   int
	}{
		{"username from userinfo", "alice@example.com", map[string]any{"preferred_username": nil, "email": nil}, nil, http.StatusSeeOther},
		{"email from userinfo", "alice.work@example.com", map[string]any{"preferred_username": "alice", "email": nil},
			map[string]any{"email": "alice.work@example.com", "email_verified": true}, http.StatusSeeOther},
		{"unverified email from userinfo", "alice.work@example.com", map[string]any{"preferred_username": "alice", "email": nil},
			map[string]any{"email": "alice.work@example.com", "email_verified": "false"}, http.StatusForbidden},
		{"the ID token's username wins", "alice@example.com", map[string]any{"preferred_username": "mallory@example.com", "email": nil},
			map[string]any{"preferred_username": "alice@example.com", "email": nil}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.op.setUser(opUser{sub: "00ualice", login: "alice@example.com", email: "alice@example.com"})
			e.addUser("u1", tt.userName, "", true)
			e.op.setTweak(func(c map[string]any) {
				for k, v := range tt.idToken {
					if v == nil {
						delete(c, k)
					} else {
						c[k] = v
					}
				}
			})
			e.op.set(func(op *testOP) { op.userinfoExtra = tt.userinfo })
			got, r := e.signInOnce()
			if got.Status != tt.status {
				t.Errorf("callback = %d, want %d:\n%s", got.Status, tt.status, r.body)
			}
		})
	}
}

// TestParallelLogins: two sign-ins started in one browser and finished in
// reverse order both succeed; each authorization request had its own
// state, nonce and S256 code challenge.
func TestParallelLogins(t *testing.T) {
	e := newEnv(t)
	e.op.setUser(opUser{sub: "00ualice", login: "alice@example.com"})
	e.addUser("u1", "alice@example.com", "00ualice", true)
	b := newBrowser(t)
	var authorize []string
	for range 2 {
		r := b.get(e.app.URL + "/t/acme/login")
		if r.status != http.StatusFound {
			t.Fatalf("/login = %d", r.status)
		}
		authorize = append(authorize, r.header.Get("Location"))
	}
	var callbacks []string
	for _, u := range authorize {
		r := b.get(u)
		if r.status != http.StatusFound {
			t.Fatalf("/authorize = %d %s", r.status, r.body)
		}
		callbacks = append(callbacks, r.header.Get("Location"))
	}
	var got []int
	for i := len(callbacks) - 1; i >= 0; i-- {
		got = append(got, b.get(callbacks[i]).status)
	}
	if diff := cmp.Diff([]int{http.StatusSeeOther, http.StatusSeeOther}, got); diff != "" {
		t.Errorf("callbacks, second tab first (-want +got):\n%s", diff)
	}
	var auths []url.Values
	e.op.set(func(op *testOP) { auths = op.authorizations })
	if len(auths) != 2 {
		t.Fatalf("%d authorization requests", len(auths))
	}
	for _, p := range []string{"state", "nonce", "code_challenge"} {
		if a, b := auths[0].Get(p), auths[1].Get(p); a == "" || a == b {
			t.Errorf("%s of the two sign-ins: %q and %q", p, a, b)
		}
	}
	for i, a := range auths {
		if a.Get("code_challenge_method") != "S256" || len(a.Get("code_challenge")) != 43 {
			t.Errorf("sign-in %d: code_challenge_method %q, challenge %q", i+1, a.Get("code_challenge_method"), a.Get("code_challenge"))
		}
	}
	// One browser, one session cookie: the second callback ends the
	// session the first started rather than leaving it orphaned.
	if got := e.store.countTokens(KindSession); got != 1 {
		t.Errorf("sessions = %d, want 1", got)
	}
}

// TestReloadedCallback: a callback whose state was used already is a 4xx
// page with a link to sign in again, never a 500; someone who is signed
// in goes on to /me instead. A callback in a browser that did not start
// the sign-in is refused.
func TestReloadedCallback(t *testing.T) {
	tests := []struct {
		name     string
		active   bool   // the SCIM user is active (the first callback signs in)
		between  string // "logout" signs out between the callbacks
		other    bool   // the second callback comes from another browser
		first    int
		second   int
		location string
		bodyHas  string
	}{
		{"signed in: to /me", true, "", false, http.StatusSeeOther, http.StatusSeeOther, "/t/acme/me", ""},
		{"signed out since", true, "logout", false, http.StatusSeeOther, http.StatusBadRequest, "", "already used"},
		{"first callback refused", false, "", false, http.StatusForbidden, http.StatusBadRequest, "", "already used"},
		{"another browser, after a sign-in", true, "", true, http.StatusSeeOther, http.StatusBadRequest, "", "already used"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.op.setUser(opUser{sub: "00ualice", login: "alice@example.com"})
			e.addUser("u1", "alice@example.com", "00ualice", tt.active)
			b := newBrowser(t)
			cb := e.startLogin(b)
			first := b.get(cb)
			if tt.between == "logout" {
				b.do(http.MethodPost, e.app.URL+"/t/acme/logout", nil, "")
			}
			again := b
			if tt.other {
				again = newBrowser(t)
			}
			r := again.get(cb)
			got := []any{first.status, r.status, r.header.Get("Location"), setCookieFor(r, SessionCookie) == nil}
			if diff := cmp.Diff([]any{tt.first, tt.second, tt.location, true}, got); diff != "" {
				t.Errorf("[first, second, Location, no new session] (-want +got):\n%s\n%s", diff, r.body)
			}
			if tt.bodyHas != "" && (!strings.Contains(r.body, tt.bodyHas) || !strings.Contains(r.body, `<a href="/t/acme/login">Sign in again</a>`)) {
				t.Errorf("page lacks %q or the link to sign in again:\n%s", tt.bodyHas, r.body)
			}
		})
	}
	t.Run("callback in another browser", func(t *testing.T) {
		e := newEnv(t)
		e.op.setUser(opUser{sub: "00ualice", login: "alice@example.com"})
		e.addUser("u1", "alice@example.com", "00ualice", true)
		cb := e.startLogin(newBrowser(t))
		r := newBrowser(t).get(cb)
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, "started in another browser") || setCookieFor(r, SessionCookie) != nil {
			t.Errorf("callback in another browser = %d:\n%s", r.status, r.body)
		}
		if got := e.op.hitCount("token"); got != 0 {
			t.Errorf("token requests = %d, want 0", got)
		}
	})
}

// TestFormPost: response_mode=form_post (OAuth 2.0 Form Post Response
// Mode): the callback takes the response as a POSTed form, and the login
// cookie is SameSite=None; Secure so the cross-site POST carries it.
func TestFormPost(t *testing.T) {
	formPostMode := func(c *Config) { c.ResponseMode = ResponseModeFormPost }
	setup := func(t *testing.T, opts ...func(*Config)) *env {
		e := newEnv(t, opts...)
		e.op.setUser(opUser{sub: "00ualice", login: "alice@example.com"})
		e.addUser("u1", "alice@example.com", "00ualice", true)
		return e
	}
	t.Run("login request and cookie", func(t *testing.T) {
		e := setup(t, formPostMode)
		r := newBrowser(t).get(e.app.URL + "/t/acme/login")
		loc, _ := url.Parse(r.header.Get("Location"))
		c := setCookieFor(r, LoginCookie)
		if c == nil {
			t.Fatal("no login cookie")
		}
		got := []any{loc.Query().Get("response_mode"), c.SameSite, c.Secure, c.HttpOnly, c.Path}
		if diff := cmp.Diff([]any{"form_post", http.SameSiteNoneMode, true, true, "/t/acme"}, got); diff != "" {
			t.Errorf("[response_mode, SameSite, Secure, HttpOnly, Path] on a plain-http loopback app (-want +got):\n%s", diff)
		}
	})
	t.Run("query mode keeps SameSite=Lax", func(t *testing.T) {
		e := setup(t)
		r := newBrowser(t).get(e.app.URL + "/t/acme/login")
		loc, _ := url.Parse(r.header.Get("Location"))
		c := setCookieFor(r, LoginCookie)
		got := []any{loc.Query().Has("response_mode"), c.SameSite, c.Secure}
		if diff := cmp.Diff([]any{false, http.SameSiteLaxMode, false}, got); diff != "" {
			t.Errorf("[response_mode sent, SameSite, Secure] (-want +got):\n%s", diff)
		}
	})

	type req struct {
		method      string
		contentType string
		body        func(form url.Values) string
		query       bool // the response in the URL's query instead
	}
	posted := req{http.MethodPost, "application/x-www-form-urlencoded", url.Values.Encode, false}
	tests := []struct {
		name     string
		mode     func(*Config)
		req      req
		status   int
		allow    string
		bodyHas  string
		signedIn bool
	}{
		{"posted form", formPostMode, posted, http.StatusSeeOther, "", "", true},
		{"posted form with a charset", formPostMode, req{http.MethodPost, "application/x-www-form-urlencoded; charset=utf-8", url.Values.Encode, false}, http.StatusSeeOther, "", "", true},
		{"GET in form_post mode", formPostMode, req{http.MethodGet, "", nil, true}, http.StatusMethodNotAllowed, "POST", "sign-in response as a form Okta posts", false},
		{"POST in query mode", nil, posted, http.StatusMethodNotAllowed, "GET", "sign-in response as a link", false},
		{"JSON body", formPostMode, req{http.MethodPost, "application/json", func(v url.Values) string { return `{"code":"` + v.Get("code") + `"}` }, false}, http.StatusUnsupportedMediaType, "", "not a form", false},
		{"multipart body", formPostMode, req{http.MethodPost, "multipart/form-data; boundary=x", url.Values.Encode, false}, http.StatusUnsupportedMediaType, "", "not a form", false},
		{"body too large", formPostMode, req{http.MethodPost, "application/x-www-form-urlencoded", func(v url.Values) string {
			v.Set("padding", strings.Repeat("x", maxCallbackBody))
			return v.Encode()
		}, false}, http.StatusRequestEntityTooLarge, "", "too large", false},
		{"response in the query of a POST", formPostMode, req{http.MethodPost, "application/x-www-form-urlencoded", func(url.Values) string { return "" }, true}, http.StatusBadRequest, "", "has no state", false},
		{"error posted", formPostMode, req{http.MethodPost, "application/x-www-form-urlencoded", func(v url.Values) string {
			return url.Values{"error": {"access_denied"}, "error_description": {"User is not assigned to the client application."}, "state": v["state"]}.Encode()
		}, false}, http.StatusForbidden, "", "User is not assigned to the client application.", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []func(*Config)
			if tt.mode != nil {
				opts = append(opts, tt.mode)
			}
			e := setup(t, opts...)
			b := newBrowser(t)
			r := b.get(e.app.URL + "/t/acme/login")
			r = b.get(r.header.Get("Location"))
			var action string
			var form url.Values
			if r.status == http.StatusOK {
				action, form = formPost(t, r.body)
			} else {
				cb, _ := url.Parse(r.header.Get("Location"))
				form = cb.Query()
				cb.RawQuery = ""
				action = cb.String()
			}
			u, body := action, ""
			if tt.req.query {
				u += "?" + form.Encode()
			}
			if tt.req.body != nil {
				body = tt.req.body(form)
			}
			hdr := map[string]string{}
			if tt.req.contentType != "" {
				hdr["Content-Type"] = tt.req.contentType
			}
			res := b.do(tt.req.method, u, hdr, body)
			got := []any{res.status, res.header.Get("Allow"), setCookieFor(res, SessionCookie) != nil}
			if diff := cmp.Diff([]any{tt.status, tt.allow, tt.signedIn}, got); diff != "" {
				t.Errorf("[status, Allow, signed in] (-want +got):\n%s\n%s", diff, res.body)
			}
			if !strings.Contains(res.body, tt.bodyHas) {
				t.Errorf("body lacks %q:\n%s", tt.bodyHas, res.body)
			}
			if !tt.signedIn && res.status != http.StatusForbidden && !strings.Contains(res.body, `href="/t/acme/login"`) {
				t.Errorf("refusal page has no link to sign in again:\n%s", res.body)
			}
		})
	}

	t.Run("a refused GET leaves the sign-in to finish by POST; a re-POST goes to /me", func(t *testing.T) {
		e := setup(t, formPostMode)
		b := newBrowser(t)
		action, form := e.startFormPostLogin(b)
		if r := b.get(action + "?" + form.Encode()); r.status != http.StatusMethodNotAllowed {
			t.Fatalf("GET callback = %d", r.status)
		}
		var got []int
		for range 2 {
			got = append(got, b.post(action, form).status)
		}
		if diff := cmp.Diff([]int{http.StatusSeeOther, http.StatusSeeOther}, got); diff != "" {
			t.Errorf("POST, re-POST (-want +got):\n%s", diff)
		}
		if me := b.get(e.app.URL + "/t/acme/me"); me.status != http.StatusOK {
			t.Errorf("/me = %d", me.status)
		}
	})
}

// TestOPTimeouts: a slow token or keys endpoint (3 s) still completes
// within the 10 s timeout; an endpoint that does not answer within the
// timeout gives a readable 502 page.
func TestOPTimeouts(t *testing.T) {
	tests := []struct {
		name     string
		endpoint string
		slow     time.Duration // 0: does not answer
		path     string        // where the failure shows: "login" or "callback"
		status   int
		bodyHas  string
	}{
		{"slow token endpoint", "token", 3 * time.Second, "callback", http.StatusSeeOther, ""},
		{"slow keys endpoint", "keys", 3 * time.Second, "callback", http.StatusSeeOther, ""},
		{"token endpoint does not answer", "token", 0, "callback", http.StatusBadGateway, "did not answer within 400ms"},
		{"keys endpoint does not answer", "keys", 0, "callback", http.StatusBadGateway, "could not read Okta&#39;s signing keys"},
		{"discovery does not answer", "discovery", 0, "login", http.StatusBadGateway, "Okta cannot be reached"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var opts []func(*Config)
			if tt.slow == 0 {
				opts = append(opts, withOPTimeout(400*time.Millisecond))
			}
			e := newEnv(t, opts...)
			e.op.setUser(opUser{sub: "00ualice", login: "alice@example.com"})
			e.addUser("u1", "alice@example.com", "00ualice", true)
			e.op.set(func(op *testOP) {
				if tt.slow > 0 {
					op.delay[tt.endpoint] = tt.slow
				} else {
					op.hang[tt.endpoint] = true
				}
			})
			b := newBrowser(t)
			var r result
			if tt.path == "login" {
				r = b.get(e.app.URL + "/t/acme/login")
			} else {
				r = b.get(e.startLogin(b))
			}
			if r.status != tt.status || !strings.Contains(r.body, tt.bodyHas) {
				t.Errorf("%s = %d, want %d with %q:\n%s", tt.path, r.status, tt.status, tt.bodyHas, r.body)
			}
			if got := setCookieFor(r, SessionCookie) != nil; got != (tt.status == http.StatusSeeOther) {
				t.Errorf("signed in = %v", got)
			}
		})
	}
}

// TestTokenEndpointErrors: an error from the token endpoint is a readable
// page naming the OAuth error code (RFC 6749 §5.2), with no session and no
// further request to the provider.
func TestTokenEndpointErrors(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		want    int
		bodyHas string
	}{
		{"500 server_error", 500, `{"error":"server_error","error_description":"The server encountered an internal error."}`, http.StatusBadGateway, "(server_error: The server encountered an internal error.)"},
		{"503 HTML", 503, `<html>down for maintenance</html>`, http.StatusBadGateway, "(HTTP 503)"},
		{"400 invalid_grant", 400, `{"error":"invalid_grant","error_description":"The authorization code is invalid or has expired."}`, http.StatusBadRequest, "(invalid_grant: The authorization code is invalid or has expired.)"},
		{"401 invalid_client", 401, `{"error":"invalid_client","error_description":"Client authentication failed."}`, http.StatusBadRequest, "(invalid_client: Client authentication failed.)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.op.setUser(opUser{sub: "00ualice", login: "alice@example.com"})
			e.addUser("u1", "alice@example.com", "00ualice", true)
			e.op.set(func(op *testOP) { op.tokenStatus, op.tokenBody = tt.status, tt.body })
			got, r := e.signInOnce()
			if diff := cmp.Diff(outcome{Status: tt.want}, got); diff != "" {
				t.Errorf("outcome (-want +got):\n%s\n%s", diff, r.body)
			}
			if !strings.Contains(r.body, tt.bodyHas) || !strings.Contains(r.body, `href="/t/acme/login"`) {
				t.Errorf("page lacks %q or a link to sign in again:\n%s", tt.bodyHas, r.body)
			}
		})
	}
}

// TestNoSecretsInLogs: at debug level, neither a successful nor a refused
// sign-in logs a token, a code, a secret, a state, a nonce or a cookie.
func TestNoSecretsInLogs(t *testing.T) {
	rec := &logRecorder{}
	e := newEnv(t, func(c *Config) { c.Logger = slog.New(rec) })
	e.op.setUser(opUser{sub: "00ualice", login: "alice@example.com"})
	e.addUser("u1", "alice@example.com", "00ualice", true)
	var idTokens []string
	e.op.set(func(op *testOP) {
		op.encode = func(c map[string]any) string {
			s := op.sign(op.key, c)
			idTokens = append(idTokens, s)
			return s
		}
	})
	secrets := []string{e.op.clientSecret, accessTokenFor("00ualice")}
	run := func(tweak func(map[string]any)) {
		e.op.setTweak(tweak)
		b := newBrowser(t)
		r := b.get(e.app.URL + "/t/acme/login")
		if c := setCookieFor(r, LoginCookie); c != nil {
			secrets = append(secrets, c.Value)
		}
		r = b.get(r.header.Get("Location"))
		cb, _ := url.Parse(r.header.Get("Location"))
		secrets = append(secrets, cb.Query().Get("code"), cb.Query().Get("state"))
		r = b.get(cb.String())
		if c := setCookieFor(r, SessionCookie); c != nil {
			secrets = append(secrets, c.Value)
		}
		b.get(cb.String()) // reloaded
	}
	run(nil)
	run(func(c map[string]any) { c["at_hash"] = "wrong" })
	run(func(c map[string]any) { c["nonce"] = "wrong" })
	e.op.set(func(op *testOP) { op.userinfoSub = new(string) })
	run(nil)
	e.op.set(func(op *testOP) {
		for _, a := range op.authorizations {
			secrets = append(secrets, a.Get("nonce"), a.Get("code_challenge"))
		}
		secrets = append(secrets, idTokens...)
	})
	logs := rec.text()
	if !strings.Contains(logs, "oidc callback: signed in") || !strings.Contains(logs, "at_hash") {
		t.Fatalf("the logs do not show the sign-ins:\n%s", logs)
	}
	for _, s := range secrets {
		if len(s) < 8 {
			t.Fatalf("secret %q too short to search for", s)
		}
		if strings.Contains(logs, s) {
			t.Errorf("the logs hold %.12s…:\n%s", s, logs)
		}
	}
}
