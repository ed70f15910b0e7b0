// Package check is idpkit's conformance catalogue: checks that any SCIM 2.0
// service must pass to work with Okta and Entra ID, written in plain Go so
// that the same checks run under Ginkgo (suites/scim), in `idpkit conform`
// and in the browser (GOOS=js GOARCH=wasm). SCIM returns the catalogue;
// RunAll and RunOne run checks against a Target; WriteJSON and WriteJUnit
// report the results.
//
// # Rules and where they come from
//
// Each check names where its rule comes from (Check.Ref): a step of Okta's
// "SCIM 2.0 SPEC Test" (the OIN submission gate), a request Okta's or
// Entra ID's provisioning sends, a section of an RFC, or a reduced
// real-world failure report (the cases of testdata/cases/scim). The RFC
// sections covered are RFC 7644 §3.3–§3.14 (create, read, list, filter,
// sort and page, .search, PUT, PATCH, DELETE, bulk, attributes and
// excludedAttributes, media types, errors, versions and ETags), RFC 7643
// §2–§8 (attribute characteristics, meta, the User, Group and enterprise
// User schemas, ServiceProviderConfig, Schemas and ResourceTypes) and
// RFC 6750 §3 (the bearer token's 401 and its WWW-Authenticate challenge).
//
// A check returns an error that describes every misbehaviour it saw, with
// the request (its Content-Type, If-Match and If-None-Match, never the
// token) and the response, and, for a read that got a state wrong, the
// write before it. It never fails a test by itself (the habit of
// testing/fstest.TestFS); a problem a check recorded fails it even if it
// returns nil.
//
// # Areas and labels
//
// One file holds one area, and each check carries its area as a label:
// "okta-spec" (spec.go), "okta" (okta.go), "entra" (entra.go), "filter",
// "paging" (sort, paging, .search, attributes), "etag", "schema" (with
// "media", discovery and attributes), "patch", "bulk" and "tenant". The
// labels "rfc7643" and "rfc7644" mark the checks of each RFC, and
// "writes" the checks that create data (the others only read). Select
// picks checks by label and leaves some out by ID.
//
// # Strict checks
//
// The checks labelled Strict ("strict") pin down idpkit's own tolerances
// and limits beyond what the RFCs and the IdPs require; another server may
// rightly fail them. Select leaves them out unless "strict" is among its
// labels; SelectStrict, for idpkit's own server, treats them as any other.
//
// # Skipped checks
//
// A check that cannot apply to its target returns Skip(reason), and RunOne
// reports it as skipped (Result.Skipped; <skipped> in JUnit), not failed.
// The needs table (needs.go) skips, with the reason, a check whose
// feature /ServiceProviderConfig declares unsupported (etag, sort, bulk;
// RFC 7643 §5) or whose rule is about optional attributes that /Schemas
// or /ResourceTypes leave out (title and locale in Okta's own bodies, the
// enterprise extension); a check that only needs some attribute uses a
// core one (userName, externalId, name, displayName, emails, active). A
// declaration that cannot be read counts as support, so that the check
// runs and fails rather than passes unseen. The checks labelled "tenant"
// need Target.Peer, a second tenant of the same service, and are skipped
// without one.
//
// # Data and cleanup
//
// Checks create their own users and groups, named with a fresh random
// suffix so that they never touch the target's other data. A filter
// check sends the filter under test alone and judges the answer by its
// own users only; other checks read their resources by id, or with the
// lookups Okta sends (userName eq, displayName eq), and only the paging
// and sort checks scope a set with userName sw. Preflight sends one
// request before a run to say a refused token once. RunOne
// deletes what the check created when it ends (groups before users),
// unless Target.KeepData is set. Each check has 30 seconds.
package check

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Target is the SCIM service under test.
type Target struct {
	BaseURL string       // the SCIM base URL, e.g. https://app.example.com/scim/v2
	Token   string       // the bearer token Okta would be given
	Client  *http.Client // nil means http.DefaultClient
	// UserDomain is the e-mail domain of the users the checks create;
	// empty means "example.com".
	UserDomain string
	// KeepData leaves the users and groups the checks create on the
	// target; by default each check deletes what it created when it ends.
	KeepData bool
	// Now is the clock that times responses and checks; nil means time.Now.
	Now func() time.Time
	// Peer is a second tenant of the same service, for the checks
	// labelled "tenant" (isolation of data and tokens); nil skips them.
	Peer *Target

	mu      sync.Mutex
	created []string // paths such as /Users/{id} created by the running check

	decl declarations // what the target declares of itself, read once per run
}

func (t *Target) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// remember records a resource the running check created.
func (t *Target) remember(path string) {
	t.mu.Lock()
	t.created = append(t.created, path)
	t.mu.Unlock()
}

// cleanUp deletes what the check created, groups before users, ignoring
// errors: a server that refuses DELETE keeps the data, as Okta never
// deletes users itself.
func (t *Target) cleanUp(ctx context.Context) {
	t.mu.Lock()
	paths := t.created
	t.created = nil
	t.mu.Unlock()
	if t.KeepData {
		return
	}
	slices.SortStableFunc(paths, func(a, b string) int {
		return strings.Compare(b[:2], a[:2]) // "/U…" after "/G…"
	})
	for _, p := range paths {
		t.send(ctx, "DELETE", p, nil)
	}
}

// Check is one conformance rule.
type Check struct {
	ID     string   // stable identifier, e.g. "okta-spec-01-list-users"
	Title  string   // what the rule is, in one sentence
	Ref    string   // where the rule comes from: an RFC section or an Okta test step
	Labels []string // groups such as "okta-spec", "okta", "entra", "rfc7644", "writes"
	// Run performs the check against t and returns nil when the target
	// behaves, or an error describing everything that was wrong.
	Run func(ctx context.Context, t *Target) error
}

// HasLabel reports whether c carries label l.
func (c Check) HasLabel(l string) bool { return slices.Contains(c.Labels, l) }

// SCIM returns the whole SCIM catalogue, in a stable order.
//
// The first RFC 7644 checks were split one rule per check into the area
// files; their old IDs map as follows: rfc-discovery →
// schema-discovery-config; rfc-content-type → media-accepted; rfc-bad-json
// → media-bad-json; rfc-invalid-filter → filter-invalid-syntax,
// filter-invalid-operator, filter-invalid-attribute; rfc-filter-precedence
// → filter-precedence; rfc-paging → the paging-… checks.
func SCIM() []Check {
	var all []Check
	all = append(all, oktaSpec()...)
	all = append(all, oktaProvisioning()...)
	all = append(all, entra()...)
	all = append(all, filterChecks()...)
	all = append(all, pagingChecks()...)
	all = append(all, etagChecks()...)
	all = append(all, schemaChecks()...)
	all = append(all, putChecks()...)
	all = append(all, patchChecks()...)
	all = append(all, bulkChecks()...)
	all = append(all, tenantChecks()...)
	return withNeeds(all)
}

// Strict is the label of the checks that test idpkit's own tolerances
// and limits beyond what the RFCs and the IdPs require (a depth limit, a
// size limit, rejecting non-canonical values, …). Another server may
// rightly fail them, so Select leaves them out unless asked.
const Strict = "strict"

// Select returns the checks that carry any of labels (every check when
// labels is empty) and whose ID does not appear in skip. A check labelled
// "strict" (see Strict) is selected only when "strict" is among labels:
// with no labels, Select returns every check but the strict ones, and with
// labels "okta-spec" and "strict" the okta-spec checks and the strict
// checks. SelectStrict selects the strict checks like any other.
func Select(checks []Check, labels, skip []string) []Check {
	return selectChecks(checks, labels, skip, slices.Contains(labels, Strict))
}

// SelectStrict is Select with the checks labelled "strict" treated as any
// other: every check when labels is empty. It is for idpkit's own server,
// whose tolerances the strict checks pin down.
func SelectStrict(checks []Check, labels, skip []string) []Check {
	return selectChecks(checks, labels, skip, true)
}

// Result is the outcome of running one check.
type Result struct {
	ID     string   `json:"id"`     // the check's ID
	Title  string   `json:"title"`  // the check's Title
	Ref    string   `json:"ref"`    // the check's Ref
	Labels []string `json:"labels"` // the check's Labels
	Passed bool     `json:"passed"` // the check returned nil and recorded no problem
	// Skipped is set, with Passed false and the reason in Error, when the
	// check could not apply to the target (see Skip).
	Skipped  bool          `json:"skipped,omitempty"`
	Error    string        `json:"error,omitempty"` // what went wrong, or why the check was skipped
	Duration time.Duration `json:"durationNs"`      // how long the check ran
}

// Status is "passed", "skipped" or "failed", as the JSON report's
// "status" field says it.
func (r Result) Status() string {
	switch {
	case r.Passed:
		return "passed"
	case r.Skipped:
		return "skipped"
	}
	return "failed"
}

// MarshalJSON writes r with its Status as "status", beside passed and
// skipped.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	return json.Marshal(struct {
		plain
		Status string `json:"status"`
	}{plain(r), r.Status()})
}

// RunAll runs checks one after another against t and returns their results;
// progress, when not nil, is called after each check. A check that panics
// is reported as failed; the run goes on. What the target declares of
// itself (/ServiceProviderConfig, /Schemas, /ResourceTypes) is read afresh
// at the start of each RunAll and then once for the whole run.
func RunAll(ctx context.Context, checks []Check, t *Target, progress func(done, total int, r Result)) []Result {
	t.forgetDeclarations()
	return runEach(ctx, checks, false, func(ctx context.Context, c Check) Result { return RunOne(ctx, c, t) }, progress)
}

// RunOne runs a single check with a time limit of 30 seconds. A check that
// returns nil although it recorded a problem is reported as failed with
// that problem.
func RunOne(ctx context.Context, c Check, t *Target) (r Result) {
	return runLimited(ctx, c.head(), t.now, 30*time.Second, func(ctx context.Context) error {
		defer t.cleanUp(context.WithoutCancel(ctx))
		rs := &runState{}
		ctx = context.WithValue(ctx, runKey{}, rs)
		err := c.Run(ctx, t)
		if err == nil {
			err = rs.leftover()
		}
		return err
	})
}

// ErrSkipped matches, with errors.Is, the error of a check that could not
// apply to its target; Skip makes one.
var ErrSkipped = errors.New("check: skipped")

// skipError is the error Skip returns.
type skipError struct{ reason string }

// Error is "skipped: " and the reason.
func (e *skipError) Error() string { return "skipped: " + e.reason }

// Is makes a skipError match ErrSkipped.
func (e *skipError) Is(target error) bool { return target == ErrSkipped }

// Skip returns the error a check returns when it cannot apply to the
// target, such as a tenant check without Target.Peer; RunOne reports the
// check as skipped rather than failed.
func Skip(reason string) error { return &skipError{reason: reason} }

// unique returns a short random suffix so that each check's data is its own.
func unique() string {
	b := make([]byte, 5)
	rand.Read(b)
	return hex.EncodeToString(b)
}
