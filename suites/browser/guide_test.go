package browser_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mxschmitt/playwright-go"

	"github.com/idpkit/idpkit/scim/adminapi"
	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/tenant"
	"github.com/idpkit/idpkit/suites/browser"
	"github.com/idpkit/idpkit/suites/harness"
	"github.com/idpkit/idpkit/wasm/connect"
)

// oktaAPI calls the mock Okta's management API as a script written for
// Okta would: SSWS token, Okta's request bodies. It stands for what the
// admin does in Okta's admin console; nothing else is done behind the
// browser's back.
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

// createGroup creates an Okta group with the given members and returns
// its id.
func (o oktaAPI) createGroup(name string, members ...string) string {
	GinkgoHelper()
	var g struct {
		ID string `json:"id"`
	}
	o.do("POST", "/api/v1/groups", map[string]any{"profile": map[string]any{"name": name, "description": "idpkit guide"}}, &g)
	Expect(g.ID).NotTo(BeEmpty())
	for _, uid := range members {
		o.do("PUT", "/api/v1/groups/"+g.ID+"/users/"+uid, nil, nil)
	}
	return g.ID
}

// scimUser looks userName up in the app server's store, where the SCIM
// service keeps what Okta provisioned: whether the user exists and whether
// it is active (a missing active counts as active, as idpkit's sign-in
// does). It reads the store rather than the SCIM API so that the dialog's
// list of requests shows only what Okta sent.
func scimUser(env *harness.Env, tenant, userName string) (found, active bool, err error) {
	recs, err := env.Store().ListResources(context.Background(), tenant, store.TypeUser, store.Query{Where: store.Eq(store.FieldUserName, store.Fold(userName))})
	if err != nil {
		return false, false, err
	}
	switch len(recs) {
	case 0:
		return false, false, nil
	case 1:
		var u struct {
			Active *bool `json:"active"`
		}
		if err := json.Unmarshal(recs[0].Data, &u); err != nil {
			return false, false, err
		}
		return true, u.Active == nil || *u.Active, nil
	}
	return false, false, fmt.Errorf("%d users named %s", len(recs), userName)
}

// signIn opens the app's login and fills the mock Okta's sign-in form,
// locating its fields by their labels.
func signIn(page *browser.Page, loginURL, username, password string) {
	GinkgoHelper()
	_, err := page.Goto(loginURL)
	Expect(err).NotTo(HaveOccurred())
	fillOktaLogin(page.Page, username, password)
}

// fillOktaLogin fills the mock Okta's sign-in form on pg and submits it.
func fillOktaLogin(pg playwright.Page, username, password string) {
	GinkgoHelper()
	user := pg.GetByLabel("Username", playwright.PageGetByLabelOptions{Exact: playwright.Bool(true)})
	pass := pg.GetByLabel("Password", playwright.PageGetByLabelOptions{Exact: playwright.Bool(true)})
	Expect(user.Fill(username)).To(Succeed())
	Expect(pass.Fill(password)).To(Succeed())
	Expect(pass.Press("Enter")).To(Succeed())
}

// The "Connect Okta" guide of issue 6 as a person does it: the admin opens
// the dialog from the admin link, copies its values into Okta with the Copy
// buttons, and watches the dialog follow what Okta does, without reloading
// it. Okta's side is the mock Okta driven through its management API, the
// API behind Okta's admin console.
var _ = Describe("the Connect Okta guide, as a person does it", Label("browser", "e2e", "guide"), Ordered, ContinueOnFailure, func() {
	const (
		password   = "Idpkit-browser-Pw1!"
		tenantName = "acme"
		marker     = "window.__idpkitGuideNoReload"
	)
	var (
		env     *harness.Env
		okta    oktaAPI
		appURL  string
		created tenant.Created
		page    *browser.Page
		expect  playwright.PlaywrightAssertions
		started time.Time
		timings []string

		// What the admin copied from the dialog.
		tenantURL, secret, redirectURI string
		// Okta's ids.
		scimAppID, groupID, aliceID, bobID string
	)
	alice, bob, dave := "alice@example.com", "bob@example.com", "dave@example.com"

	label := func(text string) playwright.Locator {
		return page.GetByLabel(text, playwright.PageGetByLabelOptions{Exact: playwright.Bool(true)})
	}
	button := func(name string) playwright.Locator {
		return page.GetByRole("button", playwright.PageGetByRoleOptions{Name: name, Exact: playwright.Bool(true)})
	}
	panel := func(name string) playwright.Locator {
		return page.GetByRole("region", playwright.PageGetByRoleOptions{Name: name, Exact: playwright.Bool(true)})
	}
	id := func(id string) playwright.Locator { return page.Locator("#" + id) }
	// table is the dialog's table named name; row is its row that
	// contains text.
	table := func(name string) playwright.Locator {
		return panel("SCIM provisioning").GetByRole("table", playwright.LocatorGetByRoleOptions{Name: name, Exact: playwright.Bool(true)})
	}
	row := func(tableName, text string) playwright.Locator {
		return table(tableName).GetByRole("row").Filter(playwright.LocatorFilterOptions{HasText: text})
	}
	// copyButton clicks the Copy button of the field labelled field and
	// returns what it put on the clipboard.
	copyButton := func(field string) string {
		GinkgoHelper()
		Expect(page.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Copy " + field}).Click()).To(Succeed())
		Expect(expect.Locator(id(connect.IDCopyStatus)).ToHaveText(field + " copied.")).To(Succeed())
		v, err := page.Clipboard()
		Expect(err).NotTo(HaveOccurred())
		return v
	}
	// noReload fails when the dialog was reloaded since step 1.
	noReload := func() {
		GinkgoHelper()
		Expect(page.Evaluate("() => "+marker+" === true")).To(BeTrue(), "the dialog was reloaded")
	}
	// step names a step of the guide and saves a full-page screenshot of
	// shoot() as artifacts/guide-<n>-<slug>.png when it ends, passed or not.
	step := func(n int, slug, what string, shoot func() playwright.Page) {
		By(what)
		t0 := time.Now()
		DeferCleanup(func() {
			name := fmt.Sprintf("guide-%d-%s", n, slug)
			timings = append(timings, fmt.Sprintf("%-28s %s", name, time.Since(t0).Round(time.Millisecond)))
			if pg := shoot(); pg != nil {
				_, err := browser.Shot(pg, name)
				Expect(err).NotTo(HaveOccurred())
			}
		})
	}
	dialog := func() playwright.Page { return page.Page }

	BeforeAll(func() {
		started = time.Now()
		// Registered first, so it runs last: after every step's cleanup
		// and after the servers and the browser context are closed.
		DeferCleanup(func() {
			report := strings.Join(timings, "\n") + fmt.Sprintf("\nwhole spec (servers, browser context, 7 steps) %s\n", time.Since(started).Round(time.Millisecond))
			AddReportEntry("guide timings", report)
			fmt.Fprint(GinkgoWriter, report)
			Expect(os.MkdirAll(browser.ArtifactsDir, 0o755)).To(Succeed())
			Expect(os.WriteFile(filepath.Join(browser.ArtifactsDir, "guide-timings.txt"), []byte(report), 0o644)).To(Succeed())
		})
		var err error
		env, err = harness.Start(context.Background(), harness.Options{Dir: GinkgoT().TempDir()})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(env.Close)
		appURL = env.AppURL
		okta = oktaAPI{base: env.Okta.URL, token: env.Okta.APIToken}
		created, err = env.Tenants.Create(context.Background(), tenantName)
		Expect(err).NotTo(HaveOccurred())
		page = newPage(appURL)
		expect = playwright.NewPlaywrightAssertions(15000)
	})

	It("1. the admin opens the admin link and copies the tenant URL and a new secret", func() {
		step(1, "copy-scim-values", "opening the admin link and copying the Tenant URL and a new secret with the Copy buttons", dialog)
		_, err := page.Goto(created.AdminURL)
		Expect(err).NotTo(HaveOccurred())
		Expect(expect.Page(page).ToHaveURL(appURL + "/t/" + tenantName + "/admin/connect-okta")).To(Succeed())
		Expect(expect.Locator(button("Save")).ToBeEnabled()).To(Succeed(), "the dialog did not load its settings")
		_, err = page.Evaluate("() => { " + marker + " = true }")
		Expect(err).NotTo(HaveOccurred())

		tenantURL = copyButton("Tenant URL")
		Expect(tenantURL).To(Equal(created.SCIMBaseURL))
		Expect(button("Generate new secret").Click()).To(Succeed())
		Expect(expect.Locator(label("New secret")).ToBeVisible()).To(Succeed())
		secret = copyButton("New secret")
		Expect(secret).NotTo(BeEmpty())
		Expect(label("New secret").InputValue()).To(Equal(secret))
		Expect(expect.Locator(id(connect.IDConnection)).ToContainText("Waiting for Okta")).To(Succeed())
		Expect(expect.Locator(id(connect.IDRequestsEmpty)).ToBeVisible()).To(Succeed())
		Expect(expect.Locator(id(connect.IDUsersEmpty)).ToBeVisible()).To(Succeed())
	})

	It("2. Okta's SCIM app is created with those values and Test API Credentials connects", func() {
		step(2, "okta-connected", "creating the SCIM app in Okta with the copied values and clicking Test API Credentials", dialog)
		Expect(secret).NotTo(BeEmpty(), "step 1 copied no secret")
		var app struct {
			ID string `json:"id"`
		}
		okta.do("POST", "/api/v1/apps", map[string]any{
			"name": "scim2testapp", "label": "idpkit SCIM", "signOnMode": "AUTO_LOGIN",
			"settings": map[string]any{"app": map[string]any{"baseUrl": tenantURL}},
		}, &app)
		scimAppID = app.ID
		base := "/api/v1/apps/" + scimAppID
		okta.do("POST", base+"/connections/default", map[string]any{
			"baseUrl": tenantURL, "profile": map[string]any{"authScheme": "TOKEN", "token": secret},
		}, nil)
		enabled := map[string]any{"status": "ENABLED"}
		okta.do("PUT", base+"/features/USER_PROVISIONING", map[string]any{
			"create": map[string]any{"lifecycleCreate": enabled},
			"update": map[string]any{"profile": enabled, "lifecycleDeactivate": enabled, "password": map[string]any{"status": "DISABLED"}},
		}, nil)
		okta.do("POST", base+"/connections/default/lifecycle/activate", nil, nil) // Test API Credentials

		Expect(expect.Locator(id(connect.IDConnection)).ToContainText("✓ Okta has connected: Test API Credentials at ")).To(Succeed())
		Expect(expect.Locator(row("Last provisioning requests", "Test API Credentials").First()).ToBeVisible()).To(Succeed())
		noReload()
	})

	It("3. a group of two is assigned to the SCIM app and pushed; the dialog lists them", func() {
		step(3, "group-pushed", "assigning a group with two users to the SCIM app (Group Push) and watching the dialog list them", dialog)
		Expect(scimAppID).NotTo(BeEmpty(), "step 2 created no SCIM app")
		aliceID = okta.createUser("Alice", "Anders", alice, password)
		bobID = okta.createUser("Bob", "Brown", bob, password)
		groupID = okta.createGroup("Engineering", aliceID, bobID)
		okta.do("PUT", "/api/v1/apps/"+scimAppID+"/groups/"+groupID, map[string]any{}, nil)
		for _, login := range []string{alice, bob} {
			found, active, err := scimUser(env, tenantName, login)
			Expect(err).NotTo(HaveOccurred())
			Expect(found && active).To(BeTrue(), "Okta did not provision %s", login)
		}

		Expect(expect.Locator(id(connect.IDUserCount)).ToHaveText("2")).To(Succeed())
		Expect(expect.Locator(id(connect.IDGroupCount)).ToHaveText("1")).To(Succeed())
		for login, name := range map[string]string{alice: "Alice Anders", bob: "Bob Brown"} {
			for _, text := range []string{name, "active"} {
				Expect(expect.Locator(row("Users", login)).ToContainText(text)).To(Succeed(), login)
			}
		}
		Expect(expect.Locator(row("Groups", "Engineering")).ToContainText("2 members")).To(Succeed())
		Expect(expect.Locator(row("Last provisioning requests", "Create user")).ToHaveCount(2)).To(Succeed())
		Expect(expect.Locator(row("Last provisioning requests", "Create user").First()).ToContainText("201")).To(Succeed())
		Expect(expect.Locator(row("Last provisioning requests", "Create group").First()).ToContainText("201")).To(Succeed())
		noReload()
	})

	It("4. Okta's OIDC app is created with the copied redirect URI and the dialog's check passes", func() {
		step(4, "signin-checked", "creating the OIDC app with the copied redirect URI, typing its values into the dialog and saving", dialog)
		redirectURI = copyButton("Sign-in redirect URI")
		Expect(redirectURI).To(Equal(created.RedirectURI))
		var app struct {
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
		}, &app)
		// The wizard's "Allow everyone in your organization to access".
		var builtIn []struct {
			ID string `json:"id"`
		}
		okta.do("GET", "/api/v1/groups?filter="+url.QueryEscape(`type eq "BUILT_IN"`), nil, &builtIn)
		Expect(builtIn).To(HaveLen(1), "the Everyone group")
		okta.do("PUT", "/api/v1/apps/"+app.ID+"/groups/"+builtIn[0].ID, map[string]any{}, nil)
		client := app.Credentials.OAuthClient
		Expect(client.ClientID).NotTo(BeEmpty())
		Expect(client.ClientSecret).NotTo(BeEmpty())

		Expect(label("Okta domain").Fill(env.Okta.URL)).To(Succeed())
		Expect(label("Client ID").Fill(client.ClientID)).To(Succeed())
		Expect(label("Client secret").Fill(client.ClientSecret)).To(Succeed())
		Expect(button("Save").Click()).To(Succeed())
		checks := page.GetByRole("list", playwright.PageGetByRoleOptions{Name: "Sign-in checks", Exact: playwright.Bool(true)}).GetByRole("listitem")
		names := []string{adminapi.CheckDomain, adminapi.CheckDiscovery, adminapi.CheckKeys, adminapi.CheckCredentials}
		Expect(expect.Locator(checks).ToHaveCount(len(names))).To(Succeed())
		for i, name := range names {
			Expect(expect.Locator(checks.Nth(i)).ToContainText("✓")).To(Succeed(), name)
			Expect(expect.Locator(checks.Nth(i)).ToContainText(name)).To(Succeed(), name)
		}
		Expect(checks.Filter(playwright.LocatorFilterOptions{HasText: "✗"}).Count()).To(BeZero())
		Expect(expect.Locator(label("Client secret")).ToHaveAttribute("placeholder", "saved")).To(Succeed())
		noReload()
	})

	It("5. Test sign-in as a provisioned user shows the claims of the ID token", func() {
		step(5, "test-sign-in", "clicking Test sign-in and signing in as a provisioned user in the popup", dialog)
		testButton := button("Test sign-in")
		Expect(expect.Locator(testButton).ToBeEnabled()).To(Succeed(), "Test sign-in is not enabled after saving")
		popup, err := page.ExpectPopup(func() error { return testButton.Click() })
		Expect(err).NotTo(HaveOccurred())
		fillOktaLogin(popup, alice, password)
		Expect(expect.Locator(popup.GetByRole("heading", playwright.PageGetByRoleOptions{Name: "Test sign-in worked"})).ToBeVisible()).To(Succeed())
		Expect(expect.Locator(popup.GetByText("You can close this window.")).ToBeVisible()).To(Succeed())
		Expect(expect.Locator(popup.Locator(`dt:text-is("sub") + dd`)).ToHaveText(aliceID)).To(Succeed())
		_, err = browser.Shot(popup, "guide-5-test-sign-in-popup")
		Expect(err).NotTo(HaveOccurred())
		Expect(popup.Close()).To(Succeed())

		Expect(expect.Locator(id(connect.IDTestStatus)).ToHaveText("✓ Signed in as " + alice + ".")).To(Succeed())
		claims := id(connect.IDClaims).GetByRole("definition")
		Expect(expect.Locator(page.GetByRole("heading", playwright.PageGetByRoleOptions{Name: "ID token claims"})).ToBeVisible()).To(Succeed())
		for claim, value := range map[string]string{"sub": aliceID, "iss": env.Okta.URL, "email": alice} {
			// The <dd> right after the claim's <dt>.
			dd := id(connect.IDClaims).Locator(`dt:text-is("` + claim + `") + dd`)
			Expect(expect.Locator(dd).ToHaveText(value)).To(Succeed(), claim)
		}
		Expect(claims.Count()).To(BeNumerically(">=", 5), "sub, iss, aud, iat, exp at least")
		noReload()

		By("a test sign-in starts no session")
		resp, err := page.Context().Request().Get(appURL+"/t/"+tenantName+"/me", playwright.APIRequestContextGetOptions{Headers: map[string]string{"Accept": "application/json"}})
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.Status()).To(Equal(http.StatusUnauthorized))
	})

	It("6. a user never assigned and users deactivated are refused in the browser; a provisioned one signs in", func() {
		step(6, "deactivated-listed", "refusing a user never assigned to the SCIM app and one deactivated in it", dialog)
		Expect(groupID).NotTo(BeEmpty(), "step 3 created no group")
		okta.createUser("Dave", "Diaz", dave, password)
		// Removing Bob from the pushed group leaves him without an
		// assignment to the SCIM app, so Okta deactivates him there
		// (PATCH active false); he stays an active Okta user who may
		// sign in to the OIDC app (Everyone).
		okta.do("DELETE", "/api/v1/groups/"+groupID+"/users/"+bobID, nil, nil)
		Eventually(func() (bool, error) {
			found, active, err := scimUser(env, tenantName, bob)
			return found && !active, err
		}).WithTimeout(15*time.Second).WithPolling(200*time.Millisecond).Should(BeTrue(), "Okta did not deactivate %s", bob)
		found, _, err := scimUser(env, tenantName, dave)
		Expect(err).NotTo(HaveOccurred())
		Expect(found).To(BeFalse(), "%s was provisioned", dave)

		loginURL := appURL + "/t/" + tenantName + "/login"
		for _, c := range []struct{ login, slug, text string }{
			{dave, "not-provisioned", "not been provisioned"},
			{bob, "deactivated", "deactivated"},
		} {
			By("signing in as " + c.login + " in a fresh browser")
			p := newPage()
			p.AllowStatus("/t/"+tenantName+"/oidc/callback", http.StatusForbidden)
			signIn(p, loginURL, c.login, password)
			Expect(expect.Locator(p.GetByRole("heading", playwright.PageGetByRoleOptions{Name: "No access"})).ToBeVisible()).To(Succeed(), c.login)
			Expect(expect.Locator(p.Locator("body")).ToContainText(c.text)).To(Succeed(), c.login)
			Expect(p.Locator("body").TextContent()).NotTo(ContainSubstring("Signed in as"))
			_, err := p.Shot("guide-6-" + c.slug)
			Expect(err).NotTo(HaveOccurred())
		}

		By("signing in for real as " + alice + " in a fresh browser")
		p := newPage()
		signIn(p, loginURL, alice, password)
		Expect(expect.Page(p).ToHaveURL(appURL + "/t/" + tenantName + "/me")).To(Succeed())
		Expect(expect.Locator(p.Locator("body")).ToContainText("Signed in as " + alice)).To(Succeed())
		_, err = p.Shot("guide-6-signed-in")
		Expect(err).NotTo(HaveOccurred())

		By("deactivating " + alice + " in Okta, which ends her session here")
		// A user deactivated in Okta cannot sign in to Okta at all, so
		// idpkit sees her only through the session she already has: /me
		// checks the SCIM user on every request.
		okta.do("POST", "/api/v1/users/"+aliceID+"/lifecycle/deactivate", nil, nil)
		Eventually(func() (bool, error) {
			found, active, err := scimUser(env, tenantName, alice)
			return found && !active, err
		}).WithTimeout(15*time.Second).WithPolling(200*time.Millisecond).Should(BeTrue(), "Okta did not deactivate %s", alice)
		p.AllowStatus("/t/"+tenantName+"/me", http.StatusForbidden)
		_, err = p.Reload()
		Expect(err).NotTo(HaveOccurred())
		Expect(expect.Locator(p.GetByRole("heading", playwright.PageGetByRoleOptions{Name: "No access"})).ToBeVisible()).To(Succeed())
		Expect(expect.Locator(p.Locator("body")).ToContainText("deactivated")).To(Succeed())
		Expect(p.Locator("body").TextContent()).NotTo(ContainSubstring("Signed in as"))
		_, err = p.Shot("guide-6-session-ended")
		Expect(err).NotTo(HaveOccurred())

		By("the dialog lists " + bob + " and " + alice + " as deactivated, without reload")
		Expect(expect.Locator(row("Users", bob)).ToContainText("deactivated")).To(Succeed(), "the dialog does not show %s deactivated", bob)
		Expect(expect.Locator(row("Users", alice)).ToContainText("deactivated")).To(Succeed(), "the dialog does not show %s deactivated", alice)
		Expect(expect.Locator(row("Groups", "Engineering")).ToContainText("1 member")).To(Succeed())
		Expect(expect.Locator(row("Last provisioning requests", "Deactivate user").First()).ToBeVisible()).To(Succeed())
		noReload()
	})

	It("7. the tester page runs the SCIM catalogue against the tenant and every check passes", func() {
		// The tester page is closed after the step's screenshot: step
		// registers its cleanup after testerPage's.
		tester := testerPage(tenantURL)
		step(7, "tester", "running the SCIM catalogue on the tester page against the tenant URL with the secret", func() playwright.Page { return tester.Page })
		Expect(secret).NotTo(BeEmpty(), "step 1 copied no secret")
		got, _ := runOnPage(tester, appURL, tenantURL, secret, "guide-7-tester-top")
		Expect(got).NotTo(BeEmpty())
		want := statuses(runFromGo(tenantURL, secret))
		Expect(got).To(Equal(want), "the page's results differ from check.RunAll's")
		Expect(failedIDs(got)).To(BeEmpty(), "checks that failed against the tenant")
	})
})
