package sqlstore

import (
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"               // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// flavor is what differs between the backends (after dex's
// storage/sql flavors). Queries are written for PostgreSQL.
type flavor struct {
	name string
	// replacer rewrites type names and clauses, applied before placeholders.
	replacer *strings.Replacer
	// placeholder renders the n-th ($n) parameter; nil keeps $n.
	placeholder func(n int) string
	// migrationLock is run first in the migration transaction, so two
	// processes starting at once apply migrations one after the other.
	// SQLite needs none: BEGIN IMMEDIATE already serialises writers.
	migrationLock string
	// isUnique reports whether err is a unique-constraint violation.
	isUnique func(err error) bool
}

var postgresFlavor = &flavor{
	name:          "postgres",
	migrationLock: "SELECT pg_advisory_xact_lock(7170426001)", // an arbitrary constant naming idpkit's migrations
	isUnique: func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == "23505" // unique_violation
	},
}

var sqliteFlavor = &flavor{
	name: "sqlite",
	replacer: strings.NewReplacer(
		"BYTEA", "BLOB",
		" FOR UPDATE", "", // BEGIN IMMEDIATE holds the write lock for the whole transaction
	),
	placeholder: func(n int) string { return "?" + strconv.Itoa(n) },
	isUnique: func(err error) bool {
		var se *sqlite.Error
		if errors.As(err, &se) {
			switch se.Code() {
			case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
				return true
			}
		}
		return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
	},
}

// translate rewrites a PostgreSQL query for f: the replacer, then every
// $n placeholder outside string literals.
func (f *flavor) translate(query string) string {
	if f.replacer != nil {
		query = f.replacer.Replace(query)
	}
	if f.placeholder == nil {
		return query
	}
	var b strings.Builder
	b.Grow(len(query))
	inString := false
	for i := 0; i < len(query); i++ {
		c := query[i]
		if c == '\'' {
			inString = !inString
		}
		if c != '$' || inString || i+1 >= len(query) || query[i+1] < '0' || query[i+1] > '9' {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(query) && query[j] >= '0' && query[j] <= '9' {
			j++
		}
		n, _ := strconv.Atoi(query[i+1 : j])
		b.WriteString(f.placeholder(n))
		i = j - 1
	}
	return b.String()
}
