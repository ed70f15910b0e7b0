package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/idpkit/idpkit/scim/store"
)

const resourceColumns = `type, id, version, user_name, external_id, display_name, data, created, modified`

func scanRecord(row rowScanner) (store.Record, error) {
	var r store.Record
	var created, modified int64
	err := row.Scan(&r.Type, &r.ID, &r.Version, &r.UserName, &r.ExternalID, &r.DisplayName, &r.Data, &created, &modified)
	r.Data = unblob(r.Data)
	r.Created, r.Modified = fromDB(created), fromDB(modified)
	return r, err
}

// fold is the case-insensitive key of a userName. It is computed in Go
// and stored, so SQLite and PostgreSQL agree on what collides.
func fold(userName string) string { return strings.ToLower(userName) }

// CreateResource stores r with Version 1 and returns it as stored.
// store.ErrExists when r.ID exists or r.UserName is taken in the tenant,
// case-insensitively. Zero Created and Modified are set to the current time.
func (s *Store) CreateResource(ctx context.Context, tenant string, r store.Record) (store.Record, error) {
	if r.Type == "" || r.ID == "" {
		return store.Record{}, errors.New("sqlstore: create resource: type and id are required")
	}
	if !storable(tenant, r.Type, r.ID, r.UserName, r.ExternalID, r.DisplayName) {
		return store.Record{}, fmt.Errorf("sqlstore: create %s in tenant %q: an indexed value holds a NUL byte or invalid UTF-8", r.Type, tenant)
	}
	r.Version = 1
	if r.Created.IsZero() {
		r.Created = s.stamp()
	}
	if r.Modified.IsZero() {
		r.Modified = r.Created
	}
	r.Created, r.Modified = norm(r.Created), norm(r.Modified)
	r.Data = unblob(r.Data)
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO resources (tenant, type, id, version, user_name, user_name_folded,
		external_id, display_name, data, created, modified) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`),
		tenant, r.Type, r.ID, r.Version, r.UserName, fold(r.UserName), r.ExternalID, r.DisplayName, blob(r.Data), toDB(r.Created), toDB(r.Modified))
	if s.fl.isUnique(err) {
		return store.Record{}, fmt.Errorf("sqlstore: %s %q (userName %q) in tenant %q: %w", r.Type, r.ID, r.UserName, tenant, store.ErrExists)
	}
	if err != nil {
		return store.Record{}, fmt.Errorf("sqlstore: create %s in tenant %q: %w", r.Type, tenant, err)
	}
	return r, nil
}

// GetResource returns one resource; store.ErrNotFound when absent.
func (s *Store) GetResource(ctx context.Context, tenant, typ, id string) (store.Record, error) {
	if !storable(tenant, typ, id) {
		return store.Record{}, fmt.Errorf("sqlstore: %s %q in tenant %q: %w", typ, id, tenant, store.ErrNotFound)
	}
	r, err := scanRecord(s.r.QueryRowContext(ctx, s.q(`SELECT `+resourceColumns+` FROM resources WHERE tenant = $1 AND type = $2 AND id = $3`), tenant, typ, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Record{}, fmt.Errorf("sqlstore: %s %q in tenant %q: %w", typ, id, tenant, store.ErrNotFound)
	}
	if err != nil {
		return store.Record{}, fmt.Errorf("sqlstore: get %s %q in tenant %q: %w", typ, id, tenant, err)
	}
	return r, nil
}

// ListResources returns the tenant's resources of type typ that match q,
// ordered by creation time, then ID.
func (s *Store) ListResources(ctx context.Context, tenant, typ string, q store.Query) ([]store.Record, error) {
	if !storable(tenant, typ, q.ID, q.UserName, q.ExternalID, q.DisplayName) {
		return nil, nil // no stored value can match
	}
	var b strings.Builder
	b.WriteString(`SELECT ` + resourceColumns + ` FROM resources WHERE tenant = $1 AND type = $2`)
	args := []any{tenant, typ}
	for _, c := range []struct{ col, val string }{
		{"id", q.ID},
		{"user_name_folded", fold(q.UserName)},
		{"external_id", q.ExternalID},
		{"display_name", q.DisplayName},
	} {
		if c.val == "" {
			continue
		}
		args = append(args, c.val)
		b.WriteString(" AND " + c.col + " = $" + strconv.Itoa(len(args)))
		if c.col == "user_name_folded" {
			// Repeat the partial index's condition, or SQLite will not use
			// resources_user_name and scans the tenant in created order.
			b.WriteString(" AND user_name_folded <> ''")
		}
	}
	b.WriteString(` ORDER BY created, id`)
	rows, err := s.r.QueryContext(ctx, s.q(b.String()), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list %s in tenant %q: %w", typ, tenant, err)
	}
	defer rows.Close()
	var out []store.Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list %s in tenant %q: %w", typ, tenant, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list %s in tenant %q: %w", typ, tenant, err)
	}
	return out, nil
}

// DeleteResourceVersion deletes the resource only at the given version,
// in one statement; when nothing was deleted it tells a missing resource
// (ErrNotFound) from a changed one (ErrStale).
func (s *Store) DeleteResourceVersion(ctx context.Context, tenant, typ, id string, version int64) error {
	if !storable(tenant, typ, id) {
		return fmt.Errorf("sqlstore: %s %q in tenant %q: %w", typ, id, tenant, store.ErrNotFound)
	}
	res, err := s.w.ExecContext(ctx, s.q(`DELETE FROM resources WHERE tenant = $1 AND type = $2 AND id = $3 AND version = $4`), tenant, typ, id, version)
	if err != nil {
		return fmt.Errorf("sqlstore: delete %s %q in tenant %q: %w", typ, id, tenant, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: delete %s %q in tenant %q: %w", typ, id, tenant, err)
	}
	if n == 1 {
		return nil
	}
	if _, err := s.GetResource(ctx, tenant, typ, id); err != nil {
		return err
	}
	return fmt.Errorf("sqlstore: %s %q in tenant %q is no longer version %d: %w", typ, id, tenant, version, store.ErrStale)
}

// CountResources returns how many resources of type typ the tenant holds.
func (s *Store) CountResources(ctx context.Context, tenant, typ string) (int, error) {
	if !storable(tenant, typ) {
		return 0, nil
	}
	var n int
	err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM resources WHERE tenant = $1 AND type = $2`), tenant, typ).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: count %s in tenant %q: %w", typ, tenant, err)
	}
	return n, nil
}

// UpdateResource reads a resource (locking it), calls update on it and
// writes the result with Version+1, in one transaction. Type and ID
// cannot change; Version is set by the store. update sees the stored
// Created and Modified; whatever it leaves there is written, except that
// a zero Created keeps the stored one and a zero Modified becomes the
// current time. An error from update
// aborts and is returned as is; store.ErrNotFound when absent;
// store.ErrExists when the new UserName is taken.
func (s *Store) UpdateResource(ctx context.Context, tenant, typ, id string, update func(*store.Record) error) (store.Record, error) {
	if !storable(tenant, typ, id) {
		return store.Record{}, fmt.Errorf("sqlstore: %s %q in tenant %q: %w", typ, id, tenant, store.ErrNotFound)
	}
	var out store.Record
	err := s.tx(ctx, "update resource", func(tx *sql.Tx) error {
		old, err := scanRecord(tx.QueryRowContext(ctx, s.q(`SELECT `+resourceColumns+` FROM resources
			WHERE tenant = $1 AND type = $2 AND id = $3 FOR UPDATE`), tenant, typ, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlstore: %s %q in tenant %q: %w", typ, id, tenant, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlstore: update %s %q in tenant %q: read: %w", typ, id, tenant, err)
		}
		r := old
		r.Data = append([]byte(nil), old.Data...)
		if err := update(&r); err != nil {
			return err
		}
		if r.Type != old.Type || r.ID != old.ID {
			return fmt.Errorf("sqlstore: update %s %q in tenant %q: type and id cannot change (to %s %q)", typ, id, tenant, r.Type, r.ID)
		}
		if !storable(r.UserName, r.ExternalID, r.DisplayName) {
			return fmt.Errorf("sqlstore: update %s %q in tenant %q: an indexed value holds a NUL byte or invalid UTF-8", typ, id, tenant)
		}
		r.Version = old.Version + 1
		if r.Created.IsZero() {
			r.Created = old.Created
		}
		if r.Modified.IsZero() {
			r.Modified = s.stamp()
		}
		r.Created, r.Modified = norm(r.Created), norm(r.Modified)
		r.Data = unblob(r.Data)
		_, err = tx.ExecContext(ctx, s.q(`UPDATE resources SET version = $4, user_name = $5, user_name_folded = $6,
			external_id = $7, display_name = $8, data = $9, created = $10, modified = $11
			WHERE tenant = $1 AND type = $2 AND id = $3`),
			tenant, typ, id, r.Version, r.UserName, fold(r.UserName), r.ExternalID, r.DisplayName, blob(r.Data), toDB(r.Created), toDB(r.Modified))
		if s.fl.isUnique(err) {
			return fmt.Errorf("sqlstore: %s %q in tenant %q: userName %q: %w", typ, id, tenant, r.UserName, store.ErrExists)
		}
		if err != nil {
			return fmt.Errorf("sqlstore: update %s %q in tenant %q: %w", typ, id, tenant, err)
		}
		out = r
		return nil
	})
	if err != nil {
		return store.Record{}, err
	}
	return out, nil
}

// DeleteResource removes a resource; store.ErrNotFound when absent.
func (s *Store) DeleteResource(ctx context.Context, tenant, typ, id string) error {
	if !storable(tenant, typ, id) {
		return fmt.Errorf("sqlstore: %s %q in tenant %q: %w", typ, id, tenant, store.ErrNotFound)
	}
	res, err := s.w.ExecContext(ctx, s.q(`DELETE FROM resources WHERE tenant = $1 AND type = $2 AND id = $3`), tenant, typ, id)
	if err != nil {
		return fmt.Errorf("sqlstore: delete %s %q in tenant %q: %w", typ, id, tenant, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: delete %s %q in tenant %q: %w", typ, id, tenant, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlstore: %s %q in tenant %q: %w", typ, id, tenant, store.ErrNotFound)
	}
	return nil
}
