package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/app"
	"github.com/idpkit/idpkit/scim/app/apptest"
	"github.com/idpkit/idpkit/scim/client"
	"github.com/idpkit/idpkit/scim/login"
	"github.com/idpkit/idpkit/scim/secret"
	"github.com/idpkit/idpkit/scim/tenant"
)

// opReady is what op.mjs prints when it listens.
type opReady struct {
	Issuer string `json:"issuer"`
	Port   int    `json:"port"`
}

// opAccount is an oidc-provider account's claims (sub is its key).
type opAccount struct {
	Email             string `json:"email"`
	EmailVerified     bool   `json:"email_verified"`
	PreferredUsername string `json:"preferred_username"`
	Name              string `json:"name"`
}

// TestOurRPAgainstOIDCProvider signs in to idpkit's app server through
// oidc-provider: a SCIM-provisioned account gets a session, an account
// that was never provisioned gets the 403 page.
func TestOurRPAgainstOIDCProvider(t *testing.T) {
	p := needPeers(t)
	t.Logf("oidc-provider %s on node %s", p.pinned["oidc-provider"], p.nodeVersion)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()

	srv := apptest.Start(t, nil)
	const name = "acme"
	created := srv.Tenant(t, name)

	const (
		provisioned = "acct-grace-0001"
		stranger    = "acct-mallory-0002"
		clientID    = "idpkit-rp"
	)
	// Characters that client_secret_basic must URL-encode (RFC 6749 §2.3.1).
	clientSecret := secret.New() + "+/=%"
	accounts := map[string]opAccount{
		provisioned: {Email: "grace@example.com", EmailVerified: true, PreferredUsername: "grace@example.com", Name: "Grace Hopper"},
		stranger:    {Email: "mallory@example.com", EmailVerified: true, PreferredUsername: "mallory@example.com", Name: "Mallory"},
	}
	var ready opReady
	op := p.start(t, "op.mjs", map[string]any{
		"clientId": clientID, "clientSecret": clientSecret, "redirectUri": created.RedirectURI, "accounts": accounts,
	}, &ready)
	if want := "http://127.0.0.1:"; !strings.HasPrefix(ready.Issuer, want) {
		t.Fatalf("op.mjs issuer %q, want %s…", ready.Issuer, want)
	}

	// Provision the account's user as Okta would: externalId is the sub.
	sc := client.New(created.SCIMBaseURL, created.Token)
	sc.HTTP = srv.Client
	user, err := sc.Create(ctx, "Users", scim.Resource{
		"schemas":     []any{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName":    accounts[provisioned].PreferredUsername,
		"externalId":  provisioned,
		"active":      true,
		"displayName": accounts[provisioned].Name,
		"name":        map[string]any{"givenName": "Grace", "familyName": "Hopper"},
		"emails":      []any{map[string]any{"value": accounts[provisioned].Email, "primary": true, "type": "work"}},
	})
	if err != nil {
		t.Fatalf("provision the user through SCIM: %v", err)
	}
	userID, _ := user["id"].(string)

	// The org-server shape: the domain is the issuer, no authorization server.
	cfgd, err := app.Tenants(srv.Config).Configure(ctx, name, tenant.SignIn{OktaDomain: ready.Issuer, ClientID: clientID, ClientSecret: clientSecret})
	if err != nil {
		t.Fatalf("our tenant code refuses oidc-provider's issuer %s: %v", ready.Issuer, err)
	}
	if cfgd.Issuer != ready.Issuer {
		t.Fatalf("configured issuer %q, want %q", cfgd.Issuer, ready.Issuer)
	}
	// Configure's sign-in check sent a made-up code (oidc-provider logs
	// its invalid_grant); only what the sign-ins make counts below.
	checked := len(op.stderr.String())

	t.Run("provisioned account signs in", func(t *testing.T) {
		b := newBrowser(t)
		queueAccount(ctx, t, ready.Issuer, provisioned)
		resp, body := b.get(ctx, t, srv.URL+"/t/"+name+"/login", "")
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/t/"+name+"/me" {
			t.Fatalf("sign-in ended at %s with HTTP %d; want /t/%s/me with 200\n%s\nop.mjs stderr:\n%s",
				resp.Request.URL, resp.StatusCode, name, pageText(body), op.stderr.String())
		}
		if !strings.Contains(body, "Signed in as grace@example.com") {
			t.Errorf("the /me page does not show the user:\n%s", pageText(body))
		}
		if e := op.stderr.String()[checked:]; strings.Contains(e, ".error:") || strings.Contains(e, "server_error:") {
			t.Errorf("oidc-provider reported errors during the sign-in:\n%s", e)
		}
		hosts := b.hosts()
		if !contains(hosts, strings.TrimPrefix(ready.Issuer, "http://")) {
			t.Errorf("the sign-in never went through oidc-provider (hosts %v)", hosts)
		}

		resp, body = b.get(ctx, t, srv.URL+"/t/"+name+"/me", "application/json")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /me as JSON: HTTP %d\n%s", resp.StatusCode, body)
		}
		var me login.Me
		if err := json.Unmarshal([]byte(body), &me); err != nil {
			t.Fatalf("GET /me as JSON: %v\n%s", err, body)
		}
		want := login.Me{Tenant: name, UserName: "grace@example.com", DisplayName: "Grace Hopper", ID: userID, Sub: provisioned}
		if diff := cmp.Diff(want, me); diff != "" {
			t.Errorf("/me (-want +got):\n%s", diff)
		}
	})

	t.Run("never-provisioned account is refused", func(t *testing.T) {
		b := newBrowser(t)
		queueAccount(ctx, t, ready.Issuer, stranger)
		resp, body := b.get(ctx, t, srv.URL+"/t/"+name+"/login", "")
		if resp.StatusCode != http.StatusForbidden || resp.Request.URL.Path != "/t/"+name+"/oidc/callback" {
			t.Fatalf("sign-in ended at %s with HTTP %d; want the callback's 403\n%s\nop.mjs stderr:\n%s",
				resp.Request.URL, resp.StatusCode, pageText(body), op.stderr.String())
		}
		if !strings.Contains(body, "has not been provisioned") {
			t.Errorf("the 403 page does not say the account is not provisioned:\n%s", pageText(body))
		}
		if b.cookie(srv.URL+"/t/"+name+"/me", login.SessionCookie) != "" {
			t.Error("a session cookie was set for an account that was never provisioned")
		}
		resp, _ = b.get(ctx, t, srv.URL+"/t/"+name+"/me", "application/json")
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET /me after the refusal: HTTP %d, want 401", resp.StatusCode)
		}
	})
}

// queueAccount tells op.mjs which account the next login is.
func queueAccount(ctx context.Context, t *testing.T, issuer, sub string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"accountId": sub})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, issuer+"/__test/login", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("queue the account at op.mjs: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("queue the account at op.mjs: HTTP %d", resp.StatusCode)
	}
}

// browser is an HTTP client with a cookie jar that follows redirects and
// remembers the hosts it visited.
type browser struct {
	c       *http.Client
	jar     *cookiejar.Jar
	visited []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{jar: jar}
	b.c = &http.Client{Jar: jar, Timeout: 20 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		b.visited = append(b.visited, req.URL.Host)
		if len(via) >= 20 {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	t.Cleanup(b.c.CloseIdleConnections)
	return b
}

func (b *browser) get(ctx context.Context, t *testing.T, u, accept string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept == "" {
		accept = "text/html"
	}
	req.Header.Set("Accept", accept)
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return resp, string(body)
}

func (b *browser) hosts() []string { return append([]string(nil), b.visited...) }

func (b *browser) cookie(u, name string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return ""
	}
	for _, c := range b.jar.Cookies(pu) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// pageText shortens a page for failure messages: its <main> when it has one.
func pageText(body string) string {
	if i := strings.Index(body, "<main>"); i >= 0 {
		if j := strings.Index(body[i:], "</main>"); j >= 0 {
			body = body[i : i+j+len("</main>")]
		}
	}
	return tail([]byte(body), 2000)
}
