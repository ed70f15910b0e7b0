package sqlstore

import (
	"path/filepath"
	"testing"

	"github.com/idpkit/idpkit/scim/store/sqlstore/pgtest"
)

// pgSchemaDSN returns the DSN of a fresh schema on the test server (see
// pgtest.Schema); an unreachable server fails the test.
func pgSchemaDSN(t testing.TB) string {
	t.Helper()
	return pgtest.Schema(t, "idpkit_test_", false)
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
