package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/idpkit/idpkit/scim/store"
)

// auditRowsPerInsert is the most records one INSERT of AppendAudit
// carries (9 parameters each: 1,152, under SQLite's 32,766 and
// PostgreSQL's 65,535 parameters a statement).
const auditRowsPerInsert = 128

// AppendAudit stores audit records of a tenant in one transaction, with
// multi-row INSERTs: a batch of the audit writer (100 records) is three
// statements (64 + 32 + 4 rows) rather than one per record, so it holds
// SQLite's single writer, which SCIM writes wait for, and a PostgreSQL
// connection for as few round trips as it can. Each INSERT carries a
// power of two of rows, so that at most eight query texts exist, each
// translated (Store.q) and prepared (Store.stmts) once.
func (s *Store) AppendAudit(ctx context.Context, tenant string, recs []store.AuditRecord) error {
	if len(recs) == 0 {
		return nil
	}
	for _, r := range recs {
		if !storable(tenant, r.Kind, r.Actor, r.Source, r.Action, r.Target, string(r.Detail), r.Outcome) {
			return fmt.Errorf("sqlstore: append audit: a field holds a NUL byte or invalid UTF-8")
		}
	}
	// The INSERTs, by rows: prepared before the transaction (on SQLite a
	// transaction holds the one writer connection, so nothing can be
	// prepared inside it), so that SQLite does not parse a statement of
	// up to a thousand parameters while SCIM writes wait.
	var sizes []int
	for left := len(recs); left > 0; {
		n := auditRowsPerInsert
		for n > left {
			n /= 2
		}
		sizes = append(sizes, n)
		left -= n
	}
	queries := make([]string, len(sizes))
	for i, n := range sizes {
		queries[i] = s.q(auditInsert(n))
		s.stmts.get(ctx, s.w, queries[i])
	}
	return s.tx(ctx, "append audit", func(tx *sql.Tx) error {
		rest := recs
		for i, n := range sizes {
			args := make([]any, 0, 9*n)
			for _, r := range rest[:n] {
				args = append(args, tenant, toDB(r.At), r.Kind, r.Actor, r.Source, r.Action, r.Target, string(r.Detail), r.Outcome)
			}
			if _, err := s.txExec(ctx, tx, queries[i], args...); err != nil {
				return fmt.Errorf("sqlstore: append audit: %w", err)
			}
			rest = rest[n:]
		}
		return nil
	})
}

// auditInsert is the INSERT of n audit rows, in PostgreSQL's dialect.
func auditInsert(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO audit (tenant, at, kind, actor, source, action, target, detail, outcome) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j := range 9 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("$" + strconv.Itoa(9*i+j+1))
		}
		b.WriteByte(')')
	}
	return b.String()
}

// ListAudit returns a tenant's audit records at or after since, oldest
// first, at most limit (0: all).
func (s *Store) ListAudit(ctx context.Context, tenant string, since time.Time, limit int) ([]store.AuditRecord, error) {
	return s.listAudit(ctx, tenant, since, limit, "ORDER BY at, seq")
}

// LatestAudit returns a tenant's newest audit records at or after since,
// newest first, at most limit (0: all): one read of the (tenant, at, seq)
// index backwards.
func (s *Store) LatestAudit(ctx context.Context, tenant string, since time.Time, limit int) ([]store.AuditRecord, error) {
	return s.listAudit(ctx, tenant, since, limit, "ORDER BY at DESC, seq DESC")
}

func (s *Store) listAudit(ctx context.Context, tenant string, since time.Time, limit int, order string) ([]store.AuditRecord, error) {
	if !storable(tenant) {
		return nil, nil
	}
	q := `SELECT at, kind, actor, source, action, target, detail, outcome FROM audit WHERE tenant = $1 AND at >= $2 ` + order
	args := []any{tenant, toDB(since)}
	if limit > 0 {
		q += ` LIMIT $3`
		args = append(args, limit)
	}
	rows, err := s.r.QueryContext(ctx, s.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list audit: %w", err)
	}
	defer rows.Close()
	var out []store.AuditRecord
	for rows.Next() {
		r := store.AuditRecord{Tenant: tenant}
		var at int64
		var detail string
		if err := rows.Scan(&at, &r.Kind, &r.Actor, &r.Source, &r.Action, &r.Target, &detail, &r.Outcome); err != nil {
			return nil, fmt.Errorf("sqlstore: list audit: %w", err)
		}
		r.At = fromDB(at)
		if detail != "" {
			r.Detail = []byte(detail)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list audit: %w", err)
	}
	return out, nil
}

// PruneAudit deletes every tenant's audit records from before before.
func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.tx(ctx, "prune audit", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM audit WHERE at < $1`), toDB(before))
		if err != nil {
			return fmt.Errorf("sqlstore: prune audit: %w", err)
		}
		n, err = res.RowsAffected()
		if err != nil {
			return fmt.Errorf("sqlstore: prune audit: %w", err)
		}
		return nil
	})
	return int(n), err
}
