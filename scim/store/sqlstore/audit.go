package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/idpkit/idpkit/scim/store"
)

// AppendAudit stores audit records of a tenant in one transaction.
func (s *Store) AppendAudit(ctx context.Context, tenant string, recs []store.AuditRecord) error {
	if len(recs) == 0 {
		return nil
	}
	for _, r := range recs {
		if !storable(tenant, r.Kind, r.Actor, r.Source, r.Action, r.Target, string(r.Detail), r.Outcome) {
			return fmt.Errorf("sqlstore: append audit: a field holds a NUL byte or invalid UTF-8")
		}
	}
	return s.tx(ctx, "append audit", func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, s.q(`INSERT INTO audit (tenant, at, kind, actor, source, action, target, detail, outcome) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`))
		if err != nil {
			return fmt.Errorf("sqlstore: append audit: %w", err)
		}
		defer stmt.Close()
		for _, r := range recs {
			if _, err := stmt.ExecContext(ctx, tenant, toDB(r.At), r.Kind, r.Actor, r.Source, r.Action, r.Target, string(r.Detail), r.Outcome); err != nil {
				return fmt.Errorf("sqlstore: append audit: %w", err)
			}
		}
		return nil
	})
}

// ListAudit returns a tenant's audit records at or after since, oldest
// first, at most limit (0: all).
func (s *Store) ListAudit(ctx context.Context, tenant string, since time.Time, limit int) ([]store.AuditRecord, error) {
	if !storable(tenant) {
		return nil, nil
	}
	q := `SELECT at, kind, actor, source, action, target, detail, outcome FROM audit WHERE tenant = $1 AND at >= $2 ORDER BY at, seq`
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
