// Package browser drives Debian's Chromium through playwright-go for the
// end-to-end tests of the Connect Okta dialog and of sign-in (OpenID Connect
// Core 1.0 §3.1, Authorization Code Flow) as a person would use them.
//
// The harness installs only playwright's driver: playwright-core from the
// npm registry, run by the machine's Node.js (PLAYWRIGHT_NODEJS_PATH); it
// never downloads a browser. A missing Chromium or Node.js is a failure
// that says what to install, never a skip.
package browser

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/mxschmitt/playwright-go"
)

// DefaultChromium is where Debian's chromium package puts the browser;
// $IDPKIT_CHROMIUM overrides it.
const DefaultChromium = "/usr/bin/chromium"

// Options configure Start.
type Options struct {
	// Chromium is the browser executable; "" means $IDPKIT_CHROMIUM or
	// DefaultChromium.
	Chromium string
	// Log receives the driver installer's output; nil discards it.
	Log io.Writer
}

// Harness is a running playwright driver and one headless Chromium.
type Harness struct {
	pw      *playwright.Playwright
	browser playwright.Browser
}

// Start installs the playwright driver if needed and launches Chromium.
func Start(opts Options) (*Harness, error) {
	chromium := opts.Chromium
	if chromium == "" {
		chromium = os.Getenv("IDPKIT_CHROMIUM")
	}
	if chromium == "" {
		chromium = DefaultChromium
	}
	if fi, err := os.Stat(chromium); err != nil || fi.IsDir() {
		return nil, fmt.Errorf("browser: no Chromium at %s; install Chromium: apt-get install -y chromium (or set IDPKIT_CHROMIUM)", chromium)
	}
	if os.Getenv("PLAYWRIGHT_NODEJS_PATH") == "" {
		node, err := exec.LookPath("node")
		if err != nil {
			return nil, errors.New("browser: node is not on PATH; install Node.js: apt-get install -y nodejs")
		}
		// playwright-go reads this variable when it runs the driver, so it
		// has to be in the process environment, not only the installer's.
		if err := os.Setenv("PLAYWRIGHT_NODEJS_PATH", node); err != nil {
			return nil, fmt.Errorf("browser: %w", err)
		}
	}
	w := opts.Log
	if w == nil {
		w = io.Discard
	}
	run := &playwright.RunOptions{SkipInstallBrowsers: true, Stdout: w, Stderr: w}
	if err := playwright.Install(run); err != nil {
		return nil, fmt.Errorf("browser: install the playwright driver (it needs the npm registry): %w", err)
	}
	pw, err := playwright.Run(run)
	if err != nil {
		return nil, fmt.Errorf("browser: start playwright: %w", err)
	}
	b, err := pw.Chromium.Launch(playwright.BrowserTypeLaunchOptions{
		ExecutablePath: playwright.String(chromium),
		Headless:       playwright.Bool(true),
		// Keep the browser quiet and offline apart from the pages under test.
		Args: []string{
			"--no-sandbox",
			"--disable-gpu",
			"--disable-background-networking",
			"--disable-component-update",
			"--disable-sync",
			"--no-first-run",
		},
	})
	if err != nil {
		pw.Stop()
		return nil, fmt.Errorf("browser: launch %s: %w", chromium, err)
	}
	return &Harness{pw: pw, browser: b}, nil
}

// Close closes the browser and stops the driver.
func (h *Harness) Close() error {
	return errors.Join(h.browser.Close(), h.pw.Stop())
}

// Page is a page in its own browser context (its own cookies) that records
// every console error and uncaught exception.
type Page struct {
	playwright.Page
	ctx playwright.BrowserContext

	mu      sync.Mutex
	errors  []string
	allowed []allowedStatus
}

// allowedStatus is an HTTP error answer a spec expects.
type allowedStatus struct {
	path   string
	status int
}

// PageOptions configure NewPage.
type PageOptions struct {
	// ClipboardOrigins are granted clipboard access, so that copy buttons
	// can be checked.
	ClipboardOrigins []string
	// NoJavaScript opens the page with JavaScript disabled.
	NoJavaScript bool
}

// NewPage opens a page in a fresh context (its own cookies).
func (h *Harness) NewPage(opts PageOptions) (*Page, error) {
	ctx, err := h.browser.NewContext(playwright.BrowserNewContextOptions{JavaScriptEnabled: playwright.Bool(!opts.NoJavaScript)})
	if err != nil {
		return nil, fmt.Errorf("browser: new context: %w", err)
	}
	for _, o := range opts.ClipboardOrigins {
		if err := ctx.GrantPermissions([]string{"clipboard-read", "clipboard-write"}, playwright.BrowserContextGrantPermissionsOptions{Origin: playwright.String(o)}); err != nil {
			ctx.Close()
			return nil, fmt.Errorf("browser: grant clipboard to %s: %w", o, err)
		}
	}
	pg, err := ctx.NewPage()
	if err != nil {
		ctx.Close()
		return nil, fmt.Errorf("browser: new page: %w", err)
	}
	p := &Page{Page: pg, ctx: ctx}
	// The context's events cover every page of the context, so a popup
	// the page opens (a test sign-in) fails the spec the same way.
	ctx.OnConsole(func(m playwright.ConsoleMessage) {
		if m.Type() != "error" {
			return
		}
		loc := ""
		if l := m.Location(); l != nil {
			loc = l.URL
		}
		if p.isAllowed(m.Text(), loc) {
			return
		}
		if loc != "" {
			p.record("console error: " + m.Text() + " (" + loc + ")")
			return
		}
		p.record("console error: " + m.Text())
	})
	ctx.OnWebError(func(e playwright.WebError) { p.record("uncaught exception: " + e.Error().Error()) })
	return p, nil
}

// AllowStatus declares that a request to a URL whose path is path may be
// answered with status, as when a spec checks how the page reports an API
// error. Chromium logs every such answer as a console error ("Failed to
// load resource"); only declared ones are not counted.
func (p *Page) AllowStatus(path string, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.allowed = append(p.allowed, allowedStatus{path, status})
}

func (p *Page) isAllowed(text, loc string) bool {
	u, err := url.Parse(loc)
	if err != nil || !strings.HasPrefix(text, "Failed to load resource: the server responded with a status of ") {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, a := range p.allowed {
		if u.Path == a.path && strings.Contains(text, " status of "+strconv.Itoa(a.status)+" ") {
			return true
		}
	}
	return false
}

func (p *Page) record(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.errors = append(p.errors, s)
}

// ConsoleErrors returns the console errors and uncaught exceptions so far.
func (p *Page) ConsoleErrors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.errors...)
}

// Clipboard returns the clipboard's text as the page sees it.
func (p *Page) Clipboard() (string, error) {
	v, err := p.Evaluate("() => navigator.clipboard.readText()")
	if err != nil {
		return "", fmt.Errorf("browser: read clipboard: %w", err)
	}
	s, _ := v.(string)
	return s, nil
}

// ArtifactsDir is where Shot saves screenshots, relative to the working
// directory (the package's folder under go test); it is git-ignored.
const ArtifactsDir = "artifacts"

// Shot saves a full-page screenshot of pg as ArtifactsDir/name.png and
// returns its path. pg is usually p.Page, or a popup p opened.
func Shot(pg playwright.Page, name string) (string, error) {
	if err := os.MkdirAll(ArtifactsDir, 0o755); err != nil {
		return "", fmt.Errorf("browser: %w", err)
	}
	path := filepath.Join(ArtifactsDir, name+".png")
	if _, err := pg.Screenshot(playwright.PageScreenshotOptions{Path: playwright.String(path), FullPage: playwright.Bool(true)}); err != nil {
		return "", fmt.Errorf("browser: screenshot %s: %w", name, err)
	}
	return path, nil
}

// Shot saves a full-page screenshot of the page as ArtifactsDir/name.png
// and returns its path.
func (p *Page) Shot(name string) (string, error) { return Shot(p.Page, name) }

// CloseContext closes the page and its browser context. (Page.Close of
// the embedded playwright.Page closes only the page.)
func (p *Page) CloseContext() error { return p.ctx.Close() }

// String lists the console errors, for failure messages.
func (p *Page) String() string { return strings.Join(p.ConsoleErrors(), "\n") }
