package check

// This file is the relying-party half of the catalogue: RPCheck, RPTarget,
// RP, RPChecks, SelectRP, PreflightRP, RunRP and RunRPAll. See RP for what the checks
// do and how they judge a relying party.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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
	// checks of odd JWKS contents and a slow keys endpoint. Without it a
	// check whose JWKS the RP never fetched (its cached keys verified the
	// token) is skipped, and the rotation check, run after checks that
	// made the RP refetch, may meet its refetch limit.
	Advance func(d time.Duration)

	mu     sync.Mutex
	faults []RPFaultInfo // the mock's available faults, read once per run
	read   bool
}

// The clock moves of the rp-keys checks when RPTarget.Advance is set.
const (
	rpRefetchGap = 10 * time.Minute // past refetch limits, within JWKS caches
	rpStaleGap   = 25 * time.Hour   // past JWKS caches (Okta's max-age is a day)
)

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
}

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
	return selectRP(checks, labels, skip, slices.Contains(labels, Strict))
}

// SelectRPStrict is SelectRP with the checks labelled "strict" (refusals
// the spec asks for only with SHOULD or MAY) treated as any other: every
// check when labels is empty. It is for idpkit's own relying party.
func SelectRPStrict(checks []RPCheck, labels, skip []string) []RPCheck {
	return selectRP(checks, labels, skip, true)
}

func selectRP(checks []RPCheck, labels, skip []string, strict bool) []RPCheck {
	var out []RPCheck
	for _, c := range checks {
		if slices.Contains(skip, c.ID) || c.HasLabel(Strict) && !strict {
			continue
		}
		if len(labels) == 0 || slices.ContainsFunc(labels, c.HasLabel) {
			out = append(out, c)
		}
	}
	return out
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
func RunRPAll(ctx context.Context, checks []RPCheck, t *RPTarget, progress func(done, total int, r Result)) []Result {
	t.mu.Lock()
	t.read, t.faults = false, nil
	t.mu.Unlock()
	results := make([]Result, 0, len(checks))
	for i, c := range checks {
		r := RunRP(ctx, c, t)
		results = append(results, r)
		if progress != nil {
			progress(i+1, len(checks), r)
		}
	}
	if len(checks) > 0 {
		t.mock(context.WithoutCancel(ctx), "POST", "/__mock/reset", nil, nil)
	}
	return results
}

// RunRP runs one check with a time limit of 30 seconds; a panic is
// reported as a failure. The result is a Result like the SCIM checks', so
// WriteJSON, WriteJUnit and Summarize report both.
func RunRP(ctx context.Context, c RPCheck, t *RPTarget) (r Result) {
	r = Result{ID: c.ID, Title: c.Title, Ref: c.Ref, Labels: c.Labels}
	start := t.now()
	defer func() {
		r.Duration = t.now().Sub(start)
		if p := recover(); p != nil {
			r.Passed, r.Error = false, "check panicked: "+strings.TrimSpace(fmt.Sprint(p))
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := c.Run(ctx, t); err != nil {
		var skip *skipError
		r.Skipped = errors.As(err, &skip)
		r.Error = err.Error()
		return r
	}
	r.Passed = true
	return r
}

// PreflightRP tells, in one sentence, what keeps every check from running
// before a run: a mock that has no test controls or refuses the token, a
// Login the mock cannot sign in (unknown, not ACTIVE, or a ClientID that
// is not an OIDC app of the mock), or a LoginURL that does not answer. It
// leaves the mock reset.
func PreflightRP(ctx context.Context, t *RPTarget) error {
	if t.LoginURL == "" || t.MockURL == "" || t.Login == "" {
		return errors.New("check: the RP target needs LoginURL, MockURL and Login")
	}
	if err := t.reset(ctx); err != nil {
		return fmt.Errorf("check: %w", err)
	}
	if err := t.queueLogin(ctx); err != nil {
		return fmt.Errorf("check: the mock cannot sign in %q: %w", t.Login, err)
	}
	if err := t.reset(ctx); err != nil {
		return fmt.Errorf("check: %w", err)
	}
	h := t.newBrowser("preflight").do(ctx, rpStep{Method: "GET", URL: t.LoginURL})
	if h.Err != nil {
		return fmt.Errorf("check: the RP's login URL %s does not answer: %w", t.LoginURL, h.Err)
	}
	if h.Status >= 500 {
		return fmt.Errorf("check: the RP's login URL %s answered %s", t.LoginURL, h.String())
	}
	return nil
}
