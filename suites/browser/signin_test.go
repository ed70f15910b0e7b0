package browser_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mxschmitt/playwright-go"

	"github.com/idpkit/idpkit/suites/browser"
	"github.com/idpkit/idpkit/suites/harness"
)

// oktaAPI calls the mock Okta's management API as a script written for
// Okta would: SSWS token, Okta's request bodies.
type oktaAPI struct{ base, token string }

func (o oktaAPI) do(method, path string, body, out any) {
	GinkgoHelper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		Expect(err).NotTo(HaveOccurred())
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, o.base+path, rd)
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Authorization", "SSWS "+o.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	Expect(resp.StatusCode).To(BeNumerically("<", 300), "okta %s %s: %s", method, path, data)
	if out != nil && len(data) > 0 {
		Expect(json.Unmarshal(data, out)).To(Succeed())
	}
}

// createUser creates an active Okta user and returns its id.
func (o oktaAPI) createUser(first, last, login, password string) string {
	GinkgoHelper()
	var u struct {
		ID string `json:"id"`
	}
	o.do("POST", "/api/v1/users?activate=true", map[string]any{
		"profile":     map[string]any{"firstName": first, "lastName": last, "email": login, "login": login},
		"credentials": map[string]any{"password": map[string]any{"value": password}},
	}, &u)
	Expect(u.ID).NotTo(BeEmpty())
	return u.ID
}

// scimTotal is totalResults of a userName filter against the tenant URL.
func scimTotal(base, token, userName string) (int, error) {
	q := url.Values{"filter": {fmt.Sprintf("userName eq %q", userName)}}
	req, err := http.NewRequest(http.MethodGet, base+"/Users?"+q.Encode(), nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var lr struct {
		TotalResults int `json:"totalResults"`
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET /Users answered %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&lr); err != nil {
		return 0, err
	}
	return lr.TotalResults, nil
}

var _ = Describe("connecting Okta through the dialog and signing in", Label("browser", "e2e"), Ordered, func() {
	const password = "Idpkit-browser-Pw1!"
	var (
		env            *harness.Env
		okta           oktaAPI
		appURL, tenant string
		alice, dave    string // logins: assigned, never assigned
	)

	BeforeAll(func() {
		var err error
		env, err = harness.Start(context.Background(), harness.Options{Dir: GinkgoT().TempDir()})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(env.Close)
		appURL, tenant = env.AppURL, "acme"
		okta = oktaAPI{base: env.Okta.URL, token: env.Okta.APIToken}
		alice, dave = "alice@example.com", "dave@example.com"
	})

	It("connects the SCIM and OIDC apps with the values of the dialog and signs in", func() {
		created, err := env.Tenants.Create(context.Background(), tenant)
		Expect(err).NotTo(HaveOccurred())

		page := newPage(appURL)
		expect := playwright.NewPlaywrightAssertions(15000)
		label := func(text string) playwright.Locator {
			return page.GetByLabel(text, playwright.PageGetByLabelOptions{Exact: playwright.Bool(true)})
		}
		_, err = page.Goto(created.AdminURL)
		Expect(err).NotTo(HaveOccurred())
		Expect(expect.Locator(page.Locator("#save")).ToBeEnabled()).To(Succeed(), "the dialog did not load its settings")

		By("reading the tenant URL and a new secret from the dialog")
		tenantURL, err := label("Tenant URL").InputValue()
		Expect(err).NotTo(HaveOccurred())
		Expect(page.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Generate new secret"}).Click()).To(Succeed())
		Expect(expect.Locator(label("New secret")).ToBeVisible()).To(Succeed())
		secret, err := label("New secret").InputValue()
		Expect(err).NotTo(HaveOccurred())
		Expect(secret).NotTo(BeEmpty())

		By("creating the SCIM app in Okta with those values and assigning a user")
		var scimApp struct {
			ID string `json:"id"`
		}
		okta.do("POST", "/api/v1/apps", map[string]any{
			"name": "scim2testapp", "label": "idpkit SCIM", "signOnMode": "AUTO_LOGIN",
			"settings": map[string]any{"app": map[string]any{"baseUrl": tenantURL}},
		}, &scimApp)
		base := "/api/v1/apps/" + scimApp.ID
		okta.do("POST", base+"/connections/default", map[string]any{
			"baseUrl": tenantURL, "profile": map[string]any{"authScheme": "TOKEN", "token": secret},
		}, nil)
		enabled := map[string]any{"status": "ENABLED"}
		okta.do("PUT", base+"/features/USER_PROVISIONING", map[string]any{
			"create": map[string]any{"lifecycleCreate": enabled},
			"update": map[string]any{"profile": enabled, "lifecycleDeactivate": enabled, "password": map[string]any{"status": "DISABLED"}},
		}, nil)
		okta.do("POST", base+"/connections/default/lifecycle/activate", nil, nil) // Test API Credentials
		aliceID := okta.createUser("Alice", "Anders", alice, password)
		okta.createUser("Dave", "Diaz", dave, password)
		okta.do("POST", base+"/users", map[string]any{"id": aliceID, "scope": "USER", "credentials": map[string]any{"userName": alice}}, nil)
		Eventually(func() (int, error) { return scimTotal(tenantURL, secret, alice) }).
			WithTimeout(15*time.Second).WithPolling(200*time.Millisecond).Should(Equal(1), "Okta did not provision %s", alice)
		Expect(scimTotal(tenantURL, secret, dave)).To(Equal(0))

		By("creating the OIDC web app with the redirect URI of the dialog")
		redirectURI, err := label("Sign-in redirect URI").InputValue()
		Expect(err).NotTo(HaveOccurred())
		var oidcApp struct {
			ID          string `json:"id"`
			Credentials struct {
				OAuthClient struct {
					ClientID     string `json:"client_id"`
					ClientSecret string `json:"client_secret"`
				} `json:"oauthClient"`
			} `json:"credentials"`
		}
		okta.do("POST", "/api/v1/apps", map[string]any{
			"name": "oidc_client", "label": "idpkit sign-in", "signOnMode": "OPENID_CONNECT",
			"credentials": map[string]any{"oauthClient": map[string]any{"token_endpoint_auth_method": "client_secret_basic"}},
			"settings": map[string]any{"oauthClient": map[string]any{
				"redirect_uris": []string{redirectURI}, "response_types": []string{"code"},
				"grant_types": []string{"authorization_code"}, "application_type": "web",
			}},
		}, &oidcApp)
		By("letting everyone in the org sign in to it (the wizard's \"Allow everyone in your organization to access\")")
		var builtIn []struct {
			ID string `json:"id"`
		}
		okta.do("GET", "/api/v1/groups?filter="+url.QueryEscape(`type eq "BUILT_IN"`), nil, &builtIn)
		Expect(builtIn).To(HaveLen(1), "the Everyone group")
		okta.do("PUT", "/api/v1/apps/"+oidcApp.ID+"/groups/"+builtIn[0].ID, map[string]any{}, nil)
		client := oidcApp.Credentials.OAuthClient
		Expect(client.ClientID).NotTo(BeEmpty())
		Expect(client.ClientSecret).NotTo(BeEmpty())

		By("entering the Okta domain, client id and secret into the dialog")
		Expect(label("Okta domain").Fill(env.Okta.URL)).To(Succeed())
		Expect(label("Client ID").Fill(client.ClientID)).To(Succeed())
		Expect(label("Client secret").Fill(client.ClientSecret)).To(Succeed())
		Expect(page.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Save"}).Click()).To(Succeed())
		Expect(expect.Locator(page.Locator("#save-status")).ToHaveText("✓ Okta's discovery document was read: issuer " + env.Okta.URL)).To(Succeed())

		By("the dialog counts the provisioned user")
		_, err = page.Reload()
		Expect(err).NotTo(HaveOccurred())
		Expect(expect.Locator(page.Locator("#user-count")).ToHaveText("1")).To(Succeed())

		By("signing in as the provisioned user in the same browser")
		signIn(page, appURL+"/t/"+tenant+"/login", alice, password)
		Expect(expect.Page(page).ToHaveURL(appURL + "/t/" + tenant + "/me")).To(Succeed())
		Expect(expect.Locator(page.Locator("body")).ToContainText("Signed in as " + alice)).To(Succeed())
	})

	It("refuses a user who exists in Okta but was never assigned, with a clear page", func() {
		page := newPage()
		page.AllowStatus("/t/"+tenant+"/oidc/callback", http.StatusForbidden)
		expect := playwright.NewPlaywrightAssertions(15000)
		signIn(page, appURL+"/t/"+tenant+"/login", dave, password)
		Expect(expect.Locator(page.Locator("body")).ToContainText("not been provisioned")).To(Succeed())
		Expect(page.Locator("body").TextContent()).NotTo(ContainSubstring("Signed in as"))
	})
})

// signIn opens the app's login and fills the mock Okta's sign-in form,
// locating its fields by their labels.
func signIn(page *browser.Page, loginURL, username, password string) {
	GinkgoHelper()
	_, err := page.Goto(loginURL)
	Expect(err).NotTo(HaveOccurred())
	user := page.GetByLabel("Username", playwright.PageGetByLabelOptions{Exact: playwright.Bool(true)})
	pass := page.GetByLabel("Password", playwright.PageGetByLabelOptions{Exact: playwright.Bool(true)})
	Expect(user.Fill(username)).To(Succeed())
	Expect(pass.Fill(password)).To(Succeed())
	Expect(pass.Press("Enter")).To(Succeed())
}
