package sqlstore

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/store"
)

// auditBatch is n records as the app server's audit writer appends them.
func auditBatch(n int, at time.Time) []store.AuditRecord {
	recs := make([]store.AuditRecord, n)
	for i := range recs {
		recs[i] = store.AuditRecord{
			At: at, Kind: store.AuditSCIM, Actor: "current:0123abcd", Source: "192.0.2.1", Action: "patch",
			Target: fmt.Sprintf("User/bench-%05d", i), Detail: []byte(`["title"]`), Outcome: "200",
		}
	}
	return recs
}

// TestAppendAuditBatches: batches larger than one INSERT's rows keep
// every record, in order, on both backends.
func TestAppendAuditBatches(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for name, dsn := range backends {
		t.Run(name, func(t *testing.T) {
			s := openAt(t, dsn(t), len(migrations), Options{})
			for _, n := range []int{1, 3, 100, auditRowsPerInsert, 2*auditRowsPerInsert + 7} {
				tenant := fmt.Sprintf("t%d", n)
				want := auditBatch(n, at)
				for i := range want {
					want[i].Tenant = tenant
					want[i].Detail = []byte(fmt.Sprintf(`[%d]`, i))
				}
				if err := s.AppendAudit(t.Context(), tenant, want); err != nil {
					t.Fatalf("AppendAudit(%d): %v", n, err)
				}
				got, err := s.ListAudit(t.Context(), tenant, time.Time{}, 0)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%d records (-want +got):\n%s", n, diff)
				}
			}
		})
	}
}

// BenchmarkAppendAudit measures one flush of the audit writer (a batch
// of 100 records, its auditBatch) on SQLite and PostgreSQL: the time the
// batch holds the database's writer, which SCIM writes wait for on SQLite.
func BenchmarkAppendAudit(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			s := openAt(b, backends[name](b), len(migrations), Options{})
			recs := auditBatch(100, time.Now())
			for b.Loop() {
				if err := s.AppendAudit(b.Context(), "bench", recs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
