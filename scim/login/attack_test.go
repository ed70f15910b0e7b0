package login

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/tenant"
)

// jwt encodes a JWT with the given header, signed by sign (nil: no signature).
func jwt(header, claims map[string]any, sign func(input string) []byte) string {
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	var sig []byte
	if sign != nil {
		sig = sign(in)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// TestIDTokenAttacks: forged or misdirected ID tokens give no session
// (OpenID Connect Core §3.1.3.7).
func TestIDTokenAttacks(t *testing.T) {
	alice := opUser{sub: "00ualice", login: "alice@example.com", email: "alice@example.com"}
	hs256 := func(key []byte) func(string) []byte {
		return func(in string) []byte { m := hmac.New(sha256.New, key); m.Write([]byte(in)); return m.Sum(nil) }
	}
	pubPEM := func(op *testOP) []byte {
		der, _ := x509.MarshalPKIXPublicKey(&op.key.PublicKey)
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	tests := []struct {
		name    string
		setup   func(e *env)
		bodyHas string
	}{
		{"alg none", func(e *env) {
			e.op.encode = func(c map[string]any) string { return jwt(map[string]any{"alg": "none", "typ": "JWT"}, c, nil) }
		}, "could not be verified"},
		{"alg none with kid", func(e *env) {
			e.op.encode = func(c map[string]any) string {
				return jwt(map[string]any{"alg": "none", "kid": "k1"}, c, nil)
			}
		}, "could not be verified"},
		{"HS256 keyed with the public key PEM", func(e *env) {
			key := pubPEM(e.op)
			e.op.encode = func(c map[string]any) string {
				return jwt(map[string]any{"alg": "HS256", "kid": "k1", "typ": "JWT"}, c, hs256(key))
			}
		}, "could not be verified"},
		{"HS256 keyed with the client secret", func(e *env) {
			key := []byte(e.op.clientSecret)
			e.op.encode = func(c map[string]any) string {
				return jwt(map[string]any{"alg": "HS256", "typ": "JWT"}, c, hs256(key))
			}
		}, "could not be verified"},
		{"issuer with a trailing slash", func(e *env) {
			e.op.setTweak(func(c map[string]any) { c["iss"] = e.op.srv.URL + "/" })
		}, "could not be verified"},
		{"another client's token", func(e *env) {
			e.op.setTweak(func(c map[string]any) { c["aud"] = "0oaother" })
		}, "could not be verified"},
		{"several audiences, no azp", func(e *env) {
			e.op.setTweak(func(c map[string]any) { c["aud"] = []string{"0oaother", e.op.clientID} })
		}, "could not be verified"},
		{"azp of another client", func(e *env) {
			e.op.setTweak(func(c map[string]any) { c["aud"] = []string{e.op.clientID, "0oaother"}; c["azp"] = "0oaother" })
		}, "could not be verified"},
		{"no sub", func(e *env) {
			e.op.setTweak(func(c map[string]any) { delete(c, "sub") })
		}, "incomplete"},
		{"userName matches a user linked to another Okta user", func(e *env) {
			e.store.DeleteResource(context.Background(), "acme", "User", "u1")
			e.addUser("u1", "alice@example.com", "00uvictim", true)
		}, "has not been provisioned"},
		{"unverified email matches", func(e *env) {
			e.store.DeleteResource(context.Background(), "acme", "User", "u1")
			e.addUser("u1", "victim@example.com", "", true)
			e.op.setUser(opUser{sub: "00uattacker", login: "attacker", email: "victim@example.com"})
			e.op.setTweak(func(c map[string]any) { c["email_verified"] = false })
		}, "has not been provisioned"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.op.setUser(alice)
			e.addUser("u1", "alice@example.com", "00ualice", true)
			tt.setup(e)
			b := newBrowser(t)
			r := b.get(e.startLogin(b))
			if r.status == http.StatusSeeOther || setCookieFor(r, SessionCookie) != nil || e.store.countTokens(KindSession) != 0 {
				t.Fatalf("signed in: %d %s", r.status, r.body)
			}
			if !strings.Contains(r.body, tt.bodyHas) {
				t.Errorf("body does not contain %q:\n%s", tt.bodyHas, r.body)
			}
		})
	}
}

// TestCrossTenant: nothing issued for tenant acme (login state, session,
// admin session) works for tenant beta, even when both sign in through
// the same Okta app.
func TestCrossTenant(t *testing.T) {
	e := newEnv(t)
	e.op.setUser(opUser{sub: "00ualice", login: "alice@example.com", email: "alice@example.com"})
	e.addUser("u1", "alice@example.com", "00ualice", true)
	ctx := context.Background()
	if _, err := e.tenants.Create(ctx, "beta"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.tenants.Configure(ctx, "beta", tenant.SignIn{OktaDomain: e.op.srv.URL, ClientID: e.op.clientID, ClientSecret: e.op.clientSecret}); err != nil {
		t.Fatal(err)
	}
	// The same person is provisioned in beta too, but inactive there.
	data, _ := json.Marshal(map[string]any{"id": "b1", "userName": "alice@example.com", "externalId": "00ualice", "active": false})
	if _, err := e.store.CreateResource(ctx, "beta", recordOf("b1", "alice@example.com", "00ualice", data)); err != nil {
		t.Fatal(err)
	}

	t.Run("acme's state at beta's callback", func(t *testing.T) {
		b := newBrowser(t)
		cb := e.startLogin(b)
		binding := b.cookie(e.app.URL+"/t/acme/", LoginCookie)
		u, _ := url.Parse(cb)
		u.Path = "/t/beta/oidc/callback"
		r := b.do(http.MethodGet, u.String(), map[string]string{"Cookie": LoginCookie + "=" + binding.Value}, "")
		if r.status != http.StatusBadRequest || setCookieFor(r, SessionCookie) != nil {
			t.Errorf("beta callback with acme's state = %d %s", r.status, r.body)
		}
	})
	t.Run("acme's session at beta", func(t *testing.T) {
		b := newBrowser(t)
		r := b.get(e.startLogin(b))
		sc := setCookieFor(r, SessionCookie)
		if sc == nil {
			t.Fatalf("acme sign-in failed: %d %s", r.status, r.body)
		}
		if sc.Path != "/t/acme" {
			t.Errorf("session cookie path = %q", sc.Path)
		}
		for _, p := range []string{"/t/beta/me", "/t/acme-x/me"} {
			r := b.do(http.MethodGet, e.app.URL+p, map[string]string{"Cookie": SessionCookie + "=" + sc.Value, "Accept": "application/json"}, "")
			if r.status == http.StatusOK {
				t.Errorf("%s with acme's session = %d %s", p, r.status, r.body)
			}
		}
		if r := b.do(http.MethodGet, e.app.URL+"/t/acme/me", map[string]string{"Accept": "application/json"}, ""); r.status != http.StatusOK {
			t.Errorf("acme /me = %d %s", r.status, r.body)
		}
	})
	t.Run("acme's admin session at beta", func(t *testing.T) {
		b, s := adminBrowser(t, e)
		c := b.cookie(e.app.URL+"/t/acme/admin/", AdminCookie)
		hdr := map[string]string{"Cookie": AdminCookie + "=" + c.Value, CSRFHeader: s.CSRF, "Content-Type": "application/json"}
		for _, p := range []string{"/t/beta/admin/api/settings"} {
			if r := b.do(http.MethodGet, e.app.URL+p, hdr, ""); r.status != http.StatusUnauthorized {
				t.Errorf("GET %s = %d %s", p, r.status, r.body)
			}
		}
		for _, p := range []string{"/t/beta/admin/api/secret", "/t/beta/admin/api/oidc"} {
			if r := b.do(http.MethodPost, e.app.URL+p, hdr, `{}`); r.status != http.StatusUnauthorized {
				t.Errorf("POST %s = %d %s", p, r.status, r.body)
			}
		}
		if r := b.do(http.MethodGet, e.app.URL+"/t/beta/admin/connect-okta", hdr, ""); r.status != http.StatusUnauthorized {
			t.Errorf("beta connect-okta = %d", r.status)
		}
	})
}

func recordOf(id, userName, externalID string, data []byte) store.Record {
	return store.Record{Type: store.TypeUser, ID: id, UserName: userName, ExternalID: externalID, Data: data}
}
