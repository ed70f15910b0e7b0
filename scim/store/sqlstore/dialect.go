package sqlstore

import (
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// flavor is what differs between the backends (after dex's
// storage/sql flavors). Queries are written for PostgreSQL.
type flavor struct {
	name string
	// replacer rewrites type names and clauses, applied before placeholders.
	replacer *strings.Replacer
	// placeholder renders the n-th ($n) parameter; nil keeps $n.
	placeholder func(n int) string
	// sequential, when set, is what placeholders become instead when a
	// query uses $1, $2, … each once and in order (SQLite binds plain ?
	// parameters without the name lookups that ?NNN ones cost, which
	// matter in a multi-row INSERT).
	sequential string
	// migrationLock is run first in the migration transaction, so two
	// processes starting at once apply migrations one after the other.
	// SQLite needs none: BEGIN IMMEDIATE already serialises writers.
	migrationLock string
	// isUnique reports whether err is a unique-constraint violation.
	isUnique func(err error) bool
	// isForeignKey reports whether err is a foreign-key violation.
	isForeignKey func(err error) bool
	// isRetryable reports whether err aborted a transaction that may
	// simply run again (a deadlock the database broke); nil: never.
	isRetryable func(err error) bool
	// noLimit is the LIMIT clause that sets no limit, for an OFFSET
	// without a LIMIT (SQLite requires a LIMIT before OFFSET).
	noLimit string
	// maxVars caps the parameters of one statement the store builds
	// (SQLite's SQLITE_MAX_VARIABLE_NUMBER is 32766, PostgreSQL's
	// protocol allows 65535); batches are chunked below it.
	maxVars int
}

var postgresFlavor = &flavor{
	name:          "postgres",
	migrationLock: "SELECT pg_advisory_xact_lock(7170426001)", // an arbitrary constant naming idpkit's migrations
	isUnique: func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == "23505" // unique_violation
	},
	isForeignKey: func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == "23503" // foreign_key_violation
	},
	isRetryable: func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001") // deadlock_detected, serialization_failure
	},
	noLimit: "LIMIT ALL",
	maxVars: 30000,
}

var sqliteFlavor = &flavor{
	name: "sqlite",
	replacer: strings.NewReplacer(
		"BYTEA", "BLOB",
		"BIGSERIAL PRIMARY KEY", "INTEGER PRIMARY KEY", // the rowid: max+1 on insert, so it keeps insertion order
		` COLLATE "C"`, "", // SQLite's default BINARY collation is byte order already
		"strpos(", "instr(", // same arguments: (haystack, needle), 1-based, 0 when absent
		" FOR KEY SHARE", "",
		" FOR UPDATE", "", // BEGIN IMMEDIATE holds the write lock for the whole transaction
	),
	placeholder: func(n int) string { return "?" + strconv.Itoa(n) },
	sequential:  "?",
	isUnique: func(err error) bool {
		switch sqliteCode(err) {
		case sqliteConstraintUnique, sqliteConstraintPrimaryKey:
			return true
		}
		return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
	},
	isForeignKey: func(err error) bool {
		return sqliteCode(err) == sqliteConstraintForeignKey ||
			err != nil && strings.Contains(err.Error(), "FOREIGN KEY constraint failed")
	},
	noLimit: "LIMIT -1",
	maxVars: 30000,
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
	seq := f.sequential != ""
	if seq {
		next := 1
		forEachPlaceholder(query, func(n int) {
			if n != next {
				seq = false
			}
			next++
		})
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
		if seq {
			b.WriteString(f.sequential)
		} else {
			b.WriteString(f.placeholder(n))
		}
		i = j - 1
	}
	return b.String()
}

// forEachPlaceholder calls fn with the number of each $n placeholder of
// query outside string literals, in order.
func forEachPlaceholder(query string, fn func(n int)) {
	inString := false
	for i := 0; i < len(query); i++ {
		c := query[i]
		if c == '\'' {
			inString = !inString
		}
		if c != '$' || inString || i+1 >= len(query) || query[i+1] < '0' || query[i+1] > '9' {
			continue
		}
		j := i + 1
		for j < len(query) && query[j] >= '0' && query[j] <= '9' {
			j++
		}
		n, _ := strconv.Atoi(query[i+1 : j])
		fn(n)
		i = j - 1
	}
}
