package mockidp

import (
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/idpkit/idpkit/mockidp/op"
)

// BenchmarkLogin measures complete authorization-code logins through the
// mock over HTTP, as a relying party makes them (no browser): GET authorize
// (signed in by the SSO session cookie, or by a queued login), the code
// from Location, POST token with client_secret_basic and the PKCE
// verifier, and the token response parsed. Each login signs an ID token
// (RS256, or ES256 for an app that asks for it) and an access token.
//
//	go test ./mockidp -run '^$' -bench BenchmarkLogin -benchtime=3s
func BenchmarkLogin(b *testing.B) {
	for _, alg := range []string{"RS256", "ES256"} {
		b.Run("sso-session-"+alg, func(b *testing.B) {
			s, _, _ := newOrg(b)
			app, err := s.AddApp(SeedApp{Label: alg, Type: SeedAppOIDC, RedirectURIs: []string{redirectURI}, IDTokenSignedResponseAlg: alg})
			if err != nil {
				b.Fatal(err)
			}
			c := newRP(s, app.OAuthClient.ClientID, app.OAuthClient.ClientSecret, redirectURI, true)
			s.QueueLogin(op.QueuedLogin{Login: "alice@example.com"}) // sets the session cookie
			c.mustLogin(b)
			n := 0
			for b.Loop() {
				c.mustLogin(b)
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "logins/s")
			if u, _ := url.Parse(s.URL); len(c.hc.Jar.Cookies(&url.URL{Scheme: "http", Host: u.Host, Path: "/oauth2"})) == 0 {
				b.Fatal("no SSO session cookie")
			}
		})
	}
	b.Run("queued-login", func(b *testing.B) {
		s, c, userID := newOrg(b)
		n := 0
		for b.Loop() {
			if err := s.QueueLogin(op.QueuedLogin{UserID: userID, ClientID: c.clientID}); err != nil {
				b.Fatal(err)
			}
			c.mustLogin(b)
			n++
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "logins/s")
	})
	b.Run("sso-session-parallel", func(b *testing.B) {
		s, c0, _ := newOrg(b)
		var n atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			c := newRP(s, c0.clientID, c0.secret, c0.redirectURI, true)
			first := true
			for pb.Next() {
				if first {
					// Sign in with the login form once; the cookie does the rest.
					browserSignIn(b, c)
					first = false
				}
				if _, err := c.login(); err != nil {
					b.Error(err)
					return
				}
				n.Add(1)
			}
		})
		b.ReportMetric(float64(n.Load())/b.Elapsed().Seconds(), "logins/s")
	})
}

// browserSignIn posts the login form once so that c's jar holds an SSO
// session.
func browserSignIn(b *testing.B, c *rp) {
	form := url.Values{
		"client_id": {c.clientID}, "redirect_uri": {c.redirectURI}, "response_type": {"code"}, "scope": {"openid"},
		"state": {"st-form"}, "username": {"alice@example.com"}, "password": {"Correct-Horse-9"},
	}
	resp, err := c.hc.Post(c.endpoint("authorize"), "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		b.Error(err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode != 302 {
		b.Errorf("login form: %d", resp.StatusCode)
	}
}
