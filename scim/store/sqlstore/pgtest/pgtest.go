// Package pgtest gives tests a fresh PostgreSQL schema of their own on the
// test server: IDPKIT_TEST_POSTGRES (a postgres:// URL) or, when unset,
// the local server (DefaultURL). It is for tests only.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// DefaultURL is the server tests use unless IDPKIT_TEST_POSTGRES names
// another.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Schema creates a schema with a random name starting with prefix (such
// as "idpkit_test_"), drops it when the test ends, and returns a DSN whose
// search_path selects it. When the server does not answer, the test fails
// under CI=true, and outside CI it fails too unless skip is set, in which
// case it is skipped; either way the message says what to install.
//
// The drop is registered before the caller's own cleanups, so it runs
// after them: processes and stores the test started on the schema are
// gone by then.
func Schema(t testing.TB, prefix string, skip bool) string {
	t.Helper()
	base := os.Getenv("IDPKIT_TEST_POSTGRES")
	if base == "" {
		base = DefaultURL
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
		msg := "PostgreSQL is not reachable at " + u.Redacted() + " (" + err.Error() + "); install and start it (apt-get install -y postgresql) or set IDPKIT_TEST_POSTGRES"
		if skip && os.Getenv("CI") != "true" {
			t.Skip(msg)
		}
		t.Fatal(msg)
	}
	b := make([]byte, 8)
	rand.Read(b)
	schema := prefix + hex.EncodeToString(b)
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
