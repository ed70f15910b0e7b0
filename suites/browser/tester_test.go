package browser_test

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mxschmitt/playwright-go"

	"github.com/idpkit/idpkit/suites/browser"
	"github.com/idpkit/idpkit/suites/check"
	"github.com/idpkit/idpkit/wasm"
)

// artifacts is the git-ignored folder for screenshots and measurements.
const artifacts = "artifacts"

// testerPage opens a page for the tester that fails the spec on any
// console error except the HTTP error answers of the SCIM service under
// test, which the checks provoke on purpose (Chromium logs every 4xx and
// 5xx answer to fetch as "Failed to load resource"), and the 404 of the
// page's optional config.json.
func testerPage(scimBase string) *browser.Page {
	GinkgoHelper()
	p, err := chromium.NewPage(browser.PageOptions{})
	Expect(err).NotTo(HaveOccurred())
	p.AllowStatus("/conform/config.json", http.StatusNotFound)
	DeferCleanup(func() {
		var errs []string
		for _, e := range p.ConsoleErrors() {
			if strings.HasPrefix(e, "console error: Failed to load resource: the server responded with a status of ") &&
				strings.Contains(e, " ("+scimBase+"/") {
				continue
			}
			errs = append(errs, e)
		}
		Expect(errs).To(BeEmpty(), "console errors on the page")
		Expect(p.CloseContext()).To(Succeed())
	})
	return p
}

// statuses maps each result's check ID to its Status.
func statuses(results []check.Result) map[string]string {
	m := map[string]string{}
	for _, r := range results {
		m[r.ID] = r.Status()
	}
	return m
}

// failedIDs are the IDs whose status is "failed", sorted.
func failedIDs(m map[string]string) []string {
	var ids []string
	for id, s := range m {
		if s == "failed" {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// runFromGo runs the page's selection from Go, as `idpkit conform
// --scim-url` does: Preflight, then RunAll.
func runFromGo(base, token string) []check.Result {
	GinkgoHelper()
	target := &check.Target{BaseURL: base, Token: token}
	Expect(check.Preflight(context.Background(), target)).To(Succeed())
	return check.RunAll(context.Background(), check.Select(check.SCIM(), nil, nil), target, nil)
}

// runOnPage opens /conform/, types the SCIM base URL and token, clicks
// Run, waits until the run is done and returns each check's status as
// the page shows it, and the time from navigation to the Run button
// enabled.
func runOnPage(page *browser.Page, origin, base, token, shot string) (map[string]string, time.Duration) {
	GinkgoHelper()
	expect := playwright.NewPlaywrightAssertions(30000)
	label := func(text string) playwright.Locator {
		return page.GetByLabel(text, playwright.PageGetByLabelOptions{Exact: playwright.Bool(true)})
	}
	run := page.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Run", Exact: playwright.Bool(true)})
	start := time.Now()
	_, err := page.Goto(origin + "/conform")
	Expect(err).NotTo(HaveOccurred())
	Expect(expect.Locator(run).ToBeEnabled()).To(Succeed(), "the tester did not start")
	interactive := time.Since(start)
	Expect(page.URL()).To(Equal(origin + "/conform/"))

	Expect(label("SCIM base URL").Fill(base)).To(Succeed())
	Expect(label("Bearer token").Fill(token)).To(Succeed())
	Expect(run.Click()).To(Succeed())
	Expect(expect.Locator(page.Locator("#app")).ToHaveAttribute("data-state", "done", playwright.LocatorAssertionsToHaveAttributeOptions{Timeout: playwright.Float(300000)})).
		To(Succeed(), "the run did not finish")
	Expect(expect.Locator(page.Locator("#status")).ToContainText("Done: ")).To(Succeed())
	Expect(expect.Locator(page.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Download JSON"})).ToBeEnabled()).To(Succeed())
	Expect(expect.Locator(page.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Download JUnit XML"})).ToBeEnabled()).To(Succeed())

	v, err := page.Evaluate(`() => Object.fromEntries([...document.querySelectorAll("#results li.result")].map(li => [li.dataset.id, li.dataset.status]))`)
	Expect(err).NotTo(HaveOccurred())
	got := map[string]string{}
	for id, s := range v.(map[string]any) {
		got[id], _ = s.(string)
	}
	Expect(os.MkdirAll(artifacts, 0o755)).To(Succeed())
	_, err = page.Screenshot(playwright.PageScreenshotOptions{Path: playwright.String(filepath.Join(artifacts, shot+".png"))})
	Expect(err).NotTo(HaveOccurred())
	return got, interactive
}

// download clicks the button named name and returns the file it
// downloads, which must be called file.
func download(page *browser.Page, name, file string) []byte {
	GinkgoHelper()
	d, err := page.ExpectDownload(func() error {
		return page.GetByRole("button", playwright.PageGetByRoleOptions{Name: name}).Click()
	})
	Expect(err).NotTo(HaveOccurred())
	Expect(d.SuggestedFilename()).To(Equal(file))
	path, err := d.Path()
	Expect(err).NotTo(HaveOccurred())
	b, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	return b
}

// gzipSize is the size of b compressed with gzip at its best.
func gzipSize(b []byte) int {
	GinkgoHelper()
	var n countWriter
	zw, err := gzip.NewWriterLevel(&n, gzip.BestCompression)
	Expect(err).NotTo(HaveOccurred())
	_, err = zw.Write(b)
	Expect(err).NotTo(HaveOccurred())
	Expect(zw.Close()).To(Succeed())
	return int(n)
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)

var _ = Describe("the SCIM tester page", Label("browser", "tester", "app"), func() {
	It("runs the SCIM catalogue in the browser with the results of check.RunAll from Go", func() {
		srv, tenants := appServer()
		created, err := tenants.Create(context.Background(), "acme")
		Expect(err).NotTo(HaveOccurred())

		page := testerPage(created.SCIMBaseURL)
		got, interactive := runOnPage(page, srv.URL, created.SCIMBaseURL, created.Token, "tester-acme")
		want := statuses(runFromGo(created.SCIMBaseURL, created.Token))
		Expect(got).To(Equal(want), "the page's results differ from check.RunAll's")
		Expect(failedIDs(got)).To(BeEmpty(), "checks that failed against idpkit's own SCIM service")

		By("downloading the results as JSON and JUnit XML")
		var rep check.Report
		Expect(json.Unmarshal(download(page, "Download JSON", "idpkit-conform.json"), &rep)).To(Succeed())
		Expect(rep.Target).To(Equal(created.SCIMBaseURL))
		Expect(statuses(rep.Results)).To(Equal(want))
		Expect(rep.Summary.Total).To(Equal(len(want)))
		junit := string(download(page, "Download JUnit XML", "idpkit-conform.xml"))
		Expect(junit).To(HavePrefix("<?xml"))
		Expect(junit).To(ContainSubstring(`<testsuites name="idpkit-conform" tests="` + strconv.Itoa(len(want)) + `" failures="0"`))

		By("filtering by label")
		Expect(page.Locator("#label-filter").SelectOption(playwright.SelectOptionValues{Values: playwright.StringSlice("patch")})).NotTo(BeEmpty())
		Expect(page.Locator(`section.group[data-label="patch"]`).IsVisible()).To(BeTrue())
		Expect(page.Locator(`section.group:not([data-label="patch"])`).First().IsHidden()).To(BeTrue())
		Expect(page.Screenshot(playwright.PageScreenshotOptions{Path: playwright.String(filepath.Join(artifacts, "tester-acme-patch.png")), FullPage: playwright.Bool(true)})).NotTo(BeEmpty())

		b, err := fs.ReadFile(wasm.Tester, "tester.wasm")
		Expect(err).NotTo(HaveOccurred())
		report := fmt.Sprintf("tester.wasm %d bytes raw, %d bytes gzip -9; time to interactive (navigation to Run enabled) %s\n",
			len(b), gzipSize(b), interactive.Round(time.Millisecond))
		AddReportEntry("tester page", report)
		fmt.Fprint(GinkgoWriter, report)
		Expect(os.WriteFile(filepath.Join(artifacts, "tester-metrics.txt"), []byte(report), 0o644)).To(Succeed())
	})

	It("names the failures of a SCIM service that answers 500 to PATCH", func() {
		srv, tenants := appServer()
		inner := srv.Config.Handler
		srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPatch && strings.HasPrefix(r.URL.Path, "/t/broken/scim/v2/") {
				w.Header().Set("Content-Type", "application/scim+json")
				w.WriteHeader(http.StatusInternalServerError)
				io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"500","detail":"PATCH is broken on purpose"}`)
				return
			}
			inner.ServeHTTP(w, r)
		})
		created, err := tenants.Create(context.Background(), "broken")
		Expect(err).NotTo(HaveOccurred())

		page := testerPage(created.SCIMBaseURL)
		got, _ := runOnPage(page, srv.URL, created.SCIMBaseURL, created.Token, "tester-broken")
		want := statuses(runFromGo(created.SCIMBaseURL, created.Token))
		Expect(got).To(Equal(want), "the page's results differ from check.RunAll's")
		failed := failedIDs(got)
		Expect(failed).To(ContainElement("patch-add-path"))
		for _, id := range failed {
			item := page.Locator(`#results li.result.failed[data-id="` + id + `"]`).First()
			Expect(item.Locator("summary").TextContent()).To(ContainSubstring(id), "the failure is not named on the page")
		}
		item := page.Locator(`#results li.result.failed[data-id="patch-add-path"]`).First()
		Expect(item.Locator("summary").Click()).To(Succeed())
		Expect(item.Locator(".ref").TextContent()).To(ContainSubstring("RFC 7644 §3.5.2.1"))
		Expect(item.Locator("pre.error").TextContent()).To(ContainSubstring("500"))
		Expect(page.Screenshot(playwright.PageScreenshotOptions{Path: playwright.String(filepath.Join(artifacts, "tester-broken-failure.png"))})).NotTo(BeEmpty())
	})
})
