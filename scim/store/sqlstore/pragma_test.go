package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSQLitePragmas reads back, on the writer and on every reader
// connection, the settings the package doc promises: a driver may ignore
// DSN parameters it does not know without an error.
func TestSQLitePragmas(t *testing.T) {
	s := openAt(t, "sqlite:"+filepath.Join(t.TempDir(), "idpkit.db"), len(migrations), Options{})
	ctx := t.Context()
	read := func(conn *sql.Conn) map[string]string {
		got := map[string]string{}
		for _, p := range []string{"journal_mode", "busy_timeout", "foreign_keys", "synchronous", "query_only"} {
			var v string
			if err := conn.QueryRowContext(ctx, "PRAGMA "+p).Scan(&v); err != nil {
				t.Fatalf("PRAGMA %s: %v", p, err)
			}
			got[p] = v
		}
		return got
	}
	want := func(queryOnly string) map[string]string {
		// synchronous 2 is FULL.
		return map[string]string{"journal_mode": "wal", "busy_timeout": "10000", "foreign_keys": "1", "synchronous": "2", "query_only": queryOnly}
	}
	w, err := s.w.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want("0"), read(w)); diff != "" {
		t.Errorf("writer (-want +got):\n%s", diff)
	}
	w.Close()
	// Hold every reader at once, so each is a distinct connection.
	var conns []*sql.Conn
	for i := range sqliteReaders {
		c, err := s.r.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		t.Run(fmt.Sprint("reader ", i), func(t *testing.T) {
			if diff := cmp.Diff(want("1"), read(c)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	for _, c := range conns {
		c.Close()
	}
	if _, err := s.r.ExecContext(context.Background(), `DELETE FROM tokens`); err == nil {
		t.Error("a reader connection accepted a write")
	}
}
