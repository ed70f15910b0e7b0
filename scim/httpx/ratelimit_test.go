package httpx

import (
	"fmt"
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

// outcome is what one attempt got: refused by Allow, or failed and
// limited by Failed.
type outcome struct {
	Allowed bool
	Limited bool
	Retry   int // Retry-After seconds, 0 when neither refused nor limited
}

// attempt runs Allow, then (when allowed) Failed, as a failing request does.
func attempt(l *FailureLimiter, ip, tenant string) outcome {
	retry, ok := l.Allow(ip, tenant)
	if !ok {
		return outcome{Retry: RetryAfterSeconds(retry)}
	}
	retry, limited := l.Failed(ip, tenant)
	o := outcome{Allowed: true, Limited: limited}
	if limited {
		o.Retry = RetryAfterSeconds(retry)
	}
	return o
}

func TestFailureLimiterAddress(t *testing.T) {
	l, clock := newTestLimiter(FailureLimiterConfig{})
	for i := range DefaultAddressFailures {
		if got := attempt(l, "192.0.2.1:4000", "acme"); got != (outcome{Allowed: true}) {
			t.Fatalf("failure %d: %+v, want allowed", i+1, got)
		}
	}
	tests := []struct {
		name    string
		advance time.Duration
		ip      string
		want    outcome
	}{
		{"21st failure refused", 0, "192.0.2.1:4001", outcome{Retry: 3}},
		{"same address, other port", 0, "192.0.2.1", outcome{Retry: 3}},
		{"same address as IPv4-mapped IPv6", 0, "[::ffff:192.0.2.1]:80", outcome{Retry: 3}},
		{"another address is not refused", 0, "192.0.2.2:4000", outcome{Allowed: true}},
		{"still refused after 2s", 2 * time.Second, "192.0.2.1:1", outcome{Retry: 1}},
		{"one attempt back after 3s", time.Second, "192.0.2.1:1", outcome{Allowed: true}},
		{"and it is spent", 0, "192.0.2.1:1", outcome{Retry: 3}},
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
			if got := attempt(l, "192.0.2.1:1", "acme"); !got.Allowed {
				t.Fatalf("failure %d after a minute: %+v, want allowed", i+1, got)
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
		o := outcome{Allowed: true}
		if i >= DefaultTenantFailures {
			o = outcome{Allowed: true, Limited: true, Retry: 1}
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
		// Allow never refuses for the tenant: a right token passes.
		{"a fresh address is allowed to try", 0, "203.0.113.9:1", "acme", outcome{Allowed: true, Limited: true, Retry: 1}},
		{"another tenant is not limited", 0, "203.0.113.10:1", "beta", outcome{Allowed: true}},
		{"no tenant counts only the address", 0, "203.0.113.11:1", "", outcome{Allowed: true}},
		{"a second refills one failure", time.Second, "203.0.113.12:1", "acme", outcome{Allowed: true}},
		{"which is then spent", 0, "203.0.113.13:1", "acme", outcome{Allowed: true, Limited: true, Retry: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock.advance(tt.advance)
			if diff := cmp.Diff(tt.want, attempt(l, tt.ip, tt.tenant)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("a minute restores the tenant", func(t *testing.T) {
		clock.advance(time.Minute)
		if got := attempt(l, "203.0.113.14:1", "acme"); got != (outcome{Allowed: true}) {
			t.Errorf("got %+v, want allowed and not limited", got)
		}
	})
}

func TestFailureLimiterMemoryCap(t *testing.T) {
	l, _ := newTestLimiter(FailureLimiterConfig{AddressFailures: 1, MaxKeys: 100})
	if got := attempt(l, "192.0.2.1", "t0"); !got.Allowed {
		t.Fatalf("first failure: %+v", got)
	}
	if got := attempt(l, "192.0.2.1", "t0"); got.Allowed {
		t.Fatalf("second failure allowed: %+v", got)
	}
	for i := range 1000 {
		attempt(l, fmt.Sprintf("10.0.%d.%d", i/256, i%256), fmt.Sprintf("t%d", i))
	}
	a, tn := l.Keys()
	if diff := cmp.Diff([2]int{100, 100}, [2]int{a, tn}); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	// The oldest key was forgotten: the address starts with a full budget.
	if got := attempt(l, "192.0.2.1", "t0"); !got.Allowed {
		t.Errorf("evicted address still refused: %+v", got)
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
	}{{0, 1}, {time.Millisecond, 1}, {time.Second, 1}, {1001 * time.Millisecond, 2}, {3 * time.Second, 3}, {-time.Second, 1}}
	for _, tt := range tests {
		t.Run(tt.in.String(), func(t *testing.T) {
			if diff := cmp.Diff(tt.want, RetryAfterSeconds(tt.in)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFailureLimiterNil(t *testing.T) {
	var l *FailureLimiter
	if diff := cmp.Diff(outcome{Allowed: true}, attempt(l, "192.0.2.1", "acme")); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestFailureLimiterLoopback(t *testing.T) {
	tests := []struct {
		name          string
		countLoopback bool
		ip            string
		want          outcome
	}{
		{"IPv4 loopback not counted", false, "127.0.0.1:5000", outcome{Allowed: true}},
		{"IPv6 loopback not counted", false, "[::1]:5000", outcome{Allowed: true}},
		{"other addresses counted", false, "192.0.2.1:5000", outcome{Retry: 3}},
		{"loopback counted with CountLoopback", true, "127.0.0.1:5000", outcome{Retry: 3}},
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
		want := []outcome{{Allowed: true}, {Allowed: true}, {Allowed: true, Limited: true, Retry: 30}}
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
		{"3 per address, 5 per tenant, per 30s", FailureLimiterConfig{AddressFailures: 3, TenantFailures: 5, Window: 30 * time.Second}, []outcome{
			{Allowed: true}, {Allowed: true}, {Allowed: true}, {Retry: 10}, {Retry: 10}, {Retry: 10},
			{Allowed: true}, {Allowed: true}, {Allowed: true, Limited: true, Retry: 6}, {Allowed: true, Limited: true, Retry: 6}, {Allowed: true, Limited: true, Retry: 6}, {Allowed: true, Limited: true, Retry: 6},
		}},
		{"no address limit", FailureLimiterConfig{AddressFailures: NoLimit, TenantFailures: 5}, []outcome{
			{Allowed: true}, {Allowed: true}, {Allowed: true}, {Allowed: true}, {Allowed: true}, {Allowed: true, Limited: true, Retry: 12},
			{Allowed: true, Limited: true, Retry: 12}, {Allowed: true, Limited: true, Retry: 12}, {Allowed: true, Limited: true, Retry: 12}, {Allowed: true, Limited: true, Retry: 12}, {Allowed: true, Limited: true, Retry: 12}, {Allowed: true, Limited: true, Retry: 12},
		}},
		{"no tenant limit", FailureLimiterConfig{AddressFailures: 3, TenantFailures: NoLimit}, []outcome{
			{Allowed: true}, {Allowed: true}, {Allowed: true}, {Retry: 20}, {Retry: 20}, {Retry: 20},
			{Allowed: true}, {Allowed: true}, {Allowed: true}, {Allowed: true}, {Allowed: true}, {Allowed: true},
		}},
		{"neither", FailureLimiterConfig{AddressFailures: -5, TenantFailures: NoLimit}, []outcome{
			{Allowed: true}, {Allowed: true}, {Allowed: true}, {Allowed: true}, {Allowed: true}, {Allowed: true},
			{Allowed: true}, {Allowed: true}, {Allowed: true}, {Allowed: true}, {Allowed: true}, {Allowed: true},
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
