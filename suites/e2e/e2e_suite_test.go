// Package e2e_test plays the "Connect Okta" guide (suites/guide) as a
// Ginkgo suite against idpkit's app server and mock Okta started
// in-process: one It per step of the guide, plus the refused sign-ins.
package e2e_test

import (
	"context"
	"strconv"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/idpkit/idpkit/suites/guide"
	"github.com/idpkit/idpkit/suites/harness"
)

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Connect Okta guide, end to end")
}

var _ = Describe("the Connect Okta guide", Ordered, func() {
	var steps []guide.Step
	titles := guide.Titles()

	BeforeAll(func(ctx SpecContext) {
		env, err := harness.Start(context.Background(), harness.Options{})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(env.Close)
		steps = guide.Run(ctx, env.Guide(), nil)
		Expect(steps).To(HaveLen(len(titles)))
	})

	for i, title := range titles {
		It("step "+strconv.Itoa(i+1)+": "+title, Label("guide"), func() {
			s := steps[i]
			Expect(s.OK).To(BeTrue(), "step %d: %s", s.N, s.Detail)
			if i == len(titles)-1 {
				for _, r := range s.Checks {
					Expect(r.Passed).To(BeTrue(), "%s: %s", r.ID, r.Error)
				}
			}
		})
	}
})
