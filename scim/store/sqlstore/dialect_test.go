package sqlstore

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTranslate(t *testing.T) {
	for _, c := range []struct {
		name, in, sqlite, postgres string
	}{
		{"placeholders", `SELECT a FROM t WHERE x = $1 AND y = $12`, `SELECT a FROM t WHERE x = ?1 AND y = ?12`, `SELECT a FROM t WHERE x = $1 AND y = $12`},
		{"sequential placeholders", `INSERT INTO t VALUES ($1, $2), ($3, $4)`, `INSERT INTO t VALUES (?, ?), (?, ?)`, `INSERT INTO t VALUES ($1, $2), ($3, $4)`},
		{"reused placeholder", `SELECT a FROM t WHERE x = $1 AND y = $2 AND z = $1`, `SELECT a FROM t WHERE x = ?1 AND y = ?2 AND z = ?1`, `SELECT a FROM t WHERE x = $1 AND y = $2 AND z = $1`},
		{"for update", `SELECT a FROM t WHERE x = $1 FOR UPDATE`, `SELECT a FROM t WHERE x = ?`, `SELECT a FROM t WHERE x = $1 FOR UPDATE`},
		{"bytea", `CREATE TABLE t (d BYTEA NOT NULL)`, `CREATE TABLE t (d BLOB NOT NULL)`, `CREATE TABLE t (d BYTEA NOT NULL)`},
		{"dollar in literal", `SELECT '$1' FROM t WHERE x = $1`, `SELECT '$1' FROM t WHERE x = ?`, `SELECT '$1' FROM t WHERE x = $1`},
		{"lone dollar", `SELECT 'a$' || $`, `SELECT 'a$' || $`, `SELECT 'a$' || $`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if diff := cmp.Diff(c.sqlite, sqliteFlavor.translate(c.in)); diff != "" {
				t.Errorf("sqlite (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(c.postgres, postgresFlavor.translate(c.in)); diff != "" {
				t.Errorf("postgres (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMigrationsTranslate(t *testing.T) {
	// Every migration statement must be free of PostgreSQL-only syntax
	// after translation for SQLite.
	for i, m := range migrations {
		for _, stmt := range m {
			var got string
			if stmt.sql == "" {
				continue
			}
			got = sqliteFlavor.translate(stmt.sql)
			for _, bad := range []string{"BYTEA", "FOR UPDATE", "$1", "COLLATE", "BIGSERIAL"} {
				if strings.Contains(got, bad) {
					t.Errorf("migration %d: %q still in %s", i+1, bad, got)
				}
			}
		}
	}
}
