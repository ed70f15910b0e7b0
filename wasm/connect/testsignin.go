package connect

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"
)

// The popup of a test sign-in: window.open(TestSignInPath(id),
// TestSignInWindow, TestSignInFeatures), relative to the dialog's page.
const (
	TestSignInWindow   = "idpkit-test-sign-in"
	TestSignInFeatures = "popup,width=520,height=720"
)

// Sentences of the test sign-in.
const (
	TestWaitingText  = "Waiting for the sign-in in the popup…"
	PopupBlockedText = "✗ The browser blocked the popup; allow popups for this site and try again."
	PopupClosedText  = "✗ The sign-in window was closed before the sign-in finished."
)

// NewTestID returns a random id for a test sign-in: 43 characters of the
// base64url alphabet (32 random bytes), within the 22..128 characters of
// [A-Za-z0-9_-] the server accepts.
func NewTestID() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("connect: random test sign-in id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// TestSignInPath is the popup's URL for id, relative to the dialog page
// /t/{tenant}/admin/connect-okta.
func TestSignInPath(id string) string { return "test-sign-in?id=" + id }

// Popup is the window a test sign-in runs in.
type Popup interface {
	// Closed reports whether the person closed the window.
	Closed() bool
}

// CanTestSignIn reports whether Test sign-in may start: the settings are
// loaded and sign-in is saved. The glue asks before it opens the popup.
func (d *Dialog) CanTestSignIn() bool {
	s, ok := d.current()
	return ok && canTest(s) && !d.leaving()
}

// PopupBlocked says that window.open gave no window.
func (d *Dialog) PopupBlocked() {
	d.stopTest()
	d.apply(testSets(PopupBlockedText, nil, nil))
}

// stopTest ends the running test sign-in, if any; it returns the number of
// the next one.
func (d *Dialog) stopTest() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.testCancel != nil {
		d.testCancel()
		d.testCancel = nil
	}
	d.testGen++
	return d.testGen
}

// TestSignIn follows the test sign-in id that runs in popup (already
// opened by the glue, inside the click): it polls GET …/api/test-sign-in
// every PollEvery until the outcome is there, the popup was closed without
// one, or TestTimeout passed, and shows ✓ or ✗ with the ID token's claims.
// A new TestSignIn or PopupBlocked ends a running one.
func (d *Dialog) TestSignIn(ctx context.Context, id string, popup Popup) {
	gen := d.stopTest()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d.mu.Lock()
	d.testCancel = cancel
	d.mu.Unlock()
	current := func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.testGen == gen && ctx.Err() == nil
	}
	d.apply(testSets(TestWaitingText, nil, nil))

	tick := time.NewTicker(d.pollEvery())
	defer tick.Stop()
	deadline := time.NewTimer(d.testTimeout())
	defer deadline.Stop()
	fails, closedPolls := 0, 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			if current() {
				d.apply(testSets(fmt.Sprintf("✗ The test sign-in did not finish within %s; click Test sign-in to try again.", minutes(d.testTimeout())), nil, nil))
			}
			return
		case <-tick.C:
		}
		closed := popup != nil && popup.Closed()
		pctx, pcancel := context.WithTimeout(ctx, pollTimeout)
		res, err := d.API.TestSignIn(pctx, id)
		pcancel()
		if !current() {
			return
		}
		if err != nil {
			if SessionEnded(err) {
				d.endSession(err) // it stops this test sign-in too
				return
			}
			if fails++; fails >= MaxPollFailures {
				d.apply(testSets("✗ "+Sentence(err), nil, nil))
				return
			}
			continue
		}
		fails = 0
		if res.Done {
			d.apply(TestOutcome(res, d.loc()))
			return
		}
		if closed {
			if closedPolls++; closedPolls > closedGrace {
				d.apply(testSets(PopupClosedText, nil, nil))
				return
			}
		}
	}
}

// minutes writes a timeout as people say it: "5 minutes", "1 minute",
// "30 seconds".
func minutes(d time.Duration) string {
	switch {
	case d >= time.Minute && d%time.Minute == 0:
		if d == time.Minute {
			return "1 minute"
		}
		return fmt.Sprintf("%d minutes", d/time.Minute)
	case d >= time.Second:
		return fmt.Sprintf("%d seconds", d/time.Second)
	}
	return d.String()
}

// TestOutcome shows a finished test sign-in: "✓ " or "✗ " and the
// server's sentence as it is, with the claims of the ID token when it
// verified; the times among them are also shown in loc (nil: time.Local).
func TestOutcome(r TestSignInResult, loc *time.Location) []Set {
	msg := r.Message
	if r.OK {
		if msg == "" {
			msg = "Signed in as " + r.UserName + "."
		}
		return testSets("✓ "+msg, r.Claims, loc)
	}
	if msg == "" {
		msg = "The test sign-in was refused."
	}
	return testSets("✗ "+msg, r.Claims, loc)
}

// ClearTest hides the result of an earlier test sign-in and its claims.
func ClearTest() []Set {
	return []Set{
		{IDTestStatus, PropText, ""},
		{IDTestStatus, PropBusy, "false"},
		{IDTestStatus, PropHidden, true},
		{IDClaims, PropChildren, []Node{}},
		{IDClaimsBox, PropHidden, true},
	}
}

// testSets shows text in the test sign-in's status line (✓, ✗, or else a
// spinner) and the claims, or hides them when there are none.
func testSets(text string, claims map[string]any, loc *time.Location) []Set {
	class := statusClass(text)
	sets := []Set{
		{IDTestStatus, PropText, text},
		{IDTestStatus, PropClass, class},
		{IDTestStatus, PropBusy, fmt.Sprint(class == ClassBusy)},
		{IDTestStatus, PropHidden, false},
	}
	return append(sets, claimSets(claims, loc)...)
}

// claimSets lists the claims as dt/dd pairs, keys sorted, values that are
// not strings in JSON; the times iat, exp and auth_time also as a date in
// loc.
func claimSets(claims map[string]any, loc *time.Location) []Set {
	if len(claims) == 0 {
		return []Set{{IDClaims, PropChildren, []Node{}}, {IDClaimsBox, PropHidden, true}}
	}
	keys := make([]string, 0, len(claims))
	for k := range claims {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	nodes := make([]Node, 0, 2*len(keys))
	for _, k := range keys {
		nodes = append(nodes, Node{Tag: "dt", Text: k}, Node{Tag: "dd", Text: claimValue(k, claims[k], loc)})
	}
	return []Set{{IDClaims, PropChildren, nodes}, {IDClaimsBox, PropHidden, false}}
}

// timeClaims are the claims that are seconds since 1970 (RFC 7519 §4.1,
// OpenID Connect Core §2).
var timeClaims = map[string]bool{"iat": true, "exp": true, "auth_time": true}

func claimValue(key string, v any, loc *time.Location) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if timeClaims[key] {
		if f, ok := v.(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1e15 {
			if loc == nil {
				loc = time.Local
			}
			return string(b) + " (" + time.Unix(int64(f), 0).In(loc).Format("2006-01-02 15:04:05") + " local time)"
		}
	}
	return string(b)
}
