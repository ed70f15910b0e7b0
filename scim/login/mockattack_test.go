package login_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/mockidp"
	"github.com/idpkit/idpkit/mockidp/directory"
	"github.com/idpkit/idpkit/mockidp/op"
	"github.com/idpkit/idpkit/scim/app"
	"github.com/idpkit/idpkit/scim/app/apptest"
	"github.com/idpkit/idpkit/scim/login"
	"github.com/idpkit/idpkit/scim/tenant"
)

// mockBrowser is a cookie-keeping client that does not follow redirects.
type mockBrowser struct {
	t *testing.T
	c *http.Client
}

func newMockBrowser(t *testing.T) *mockBrowser {
	jar, _ := cookiejar.New(nil)
	return &mockBrowser{t, &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *mockBrowser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

func (b *mockBrowser) get(u string) (*http.Response, string) {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(req)
}

// TestAttacksThroughMockOkta: the app server's relying party, signing in
// through the mock Okta in each response mode, refuses tampered
// authorization responses and an Okta that misbehaves with a readable
// page and no session.
func TestAttacksThroughMockOkta(t *testing.T) {
	type row struct {
		name   string
		okta   func(okta *mockidp.Server)                                            // arms the mock
		edit   func(okta *mockidp.Server, v url.Values, b *mockBrowser) *mockBrowser // tampers with the response
		status int
		has    string
	}
	script := `<script>alert(1)</script>`
	rows := []row{
		{name: "untouched", status: http.StatusSeeOther},
		{name: "Okta's access_denied with markup", okta: func(okta *mockidp.Server) {
			okta.QueueError(op.QueuedError{Endpoint: op.EndpointAuthorize, Status: http.StatusFound, Error: "access_denied", Description: "Not assigned " + script})
		}, status: http.StatusForbidden, has: "Not assigned &lt;script&gt;alert(1)&lt;/script&gt;"},
		{name: "state twice", edit: func(okta *mockidp.Server, v url.Values, b *mockBrowser) *mockBrowser {
			v["state"] = append(v["state"], "forged")
			return b
		}, status: http.StatusBadRequest, has: "more than once"},
		{name: "iss of another issuer", edit: func(okta *mockidp.Server, v url.Values, b *mockBrowser) *mockBrowser {
			v.Set("iss", "https://evil.example")
			return b
		}, status: http.StatusBadRequest, has: "another issuer"},
		{name: "iss of the issuer", edit: func(okta *mockidp.Server, v url.Values, b *mockBrowser) *mockBrowser {
			v.Set("iss", okta.Issuer(""))
			return b
		}, status: http.StatusSeeOther},
		{name: "another browser", edit: func(okta *mockidp.Server, v url.Values, b *mockBrowser) *mockBrowser {
			return newMockBrowser(b.t)
		}, status: http.StatusBadRequest, has: "another browser"},
		{name: "token endpoint answers 200 with HTML", okta: func(okta *mockidp.Server) {
			okta.QueueError(op.QueuedError{Endpoint: op.EndpointToken, Status: 200, Body: "<html>maintenance</html>", Header: http.Header{"Content-Type": {"text/html"}}})
		}, status: http.StatusBadGateway, has: "cannot be reached"},
		{name: "token_type mac", okta: func(okta *mockidp.Server) {
			okta.QueueError(op.QueuedError{Endpoint: op.EndpointToken, Status: 200, Body: `{"access_token":"x","token_type":"mac","id_token":"a.b.c"}`})
		}, status: http.StatusBadGateway, has: "not Bearer"},
		{name: "token-invalid-grant", okta: func(okta *mockidp.Server) { okta.ArmFault("token-invalid-grant", false) },
			status: http.StatusBadRequest, has: "invalid_grant"},
		{name: "token-server-error", okta: func(okta *mockidp.Server) { okta.ArmFault("token-server-error", false) },
			status: http.StatusBadGateway, has: "server_error"},
	}
	for _, mode := range []string{login.ResponseModeQuery, login.ResponseModeFormPost} {
		t.Run(mode, func(t *testing.T) {
			ctx := context.Background()
			srv := apptest.Start(t, nil, apptest.WithOIDCResponseMode(mode))
			created := srv.Tenant(t, "acme")
			okta := mockidp.NewServer()
			t.Cleanup(okta.Close)
			oidcApp, err := okta.Directory().CreateApp(directory.App{Label: "sign-in", OAuthClient: &directory.OAuthClient{RedirectURIs: []string{created.RedirectURI}}})
			if err != nil {
				t.Fatal(err)
			}
			alice, err := okta.Directory().CreateUser(directory.Profile{Login: "alice@example.com", Email: "alice@example.com", FirstName: "Alice", LastName: "Smith"}, "correct-horse-battery", true)
			if err != nil {
				t.Fatal(err)
			}
			if err := okta.Assign(mockidp.SeedAssignment{App: oidcApp.ID, Users: []string{"alice@example.com"}}); err != nil {
				t.Fatal(err)
			}
			if _, err := app.Tenants(srv.Config).Configure(ctx, "acme", tenant.SignIn{OktaDomain: okta.URL, ClientID: oidcApp.OAuthClient.ClientID, ClientSecret: oidcApp.OAuthClient.ClientSecret}); err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest("POST", created.SCIMBaseURL+"/Users", strings.NewReader(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"alice@example.com","externalId":"`+alice.ID+`","active":true}`))
			req.Header.Set("Authorization", "Bearer "+created.Token)
			req.Header.Set("Content-Type", "application/scim+json")
			if resp, err := srv.Client.Do(req); err != nil || resp.StatusCode != http.StatusCreated {
				t.Fatalf("provision alice: %v %v", resp, err)
			}
			for _, tt := range rows {
				t.Run(tt.name, func(t *testing.T) {
					okta.Reset()
					if err := okta.QueueLogin(op.QueuedLogin{Login: "alice@example.com"}); err != nil {
						t.Fatal(err)
					}
					if tt.okta != nil {
						tt.okta(okta)
					}
					b := newMockBrowser(t)
					resp, _ := b.get(srv.URL + "/t/acme/login")
					resp, page := b.get(resp.Header.Get("Location"))
					var cb string
					v := url.Values{}
					if mode == login.ResponseModeFormPost {
						m := formRe.FindStringSubmatch(page)
						if m == nil {
							t.Fatalf("authorize = %d, no form:\n%s", resp.StatusCode, page)
						}
						cb = html.UnescapeString(m[1])
						for _, h := range hiddenRe.FindAllStringSubmatch(page, -1) {
							v.Add(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
						}
					} else {
						u, err := url.Parse(resp.Header.Get("Location"))
						if err != nil || u.Path != "/t/acme/oidc/callback" {
							t.Fatalf("authorize = %d to %q", resp.StatusCode, resp.Header.Get("Location"))
						}
						v = u.Query()
						u.RawQuery = ""
						cb = u.String()
					}
					if tt.edit != nil {
						b = tt.edit(okta, v, b)
					}
					if mode == login.ResponseModeFormPost {
						req, _ = http.NewRequest(http.MethodPost, cb, strings.NewReader(v.Encode()))
						req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					} else {
						req, _ = http.NewRequest(http.MethodGet, cb+"?"+v.Encode(), nil)
					}
					resp, page = b.do(req)
					var session *http.Cookie
					for _, c := range resp.Cookies() {
						if c.Name == login.SessionCookie && c.MaxAge >= 0 {
							session = c
						}
					}
					got := []any{resp.StatusCode, session != nil, strings.Contains(page, tt.has), strings.Contains(page, "<script>")}
					if diff := cmp.Diff([]any{tt.status, tt.status == http.StatusSeeOther, true, false}, got); diff != "" {
						t.Errorf("[status, session, page has %q, raw script] (-want +got):\n%s\n%.1500s", tt.has, diff, page)
					}
				})
			}
		})
	}
}
