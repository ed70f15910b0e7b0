package login

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/httpx"
)

// newLimitedEnv is an env whose handlers share a FailureLimiter on the
// env's clock.
func newLimitedEnv(t *testing.T) *env {
	t.Helper()
	var e *env
	// The test server is on loopback, which is not counted by default.
	lim := httpx.NewFailureLimiter(httpx.FailureLimiterConfig{CountLoopback: true, Now: func() time.Time { return e.now }})
	e = newEnv(t, func(c *Config) { c.Limiter = lim })
	return e
}

// limited is what the tests compare of a page.
type limited struct {
	Status     int
	RetryAfter string
	Readable   bool // an HTML page saying to wait
}

func limitedOf(r result) limited {
	return limited{
		Status:     r.status,
		RetryAfter: r.header.Get("Retry-After"),
		Readable:   strings.HasPrefix(r.header.Get("Content-Type"), "text/html") && strings.Contains(r.body, "Too many attempts") && strings.Contains(r.body, "wait"),
	}
}

func TestRateLimitAdminLink(t *testing.T) {
	e := newLimitedEnv(t)
	guess := func(i int) string { return e.app.URL + fmt.Sprintf("/t/acme/admin/login?token=guess%d", i) }
	for i := range httpx.DefaultAddressFailures {
		if r := newBrowser(t).get(guess(i)); r.status != http.StatusForbidden {
			t.Fatalf("guess %d = %d, want 403", i+1, r.status)
		}
	}
	tests := []struct {
		name    string
		advance time.Duration
		url     string
		want    limited
	}{
		{"21st guess is a 429 page", 0, guess(100), limited{Status: 429, RetryAfter: "3", Readable: true}},
		// The link is checked even from an address over its budget, which
		// may be a NAT or proxy that the admin shares with the guesser.
		{"the real link from that address works", 0, e.created.AdminURL, limited{Status: 200}},
		{"a guess 2s later is still 429 (failures keep the budget empty)", 2 * time.Second, guess(101), limited{Status: 429, RetryAfter: "3", Readable: true}},
		{"three quiet seconds later a guess is refused as usual", 3 * time.Second, guess(102), limited{Status: 403}},
		{"and the budget is spent again", 0, guess(103), limited{Status: 429, RetryAfter: "3", Readable: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.now = e.now.Add(tt.advance)
			if diff := cmp.Diff(tt.want, limitedOf(newBrowser(t).get(tt.url))); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRateLimitCallback(t *testing.T) {
	e := newLimitedEnv(t)
	forged := func(i int) string { return e.app.URL + fmt.Sprintf("/t/acme/oidc/callback?code=c&state=forged%d", i) }
	for i := range httpx.DefaultAddressFailures {
		if r := newBrowser(t).get(forged(i)); r.status != http.StatusBadRequest {
			t.Fatalf("forged callback %d = %d, want 400", i+1, r.status)
		}
	}
	tests := []struct {
		name    string
		advance time.Duration
		url     string
		want    limited
	}{
		{"21st forged callback is a 429 page", 0, forged(100), limited{Status: 429, RetryAfter: "3", Readable: true}},
		{"a callback without state too", 0, e.app.URL + "/t/acme/oidc/callback?code=c", limited{Status: 429, RetryAfter: "3", Readable: true}},
		{"a minute later it is refused as usual", time.Minute, forged(101), limited{Status: 400}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.now = e.now.Add(tt.advance)
			if diff := cmp.Diff(tt.want, limitedOf(newBrowser(t).get(tt.url))); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
	// The state is checked even from an address over its budget: a user
	// behind the forger's NAT still signs in.
	t.Run("a real sign-in from an address over its budget completes", func(t *testing.T) {
		for i := range httpx.DefaultAddressFailures + 1 {
			newBrowser(t).get(forged(200 + i))
		}
		if got := limitedOf(newBrowser(t).get(forged(300))); got.Status != 429 {
			t.Fatalf("the address is not over its budget: %+v", got)
		}
		e.addUser("u1", "alice@example.com", "00ualice", true)
		e.op.setUser(opUser{sub: "00ualice", login: "alice@example.com", email: "alice@example.com"})
		b := newBrowser(t)
		if r := b.get(e.startLogin(b)); r.status != http.StatusSeeOther {
			t.Errorf("callback = %d, want 303 to the signed-in page\n%s", r.status, r.body[strings.Index(r.body, "<body"):])
		}
	})
}
