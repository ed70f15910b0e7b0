package browser_test

import (
	"net/http"
	"net/http/httptest"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mxschmitt/playwright-go"

	"github.com/idpkit/idpkit/suites/browser"
	"github.com/idpkit/idpkit/wasm/connect/admintest"
)

// fakeOkta serves only the org authorization server's discovery document.
func fakeOkta() *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"issuer":"http://` + r.Host + `","authorization_endpoint":"http://` + r.Host + `/oauth2/v1/authorize"}`))
	}))
	DeferCleanup(srv.Close)
	return srv
}

// dialogServer serves the dialog and a fake admin API for tenant acme.
func dialogServer(users, groups int) (*httptest.Server, *admintest.Admin) {
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	DeferCleanup(srv.Close)
	admin := admintest.New("acme", srv.URL, users, groups)
	srv.Config.Handler = admin
	return srv, admin
}

var _ = Describe("the Connect Okta dialog", Label("browser", "dialog"), func() {
	var (
		srv    *httptest.Server
		admin  *admintest.Admin
		page   *browser.Page
		expect playwright.PlaywrightAssertions
	)
	label := func(text string) playwright.Locator {
		return page.GetByLabel(text, playwright.PageGetByLabelOptions{Exact: playwright.Bool(true)})
	}
	id := func(id string) playwright.Locator { return page.Locator("#" + id) }

	BeforeEach(func() {
		srv, admin = dialogServer(3, 1)
		page = newPage(srv.URL)
		expect = playwright.NewPlaywrightAssertions(10000)
		_, err := page.Goto(srv.URL + admin.AdminPath())
		Expect(err).NotTo(HaveOccurred())
		Expect(page.URL()).To(Equal(srv.URL + "/t/acme/admin/connect-okta"))
		Expect(expect.Locator(id("save")).ToBeEnabled()).To(Succeed(), "the dialog did not load its settings")
	})

	It("shows the tenant URL, the redirect URI and the counts, with working copy buttons", func() {
		Expect(expect.Locator(page.GetByRole("heading", playwright.PageGetByRoleOptions{Name: "SCIM provisioning"})).ToBeVisible()).To(Succeed())
		Expect(expect.Locator(page.GetByRole("heading", playwright.PageGetByRoleOptions{Name: "Sign-in"})).ToBeVisible()).To(Succeed())
		Expect(expect.Locator(label("Tenant URL")).ToHaveValue(srv.URL + "/t/acme/scim/v2")).To(Succeed())
		Expect(expect.Locator(label("Tenant URL")).ToHaveAttribute("readonly", "")).To(Succeed())
		Expect(expect.Locator(label("Sign-in redirect URI")).ToHaveValue(srv.URL + "/t/acme/oidc/callback")).To(Succeed())
		Expect(expect.Locator(id("user-count")).ToHaveText("3")).To(Succeed())
		Expect(expect.Locator(id("group-count")).ToHaveText("1")).To(Succeed())

		Expect(id("copy-scim-url").Click()).To(Succeed())
		Expect(expect.Locator(id("copy-status")).ToHaveText("Tenant URL copied.")).To(Succeed())
		Expect(page.Clipboard()).To(Equal(srv.URL + "/t/acme/scim/v2"))

		Expect(id("copy-redirect-uri").Click()).To(Succeed())
		Expect(expect.Locator(id("copy-status")).ToHaveText("Sign-in redirect URI copied.")).To(Succeed())
		Expect(page.Clipboard()).To(Equal(srv.URL + "/t/acme/oidc/callback"))
	})

	It("labels every sign-in field and never shows the client secret", func() {
		for _, l := range []string{"Okta domain", "Client ID", "Client secret"} {
			Expect(expect.Locator(label(l)).ToBeEditable()).To(Succeed(), l)
		}
		Expect(expect.Locator(page.GetByLabel("Authorization server")).ToBeEditable()).To(Succeed())
		Expect(expect.Locator(label("Client secret")).ToHaveAttribute("type", "password")).To(Succeed())
	})

	It("generates a new secret and shows it once with a warning", func() {
		Expect(expect.Locator(id("secret")).ToBeHidden()).To(Succeed())
		Expect(page.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Generate new secret"}).Click()).To(Succeed())
		Expect(expect.Locator(label("New secret")).ToBeVisible()).To(Succeed())
		// admin.Secret() is read once the rotation has reached the server.
		Eventually(admin.Rotations, "10s").Should(Equal(1))
		Expect(expect.Locator(label("New secret")).ToHaveValue(admin.Secret())).To(Succeed())
		Expect(expect.Locator(id("secret-warning")).ToContainText("shown only once")).To(Succeed())
		Expect(expect.Locator(id("secret-warning")).ToContainText("previous secret stopped working")).To(Succeed())

		Expect(id("copy-secret").Click()).To(Succeed())
		Expect(page.Clipboard()).To(Equal(admin.Secret()))

		By("reloading, the secret is gone")
		_, err := page.Reload()
		Expect(err).NotTo(HaveOccurred())
		Expect(expect.Locator(id("save")).ToBeEnabled()).To(Succeed())
		Expect(expect.Locator(id("secret")).ToBeHidden()).To(Succeed())
	})

	It("saves the sign-in settings and reports the issuer", func() {
		okta := fakeOkta()
		Expect(label("Okta domain").Fill(okta.URL)).To(Succeed())
		Expect(label("Client ID").Fill("0oa1client")).To(Succeed())
		Expect(label("Client secret").Fill("s3cret")).To(Succeed())
		Expect(page.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Save"}).Click()).To(Succeed())
		Expect(expect.Locator(id("save-status")).ToHaveText("✓ Okta's discovery document was read: issuer " + okta.URL)).To(Succeed())
		Expect(expect.Locator(label("Client secret")).ToHaveValue("")).To(Succeed())
		Expect(expect.Locator(label("Client secret")).ToHaveAttribute("placeholder", "saved")).To(Succeed())
		Expect(admin.Saved()).To(HaveLen(1))
		Expect(admin.Saved()[0].ClientSecret).To(Equal("s3cret"))

		By("after a reload the form is pre-filled, without the secret")
		_, err := page.Reload()
		Expect(err).NotTo(HaveOccurred())
		Expect(expect.Locator(label("Okta domain")).ToHaveValue(okta.URL)).To(Succeed())
		Expect(expect.Locator(label("Client ID")).ToHaveValue("0oa1client")).To(Succeed())
		Expect(expect.Locator(label("Client secret")).ToHaveValue("")).To(Succeed())
		Expect(expect.Locator(label("Client secret")).ToHaveAttribute("placeholder", "saved")).To(Succeed())
	})

	It("says why when Okta's discovery document cannot be read", func() {
		page.AllowStatus("/t/acme/admin/api/oidc", http.StatusBadRequest)
		okta := fakeOkta()
		Expect(label("Okta domain").Fill(okta.URL)).To(Succeed())
		Expect(label("Client ID").Fill("0oa1client")).To(Succeed())
		Expect(label("Client secret").Fill("s3cret")).To(Succeed())
		Expect(page.GetByLabel("Authorization server").Fill("nope")).To(Succeed())
		Expect(id("save").Click()).To(Succeed())
		Expect(expect.Locator(id("save-status")).ToHaveText("✗ Okta's discovery document at " + okta.URL +
			"/oauth2/nope/.well-known/openid-configuration could not be read (HTTP 404); check the Okta domain and the authorization server.")).To(Succeed())
		Expect(admin.Saved()).To(BeEmpty())

		By("an empty form is refused before anything is sent")
		Expect(label("Okta domain").Fill("")).To(Succeed())
		Expect(id("save").Click()).To(Succeed())
		Expect(expect.Locator(id("save-status")).ToHaveText("✗ Enter your Okta domain, for example example.okta.com.")).To(Succeed())
	})

	It("works by keyboard alone", func() {
		okta := fakeOkta()
		Expect(label("Okta domain").Focus()).To(Succeed())
		kb := page.Keyboard()
		Expect(kb.Type(okta.URL)).To(Succeed())
		for _, step := range []struct{ text, focus string }{
			{"0oa1client", "client-id"}, {"s3cret", "client-secret"}, {"", "auth-server"}, {"", "save"},
		} {
			Expect(kb.Press("Tab")).To(Succeed())
			Expect(page.Evaluate("() => document.activeElement.id")).To(Equal(step.focus))
			if step.text != "" {
				Expect(kb.Type(step.text)).To(Succeed())
			}
		}
		Expect(kb.Press("Enter")).To(Succeed())
		Expect(expect.Locator(id("save-status")).ToHaveText("✓ Okta's discovery document was read: issuer " + okta.URL)).To(Succeed())

		By("Generate new secret is reachable by Tab from the copy button before it")
		Expect(id("copy-scim-url").Focus()).To(Succeed())
		Expect(kb.Press("Tab")).To(Succeed())
		Expect(page.Evaluate("() => document.activeElement.id")).To(Equal("generate-secret"))
		Expect(kb.Press("Enter")).To(Succeed())
		Eventually(admin.Rotations, "10s").Should(Equal(1))
		Expect(expect.Locator(id("secret")).ToHaveValue(admin.Secret())).To(Succeed())
	})

	It("says the admin session has ended when the API refuses it", func() {
		page.AllowStatus("/t/acme/admin/api/secret", http.StatusUnauthorized)
		Expect(page.Context().ClearCookies()).To(Succeed())
		Expect(id("generate-secret").Click()).To(Succeed())
		Expect(expect.Locator(id("secret-status")).ToHaveText("✗ Your admin session has ended; open a new admin link for this tenant. The previous secret still works.")).To(Succeed())
		Expect(expect.Locator(id("secret")).ToBeHidden()).To(Succeed())
		Expect(admin.Rotations()).To(Equal(0))
	})
})

var _ = Describe("the Connect Okta page before the dialog runs", Label("browser", "dialog"), func() {
	var (
		srv    *httptest.Server
		admin  *admintest.Admin
		expect playwright.PlaywrightAssertions
	)
	BeforeEach(func() {
		srv, admin = dialogServer(0, 0)
		expect = playwright.NewPlaywrightAssertions(10000)
	})

	It("says Loading… until dialog.wasm has arrived", func() {
		page := newPage()
		release := make(chan struct{})
		Expect(page.Route("**/assets/dialog.wasm", func(r playwright.Route) {
			<-release
			r.Continue()
		})).To(Succeed())
		_, err := page.Goto(srv.URL+admin.AdminPath(), playwright.PageGotoOptions{WaitUntil: playwright.WaitUntilStateDomcontentloaded})
		Expect(err).NotTo(HaveOccurred())
		Expect(expect.Locator(page.Locator("#loading")).ToHaveText("Loading…")).To(Succeed())
		close(release)
		Expect(expect.Locator(page.Locator("#save")).ToBeEnabled()).To(Succeed())
		Expect(expect.Locator(page.Locator("#loading")).ToHaveCount(0)).To(Succeed())
	})

	It("says so when dialog.wasm cannot be loaded", func() {
		page := newPage()
		page.AllowStatus("/t/acme/admin/assets/dialog.wasm", http.StatusNotFound)
		Expect(page.Route("**/assets/dialog.wasm", func(r playwright.Route) {
			r.Fulfill(playwright.RouteFulfillOptions{Status: playwright.Int(http.StatusNotFound), Body: "not found"})
		})).To(Succeed())
		_, err := page.Goto(srv.URL + admin.AdminPath())
		Expect(err).NotTo(HaveOccurred())
		Expect(expect.Locator(page.Locator("#loading")).ToHaveText("The dialog could not be loaded (HTTP 404); reload the page.")).To(Succeed())
	})

	It("shows no endless Loading… without JavaScript, and carries a <noscript> message", func() {
		page := newPageWith(browser.PageOptions{NoJavaScript: true})
		_, err := page.Goto(srv.URL + admin.AdminPath())
		Expect(err).NotTo(HaveOccurred())
		Expect(expect.Locator(page.Locator("#loading")).ToBeHidden()).To(Succeed())
		// Chromium under playwright keeps parsing <noscript> as if scripts
		// ran, so the message is checked in the markup, not on screen.
		Expect(page.Locator("noscript").TextContent()).To(ContainSubstring("needs JavaScript and WebAssembly"))
	})
})
