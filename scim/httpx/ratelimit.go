package httpx

import (
	"container/list"
	"math"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Default budgets of a FailureLimiter.
const (
	// DefaultAddressFailures is how many failed attempts one source
	// address may make per DefaultWindow.
	DefaultAddressFailures = 20
	// DefaultTenantFailures is how many failed attempts, from all
	// addresses together, one tenant may take per DefaultWindow before
	// further failures are answered 429.
	DefaultTenantFailures = 100
	// DefaultWindow is the period the budgets refill over.
	DefaultWindow = time.Minute
	// DefaultMaxKeys caps the addresses, and separately the tenants,
	// a FailureLimiter remembers.
	DefaultMaxKeys = 10000
	// NoLimit as a FailureLimiterConfig budget turns that limit off (any
	// negative value does; zero means the default).
	NoLimit = -1
)

// FailureLimiterConfig configures a FailureLimiter; zero fields take the
// defaults.
type FailureLimiterConfig struct {
	// AddressFailures is the per-address budget per Window
	// (DefaultAddressFailures); NoLimit (any negative value) counts no
	// address.
	AddressFailures int
	// TenantFailures is the per-tenant budget per Window
	// (DefaultTenantFailures); NoLimit (any negative value) counts no
	// tenant.
	TenantFailures int
	// Window is the period a budget refills over, evenly (DefaultWindow).
	Window time.Duration
	// MaxKeys caps the addresses and the tenants remembered, each; the
	// least recently failed is forgotten first (DefaultMaxKeys).
	MaxKeys int
	// CountLoopback counts loopback addresses (127.0.0.0/8, ::1) per
	// address too. By default they are not: a loopback peer is this
	// host's own tools (idpkit conform, tests) or a reverse proxy that is
	// not in --trust-proxy, whose address is everyone's, and blocking it
	// would lock Okta out. Their failures still spend the tenant's budget.
	CountLoopback bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// FailureLimiter limits failed authentication attempts (wrong bearer
// tokens, guessed admin links, forged sign-in callbacks) per source
// address and per tenant, with token buckets that refill evenly over the
// window. It is safe for concurrent use.
//
// It is built so that an attacker cannot lock out a legitimate client
// such as Okta, which comes with the right credentials, even from an
// address it shares with the attacker (Okta's provisioning egress
// addresses serve every org of a cell; a NAT, or a proxy sending no
// usable X-Forwarded-For, makes one address of many clients):
//
//   - The credential is always checked. Only a failed attempt consults
//     the budgets (Failed): while its address or its tenant is over
//     budget, the failure is answered 429 instead of 401/403, and keeps
//     that budget empty; a request whose credentials are right passes,
//     whatever the budgets say.
//   - So the limit does not slow a client that holds a right credential,
//     and tells one that guesses to stop: with 256-bit tokens and one-time
//     links, the 401-or-429 answer is no guessing oracle worth having.
//
// An address that keeps failing stays at 429 until it stops for long
// enough to earn one attempt back. IPv6 addresses are counted per /64,
// which one host usually has for itself; loopback addresses are not
// counted per address unless CountLoopback. Memory is bounded by MaxKeys
// per kind of key, of bounded size (an address key is an IP or a /64;
// a tenant key a valid tenant name, ValidTenant, or nothing); a
// forgotten key starts again with a full budget.
type FailureLimiter struct {
	addrRate, tenantRate float64 // tokens per second
	addrCap, tenantCap   float64
	addrOff, tenantOff   bool // NoLimit
	countLoopback        bool
	now                  func() time.Time

	mu      sync.Mutex
	addrs   *buckets[string]
	tenants *buckets[string]
}

// NewFailureLimiter returns a FailureLimiter for cfg.
func NewFailureLimiter(cfg FailureLimiterConfig) *FailureLimiter {
	addrOff, tenantOff := cfg.AddressFailures < 0, cfg.TenantFailures < 0
	if cfg.AddressFailures <= 0 {
		cfg.AddressFailures = DefaultAddressFailures
	}
	if cfg.TenantFailures <= 0 {
		cfg.TenantFailures = DefaultTenantFailures
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = DefaultMaxKeys
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &FailureLimiter{
		addrCap:       float64(cfg.AddressFailures),
		tenantCap:     float64(cfg.TenantFailures),
		addrRate:      float64(cfg.AddressFailures) / cfg.Window.Seconds(),
		tenantRate:    float64(cfg.TenantFailures) / cfg.Window.Seconds(),
		addrOff:       addrOff,
		tenantOff:     tenantOff,
		now:           cfg.Now,
		countLoopback: cfg.CountLoopback,
		addrs:         newBuckets[string](cfg.MaxKeys),
		tenants:       newBuckets[string](cfg.MaxKeys),
	}
}

// Allow reports whether address ip (an IP, or a RemoteAddr "host:port")
// has failure budget left, and if not, how long until it has. It never
// gates a credential check (see FailureLimiter): a caller that checks a
// credential calls only Failed. It is for steps that check no credential
// but start something only worth starting with budget left. The tenant
// names the request only. A nil limiter allows everything.
func (l *FailureLimiter) Allow(ip, tenant string) (retryAfter time.Duration, ok bool) {
	if l == nil || l.addrOff || !l.countLoopback && isLoopback(ip) {
		return 0, true
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.addrs.peek(AddressKey(ip))
	if b == nil {
		return 0, true
	}
	tokens := b.level(now, l.addrRate, l.addrCap)
	if tokens >= 1 {
		return 0, true
	}
	return wait(tokens, l.addrRate), false
}

// Failed records a failed attempt from ip to tenant ("" when the attempt
// concerns no tenant's budget, and a name that is no valid tenant name,
// ValidTenant, is not counted either: only the address is). limited tells
// the caller to answer 429, with Retry-After retryAfter, rather than the
// refusal it had: the attempt failed while its address's budget or its
// tenant's was used up; that budget stays empty. A nil limiter records
// nothing.
func (l *FailureLimiter) Failed(ip, tenant string) (retryAfter time.Duration, limited bool) {
	if l == nil {
		return 0, false
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.addrOff && (l.countLoopback || !isLoopback(ip)) {
		a := l.addrs.get(AddressKey(ip), now, l.addrCap)
		if a.spend(now, l.addrRate, l.addrCap) {
			retryAfter, limited = wait(0, l.addrRate), true
		}
	}
	if tenant == "" || l.tenantOff || !ValidTenant(tenant) {
		return retryAfter, limited
	}
	// A copy: tenant is often a slice of the request's path.
	t := l.tenants.get(strings.Clone(tenant), now, l.tenantCap)
	if t.spend(now, l.tenantRate, l.tenantCap) {
		retryAfter, limited = max(retryAfter, wait(0, l.tenantRate)), true
	}
	return retryAfter, limited
}

// Keys returns how many addresses and tenants l remembers (for tests
// and metrics); a nil limiter remembers none.
func (l *FailureLimiter) Keys() (addresses, tenants int) {
	if l == nil {
		return 0, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.addrs.m), len(l.tenants.m)
}

// maxOtherKey bounds the key of an address that is no IP.
const maxOtherKey = 64

// AddressKey returns the key an address is counted under: the IP of a
// "host:port" or bare IP, IPv4-mapped IPv6 as IPv4, other IPv6 as its
// /64 prefix; a string that is no IP is its own key.
func AddressKey(s string) string {
	host := s
	if h, _, err := net.SplitHostPort(s); err == nil {
		host = h
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		// Not from net/http, whose RemoteAddr is always an IP and port;
		// bounded and copied all the same.
		return strings.Clone(host[:min(len(host), maxOtherKey)])
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// isLoopback reports whether the address s ("host:port" or an IP) is a
// loopback address.
func isLoopback(s string) bool {
	host := s
	if h, _, err := net.SplitHostPort(s); err == nil {
		host = h
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// MaxRetryAfter caps the Retry-After a limiter sends: a day, whatever
// tiny rate it was given.
const MaxRetryAfter = 24 * time.Hour

// RetryAfterSeconds renders d as the value of a Retry-After header:
// whole seconds, rounded up, at least 1 and at most MaxRetryAfter.
func RetryAfterSeconds(d time.Duration) int {
	d = min(d, MaxRetryAfter)
	s := int(math.Ceil(d.Seconds()))
	return max(s, 1)
}

// wait is how long a bucket at tokens takes to reach one token, at most
// MaxRetryAfter (a rate so low that the wait would not fit a
// time.Duration must not wrap around to a short one).
func wait(tokens, rate float64) time.Duration {
	secs := (1 - tokens) / rate
	if !(secs < MaxRetryAfter.Seconds()) {
		return MaxRetryAfter
	}
	return time.Duration(secs * float64(time.Second))
}

// bucket is a token bucket: tokens at time at.
type bucket struct {
	tokens float64
	at     time.Time
	elem   *list.Element
}

// level is the bucket's tokens at now, refilled at rate up to cap.
func (b *bucket) level(now time.Time, rate, cap float64) float64 {
	d := now.Sub(b.at).Seconds()
	if d <= 0 {
		return b.tokens
	}
	return min(cap, b.tokens+d*rate)
}

// spend takes one token for a failure, and reports whether there was
// none: the bucket was over budget, and stays empty (the failure earns
// nothing back).
func (b *bucket) spend(now time.Time, rate, cap float64) (over bool) {
	left := b.level(now, rate, cap) - 1
	b.tokens, b.at = max(left, 0), now
	return left < 0
}

// buckets is a map of buckets with least-recently-used eviction.
type buckets[K comparable] struct {
	max   int
	m     map[K]*bucket
	order *list.List // of keys, most recently used first
}

func newBuckets[K comparable](max int) *buckets[K] {
	return &buckets[K]{max: max, m: map[K]*bucket{}, order: list.New()}
}

// peek returns the bucket of key, or nil, without touching its order.
func (bs *buckets[K]) peek(key K) *bucket { return bs.m[key] }

// get returns the bucket of key, creating it full, and marks it the most
// recently used; at the cap it forgets the least recently used one.
func (bs *buckets[K]) get(key K, now time.Time, cap float64) *bucket {
	if b, ok := bs.m[key]; ok {
		bs.order.MoveToFront(b.elem)
		return b
	}
	if len(bs.m) >= bs.max {
		oldest := bs.order.Back()
		bs.order.Remove(oldest)
		delete(bs.m, oldest.Value.(K))
	}
	b := &bucket{tokens: cap, at: now}
	b.elem = bs.order.PushFront(key)
	bs.m[key] = b
	return b
}
