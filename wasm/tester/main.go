//go:build js && wasm

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall/js"
	"time"

	"github.com/idpkit/idpkit/suites/check"
)

// Element ids of conform.html.
const (
	idForm     = "form"
	idURL      = "scim-url"
	idToken    = "token"
	idRun      = "run"
	idProgress = "progress"
	idStatus   = "status"
	idFilter   = "label-filter"
	idResults  = "results"
	idJSON     = "download-json"
	idJUnit    = "download-junit"
)

// config is config.json beside the page.
type config struct {
	SCIMURL string `json:"scimUrl"`
	Token   string `json:"token"`
}

// page is the tester's state: the document and the last run.
type page struct {
	doc     js.Value
	base    *url.URL // the page's own URL
	running bool
	target  string
	started time.Time
	results []check.Result
}

func main() {
	doc := js.Global().Get("document")
	app := doc.Call("getElementById", "app")
	if app.IsNull() {
		return
	}
	base, err := url.Parse(js.Global().Get("location").Get("href").String())
	if err != nil {
		return
	}
	p := &page{doc: doc, base: base}
	p.loadConfig()

	on(p.el(idForm), "submit", func(e js.Value) {
		e.Call("preventDefault")
		if !p.running {
			p.running = true
			go p.run()
		}
	})
	on(p.el(idFilter), "change", func(js.Value) { p.filter() })
	on(p.el(idJSON), "click", func(js.Value) { p.download("json") })
	on(p.el(idJUnit), "click", func(js.Value) { p.download("junit") })

	p.el(idRun).Set("disabled", false)
	app.Call("removeAttribute", "aria-busy")
	app.Call("setAttribute", "data-state", "ready")
	select {} // keep the callbacks alive
}

func (p *page) el(id string) js.Value { return p.doc.Call("getElementById", id) }

// loadConfig fills the inputs from config.json when it exists and they
// are empty.
func (p *page) loadConfig() {
	u := p.base.ResolveReference(&url.URL{Path: "config.json"})
	resp, err := http.Get(u.String())
	if err != nil {
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return
	}
	var c config
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&c); err != nil {
		return
	}
	if in := p.el(idURL); c.SCIMURL != "" && in.Get("value").String() == "" {
		in.Set("value", c.SCIMURL)
	}
	if in := p.el(idToken); c.Token != "" && in.Get("value").String() == "" {
		in.Set("value", c.Token)
	}
}

// setStatus shows a one-line status; class is "", "error" or "ok".
func (p *page) setStatus(text, class string) {
	s := p.el(idStatus)
	s.Set("textContent", text)
	s.Set("className", strings.TrimSpace("status "+class))
}

// run checks the server once (check.Preflight) and then runs the
// default selection, updating the progress bar after each check.
func (p *page) run() {
	defer func() { p.running = false; p.el(idRun).Set("disabled", false) }()
	app := p.el("app")
	app.Call("setAttribute", "data-state", "running")
	p.el(idRun).Set("disabled", true)
	p.el(idJSON).Set("disabled", true)
	p.el(idJUnit).Set("disabled", true)
	p.el(idResults).Set("innerHTML", "")
	p.el(idFilter).Set("innerHTML", `<option value="">All labels</option>`)
	bar := p.el(idProgress)
	bar.Set("value", 0)

	raw := strings.TrimSpace(p.el(idURL).Get("value").String())
	token := strings.TrimSpace(p.el(idToken).Get("value").String())
	if raw == "" || token == "" {
		p.setStatus("✗ Enter the SCIM base URL and the bearer token.", "error")
		app.Call("setAttribute", "data-state", "ready")
		return
	}
	u, err := p.base.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		p.setStatus("✗ The SCIM base URL must be an http or https URL, such as https://app.example.com/scim/v2.", "error")
		app.Call("setAttribute", "data-state", "ready")
		return
	}
	target := &check.Target{BaseURL: strings.TrimRight(u.String(), "/"), Token: token}
	ctx := context.Background()
	p.setStatus("Checking the server and the token…", "")
	if err := check.Preflight(ctx, target); err != nil {
		p.setStatus("✗ "+strings.TrimPrefix(err.Error(), "check: "), "error")
		app.Call("setAttribute", "data-state", "error")
		return
	}
	checks := check.Select(check.SCIM(), nil, nil)
	bar.Set("max", len(checks))
	p.started = time.Now()
	p.target = target.BaseURL
	p.results = check.RunAll(ctx, checks, target, func(done, total int, r check.Result) {
		bar.Set("value", done)
		p.setStatus(fmt.Sprintf("Running check %d of %d: %s", done, total, r.ID), "")
	})
	p.render()
	s := check.Summarize(p.results)
	skipped := s.Total - s.Passed - s.Failed
	class := "ok"
	if s.Failed > 0 {
		class = "error"
	}
	p.setStatus(fmt.Sprintf("Done: %d passed, %d failed, %d skipped of %d checks against %s.", s.Passed, s.Failed, skipped, s.Total, p.target), class)
	p.el(idJSON).Set("disabled", false)
	p.el(idJUnit).Set("disabled", false)
	app.Call("setAttribute", "data-state", "done")
}

// render shows the results grouped by label, each label's group once,
// in the order the labels first appear.
func (p *page) render() {
	var labels []string
	groups := map[string][]check.Result{}
	for _, r := range p.results {
		ls := r.Labels
		if len(ls) == 0 {
			ls = []string{"unlabelled"}
		}
		for _, l := range ls {
			if _, ok := groups[l]; !ok {
				labels = append(labels, l)
			}
			groups[l] = append(groups[l], r)
		}
	}
	var out, opts strings.Builder
	opts.WriteString(`<option value="">All labels</option>`)
	for _, l := range labels {
		rs := groups[l]
		s := check.Summarize(rs)
		fmt.Fprintf(&opts, `<option value="%s">%s (%d)</option>`, html.EscapeString(l), html.EscapeString(l), len(rs))
		fmt.Fprintf(&out, `<section class="group" data-label="%s"><h2>%s <span class="counts">%d passed, %d failed of %d</span></h2><ul>`,
			html.EscapeString(l), html.EscapeString(l), s.Passed, s.Failed, s.Total)
		for _, r := range rs {
			out.WriteString(resultItem(r))
		}
		out.WriteString(`</ul></section>`)
	}
	p.el(idFilter).Set("innerHTML", opts.String())
	p.el(idResults).Set("innerHTML", out.String())
}

// resultItem is one result as a list item; a failure or skip opens to
// its error (the request and response) and its reference.
func resultItem(r check.Result) string {
	status := r.Status()
	mark := map[string]string{"passed": "✓", "failed": "✗", "skipped": "–"}[status]
	id, title := html.EscapeString(r.ID), html.EscapeString(r.Title)
	ref := `<p class="ref">Reference: ` + html.EscapeString(r.Ref) + `</p>`
	if status == "passed" {
		return fmt.Sprintf(`<li class="result passed" data-id="%s" data-status="passed"><span class="mark" aria-hidden="true">%s</span> <code>%s</code> %s</li>`, id, mark, id, title)
	}
	return fmt.Sprintf(`<li class="result %s" data-id="%s" data-status="%s"><details><summary><span class="mark" aria-hidden="true">%s</span> <code>%s</code> %s <span class="word">(%s)</span></summary>%s<pre class="error">%s</pre></details></li>`,
		status, id, status, mark, id, title, status, ref, html.EscapeString(r.Error))
}

// filter shows only the group of the chosen label (every group for "").
func (p *page) filter() {
	want := p.el(idFilter).Get("value").String()
	groups := p.el(idResults).Call("querySelectorAll", "section.group")
	for i := 0; i < groups.Length(); i++ {
		g := groups.Index(i)
		g.Set("hidden", want != "" && g.Call("getAttribute", "data-label").String() != want)
	}
}

// download saves the last run's results as JSON or JUnit XML.
func (p *page) download(kind string) {
	if p.results == nil {
		return
	}
	var buf bytes.Buffer
	name, typ := "idpkit-conform.json", "application/json"
	var err error
	if kind == "junit" {
		name, typ = "idpkit-conform.xml", "application/xml"
		err = check.WriteJUnit(&buf, "idpkit-conform", p.started, p.results)
	} else {
		err = check.WriteJSON(&buf, p.target, p.started, p.results)
	}
	if err != nil {
		p.setStatus("✗ "+err.Error(), "error")
		return
	}
	arr := js.Global().Get("Uint8Array").New(buf.Len())
	js.CopyBytesToJS(arr, buf.Bytes())
	blob := js.Global().Get("Blob").New([]any{arr}, map[string]any{"type": typ})
	urlAPI := js.Global().Get("URL")
	href := urlAPI.Call("createObjectURL", blob)
	a := p.doc.Call("createElement", "a")
	a.Set("href", href)
	a.Set("download", name)
	p.doc.Get("body").Call("appendChild", a)
	a.Call("click")
	a.Call("remove")
	js.Global().Call("setTimeout", js.FuncOf(func(js.Value, []js.Value) any {
		urlAPI.Call("revokeObjectURL", href)
		return nil
	}), 1000)
}

// on adds a listener that lives as long as the page.
func on(target js.Value, event string, f func(e js.Value)) {
	if target.IsNull() || target.IsUndefined() {
		return
	}
	target.Call("addEventListener", event, js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) > 0 {
			f(args[0])
		} else {
			f(js.Undefined())
		}
		return nil
	}))
}
