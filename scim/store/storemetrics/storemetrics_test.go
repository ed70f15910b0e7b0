package storemetrics_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
	"github.com/idpkit/idpkit/scim/store/storemetrics"
	"github.com/idpkit/idpkit/scim/store/storetest"
)

// newWrapped returns a SQLite store behind the decorator, with its registry.
func newWrapped(t *testing.T) (*storemetrics.Store, *prometheus.Registry) {
	t.Helper()
	st, err := sqlstore.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "idpkit.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg := prometheus.NewRegistry()
	s, err := storemetrics.New(st, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, reg
}

// TestConformance: the decorator changes nothing the store suite can see.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { s, _ := newWrapped(t); return s })
}

// counts returns the histogram's sample count per "method outcome".
func counts(t *testing.T, reg *prometheus.Registry) map[string]uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]uint64{}
	for _, mf := range mfs {
		if mf.GetName() != "idpkit_store_operation_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			got[labels["method"]+" "+labels["outcome"]] = m.GetHistogram().GetSampleCount()
		}
	}
	return got
}

// TestOutcomes: each call is recorded once, under its method and the
// outcome its error maps to.
func TestOutcomes(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("boom")
	tests := []struct {
		name string
		call func(s store.Store) error
		want string
	}{
		{"create tenant", func(s store.Store) error {
			return s.CreateTenant(ctx, store.Tenant{Name: "acme", TokenHash: []byte("h")})
		}, "CreateTenant ok"},
		{"duplicate tenant", func(s store.Store) error {
			s.CreateTenant(ctx, store.Tenant{Name: "acme", TokenHash: []byte("h")})
			return s.CreateTenant(ctx, store.Tenant{Name: "acme", TokenHash: []byte("h")})
		}, "CreateTenant exists"},
		{"missing tenant", func(s store.Store) error { _, err := s.GetTenant(ctx, "nope"); return err }, "GetTenant not_found"},
		{"failed update", func(s store.Store) error {
			s.CreateTenant(ctx, store.Tenant{Name: "acme", TokenHash: []byte("h")})
			_, err := s.UpdateTenant(ctx, "acme", func(*store.Tenant) error { return boom })
			return err
		}, "UpdateTenant error"},
		{"stale delete", func(s store.Store) error {
			s.CreateTenant(ctx, store.Tenant{Name: "acme", TokenHash: []byte("h")})
			s.CreateResource(ctx, "acme", store.Record{Type: store.TypeUser, ID: "u1", UserName: "a", Data: []byte(`{}`)})
			return s.DeleteResourceVersion(ctx, "acme", store.TypeUser, "u1", 7)
		}, "DeleteResourceVersion stale"},
		{"list", func(s store.Store) error {
			_, err := s.ListResources(ctx, "acme", store.TypeUser, store.Query{})
			return err
		}, "ListResources ok"},
		{"count", func(s store.Store) error {
			_, err := s.CountResources(ctx, "acme", store.TypeUser, store.Eq(store.FieldUserName, "a"))
			return err
		}, "CountResources ok"},
		{"scan", func(s store.Store) error {
			return s.ScanResources(ctx, "acme", store.TypeUser, store.Query{}, func(store.Record) error { return nil })
		}, "ScanResources ok"},
		{"bulk create", func(s store.Store) error {
			return s.CreateResources(ctx, "acme", []store.Record{{Type: store.TypeUser, ID: "u1", UserName: "a"}})
		}, "CreateResources ok"},
		{"missing member", func(s store.Store) error {
			_, err := s.CreateResource(ctx, "acme", store.Record{Type: store.TypeGroup, ID: "g1", Members: &store.MemberChange{Add: []store.Member{{Value: "nope"}}}})
			return err
		}, "CreateResource missing_member"},
		{"list members of absent group", func(s store.Store) error { _, err := s.ListMembers(ctx, "acme", "g", nil); return err }, "ListMembers not_found"},
		{"groups of", func(s store.Store) error { _, err := s.GroupsOf(ctx, "acme", []string{"u1"}); return err }, "GroupsOf ok"},
		{"missing token", func(s store.Store) error { _, err := s.TakeToken(ctx, "session", "k"); return err }, "TakeToken not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, reg := newWrapped(t)
			before := counts(t, reg)[tt.want]
			tt.call(s)
			if diff := cmp.Diff(before+1, counts(t, reg)[tt.want]); diff != "" {
				t.Errorf("samples of %q (-want +got):\n%s\nall: %v", tt.want, diff, counts(t, reg))
			}
		})
	}
}

// TestLatency: the recorded latency is measured with the injected clock.
func TestLatency(t *testing.T) {
	st, err := sqlstore.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "idpkit.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reg := prometheus.NewRegistry()
	clock := time.Unix(0, 0)
	// Every reading of the clock moves it on by 3 ms, so one call lasts 3 ms.
	now := func() time.Time { clock = clock.Add(3 * time.Millisecond); return clock }
	s, err := storemetrics.New(st, reg, now)
	if err != nil {
		t.Fatal(err)
	}
	s.GetTenant(t.Context(), "nope")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var got string
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			got = fmt.Sprintf("%s count=%d sum=%.3f", mf.GetName(), m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum())
		}
	}
	if diff := cmp.Diff("idpkit_store_operation_duration_seconds count=1 sum=0.003", got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := storemetrics.New(st, reg, nil); err == nil {
		t.Error("a second New on the same registry succeeded, want a registration error")
	}
}
