package login_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/mockidp"
	"github.com/idpkit/idpkit/mockidp/directory"
	"github.com/idpkit/idpkit/scim/app"
	"github.com/idpkit/idpkit/scim/app/apptest"
	"github.com/idpkit/idpkit/scim/tenant"
)

var (
	formRe   = regexp.MustCompile(`<form method="post" action="([^"]*)">`)
	hiddenRe = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// submitForm posts the first form of page (a response to base) with its
// hidden fields and extra.
func submitForm(t *testing.T, c *http.Client, base *url.URL, page []byte, extra url.Values) (*http.Response, []byte) {
	t.Helper()
	m := formRe.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no form at %s:\n%.1000s", base, page)
	}
	values := url.Values{}
	for _, h := range hiddenRe.FindAllSubmatch(page, -1) {
		values.Set(html.UnescapeString(string(h[1])), html.UnescapeString(string(h[2])))
	}
	for k, v := range extra {
		values[k] = v
	}
	action, err := base.Parse(html.UnescapeString(string(m[1])))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.PostForm(action.String(), values)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, body
}

// TestSignInThroughMockOkta: the app server (through apptest, in each
// response mode) signs a provisioned user in through the mock Okta's
// password form, with RS256 and ES256 ID tokens, before and after the mock
// rotates its keys.
func TestSignInThroughMockOkta(t *testing.T) {
	tests := []struct {
		mode, alg string
	}{{"query", "RS256"}, {"form_post", "RS256"}, {"query", "ES256"}, {"form_post", "ES256"}}
	for _, tt := range tests {
		t.Run(tt.mode+" "+tt.alg, func(t *testing.T) {
			ctx := context.Background()
			srv := apptest.Start(t, nil, apptest.WithOIDCResponseMode(tt.mode))
			created := srv.Tenant(t, "acme")
			okta := mockidp.NewServer()
			t.Cleanup(okta.Close)
			oidcApp, err := okta.Directory().CreateApp(directory.App{Label: "idpkit sign-in", OAuthClient: &directory.OAuthClient{
				RedirectURIs: []string{created.RedirectURI}, IDTokenSignedResponseAlg: tt.alg,
			}})
			if err != nil {
				t.Fatal(err)
			}
			const password = "correct-horse-battery-staple"
			alice, err := okta.Directory().CreateUser(directory.Profile{Login: "alice@example.com", Email: "alice@example.com", FirstName: "Alice", LastName: "Smith"}, password, true)
			if err != nil {
				t.Fatal(err)
			}
			// Okta signs in only the users assigned to the app.
			if err := okta.Assign(mockidp.SeedAssignment{App: oidcApp.ID, Users: []string{"alice@example.com"}}); err != nil {
				t.Fatal(err)
			}
			if _, err := app.Tenants(srv.Config).Configure(ctx, "acme", tenant.SignIn{OktaDomain: okta.URL, ClientID: oidcApp.OAuthClient.ClientID, ClientSecret: oidcApp.OAuthClient.ClientSecret}); err != nil {
				t.Fatal(err)
			}
			user := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"alice@example.com","externalId":"` + alice.ID + `","active":true}`
			req, _ := http.NewRequest("POST", created.SCIMBaseURL+"/Users", strings.NewReader(user))
			req.Header.Set("Authorization", "Bearer "+created.Token)
			req.Header.Set("Content-Type", "application/scim+json")
			resp, err := srv.Client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("provision alice: %d", resp.StatusCode)
			}

			signIn := func() string {
				jar, _ := cookiejar.New(nil)
				browser := &http.Client{Jar: jar}
				resp, err := browser.Get(srv.URL + "/t/acme/login")
				if err != nil {
					t.Fatal(err)
				}
				page, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				resp, page = submitForm(t, browser, resp.Request.URL, page, url.Values{"username": {"alice@example.com"}, "password": {password}})
				if tt.mode == "form_post" && resp.StatusCode == http.StatusOK && resp.Request.URL.Path != "/t/acme/me" {
					// The mock's auto-submitting form, posted as a browser would.
					resp, page = submitForm(t, browser, resp.Request.URL, page, nil)
				}
				if resp.Request.URL.Path != "/t/acme/me" || resp.StatusCode != http.StatusOK {
					t.Logf("ended at %s (%d):\n%.1500s", resp.Request.URL, resp.StatusCode, page)
				}
				return resp.Request.URL.Path + " " + http.StatusText(resp.StatusCode)
			}
			var got []string
			got = append(got, signIn())
			okta.RotateKeys()
			got = append(got, signIn())
			okta.RotateKeys()
			okta.RotateKeys()
			got = append(got, signIn())
			want := []string{"/t/acme/me OK", "/t/acme/me OK", "/t/acme/me OK"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("sign-ins: first, after a rotation, after two more (-want +got):\n%s", diff)
			}
			var modes []string
			for _, r := range okta.Requests() {
				if r.Endpoint == "authorize" && r.Params["response_mode"] != "" {
					modes = append(modes, r.Params["response_mode"])
				}
			}
			if tt.mode == "form_post" && (len(modes) == 0 || modes[0] != "form_post") {
				t.Errorf("response_mode of the authorization requests: %q", modes)
			}
		})
	}
}
