package browser_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mxschmitt/playwright-go"

	"github.com/idpkit/idpkit/scim/app"
	"github.com/idpkit/idpkit/scim/server"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
	"github.com/idpkit/idpkit/scim/tenant"
	"github.com/idpkit/idpkit/wasm/connect"
)

// auditedApp starts the real app server, with the audit trail on, on
// httptest with a fresh SQLite database; it counts the dialog's polls of
// the admin API.
func auditedApp() (*httptest.Server, *tenant.Service, *atomic.Int64) {
	GinkgoHelper()
	st, err := sqlstore.Open(context.Background(), "sqlite:"+filepath.Join(GinkgoT().TempDir(), "idpkit.db"), sqlstore.Options{})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(st.Close)
	audit := server.NewAuditWriter(st, nil)
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	DeferCleanup(srv.Close)
	DeferCleanup(audit.Close) // before the store closes
	cfg := app.Config{Store: st, PublicURL: srv.URL, HTTPClient: srv.Client(), Audit: audit}
	h := app.New(cfg)
	var polls atomic.Int64
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/admin/api/activity") || strings.HasSuffix(r.URL.Path, "/admin/api/audit") {
			polls.Add(1)
		}
		h.ServeHTTP(w, r)
	})
	return srv, app.Tenants(cfg), &polls
}

// scimCreate POSTs a resource to the tenant's SCIM API with its token and
// returns the new resource's id.
func scimCreate(base, token, endpoint, body string) string {
	GinkgoHelper()
	req, err := http.NewRequest(http.MethodPost, base+endpoint, strings.NewReader(body))
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	Expect(resp.StatusCode).To(Equal(http.StatusCreated))
	loc := resp.Header.Get("Location")
	return loc[strings.LastIndex(loc, "/")+1:]
}

var _ = Describe("the Connect Okta dialog's admin side on the app server", Label("browser", "dialog", "app"), func() {
	It("sets the admin group, lists the recent activity as it happens, and signs out on the server", func() {
		srv, tenants, polls := auditedApp()
		created, err := tenants.Create(context.Background(), "acme")
		Expect(err).NotTo(HaveOccurred())
		page := newPage(srv.URL)
		expect := playwright.NewPlaywrightAssertions(10000)
		label := func(text string) playwright.Locator {
			return page.GetByLabel(text, playwright.PageGetByLabelOptions{Exact: playwright.Bool(true)})
		}
		button := func(name string) playwright.Locator {
			return page.GetByRole("button", playwright.PageGetByRoleOptions{Name: name, Exact: playwright.Bool(true)})
		}
		log := page.GetByRole("table", playwright.PageGetByRoleOptions{Name: "Recent activity", Exact: playwright.Bool(true)}).Locator("tbody tr")

		_, err = page.Goto(created.AdminURL)
		Expect(err).NotTo(HaveOccurred())
		Expect(expect.Page(page).ToHaveURL(srv.URL + "/t/acme/admin/connect-okta")).To(Succeed())
		Expect(expect.Locator(button("Set admin group")).ToBeEnabled()).To(Succeed(), "the dialog did not load its settings")
		Expect(expect.Locator(label("Admin group")).ToHaveValue("")).To(Succeed())
		Expect(expect.Locator(label("Admin sign-in URL")).ToHaveValue(srv.URL + "/t/acme/admin/signin")).To(Succeed())
		Expect(expect.Locator(page.Locator("#admin-signin-state")).ToHaveText("Not yet: save the sign-in settings above first; until then, admins use one-time admin links.")).To(Succeed())
		Expect(button("Copy Admin sign-in URL").Click()).To(Succeed())
		Expect(page.Clipboard()).To(Equal(srv.URL + "/t/acme/admin/signin"))

		By("the admin link shows up in the recent activity")
		Expect(expect.Locator(log.First()).ToContainText("✓ Admin signed in with a one-time link")).To(Succeed())

		By("Okta creates a user and a group through the real SCIM API; both appear without a reload")
		start := time.Now()
		alice := scimCreate(created.SCIMBaseURL, created.Token, "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"alice@example.com"}`)
		group := scimCreate(created.SCIMBaseURL, created.Token, "/Groups", fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Idpkit Admins","members":[{"value":%q}]}`, alice))
		Expect(expect.Locator(log.First()).ToContainText("✓ Created group")).To(Succeed())
		GinkgoWriter.Printf("the SCIM writes showed up in the recent activity after %s\n", time.Since(start).Round(100*time.Millisecond))
		Expect(expect.Locator(log.First()).ToContainText("Group/" + group)).To(Succeed())
		Expect(expect.Locator(log.Nth(1)).ToContainText("✓ Created user")).To(Succeed())
		Expect(expect.Locator(log.Nth(1)).ToContainText("User/" + alice)).To(Succeed())
		Expect(expect.Locator(log.Nth(1)).ToContainText("Okta (current secret ")).To(Succeed())
		Expect(page.Locator("#audit-rows").TextContent()).NotTo(ContainSubstring("alice@example.com"), "the audit holds identifiers only")

		By("Okta uses the secret now: Generate new secret asks first, with the focus on Cancel, and Escape cancels")
		Expect(expect.Locator(page.Locator("#connection-status")).ToContainText("✓ Okta has connected")).To(Succeed())
		Expect(expect.Locator(page.Locator("#lead-first")).ToBeHidden()).To(Succeed())
		Expect(button("Generate new secret").Click()).To(Succeed())
		Expect(expect.Locator(page.Locator("#replace-confirm")).ToBeVisible()).To(Succeed())
		Expect(expect.Locator(button("Cancel")).ToBeFocused()).To(Succeed())
		Expect(page.Keyboard().Press("Escape")).To(Succeed())
		Expect(expect.Locator(page.Locator("#replace-confirm")).ToBeHidden()).To(Succeed())
		Expect(expect.Locator(button("Generate new secret")).ToBeFocused()).To(Succeed())

		By("a group Okta has not pushed is saved with a warning")
		Expect(label("Admin group").Fill("Idpkit Admns")).To(Succeed())
		Expect(button("Set admin group").Click()).To(Succeed())
		Expect(expect.Locator(page.Locator("#admin-group-status")).ToHaveText("✓ Saved: admin group “Idpkit Admns”.")).To(Succeed())
		Expect(expect.Locator(page.Locator("#admin-group-warning")).ToContainText("Okta has not pushed a group named “Idpkit Admns”")).To(Succeed())

		By("the warning follows what Okta pushes, without another Set admin group")
		Expect(expect.Locator(page.Locator("#admin-signin-state")).Not().ToHaveText(connect.AdminSignInReady)).To(Succeed())
		scimCreate(created.SCIMBaseURL, created.Token, "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Idpkit Admns"}`)
		Expect(expect.Locator(page.Locator("#admin-group-warning")).ToHaveText("The group “Idpkit Admns” has no members yet: assign the admins to it in Okta.")).To(Succeed())

		By("a name that differs only in case: did you mean, and a button that fills it in")
		Expect(label("Admin group").Fill("idpkit admins")).To(Succeed())
		Expect(button("Set admin group").Click()).To(Succeed())
		Expect(expect.Locator(page.Locator("#admin-group-warning")).ToContainText("did you mean “Idpkit Admins”?")).To(Succeed())
		Expect(button("Use “Idpkit Admins”").Click()).To(Succeed())
		Expect(expect.Locator(label("Admin group")).ToHaveValue("Idpkit Admins")).To(Succeed())
		Expect(expect.Locator(button("Set admin group")).ToBeFocused()).To(Succeed())

		By("the pushed group is saved with ✓ and its members, and the change is listed at once")
		Expect(page.Keyboard().Press("Enter")).To(Succeed())
		Expect(expect.Locator(page.Locator("#admin-group-status")).ToHaveText("✓ Saved: admin group “Idpkit Admins”, 1 member.")).To(Succeed())
		Expect(expect.Locator(page.Locator("#admin-group-status")).ToHaveClass("status ok")).To(Succeed())
		Expect(expect.Locator(page.Locator("#admin-group-warning")).ToBeHidden()).To(Succeed())
		Expect(expect.Locator(log.Filter(playwright.LocatorFilterOptions{HasText: "✓ Admin group set"})).ToHaveCount(3, playwright.LocatorAssertionsToHaveCountOptions{Timeout: playwright.Float(3000)})).To(Succeed(),
			"the admin's own change is not listed right after it")
		Expect(expect.Locator(log.First()).ToContainText("Admin with a one-time link from 127.0.0.1")).To(Succeed())
		Expect(expect.Locator(page.Locator("#admin-signin-state")).ToHaveText(connect.AdminSignInNeedsSettings)).To(Succeed())
		_, err = page.Shot("admin-1-recent-activity")
		Expect(err).NotTo(HaveOccurred())

		By("on a 390px-wide phone the panels fit")
		Expect(page.SetViewportSize(390, 844)).To(Succeed())
		Expect(page.Evaluate("() => document.documentElement.scrollWidth")).To(BeNumerically("<=", 390), "the page is wider than the phone")
		box, err := log.First().Locator("td").Last().BoundingBox()
		Expect(err).NotTo(HaveOccurred())
		Expect(box.X+box.Width).To(BeNumerically("<=", 390), "the Who column is off screen")
		_, err = page.Shot("admin-2-phone")
		Expect(err).NotTo(HaveOccurred())

		By("Sign out ends the session on the server")
		var session string
		cookies, err := page.Context().Cookies(srv.URL + "/t/acme/admin/")
		Expect(err).NotTo(HaveOccurred())
		for _, c := range cookies {
			if c.Name == "idpkit_admin" {
				session = c.Value
			}
		}
		Expect(session).NotTo(BeEmpty())
		// A poll on its way while the session ends is refused; that is
		// expected, and the dialog stops polling right after.
		page.AllowStatus("/t/acme/admin/api/activity", http.StatusUnauthorized)
		page.AllowStatus("/t/acme/admin/api/audit", http.StatusUnauthorized)
		Expect(button("Sign out").Click()).To(Succeed())
		Expect(expect.Locator(page.GetByRole("heading", playwright.PageGetByRoleOptions{Name: "Signed out", Exact: playwright.Bool(true)})).ToBeVisible()).To(Succeed())
		Expect(expect.Locator(page.Locator("#signed-out-text")).ToContainText("idpkit tenant admin-link acme")).To(Succeed())
		Expect(expect.Locator(page.Locator("#signed-out-text")).ToContainText(srv.URL + "/t/acme/admin/signin")).To(Succeed())
		for _, panel := range []string{"SCIM provisioning", "Sign-in", "Admins", "Recent activity"} {
			Expect(expect.Locator(page.GetByRole("heading", playwright.PageGetByRoleOptions{Name: panel, Exact: playwright.Bool(true)})).ToBeHidden()).To(Succeed(), panel)
		}
		Expect(expect.Locator(button("Sign out")).ToBeHidden()).To(Succeed())
		_, err = page.Shot("admin-3-signed-out")
		Expect(err).NotTo(HaveOccurred())

		req, err := http.NewRequest(http.MethodGet, srv.URL+"/t/acme/admin/api/settings", nil)
		Expect(err).NotTo(HaveOccurred())
		req.AddCookie(&http.Cookie{Name: "idpkit_admin", Value: session})
		resp, err := http.DefaultClient.Do(req)
		Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusUnauthorized), "the old cookie still works after sign-out")

		By("no more polling, and a reload says sign-in is needed")
		n := polls.Load()
		Consistently(polls.Load, "1500ms", "250ms").Should(Equal(n), "the dialog polls after sign-out")
		page.AllowStatus("/t/acme/admin/connect-okta", http.StatusUnauthorized)
		_, err = page.Reload()
		Expect(err).NotTo(HaveOccurred())
		Expect(expect.Locator(page.GetByRole("heading", playwright.PageGetByRoleOptions{Name: "Admin sign-in needed"})).ToBeVisible()).To(Succeed())
	})

	It("stops at once when the server ends the session, and says how to come back", func() {
		srv, tenants, polls := auditedApp()
		created, err := tenants.Create(context.Background(), "acme")
		Expect(err).NotTo(HaveOccurred())
		page := newPage(srv.URL)
		expect := playwright.NewPlaywrightAssertions(10000)
		_, err = page.Goto(created.AdminURL)
		Expect(err).NotTo(HaveOccurred())
		signOut := page.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Sign out", Exact: playwright.Bool(true)})
		Expect(expect.Locator(signOut).ToBeEnabled()).To(Succeed(), "the dialog did not load its settings")
		Expect(expect.Locator(page.Locator("#session-info")).ToContainText("Signed in with a one-time admin link, until ")).To(Succeed())
		Eventually(polls.Load, "5s").Should(BeNumerically(">=", 2))

		By("the session cookie is gone (as when the session expired or was ended in another tab)")
		page.AllowStatus("/t/acme/admin/api/activity", http.StatusUnauthorized)
		page.AllowStatus("/t/acme/admin/api/audit", http.StatusUnauthorized)
		Expect(page.Context().ClearCookies()).To(Succeed())
		Expect(expect.Locator(page.GetByRole("heading", playwright.PageGetByRoleOptions{Name: connect.SessionEndedTitle, Exact: playwright.Bool(true)})).ToBeVisible()).To(Succeed())
		Expect(expect.Locator(page.Locator("#signed-out-text")).ToContainText("idpkit tenant admin-link acme")).To(Succeed())
		for _, panel := range []string{"SCIM provisioning", "Sign-in", "Admins", "Recent activity"} {
			Expect(expect.Locator(page.GetByRole("heading", playwright.PageGetByRoleOptions{Name: panel, Exact: playwright.Bool(true)})).ToBeHidden()).To(Succeed(), panel)
		}
		Expect(expect.Locator(signOut).ToBeHidden()).To(Succeed())
		_, err = page.Shot("admin-4-session-ended")
		Expect(err).NotTo(HaveOccurred())

		By("no request follows, not even when the page gets the focus")
		n := polls.Load()
		Expect(page.Evaluate("() => window.dispatchEvent(new Event('focus'))")).Error().NotTo(HaveOccurred())
		Consistently(polls.Load, "1500ms", "250ms").Should(Equal(n), "the dialog polls after the session ended")
	})
})
