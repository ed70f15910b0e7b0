//go:build !sqlite_ncruces

package sqlstore

import (
	"errors"
	"strings"

	"modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// sqliteDriver names the database/sql driver of the default build:
// modernc.org/sqlite, a translation of SQLite's C source to Go. Build
// with -tags sqlite_ncruces for github.com/ncruces/go-sqlite3 instead.
const sqliteDriver = "sqlite"

// sqliteDSN returns the data source name that opens path with the given
// PRAGMAs (each "name(value)") run on every new connection, in order.
// modernc reads them from _pragma parameters; _txlock=immediate makes
// every BEGIN a BEGIN IMMEDIATE. Parameters of other drivers' styles
// (_busy_timeout=…, _foreign_keys=…) are silently ignored by modernc,
// which is why TestSQLitePragmas reads the settings back.
func sqliteDSN(path string, pragmas []string, immediate bool) string {
	var b strings.Builder
	b.WriteString(path)
	sep := "?"
	for _, p := range pragmas {
		b.WriteString(sep + "_pragma=" + p)
		sep = "&"
	}
	if immediate {
		b.WriteString(sep + "_txlock=immediate")
	}
	return b.String()
}

// sqliteCode returns the extended result code of a SQLite error, or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

// SQLite's extended result codes for the constraint violations the store
// tells apart.
const (
	sqliteConstraintUnique     = sqlite3.SQLITE_CONSTRAINT_UNIQUE
	sqliteConstraintPrimaryKey = sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	sqliteConstraintForeignKey = sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
)
