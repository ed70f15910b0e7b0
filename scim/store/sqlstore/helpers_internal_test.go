package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testPostgresBase is the server of the internal tests unless
// IDPKIT_TEST_POSTGRES names another.
const testPostgresBase = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// pgSchemaDSN creates a fresh schema, drops it when the test ends, and
// returns a DSN whose search_path selects it. An unreachable server fails
// the test with what to install.
func pgSchemaDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv("IDPKIT_TEST_POSTGRES")
	if base == "" {
		base = testPostgresBase
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("IDPKIT_TEST_POSTGRES is not a postgres:// URL: %v", err)
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open %s: %v", u.Redacted(), err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		t.Fatalf("PostgreSQL is not reachable at %s (%v); install and start it (apt-get install -y postgresql) or set IDPKIT_TEST_POSTGRES", u.Redacted(), err)
	}
	b := make([]byte, 8)
	rand.Read(b)
	schema := "idpkit_test_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		db.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
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

// backends maps a backend name to a function that returns the DSN of a
// fresh, empty database.
var backends = map[string]func(testing.TB) string{
	"sqlite":   func(t testing.TB) string { return "sqlite:" + filepath.Join(t.TempDir(), "idpkit.db") },
	"postgres": pgSchemaDSN,
}

// openAt opens dsn with migrations applied up to upTo and closes the store
// when the test ends.
func openAt(t testing.TB, dsn string, upTo int, opts Options) *Store {
	t.Helper()
	s, err := open(t.Context(), dsn, opts, upTo)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
