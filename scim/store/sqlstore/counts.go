package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/maphash"

	"github.com/idpkit/idpkit/scim/store"
)

// countSlots is how many rows of resource_counts hold a type's count on
// PostgreSQL. A write moves the row of one slot, chosen by the
// resource's id, and holds its lock until the commit: with one row per
// type, concurrent creates in a tenant would each wait for the previous
// commit's WAL flush (measured with 200 concurrent creates: 600/s with
// one row, 1,300/s without the table). SQLite has one writer at a time,
// so it uses slot 0 only.
//
// The count is the sum of n over the slots; the generation is the sum of
// gen, which grows by one with every committed change, so a snapshot's
// generation names the set of changes it sees (PostgreSQL's snapshots
// see nested sets of committed transactions).
const countSlots = 16

// addCountSQL moves the count of a type by $4 and its generation on by
// one, in slot $3. It runs last in the write transaction, so that the
// row lock is held only until the commit.
const addCountSQL = `INSERT INTO resource_counts (tenant, type, slot, n, gen) VALUES ($1, $2, $3, $4, 1)
	ON CONFLICT (tenant, type, slot) DO UPDATE SET n = resource_counts.n + excluded.n, gen = resource_counts.gen + 1`

// slotSeed spreads ids over the slots; a process-wide constant, since
// any slot is correct.
var slotSeed = maphash.MakeSeed()

// slot returns the count slot a write of id moves.
func (s *Store) slot(id string) int64 {
	if s.fl.name != "postgres" {
		return 0
	}
	return int64(maphash.String(slotSeed, id) % countSlots)
}

// addCount adds delta to the count of typ in tx and moves its
// generation on (delta 0 only moves the generation); id picks the slot.
func (s *Store) addCount(ctx context.Context, tx *sql.Tx, tenant, typ, id string, delta int) error {
	if _, err := s.txExec(ctx, tx, s.q(addCountSQL), tenant, typ, s.slot(id), int64(delta)); err != nil {
		return fmt.Errorf("sqlstore: count %s in tenant %q: %w", typ, tenant, err)
	}
	return nil
}

// genSQL reads a type's count and generation.
const genSQL = `SELECT COALESCE(SUM(n), 0), COALESCE(SUM(gen), 0) FROM resource_counts WHERE tenant = $1 AND type = $2`

// readCount returns the count and generation of typ (0, 0 when the
// tenant never had one).
func readCount(row *sql.Row) (n, gen int64, err error) {
	err = row.Scan(&n, &gen)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, nil
	}
	return n, gen, err
}

// countAll is CountResources without a filter: one primary-key read,
// exact across processes since every create and delete moves the count
// in its own transaction.
func (s *Store) countAll(ctx context.Context, tenant, typ string) (int, error) {
	n, _, err := readCount(s.queryRowContext(ctx, s.r, s.q(genSQL), tenant, typ))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: count %s in tenant %q: %w", typ, tenant, err)
	}
	return int(n), nil
}

// defaultPageSQL reads the page after a keyset cursor in the default
// order: an index range scan of resources_created, at any depth.
const defaultPageSQL = `SELECT ` + resourceColumns + ` FROM resources r
	WHERE r.tenant = $1 AND r.type = $2 AND (r.created, r.id) > ($3, $4) ORDER BY r.created, r.id`

// scanDefault is ScanResources for a page of the default order without
// a filter (q.Where nil, q.Sort "", a Limit or an Offset), the shape of
// an import that pages through every user. It reads the type's
// generation and the page in one read transaction (one snapshot); when a
// page of the same generation ended at q.Offset, it seeks past that
// page's last row through the index instead of skipping Offset rows, and
// it remembers where this page ends for the next one.
func (s *Store) scanDefault(ctx context.Context, tenant, typ string, q store.Query, fn func(store.Record) error) error {
	opts := &sql.TxOptions{ReadOnly: true}
	if s.fl.name == "postgres" {
		opts.Isolation = sql.LevelRepeatableRead // one snapshot for both statements
	}
	// Prepare what the transaction may run before it holds a connection.
	fallback, fargs, err := s.selectSQL(tenant, typ, q)
	if err != nil {
		return err
	}
	fallback = s.q(fallback)
	seek := defaultPageSQL
	if q.Limit > 0 {
		seek += ` LIMIT $5`
	}
	seek = s.q(seek)
	gq := s.q(genSQL)
	for _, query := range []string{gq, seek, fallback} {
		s.stmts.get(ctx, s.r, query)
	}
	tx, err := s.r.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("sqlstore: list %s in tenant %q: %w", typ, tenant, err)
	}
	defer tx.Rollback()
	var row *sql.Row
	if st := s.txStmt(ctx, tx, s.r, gq); st != nil {
		row = st.QueryRowContext(ctx, tenant, typ)
	} else {
		row = tx.QueryRowContext(ctx, gq, tenant, typ)
	}
	_, gen, err := readCount(row)
	if err != nil {
		return fmt.Errorf("sqlstore: list %s in tenant %q: %w", typ, tenant, err)
	}
	query, args := fallback, fargs
	if c, ok := s.cursors.get(cursorKey{tenant, typ, gen, q.Offset}); ok && q.Offset > 0 {
		query, args = seek, []any{tenant, typ, c.created, c.id}
		if q.Limit > 0 {
			args = append(args, int64(q.Limit))
		}
	}
	var rows *sql.Rows
	if st := s.txStmt(ctx, tx, s.r, query); st != nil {
		rows, err = st.QueryContext(ctx, args...)
	} else {
		rows, err = tx.QueryContext(ctx, query, args...)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: list %s in tenant %q: %w", typ, tenant, err)
	}
	defer rows.Close()
	n := 0
	var last cursor
	defer func() {
		if n > 0 {
			s.cursors.put(cursorKey{tenant, typ, gen, q.Offset + n}, last)
		}
	}()
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return fmt.Errorf("sqlstore: list %s in tenant %q: %w", typ, tenant, err)
		}
		n++
		last = cursor{toDB(r.Created), r.ID}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlstore: list %s in tenant %q: %w", typ, tenant, err)
	}
	return nil
}
