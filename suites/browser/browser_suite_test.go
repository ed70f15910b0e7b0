package browser_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/idpkit/idpkit/suites/browser"
)

func TestBrowser(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Browser suite")
}

// chromium is the one browser shared by the specs, which run serially.
var chromium *browser.Harness

var _ = BeforeSuite(func() {
	var err error
	chromium, err = browser.Start(browser.Options{Log: GinkgoWriter})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Expect(chromium.Close()).To(Succeed()) })
})

// newPage opens a page, with clipboard access for the given origins, that
// fails the spec if it logged any console error.
func newPage(clipboardOrigins ...string) *browser.Page {
	GinkgoHelper()
	return newPageWith(browser.PageOptions{ClipboardOrigins: clipboardOrigins})
}

// newPageWith is newPage with all options.
func newPageWith(opts browser.PageOptions) *browser.Page {
	GinkgoHelper()
	p, err := chromium.NewPage(opts)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() {
		Expect(p.ConsoleErrors()).To(BeEmpty(), "console errors on the page")
		Expect(p.CloseContext()).To(Succeed())
	})
	return p
}
