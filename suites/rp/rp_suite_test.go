// Package rp_test runs the relying-party catalogue (check.RP in
// suites/check) as a Ginkgo suite: one It per check, labelled with the
// check's labels and the RP's response mode.
//
// Target: without flags, idpkit's own relying party (scim/login), twice:
// an app server with OIDC response mode query and one with form_post,
// each on a temporary SQLite database with a tenant whose one user was
// provisioned by a mock Okta's SCIM app, and whose sign-in is configured
// with the mock's OIDC app; the session URL is /t/{tenant}/me. With
// -login-url (and -mock-url, -mock-token, -login), the catalogue runs
// against that relying party instead.
//
//	go test ./suites/rp
//	ginkgo --label-filter=rp-keys ./suites/rp
//	go test ./suites/rp -args -login-url http://127.0.0.1:3000/login -session-url http://127.0.0.1:3000/me \
//	    -mock-url http://127.0.0.1:9099 -mock-token "$TOKEN" -login alice@example.com
package rp_test

import (
	"context"
	"flag"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/idpkit/idpkit/mockidp"
	"github.com/idpkit/idpkit/scim/app"
	"github.com/idpkit/idpkit/scim/login"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
	"github.com/idpkit/idpkit/scim/tenant"
	"github.com/idpkit/idpkit/suites/check"
)

var (
	loginURL   = flag.String("login-url", os.Getenv("IDPKIT_RP_LOGIN_URL"), "an outside RP's sign-in URL (env IDPKIT_RP_LOGIN_URL); empty tests idpkit's own RP")
	sessionURL = flag.String("session-url", os.Getenv("IDPKIT_RP_SESSION_URL"), "its URL that answers 2xx only with a session (env IDPKIT_RP_SESSION_URL)")
	mockURL    = flag.String("mock-url", os.Getenv("IDPKIT_MOCK_URL"), "the mock Okta it trusts (env IDPKIT_MOCK_URL)")
	mockToken  = flag.String("mock-token", os.Getenv("IDPKIT_MOCK_TOKEN"), "the mock's API token (env IDPKIT_MOCK_TOKEN)")
	rpLogin    = flag.String("login", os.Getenv("IDPKIT_RP_LOGIN"), "the mock user the RP accepts (env IDPKIT_RP_LOGIN)")
	clientID   = flag.String("client-id", os.Getenv("IDPKIT_RP_CLIENT_ID"), "the RP's client id at the mock (env IDPKIT_RP_CLIENT_ID)")
)

func TestRP(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "RP conformance")
}

// ownRP is idpkit's app server, with sign-in through a mock Okta, as the
// target of the RP checks.
type ownRP struct {
	mock   *mockidp.Server
	server *http.Server
	store  *sqlstore.Store
	target *check.RPTarget
}

// startOwnRP starts idpkit's app server in response mode mode, a mock
// Okta, and connects them as the Connect Okta guide does: a tenant, a SCIM
// app that provisions one user, an OIDC app with the tenant's redirect
// URI, and sign-in configured with it.
func startOwnRP(ctx context.Context, dir, mode string) (*ownRP, error) {
	e := &ownRP{}
	st, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(dir, "idpkit.db"), sqlstore.Options{})
	if err != nil {
		return nil, err
	}
	e.store = st
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return e, err
	}
	// The RP answers as localhost and the mock as 127.0.0.1: two sites
	// for a browser, so the checks' browser applies SameSite to the
	// mock's redirect (and, in form_post mode, its cross-site POST) back
	// to the RP as a browser does.
	public := "http://localhost:" + strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:")
	client := &http.Client{Timeout: 30 * time.Second}
	// The RP's clock, which the rp-keys checks move on together with the
	// mock's (check.RPTarget.Advance).
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	cfg := app.Config{Store: st, PublicURL: public, HTTPClient: client, OIDCResponseMode: mode, Now: now}
	e.server = &http.Server{Handler: app.New(cfg), ReadHeaderTimeout: 10 * time.Second}
	go e.server.Serve(ln)
	if e.mock, err = mockidp.New(mockidp.Config{HTTPClient: client}); err != nil {
		return e, err
	}
	tenants := app.Tenants(cfg)
	created, err := tenants.Create(ctx, "acme")
	if err != nil {
		return e, err
	}
	const user = "robin.rp@example.com"
	if _, err := e.mock.AddUser(mockidp.SeedUser{Login: user, FirstName: "Robin", LastName: "Relying", Password: "Tulip-Garden-42!"}); err != nil {
		return e, err
	}
	if _, err := e.mock.AddApp(mockidp.SeedApp{Label: "acme SCIM", Type: mockidp.SeedAppSCIM, BaseURL: created.SCIMBaseURL, Token: created.Token,
		Create: true, Update: true, Deactivate: true}); err != nil {
		return e, err
	}
	oidcApp, err := e.mock.AddApp(mockidp.SeedApp{Label: "acme sign-in", Type: mockidp.SeedAppOIDC, RedirectURIs: []string{created.RedirectURI}})
	if err != nil {
		return e, err
	}
	for _, label := range []string{"acme SCIM", "acme sign-in"} {
		if err := e.mock.Assign(mockidp.SeedAssignment{App: label, Users: []string{user}}); err != nil {
			return e, err
		}
	}
	if _, err := tenants.Configure(ctx, created.Tenant, tenant.SignIn{OktaDomain: e.mock.URL,
		ClientID: oidcApp.OAuthClient.ClientID, ClientSecret: oidcApp.OAuthClient.ClientSecret}); err != nil {
		return e, err
	}
	base := public + "/t/" + created.Tenant
	e.target = &check.RPTarget{LoginURL: base + "/login", SessionURL: base + "/me", MockURL: e.mock.URL, MockToken: e.mock.APIToken,
		Login: user, ClientID: oidcApp.OAuthClient.ClientID, Client: client,
		Advance: func(d time.Duration) { offset.Add(int64(d)) }}
	return e, nil
}

func (e *ownRP) close() {
	if e.mock != nil {
		e.mock.Close()
	}
	if e.server != nil {
		e.server.Close()
	}
	if e.store != nil {
		e.store.Close()
	}
}

// catalogue declares one It per RP check against the target that
// target() returns once the container's BeforeAll has run.
func catalogue(mode string, target func() *check.RPTarget) {
	It("the mock offers no fault the catalogue lacks", Label("rp"), func(ctx SpecContext) {
		all, err := check.RPChecks(ctx, target())
		Expect(err).NotTo(HaveOccurred())
		var extra []string
		for _, c := range all {
			if !slices.ContainsFunc(check.RP(), func(k check.RPCheck) bool { return k.ID == c.ID }) {
				extra = append(extra, c.ID)
			}
		}
		Expect(extra).To(BeEmpty(), "faults without a row in the catalogue's table (suites/check/rpfaults.go)")
	})
	for _, c := range check.RP() {
		It(c.ID+": "+c.Title, Label(append([]string{mode}, c.Labels...)...), func(ctx SpecContext) {
			By(c.Ref)
			r := check.RunRP(ctx, c, target())
			if r.Skipped {
				Skip(r.Error)
			}
			Expect(r.Passed).To(BeTrue(), r.Error)
		})
	}
}

var _ = Describe("the RP catalogue", func() {
	if *loginURL != "" {
		Context("against "+*loginURL, Ordered, ContinueOnFailure, func() {
			var t *check.RPTarget
			BeforeAll(func(ctx SpecContext) {
				Expect(*mockURL).NotTo(BeEmpty(), "-login-url needs -mock-url")
				Expect(*rpLogin).NotTo(BeEmpty(), "-login-url needs -login")
				t = &check.RPTarget{LoginURL: *loginURL, SessionURL: *sessionURL, MockURL: *mockURL, MockToken: *mockToken,
					Login: *rpLogin, ClientID: *clientID, Client: &http.Client{Timeout: 20 * time.Second}}
				Expect(check.PreflightRP(ctx, t)).To(Succeed())
			})
			catalogue("outside", func() *check.RPTarget { return t })
		})
		return
	}
	for _, mode := range []string{login.ResponseModeQuery, login.ResponseModeFormPost} {
		Context("idpkit's own RP, response_mode="+mode, Ordered, ContinueOnFailure, func() {
			var own *ownRP
			BeforeAll(func(ctx SpecContext) {
				var err error
				own, err = startOwnRP(ctx, GinkgoT().TempDir(), mode)
				DeferCleanup(func() {
					if own != nil {
						own.close()
					}
				})
				Expect(err).NotTo(HaveOccurred())
				Expect(check.PreflightRP(ctx, own.target)).To(Succeed())
			})
			catalogue("rp-mode-"+mode, func() *check.RPTarget { return own.target })
		})
	}
})
