// Package scim_test runs the SCIM conformance catalogue (suites/check) as a
// Ginkgo suite: one It per check, labelled with the check's labels.
//
// Target: -scim-url and -token flags (or IDPKIT_SCIM_URL and
// IDPKIT_SCIM_TOKEN); without them, a tenant of idpkit's own app server,
// started in-process on a temporary SQLite database, with a second tenant
// for the checks labelled "tenant" (-peer-scim-url and -peer-token name
// one for an outside target; without them those checks are skipped).
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
	peerURL   = flag.String("peer-scim-url", os.Getenv("IDPKIT_PEER_SCIM_URL"), "SCIM base URL of a second tenant of the same service, for the tenant checks (env IDPKIT_PEER_SCIM_URL)")
	peerToken = flag.String("peer-token", os.Getenv("IDPKIT_PEER_SCIM_TOKEN"), "bearer token for -peer-scim-url (env IDPKIT_PEER_SCIM_TOKEN)")
)

func TestSCIM(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "SCIM conformance")
}

var target *check.Target

var _ = BeforeSuite(func(ctx SpecContext) {
	if *scimURL != "" {
		Expect(*scimToken).NotTo(BeEmpty(), "-scim-url needs -token")
		client := &http.Client{Timeout: 30 * time.Second}
		target = &check.Target{BaseURL: *scimURL, Token: *scimToken, Client: client}
		if *peerURL != "" {
			target.Peer = &check.Target{BaseURL: *peerURL, Token: *peerToken, Client: client}
		}
		return
	}
	env, err := harness.Start(context.Background(), harness.Options{})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(env.Close)
	created, err := env.Tenants.Create(ctx, "conformance")
	Expect(err).NotTo(HaveOccurred())
	peer, err := env.Tenants.Create(ctx, "conformance-peer")
	Expect(err).NotTo(HaveOccurred())
	target = &check.Target{BaseURL: created.SCIMBaseURL, Token: created.Token, Client: env.Client,
		Peer: &check.Target{BaseURL: peer.SCIMBaseURL, Token: peer.Token, Client: env.Client}}
})

var _ = Describe("the SCIM catalogue", func() {
	// idpkit's own server keeps idpkit's own tolerances too: the checks
	// labelled strict run here as any other.
	for _, c := range check.SelectStrict(check.SCIM(), nil, nil) {
		It(c.ID+": "+c.Title, Label(c.Labels...), func(ctx SpecContext) {
			By(c.Ref)
			r := check.RunOne(ctx, c, target) // RunOne also deletes what the check created
			if r.Skipped {
				Skip(r.Error)
			}
			Expect(r.Passed).To(BeTrue(), r.Error)
		})
	}
})
