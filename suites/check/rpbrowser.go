package check

// This file is the browser of the RP checks: a cookie jar that keeps
// cookies as browsers do (Secure cookies too on http://localhost and
// loopback addresses), redirects followed one by one, the mock's
// form_post page submitted as its script would, and every response
// recorded for the failure message.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/html"
)

// rpJarCookie is one stored cookie.
type rpJarCookie struct {
	name, value string
	domain      string // lower case, no leading dot
	hostOnly    bool
	path        string
	secure      bool
	expires     time.Time // zero: a session cookie
	created     time.Time
	sameSite    http.SameSite
}

// rpJar is a browser's cookie store (RFC 6265 §5.3 storage, §5.4 sending)
// with SameSite as browsers apply it (RFC 6265bis §5.2): on a cross-site
// request, Strict cookies are never sent and Lax ones (and those without
// SameSite, which browsers treat as Lax) only on a GET navigation. Sites
// are compared by scheme and the last two labels of the host (no public
// suffix list); the mock and the RP on 127.0.0.1 are one site.
type rpJar struct {
	mu      sync.Mutex
	now     func() time.Time
	cookies []*rpJarCookie
}

// rpLoopbackHost reports whether a browser treats host as a secure context
// over plain http: localhost, *.localhost and loopback addresses.
func rpLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// rpSecureOrigin reports whether u is a secure context for cookies.
func rpSecureOrigin(u *url.URL) bool { return u.Scheme == "https" || rpLoopbackHost(u.Hostname()) }

func rpDefaultPath(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" || p[0] != '/' {
		return "/"
	}
	i := strings.LastIndex(p, "/")
	if i == 0 {
		return "/"
	}
	return p[:i]
}

// set stores the cookies of a response to u.
func (j *rpJar) set(u *url.URL, cs []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	host := strings.ToLower(u.Hostname())
	now := j.now()
	for _, c := range cs {
		e := &rpJarCookie{name: c.Name, value: c.Value, secure: c.Secure, created: now, sameSite: c.SameSite}
		if e.secure && !rpSecureOrigin(u) {
			continue // a browser drops a Secure cookie set over plain http
		}
		d := strings.TrimPrefix(strings.ToLower(c.Domain), ".")
		switch {
		case d == "" || d == host:
			e.domain, e.hostOnly = host, d == ""
		case net.ParseIP(host) == nil && strings.HasSuffix(host, "."+d):
			e.domain = d
		default:
			continue // a Domain the host may not set
		}
		e.path = c.Path
		if e.path == "" || e.path[0] != '/' {
			e.path = rpDefaultPath(u)
		}
		switch {
		case c.MaxAge < 0:
			e.expires = now.Add(-time.Second)
		case c.MaxAge > 0:
			e.expires = now.Add(time.Duration(c.MaxAge) * time.Second)
		case !c.Expires.IsZero():
			e.expires = c.Expires
		}
		j.cookies = slices.DeleteFunc(j.cookies, func(o *rpJarCookie) bool {
			return o.name == e.name && o.domain == e.domain && o.path == e.path
		})
		if e.expires.IsZero() || e.expires.After(now) {
			j.cookies = append(j.cookies, e)
		}
	}
}

func rpPathMatch(reqPath, cookiePath string) bool {
	if reqPath == "" {
		reqPath = "/"
	}
	if reqPath == cookiePath {
		return true
	}
	return strings.HasPrefix(reqPath, cookiePath) && (strings.HasSuffix(cookiePath, "/") || reqPath[len(cookiePath)] == '/')
}

// rpSiteOf is the "site" of u for SameSite: its scheme and registrable
// domain, approximated as an IP address or the host's last two labels.
func rpSiteOf(u *url.URL) string {
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if net.ParseIP(host) == nil {
		if labels := strings.Split(host, "."); len(labels) > 2 {
			host = strings.Join(labels[len(labels)-2:], ".")
		}
	}
	return u.Scheme + "://" + host
}

// header returns the Cookie header for a request to u, "" for none;
// crossSite is set when the page that sent the browser to u is of another
// site.
func (j *rpJar) header(u *url.URL, method string, crossSite bool) string {
	j.mu.Lock()
	defer j.mu.Unlock()
	host := strings.ToLower(u.Hostname())
	now := j.now()
	var send []*rpJarCookie
	for _, c := range j.cookies {
		switch {
		case !c.expires.IsZero() && !c.expires.After(now):
		case c.hostOnly && host != c.domain, !c.hostOnly && host != c.domain && !strings.HasSuffix(host, "."+c.domain):
		case !rpPathMatch(u.EscapedPath(), c.path):
		case c.secure && !rpSecureOrigin(u):
		case crossSite && c.sameSite == http.SameSiteStrictMode:
		case crossSite && c.sameSite != http.SameSiteNoneMode && method != "GET":
		case crossSite && c.sameSite == http.SameSiteNoneMode && !c.secure:
			// browsers drop SameSite=None without Secure
		default:
			send = append(send, c)
		}
	}
	slices.SortStableFunc(send, func(a, b *rpJarCookie) int {
		if len(a.path) != len(b.path) {
			return len(b.path) - len(a.path)
		}
		return a.created.Compare(b.created)
	})
	parts := make([]string, len(send))
	for i, c := range send {
		parts[i] = c.name + "=" + c.value
	}
	return strings.Join(parts, "; ")
}

// clone returns a copy of the jar: the same browser, forked.
func (j *rpJar) clone() *rpJar {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := &rpJar{now: j.now}
	for _, c := range j.cookies {
		cc := *c
		out.cookies = append(out.cookies, &cc)
	}
	return out
}

// values returns the values of the live cookies by name.
func (j *rpJar) values() map[string][]string {
	j.mu.Lock()
	defer j.mu.Unlock()
	now := j.now()
	out := map[string][]string{}
	for _, c := range j.cookies {
		if c.expires.IsZero() || c.expires.After(now) {
			out[c.name] = append(out[c.name], c.value)
		}
	}
	return out
}

// rpStep is a request the browser is about to send.
type rpStep struct {
	Method string
	URL    string
	Form   url.Values // the body of a POST (application/x-www-form-urlencoded)
	Origin string     // the Origin header of a form's POST
	// fromMock is set when a response of the mock sent the browser here.
	fromMock bool
	// from is the URL of the page that sent the browser here (a redirect
	// or a form), "" for a URL typed in.
	from string
}

// rpHop is one response the browser received.
type rpHop struct {
	rpStep
	Status      int
	Location    string
	SetCookie   []string
	ContentType string
	Body        []byte
	Err         error // the request failed: no response
}

// rpBrowser is one person's browser: its own cookie jar, every response
// recorded.
type rpBrowser struct {
	t      *RPTarget
	name   string // "browser A", used in transcripts
	client *http.Client
	jar    *rpJar
	mock   *url.URL

	mu   sync.Mutex
	hops []*rpHop
}

func (t *RPTarget) newBrowser(name string) *rpBrowser {
	m, _ := url.Parse(t.MockURL)
	if m == nil {
		m = &url.URL{}
	}
	return &rpBrowser{t: t, name: name, client: t.transport(), jar: &rpJar{now: t.now}, mock: m}
}

// fork returns another browser with a copy of b's cookies.
func (b *rpBrowser) fork(name string) *rpBrowser {
	nb := b.t.newBrowser(name)
	nb.jar = b.jar.clone()
	return nb
}

// onMock reports whether raw is a URL of the mock (same scheme and host).
func (b *rpBrowser) onMock(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && strings.EqualFold(u.Scheme, b.mock.Scheme) && strings.EqualFold(u.Host, b.mock.Host)
}

// isAuthorize reports whether s is the browser's visit to the mock's
// authorization endpoint.
func (b *rpBrowser) isAuthorize(s rpStep) bool {
	if !b.onMock(s.URL) {
		return false
	}
	u, _ := url.Parse(s.URL)
	return strings.HasSuffix(u.Path, "/authorize")
}

// isCallback reports whether s brings the authorization response from the
// mock to the RP.
func (b *rpBrowser) isCallback(s rpStep) bool { return s.fromMock && !b.onMock(s.URL) }

// do sends one request and records its response.
func (b *rpBrowser) do(ctx context.Context, s rpStep) *rpHop {
	h := &rpHop{rpStep: s}
	defer func() {
		b.mu.Lock()
		b.hops = append(b.hops, h)
		b.mu.Unlock()
	}()
	var body io.Reader
	if s.Method == "POST" {
		body = strings.NewReader(s.Form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, s.Method, s.URL, body)
	if err != nil {
		h.Err = err
		return h
	}
	req.Header.Set("User-Agent", "Mozilla/5.0 (compatible; idpkit-conform-rp)")
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	if s.Method == "POST" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if s.Origin != "" {
			req.Header.Set("Origin", s.Origin)
		}
	}
	cross := false
	if s.from != "" {
		if f, err := url.Parse(s.from); err == nil {
			cross = rpSiteOf(f) != rpSiteOf(req.URL)
		}
	}
	if c := b.jar.header(req.URL, s.Method, cross); c != "" {
		req.Header.Set("Cookie", c)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		h.Err = err
		return h
	}
	defer resp.Body.Close()
	h.Body, _ = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	h.Status, h.ContentType = resp.StatusCode, resp.Header.Get("Content-Type")
	h.Location = resp.Header.Get("Location")
	h.SetCookie = resp.Header.Values("Set-Cookie")
	b.jar.set(req.URL, resp.Cookies())
	return h
}

// visit sends s and follows what the responses ask (redirects, the mock's
// form_post page) until a response asks nothing more; it returns that
// last response. When stop reports true for a step, visit returns without
// sending it, with the step.
func (b *rpBrowser) visit(ctx context.Context, s rpStep, stop func(rpStep) bool) (*rpHop, *rpStep) {
	var last *rpHop
	for range 20 {
		if stop != nil && stop(s) {
			return last, &s
		}
		h := b.do(ctx, s)
		last = h
		if h.Err != nil {
			return h, nil
		}
		next, ok := b.next(h)
		if !ok {
			return h, nil
		}
		s = next
	}
	last.Err = fmt.Errorf("more than 20 redirects")
	return last, nil
}

// next is the step that response h leads a browser to, if any.
func (b *rpBrowser) next(h *rpHop) (rpStep, bool) {
	from := b.onMock(h.URL)
	switch h.Status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		if h.Location == "" {
			return rpStep{}, false
		}
		base, err := url.Parse(h.URL)
		if err != nil {
			return rpStep{}, false
		}
		loc, err := base.Parse(h.Location)
		if err != nil {
			return rpStep{}, false
		}
		loc.Fragment, loc.RawFragment = "", ""
		s := rpStep{Method: "GET", URL: loc.String(), fromMock: from, from: h.URL}
		if h.Status == http.StatusTemporaryRedirect || h.Status == http.StatusPermanentRedirect {
			s.Method, s.Form, s.Origin = h.Method, h.Form, h.Origin
		}
		return s, true
	case http.StatusOK:
		if from {
			return b.formPost(h)
		}
	}
	return rpStep{}, false
}

// formPost returns the POST that the mock's auto-submitting form_post page
// makes a browser send (OAuth 2.0 Form Post Response Mode §2): every
// input of the page's first POST form, to its action.
func (b *rpBrowser) formPost(h *rpHop) (rpStep, bool) {
	if !strings.Contains(strings.ToLower(h.ContentType), "html") {
		return rpStep{}, false
	}
	doc, err := html.Parse(bytes.NewReader(h.Body))
	if err != nil {
		return rpStep{}, false
	}
	var form *html.Node
	var find func(*html.Node)
	find = func(n *html.Node) {
		if form != nil {
			return
		}
		if n.Type == html.ElementNode && n.Data == "form" && strings.EqualFold(rpAttr(n, "method"), "post") {
			form = n
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			find(c)
		}
	}
	find(doc)
	if form == nil {
		return rpStep{}, false
	}
	vals := url.Values{}
	var inputs func(*html.Node)
	inputs = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "input" && rpAttr(n, "name") != "" && rpAttr(n, "type") != "submit" {
			vals.Add(rpAttr(n, "name"), rpAttr(n, "value"))
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			inputs(c)
		}
	}
	inputs(form)
	if !vals.Has("code") && !vals.Has("error") && !vals.Has("state") {
		return rpStep{}, false // a page with a form, but not an authorization response
	}
	base, _ := url.Parse(h.URL)
	action, err := base.Parse(rpAttr(form, "action"))
	if err != nil {
		return rpStep{}, false
	}
	return rpStep{Method: "POST", URL: action.String(), Form: vals, Origin: b.mock.Scheme + "://" + b.mock.Host, fromMock: true, from: h.URL}, true
}

func rpAttr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// rpPageText is the visible text of an HTML page (or the body of another).
func rpPageText(h *rpHop) string {
	if !strings.Contains(strings.ToLower(h.ContentType), "html") {
		return strings.Join(strings.Fields(string(h.Body)), " ")
	}
	doc, err := html.Parse(bytes.NewReader(h.Body))
	if err != nil {
		return ""
	}
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (n.Data == "script" || n.Data == "style" || n.Data == "head") {
			return
		}
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
			b.WriteByte(' ')
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return strings.Join(strings.Fields(b.String()), " ")
}

// since returns the hops recorded from index i on.
func (b *rpBrowser) since(i int) []*rpHop {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.hops[i:])
}

func (b *rpBrowser) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.hops)
}

// rpShortURL is u for a report: each query value cut after 48
// characters, the whole after about 400.
func rpShortURL(raw string) string {
	u, err := url.Parse(raw)
	if err == nil && u.RawQuery != "" && len(raw) > 160 {
		q := u.Query()
		keys := make([]string, 0, len(q))
		for k := range q {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var parts []string
		for _, k := range keys {
			for _, v := range q[k] {
				if len(v) > 48 {
					v = excerpt([]byte(v), 45)
				}
				parts = append(parts, k+"="+v)
			}
		}
		u.RawQuery = ""
		raw = u.String() + "?" + strings.Join(parts, "&")
	}
	if len(raw) > 400 {
		return excerpt([]byte(raw), 397)
	}
	return raw
}

// rpMaskCookie shows a Set-Cookie header with its value hidden.
func rpMaskCookie(sc string) string {
	name, rest, _ := strings.Cut(sc, "=")
	_, attrs, _ := strings.Cut(rest, ";")
	if attrs != "" {
		return name + "=…;" + attrs
	}
	return name + "=…"
}

// String renders a hop for a failure message: the request, then the
// status, Location, Set-Cookie and, for the last hop of a visit, the
// start of the page.
func (h *rpHop) String() string { return h.render(true) }

// render is String, with the Location left out when the next line of the
// report is the request it led to.
func (h *rpHop) render(location bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", h.Method, rpShortURL(h.URL))
	if h.Method == "POST" && len(h.Form) > 0 {
		keys := make([]string, 0, len(h.Form))
		for k := range h.Form {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		fmt.Fprintf(&b, " (form: %s)", strings.Join(keys, ", "))
	}
	if h.Err != nil {
		fmt.Fprintf(&b, " → no response: %v", h.Err)
		return b.String()
	}
	fmt.Fprintf(&b, " → %d", h.Status)
	if h.Location != "" && location {
		fmt.Fprintf(&b, " Location: %s", rpShortURL(h.Location))
	}
	if h.Location == "" && len(h.Body) > 0 {
		ct := h.ContentType
		if ct == "" {
			ct = "(no Content-Type)"
		}
		fmt.Fprintf(&b, " %s %q", ct, excerpt([]byte(rpPageText(h)), 200))
	}
	for _, c := range h.SetCookie {
		fmt.Fprintf(&b, "\n      Set-Cookie: %s", rpMaskCookie(c))
	}
	return b.String()
}
