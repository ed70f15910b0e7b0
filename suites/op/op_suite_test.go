// Package op_test runs the OpenID provider catalogue (check.OP) as a
// Ginkgo suite: one It per check and authorization server, labelled with
// the check's labels.
//
// Target: without flags, the mock Okta of package mockidp, started
// in-process with one OIDC app and one user, checked on its org
// authorization server and on its "default" custom server; every check
// must pass there. With -op-issuer (and the client and user flags, or the
// IDPKIT_OP_* variables), an outside provider whose sign-in page is a
// plain HTML form:
//
//	go test ./suites/op -args -op-issuer https://idp.example.com -op-client-id ID -op-client-secret SECRET \
//	    -op-redirect-uri https://app.example.com/cb -op-username alice -op-password PASSWORD
//	ginkgo --label-filter=op-pkce ./suites/op
package op_test

import (
	"flag"
	"net/http"
	"os"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/idpkit/idpkit/mockidp"
	"github.com/idpkit/idpkit/suites/check"
)

var (
	issuer       = flag.String("op-issuer", os.Getenv("IDPKIT_OP_ISSUER"), "issuer of the OpenID provider under test (env IDPKIT_OP_ISSUER); empty starts the mock Okta")
	clientID     = flag.String("op-client-id", os.Getenv("IDPKIT_OP_CLIENT_ID"), "client_id of a confidential client (env IDPKIT_OP_CLIENT_ID)")
	clientSecret = flag.String("op-client-secret", os.Getenv("IDPKIT_OP_CLIENT_SECRET"), "its client_secret (env IDPKIT_OP_CLIENT_SECRET)")
	redirectURI  = flag.String("op-redirect-uri", os.Getenv("IDPKIT_OP_REDIRECT_URI"), "one of its registered redirect URIs, never fetched (env IDPKIT_OP_REDIRECT_URI)")
	authMethod   = flag.String("op-auth-method", os.Getenv("IDPKIT_OP_AUTH_METHOD"), "client_secret_basic (default) or client_secret_post (env IDPKIT_OP_AUTH_METHOD)")
	username     = flag.String("op-username", os.Getenv("IDPKIT_OP_USERNAME"), "a user's login (env IDPKIT_OP_USERNAME)")
	password     = flag.String("op-password", os.Getenv("IDPKIT_OP_PASSWORD"), "the user's password (env IDPKIT_OP_PASSWORD)")
	postLogout   = flag.String("op-post-logout-uri", os.Getenv("IDPKIT_OP_POST_LOGOUT_URI"), "a registered post-logout redirect URI; empty skips op-logout-redirect (env IDPKIT_OP_POST_LOGOUT_URI)")
)

func TestOP(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "OpenID provider conformance")
}

// The mock's app and user.
const (
	appLabel     = "OP conformance"
	userLogin    = "alice@example.com"
	userPassword = "Correct-Horse-9"
	rpCallback   = "https://rp.example.com/oidc/callback"
	rpSignedOut  = "https://rp.example.com/signed-out"
)

// targets are the providers under test by name, filled in BeforeSuite.
var targets = map[string]*check.OPTarget{}

// serverNames are the authorization servers the specs are built for.
func serverNames() []string {
	if *issuer != "" {
		return []string{"target"}
	}
	return []string{"org", "default"}
}

var _ = BeforeSuite(func(ctx SpecContext) {
	startTargets()
	// One login first on each target: an unreachable provider, a wrong
	// password or a client authentication mismatch is said once.
	for name, t := range targets {
		Expect(check.PreflightOP(ctx, t)).To(Succeed(), "the %s target", name)
	}
})

// startTargets fills targets: the outside provider, or the mock's two
// authorization servers.
func startTargets() {
	if *issuer != "" {
		targets["target"] = &check.OPTarget{
			Issuer: *issuer, ClientID: *clientID, ClientSecret: *clientSecret, RedirectURI: *redirectURI,
			AuthMethod: *authMethod, Username: *username, Password: *password, PostLogoutRedirectURI: *postLogout,
			Client: &http.Client{Timeout: 30 * time.Second},
		}
		Expect(targets["target"].Validate()).To(Succeed())
		return
	}
	srv := mockidp.NewServer()
	DeferCleanup(srv.Close)
	_, err := srv.AddUser(mockidp.SeedUser{Login: userLogin, FirstName: "Alice", LastName: "Example", Password: userPassword})
	Expect(err).NotTo(HaveOccurred())
	app, err := srv.AddApp(mockidp.SeedApp{
		Label: appLabel, Type: mockidp.SeedAppOIDC,
		RedirectURIs: []string{rpCallback}, PostLogoutRedirectURIs: []string{rpSignedOut},
		GrantTypes: []string{"authorization_code", "refresh_token"},
	})
	Expect(err).NotTo(HaveOccurred())
	Expect(srv.Assign(mockidp.SeedAssignment{App: app.ID, Users: []string{userLogin}})).To(Succeed())
	client := app.OAuthClient
	for name, server := range map[string]string{"org": "", "default": "default"} {
		targets[name] = &check.OPTarget{
			Issuer: srv.Issuer(server), ClientID: client.ClientID, ClientSecret: client.ClientSecret,
			RedirectURI: rpCallback, PostLogoutRedirectURI: rpSignedOut,
			Username: userLogin, Password: userPassword, Client: srv.Client(),
		}
	}
}

var _ = Describe("the OpenID provider catalogue", func() {
	for _, name := range serverNames() {
		Context(name+" authorization server", Label(name), func() {
			for _, c := range check.OP() {
				It(c.ID+": "+c.Title, Label(c.Labels...), func(ctx SpecContext) {
					By(c.Ref)
					r := check.RunOP(ctx, c, targets[name])
					if r.Skipped && *issuer != "" {
						Skip(r.Error)
					}
					// The mock has everything every check needs: none may skip there.
					Expect(r.Skipped).To(BeFalse(), r.Error)
					Expect(r.Passed).To(BeTrue(), r.Error)
				})
			}
		})
	}
})
