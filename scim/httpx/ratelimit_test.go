package httpx

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeClock is a settable clock.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newTestLimiter(cfg FailureLimiterConfig) (*FailureLimiter, *fakeClock) {
	c := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	cfg.Now = c.now
	return NewFailureLimiter(cfg), c
}

// outcome is what one failed attempt got from Failed: limited (answered
// 429 with Retry-After) or not.
type outcome struct {
	Limited bool
	Retry   int // Retry-After seconds, 0 when not limited
}

var ok = outcome{}

func limited(secs int) outcome { return outcome{Limited: true, Retry: secs} }

// attempt records one failed attempt, as a request with a wrong
// credential does once its credential was checked.
func attempt(l *FailureLimiter, ip, tenant string) outcome {
	retry, lim := l.Failed(ip, tenant)
	if !lim {
		return ok
	}
	return limited(RetryAfterSeconds(retry))
}

func TestFailureLimiterAddress(t *testing.T) {
	l, clock := newTestLimiter(FailureLimiterConfig{})
	for i := range DefaultAddressFailures {
		if got := attempt(l, "192.0.2.1:4000", "acme"); got != ok {
			t.Fatalf("failure %d: %+v, want not limited", i+1, got)
		}
	}
	tests := []struct {
		name    string
		advance time.Duration
		ip      string
		want    outcome
	}{
		{"21st failure limited", 0, "192.0.2.1:4001", limited(3)},
		{"same address, other port", 0, "192.0.2.1", limited(3)},
		{"same address as IPv4-mapped IPv6", 0, "[::ffff:192.0.2.1]:80", limited(3)},
		{"another address is not limited", 0, "192.0.2.2:4000", ok},
		// A failure while over budget keeps the bucket empty: 2s earned
		// two thirds of an attempt, which this failure throws away.
		{"still limited after 2s, and empty again", 2 * time.Second, "192.0.2.1:1", limited(3)},
		{"not yet back 2s later", 2 * time.Second, "192.0.2.1:1", limited(3)},
		{"one attempt back after 3s of quiet", 3 * time.Second, "192.0.2.1:1", ok},
		{"and it is spent", 0, "192.0.2.1:1", limited(3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock.advance(tt.advance)
			if diff := cmp.Diff(tt.want, attempt(l, tt.ip, "acme")); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("a minute restores the whole budget", func(t *testing.T) {
		clock.advance(time.Minute)
		for i := range DefaultAddressFailures {
			if got := attempt(l, "192.0.2.1:1", "acme"); got != ok {
				t.Fatalf("failure %d after a minute: %+v, want not limited", i+1, got)
			}
		}
	})
}

func TestFailureLimiterTenant(t *testing.T) {
	l, clock := newTestLimiter(FailureLimiterConfig{})
	ip := func(i int) string { return fmt.Sprintf("198.51.%d.%d:443", i/256, i%256) }
	var got []outcome
	for i := range 200 {
		got = append(got, attempt(l, ip(i), "acme"))
	}
	var want []outcome
	for i := range 200 {
		o := ok
		if i >= DefaultTenantFailures {
			o = limited(1)
		}
		want = append(want, o)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("failures from 200 addresses (-want +got):\n%s", diff)
	}
	tests := []struct {
		name    string
		advance time.Duration
		ip      string
		tenant  string
		want    outcome
	}{
		{"a fresh address is limited on this tenant", 0, "203.0.113.9:1", "acme", limited(1)},
		{"another tenant is not limited", 0, "203.0.113.10:1", "beta", ok},
		{"no tenant counts only the address", 0, "203.0.113.11:1", "", ok},
		{"a name that is no tenant name counts only the address", 0, "203.0.113.11:2", "Acme_" + strings.Repeat("x", 100), ok},
		{"a second refills one failure", time.Second, "203.0.113.12:1", "acme", ok},
		{"which is then spent", 0, "203.0.113.13:1", "acme", limited(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock.advance(tt.advance)
			if diff := cmp.Diff(tt.want, attempt(l, tt.ip, tt.tenant)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("invalid names are not remembered", func(t *testing.T) {
		if _, tenants := l.Keys(); tenants != 2 {
			t.Errorf("%d tenants remembered, want 2 (acme, beta)", tenants)
		}
	})
	t.Run("a minute restores the tenant", func(t *testing.T) {
		clock.advance(time.Minute)
		if got := attempt(l, "203.0.113.14:1", "acme"); got != ok {
			t.Errorf("got %+v, want not limited", got)
		}
	})
}

// TestFailureLimiterAllow: Allow tells whether an address has budget
// left; it is not what a credential check consults (Failed is).
func TestFailureLimiterAllow(t *testing.T) {
	l, clock := newTestLimiter(FailureLimiterConfig{})
	for range DefaultAddressFailures {
		attempt(l, "192.0.2.1:1", "acme")
	}
	type answer struct {
		OK    bool
		Retry int
	}
	allow := func(ip string) answer {
		retry, ok := l.Allow(ip, "acme")
		if ok {
			return answer{OK: true}
		}
		return answer{Retry: RetryAfterSeconds(retry)}
	}
	tests := []struct {
		name    string
		advance time.Duration
		ip      string
		want    answer
	}{
		{"spent address", 0, "192.0.2.1:2", answer{Retry: 3}},
		{"other address", 0, "192.0.2.2:2", answer{OK: true}},
		{"loopback", 0, "127.0.0.1:2", answer{OK: true}},
		{"spent address 3s later", 3 * time.Second, "192.0.2.1:2", answer{OK: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock.advance(tt.advance)
			if diff := cmp.Diff(tt.want, allow(tt.ip)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFailureLimiterMemoryCap(t *testing.T) {
	l, _ := newTestLimiter(FailureLimiterConfig{AddressFailures: 1, MaxKeys: 100})
	if got := attempt(l, "192.0.2.1", "t0"); got != ok {
		t.Fatalf("first failure: %+v", got)
	}
	if got := attempt(l, "192.0.2.1", "t0"); got == ok {
		t.Fatalf("second failure not limited: %+v", got)
	}
	for i := range 1000 {
		attempt(l, fmt.Sprintf("10.0.%d.%d", i/256, i%256), fmt.Sprintf("t%d", i))
	}
	a, tn := l.Keys()
	if diff := cmp.Diff([2]int{100, 100}, [2]int{a, tn}); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	// The oldest key was forgotten: the address starts with a full budget.
	if got := attempt(l, "192.0.2.1", "t0"); got != ok {
		t.Errorf("evicted address still limited: %+v", got)
	}
}

func TestAddressKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"192.0.2.1:80", "192.0.2.1"},
		{"192.0.2.1", "192.0.2.1"},
		{"[::ffff:192.0.2.1]:0", "192.0.2.1"},
		{"[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::9", "2001:db8:1:2::/64"},
		{"[fe80::1%eth0]:1", "fe80::/64"},
		{"not-an-ip", "not-an-ip"},
		{strings.Repeat("x", 1000), strings.Repeat("x", 64)},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, AddressKey(tt.in)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want int
	}{{0, 1}, {time.Millisecond, 1}, {time.Second, 1}, {1001 * time.Millisecond, 2}, {3 * time.Second, 3}, {-time.Second, 1},
		{25 * time.Hour, 86400}, {time.Duration(math.MaxInt64), 86400}}
	for _, tt := range tests {
		t.Run(tt.in.String(), func(t *testing.T) {
			if diff := cmp.Diff(tt.want, RetryAfterSeconds(tt.in)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestWait: the wait for a token at a rate so low that it overflows a
// time.Duration is capped, not wrapped around to a short one.
func TestWait(t *testing.T) {
	tests := []struct {
		name         string
		tokens, rate float64
		want         time.Duration
	}{
		{"half a token at 1/s", 0.5, 1, 500 * time.Millisecond},
		{"empty at 2/s", 0, 2, 500 * time.Millisecond},
		{"empty at 1e-9/s", 0, 1e-9, MaxRetryAfter},
		{"empty at 1e-300/s", 0, 1e-300, MaxRetryAfter},
		{"far below zero", -1e300, 1, MaxRetryAfter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, wait(tt.tokens, tt.rate)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFailureLimiterNil(t *testing.T) {
	var l *FailureLimiter
	if diff := cmp.Diff(ok, attempt(l, "192.0.2.1", "acme")); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if _, allowed := l.Allow("192.0.2.1", "acme"); !allowed {
		t.Error("a nil limiter refused")
	}
}

func TestFailureLimiterLoopback(t *testing.T) {
	tests := []struct {
		name          string
		countLoopback bool
		ip            string
		want          outcome
	}{
		{"IPv4 loopback not counted", false, "127.0.0.1:5000", ok},
		{"IPv6 loopback not counted", false, "[::1]:5000", ok},
		{"other addresses counted", false, "192.0.2.1:5000", limited(3)},
		{"loopback counted with CountLoopback", true, "127.0.0.1:5000", limited(3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, _ := newTestLimiter(FailureLimiterConfig{CountLoopback: tt.countLoopback, TenantFailures: 1000})
			for range DefaultAddressFailures {
				attempt(l, tt.ip, "acme")
			}
			if diff := cmp.Diff(tt.want, attempt(l, tt.ip, "acme")); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("loopback failures spend the tenant budget", func(t *testing.T) {
		l, _ := newTestLimiter(FailureLimiterConfig{TenantFailures: 2})
		got := []outcome{attempt(l, "127.0.0.1:1", "acme"), attempt(l, "127.0.0.1:1", "acme"), attempt(l, "127.0.0.1:1", "acme")}
		want := []outcome{ok, ok, limited(30)}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestFailureLimiterConfigured: budgets and window other than the
// defaults, and NoLimit turning one budget off, as serve's
// --auth-failures-per-address, --auth-failures-per-tenant and
// --auth-failure-window set them.
func TestFailureLimiterConfigured(t *testing.T) {
	ip := func(i int) string { return fmt.Sprintf("198.51.100.%d:443", i) }
	tests := []struct {
		name string
		cfg  FailureLimiterConfig
		// The outcomes of 6 failures from one address, then of 6 from six
		// other addresses, all on one tenant.
		want []outcome
	}{
		// Every failure spends both budgets: the 6th from the one address
		// is over both (Retry-After the longer wait).
		{"3 per address, 5 per tenant, per 30s", FailureLimiterConfig{AddressFailures: 3, TenantFailures: 5, Window: 30 * time.Second}, []outcome{
			ok, ok, ok, limited(10), limited(10), limited(10),
			limited(6), limited(6), limited(6), limited(6), limited(6), limited(6),
		}},
		{"no address limit", FailureLimiterConfig{AddressFailures: NoLimit, TenantFailures: 5}, []outcome{
			ok, ok, ok, ok, ok, limited(12),
			limited(12), limited(12), limited(12), limited(12), limited(12), limited(12),
		}},
		{"no tenant limit", FailureLimiterConfig{AddressFailures: 3, TenantFailures: NoLimit}, []outcome{
			ok, ok, ok, limited(20), limited(20), limited(20),
			ok, ok, ok, ok, ok, ok,
		}},
		{"neither", FailureLimiterConfig{AddressFailures: -5, TenantFailures: NoLimit}, []outcome{
			ok, ok, ok, ok, ok, ok,
			ok, ok, ok, ok, ok, ok,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, _ := newTestLimiter(tt.cfg)
			var got []outcome
			for range 6 {
				got = append(got, attempt(l, ip(0), "acme"))
			}
			for i := range 6 {
				got = append(got, attempt(l, ip(i+1), "acme"))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
