package connect

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/idpkit/idpkit/scim/adminapi"
)

// Node is an element that a PropChildren update puts into the page, or,
// with an empty Tag, a text node. The glue creates it with
// document.createElement and sets its text with textContent, so server
// data never goes through an HTML parser.
type Node struct {
	Tag   string // one of AllowedTag's; "" for a text node
	Class string
	Text  string
	// Href is the address of an "a" element; the glue sets it only when
	// SafeHref allows it.
	Href     string
	Children []Node
}

// AllowedTag reports whether the glue may create an element tag for a Node.
func AllowedTag(tag string) bool {
	switch tag {
	case "tr", "td", "li", "dt", "dd", "div", "span", "strong", "code", "a":
		return true
	}
	return false
}

// Sentences of the connection status line.
const (
	ConnectionWaiting = "Waiting for Okta: in Okta, enter these two values and click Test API Credentials."
	// ConnectionWaitingGrace, with the time the previous secret stops
	// working, replaces ConnectionWaiting during a rotation's grace
	// period: the new secret may have been made elsewhere (idpkit tenant
	// rotate-token) and not be on this page.
	ConnectionWaitingGrace = "Waiting for Okta to use the new SCIM secret: paste it into Okta (API token) and click Test API Credentials. The previous secret keeps working until %s; if you do not have the new one, generate another here."
	LostContact            = "Lost contact with the idpkit server; retrying…"
	// WaitingHint is added to ConnectionWaiting after WaitHintAfter: the
	// dialog cannot see requests Okta sends to another URL.
	WaitingHint = "If Okta reports an error, check that Okta's SCIM 2.0 Base Url is exactly the Tenant URL above."
)

// clock is the time of day a request is shown with, HH:MM:SS.
func clock(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("15:04:05")
}

// OktaUserAgent starts the User-Agent of Okta's SCIM client ("Okta SCIM
// Client 1.0.0").
const OktaUserAgent = "Okta SCIM Client"

// FromOkta reports whether a request carries Okta's User-Agent.
func FromOkta(r adminapi.Request) bool { return strings.HasPrefix(r.UserAgent, OktaUserAgent) }

// Connection returns the connection status line for an activity and its
// class. Requests refused for their secret (HTTP 401) count only after
// refusedAfter and after the connection. Once Okta has connected, only a
// refusal from Okta's User-Agent (Okta using an old secret) newer than
// Okta's last accepted request gives ✗; anyone else's wrong secret does
// not change the ✓. Before, the newest request decides: a refusal from
// Okta gives ✗, one from another agent a neutral waiting line.
func Connection(a adminapi.Activity, loc *time.Location, refusedAfter time.Time) (text, class string) {
	counts := func(r adminapi.Request) bool {
		return r.At.After(refusedAfter) && (a.Connected == nil || r.At.After(a.Connected.At))
	}
	wrong := func(r adminapi.Request) string {
		return "✗ Okta sent a wrong secret at " + clock(r.At, loc) +
			": paste the newest secret into Okta, then click Test API Credentials again."
	}
	if c := a.Connected; c != nil {
		for _, r := range a.Requests {
			if !counts(r) {
				break
			}
			if !FromOkta(r) {
				continue
			}
			if r.Status == http.StatusUnauthorized {
				return wrong(r), ClassError
			}
			break // Okta's newest request got through
		}
		s := "✓ Okta has connected"
		if c.Action != "" {
			s += ": " + c.Action
		}
		s += " at " + clock(c.At, loc)
		if c.UserAgent != "" {
			s += " (" + c.UserAgent + ")"
		}
		return s + ".", ClassOK
	}
	if len(a.Requests) > 0 {
		if r := a.Requests[0]; r.Status == http.StatusUnauthorized && counts(r) {
			if FromOkta(r) {
				return wrong(r), ClassError
			}
			return NotOktaText(r, loc), ClassBusy
		}
	}
	if u := a.PreviousSecretUntil; u != nil {
		return fmt.Sprintf(ConnectionWaitingGrace, clock(*u, loc)), ClassBusy
	}
	return ConnectionWaiting, ClassBusy
}

// NotOktaText is the waiting line after a request with a wrong secret
// that did not come from Okta's SCIM client.
func NotOktaText(r adminapi.Request, loc *time.Location) string {
	from := "a client that gave no User-Agent"
	if r.UserAgent != "" {
		from = "“" + r.UserAgent + "”"
	}
	return "Waiting for Okta: a request with a wrong secret came from " + from + " at " + clock(r.At, loc) +
		", not from Okta. In Okta, enter these two values and click Test API Credentials."
}

// zoneName is the name of loc's zone at t ("UTC", "CET", or "UTC+1" in a
// browser).
func zoneName(t time.Time, loc *time.Location) string {
	name, _ := t.In(loc).Zone()
	return name
}

// timeHeads name the time zone in the time columns' headers.
func timeHeads(loc *time.Location, now time.Time) []Set {
	h := "Time (" + zoneName(now, loc) + ")"
	return []Set{{IDRequestTimeHead, PropText, h}, {IDAuditTimeHead, PropText, h}}
}

// connectionSets shows text in the connection status line; a text that
// starts with ✓ or ✗ gets its class, any other the spinner.
func connectionSets(text string) []Set {
	class := statusClass(text)
	return []Set{
		{IDConnection, PropText, text},
		{IDConnection, PropClass, class},
		{IDConnection, PropBusy, strconv.FormatBool(class == ClassBusy)},
		{IDConnection, PropHidden, false},
	}
}

// statusClass is the class of a status line's text: ✓ is ok, ✗ an error,
// anything else still running (a spinner).
func statusClass(text string) string {
	switch {
	case strings.HasPrefix(text, "✓"):
		return ClassOK
	case strings.HasPrefix(text, "✗"):
		return ClassError
	}
	return ClassBusy
}

// ShowActivity fills the SCIM panel's live part from an activity: the
// connection line (see Connection; with WaitingHint added when it still
// waits and longWait is true), the counts, the users, the groups and the
// last requests, each list with its empty-state line.
func ShowActivity(a adminapi.Activity, loc *time.Location, refusedAfter time.Time, longWait bool) []Set {
	text, _ := Connection(a, loc, refusedAfter)
	if text == ConnectionWaiting && longWait {
		text += " " + WaitingHint
	}
	sets := connectionSets(text)
	sets = append(sets,
		Set{IDUserCount, PropText, strconv.Itoa(a.Users.Total)},
		Set{IDGroupCount, PropText, strconv.Itoa(a.Groups.Total)},
	)

	users := make([]Node, 0, len(a.Users.Recent))
	for _, u := range a.Users.Recent {
		state, class := "active", "ok"
		if !u.Active {
			state, class = "deactivated", "muted"
		}
		users = append(users, row(cell("", u.Name), cell("", orDash(u.DisplayName)), cell(class, state)))
	}
	sets = append(sets, listSets(a.Users, users, IDUserWrap, IDUserRows, IDUsersEmpty, IDUsersMore, "users")...)

	groups := make([]Node, 0, len(a.Groups.Recent))
	for _, g := range a.Groups.Recent {
		members := strconv.Itoa(g.Members) + " members"
		if g.Members == 1 {
			members = "1 member"
		}
		groups = append(groups, row(cell("", g.Name), cell("", members)))
	}
	sets = append(sets, listSets(a.Groups, groups, IDGroupWrap, IDGroupRows, IDGroupsEmpty, IDGroupsMore, "groups")...)

	reqs := make([]Node, 0, len(a.Requests))
	for _, r := range a.Requests {
		reqs = append(reqs, row(
			cell("time", clock(r.At, loc)),
			cell("", orDash(r.Action)),
			Node{Tag: "td", Children: []Node{{Tag: "code", Text: r.Method + " " + r.Path}}},
			outcome(r),
		))
	}
	return append(sets,
		Set{IDRequestRows, PropChildren, reqs},
		Set{IDRequestWrap, PropHidden, len(reqs) == 0},
		Set{IDRequestsEmpty, PropHidden, len(reqs) > 0},
	)
}

func listSets(l adminapi.ResourceList, rows []Node, table, body, empty, more, what string) []Set {
	none := l.Total == 0 && len(rows) == 0
	moreText := ""
	if l.Total > len(rows) {
		moreText = fmt.Sprintf("Showing the %d most recent of %d %s.", len(rows), l.Total, what)
	}
	return []Set{
		{body, PropChildren, rows},
		{table, PropHidden, none},
		{empty, PropHidden, !none},
		{more, PropText, moreText},
		{more, PropHidden, moreText == ""},
	}
}

func row(cells ...Node) Node { return Node{Tag: "tr", Children: cells} }

func cell(class, text string) Node { return Node{Tag: "td", Class: class, Text: text} }

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// outcome is a request's last cell: "✓ 201", or "✗ 409: " and the detail.
func outcome(r adminapi.Request) Node {
	if r.Status < 400 {
		return cell("ok", "✓ "+strconv.Itoa(r.Status))
	}
	s := "✗ " + strconv.Itoa(r.Status)
	if r.Detail != "" {
		s += ": " + r.Detail
	}
	return cell("error", s)
}

// lostContact is the connection line after MaxPollFailures failed polls.
// (A 401 ends the session at once instead, see endSession.)
func lostContact(err error) []Set {
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusForbidden {
		return connectionSets("✗ " + Sentence(err))
	}
	return connectionSets("✗ " + LostContact)
}

// Poll reads the activity once and shows it. Failures are shown only from
// the MaxPollFailures-th in a row on; the next success replaces them.
// Polls do not overlap: one that starts while another runs does nothing.
func (d *Dialog) Poll(ctx context.Context) {
	a, ok := pollOnce(ctx, d, "poll", d.API.Activity, &d.failures, lostContact)
	if !ok {
		return
	}
	d.mu.Lock()
	d.groups = &a.Groups
	if len(a.Requests) > 0 {
		d.newest = a.Requests[0].At
	}
	since := d.refusedAfter
	d.connected = a.Connected != nil
	longWait := false
	if text, _ := Connection(a, d.loc(), since); text == ConnectionWaiting {
		now := d.now()
		if d.waitingSince.IsZero() {
			d.waitingSince = now
		}
		longWait = now.Sub(d.waitingSince) >= WaitHintAfter
	} else {
		d.waitingSince = time.Time{}
	}
	view := adminView(d.settings, d.groups, d.groupSaved)
	d.mu.Unlock()
	sets := ShowActivity(a, d.loc(), since, longWait)
	sets = append(sets, Set{IDLeadFirst, PropHidden, a.Connected != nil})
	d.applyChanged(append(sets, view...))
}

// pollOnce is one read of a poll named name (activity, audit): nothing
// while the dialog has no settings yet, is leaving, or runs that poll
// already; the read has pollTimeout. A failure is counted in *failures
// (under d.mu) and ends the session on a 401 (endSession), else shows
// failed(err) from the MaxPollFailures-th in a row on. A success resets
// the count and returns the value.
func pollOnce[T any](ctx context.Context, d *Dialog, name string, fetch func(context.Context) (T, error), failures *int, failed func(error) []Set) (T, bool) {
	var zero T
	if _, ok := d.current(); !ok || d.leaving() || !d.start(name) {
		return zero, false
	}
	defer d.done(name)
	ctx, cancel := context.WithTimeout(ctx, pollTimeout)
	defer cancel()
	v, err := fetch(ctx)
	if d.leaving() {
		return zero, false
	}
	d.mu.Lock()
	if err != nil {
		*failures++
		n := *failures
		d.mu.Unlock()
		if !d.endSession(err) && n == MaxPollFailures {
			d.apply(failed(err))
		}
		return zero, false
	}
	*failures = 0
	d.mu.Unlock()
	return v, true
}

// Watch polls the activity every PollEvery while visible reports true
// (nil means always), and at once on every receive from wake (the page
// got the focus or became visible), until ctx ends or the admin signs
// out. It polls first at
// once.
func (d *Dialog) Watch(ctx context.Context, visible func() bool, wake <-chan struct{}) {
	d.watch(ctx, d.pollEvery(), d.Poll, visible, wake)
}

// watch calls poll at once, then every every while visible reports true
// (nil means always) and on every receive from wake, until ctx ends or
// the admin signs out: the loop of Watch and WatchAudit.
func (d *Dialog) watch(ctx context.Context, every time.Duration, poll func(context.Context), visible func() bool, wake <-chan struct{}) {
	t := time.NewTicker(every)
	defer t.Stop()
	due := true
	for {
		if d.isSignedOut() {
			return
		}
		if due {
			poll(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			due = visible == nil || visible()
		case <-wake:
			due = true
		}
	}
}
