// Package storetest is the behaviour conformance suite for store.Store
// backends, in the style of dex's storage/conformance. A backend's test
// calls Run, RunConcurrency and RunWithClock with a function that makes
// a fresh, empty store.
//
// What it checks follows the RFCs the store serves: resources keep the
// version counter behind meta.version and ETags (RFC 7643 §3.1, RFC 7644
// §3.14), a User's userName is unique per tenant case-insensitively
// (RFC 7643 §4.1.1, uniqueness "server", caseExact false), listing has a
// stable order so that index-based pages (RFC 7644 §3.4.2.4) never overlap,
// and concurrent modifications never lose a write (RFC 7644 §3.14).
package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/idpkit/idpkit/scim/store"
)

// Run runs the behaviour suite: tenants, resources, userName uniqueness,
// conditions (every Field under every Op it allows), sorting, paging,
// scanning, bulk creates, emails, group membership, tenant isolation, a
// few thousand rows, and tokens, each as a subtest on a fresh
// store from newStore. newStore must return a fresh, empty store and
// arrange, with t.Cleanup, to close it and discard its data; it is called
// from parallel subtests.
//
// Run needs no control over the store's clock: token expiry is tested
// with tokens that expired an hour ago or expire in an hour, so the
// store's clock must be within an hour of time.Now. RunWithClock tests
// the exact boundaries with an injected clock.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	groups := []struct {
		name  string
		tests []test
	}{
		{"Tenant", tenantTests},
		{"Resource", resourceTests},
		{"UserName", userNameTests},
		{"Query", queryTests},
		{"Cond", condTests},
		{"Sort", sortTests},
		{"Page", pageTests},
		{"Scan", scanTests},
		{"Bulk", bulkTests},
		{"Email", emailTests},
		{"Member", memberTests},
		{"Isolation", isolationTests},
		{"Scale", scaleTests},
		{"Token", tokenTests},
		{"Audit", auditTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.run(t, newStore(t))
				})
			}
		})
	}
}

type test struct {
	name string
	run  func(t *testing.T, s store.Store)
}

// errBoom is what the update callbacks of the abort tests return.
var errBoom = errors.New("storetest: boom")

// opts compare stored values: nil and empty byte slices are equal, and
// times compare with time.Time.Equal (go-cmp uses the Equal method).
var opts = cmp.Options{cmpopts.EquateEmpty()}

func ctxOf(t *testing.T) context.Context { return t.Context() }

// at returns a fixed UTC instant with millisecond precision, offset by d.
func at(d time.Duration) time.Time {
	return time.Date(2025, 3, 14, 15, 9, 26, 535_000_000, time.UTC).Add(d)
}

// checkUTC fails unless every time is non-zero and in UTC.
func checkUTC(t *testing.T, what string, times ...time.Time) {
	t.Helper()
	for i, tm := range times {
		if tm.IsZero() {
			t.Errorf("%s: time %d is zero", what, i)
		}
		if tm.Location() != time.UTC {
			t.Errorf("%s: time %d is in %v, want UTC", what, i, tm.Location())
		}
	}
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want %v", what, err, target)
	}
}

func mustCreateTenant(t *testing.T, s store.Store, tn store.Tenant) {
	t.Helper()
	if err := s.CreateTenant(ctxOf(t), tn); err != nil {
		t.Fatalf("CreateTenant(%q): %v", tn.Name, err)
	}
}

func mustCreate(t *testing.T, s store.Store, tenant string, r store.Record) store.Record {
	t.Helper()
	got, err := s.CreateResource(ctxOf(t), tenant, r)
	if err != nil {
		t.Fatalf("CreateResource(%q, %s %q): %v", tenant, r.Type, r.ID, err)
	}
	return got
}

func mustGet(t *testing.T, s store.Store, tenant, typ, id string) store.Record {
	t.Helper()
	got, err := s.GetResource(ctxOf(t), tenant, typ, id)
	if err != nil {
		t.Fatalf("GetResource(%q, %s, %q): %v", tenant, typ, id, err)
	}
	return got
}

func user(id, userName string) store.Record {
	return store.Record{
		Type:     store.TypeUser,
		ID:       id,
		UserName: userName,
		Data:     []byte(`{"id":"` + id + `","userName":"` + userName + `"}`),
	}
}

func group(id, displayName string) store.Record {
	return store.Record{
		Type:        store.TypeGroup,
		ID:          id,
		DisplayName: displayName,
		Data:        []byte(`{"id":"` + id + `","displayName":"` + displayName + `"}`),
	}
}

// list returns the IDs ListResources returns for q, failing the test on
// an error.
func list(t *testing.T, s store.Store, tenant, typ string, q store.Query) []string {
	t.Helper()
	got, err := s.ListResources(ctxOf(t), tenant, typ, q)
	if err != nil {
		t.Fatalf("ListResources(%s, %s, %s): %v", tenant, typ, describe(q), err)
	}
	return ids(got)
}

// count returns CountResources(where), failing the test on an error.
func count(t *testing.T, s store.Store, tenant, typ string, where *store.Cond) int {
	t.Helper()
	n, err := s.CountResources(ctxOf(t), tenant, typ, where)
	if err != nil {
		t.Fatalf("CountResources(%s, %s, %s): %v", tenant, typ, condString(where), err)
	}
	return n
}

// members returns ListMembers(groupID, nil), failing the test on an error.
func members(t *testing.T, s store.Store, tenant, groupID string) []store.Member {
	t.Helper()
	got, err := s.ListMembers(ctxOf(t), tenant, groupID, nil)
	if err != nil {
		t.Fatalf("ListMembers(%s, %s): %v", tenant, groupID, err)
	}
	return got
}

// memberIDs returns the Values of ms in order.
func memberIDs(ms []store.Member) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.Value)
	}
	return out
}

// ids returns the IDs of rs in order.
func ids(rs []store.Record) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}
