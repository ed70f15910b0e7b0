package login

import (
	"context"

	"encoding/json"
	"github.com/idpkit/idpkit/scim/store"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSignIn(t *testing.T) {
	alice := opUser{sub: "00ualice", login: "alice@example.com", email: "alice@example.com"}
	tests := []struct {
		name string
		// setup prepares users and the provider; callback may rewrite the
		// callback URL and browser before it is followed.
		setup    func(e *env)
		callback func(e *env, b *browser, u string) (*browser, string)
		status   int
		bodyHas  string
		signedIn bool
	}{
		{
			name:     "provisioned by externalId",
			setup:    func(e *env) { e.addUser("u1", "alice@example.com", "00ualice", true) },
			status:   http.StatusSeeOther,
			signedIn: true,
		},
		{
			name:     "provisioned by userName, case-insensitive",
			setup:    func(e *env) { e.addUser("u1", "Alice@Example.com", "", true) },
			status:   http.StatusSeeOther,
			signedIn: true,
		},
		{
			name: "provisioned by email",
			setup: func(e *env) {
				e.addUser("u1", "alice.work@example.com", "", true)
				e.op.setUser(opUser{sub: "00ualice", login: "alice", email: "alice.work@example.com"})
			},
			status:   http.StatusSeeOther,
			signedIn: true,
		},
		{
			name:    "deactivated",
			setup:   func(e *env) { e.addUser("u1", "alice@example.com", "00ualice", false) },
			status:  http.StatusForbidden,
			bodyHas: "your account has been deactivated",
		},
		{
			name:    "not provisioned",
			setup:   func(e *env) { e.addUser("u2", "bob@example.com", "00ubob", true) },
			status:  http.StatusForbidden,
			bodyHas: "your account has not been provisioned to this app by your Okta administrator",
		},
		{
			name:  "wrong state",
			setup: func(e *env) { e.addUser("u1", "alice@example.com", "00ualice", true) },
			callback: func(e *env, b *browser, u string) (*browser, string) {
				return b, replaceParam(u, "state", "forged")
			},
			status:  http.StatusBadRequest,
			bodyHas: "unknown, expired or was already used",
		},
		{
			name:  "missing state",
			setup: func(e *env) { e.addUser("u1", "alice@example.com", "00ualice", true) },
			callback: func(e *env, b *browser, u string) (*browser, string) {
				return b, replaceParam(u, "state", "")
			},
			status:  http.StatusBadRequest,
			bodyHas: "has no state",
		},
		{
			name:  "state from another browser",
			setup: func(e *env) { e.addUser("u1", "alice@example.com", "00ualice", true) },
			callback: func(e *env, b *browser, u string) (*browser, string) {
				return newBrowser(e.t), u
			},
			status:  http.StatusBadRequest,
			bodyHas: "started in another browser",
		},
		{
			name:  "expired state",
			setup: func(e *env) { e.addUser("u1", "alice@example.com", "00ualice", true) },
			callback: func(e *env, b *browser, u string) (*browser, string) {
				e.now = e.now.Add(11 * time.Minute)
				return b, u
			},
			status:  http.StatusBadRequest,
			bodyHas: "expired",
		},
		{
			name:  "missing code",
			setup: func(e *env) { e.addUser("u1", "alice@example.com", "00ualice", true) },
			callback: func(e *env, b *browser, u string) (*browser, string) {
				return b, replaceParam(u, "code", "")
			},
			status:  http.StatusBadRequest,
			bodyHas: "no authorization code",
		},
		{
			name:  "code refused by the provider",
			setup: func(e *env) { e.addUser("u1", "alice@example.com", "00ualice", true) },
			callback: func(e *env, b *browser, u string) (*browser, string) {
				return b, replaceParam(u, "code", "bogus")
			},
			status:  http.StatusBadRequest,
			bodyHas: "invalid_grant",
		},
		{
			name: "bad signature",
			setup: func(e *env) {
				e.addUser("u1", "alice@example.com", "00ualice", true)
				e.op.mu.Lock()
				e.op.badSignature = true
				e.op.mu.Unlock()
			},
			status:  http.StatusBadRequest,
			bodyHas: "could not be verified",
		},
		{
			name: "wrong nonce",
			setup: func(e *env) {
				e.addUser("u1", "alice@example.com", "00ualice", true)
				e.op.setTweak(func(c map[string]any) { c["nonce"] = "other" })
			},
			status:  http.StatusBadRequest,
			bodyHas: "does not belong to this sign-in",
		},
		{
			name: "no nonce",
			setup: func(e *env) {
				e.addUser("u1", "alice@example.com", "00ualice", true)
				e.op.setTweak(func(c map[string]any) { delete(c, "nonce") })
			},
			status:  http.StatusBadRequest,
			bodyHas: "does not belong to this sign-in",
		},
		{
			name: "wrong audience",
			setup: func(e *env) {
				e.addUser("u1", "alice@example.com", "00ualice", true)
				e.op.setTweak(func(c map[string]any) { c["aud"] = "0oaother" })
			},
			status:  http.StatusBadRequest,
			bodyHas: "could not be verified",
		},
		{
			name: "wrong issuer",
			setup: func(e *env) {
				e.addUser("u1", "alice@example.com", "00ualice", true)
				e.op.setTweak(func(c map[string]any) { c["iss"] = "https://evil.example.com" })
			},
			status:  http.StatusBadRequest,
			bodyHas: "could not be verified",
		},
		{
			name: "expired id token",
			setup: func(e *env) {
				e.addUser("u1", "alice@example.com", "00ualice", true)
				e.op.setTweak(func(c map[string]any) { c["exp"] = e.now.Add(-2 * time.Minute).Unix() })
			},
			status:  http.StatusBadRequest,
			bodyHas: "could not be verified",
		},
		{
			name:  "error from provider is shown escaped",
			setup: func(e *env) { e.addUser("u1", "alice@example.com", "00ualice", true) },
			callback: func(e *env, b *browser, u string) (*browser, string) {
				pu, _ := url.Parse(u)
				q := pu.Query()
				q.Del("code")
				q.Set("error", "access_denied")
				q.Set("error_description", "User is not assigned to the client application. <script>x</script>")
				pu.RawQuery = q.Encode()
				return b, pu.String()
			},
			status:  http.StatusForbidden,
			bodyHas: "User is not assigned to the client application. &lt;script&gt;x&lt;/script&gt;",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.op.setUser(alice)
			tt.setup(e)
			b := newBrowser(t)
			cb := e.startLogin(b)
			if !strings.HasPrefix(cb, e.app.URL+"/t/acme/oidc/callback?") {
				t.Fatalf("provider redirected to %q", cb)
			}
			if tt.callback != nil {
				b, cb = tt.callback(e, b, cb)
			}
			r := b.get(cb)
			if r.status != tt.status {
				t.Fatalf("callback status = %d, want %d; body:\n%s", r.status, tt.status, r.body)
			}
			if tt.bodyHas != "" && !strings.Contains(strings.ToLower(r.body), strings.ToLower(tt.bodyHas)) {
				t.Errorf("callback body does not contain %q:\n%s", tt.bodyHas, r.body)
			}
			if strings.Contains(r.body, "<script>") {
				t.Errorf("callback page reflects raw input:\n%s", r.body)
			}
			sc := setCookieFor(r, SessionCookie)
			if got := sc != nil; got != tt.signedIn {
				t.Errorf("session cookie set = %v, want %v", got, tt.signedIn)
			}
			if got := e.store.countTokens(KindSession); got != map[bool]int{true: 1, false: 0}[tt.signedIn] {
				t.Errorf("sessions in store = %d", got)
			}
			if !tt.signedIn {
				if got := r.header.Get("Content-Type"); got != "text/html; charset=utf-8" {
					t.Errorf("Content-Type = %q", got)
				}
				if got := r.header.Get("Cache-Control"); got != "no-store" {
					t.Errorf("Cache-Control = %q", got)
				}
				if me := b.get(e.app.URL + "/t/acme/me"); me.status != http.StatusUnauthorized {
					t.Errorf("/me after a refused sign-in = %d", me.status)
				}
				return
			}
			if diff := cmp.Diff([]any{"/t/acme/me", "/t/acme", true, http.SameSiteLaxMode}, []any{r.header.Get("Location"), sc.Path, sc.HttpOnly, sc.SameSite}); diff != "" {
				t.Errorf("redirect and cookie (-want +got):\n%s", diff)
			}
			me := b.get(e.app.URL + "/t/acme/me")
			if me.status != http.StatusOK || !strings.Contains(me.body, "Signed in as ") {
				t.Errorf("/me = %d:\n%s", me.status, me.body)
			}
		})
	}
}

func replaceParam(u, name, value string) string {
	pu, _ := url.Parse(u)
	q := pu.Query()
	if value == "" {
		q.Del(name)
	} else {
		q.Set(name, value)
	}
	pu.RawQuery = q.Encode()
	return pu.String()
}

func TestSignInFlow(t *testing.T) {
	e := newEnv(t)
	e.op.setUser(opUser{sub: "00ualice", login: "alice@example.com", email: "alice@example.com"})
	e.addUser("u1", "alice@example.com", "00ualice", true)
	b := newBrowser(t)

	t.Run("login redirect", func(t *testing.T) {
		r := b.get(e.app.URL + "/t/acme/login")
		loc, err := url.Parse(r.header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		q := loc.Query()
		got := map[string]string{
			"endpoint": loc.Scheme + "://" + loc.Host + loc.Path, "client_id": q.Get("client_id"), "redirect_uri": q.Get("redirect_uri"),
			"response_type": q.Get("response_type"), "scope": q.Get("scope"), "code_challenge_method": q.Get("code_challenge_method"),
		}
		want := map[string]string{
			"endpoint": e.op.srv.URL + "/oauth2/v1/authorize", "client_id": "0oaclient", "redirect_uri": e.app.URL + "/t/acme/oidc/callback",
			"response_type": "code", "scope": "openid profile email", "code_challenge_method": "S256",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("authorization request (-want +got):\n%s", diff)
		}
		for _, p := range []string{"state", "nonce", "code_challenge"} {
			if len(q.Get(p)) < 40 {
				t.Errorf("%s = %q, too short", p, q.Get(p))
			}
		}
		c := setCookieFor(r, LoginCookie)
		if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.MaxAge != 600 {
			t.Errorf("login cookie = %+v", c)
		}
		if got := e.store.countTokens(KindLoginState); got != 1 {
			t.Errorf("login states in store = %d, want 1", got)
		}
	})

	var cb string
	t.Run("sign in and /me", func(t *testing.T) {
		cb = e.startLogin(b)
		if r := b.get(cb); r.status != http.StatusSeeOther {
			t.Fatalf("callback = %d %s", r.status, r.body)
		}
		r := b.do(http.MethodGet, e.app.URL+"/t/acme/me", map[string]string{"Accept": "application/json"}, "")
		var got Me
		if err := json.Unmarshal([]byte(r.body), &got); err != nil {
			t.Fatalf("/me JSON %q: %v", r.body, err)
		}
		want := Me{Tenant: "acme", UserName: "alice@example.com", DisplayName: "Display u1", ID: "u1", Sub: "00ualice"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("/me (-want +got):\n%s", diff)
		}
		html := b.get(e.app.URL + "/t/acme/me")
		if !strings.Contains(html.body, "Signed in as alice@example.com") {
			t.Errorf("/me HTML:\n%s", html.body)
		}
	})

	t.Run("reused state while signed in goes to /me", func(t *testing.T) {
		r := b.get(cb)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/t/acme/me" || setCookieFor(r, SessionCookie) != nil {
			t.Errorf("replayed callback = %d to %q, cookie %v", r.status, r.header.Get("Location"), setCookieFor(r, SessionCookie))
		}
		if got := e.store.countTokens(KindSession); got != 1 {
			t.Errorf("sessions after the replay = %d, want 1", got)
		}
	})

	t.Run("reconfiguring sign-in ends sessions from the old Okta org", func(t *testing.T) {
		ctx := context.Background()
		old, err := e.store.GetTenant(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		set := func(issuer string) {
			if _, err := e.store.UpdateTenant(ctx, "acme", func(t *store.Tenant) error { t.Issuer = issuer; return nil }); err != nil {
				t.Fatal(err)
			}
		}
		set("https://other.okta.com")
		if r := b.get(e.app.URL + "/t/acme/me"); r.status != http.StatusUnauthorized {
			t.Errorf("/me with a session from the previous issuer = %d", r.status)
		}
		set(old.Issuer)
		cb = e.startLogin(b)
		if r := b.get(cb); r.status != http.StatusSeeOther {
			t.Fatalf("callback = %d %s", r.status, r.body)
		}
	})

	t.Run("deactivation ends access", func(t *testing.T) {
		e.setActive("u1", false)
		r := b.get(e.app.URL + "/t/acme/me")
		if r.status != http.StatusForbidden || !strings.Contains(r.body, "deactivated") {
			t.Errorf("/me after deactivation = %d %s", r.status, r.body)
		}
		if got := e.store.countTokens(KindSession); got != 0 {
			t.Errorf("sessions after deactivation = %d", got)
		}
		e.setActive("u1", true)
		if r := b.get(e.app.URL + "/t/acme/me"); r.status != http.StatusUnauthorized {
			t.Errorf("/me after reactivation without sign-in = %d", r.status)
		}
	})

	t.Run("logout", func(t *testing.T) {
		if r := b.get(e.startLogin(b)); r.status != http.StatusSeeOther {
			t.Fatalf("callback = %d", r.status)
		}
		r := b.do(http.MethodPost, e.app.URL+"/t/acme/logout", nil, "")
		if r.status != http.StatusOK {
			t.Errorf("logout = %d", r.status)
		}
		if r := b.get(e.app.URL + "/t/acme/me"); r.status != http.StatusUnauthorized || !strings.Contains(r.body, `href="/t/acme/login"`) {
			t.Errorf("/me after logout = %d %s", r.status, r.body)
		}
		if got := e.store.countTokens(KindSession); got != 0 {
			t.Errorf("sessions after logout = %d", got)
		}
	})

	t.Run("session expires", func(t *testing.T) {
		if r := b.get(e.startLogin(b)); r.status != http.StatusSeeOther {
			t.Fatalf("callback = %d", r.status)
		}
		e.now = e.now.Add(8*time.Hour + time.Second)
		if r := b.do(http.MethodGet, e.app.URL+"/t/acme/me", map[string]string{"Accept": "application/json"}, ""); r.status != http.StatusUnauthorized || !strings.Contains(r.body, "login_required") {
			t.Errorf("/me after 8h = %d %s", r.status, r.body)
		}
	})
}

func TestTwoTabs(t *testing.T) {
	e := newEnv(t)
	e.op.setUser(opUser{sub: "00ualice", login: "alice@example.com"})
	e.addUser("u1", "alice@example.com", "00ualice", true)
	b := newBrowser(t)
	cb1 := e.startLogin(b)
	cb2 := e.startLogin(b)
	for i, cb := range []string{cb1, cb2} {
		if r := b.get(cb); r.status != http.StatusSeeOther {
			t.Errorf("tab %d callback = %d %s", i+1, r.status, r.body)
		}
	}
}

func TestLoginErrors(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(e *env)
		path    string
		status  int
		bodyHas string
	}{
		{"unknown tenant", func(e *env) {}, "/t/nope/login", http.StatusNotFound, "There is no tenant named"},
		{"unknown tenant callback", func(e *env) {}, "/t/nope/oidc/callback?state=x&code=y", http.StatusNotFound, "There is no tenant named"},
		{"not configured", func(e *env) { e.tenants.Create(t.Context(), "fresh") }, "/t/fresh/login", http.StatusServiceUnavailable, "Connect Okta dialog"},
		{"provider down", func(e *env) { e.op.srv.Close() }, "/t/acme/login", http.StatusBadGateway, "Okta cannot be reached"},
		{"tenant name escaped", func(e *env) {}, "/t/%3Cb%3Ex/login", http.StatusNotFound, "&lt;b&gt;x"},
		{"me not signed in", func(e *env) {}, "/t/acme/me", http.StatusUnauthorized, "You are not signed in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			tt.setup(e)
			r := newBrowser(t).get(e.app.URL + tt.path)
			if r.status != tt.status || !strings.Contains(r.body, tt.bodyHas) {
				t.Errorf("GET %s = %d, want %d containing %q:\n%s", tt.path, r.status, tt.status, tt.bodyHas, r.body)
			}
		})
	}
}

func TestSignInAcrossInstances(t *testing.T) {
	e := newEnv(t)
	e.op.setUser(opUser{sub: "00ualice", login: "alice@example.com"})
	e.addUser("u1", "alice@example.com", "00ualice", true)
	b := newBrowser(t)
	cb := e.startLogin(b) // on the first instance
	e.second.Store(true)
	if r := b.get(cb); r.status != http.StatusSeeOther {
		t.Fatalf("callback on the second instance = %d %s", r.status, r.body)
	}
	e.second.Store(false)
	if r := b.get(e.app.URL + "/t/acme/me"); r.status != http.StatusOK {
		t.Errorf("/me on the first instance = %d", r.status)
	}
}

func TestDeprovisionedUser(t *testing.T) {
	e := newEnv(t)
	e.op.setUser(opUser{sub: "00ualice", login: "alice@example.com"})
	e.addUser("u1", "alice@example.com", "00ualice", true)
	b := newBrowser(t)
	if r := b.get(e.startLogin(b)); r.status != http.StatusSeeOther {
		t.Fatalf("callback = %d", r.status)
	}
	if err := e.store.DeleteResource(t.Context(), "acme", "User", "u1"); err != nil {
		t.Fatal(err)
	}
	if r := b.get(e.app.URL + "/t/acme/me"); r.status != http.StatusForbidden || !strings.Contains(r.body, "no longer provisioned") {
		t.Errorf("/me after delete = %d %s", r.status, r.body)
	}
}
