// Package storemetrics wraps a store.Store so that every call records its
// latency in a Prometheus histogram, idpkit_store_operation_duration_seconds,
// labelled by method (the store.Store method name) and outcome (ok,
// not_found, exists, stale, missing_member or error). Both label sets are fixed, so the
// series count never depends on tenants or resources.
package storemetrics

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idpkit/idpkit/scim/store"
)

var _ store.Store = (*Store)(nil)

// Outcome label values.
const (
	OutcomeOK       = "ok"
	OutcomeNotFound = "not_found" // store.ErrNotFound
	OutcomeExists   = "exists"    // store.ErrExists
	OutcomeStale    = "stale"     // store.ErrStale
	// OutcomeMissingMember: store.ErrMissingMember (a *store.MissingMembersError).
	OutcomeMissingMember = "missing_member"
	OutcomeError         = "error" // anything else, including an error from an update callback or a scan callback
)

// Store is a store.Store that times every call to the store it wraps.
// Create it with New.
type Store struct {
	next store.Store
	dur  *prometheus.HistogramVec
	now  func() time.Time
}

// New wraps next and registers the histogram with reg. now is the clock
// the latencies are measured with; nil means time.Now. It fails when reg
// already holds a collector of that name.
func New(next store.Store, reg prometheus.Registerer, now func() time.Time) (*Store, error) {
	if now == nil {
		now = time.Now
	}
	dur := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "idpkit_store_operation_duration_seconds",
		Help: "Latency of store calls, by store.Store method and outcome.",
		// From 100 µs (an indexed read on a warm SQLite file) to 5 s
		// (a PostgreSQL lock wait).
		Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5},
	}, []string{"method", "outcome"})
	if err := reg.Register(dur); err != nil {
		return nil, fmt.Errorf("storemetrics: register: %w", err)
	}
	return &Store{next: next, dur: dur, now: now}, nil
}

// Unwrap returns the wrapped store.
func (s *Store) Unwrap() store.Store { return s.next }

// observe records one call of method that started at start and ended with err.
func (s *Store) observe(method string, start time.Time, err error) {
	s.dur.WithLabelValues(method, outcome(err)).Observe(s.now().Sub(start).Seconds())
}

// outcome maps an error to its label value.
func outcome(err error) string {
	switch {
	case err == nil:
		return OutcomeOK
	case errors.Is(err, store.ErrNotFound):
		return OutcomeNotFound
	case errors.Is(err, store.ErrExists):
		return OutcomeExists
	case errors.Is(err, store.ErrStale):
		return OutcomeStale
	case errors.Is(err, store.ErrMissingMember):
		return OutcomeMissingMember
	default:
		return OutcomeError
	}
}

// CreateTenant implements store.Store.
func (s *Store) CreateTenant(ctx context.Context, t store.Tenant) error {
	start := s.now()
	err := s.next.CreateTenant(ctx, t)
	s.observe("CreateTenant", start, err)
	return err
}

// GetTenant implements store.Store.
func (s *Store) GetTenant(ctx context.Context, name string) (store.Tenant, error) {
	start := s.now()
	t, err := s.next.GetTenant(ctx, name)
	s.observe("GetTenant", start, err)
	return t, err
}

// UpdateTenant implements store.Store.
func (s *Store) UpdateTenant(ctx context.Context, name string, update func(*store.Tenant) error) (store.Tenant, error) {
	start := s.now()
	t, err := s.next.UpdateTenant(ctx, name, update)
	s.observe("UpdateTenant", start, err)
	return t, err
}

// CreateResource implements store.Store.
func (s *Store) CreateResource(ctx context.Context, tenant string, r store.Record) (store.Record, error) {
	start := s.now()
	got, err := s.next.CreateResource(ctx, tenant, r)
	s.observe("CreateResource", start, err)
	return got, err
}

// CreateResources implements store.Store.
func (s *Store) CreateResources(ctx context.Context, tenant string, rs []store.Record) error {
	start := s.now()
	err := s.next.CreateResources(ctx, tenant, rs)
	s.observe("CreateResources", start, err)
	return err
}

// GetResource implements store.Store.
func (s *Store) GetResource(ctx context.Context, tenant, typ, id string) (store.Record, error) {
	start := s.now()
	got, err := s.next.GetResource(ctx, tenant, typ, id)
	s.observe("GetResource", start, err)
	return got, err
}

// ListResources implements store.Store.
func (s *Store) ListResources(ctx context.Context, tenant, typ string, q store.Query) ([]store.Record, error) {
	start := s.now()
	got, err := s.next.ListResources(ctx, tenant, typ, q)
	s.observe("ListResources", start, err)
	return got, err
}

// CountResources implements store.Store.
func (s *Store) CountResources(ctx context.Context, tenant, typ string, where *store.Cond) (int, error) {
	start := s.now()
	n, err := s.next.CountResources(ctx, tenant, typ, where)
	s.observe("CountResources", start, err)
	return n, err
}

// ScanResources implements store.Store. The time recorded includes the
// time fn spends on each resource, since the scan streams while fn runs.
func (s *Store) ScanResources(ctx context.Context, tenant, typ string, q store.Query, fn func(store.Record) error) error {
	start := s.now()
	err := s.next.ScanResources(ctx, tenant, typ, q, fn)
	s.observe("ScanResources", start, err)
	return err
}

// ListMembers implements store.Store.
func (s *Store) ListMembers(ctx context.Context, tenant, groupID string, ids []string) ([]store.Member, error) {
	start := s.now()
	got, err := s.next.ListMembers(ctx, tenant, groupID, ids)
	s.observe("ListMembers", start, err)
	return got, err
}

// GroupsOf implements store.Store.
func (s *Store) GroupsOf(ctx context.Context, tenant string, userIDs []string) (map[string][]store.GroupRef, error) {
	start := s.now()
	got, err := s.next.GroupsOf(ctx, tenant, userIDs)
	s.observe("GroupsOf", start, err)
	return got, err
}

// UpdateResource implements store.Store.
func (s *Store) UpdateResource(ctx context.Context, tenant, typ, id string, update func(*store.Record) error) (store.Record, error) {
	start := s.now()
	got, err := s.next.UpdateResource(ctx, tenant, typ, id, update)
	s.observe("UpdateResource", start, err)
	return got, err
}

// DeleteResource implements store.Store.
func (s *Store) DeleteResource(ctx context.Context, tenant, typ, id string) error {
	start := s.now()
	err := s.next.DeleteResource(ctx, tenant, typ, id)
	s.observe("DeleteResource", start, err)
	return err
}

// DeleteResourceVersion implements store.Store.
func (s *Store) DeleteResourceVersion(ctx context.Context, tenant, typ, id string, version int64) error {
	start := s.now()
	err := s.next.DeleteResourceVersion(ctx, tenant, typ, id, version)
	s.observe("DeleteResourceVersion", start, err)
	return err
}

// PutToken implements store.Store.
func (s *Store) PutToken(ctx context.Context, t store.Token) error {
	start := s.now()
	err := s.next.PutToken(ctx, t)
	s.observe("PutToken", start, err)
	return err
}

// GetToken implements store.Store.
func (s *Store) GetToken(ctx context.Context, kind, key string) (store.Token, error) {
	start := s.now()
	t, err := s.next.GetToken(ctx, kind, key)
	s.observe("GetToken", start, err)
	return t, err
}

// TakeToken implements store.Store.
func (s *Store) TakeToken(ctx context.Context, kind, key string) (store.Token, error) {
	start := s.now()
	t, err := s.next.TakeToken(ctx, kind, key)
	s.observe("TakeToken", start, err)
	return t, err
}

// DeleteToken implements store.Store.
func (s *Store) DeleteToken(ctx context.Context, kind, key string) error {
	start := s.now()
	err := s.next.DeleteToken(ctx, kind, key)
	s.observe("DeleteToken", start, err)
	return err
}

// AppendAudit implements store.Store.
func (s *Store) AppendAudit(ctx context.Context, tenant string, recs []store.AuditRecord) error {
	start := s.now()
	err := s.next.AppendAudit(ctx, tenant, recs)
	s.observe("AppendAudit", start, err)
	return err
}

// ListAudit implements store.Store.
func (s *Store) ListAudit(ctx context.Context, tenant string, since time.Time, limit int) ([]store.AuditRecord, error) {
	start := s.now()
	rs, err := s.next.ListAudit(ctx, tenant, since, limit)
	s.observe("ListAudit", start, err)
	return rs, err
}

// LatestAudit implements store.Store.
func (s *Store) LatestAudit(ctx context.Context, tenant string, since time.Time, limit int) ([]store.AuditRecord, error) {
	start := s.now()
	rs, err := s.next.LatestAudit(ctx, tenant, since, limit)
	s.observe("LatestAudit", start, err)
	return rs, err
}

// PruneAudit implements store.Store.
func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int, error) {
	start := s.now()
	n, err := s.next.PruneAudit(ctx, before)
	s.observe("PruneAudit", start, err)
	return n, err
}

// Close implements store.Store; it closes the wrapped store and is not timed.
func (s *Store) Close() error { return s.next.Close() }
