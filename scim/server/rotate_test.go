package server

import (
	"context"
	"encoding/hex"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/activity"
	"github.com/idpkit/idpkit/scim/secret"
	"github.com/idpkit/idpkit/scim/tenant"
)

// rotateClock is a settable clock shared by the server and the tenant
// service of a rotation test.
type rotateClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *rotateClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *rotateClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestRotateTokenGrace: during a rotation's grace period both the new and
// the old token authenticate; at its end (by the injected clock) and after
// a revoke only the new one does; a second rotation during a grace period
// ends the first old token. Only requests with the current token mark the
// tenant connected.
func TestRotateTokenGrace(t *testing.T) {
	type step struct {
		rotate func(s *tenant.Service) (string, error) // nil: no rotation in this step
		wait   time.Duration                           // the clock moves by this before the requests
		want   map[string]int                          // token name ("created", "first", "second") → status of GET /Users
	}
	grace := func(d time.Duration) func(s *tenant.Service) (string, error) {
		return func(s *tenant.Service) (string, error) { return s.RotateTokenGrace(context.Background(), "acme", d) }
	}
	revoke := func(s *tenant.Service) (string, error) { return s.RotateToken(context.Background(), "acme") }
	const ok, no = http.StatusOK, http.StatusUnauthorized
	tests := []struct {
		name  string
		steps []step
	}{
		{"old token works during grace, fails after", []step{
			{grace(10 * time.Minute), 0, map[string]int{"created": ok, "first": ok}},
			{nil, 10*time.Minute - time.Microsecond, map[string]int{"created": ok, "first": ok}},
			{nil, time.Microsecond, map[string]int{"created": no, "first": ok}},
		}},
		{"revoke ends it at once", []step{
			{revoke, 0, map[string]int{"created": no, "first": ok}},
		}},
		{"zero grace ends it at once", []step{
			{grace(0), 0, map[string]int{"created": no, "first": ok}},
		}},
		{"revoke during grace ends it", []step{
			{grace(10 * time.Minute), time.Minute, map[string]int{"created": ok, "first": ok}},
			{revoke, 0, map[string]int{"created": no, "first": no, "second": ok}},
		}},
		{"second rotation ends the first old token", []step{
			{grace(10 * time.Minute), time.Minute, map[string]int{"created": ok, "first": ok}},
			{grace(10 * time.Minute), 0, map[string]int{"created": no, "first": ok, "second": ok}},
			{nil, 10 * time.Minute, map[string]int{"created": no, "first": no, "second": ok}},
		}},
		{"another tenant's old token never works", []step{
			{grace(10 * time.Minute), 0, map[string]int{"beta": no}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := &rotateClock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
			f := newFixtureWith(t, Config{Now: clock.Now})
			svc := &tenant.Service{Store: f.store, Now: clock.Now}
			tokens := map[string]string{"created": f.acmeToken}
			names := []string{"first", "second"}
			rotations := 0
			for i, st := range tc.steps {
				if st.rotate != nil {
					tok, err := st.rotate(svc)
					if err != nil {
						t.Fatalf("step %d: rotate: %v", i, err)
					}
					tokens[names[rotations]] = tok
					rotations++
				}
				clock.Add(st.wait)
				got := map[string]int{}
				for name := range st.want {
					tenantName, tok := "acme", tokens[name]
					if name == "beta" { // acme's old token sent to beta
						tenantName, tok = "beta", f.acmeToken
					}
					got[name] = f.callTenant(t, tenantName, tok, "GET", "/Users", "", nil).status
				}
				if diff := cmp.Diff(st.want, got); diff != "" {
					t.Errorf("step %d: statuses (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

// TestRotateGraceConnectedMark: a request with the previous token during
// the grace period does not mark the tenant connected (the mark means
// "Okta uses the current secret"); the first request with the new token
// does.
func TestRotateGraceConnectedMark(t *testing.T) {
	clock := &rotateClock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	f := newFixtureWith(t, Config{Now: clock.Now, Activity: activity.New(0)})
	svc := &tenant.Service{Store: f.store, Now: clock.Now}
	tok, err := svc.RotateTokenGrace(context.Background(), "acme", 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.callTenant(t, "acme", f.acmeToken, "GET", "/Users", "", nil).status; got != http.StatusOK {
		t.Fatalf("old token during grace: %d, want 200", got)
	}
	if c := connected(t, f.store, "acme"); c != nil {
		t.Fatalf("a request with the previous token marked the tenant connected: %+v", c)
	}
	if got := f.callTenant(t, "acme", tok, "GET", "/Users", "", nil).status; got != http.StatusOK {
		t.Fatalf("new token: %d, want 200", got)
	}
	c := connected(t, f.store, "acme")
	if c == nil || c.TokenHash != hex.EncodeToString(secret.Hash(tok)) {
		t.Errorf("mark %+v, want the new secret's", c)
	}
	// The old token's later requests leave the new secret's mark alone.
	f.callTenant(t, "acme", f.acmeToken, "GET", "/Groups", "", nil)
	if diff := cmp.Diff(c, connected(t, f.store, "acme")); diff != "" {
		t.Errorf("the previous token's request changed the mark (-want +got):\n%s", diff)
	}
}
