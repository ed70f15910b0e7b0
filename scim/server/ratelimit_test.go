package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/httpx"
)

// limitedFixture is a fixture whose server has a FailureLimiter on a
// settable clock, and a handler to send requests from any address.
type limitedFixture struct {
	*fixture
	h   http.Handler
	now *time.Time
}

func newLimitedFixture(t *testing.T) *limitedFixture {
	t.Helper()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return now }
	f := newFixtureWith(t, Config{Limiter: httpx.NewFailureLimiter(httpx.FailureLimiterConfig{Now: clock})})
	mux := http.NewServeMux()
	f.server.Register(mux)
	return &limitedFixture{fixture: f, h: mux, now: &now}
}

// limitReply is what the tests compare of a response.
type limitReply struct {
	Status     int
	RetryAfter string
	Error      map[string]any // status and detail of a SCIM error body
}

// get sends GET /Users to tenant from address ip with token.
func (f *limitedFixture) get(t *testing.T, ip, tenant, token string) limitReply {
	t.Helper()
	req := httptest.NewRequest("GET", "/t/"+tenant+"/scim/v2/Users", nil)
	req.RemoteAddr = ip
	req.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, req)
	r := limitReply{Status: w.Code, RetryAfter: w.Header().Get("Retry-After")}
	if w.Code == http.StatusTooManyRequests {
		var body map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("429 body is not JSON: %v\n%s", err, w.Body)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/scim+json; charset=utf-8" {
			t.Errorf("429 Content-Type %q", ct)
		}
		r.Error = map[string]any{"schemas": body["schemas"], "status": body["status"], "detail": body["detail"]}
	}
	return r
}

func tooMany(secs int) limitReply {
	return limitReply{Status: 429, RetryAfter: fmt.Sprint(secs), Error: map[string]any{
		"schemas": []any{"urn:ietf:params:scim:api:messages:2.0:Error"},
		"status":  "429",
		"detail":  fmt.Sprintf("too many failed authentication attempts; wait %d %s before trying again", secs, map[bool]string{true: "second", false: "seconds"}[secs == 1]),
	}}
}

func TestRateLimitAddress(t *testing.T) {
	f := newLimitedFixture(t)
	for i := range httpx.DefaultAddressFailures {
		if got := f.get(t, "192.0.2.1:5000", "acme", "wrong"); got.Status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %+v, want 401", i+1, got)
		}
	}
	tests := []struct {
		name    string
		advance time.Duration
		ip      string
		tenant  string
		token   string
		want    limitReply
	}{
		{"21st failure is 429", 0, "192.0.2.1:5001", "acme", "wrong", tooMany(3)},
		// The token is checked even from an address over its budget: Okta
		// shares its egress addresses with every other Okta org.
		{"the right token from that address passes", 0, "192.0.2.1:5002", "acme", f.acmeToken, limitReply{Status: 200}},
		{"and spends nothing", 0, "192.0.2.1:5002", "acme", f.acmeToken, limitReply{Status: 200}},
		{"Okta from another address with the right token", 0, "198.51.100.7:443", "acme", f.acmeToken, limitReply{Status: 200}},
		{"another address with a wrong token is 401", 0, "198.51.100.8:443", "acme", "wrong", limitReply{Status: 401}},
		{"the right token to another tenant from that address passes", 0, "192.0.2.1:5003", "beta", f.betaToken, limitReply{Status: 200}},
		{"a wrong one is 429 on every tenant", 0, "192.0.2.1:5003", "beta", "wrong", tooMany(3)},
		{"an unknown tenant too", 0, "192.0.2.1:5003", "nobody", "wrong", tooMany(3)},
		{"no token at all too", 0, "192.0.2.1:5003", "acme", "", tooMany(3)},
		{"failures keep the address empty: still 429 after 2s", 2 * time.Second, "192.0.2.1:5004", "acme", "wrong", tooMany(3)},
		{"after three quiet seconds one failure is 401 again", 3 * time.Second, "192.0.2.1:5004", "acme", "wrong", limitReply{Status: 401}},
		{"and the next is 429", 0, "192.0.2.1:5004", "acme", "wrong", tooMany(3)},
		{"a minute restores the address", time.Minute, "192.0.2.1:5005", "acme", "wrong", limitReply{Status: 401}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			*f.now = f.now.Add(tt.advance)
			if diff := cmp.Diff(tt.want, f.get(t, tt.ip, tt.tenant, tt.token)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRateLimitTenant(t *testing.T) {
	f := newLimitedFixture(t)
	ip := func(i int) string { return fmt.Sprintf("203.0.%d.%d:1234", i/256, i%256) }
	counts := map[int]int{}
	for i := range 200 {
		counts[f.get(t, ip(i), "acme", "wrong").Status]++
	}
	if diff := cmp.Diff(map[int]int{401: httpx.DefaultTenantFailures, 429: 200 - httpx.DefaultTenantFailures}, counts); diff != "" {
		t.Errorf("statuses of failures from 200 addresses (-want +got):\n%s", diff)
	}
	tests := []struct {
		name    string
		advance time.Duration
		ip      string
		tenant  string
		token   string
		want    limitReply
	}{
		{"a failure from a new address is 429", 0, ip(300), "acme", "wrong", tooMany(1)},
		{"the right token is 200", 0, ip(301), "acme", f.acmeToken, limitReply{Status: 200}},
		{"the right token from an attacking address is 200", 0, ip(5), "acme", f.acmeToken, limitReply{Status: 200}},
		{"another tenant's failures are 401", 0, ip(302), "beta", "wrong", limitReply{Status: 401}},
		{"an unknown tenant spends no tenant budget", 0, ip(303), "nobody", "wrong", limitReply{Status: 401}},
		{"a minute restores the tenant", time.Minute, ip(304), "acme", "wrong", limitReply{Status: 401}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			*f.now = f.now.Add(tt.advance)
			if diff := cmp.Diff(tt.want, f.get(t, tt.ip, tt.tenant, tt.token)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRateLimitOffByDefault(t *testing.T) {
	f := newFixture(t)
	mux := http.NewServeMux()
	f.server.Register(mux)
	for i := range 50 {
		req := httptest.NewRequest("GET", "/t/acme/scim/v2/Users", nil)
		req.RemoteAddr = "192.0.2.1:1"
		req.Header.Set("Authorization", "Bearer wrong")
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		if w.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d without a limiter: %d, want 401", i+1, w.Code)
		}
	}
}
