package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/store"
)

// Clock is a settable clock for RunWithClock. Its zero value reads the
// zero time; it is safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// RunWithClock runs the tests that need the store's clock: Created and
// Modified default to it, an update that zeroes Modified gets it, and a
// token is live while Expires is after it and gone from the instant it is
// not, and deleting a user sets the Modified of the groups that listed it
// to the clock's time. newStore must build a fresh, empty store that reads now as its
// clock, and arrange with t.Cleanup to close it.
func RunWithClock(t *testing.T, newStore func(t *testing.T, now func() time.Time) store.Store) {
	t.Helper()
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, s store.Store, c *Clock)
	}{
		{"DefaultTimes", clockDefaultTimes},
		{"TokenExpiry", clockTokenExpiry},
		{"DeleteMember", clockDeleteMember},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A start in a zone other than UTC: the store must return UTC.
			c := NewClock(time.Date(2031, 7, 1, 9, 30, 0, 123_456_000, time.FixedZone("X", 5*3600)))
			tc.run(t, newStore(t, c.Now), c)
		})
	}
}

func clockDefaultTimes(t *testing.T, s store.Store, c *Clock) {
	t0 := c.Now().UTC()
	mustCreateTenant(t, s, store.Tenant{Name: "acme", TokenHash: []byte{1}})
	gotT, err := s.GetTenant(ctxOf(t), "acme")
	if err != nil {
		t.Fatalf("GetTenant: %v", err)
	}
	if diff := cmp.Diff(store.Tenant{Name: "acme", TokenHash: []byte{1}, Created: t0, Modified: t0}, gotT, opts); diff != "" {
		t.Errorf("GetTenant (-want +got):\n%s", diff)
	}
	checkUTC(t, "tenant", gotT.Created, gotT.Modified)

	created := mustCreate(t, s, tn, user("u1", "alice"))
	want := user("u1", "alice")
	want.Version, want.Created, want.Modified = 1, t0, t0
	if diff := cmp.Diff(want, created, opts); diff != "" {
		t.Errorf("CreateResource (-want +got):\n%s", diff)
	}
	checkUTC(t, "CreateResource", created.Created, created.Modified)

	c.Advance(90 * time.Second)
	t1 := c.Now().UTC()
	got, err := s.UpdateResource(ctxOf(t), tn, store.TypeUser, "u1", func(r *store.Record) error {
		r.DisplayName, r.Modified = "A", time.Time{}
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateResource: %v", err)
	}
	want.Version, want.DisplayName, want.Modified = 2, "A", t1
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("UpdateResource (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, mustGet(t, s, tn, store.TypeUser, "u1"), opts); diff != "" {
		t.Errorf("GetResource (-want +got):\n%s", diff)
	}

	gotT, err = s.UpdateTenant(ctxOf(t), "acme", func(x *store.Tenant) error {
		x.Issuer, x.Modified = "i", time.Time{}
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateTenant: %v", err)
	}
	if diff := cmp.Diff(store.Tenant{Name: "acme", TokenHash: []byte{1}, Issuer: "i", Created: t0, Modified: t1}, gotT, opts); diff != "" {
		t.Errorf("UpdateTenant (-want +got):\n%s", diff)
	}
}

func clockTokenExpiry(t *testing.T, s store.Store, c *Clock) {
	exp := c.Now().Add(time.Minute)
	for _, key := range []string{"get", "take"} {
		mustPut(t, s, store.Token{Kind: "login-state", Key: key, Tenant: tn, Value: []byte("v"), Expires: exp})
	}
	c.Advance(time.Minute - time.Millisecond)
	got, err := s.GetToken(ctxOf(t), "login-state", "get")
	if err != nil {
		t.Fatalf("GetToken 1ms before expiry: %v", err)
	}
	if diff := cmp.Diff(store.Token{Kind: "login-state", Key: "get", Tenant: tn, Value: []byte("v"), Expires: exp.UTC()}, got, opts); diff != "" {
		t.Errorf("GetToken (-want +got):\n%s", diff)
	}
	checkUTC(t, "GetToken", got.Expires)

	c.Advance(time.Millisecond) // now == Expires: expired
	_, err = s.GetToken(ctxOf(t), "login-state", "get")
	wantErr(t, "GetToken at expiry", err, store.ErrNotFound)
	_, err = s.TakeToken(ctxOf(t), "login-state", "take")
	wantErr(t, "TakeToken at expiry", err, store.ErrNotFound)

}

func clockDeleteMember(t *testing.T, s store.Store, c *Clock) {
	t0 := c.Now().UTC()
	seedUsers(t, s, tn, "u1", "u2")
	g1 := mustCreate(t, s, tn, groupWith("g1", "One", "u1", "u2"))
	g2 := mustCreate(t, s, tn, groupWith("g2", "Two", "u2"))
	if !g1.Modified.Equal(t0) {
		t.Errorf("g1 Modified = %v, want the clock's %v", g1.Modified, t0)
	}
	c.Advance(time.Minute + 7*time.Microsecond)
	t1 := c.Now().UTC()
	if err := s.DeleteResource(ctxOf(t), tn, store.TypeUser, "u1"); err != nil {
		t.Fatalf("DeleteResource: %v", err)
	}
	want := g1
	want.Version, want.Modified = 2, t1
	got := mustGet(t, s, tn, store.TypeGroup, "g1")
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("g1 after deleting its member u1 (-want +got):\n%s", diff)
	}
	checkUTC(t, "g1", got.Modified)
	if diff := cmp.Diff(g2, mustGet(t, s, tn, store.TypeGroup, "g2"), opts); diff != "" {
		t.Errorf("g2, which did not list u1, changed (-want +got):\n%s", diff)
	}
}
