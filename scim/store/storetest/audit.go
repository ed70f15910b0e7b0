package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/store"
)

func auditRec(d time.Duration, action, target string) store.AuditRecord {
	return store.AuditRecord{At: at(d), Kind: store.AuditSCIM, Actor: "current:0123abcd", Source: "192.0.2.1", Action: action, Target: target, Detail: []byte(`["name"]`), Outcome: "201"}
}

func mustAppendAudit(t *testing.T, s store.Store, tenant string, recs ...store.AuditRecord) {
	t.Helper()
	if err := s.AppendAudit(ctxOf(t), tenant, recs); err != nil {
		t.Fatalf("AppendAudit(%q): %v", tenant, err)
	}
}

func withTenant(tenant string, recs ...store.AuditRecord) []store.AuditRecord {
	out := make([]store.AuditRecord, len(recs))
	for i, r := range recs {
		r.Tenant = tenant
		out[i] = r
	}
	return out
}

var auditTests = []test{
	{"AppendList", func(t *testing.T, s store.Store) {
		a := auditRec(0, "create", "User/1")
		b := auditRec(time.Second, "patch", "User/1")
		c := auditRec(time.Second, "delete", "User/1") // same instant: appended order
		c.Detail = nil
		c.Outcome = "204"
		mustAppendAudit(t, s, "acme", a, b)
		mustAppendAudit(t, s, "acme", c)
		tests := []struct {
			name  string
			since time.Time
			limit int
			want  []store.AuditRecord
		}{
			{"all", time.Time{}, 0, withTenant("acme", a, b, c)},
			{"since", at(time.Second), 0, withTenant("acme", b, c)},
			{"limit", time.Time{}, 2, withTenant("acme", a, b)},
			{"after", at(time.Hour), 0, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.ListAudit(ctxOf(t), "acme", tc.since, tc.limit)
				if err != nil {
					t.Fatalf("ListAudit: %v", err)
				}
				if diff := cmp.Diff(tc.want, got, opts); diff != "" {
					t.Errorf("ListAudit (-want +got):\n%s", diff)
				}
				for _, r := range got {
					checkUTC(t, "ListAudit", r.At)
				}
			})
		}
		latest := []struct {
			name  string
			since time.Time
			limit int
			want  []store.AuditRecord
		}{
			{"latest all", time.Time{}, 0, withTenant("acme", c, b, a)},
			{"latest since", at(time.Second), 0, withTenant("acme", c, b)},
			{"latest limit", time.Time{}, 2, withTenant("acme", c, b)},
			{"latest after", at(time.Hour), 0, nil},
		}
		for _, tc := range latest {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.LatestAudit(ctxOf(t), "acme", tc.since, tc.limit)
				if err != nil {
					t.Fatalf("LatestAudit: %v", err)
				}
				if diff := cmp.Diff(tc.want, got, opts); diff != "" {
					t.Errorf("LatestAudit (-want +got):\n%s", diff)
				}
			})
		}
	}},
	{"Isolation", func(t *testing.T, s store.Store) {
		mustAppendAudit(t, s, "acme", auditRec(0, "create", "User/1"))
		mustAppendAudit(t, s, "other", auditRec(0, "create", "User/2"))
		got, err := s.ListAudit(ctxOf(t), "other", time.Time{}, 0)
		if err != nil {
			t.Fatalf("ListAudit: %v", err)
		}
		if diff := cmp.Diff(withTenant("other", auditRec(0, "create", "User/2")), got, opts); diff != "" {
			t.Errorf("ListAudit (-want +got):\n%s", diff)
		}
	}},
	{"Empty", func(t *testing.T, s store.Store) {
		mustAppendAudit(t, s, "acme")
		got, err := s.ListAudit(ctxOf(t), "acme", time.Time{}, 0)
		if err != nil || len(got) != 0 {
			t.Errorf("ListAudit = %v, %v; want none", got, err)
		}
	}},
	{"Prune", func(t *testing.T, s store.Store) {
		mustAppendAudit(t, s, "acme", auditRec(0, "create", "User/1"), auditRec(time.Hour, "patch", "User/1"))
		mustAppendAudit(t, s, "other", auditRec(0, "create", "User/2"))
		n, err := s.PruneAudit(ctxOf(t), at(time.Hour)) // before, not at
		if err != nil {
			t.Fatalf("PruneAudit: %v", err)
		}
		if n != 2 {
			t.Errorf("PruneAudit deleted %d, want 2", n)
		}
		for _, tn := range []struct {
			tenant string
			want   []store.AuditRecord
		}{
			{"acme", withTenant("acme", auditRec(time.Hour, "patch", "User/1"))},
			{"other", nil},
		} {
			got, err := s.ListAudit(ctxOf(t), tn.tenant, time.Time{}, 0)
			if err != nil {
				t.Fatalf("ListAudit: %v", err)
			}
			if diff := cmp.Diff(tn.want, got, opts); diff != "" {
				t.Errorf("ListAudit(%s) after prune (-want +got):\n%s", tn.tenant, diff)
			}
		}
	}},
}
