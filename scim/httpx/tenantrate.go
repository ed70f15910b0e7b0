package httpx

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/adminapi"
)

// TenantRateConfig configures a TenantRate.
type TenantRateConfig struct {
	// Rate is how many requests per second one tenant's budget refills
	// by. Zero or less means no limit (NewTenantRate returns nil).
	Rate float64
	// Burst is how many requests a full budget holds: how many may come
	// at once after a quiet spell. Zero or less means DefaultBurst(Rate).
	Burst int
	// MaxTenants caps the budgets remembered; the least recently charged
	// is forgotten first, and starts again full (DefaultMaxKeys). Each
	// tenant has up to two budgets (see TenantRate).
	MaxTenants int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives one Warn line per refused request; nil discards.
	Logger *slog.Logger
}

// DefaultBurst is the burst a TenantRate takes when none is given: two
// seconds' worth of requests, at least one.
func DefaultBurst(rate float64) int {
	return max(1, int(math.Ceil(2*rate)))
}

// TenantRate limits the requests per second of each tenant (the
// {tenant} of /t/{tenant}/…) with a token bucket per tenant, so that one
// tenant cannot take the server's time from the others. It is safe for
// concurrent use.
//
// It is built so that nobody without credentials can spend a tenant's
// budget and lock its identity provider (Okta) out:
//
//   - A request is refused (429) only when the budget is empty before it
//     runs; the budget is charged after the handler answered. The SCIM
//     budget is charged only for a 2xx answer, which the SCIM service
//     gives only to a request whose token was right: a request refused
//     for its credentials (401), by the FailureLimiter (429), or answered
//     without credentials at all (a 404 for a path that is no SCIM
//     endpoint, ServeMux's 3xx redirect for an unclean path) costs
//     nothing. A flood of wrong or missing tokens leaves the budget whole
//     (the FailureLimiter is what limits those). Okta's own failed
//     requests (a 404 for a user it asks for by id, a 409) are not
//     charged either, which only errs in its favour. The other budget is
//     charged for every answer but 401 Unauthorized, 403 Forbidden and
//     429 Too Many Requests, since its pages (sign-in) need no
//     credentials to be answered 2xx.
//   - Each tenant has two budgets of the same size: one for its SCIM
//     service (/t/{tenant}/scim/…) and one for everything else under
//     /t/{tenant}/ (sign-in, admin), so that anyone loading the sign-in
//     page, which needs no credentials, cannot spend the SCIM budget.
//
// Requests running at once all pass the check before any is charged; the
// budget then goes below zero (not below -Burst), and the requests that
// follow wait for it to come back, so the rate holds on average. Memory
// is bounded by MaxTenants budgets of at most MaxTenantName bytes of key
// each: a path naming no valid tenant (ValidTenant) is not limited and
// leaves nothing behind.
type TenantRate struct {
	rate  float64 // tokens per second
	burst float64
	now   func() time.Time
	log   *slog.Logger

	mu      sync.Mutex
	budgets *buckets[budgetKey]
}

// budgetKey names one of a tenant's two budgets.
type budgetKey struct {
	tenant string
	scim   bool // its SCIM service, else its other paths
}

// NewTenantRate returns a TenantRate for cfg, or nil when cfg.Rate is
// not above zero (a nil TenantRate limits nothing).
func NewTenantRate(cfg TenantRateConfig) *TenantRate {
	if !(cfg.Rate > 0) || math.IsInf(cfg.Rate, 1) {
		return nil
	}
	if cfg.Burst <= 0 {
		cfg.Burst = DefaultBurst(cfg.Rate)
	}
	if cfg.MaxTenants <= 0 {
		cfg.MaxTenants = DefaultMaxKeys
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &TenantRate{
		rate:    cfg.Rate,
		burst:   float64(cfg.Burst),
		now:     cfg.Now,
		log:     cfg.Logger,
		budgets: newBuckets[budgetKey](cfg.MaxTenants),
	}
}

// Handler returns next behind the limit. Paths outside /t/ are never
// limited; a nil TenantRate returns next itself.
//
// A refused request gets 429 Too Many Requests with Retry-After (whole
// seconds, at least 1): a SCIM error (RFC 7644 §3.12, "status": "429")
// on the tenant's SCIM paths, which Okta retries after Retry-After; an
// adminapi.Error JSON on the admin API (/t/{tenant}/admin/api/…); plain
// text elsewhere.
func (l *TenantRate) Handler(next http.Handler) http.Handler {
	if l == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := TenantOf(r.URL.Path)
		if name == "" {
			next.ServeHTTP(w, r)
			return
		}
		scimPath := isSCIMPath(r.URL.Path, name)
		key := budgetKey{name, scimPath}
		if retry, ok := l.allow(key); !ok {
			l.refuse(w, r, name, scimPath, retry)
			return
		}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		if charged(scimPath, sw.status) {
			l.charge(key)
		}
	})
}

// Budgets returns how many budgets l remembers (for tests and metrics);
// a nil TenantRate remembers none.
func (l *TenantRate) Budgets() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.budgets.m)
}

// charged reports whether an answer with status spends the budget: on
// the SCIM paths only a 2xx answer (a request whose token was right);
// elsewhere any answer but a refusal for credentials (401, 403) or by a
// rate limit (429).
func charged(scimPath bool, status int) bool {
	if scimPath {
		return 200 <= status && status < 300
	}
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests:
		return false
	}
	return true
}

// allow reports whether key's budget holds a request, and if not, how
// long until it does. A key never charged has a full budget and no entry.
func (l *TenantRate) allow(key budgetKey) (retryAfter time.Duration, ok bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.budgets.peek(key)
	if b == nil {
		return 0, true
	}
	tokens := b.level(now, l.rate, l.burst)
	if tokens >= 1 {
		return 0, true
	}
	return wait(tokens, l.rate), false
}

// charge takes one request from key's budget, down to -burst at most.
func (l *TenantRate) charge(key budgetKey) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.budgets.get(key, now, l.burst)
	b.tokens, b.at = max(b.level(now, l.rate, l.burst)-1, -l.burst), now
}

// refuse writes the 429 answer.
func (l *TenantRate) refuse(w http.ResponseWriter, r *http.Request, name string, scimPath bool, retry time.Duration) {
	secs := RetryAfterSeconds(retry)
	l.log.WarnContext(r.Context(), "httpx: tenant over its request rate", "tenant", name, "path", r.URL.Path, "remote", r.RemoteAddr, "retryAfter", secs)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	detail := fmt.Sprintf("too many requests for this tenant; wait %d %s before trying again", secs, plural(secs, "second", "seconds"))
	switch {
	case scimPath:
		body, _ := json.Marshal(scim.Errorf(http.StatusTooManyRequests, "", "%s", detail))
		w.Header().Set("Content-Type", scim.MediaType+"; charset=utf-8")
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write(body)
	case strings.HasPrefix(r.URL.Path, "/t/"+name+"/admin/api/"):
		body, _ := json.Marshal(adminapi.Error{Error: "too_many_requests", Description: detail})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write(body)
	default:
		http.Error(w, detail, http.StatusTooManyRequests)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusWriter) WriteHeader(code int) {
	// 1xx answers (103 Early Hints) are not the final status.
	if !s.wrote && code >= 200 {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
