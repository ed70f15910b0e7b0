//go:build sqlite_ncruces

package sqlstore

import (
	"errors"
	"net/url"
	"strings"

	"github.com/ncruces/go-sqlite3"
	_ "github.com/ncruces/go-sqlite3/driver" // registers the "sqlite3" driver
)

// sqliteDriver names the database/sql driver of the sqlite_ncruces build:
// github.com/ncruces/go-sqlite3, SQLite compiled to Wasm and translated
// to Go by wasm2go (since v0.37 it needs no embed package).
const sqliteDriver = "sqlite3"

// sqliteDSN returns the data source name that opens path with the given
// PRAGMAs (each "name(value)") run on every new connection, in order.
// ncruces takes a file: URI with _pragma parameters; _txlock=immediate
// makes every BEGIN a BEGIN IMMEDIATE.
func sqliteDSN(path string, pragmas []string, immediate bool) string {
	var b strings.Builder
	b.WriteString("file:" + (&url.URL{Path: path}).EscapedPath())
	sep := "?"
	for _, p := range pragmas {
		b.WriteString(sep + "_pragma=" + url.QueryEscape(p))
		sep = "&"
	}
	if immediate {
		b.WriteString(sep + "_txlock=immediate")
	}
	return b.String()
}

// sqliteCode returns the extended result code of a SQLite error, or 0.
func sqliteCode(err error) int {
	var se *sqlite3.Error
	if errors.As(err, &se) {
		return int(se.ExtendedCode())
	}
	return 0
}

// SQLite's extended result codes for the constraint violations the store
// tells apart.
const (
	sqliteConstraintUnique     = int(sqlite3.CONSTRAINT_UNIQUE)
	sqliteConstraintPrimaryKey = int(sqlite3.CONSTRAINT_PRIMARYKEY)
	sqliteConstraintForeignKey = int(sqlite3.CONSTRAINT_FOREIGNKEY)
)
