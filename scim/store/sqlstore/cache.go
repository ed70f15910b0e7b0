package sqlstore

import (
	"container/list"
	"context"
	"database/sql"
	"sync"
)

// maxStmts bounds the prepared statements a Store keeps. Hot queries
// (GetTenant, GetResource, a userName lookup, the default order's pages,
// GroupsOf and ListMembers of a page) have a fixed text and are prepared
// once; a query text beyond the bound (filters are open-ended) runs
// unprepared, so a stream of distinct filters cannot grow the cache.
const maxStmts = 256

// stmtCache holds prepared statements by database and query text. A
// *sql.Stmt on a pool prepares itself again on each connection it runs
// on, transparently; modernc.org/sqlite would otherwise parse the SQL on
// every call.
type stmtCache struct {
	mu sync.Mutex
	m  map[stmtKey]*sql.Stmt
}

type stmtKey struct {
	db    *sql.DB
	query string
}

// get returns the prepared statement of query (already translated) on
// db, preparing it on first use; nil when the cache is full or the
// statement does not prepare (the caller then runs the text itself and
// reports its error).
func (c *stmtCache) get(ctx context.Context, db *sql.DB, query string) *sql.Stmt {
	k := stmtKey{db, query}
	c.mu.Lock()
	st, ok := c.m[k]
	full := len(c.m) >= maxStmts
	c.mu.Unlock()
	if ok {
		return st
	}
	if full {
		return nil
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[k]; ok { // prepared by another goroutine meanwhile
		st.Close()
		return old
	}
	if c.m == nil {
		c.m = map[stmtKey]*sql.Stmt{}
	}
	c.m[k] = st
	return st
}

// lookup returns the prepared statement of query on db when the cache
// has it, else nil; it never prepares.
func (c *stmtCache) lookup(db *sql.DB, query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[stmtKey{db, query}]
}

// close closes every statement.
func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var first error
	for k, st := range c.m {
		if err := st.Close(); err != nil && first == nil {
			first = err
		}
		delete(c.m, k)
	}
	return first
}

// queryContext runs a translated query on db through a prepared statement.
func (s *Store) queryContext(ctx context.Context, db *sql.DB, query string, args ...any) (*sql.Rows, error) {
	if st := s.stmts.get(ctx, db, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return db.QueryContext(ctx, query, args...)
}

// queryRowContext is queryContext for one row.
func (s *Store) queryRowContext(ctx context.Context, db *sql.DB, query string, args ...any) *sql.Row {
	if st := s.stmts.get(ctx, db, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return db.QueryRowContext(ctx, query, args...)
}

// txStmt returns the prepared statement of query for tx (which reuses
// the connection's prepared copy when there is one), or nil. It never
// prepares: preparing on db needs a free connection of db, and the
// SQLite writer pool has one, which tx holds, so that would wait forever.
func (s *Store) txStmt(ctx context.Context, tx *sql.Tx, db *sql.DB, query string) *sql.Stmt {
	if st := s.stmts.lookup(db, query); st != nil {
		return tx.StmtContext(ctx, st)
	}
	return nil
}

// txExec runs a translated statement in tx, prepared when it can be.
func (s *Store) txExec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if st := s.txStmt(ctx, tx, s.w, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// txQueryRow runs a translated one-row query in tx, prepared when it can
// be.
func (s *Store) txQueryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	if st := s.txStmt(ctx, tx, s.w, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, query, args...)
}

// hotWrites are the statements of the single-resource writes, prepared
// on the writer when the store opens (in PostgreSQL's dialect), so that
// txExec finds them.
var hotWrites = []string{insertSQL, addCountSQL, getSQL + ` FOR UPDATE`, updateSQL, deleteSQL, versionSQL}

// prepareWrites prepares hotWrites on the writer.
func (s *Store) prepareWrites(ctx context.Context) {
	for _, q := range hotWrites {
		s.stmts.get(ctx, s.w, s.q(q))
	}
}

// maxCursors bounds the keyset cursors a Store remembers.
const maxCursors = 1024

// cursorKey names a position in the default order (created, id) of a
// tenant's resources of one type, with no filter: after the first offset
// resources, when the type's generation (resource_counts.gen) was gen.
// The generation moves on with every create and delete of that tenant's
// type and every change of a Created, so the resources before a position
// are exactly the same whenever the same key is seen.
type cursorKey struct {
	tenant, typ string
	gen         int64
	offset      int
}

// cursor is the last resource before a position: the page that starts
// there is the resources after (created, id).
type cursor struct {
	created int64
	id      string
}

// cursorCache is a small LRU of keyset cursors, safe for concurrent use.
// It lets sequential imports (startIndex 1, 101, 201, … in the default
// order) seek to each page through the index instead of skipping
// Offset rows.
type cursorCache struct {
	mu  sync.Mutex
	max int
	ll  *list.List // of *cursorEntry, most recent first
	m   map[cursorKey]*list.Element
}

type cursorEntry struct {
	key cursorKey
	val cursor
}

func newCursorCache(max int) *cursorCache {
	return &cursorCache{max: max, ll: list.New(), m: map[cursorKey]*list.Element{}}
}

// get returns the cursor at k.
func (c *cursorCache) get(k cursorKey) (cursor, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		return cursor{}, false
	}
	c.ll.MoveToFront(e)
	return e.Value.(*cursorEntry).val, true
}

// put remembers the cursor at k, dropping the least recently used entry
// beyond the bound.
func (c *cursorCache) put(k cursorKey, v cursor) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[k]; ok {
		e.Value.(*cursorEntry).val = v
		c.ll.MoveToFront(e)
		return
	}
	c.m[k] = c.ll.PushFront(&cursorEntry{k, v})
	for c.ll.Len() > c.max {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.m, last.Value.(*cursorEntry).key)
	}
}

// len returns the number of cursors held.
func (c *cursorCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
