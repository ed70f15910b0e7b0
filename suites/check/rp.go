package check

// This file is the relying-party half of the catalogue: RPCheck, RPTarget,
// RP, RPChecks, SelectRP, PreflightRP, RunRP and RunRPAll. See RP for what the checks
// do and how they judge a relying party.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// RPTarget is the OpenID Connect relying party under test and the mock
// Okta it trusts. The checks drive the mock only over its HTTP test
// controls (/__mock/, see the mockidp package), so the RP may be any
// program, in any language, whose issuer is the mock's.
type RPTarget struct {
	// LoginURL is the RP's "sign in" URL: a GET of it must redirect (at
	// once or after the RP's own redirects) to the mock's authorize
	// endpoint. Required.
	LoginURL string
	// SessionURL, when set, is a URL of the RP that answers 2xx only to a
	// browser with a session (idpkit's own RP: /t/{tenant}/me); it is
	// requested without following redirects, so a redirect to a login
	// page means "no session". Without it, a login counts as accepted when
	// its final response, after every redirect, has a status below 400.
	SessionURL string
	// MockURL is the mock Okta's base URL and MockToken its API token (the
	// SSWS token of /api/v1 and /__mock/). Required.
	MockURL, MockToken string
	// Login is the mock user the RP accepts (a login or a 00u… id).
	Login string
	// ClientID, when set, limits the queued logins to that OIDC client,
	// so that other clients of the same mock are not signed in by them.
	ClientID string
	// Client is the transport the checks use; nil means a client with a
	// 20 s timeout. Its Jar and CheckRedirect are not used: each check
	// run has browsers of its own (see RP).
	Client *http.Client
	// Now is the clock of cookie expiry and durations; nil means time.Now.
	Now func() time.Time
	// Advance, when set, moves the RP's clock on by d: for a test that
	// runs the RP with an injected clock. The checks labelled rp-keys
	// then move the RP's clock and the mock's (POST /__mock/clock) on
	// before their login, so that each meets the RP as if it were the
	// only one: by ten minutes (past any limit on refetching the JWKS,
	// within its cache's lifetime) for the kid and rotation checks, by
	// 25 hours (past the JWKS cache: Okta's max-age is a day) for the
	// checks of odd JWKS contents and a slow keys endpoint; and by 31 s
	// when the rotation check waits out a refetch cooldown. Without it a
	// check whose JWKS the RP never fetched (its cached keys verified the
	// token) is skipped, the rotation check waits 31 s of real time when
	// its first login meets the RP's refetch cooldown, and PreflightRP
	// refuses a mock whose clock is more than two minutes from Now.
	Advance func(d time.Duration)

	// wait, when set, stands in for real time passing in a check that
	// waits out a refetch cooldown without Advance (tests set it); nil
	// means a timer.
	wait func(ctx context.Context, d time.Duration) error

	mu     sync.Mutex
	faults []RPFaultInfo // the mock's available faults, read once per run
	read   bool
}

// The clock moves of the rp-keys checks when RPTarget.Advance is set.
const (
	rpRefetchGap = 10 * time.Minute // past refetch limits, within JWKS caches
	rpStaleGap   = 25 * time.Hour   // past JWKS caches (Okta's max-age is a day)
)

// rpCooldown is how long the key rotation check waits, once, for a refetch
// cooldown to pass (jose's default cooldown is 30 s; idpkit's own RP's
// too): in real time, or by moving both clocks with RPTarget.Advance.
const rpCooldown = 31 * time.Second

// rpClockSkew is how far the mock's clock may be from the local clock
// before PreflightRP refuses to run (without RPTarget.Advance).
const rpClockSkew = 2 * time.Minute

// RPFaultInfo is one fault the mock offers (GET /__mock/faults, "available").
type RPFaultInfo struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Module is the OpenID Foundation RP test module the fault reproduces.
	Module string `json:"module,omitempty"`
	// Expect is "refuse", "accept" or "either".
	Expect string `json:"expect"`
}

func (t *RPTarget) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func (t *RPTarget) transport() *http.Client {
	c := &http.Client{Timeout: 20 * time.Second}
	if t.Client != nil {
		cc := *t.Client
		c = &cc
		if c.Timeout == 0 {
			c.Timeout = 20 * time.Second
		}
	}
	c.Jar = nil
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// RPCheck is one rule for a relying party.
type RPCheck struct {
	ID     string   // stable identifier, e.g. "rp-refuses-alg-none"
	Title  string   // what the rule is, in one sentence
	Ref    string   // where the rule comes from
	Labels []string // "rp" and one or more of "rp-faults", "rp-flow", "rp-keys"
	// Run performs the check against t and returns nil when the RP
	// behaves, or an error describing what was wrong with every response
	// of the logins it made.
	Run func(ctx context.Context, t *RPTarget) error

	// limit is the check's time limit; 0 means rpLimit.
	limit time.Duration
}

// rpLimit is the time limit of a check.
const rpLimit = 30 * time.Second

// HasLabel reports whether c carries label l.
func (c RPCheck) HasLabel(l string) bool { return slices.Contains(c.Labels, l) }

// The labels of the RP checks.
const (
	LabelRP       = "rp"        // every RP check
	LabelRPFaults = "rp-faults" // one login with one fault of the mock armed
	LabelRPFlow   = "rp-flow"   // the authorization request, state, callbacks, errors, cookies
	LabelRPKeys   = "rp-keys"   // the JWKS: kid, rotation, odd keys, refetching
)

// SelectRP returns the checks that carry any of labels (every check when
// labels is empty) and whose ID is not in skip. A check labelled "strict"
// (see Strict; a refusal the spec asks for only with SHOULD or MAY, such as
// an iat in the future, a foreign azp or a wrong at_hash) is selected only
// when "strict" is among labels.
func SelectRP(checks []RPCheck, labels, skip []string) []RPCheck {
	return selectChecks(checks, labels, skip, slices.Contains(labels, Strict))
}

// SelectRPStrict is SelectRP with the checks labelled "strict" (refusals
// the spec asks for only with SHOULD or MAY) treated as any other: every
// check when labels is empty. It is for idpkit's own relying party.
func SelectRPStrict(checks []RPCheck, labels, skip []string) []RPCheck {
	return selectChecks(checks, labels, skip, true)
}

// RPChecks returns RP() and, for every fault in the mock's "available"
// list that RP does not know, a check judged by that fault's Expect
// (rp-refuses-…, rp-accepts-… or rp-survives-…), so that a mock with new
// faults gets checks without a new release of the catalogue. It fails
// when the mock's fault list cannot be read.
func RPChecks(ctx context.Context, t *RPTarget) ([]RPCheck, error) {
	all := RP()
	infos, err := t.availableFaults(ctx)
	if err != nil {
		return all, err
	}
	for _, fi := range infos {
		if _, ok := rpKnownFault(fi.Name); ok {
			continue
		}
		all = append(all, rpFaultCheck(rpFault{name: fi.Name, expect: fi.Expect, title: fi.Description, ref: fi.Module}))
	}
	return all, nil
}

// RunRPAll runs checks one after another against t and returns their
// results; progress, when not nil, is called after each. The mock's fault
// list is read afresh at the start of each run. Between checks (and at
// the start of each) the mock is reset: faults disarmed, queues and
// request log emptied.
//
// When ctx is done (an interrupted run) it stops: the check it cut short
// and the ones after it have no result, so fewer results than checks
// means the run was interrupted, and no check fails for the interruption.
func RunRPAll(ctx context.Context, checks []RPCheck, t *RPTarget, progress func(done, total int, r Result)) []Result {
	t.mu.Lock()
	t.read, t.faults = false, nil
	t.mu.Unlock()
	results := runEach(ctx, checks, true, func(ctx context.Context, c RPCheck) Result { return RunRP(ctx, c, t) }, progress)
	if len(checks) > 0 {
		t.mock(context.WithoutCancel(ctx), "POST", "/__mock/reset", nil, nil)
	}
	return results
}

// RunRP runs one check with a time limit of 30 seconds (90 for the key
// rotation check, which may wait out a refetch cooldown); a panic is
// reported as a failure. The result is a Result like the SCIM checks', so
// WriteJSON, WriteJUnit and Summarize report both.
func RunRP(ctx context.Context, c RPCheck, t *RPTarget) (r Result) {
	limit := c.limit
	if limit <= 0 {
		limit = rpLimit
	}
	return runLimited(ctx, c.head(), t.now, limit, func(ctx context.Context) error { return c.Run(ctx, t) })
}

// PreflightRP tells, in one sentence, what keeps every check from running
// before a run: a mock that has no test controls or refuses the token; a
// mock whose clock is more than two minutes from the local clock (unless
// RPTarget.Advance is set: a test that moves both clocks on purpose); a
// Login the mock cannot sign in (unknown, not ACTIVE, or a ClientID that
// is not an OIDC app of the mock); a login URL that does not lead the
// browser to the mock's authorize endpoint (it fails, answers a page or
// an error, or redirects elsewhere); an authorization request for another
// client than ClientID; or one the mock refuses (an unknown client, a
// redirect_uri the app does not list). It leaves the mock reset.
func PreflightRP(ctx context.Context, t *RPTarget) error {
	var missing []string
	for _, f := range []struct{ v, what string }{{t.LoginURL, "the RP's login URL"}, {t.MockURL, "the mock's URL"}, {t.Login, "the login of a mock user the RP accepts"}} {
		if f.v == "" {
			missing = append(missing, f.what)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("check: the checks need %s", rpJoin(missing))
	}
	if err := t.reset(ctx); err != nil {
		return fmt.Errorf("check: %w", err)
	}
	if t.Advance == nil {
		if err := t.checkClock(ctx); err != nil {
			return err
		}
	}
	if err := t.queueLogin(ctx); err != nil {
		return fmt.Errorf("check: the mock cannot sign in %q: %w", t.Login, err)
	}
	if err := t.reset(ctx); err != nil {
		return fmt.Errorf("check: %w", err)
	}
	err := t.preflightLogin(ctx)
	if rerr := t.reset(ctx); err == nil && rerr != nil {
		err = fmt.Errorf("check: %w", rerr)
	}
	return err
}

// checkClock compares the mock's clock (GET /__mock/clock) with the local
// one. A mock without the control is not judged.
func (t *RPTarget) checkClock(ctx context.Context) error {
	var out struct {
		Now time.Time `json:"now"`
	}
	if err := t.mock(ctx, "GET", "/__mock/clock", nil, &out); err != nil || out.Now.IsZero() {
		return nil
	}
	d := out.Now.Sub(t.now())
	if d.Abs() <= rpClockSkew {
		return nil
	}
	way := "ahead of"
	if d < 0 {
		way = "behind"
	}
	return fmt.Errorf("check: the mock's clock is %s %s this machine's (GET /__mock/clock says %s), so the RP would see its ID tokens as issued in the future or expired; restart the mock, or reset its clock with POST /__mock/clock {\"reset\":true}",
		rpDuration(d.Abs()), way, out.Now.UTC().Format(time.RFC3339))
}

// preflightLogin opens the login URL in a new browser up to the mock's
// authorize endpoint, checks the authorization request's client, and
// sends it once without a queued login: the mock answers its login form,
// or an error page when it refuses the request.
func (t *RPTarget) preflightLogin(ctx context.Context) error {
	b := t.newBrowser("preflight")
	l := t.newLogin("preflight", b)
	l.toAuthorize(ctx)
	if l.next == nil {
		return fmt.Errorf("check: %s", rpLoginURLTrouble(t, l))
	}
	q := l.query()
	switch id := q.Get("client_id"); {
	case id == "":
		return fmt.Errorf("check: the RP's authorization request has no client_id: %s", rpShortURL(l.next.URL))
	case t.ClientID != "" && id != t.ClientID:
		return fmt.Errorf("check: %s", rpOtherClient(id, t.ClientID))
	}
	h := b.do(ctx, *l.next)
	switch {
	case h.Err != nil:
		return fmt.Errorf("check: the mock's authorize endpoint does not answer the RP's authorization request: %v", rpCause(h.Err))
	case h.Status >= 400:
		return fmt.Errorf("check: the mock refused the RP's authorization request (is its client_id an OIDC app of the mock, and its redirect_uri %q one of the app's sign-in redirect URIs?): %s",
			q.Get("redirect_uri"), rpHopLine(h))
	}
	// Once more with the login queued: the mock answers with the code, or
	// with an error redirect such as access_denied for a user who is not
	// assigned to the app. The code is never redeemed.
	if err := t.queueLogin(ctx); err != nil {
		return fmt.Errorf("check: the mock cannot sign in %q: %w", t.Login, err)
	}
	h = b.do(ctx, *l.next)
	if h.Err == nil && h.Location != "" {
		if u, err := url.Parse(h.Location); err == nil && u.Query().Get("error") != "" {
			e := u.Query()
			msg := fmt.Sprintf("check: the mock answered the RP's authorization request for %q with error %s (%s)", t.Login, e.Get("error"), e.Get("error_description"))
			if e.Get("error") == "access_denied" {
				msg += fmt.Sprintf("; assign that user to the RP's app at the mock (POST /__mock/assignments {\"app\":%q,\"users\":[%q]}), or give the app access: everyone", q.Get("client_id"), t.Login)
			}
			return errors.New(msg)
		}
	}
	return nil
}

// rpLoginURLTrouble says, on one line, why a login never reached the
// mock's authorize endpoint.
func rpLoginURLTrouble(t *RPTarget, l *rpLogin) string {
	if len(l.hops) == 0 || l.final == nil {
		return fmt.Sprintf("the RP's login URL %s was not requested", t.LoginURL)
	}
	first, last := l.hops[0], l.final
	if first.Err != nil {
		return fmt.Sprintf("the RP's login URL %s does not answer: %v", t.LoginURL, rpCause(first.Err))
	}
	want := strings.TrimRight(t.MockURL, "/") + "/oauth2/…/authorize"
	for _, h := range l.hops {
		if u, err := url.Parse(h.URL); err == nil && strings.HasSuffix(u.Path, "/authorize") && !l.b.onMock(h.URL) {
			return fmt.Sprintf("the RP's login URL %s sent the browser to the authorize endpoint %s, which is not the mock's (%s): the RP's issuer must be the mock's",
				t.LoginURL, rpShortURL(u.Scheme+"://"+u.Host+u.Path), want)
		}
	}
	if len(l.hops) == 1 {
		return fmt.Sprintf("the RP's login URL answered %s, not a redirect to the mock's authorize endpoint (%s)", rpHopLine(first), want)
	}
	if last.Err != nil {
		return fmt.Sprintf("the RP's login URL %s led the browser to %s, which does not answer (%v), not to the mock's authorize endpoint (%s)", t.LoginURL, rpShortURL(last.URL), rpCause(last.Err), want)
	}
	steps := make([]string, len(l.hops))
	for i, h := range l.hops {
		line, _, _ := strings.Cut(h.render(i == len(l.hops)-1), "\n")
		steps[i] = line
	}
	return fmt.Sprintf("the RP's login URL led the browser through %s, never to the mock's authorize endpoint (%s)", strings.Join(steps, ", then "), want)
}

// rpOtherClient is what a login whose authorization request names another
// client than the checks' client id says.
func rpOtherClient(got, want string) string {
	return fmt.Sprintf("the RP's authorization request is for client_id %q, not the client id the checks sign in for (%s, --client-id): the mock signs the queued user in only for that client, so it showed its login form instead; give the RP's client id, or configure the RP with %s",
		got, want, want)
}

// rpCause is the transport error inside err, without the URL it names.
func rpCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// rpHopLine is a hop on one line, without its Set-Cookie headers.
func rpHopLine(h *rpHop) string {
	line, _, _ := strings.Cut(h.String(), "\n")
	return line
}

// rpJoin joins "a", "b" and "c" as "a, b and c".
func rpJoin(parts []string) string {
	if len(parts) < 2 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// rpDuration is d for a person: "25h", "3m10s", "45s".
func rpDuration(d time.Duration) string {
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
