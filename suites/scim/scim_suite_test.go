// Package scim_test runs the SCIM conformance catalogue (suites/check) as a
// Ginkgo suite: one It per check, labelled with the check's labels.
//
// Target: -scim-url and -token flags (or IDPKIT_SCIM_URL and
// IDPKIT_SCIM_TOKEN); without them, a tenant of idpkit's own app server,
// started in-process on a temporary SQLite database.
//
//	go test ./suites/scim -args -scim-url https://app.example.com/scim/v2 -token SECRET
//	ginkgo --label-filter=okta-spec ./suites/scim
package scim_test

import (
	"context"
	"flag"
	"net/http"
	"os"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/idpkit/idpkit/suites/check"
	"github.com/idpkit/idpkit/suites/harness"
)

var (
	scimURL   = flag.String("scim-url", os.Getenv("IDPKIT_SCIM_URL"), "SCIM base URL under test (env IDPKIT_SCIM_URL); empty starts idpkit's own server")
	scimToken = flag.String("token", os.Getenv("IDPKIT_SCIM_TOKEN"), "bearer token for -scim-url (env IDPKIT_SCIM_TOKEN)")
)

func TestSCIM(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "SCIM conformance")
}

var target *check.Target

var _ = BeforeSuite(func(ctx SpecContext) {
	if *scimURL != "" {
		Expect(*scimToken).NotTo(BeEmpty(), "-scim-url needs -token")
		target = &check.Target{BaseURL: *scimURL, Token: *scimToken, Client: &http.Client{Timeout: 30 * time.Second}}
		return
	}
	env, err := harness.Start(context.Background(), harness.Options{})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(env.Close)
	created, err := env.Tenants.Create(ctx, "conformance")
	Expect(err).NotTo(HaveOccurred())
	target = &check.Target{BaseURL: created.SCIMBaseURL, Token: created.Token, Client: env.Client}
})

var _ = Describe("the SCIM catalogue", func() {
	for _, c := range check.SCIM() {
		It(c.ID+": "+c.Title, Label(c.Labels...), func(ctx SpecContext) {
			By(c.Ref)
			Expect(c.Run(ctx, target)).To(Succeed())
		})
	}
})
