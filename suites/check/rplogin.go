package check

// This file is one login through the RP and the mock, in parts (to the
// authorize request, to the callback, to the end) or whole, and the
// failure report that shows every response of every login of a check.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// rpLogin is one sign-in in one browser.
type rpLogin struct {
	name string // "login 1", for the report
	b    *rpBrowser
	t    *RPTarget
	// next is where the login stands: the step the browser is about to
	// send, nil once it has run to its end.
	next  *rpStep
	hops  []*rpHop
	final *rpHop // the last response of the last visit
	// authorize is the browser's visit to the mock's authorize endpoint;
	// callback the authorization response the mock sent back to the RP.
	authorize, callback *rpStep
	probe               *rpHop // the SessionURL probe
	session             bool
	probed              bool
}

// newLogin returns a login in b that starts at t.LoginURL; nothing is sent
// yet.
func (t *RPTarget) newLogin(name string, b *rpBrowser) *rpLogin {
	return &rpLogin{name: name, b: b, t: t, next: &rpStep{Method: "GET", URL: t.LoginURL}}
}

// run moves the login on until stop reports true for a step (which is
// not sent) or the browser has nothing more to do.
func (l *rpLogin) run(ctx context.Context, stop func(rpStep) bool) {
	if l.next == nil {
		return
	}
	start := l.b.count()
	last, stopped := l.b.visit(ctx, *l.next, stop)
	for _, h := range l.b.since(start) {
		l.note(h.rpStep)
		l.hops = append(l.hops, h)
	}
	if stopped != nil {
		l.note(*stopped)
	}
	if last != nil {
		l.final = last
	}
	l.next = stopped
}

// note remembers the authorize request and the callback among the steps.
func (l *rpLogin) note(s rpStep) {
	switch {
	case l.authorize == nil && l.b.isAuthorize(s):
		l.authorize = &s
	case l.callback == nil && l.b.isCallback(s):
		l.callback = &s
	}
}

// toAuthorize runs the login up to (not into) the mock's authorize endpoint.
func (l *rpLogin) toAuthorize(ctx context.Context) { l.run(ctx, l.b.isAuthorize) }

// toCallback runs the login up to (not into) the RP's callback.
func (l *rpLogin) toCallback(ctx context.Context) { l.run(ctx, l.b.isCallback) }

// finish runs the login to its end and probes for a session.
func (l *rpLogin) finish(ctx context.Context) {
	l.run(ctx, nil)
	l.probeSession(ctx)
}

// deliver sends the callback step cb in browser b (another browser, or
// the same one again) and runs to the end; it returns a login of its own
// for the report.
func (t *RPTarget) deliver(ctx context.Context, name string, b *rpBrowser, cb rpStep) *rpLogin {
	l := &rpLogin{name: name, b: b, t: t, next: &cb}
	l.finish(ctx)
	return l
}

// probeSession asks SessionURL (without following its redirects) whether
// the login's browser has a session; without SessionURL, a login whose
// last response is below 400 counts as a session.
func (l *rpLogin) probeSession(ctx context.Context) {
	l.probed = true
	if l.t.SessionURL == "" {
		l.session = l.final != nil && l.final.Err == nil && l.final.Status < 400
		return
	}
	h := l.b.do(ctx, rpStep{Method: "GET", URL: l.t.SessionURL})
	l.probe = h
	l.session = h.Err == nil && h.Status >= 200 && h.Status < 300
}

// sessionSays is how a report says what the probe saw.
func (l *rpLogin) sessionSays() string {
	if l.probe != nil {
		if l.probe.Err != nil {
			return fmt.Sprintf("GET %s failed: %v", l.t.SessionURL, l.probe.Err)
		}
		return fmt.Sprintf("GET %s answered %d", l.t.SessionURL, l.probe.Status)
	}
	if l.final == nil {
		return "the login sent nothing"
	}
	if l.final.Err != nil {
		return "the login's last request failed"
	}
	return fmt.Sprintf("the login ended with %d (no --session-url: below 400 counts as a session)", l.final.Status)
}

// query is the authorize request's query, nil when there was none.
func (l *rpLogin) query() url.Values {
	if l.authorize == nil {
		return nil
	}
	u, err := url.Parse(l.authorize.URL)
	if err != nil {
		return nil
	}
	return u.Query()
}

// otherClient returns the client_id of the login's authorization request
// when it is not the target's ClientID (and ClientID is set), else "".
func (l *rpLogin) otherClient() string {
	if l.t.ClientID == "" || l.authorize == nil {
		return ""
	}
	if id := l.query().Get("client_id"); id != l.t.ClientID {
		return id
	}
	return ""
}

// astray says why the login never brought an authorization response from
// the mock back to the RP, "" when it did.
func (l *rpLogin) astray() string {
	switch {
	case l.authorize == nil:
		end := ""
		if l.final != nil && l.final.Err == nil {
			end = fmt.Sprintf(" (it ended with %d at %s)", l.final.Status, rpShortURL(l.final.URL))
		}
		return "the login URL did not lead the browser to the mock's authorize endpoint" + end
	case l.otherClient() != "":
		return rpOtherClient(l.otherClient(), l.t.ClientID)
	case l.callback == nil:
		end := ""
		if l.final != nil && l.final.Err == nil && l.b.onMock(l.final.URL) {
			end = fmt.Sprintf(" (the mock answered %d: %q)", l.final.Status, excerpt([]byte(rpPageText(l.final)), 120))
		}
		return "the login never came back from the mock to the RP" + end
	}
	return ""
}

// signIn is a whole login in a new browser: a queued login at the mock,
// then the RP's LoginURL and everything after it.
func (t *RPTarget) signIn(ctx context.Context, r *rpReport, name string) (*rpLogin, error) {
	if err := t.queueLogin(ctx); err != nil {
		return nil, err
	}
	l := r.add(t.newLogin(name, r.browser(t)))
	l.finish(ctx)
	return l, nil
}

// rpReport gathers the problems of one RP check and the logins they are
// about.
type rpReport struct {
	problems []string
	notes    []string // said after the problems: what the check armed
	browsers int
	logins   []*rpLogin
	reqs     []rpMockRequest
	haveReqs bool
	retried  bool // the key rotation check signed in again after a cooldown
}

// add makes l part of the report's transcript and returns it.
func (r *rpReport) add(l *rpLogin) *rpLogin {
	r.logins = append(r.logins, l)
	return l
}

// browser returns a new browser named by its order in the check.
func (r *rpReport) browser(t *RPTarget) *rpBrowser {
	r.browsers++
	return t.newBrowser(fmt.Sprintf("browser %c", 'A'+(r.browsers-1)%26))
}

// notef adds a line said once, after the problems.
func (r *rpReport) notef(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

func (r *rpReport) failf(format string, args ...any) {
	r.problems = append(r.problems, fmt.Sprintf(format, args...))
}

// log reads the mock's request log into the report.
func (r *rpReport) log(ctx context.Context, t *RPTarget) ([]rpMockRequest, error) {
	reqs, err := t.requests(ctx)
	if err != nil {
		return nil, err
	}
	r.reqs, r.haveReqs = reqs, true
	return reqs, nil
}

// err returns nil without problems, else a Failure: the problems, then
// every response of every login and what the mock saw.
func (r *rpReport) err() error {
	if len(r.problems) == 0 {
		return nil
	}
	var b strings.Builder
	for _, n := range r.notes {
		b.WriteString("  " + n + "\n")
	}
	for _, l := range r.logins {
		fmt.Fprintf(&b, "  %s (%s):", l.name, l.b.name)
		if len(l.hops) == 0 {
			b.WriteString(" nothing sent")
		}
		for i, h := range l.hops {
			followed := i+1 < len(l.hops) && l.hops[i+1].from == h.URL && h.Location != ""
			b.WriteString("\n    " + strings.ReplaceAll(h.render(!followed), "\n", "\n    "))
		}
		if l.probe != nil {
			b.WriteString("\n    session probe: " + l.probe.String())
		}
		b.WriteString("\n")
	}
	if r.haveReqs {
		fmt.Fprintf(&b, "  the mock saw: %s", rpLogLine(r.reqs))
	}
	return &Failure{Problems: append(append([]string{}, r.problems...), strings.TrimRight(b.String(), "\n"))}
}

// rpMockTrouble turns a failed test control into the check's error: the
// check could not be set up, which says nothing of the RP.
func rpMockTrouble(err error) error {
	var me *rpMockError
	if errors.As(err, &me) {
		return fmt.Errorf("check: %w", err)
	}
	return err
}

// rpBelow500 reports whether a login's last response is a page for a
// person below 500 (h.Err unset).
func rpBelow500(h *rpHop) bool {
	return h != nil && h.Err == nil && h.Status < http.StatusInternalServerError
}
