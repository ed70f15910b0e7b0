package sqlstore_test

import (
	"sync"
	"testing"
	"time"

	"github.com/idpkit/idpkit/scim/store/sqlstore/pgtest"

	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
	"github.com/idpkit/idpkit/scim/store/storetest"
)

// postgresSchema returns the DSN of a fresh schema on the test server
// (see pgtest.Schema; outside CI an unreachable server skips).
func postgresSchema(t *testing.T) string {
	t.Helper()
	return pgtest.Schema(t, "idpkit_test_", true)
}

func openPostgres(t *testing.T, dsn string, opts sqlstore.Options) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(t.Context(), dsn, opts)
	if err != nil {
		t.Fatalf("Open(postgres): %v", err)
	}
	t.Cleanup(func() { s.Close() }) // runs before the schema is dropped
	return s
}

func newPostgres(t *testing.T) store.Store {
	return openPostgres(t, postgresSchema(t), sqlstore.Options{})
}

func TestPostgres(t *testing.T) { storetest.Run(t, newPostgres) }

func TestPostgresConcurrency(t *testing.T) { storetest.RunConcurrency(t, newPostgres) }

func TestPostgresClock(t *testing.T) {
	storetest.RunWithClock(t, func(t *testing.T, now func() time.Time) store.Store {
		return openPostgres(t, postgresSchema(t), sqlstore.Options{Now: now})
	})
}

func TestPostgresShared(t *testing.T) {
	dsn := postgresSchema(t)
	storetest.RunShared(t, func(t *testing.T) store.Store { return openPostgres(t, dsn, sqlstore.Options{}) })
}

// TestPostgresConcurrentOpen starts several stores at once on an empty
// schema: the advisory lock lets exactly one apply the migrations.
func TestPostgresConcurrentOpen(t *testing.T) {
	dsn := postgresSchema(t)
	const n = 5
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s, err := sqlstore.Open(t.Context(), dsn, sqlstore.Options{})
			if err == nil {
				err = s.CreateTenant(t.Context(), store.Tenant{Name: "t" + string(rune('a'+i)), TokenHash: []byte{1}})
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("store %d: %v", i, err)
		}
	}
}
