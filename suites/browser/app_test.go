package browser_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mxschmitt/playwright-go"

	"github.com/idpkit/idpkit/scim/app"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
	"github.com/idpkit/idpkit/scim/tenant"
)

// appServer starts the real app server on httptest with a fresh SQLite
// database; PublicURL is its own URL.
func appServer() (*httptest.Server, *tenant.Service) {
	GinkgoHelper()
	st, err := sqlstore.Open(context.Background(), "sqlite:"+filepath.Join(GinkgoT().TempDir(), "idpkit.db"), sqlstore.Options{})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(st.Close)
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	DeferCleanup(srv.Close)
	cfg := app.Config{Store: st, PublicURL: srv.URL, HTTPClient: srv.Client()}
	srv.Config.Handler = app.New(cfg)
	return srv, app.Tenants(cfg)
}

// scimStatus is the status of GET {base}/Users with a bearer token.
func scimStatus(base, token string) int {
	GinkgoHelper()
	req, err := http.NewRequest(http.MethodGet, base+"/Users?startIndex=1&count=2", nil)
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	Expect(err).NotTo(HaveOccurred())
	resp.Body.Close()
	return resp.StatusCode
}

var _ = Describe("the Connect Okta dialog on the app server", Label("browser", "dialog", "app"), func() {
	It("opens from an admin link clicked on another site, such as an e-mail", func() {
		srv, tenants := appServer()
		created, err := tenants.Create(context.Background(), "acme")
		Expect(err).NotTo(HaveOccurred())
		// A page on another site (localhost is not the same site as
		// 127.0.0.1) with the admin link, as a webmail would show it.
		mail := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><title>Mail</title><link rel="icon" href="data:,"><a id="link" href="%s">Open the Connect Okta dialog</a>`, html.EscapeString(created.AdminURL))
		}))
		DeferCleanup(mail.Close)
		page := newPage()
		expect := playwright.NewPlaywrightAssertions(15000)
		_, err = page.Goto(strings.Replace(mail.URL, "127.0.0.1", "localhost", 1))
		Expect(err).NotTo(HaveOccurred())
		Expect(page.Locator("#link").Click()).To(Succeed())
		Expect(expect.Page(page).ToHaveURL(srv.URL + "/t/acme/admin/connect-okta")).To(Succeed())
		Expect(expect.Locator(page.Locator("#save")).ToBeEnabled()).To(Succeed(), "the dialog did not get the admin session")
		Expect(expect.Locator(page.GetByLabel("Tenant URL", playwright.PageGetByLabelOptions{Exact: playwright.Bool(true)})).ToHaveValue(created.SCIMBaseURL)).To(Succeed())
	})

	It("shows the tenant's values, rotates its secret and saves its sign-in settings", func() {
		srv, tenants := appServer()
		created, err := tenants.Create(context.Background(), "acme")
		Expect(err).NotTo(HaveOccurred())

		page := newPage(srv.URL)
		expect := playwright.NewPlaywrightAssertions(15000)
		label := func(text string) playwright.Locator {
			return page.GetByLabel(text, playwright.PageGetByLabelOptions{Exact: playwright.Bool(true)})
		}
		_, err = page.Goto(created.AdminURL)
		Expect(err).NotTo(HaveOccurred())
		Expect(expect.Page(page).ToHaveURL(srv.URL + "/t/acme/admin/connect-okta")).To(Succeed())
		Expect(expect.Locator(page.Locator("#save")).ToBeEnabled()).To(Succeed(), "the dialog did not load its settings")

		Expect(expect.Locator(label("Tenant URL")).ToHaveValue(created.SCIMBaseURL)).To(Succeed())
		Expect(expect.Locator(label("Sign-in redirect URI")).ToHaveValue(created.RedirectURI)).To(Succeed())
		Expect(expect.Locator(page.Locator("#user-count")).ToHaveText("0")).To(Succeed())
		Expect(expect.Locator(page.Locator("#group-count")).ToHaveText("0")).To(Succeed())

		By("generating a new secret, which replaces the one of tenant create")
		Expect(scimStatus(created.SCIMBaseURL, created.Token)).To(Equal(http.StatusOK))
		Expect(page.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Generate new secret"}).Click()).To(Succeed())
		Expect(expect.Locator(label("New secret")).ToBeVisible()).To(Succeed())
		secret, err := label("New secret").InputValue()
		Expect(err).NotTo(HaveOccurred())
		Expect(secret).NotTo(BeEmpty())
		Expect(scimStatus(created.SCIMBaseURL, secret)).To(Equal(http.StatusOK))
		Expect(scimStatus(created.SCIMBaseURL, created.Token)).To(Equal(http.StatusUnauthorized))

		By("saving an Okta domain whose discovery document cannot be read")
		page.AllowStatus("/t/acme/admin/api/oidc", http.StatusBadRequest)
		closed := httptest.NewServer(http.NotFoundHandler())
		closed.Close()
		Expect(label("Okta domain").Fill(closed.URL)).To(Succeed())
		Expect(label("Client ID").Fill("0oa1client")).To(Succeed())
		Expect(label("Client secret").Fill("s3cret")).To(Succeed())
		Expect(page.Locator("#save").Click()).To(Succeed())
		Expect(expect.Locator(page.Locator("#save-status")).ToHaveClass("status error")).To(Succeed())
		Expect(expect.Locator(page.Locator("#save-status")).ToContainText("✗ ")).To(Succeed())

		By("saving one that can")
		okta := fakeOkta()
		Expect(label("Okta domain").Fill(okta.URL)).To(Succeed())
		Expect(page.Locator("#save").Click()).To(Succeed())
		Expect(expect.Locator(page.Locator("#save-status")).ToHaveText("✓ Saved. Okta's discovery document was read: issuer " + okta.URL + ".")).To(Succeed())
		Expect(expect.Locator(label("Client secret")).ToHaveAttribute("placeholder", "saved")).To(Succeed())
	})
})
