// Package sqlstore implements store.Store on SQLite (modernc.org/sqlite,
// pure Go; github.com/ncruces/go-sqlite3 with -tags sqlite_ncruces) and
// PostgreSQL (github.com/jackc/pgx/v5/stdlib).
//
// It persists the tenants, the SCIM resources of RFC 7643 §3 with the
// version counter behind their ETags (RFC 7643 §3.1 meta.version, RFC 7644
// §3.14), the case-insensitive uniqueness of a User's userName (RFC 7643
// §4.1.1 "uniqueness server", caseExact false) and the stable creation
// order that keeps RFC 7644 §3.4.2.4 pages from overlapping.
//
// Every query is written once in PostgreSQL's dialect; a small flavor
// table translates the few differences for SQLite (see dialect.go).
// Schema migrations are a numbered Go slice applied by Open inside one
// transaction and recorded in the migrations table (see migrate.go).
//
// Times are stored as microseconds since the Unix epoch (BIGINT), so both
// backends compare them the same way, and are returned in UTC.
//
// SQLite runs in WAL mode with busy_timeout 10s, foreign_keys on and
// synchronous=FULL, so that a write acknowledged to a SCIM client survives
// a power loss, not only a crash. All writes go through one connection
// and start with BEGIN IMMEDIATE; reads use a separate pool. Several
// processes (idpkit serve and idpkit tenant create) may share one file.
// SQLite maps no memory (mmap_size 0) and keeps small page caches, so
// that idpkit serve on a 1,000,000-user file stays far below 150 MiB of
// resident memory (see the pragmas below).
//
// Scale (issue 4): filters, sorting and paging run in SQL (query.go).
// resource_counts holds each tenant's count of each type, moved in the
// transaction of every create and delete, so CountResources without a
// filter is a key read, exact across processes; with it goes a
// generation that moves on with every create, delete and change of a
// Created. Pages of the default order without a filter remember, per
// generation, where they end (an in-process LRU of keyset cursors), so
// the next page of a sequential import seeks with (created, id) > (…)
// instead of skipping Offset rows, at the same cost at any depth. On
// PostgreSQL the counts are spread over countSlots rows: one row per
// type serialised concurrent creates in a tenant on its lock until each
// commit's WAL flush and halved their rate (200 concurrent creates:
// about 600/s against 1,300/s without the table, 1,100/s with 16
// slots). The hot statements are prepared once (cache.go), and a large
// CreateResources runs ANALYZE on PostgreSQL afterwards.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/idpkit/idpkit/scim/store"
)

var _ store.Store = (*Store)(nil)

// Options configures a Store. The zero value is ready to use.
type Options struct {
	// Now is the clock used for Created/Modified defaults and token
	// expiry; nil means time.Now.
	Now func() time.Time
	// Logger receives migration and connection messages; nil discards them.
	Logger *slog.Logger
}

// Store is a store.Store on SQLite or PostgreSQL. It is safe for
// concurrent use by many goroutines and by several processes sharing one
// database.
type Store struct {
	w   *sql.DB // writes: one connection for SQLite, a pool for PostgreSQL
	r   *sql.DB // reads: a separate pool on both
	fl  *flavor
	now func() time.Time
	log *slog.Logger

	stmts  stmtCache  // prepared statements of the hot queries
	commit *committer // SQLite only: group commit of creates (group.go)

	translated  sync.Map     // query text in PostgreSQL's dialect → s.fl's (see q)
	nTranslated atomic.Int64 // translations attempted into translated
	cursors     *cursorCache // keyset cursors of the default order (see scanDefault)

	closeOnce sync.Once
	closeErr  error
}

// postgresMaxConns caps the PostgreSQL pool so that many goroutines
// waiting on one row lock cannot exhaust the server's connections.
const postgresMaxConns = 10

// sqliteReaders is the size of the SQLite read pool.
const sqliteReaders = 4

// commonPragmas run on every SQLite connection, busy_timeout first so
// that the others wait for a lock instead of failing.
//
// No memory map (mmap_size 0): the pages of a mapped file count in the
// process's resident set once touched, so a 1,000,000-user file read
// through a map grows idpkit serve past its memory budget; read(2) of a
// page the kernel caches costs about as much as a cache miss in SQLite.
var commonPragmas = []string{
	"busy_timeout(10000)",
	"foreign_keys(1)",
	"synchronous(FULL)",
	"mmap_size(0)",
}

// Page cache sizes (negative: KiB). The caches of all connections add
// up in the resident set: 32 MiB for the writer plus 16 MiB for each of
// the sqliteReaders readers stay under 100 MiB, which keeps the interior
// pages of every index cached (a lookup reads only its leaf from the
// kernel's page cache). CreateResources raises the writer's cache to
// bulkCacheKiB for the length of a large batch (see bulk.go).
const (
	writerCacheKiB = 32 << 10
	readerCacheKiB = 16 << 10
)

// writerPragmas set up the one writer connection: WAL (persistent in the
// file, so readers use it too).
var writerPragmas = append(slices.Clone(commonPragmas), "journal_mode(WAL)", "cache_size(-"+strconv.Itoa(writerCacheKiB)+")")

// readerPragmas set up the read pool, which refuses writes.
var readerPragmas = append(slices.Clone(commonPragmas), "query_only(1)", "cache_size(-"+strconv.Itoa(readerCacheKiB)+")")

// Open connects to the database named by dsn and applies pending
// migrations. dsn is "sqlite:PATH" (the file is created when missing;
// "sqlite://PATH" is accepted too) or a "postgres://…" / "postgresql://…"
// URL as understood by pgx (query parameters such as sslmode and
// search_path pass through).
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	return open(ctx, dsn, opts, len(migrations))
}

// open is Open with the migrations applied up to number upTo (tests build
// databases of an older shape with it).
func open(ctx context.Context, dsn string, opts Options, upTo int) (*Store, error) {
	s := &Store{now: opts.Now, log: opts.Logger, cursors: newCursorCache(maxCursors)}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	var err error
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		err = s.openSQLite(ctx, strings.TrimPrefix(dsn, "sqlite:"))
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		err = s.openPostgres(ctx, dsn)
	default:
		return nil, fmt.Errorf("sqlstore: unsupported database %s: want sqlite:PATH or postgres://…", dsnScheme(dsn))
	}
	if err != nil {
		return nil, err
	}
	if err := s.migrateTo(ctx, upTo); err != nil {
		s.Close()
		return nil, err
	}
	if upTo == len(migrations) {
		s.prepareWrites(ctx)
	}
	return s, nil
}

func (s *Store) openSQLite(ctx context.Context, path string) error {
	if strings.HasPrefix(path, "//") {
		path = path[2:]
	}
	if path == "" {
		return errors.New("sqlstore: sqlite dsn has no file path")
	}
	if strings.ContainsAny(path, "?#") || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return fmt.Errorf("sqlstore: sqlite path %q must be a plain file name", path)
	}
	// A new database is created readable by its owner only (it holds
	// token hashes and client secrets); SQLite gives its -wal and -shm
	// files the same mode. An existing file keeps the mode it has.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	}
	w, err := sql.Open(sqliteDriver, sqliteDSN(path, writerPragmas, true))
	if err != nil {
		return fmt.Errorf("sqlstore: open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// The writer connects first so the file exists and is in WAL mode
	// before any reader opens it.
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return fmt.Errorf("sqlstore: open sqlite %s: %w", path, err)
	}
	r, err := sql.Open(sqliteDriver, sqliteDSN(path, readerPragmas, false))
	if err != nil {
		w.Close()
		return fmt.Errorf("sqlstore: open sqlite: %w", err)
	}
	r.SetMaxOpenConns(sqliteReaders)
	r.SetMaxIdleConns(sqliteReaders)
	s.w, s.r, s.fl = w, r, sqliteFlavor
	s.startCommitter()
	s.log.Debug("sqlstore: opened sqlite", "path", path)
	return nil
}

// openPostgres opens two pools of postgresMaxConns each: one for write
// transactions and one for reads. An UpdateResource callback may read
// through the store while its transaction holds a write connection (the
// server plans a group PATCH from the members it reads); with one shared
// pool, postgresMaxConns such transactions would hold every connection
// and wait forever for one more. Reads never wait for a write connection,
// and never for a row lock (MVCC), so two pools cannot deadlock.
func (s *Store) openPostgres(ctx context.Context, dsn string) error {
	if _, err := pgx.ParseConfig(dsn); err != nil {
		return dsnError(err)
	}
	var pools [2]*sql.DB
	for i := range pools {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return fmt.Errorf("sqlstore: open postgres: %w", err)
		}
		db.SetMaxOpenConns(postgresMaxConns)
		db.SetMaxIdleConns(postgresMaxConns)
		db.SetConnMaxIdleTime(5 * time.Minute)
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			if i == 1 {
				pools[0].Close()
			}
			return fmt.Errorf("sqlstore: connect to postgres: %w", err)
		}
		pools[i] = db
	}
	s.w, s.r, s.fl = pools[0], pools[1], postgresFlavor
	s.log.Debug("sqlstore: opened postgres")
	return nil
}

// Close releases the database. It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.stopCommitter()
		errs := []error{s.stmts.close()}
		if s.r != nil && s.r != s.w {
			errs = append(errs, s.r.Close())
		}
		if s.w != nil {
			errs = append(errs, s.w.Close())
		}
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("sqlstore: close: %w", err)
		}
	})
	return s.closeErr
}

// q translates a query from PostgreSQL's dialect to the store's.
func (s *Store) q(query string) string {
	if t, ok := s.translated.Load(query); ok {
		return t.(string)
	}
	t := s.fl.translate(query)
	// Fixed query texts repeat; those built from a filter are open-ended,
	// so only the first maxTranslated texts are remembered.
	if s.nTranslated.Add(1) <= maxTranslated {
		s.translated.Store(query, t)
	}
	return t
}

// maxTranslated bounds the translations a Store remembers.
const maxTranslated = 1024

// tx runs fn in a write transaction (BEGIN IMMEDIATE on SQLite) and
// commits when fn returns nil. Errors from fn are returned unchanged.
//
// On PostgreSQL a transaction that the server aborts to break a deadlock
// (or a serialization failure) runs again, up to maxTxAttempts times:
// a user delete locks the user and then its groups, while a group write
// locks the group and then checks its new members' users, so the two can
// meet in opposite orders. fn runs again from the start on a fresh
// transaction, so it must keep nothing from an aborted run (every caller
// reads what it changes inside fn).
func (s *Store) tx(ctx context.Context, op string, fn func(*sql.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.txOnce(ctx, op, fn)
		if err == nil || s.fl.isRetryable == nil || !s.fl.isRetryable(err) || attempt == maxTxAttempts {
			return err
		}
		s.log.Debug("sqlstore: transaction aborted by the database; running it again", "op", op, "attempt", attempt, "err", err)
		select {
		case <-time.After(time.Duration(attempt) * 5 * time.Millisecond):
		case <-ctx.Done():
			return err
		}
	}
}

// maxTxAttempts bounds how often tx runs a transaction the database
// aborted.
const maxTxAttempts = 5

// txOnce is one attempt of tx.
func (s *Store) txOnce(ctx context.Context, op string, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: %s: begin: %w", op, err)
	}
	defer tx.Rollback() // no-op after Commit; releases the connection if fn panics
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: %s: commit: %w", op, err)
	}
	return nil
}

// stamp returns the current time as the store keeps it.
func (s *Store) stamp() time.Time { return norm(s.now()) }

// norm truncates t to what the database holds (microseconds, UTC), so a
// value returned from a write equals the value a later read returns.
func norm(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return fromDB(toDB(t))
}

// toDB encodes t as microseconds since the Unix epoch.
func toDB(t time.Time) int64 { return t.UnixMicro() }

// fromDB decodes microseconds since the Unix epoch into a UTC time.
func fromDB(us int64) time.Time { return time.UnixMicro(us).UTC() }

// blob returns b, or an empty non-nil slice, since the columns are NOT NULL.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// storable reports whether every s can be a text value of both backends:
// valid UTF-8 without NUL bytes (PostgreSQL's text type refuses both).
// Keys from URLs that are not storable name nothing, so lookups with them
// answer store.ErrNotFound instead of a database error.
func storable(s ...string) bool {
	for _, v := range s {
		if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
			return false
		}
	}
	return true
}

// unblob returns nil for an empty value, so what was written as nil reads
// back as nil on both backends.
func unblob(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// dsnError is the error of a PostgreSQL DSN that does not parse, without
// the DSN: pgx masks the password in its message only as far as it can
// tell where the password ends, which in a DSN that does not parse it
// often cannot.
func dsnError(err error) error {
	reason := "it is not a valid postgres:// URL or key=value string"
	if inner := errors.Unwrap(err); inner != nil {
		var pe *pgconn.ParseConfigError
		if !errors.As(inner, &pe) {
			reason = inner.Error()
		}
	}
	return fmt.Errorf("sqlstore: the PostgreSQL DSN does not parse (%s); percent-encode special characters in the user name and password, such as / as %%2F, @ as %%40, : as %%3A, # as %%23", reason)
}

// dsnScheme names the kind of an unsupported DSN for an error without
// quoting the DSN itself, which may hold a password (a key=value DSN such
// as "host=db password=…" has no scheme at all).
func dsnScheme(dsn string) string {
	scheme, _, found := strings.Cut(dsn, ":")
	valid := found && scheme != ""
	for _, c := range scheme {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			valid = false
		}
	}
	if !valid || len(scheme) > 32 {
		return "(not a URL; a key=value DSN is not supported: write it as postgres://user:password@host:port/db, a file as sqlite:PATH)"
	}
	return strconv.Quote(scheme + ":")
}
