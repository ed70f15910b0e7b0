package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
	"github.com/idpkit/idpkit/scim/store/storetest"
)

// defaultPostgres is the server the tests use unless IDPKIT_TEST_POSTGRES
// names another (a postgres:// URL).
const defaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// postgresSchema creates a fresh schema on the test server, drops it when
// the test ends, and returns a DSN whose search_path selects it. When the
// server is unreachable the test fails under CI=true and skips otherwise.
func postgresSchema(t *testing.T) string {
	t.Helper()
	base := os.Getenv("IDPKIT_TEST_POSTGRES")
	if base == "" {
		base = defaultPostgres
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("IDPKIT_TEST_POSTGRES is not a postgres:// URL: %v", err)
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open %s: %v", u.Redacted(), err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		msg := "PostgreSQL is not reachable at " + u.Redacted() + " (" + err.Error() + "); install and start it (apt-get install -y postgresql) or set IDPKIT_TEST_POSTGRES"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	b := make([]byte, 8)
	rand.Read(b)
	schema := "idpkit_test_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		db.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		db.Close()
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
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
