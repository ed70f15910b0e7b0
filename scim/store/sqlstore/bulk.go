package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/idpkit/idpkit/scim/store"
)

// Rows per multi-row INSERT of CreateResources: resources take 13
// parameters a row, emails 3 (plus the tenant).
const (
	bulkResources = 64
	bulkEmails    = 128
)

// multiInsert returns an INSERT of n rows, each of the row template
// with its $k (k ≥ 1) renumbered after the ones of earlier rows. Rows
// share no parameter, so that SQLite gets plain ? placeholders.
func multiInsert(head, row string, per, n int) string {
	var b strings.Builder
	b.WriteString(head)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		r := row
		for k := per; k >= 1; k-- {
			r = strings.ReplaceAll(r, "$"+strconv.Itoa(k)+")", "#"+strconv.Itoa(i*per+k)+")")
			r = strings.ReplaceAll(r, "$"+strconv.Itoa(k)+",", "#"+strconv.Itoa(i*per+k)+",")
		}
		b.WriteString(strings.ReplaceAll(r, "#", "$"))
	}
	return b.String()
}

// bulkWriter buffers the rows of CreateResources and writes them with
// prepared multi-row statements.
type bulkWriter struct {
	s      *Store
	tx     *sql.Tx
	tenant string

	res, resOne       *sql.Stmt
	emails, emailsOne *sql.Stmt
	resArgs           []any
	resN              int
	emailArgs         []any
	emailN            int
}

// Parameters per row of the multi-row INSERTs.
const (
	resPer  = 13
	mailPer = 4
)

const (
	bulkResHead  = `INSERT INTO resources (tenant, type, id, version, user_name, user_name_folded, external_id, display_name, display_name_folded, emails, data, created, modified) VALUES `
	bulkResRow   = `($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`
	bulkMailHead = `INSERT INTO emails (tenant, user_type, user_id, pos, value_folded) VALUES `
	bulkMailRow  = `($1, 'User', $2, $3, $4)`
)

func (w *bulkWriter) prepare(ctx context.Context) error {
	var err error
	prep := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = w.tx.PrepareContext(ctx, w.s.q(q))
		return st
	}
	w.res = prep(multiInsert(bulkResHead, bulkResRow, resPer, bulkResources))
	w.resOne = prep(multiInsert(bulkResHead, bulkResRow, resPer, 1))
	w.emails = prep(multiInsert(bulkMailHead, bulkMailRow, mailPer, bulkEmails))
	w.emailsOne = prep(multiInsert(bulkMailHead, bulkMailRow, mailPer, 1))
	return err
}

func (w *bulkWriter) close() {
	for _, st := range []*sql.Stmt{w.res, w.resOne, w.emails, w.emailsOne} {
		if st != nil {
			st.Close()
		}
	}
}

// add buffers one prepared record.
func (w *bulkWriter) add(ctx context.Context, r *store.Record) error {
	args := insertArgs(w.tenant, r)
	w.resArgs = append(w.resArgs, args...)
	w.resN++
	if r.Type == store.TypeUser {
		for i, e := range r.Emails {
			w.emailArgs = append(w.emailArgs, w.tenant, r.ID, i, store.Fold(e))
			w.emailN++
		}
	}
	if w.resN == bulkResources {
		if err := w.flushResources(ctx, w.res); err != nil {
			return err
		}
	}
	return nil
}

func (w *bulkWriter) flushResources(ctx context.Context, st *sql.Stmt) error {
	if w.resN == 0 {
		return nil
	}
	if st == w.resOne {
		for i := 0; i < w.resN; i++ {
			if err := w.exec(ctx, st, w.resArgs[i*resPer:(i+1)*resPer]); err != nil {
				return err
			}
		}
	} else if err := w.exec(ctx, st, w.resArgs); err != nil {
		return err
	}
	w.resArgs, w.resN = w.resArgs[:0], 0
	// Emails go after their users (the foreign key).
	for w.emailN >= bulkEmails {
		if err := w.execEmails(ctx, w.emails, w.emailArgs[:mailPer*bulkEmails]); err != nil {
			return err
		}
		w.emailArgs, w.emailN = w.emailArgs[mailPer*bulkEmails:], w.emailN-bulkEmails
	}
	return nil
}

func (w *bulkWriter) exec(ctx context.Context, st *sql.Stmt, args []any) error {
	_, err := st.ExecContext(ctx, args...)
	if w.s.fl.isUnique(err) {
		return fmt.Errorf("sqlstore: create resources in tenant %q: an id or userName is taken: %w", w.tenant, store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create resources in tenant %q: %w", w.tenant, err)
	}
	return nil
}

func (w *bulkWriter) execEmails(ctx context.Context, st *sql.Stmt, args []any) error {
	if _, err := st.ExecContext(ctx, args...); err != nil {
		return fmt.Errorf("sqlstore: create resources in tenant %q: emails: %w", w.tenant, err)
	}
	return nil
}

// flush writes everything buffered.
func (w *bulkWriter) flush(ctx context.Context) error {
	if err := w.flushResources(ctx, w.resOne); err != nil {
		return err
	}
	for i := 0; i < w.emailN; i++ {
		if err := w.execEmails(ctx, w.emailsOne, w.emailArgs[mailPer*i:mailPer*(i+1)]); err != nil {
			return err
		}
	}
	w.emailArgs, w.emailN = w.emailArgs[:0], 0
	return nil
}

// bulkCacheMin is the batch size from which CreateResources on SQLite
// raises the writer's page cache to bulkCacheKiB for the length of the
// call: the indexes of a large tenant (six on resources, one on emails)
// outgrow the writer's usual cache, and every insert into an index whose
// pages are not cached is a read of the file.
const (
	bulkCacheMin = 1000
	bulkCacheKiB = 256 << 10
)

// analyzeMin is the batch size after which CreateResources on PostgreSQL
// runs ANALYZE: a planner without statistics for a freshly loaded table
// can choose plans that read it once per row.
const analyzeMin = 1000

// CreateResources stores many new resources (each with Version 1) in one
// transaction with prepared multi-row statements: all of them or, on any
// error, none. store.ErrExists when any one collides; a Group's
// Members.Add may name Users that come earlier in rs.
func (s *Store) CreateResources(ctx context.Context, tenant string, rs []store.Record) error {
	for i := range rs {
		if err := checkRecord("create", tenant, &rs[i]); err != nil {
			return err
		}
	}
	if len(rs) == 0 {
		return nil
	}
	bigCache := s.fl.name == "sqlite" && len(rs) >= bulkCacheMin
	if bigCache {
		// The writer is one connection, so the PRAGMA, the transaction and
		// the reset all run on it.
		if _, err := s.w.ExecContext(ctx, "PRAGMA cache_size = -"+strconv.Itoa(bulkCacheKiB)); err != nil {
			return fmt.Errorf("sqlstore: create resources in tenant %q: %w", tenant, err)
		}
		defer func() {
			// Shrinking the cache frees its pages.
			if _, err := s.w.ExecContext(context.WithoutCancel(ctx), "PRAGMA cache_size = -"+strconv.Itoa(writerCacheKiB)); err != nil {
				s.log.Warn("sqlstore: reset the writer's cache size", "err", err)
			}
		}()
	}
	err := s.tx(ctx, "create resources", func(tx *sql.Tx) error {
		w := &bulkWriter{s: s, tx: tx, tenant: tenant}
		defer w.close()
		if err := w.prepare(ctx); err != nil {
			return fmt.Errorf("sqlstore: create resources in tenant %q: %w", tenant, err)
		}
		counts := map[string]int{}
		for i := range rs {
			r := rs[i] // a copy: the caller's records are not changed
			s.prepareCreate(&r)
			if r.Type != store.TypeUser {
				r.Emails = nil
			}
			counts[r.Type]++
			if err := w.add(ctx, &r); err != nil {
				return err
			}
			if r.Type == store.TypeGroup && r.Members != nil && len(r.Members.Add) > 0 {
				// The group's row and the users before it must be written
				// before its members.
				if err := w.flush(ctx); err != nil {
					return err
				}
				if err := s.applyMembers(ctx, tx, tenant, r.ID, &store.MemberChange{Add: r.Members.Add}); err != nil {
					return err
				}
			}
		}
		if err := w.flush(ctx); err != nil {
			return err
		}
		types := slices.Sorted(maps.Keys(counts)) // one lock order on PostgreSQL
		for _, typ := range types {
			if err := s.addCount(ctx, tx, tenant, typ, "", counts[typ]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if s.fl.name == "postgres" && len(rs) >= analyzeMin {
		// The rows are committed; statistics are an optimisation, so a
		// failure is only logged.
		if _, err := s.w.ExecContext(ctx, `ANALYZE resources, emails, members, resource_counts`); err != nil {
			s.log.Warn("sqlstore: analyze after a bulk create", "tenant", tenant, "err", err)
		}
	}
	return nil
}
