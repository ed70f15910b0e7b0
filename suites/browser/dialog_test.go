package browser_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mxschmitt/playwright-go"

	"github.com/idpkit/idpkit/scim/adminapi"
	"github.com/idpkit/idpkit/suites/browser"
	"github.com/idpkit/idpkit/wasm/connect"
	"github.com/idpkit/idpkit/wasm/connect/admintest"
)

// fakeOkta serves what the sign-in check reads of Okta's org
// authorization server: the discovery document, a key set with one RS256
// key, and a token endpoint that accepts any client and refuses the code
// (invalid_grant), as Okta does for the check's made-up code.
func fakeOkta() *httptest.Server {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	Expect(err).NotTo(HaveOccurred())
	b64 := base64.RawURLEncoding.EncodeToString
	jwks, err := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "alg": "RS256", "use": "sig", "kid": "k1",
		"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
	}}})
	Expect(err).NotTo(HaveOccurred())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		iss := "http://" + r.Host
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]any{
				"issuer": iss, "authorization_endpoint": iss + "/oauth2/v1/authorize", "token_endpoint": iss + "/oauth2/v1/token",
				"jwks_uri": iss + "/oauth2/v1/keys", "userinfo_endpoint": iss + "/oauth2/v1/userinfo",
				"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
				"id_token_signing_alg_values_supported": []string{"RS256"},
				"code_challenge_methods_supported":      []string{"S256"},
				"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
			})
		case "/oauth2/v1/keys":
			w.Write(jwks)
		case "/oauth2/v1/token":
			if _, _, ok := r.BasicAuth(); !ok {
				w.WriteHeader(http.StatusUnauthorized)
				w.Write([]byte(`{"error":"invalid_client","error_description":"Client authentication failed."}`))
				return
			}
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"invalid_grant","error_description":"The authorization code is invalid or has expired."}`))
		default:
			http.NotFound(w, r)
		}
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

		By("the clicked button says Copied for 2 seconds, keeping its name")
		Expect(expect.Locator(id("copy-scim-url")).ToHaveText("Copied")).To(Succeed())
		Expect(expect.Locator(id("copy-scim-url")).ToHaveAttribute("aria-label", "Copy Tenant URL")).To(Succeed())
		Expect(expect.Locator(id("copy-redirect-uri")).ToHaveText("Copy")).To(Succeed())
		Expect(expect.Locator(id("copy-scim-url")).ToHaveText("Copy", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(4000)})).To(Succeed())

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

	It("saves the sign-in settings after checking them with Okta, step by step", func() {
		okta := fakeOkta()
		Expect(expect.Locator(page.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Test sign-in"})).ToBeDisabled()).To(Succeed())
		Expect(label("Okta domain").Fill(okta.URL + "/")).To(Succeed())
		Expect(label("Client ID").Fill("0oa1client")).To(Succeed())
		Expect(label("Client secret").Fill("s3cret")).To(Succeed())

		By("a spinner while the server checks")
		release := make(chan struct{})
		Expect(page.Route("**/api/oidc", func(r playwright.Route) {
			<-release
			r.Continue()
		})).To(Succeed())
		Expect(page.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Save"}).Click()).To(Succeed())
		Expect(expect.Locator(id("save-status")).ToHaveText("Checking Okta: domain, discovery document, signing keys, client credentials…")).To(Succeed())
		Expect(expect.Locator(id("save-status")).ToHaveClass("status busy")).To(Succeed())
		close(release)

		By("then ✓ and the four checks")
		Expect(expect.Locator(id("save-status")).ToHaveText("✓ Saved. Okta's discovery document was read: issuer " + okta.URL + ".")).To(Succeed())
		Expect(expect.Locator(page.Locator("#signin-checks li")).ToHaveText([]string{
			"✓ Okta domain: " + okta.URL + " (the trailing slash was dropped)",
			"✓ Discovery document: issuer " + okta.URL,
			"✓ Signing keys: 2 keys (RS256)",
			"✓ Client credentials: Okta accepted the Client ID and secret",
		})).To(Succeed())
		Expect(expect.Locator(label("Client secret")).ToHaveValue("")).To(Succeed())
		Expect(expect.Locator(label("Client secret")).ToHaveAttribute("placeholder", "saved")).To(Succeed())
		Expect(expect.Locator(page.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Test sign-in"})).ToBeEnabled()).To(Succeed())
		Expect(admin.Saved()).To(HaveLen(1))
		Expect(admin.Saved()[0].ClientSecret).To(Equal("s3cret"))

		By("after a reload the form is pre-filled, without the secret, and Test sign-in stays available")
		_, err := page.Reload()
		Expect(err).NotTo(HaveOccurred())
		Expect(expect.Locator(label("Okta domain")).ToHaveValue(okta.URL)).To(Succeed())
		Expect(expect.Locator(label("Client ID")).ToHaveValue("0oa1client")).To(Succeed())
		Expect(expect.Locator(label("Client secret")).ToHaveValue("")).To(Succeed())
		Expect(expect.Locator(label("Client secret")).ToHaveAttribute("placeholder", "saved")).To(Succeed())
		Expect(expect.Locator(id("test-sign-in")).ToBeEnabled()).To(Succeed())
		Expect(expect.Locator(id("signin-checks")).ToBeHidden()).To(Succeed())
	})

	It("shows ✗ with the failing step's sentence and the steps that ran", func() {
		page.AllowStatus("/t/acme/admin/api/oidc", http.StatusBadRequest)
		okta := fakeOkta()
		const refused = "Okta refused the Client ID or Client secret (invalid_client); copy both again from the OIDC app's General tab."
		admin.FailCheck(adminapi.CheckCredentials, refused)
		Expect(label("Okta domain").Fill(okta.URL)).To(Succeed())
		Expect(label("Client ID").Fill("0oa1client")).To(Succeed())
		Expect(label("Client secret").Fill("wrong")).To(Succeed())
		Expect(id("save").Click()).To(Succeed())
		By("the status names the failing step; only the list carries its sentence")
		Expect(expect.Locator(id("save-status")).ToHaveText("✗ Not saved: Client credentials failed (see below).")).To(Succeed())
		Expect(expect.Locator(id("save-status")).ToHaveClass("status error")).To(Succeed())
		Expect(expect.Locator(page.Locator("#signin-checks li")).ToHaveText([]string{
			"✓ Okta domain: " + okta.URL,
			"✓ Discovery document: issuer " + okta.URL,
			"✓ Signing keys: 2 keys (RS256)",
			"✗ Client credentials: " + refused,
		})).To(Succeed())
		Expect(expect.Locator(page.Locator("#signin-checks li").Last()).ToHaveClass("error")).To(Succeed())
		Expect(admin.Saved()).To(BeEmpty())
		Expect(expect.Locator(id("test-sign-in")).ToBeDisabled()).To(Succeed())

		By("a refusal without checks still shows the ✗ sentence")
		admin.SetPlainErrors(true)
		Expect(id("save").Click()).To(Succeed())
		Expect(expect.Locator(id("save-status")).ToHaveText("✗ " + refused)).To(Succeed())
		Expect(expect.Locator(id("signin-checks")).ToBeHidden()).To(Succeed())
	})

	It("says why when Okta's discovery document cannot be read", func() {
		page.AllowStatus("/t/acme/admin/api/oidc", http.StatusBadRequest)
		okta := fakeOkta()
		Expect(label("Okta domain").Fill(okta.URL)).To(Succeed())
		Expect(label("Client ID").Fill("0oa1client")).To(Succeed())
		Expect(label("Client secret").Fill("s3cret")).To(Succeed())
		Expect(page.GetByLabel("Authorization server").Fill("nope")).To(Succeed())
		Expect(id("save").Click()).To(Succeed())
		sentence := "Okta's discovery document at " + okta.URL +
			"/oauth2/nope/.well-known/openid-configuration could not be read (HTTP 404); check the Okta domain and the authorization server."
		Expect(expect.Locator(id("save-status")).ToHaveText("✗ Not saved: Discovery document failed (see below).")).To(Succeed())
		Expect(expect.Locator(page.Locator("#signin-checks li")).ToHaveText([]string{
			"✓ Okta domain: " + okta.URL, "✗ Discovery document: " + sentence,
		})).To(Succeed())
		Expect(admin.Saved()).To(BeEmpty())

		By("an empty form is refused before anything is sent")
		Expect(label("Okta domain").Fill("")).To(Succeed())
		Expect(id("save").Click()).To(Succeed())
		Expect(expect.Locator(id("save-status")).ToHaveText("✗ Enter your Okta domain, for example example.okta.com.")).To(Succeed())
		Expect(expect.Locator(id("signin-checks")).ToBeHidden()).To(Succeed())
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
		Expect(expect.Locator(id("save-status")).ToHaveText("✓ Saved. Okta's discovery document was read: issuer " + okta.URL + ".")).To(Succeed())

		By("Test sign-in is the next stop after Save, and Enter opens its popup")
		Expect(expect.Locator(id("test-sign-in")).ToBeEnabled()).To(Succeed())
		Expect(page.Evaluate("() => document.activeElement.id")).To(Equal("save"))
		Expect(kb.Press("Tab")).To(Succeed())
		Expect(page.Evaluate("() => document.activeElement.id")).To(Equal("test-sign-in"))
		popup, err := page.ExpectPopup(func() error { return kb.Press("Enter") })
		Expect(err).NotTo(HaveOccurred())
		Expect(expect.Locator(popup.GetByRole("heading", playwright.PageGetByRoleOptions{Name: "Test sign-in worked"})).ToBeVisible()).To(Succeed())
		Expect(expect.Locator(id("test-status")).ToHaveText("✓ Signed in as alice@example.com.")).To(Succeed())

		By("Generate new secret is reachable by Tab from the copy button before it")
		Expect(id("copy-scim-url").Focus()).To(Succeed())
		Expect(kb.Press("Tab")).To(Succeed())
		Expect(page.Evaluate("() => document.activeElement.id")).To(Equal("generate-secret"))
		Expect(kb.Press("Enter")).To(Succeed())
		Eventually(admin.Rotations, "10s").Should(Equal(1))
		Expect(expect.Locator(id("secret")).ToHaveValue(admin.Secret())).To(Succeed())
	})

	// clock is t as the page shows it: HH:MM:SS in the browser's time zone.
	clock := func(t time.Time) string {
		GinkgoHelper()
		v, err := page.Evaluate(`iso => new Date(iso).toTimeString().slice(0, 8)`, t.Format(time.RFC3339Nano))
		Expect(err).NotTo(HaveOccurred())
		return v.(string)
	}

	It("shows Okta connecting, without a reload, and a wrong secret", func() {
		conn := id("connection-status")
		Expect(expect.Locator(conn).ToHaveText(connect.ConnectionWaiting)).To(Succeed())
		Expect(expect.Locator(conn).ToHaveAttribute("role", "status")).To(Succeed())
		Expect(expect.Locator(conn).ToHaveAttribute("aria-live", "polite")).To(Succeed())
		Expect(expect.Locator(conn).ToHaveClass("status busy")).To(Succeed())

		By("Okta's Test API Credentials arrives")
		at := time.Now().Add(-time.Minute).Truncate(time.Second)
		test := adminapi.Request{At: at, Method: "GET", Path: "/Users?startIndex=1&count=2", Status: 200,
			Action: "Test API Credentials", UserAgent: "Okta SCIM Client 1.0.0"}
		admin.AddRequest(test)
		admin.SetConnected(&test)
		Expect(expect.Locator(conn).ToHaveText("✓ Okta has connected: Test API Credentials at " + clock(at) + " (Okta SCIM Client 1.0.0).")).To(Succeed())
		Expect(expect.Locator(conn).ToHaveClass("status ok")).To(Succeed())

		By("a request with a wrong secret comes later")
		later := at.Add(30 * time.Second)
		admin.AddRequest(adminapi.Request{At: later, Method: "GET", Path: "/Users?startIndex=1&count=2", Status: 401, Action: "Wrong secret",
			Detail: "the bearer token is not this tenant's secret", UserAgent: "Okta SCIM Client 1.0.0"})
		Expect(expect.Locator(conn).ToHaveText("✗ Okta sent a wrong secret at " + clock(later) +
			": paste the newest secret into Okta, then click Test API Credentials again.")).To(Succeed())
		Expect(expect.Locator(conn).ToHaveClass("status error")).To(Succeed())

		By("Generate new secret asks first, as Okta uses the secret; Cancel keeps it")
		warning := page.GetByText(connect.ReplaceWarning)
		Expect(expect.Locator(warning).ToBeHidden()).To(Succeed())
		Expect(id("generate-secret").Click()).To(Succeed())
		Expect(expect.Locator(warning).ToBeVisible()).To(Succeed())
		replace := page.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Replace secret"})
		cancel := page.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Cancel"})
		// The safe choice has the focus: Enter cancels.
		Expect(expect.Locator(cancel).ToBeFocused()).To(Succeed())
		kb := page.Keyboard()
		Expect(kb.Press("Enter")).To(Succeed())
		Expect(expect.Locator(warning).ToBeHidden()).To(Succeed())
		Expect(expect.Locator(id("generate-secret")).ToBeFocused()).To(Succeed())
		Expect(admin.Rotations()).To(Equal(0))
		Expect(expect.Locator(id("secret")).ToBeHidden()).To(Succeed())

		By("after Replace secret (by keyboard) it waits again")
		Expect(kb.Press("Enter")).To(Succeed())
		Expect(expect.Locator(cancel).ToBeFocused()).To(Succeed())
		Expect(kb.Press("Shift+Tab")).To(Succeed())
		Expect(expect.Locator(replace).ToBeFocused()).To(Succeed())
		Expect(kb.Press("Enter")).To(Succeed())
		Expect(expect.Locator(conn).ToHaveText(connect.ConnectionWaiting)).To(Succeed())
		Eventually(admin.Rotations, "10s").Should(Equal(1))
		Expect(expect.Locator(warning).ToBeHidden()).To(Succeed())
		Expect(expect.Locator(label("New secret")).ToHaveValue(admin.Secret())).To(Succeed())
		By("the secret Okta used keeps working for 10 minutes, and the page says until when")
		Expect(admin.Graces()).To(Equal([]int{600}))
		Expect(expect.Locator(id("secret-warning")).ToContainText("The previous secret keeps working until ")).To(Succeed())
		n := admin.ActivityReads()
		Eventually(admin.ActivityReads, "10s").Should(BeNumerically(">=", n+2), "the dialog stopped polling")
		Expect(expect.Locator(conn).ToHaveText(connect.ConnectionWaiting)).To(Succeed())
	})

	It("lists the users, groups and requests as Okta provisions them", func() {
		By("empty states first")
		admin.SetActivity(adminapi.Activity{})
		Expect(expect.Locator(id("users-empty")).ToHaveText("No users yet: assign people or a group to the SCIM app in Okta.")).To(Succeed())
		Expect(expect.Locator(id("groups-empty")).ToBeVisible()).To(Succeed())
		Expect(expect.Locator(id("requests-empty")).ToBeVisible()).To(Succeed())
		Expect(expect.Locator(id("user-table")).ToBeHidden()).To(Succeed())
		Expect(expect.Locator(id("request-table")).ToBeHidden()).To(Succeed())

		By("Okta pushes users and a group")
		at := time.Now().Truncate(time.Second)
		evil := `<img src=x onerror="window.pwned=1">`
		act := adminapi.Activity{
			Requests: []adminapi.Request{
				{At: at.Add(2 * time.Second), Method: "POST", Path: "/Users", Status: 409, Action: "Create user",
					Detail: "uniqueness: userName carol@example.com exists"},
				{At: at.Add(time.Second), Method: "POST", Path: "/Groups", Status: 201, Action: "Create group"},
				{At: at, Method: "POST", Path: "/Users", Status: 201, Action: "Create user"},
			},
			Users: adminapi.ResourceList{Total: 12, Recent: []adminapi.Provisioned{
				{Name: "alice@example.com", DisplayName: "Alice Example", Active: true},
				{Name: "bob@example.com", DisplayName: evil, Active: false},
			}},
			Groups: adminapi.ResourceList{Total: 1, Recent: []adminapi.Provisioned{{Name: "Engineering", Members: 2, Active: true}}},
		}
		admin.SetActivity(act)
		Expect(expect.Locator(page.Locator("#user-rows tr")).ToHaveText([]string{
			"alice@example.comAlice Exampleactive", "bob@example.com" + evil + "deactivated",
		})).To(Succeed())
		Expect(expect.Locator(id("user-count")).ToHaveText("12")).To(Succeed())
		Expect(expect.Locator(id("users-more")).ToHaveText("Showing the 2 most recent of 12 users.")).To(Succeed())
		Expect(expect.Locator(id("users-empty")).ToBeHidden()).To(Succeed())
		Expect(page.Locator("#user-rows img").Count()).To(Equal(0), "server data was parsed as HTML")
		Expect(page.Evaluate("() => window.pwned === undefined")).To(BeTrue())
		Expect(expect.Locator(page.Locator("#group-rows tr")).ToHaveText([]string{"Engineering2 members"})).To(Succeed())
		Expect(expect.Locator(page.GetByText("Assign people, or a group, to the SCIM app in Okta (Assignments tab); pushed groups appear here too.")).ToBeVisible()).To(Succeed())
		Expect(expect.Locator(id("group-count")).ToHaveText("1")).To(Succeed())
		Expect(expect.Locator(id("groups-more")).ToBeHidden()).To(Succeed())
		rows := page.Locator("#request-rows tr")
		Expect(expect.Locator(rows).ToHaveCount(3)).To(Succeed())
		Expect(expect.Locator(rows.First().Locator("td")).ToHaveText([]string{
			clock(at.Add(2 * time.Second)), "Create user", "POST /Users", "✗ 409: uniqueness: userName carol@example.com exists",
		})).To(Succeed())
		Expect(expect.Locator(rows.Nth(1).Locator("td")).ToHaveText([]string{clock(at.Add(time.Second)), "Create group", "POST /Groups", "✓ 201"})).To(Succeed())

		By("and the lists follow")
		act.Users.Total = 13
		act.Users.Recent = append([]adminapi.Provisioned{{Name: "dave@example.com", Active: true}}, act.Users.Recent...)
		act.Requests = append([]adminapi.Request{{At: at.Add(3 * time.Second), Method: "PATCH", Path: "/Users/u4", Status: 200, Action: "Deactivate user"}}, act.Requests...)
		admin.SetActivity(act)
		Expect(expect.Locator(page.Locator("#user-rows tr").First()).ToHaveText("dave@example.com–active")).To(Succeed())
		Expect(expect.Locator(id("users-more")).ToHaveText("Showing the 3 most recent of 13 users.")).To(Succeed())
		Expect(expect.Locator(rows).ToHaveCount(4)).To(Succeed())
		Expect(expect.Locator(rows.First().Locator("td").Nth(1)).ToHaveText("Deactivate user")).To(Succeed())
	})

	It("fits a 390px-wide phone: the tables scroll or wrap inside the panel", func() {
		Expect(page.SetViewportSize(390, 844)).To(Succeed())
		long := strings.Repeat("very.long.name", 5) + "@example-with-a-long-domain.com"
		at := time.Now().Truncate(time.Second)
		admin.SetActivity(adminapi.Activity{
			Requests: []adminapi.Request{
				{At: at, Method: "PATCH", Path: "/Users/00u1a2b3c4d5e6f7g8h9i0j1k2l3m4n5o6p7q8r9?attributes=userName,active,name", Status: 409,
					Action: "Update user", Detail: "uniqueness: userName " + long + " exists"},
				{At: at, Method: "POST", Path: "/Users", Status: 201, Action: "Create user"},
			},
			Users: adminapi.ResourceList{Total: 2, Recent: []adminapi.Provisioned{
				{Name: long, DisplayName: "Alexandria Maximiliane Longname-Doubleбарrel", Active: true},
				{Name: "bob@example.com", DisplayName: "Bob", Active: false},
			}},
			Groups: adminapi.ResourceList{Total: 1, Recent: []adminapi.Provisioned{{Name: strings.Repeat("Engineering", 6), Members: 12, Active: true}}},
		})
		Expect(expect.Locator(page.Locator("#user-rows tr")).ToHaveCount(2)).To(Succeed())
		Expect(expect.Locator(page.Locator("#request-rows tr")).ToHaveCount(2)).To(Succeed())
		Expect(page.Evaluate("() => document.documentElement.scrollWidth")).To(BeNumerically("<=", 390), "the page is wider than the phone")
		for _, sel := range []string{"#user-rows tr:first-child td:last-child", "#group-rows tr td:last-child", "#request-rows tr:first-child td:last-child",
			"#request-rows tr:first-child td:nth-child(3)"} {
			box, err := page.Locator(sel).BoundingBox()
			Expect(err).NotTo(HaveOccurred())
			Expect(box.X+box.Width).To(BeNumerically("<=", 390), sel+" is off screen")
			Expect(box.Width).To(BeNumerically(">=", 40), sel+" is squeezed")
		}
		Expect(expect.Locator(page.Locator("#user-rows tr:first-child td:last-child")).ToHaveText("active")).To(Succeed())

		By("each table's container is reachable by keyboard and shows its focus")
		Expect(id("group-table-wrap").Focus()).To(Succeed())
		Expect(page.Keyboard().Press("Shift+Tab")).To(Succeed())
		Expect(page.Evaluate("() => document.activeElement.id")).To(Equal("user-table-wrap"))
		Expect(page.Evaluate(`() => getComputedStyle(document.activeElement).overflowX`)).To(Equal("auto"))
		Expect(page.Evaluate(`() => getComputedStyle(document.activeElement).outlineStyle`)).To(Equal("solid"))
		Expect(page.Evaluate(`() => [...document.querySelectorAll(".table-wrap")].map(e => e.tabIndex)`)).To(Equal([]any{0, 0, 0}))
	})

	It("says it lost contact only after three failed polls, and recovers silently", func() {
		page.AllowStatus("/t/acme/admin/api/activity", http.StatusBadGateway)
		conn := id("connection-status")
		Expect(expect.Locator(conn).ToHaveText(connect.ConnectionWaiting)).To(Succeed())
		admin.SetActivityStatus(http.StatusBadGateway)
		Expect(expect.Locator(conn).ToHaveText("✗ Lost contact with the idpkit server; retrying…")).To(Succeed())
		admin.SetActivityStatus(0)
		Expect(expect.Locator(conn).ToHaveText(connect.ConnectionWaiting)).To(Succeed())
	})

	// saveSignIn saves working sign-in settings.
	saveSignIn := func() {
		GinkgoHelper()
		okta := fakeOkta()
		Expect(label("Okta domain").Fill(okta.URL)).To(Succeed())
		Expect(label("Client ID").Fill("0oa1client")).To(Succeed())
		Expect(label("Client secret").Fill("s3cret")).To(Succeed())
		Expect(id("save").Click()).To(Succeed())
		Expect(expect.Locator(id("save-status")).ToHaveText("✓ Saved. Okta's discovery document was read: issuer " + okta.URL + ".")).To(Succeed())
	}
	testButton := func() playwright.Locator {
		return page.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Test sign-in", Exact: playwright.Bool(true)})
	}

	It("runs a test sign-in in a popup and shows the ID token's claims", func() {
		Expect(expect.Locator(testButton()).ToBeDisabled()).To(Succeed())
		saveSignIn()
		popup, err := page.ExpectPopup(func() error { return testButton().Click() })
		Expect(err).NotTo(HaveOccurred())
		Expect(popup.URL()).To(MatchRegexp(`/t/acme/admin/test-sign-in\?id=[A-Za-z0-9_-]{22,128}$`))
		Expect(expect.Locator(popup.GetByRole("heading", playwright.PageGetByRoleOptions{Name: "Test sign-in worked"})).ToBeVisible()).To(Succeed())
		Expect(admin.TestSignInIDs()).To(HaveLen(1))
		Expect(popup.URL()).To(HaveSuffix("id=" + admin.TestSignInIDs()[0]))

		Expect(expect.Locator(id("test-status")).ToHaveText("✓ Signed in as alice@example.com.")).To(Succeed())
		Expect(expect.Locator(id("test-status")).ToHaveClass("status ok")).To(Succeed())
		Expect(expect.Locator(page.Locator("#claims dt")).ToHaveText([]string{"amr", "email", "email_verified", "iat", "name", "sub"})).To(Succeed())
		// iat as the browser's clock shows it: YYYY-MM-DD HH:MM:SS local time.
		iat, err := page.Evaluate(`s => { const d = new Date(s * 1000), p = n => String(n).padStart(2, "0");
			return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + " " + p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds()); }`, 1733250000)
		Expect(err).NotTo(HaveOccurred())
		Expect(expect.Locator(page.Locator("#claims dd")).ToHaveText([]string{`["pwd"]`, "alice@example.com", "true",
			"1733250000 (" + iat.(string) + " local time)", "Alice Example", "00u1alice"})).To(Succeed())
		Expect(expect.Locator(page.GetByRole("heading", playwright.PageGetByRoleOptions{Name: "ID token claims"})).ToBeVisible()).To(Succeed())

		By("a new Save clears the old result")
		Expect(id("save").Click()).To(Succeed())
		Expect(expect.Locator(id("test-status")).ToBeHidden()).To(Succeed())
		Expect(expect.Locator(id("claims-box")).ToBeHidden()).To(Succeed())
		Expect(expect.Locator(id("save-status")).ToContainText("✓ Saved.")).To(Succeed())
		Expect(expect.Locator(id("test-status")).ToBeHidden()).To(Succeed())
	})

	It("shows ✗ with the reason when the test sign-in is refused", func() {
		admin.SetTestSignIn(&adminapi.TestSignIn{Done: true, Message: "bob@example.com is deactivated in idpkit; reactivate them in Okta.",
			Claims: map[string]any{"sub": "00u2bob"}})
		saveSignIn()
		popup, err := page.ExpectPopup(func() error { return testButton().Click() })
		Expect(err).NotTo(HaveOccurred())
		Expect(expect.Locator(popup.GetByRole("heading", playwright.PageGetByRoleOptions{Name: "Test sign-in refused"})).ToBeVisible()).To(Succeed())
		Expect(expect.Locator(id("test-status")).ToHaveText("✗ bob@example.com is deactivated in idpkit; reactivate them in Okta.")).To(Succeed())
		Expect(expect.Locator(id("test-status")).ToHaveClass("status error")).To(Succeed())
		Expect(expect.Locator(page.Locator("#claims dd")).ToHaveText([]string{"00u2bob"})).To(Succeed())
	})

	It("says so when the popup is blocked", func() {
		saveSignIn()
		_, err := page.Evaluate("() => { window.open = () => null; }")
		Expect(err).NotTo(HaveOccurred())
		Expect(testButton().Click()).To(Succeed())
		Expect(expect.Locator(id("test-status")).ToHaveText("✗ The browser blocked the popup; allow popups for this site and try again.")).To(Succeed())
		Expect(admin.TestSignInIDs()).To(BeEmpty())
	})

	It("says so when the popup is closed before the sign-in finished", func() {
		admin.SetTestSignIn(nil)
		saveSignIn()
		popup, err := page.ExpectPopup(func() error { return testButton().Click() })
		Expect(err).NotTo(HaveOccurred())
		Expect(expect.Locator(popup.GetByRole("heading", playwright.PageGetByRoleOptions{Name: "Signing in…"})).ToBeVisible()).To(Succeed())
		Expect(expect.Locator(id("test-status")).ToHaveText("Waiting for the sign-in in the popup…")).To(Succeed())
		Expect(expect.Locator(id("test-status")).ToHaveClass("status busy")).To(Succeed())
		Expect(popup.Close()).To(Succeed())
		Expect(expect.Locator(id("test-status")).ToHaveText("✗ The sign-in window was closed before the sign-in finished.")).To(Succeed())

		By("a second try that finishes shows ✓")
		admin.SetTestSignIn(&admintest.DefaultTestSignIn)
		_, err = page.ExpectPopup(func() error { return testButton().Click() })
		Expect(err).NotTo(HaveOccurred())
		Expect(expect.Locator(id("test-status")).ToHaveText("✓ Signed in as alice@example.com.")).To(Succeed())
		Expect(admin.TestSignInIDs()).To(HaveLen(2))
		Expect(admin.TestSignInIDs()[0]).NotTo(Equal(admin.TestSignInIDs()[1]))
	})

	It("explains every value in one line", func() {
		for _, help := range []string{"connection-help", "scim-url-help", "redirect-uri-help", "okta-domain-help", "client-id-help",
			"client-secret-help", "auth-server-help", "test-sign-in-help"} {
			text, err := id(help).TextContent()
			Expect(err).NotTo(HaveOccurred())
			Expect(strings.TrimSpace(text)).NotTo(BeEmpty(), help)
		}
		Expect(expect.Locator(testButton()).ToHaveAttribute("aria-describedby", "test-sign-in-help")).To(Succeed())
	})

	It("says the admin session has ended when the API refuses it, and stops asking", func() {
		for _, p := range []string{"/t/acme/admin/api/activity", "/t/acme/admin/api/audit", "/t/acme/admin/api/secret"} {
			page.AllowStatus(p, http.StatusUnauthorized)
		}
		Expect(page.Context().ClearCookies()).To(Succeed())
		Expect(expect.Locator(page.GetByRole("heading", playwright.PageGetByRoleOptions{Name: connect.SessionEndedTitle})).ToBeVisible()).To(Succeed())
		Expect(expect.Locator(id("signed-out-text")).ToContainText("Your admin session has ended; open a new admin link for this tenant.")).To(Succeed())
		Expect(expect.Locator(id("signed-out-text")).ToContainText("idpkit tenant admin-link acme")).To(Succeed())
		Expect(expect.Locator(id("generate-secret")).ToBeHidden()).To(Succeed())
		Expect(admin.Rotations()).To(Equal(0))
		calls, _ := admin.APICalls()
		time.Sleep(1500 * time.Millisecond)
		after, _ := admin.APICalls()
		Expect(after).To(Equal(calls), "no request after the session ended")
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
