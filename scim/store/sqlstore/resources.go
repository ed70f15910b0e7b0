package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/idpkit/idpkit/scim/store"
)

// resourceColumns are the columns scanRecord reads, of the resources row r.
const resourceColumns = `r.type, r.id, r.version, r.user_name, r.external_id, r.display_name, r.emails, r.data, r.created, r.modified`

func scanRecord(row rowScanner) (store.Record, error) {
	var r store.Record
	var created, modified int64
	var emails string
	err := row.Scan(&r.Type, &r.ID, &r.Version, &r.UserName, &r.ExternalID, &r.DisplayName, &emails, &r.Data, &created, &modified)
	if err != nil {
		return store.Record{}, err
	}
	if emails != "" {
		if err := json.Unmarshal([]byte(emails), &r.Emails); err != nil {
			return store.Record{}, fmt.Errorf("emails of %s %q: %w", r.Type, r.ID, err)
		}
	}
	r.Data = unblob(r.Data)
	r.Created, r.Modified = fromDB(created), fromDB(modified)
	return r, nil
}

// encodeEmails is the emails column: a JSON array, ” for none.
func encodeEmails(emails []string) string {
	if len(emails) == 0 {
		return ""
	}
	b, _ := json.Marshal(emails) // cannot fail on strings
	return string(b)
}

// checkRecord refuses what the store cannot index.
func checkRecord(op, tenant string, r *store.Record) error {
	if r.Type == "" || r.ID == "" {
		return fmt.Errorf("sqlstore: %s: type and id are required", op)
	}
	if !storable(tenant, r.Type, r.ID, r.UserName, r.ExternalID, r.DisplayName) || !storable(r.Emails...) {
		return fmt.Errorf("sqlstore: %s %s %q in tenant %q: an indexed value holds a NUL byte or invalid UTF-8", op, r.Type, r.ID, tenant)
	}
	return nil
}

// writeEmails stores a User's emails index in q's transaction, replacing
// the rows it had when replace is set.
func (s *Store) writeEmails(ctx context.Context, q querier, tenant, id string, emails []string, replace bool) error {
	if replace {
		if _, err := q.ExecContext(ctx, s.q(`DELETE FROM emails WHERE tenant = $1 AND user_type = 'User' AND user_id = $2`), tenant, id); err != nil {
			return fmt.Errorf("sqlstore: emails of User %q in tenant %q: %w", id, tenant, err)
		}
	}
	for start := 0; start < len(emails); start += memberChunk {
		c := emails[start:min(len(emails), start+memberChunk)]
		var b strings.Builder
		b.WriteString(`INSERT INTO emails (tenant, user_type, user_id, pos, value_folded) VALUES `)
		args := []any{tenant, id}
		for i, v := range c {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(`($1, 'User', $2, $` + strconv.Itoa(len(args)+1) + `, $` + strconv.Itoa(len(args)+2) + `)`)
			args = append(args, start+i, store.Fold(v))
		}
		if _, err := q.ExecContext(ctx, s.q(b.String()), args...); err != nil {
			return fmt.Errorf("sqlstore: emails of User %q in tenant %q: %w", id, tenant, err)
		}
	}
	return nil
}

// prepareCreate fills in what the store sets on a new record.
func (s *Store) prepareCreate(r *store.Record) {
	r.Version = 1
	if r.Created.IsZero() {
		r.Created = s.stamp()
	}
	if r.Modified.IsZero() {
		r.Modified = r.Created
	}
	r.Created, r.Modified = norm(r.Created), norm(r.Modified)
	r.Data = unblob(r.Data)
}

// insertSQL inserts one resources row; its parameters are insertArgs.
const insertSQL = `INSERT INTO resources (tenant, type, id, version, user_name, user_name_folded,
	external_id, display_name, display_name_folded, emails, data, created, modified)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`

func insertArgs(tenant string, r *store.Record) []any {
	return []any{tenant, r.Type, r.ID, r.Version, r.UserName, store.Fold(r.UserName), r.ExternalID,
		r.DisplayName, store.Fold(r.DisplayName), encodeEmails(r.Emails), blob(r.Data), toDB(r.Created), toDB(r.Modified)}
}

// existsErr maps a unique violation of a create to store.ErrExists.
func existsErr(tenant string, r *store.Record, err error) error {
	return fmt.Errorf("sqlstore: %s %q (userName %q) in tenant %q: %w", r.Type, r.ID, r.UserName, tenant, store.ErrExists)
}

// CreateResource stores r with Version 1 and returns it as stored
// (without Members). store.ErrExists when r.ID exists or r.UserName is
// taken in the tenant, case-insensitively; a *store.MissingMembersError
// when r.Members adds a value that is not a User of the tenant. Zero
// Created and Modified are set to the current time. The row, its emails
// and its members are written in one transaction.
func (s *Store) CreateResource(ctx context.Context, tenant string, r store.Record) (store.Record, error) {
	if err := checkRecord("create", tenant, &r); err != nil {
		return store.Record{}, err
	}
	s.prepareCreate(&r)
	err := s.groupTx(ctx, "create resource", func(tx *sql.Tx) error {
		_, err := s.txExec(ctx, tx, s.q(insertSQL), insertArgs(tenant, &r)...)
		if s.fl.isUnique(err) {
			return existsErr(tenant, &r, err)
		}
		if err != nil {
			return fmt.Errorf("sqlstore: create %s in tenant %q: %w", r.Type, tenant, err)
		}
		if err := s.writeChildren(ctx, tx, tenant, &r); err != nil {
			return err
		}
		return s.addCount(ctx, tx, tenant, r.Type, r.ID, 1)
	})
	if err != nil {
		return store.Record{}, err
	}
	r.Members = nil
	return r, nil
}

// writeChildren writes a new resource's emails (Users) or members
// (Groups).
func (s *Store) writeChildren(ctx context.Context, q querier, tenant string, r *store.Record) error {
	switch r.Type {
	case store.TypeUser:
		return s.writeEmails(ctx, q, tenant, r.ID, r.Emails, false)
	case store.TypeGroup:
		if r.Members != nil {
			return s.applyMembers(ctx, q, tenant, r.ID, &store.MemberChange{Add: r.Members.Add})
		}
	}
	return nil
}

// getSQL reads one resource by its key.
const getSQL = `SELECT ` + resourceColumns + ` FROM resources r WHERE r.tenant = $1 AND r.type = $2 AND r.id = $3`

// GetResource returns one resource; store.ErrNotFound when absent.
func (s *Store) GetResource(ctx context.Context, tenant, typ, id string) (store.Record, error) {
	if !storable(tenant, typ, id) {
		return store.Record{}, fmt.Errorf("sqlstore: %s %q in tenant %q: %w", typ, id, tenant, store.ErrNotFound)
	}
	r, err := scanRecord(s.queryRowContext(ctx, s.r, s.q(getSQL), tenant, typ, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Record{}, fmt.Errorf("sqlstore: %s %q in tenant %q: %w", typ, id, tenant, store.ErrNotFound)
	}
	if err != nil {
		return store.Record{}, fmt.Errorf("sqlstore: get %s %q in tenant %q: %w", typ, id, tenant, err)
	}
	return r, nil
}

// ListResources returns the resources of type typ that q selects, in q's
// order and page.
func (s *Store) ListResources(ctx context.Context, tenant, typ string, q store.Query) ([]store.Record, error) {
	var out []store.Record
	err := s.ScanResources(ctx, tenant, typ, q, func(r store.Record) error {
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// selectSQL builds the query of ScanResources. With an Offset it first
// reads only the ids of the page (from an index that covers the filter
// and order where there is one), then the rows of those ids, so a deep
// page does not read the rows it skips. On PostgreSQL the ids are an
// array computed once (an InitPlan) and the rows are read by primary
// key: as a join or an IN, a planner without statistics (after a bulk
// load) may run the OFFSET subquery once per row of the table.
func (s *Store) selectSQL(tenant, typ string, q store.Query) (string, []any, error) {
	if q.Offset < 0 || q.Limit < 0 {
		return "", nil, fmt.Errorf("%w: negative offset or limit", errCond)
	}
	b := &sqlQuery{typ: typ, args: []any{tenant, typ}}
	where, err := b.where(q.Where)
	if err != nil {
		return "", nil, err
	}
	order, err := orderBy(q, "r")
	if err != nil {
		return "", nil, err
	}
	page := ""
	if q.Limit > 0 {
		page = " LIMIT " + b.arg(int64(q.Limit))
	}
	if q.Offset > 0 {
		if page == "" {
			page = " " + s.fl.noLimit
		}
		page += " OFFSET " + b.arg(int64(q.Offset))
	}
	from := `FROM resources r`
	if b.idList && q.Where.Or != nil && s.fl.name == "sqlite" {
		from += ` INDEXED BY sqlite_autoindex_resources_1` // the primary key (tenant, type, id)
	}
	filter := from + ` WHERE r.tenant = $1 AND r.type = $2 AND ` + where
	if q.Offset == 0 {
		return `SELECT ` + resourceColumns + ` ` + filter + ` ORDER BY ` + order + page, b.args, nil
	}
	ids := `SELECT r.id ` + filter + ` ORDER BY ` + order + page
	if s.fl.name == "postgres" {
		return `SELECT ` + resourceColumns + ` FROM resources r WHERE r.tenant = $1 AND r.type = $2 AND r.id = ANY(ARRAY(` + ids + `))
		ORDER BY ` + order, b.args, nil
	}
	return `SELECT ` + resourceColumns + ` FROM (` + ids + `) p
		JOIN resources r ON r.tenant = $1 AND r.type = $2 AND r.id = p.id ORDER BY ` + order, b.args, nil
}

// ScanResources calls fn with each resource q selects, in q's order and
// page, while it reads them. An error from fn stops the scan and is
// returned as is.
func (s *Store) ScanResources(ctx context.Context, tenant, typ string, q store.Query, fn func(store.Record) error) error {
	if !storable(tenant, typ) {
		return nil // no stored value can match
	}
	if q.Where == nil && q.Sort == "" && (q.Offset > 0 || q.Limit > 0) && q.Offset >= 0 && q.Limit >= 0 {
		return s.scanDefault(ctx, tenant, typ, q, fn)
	}
	query, args, err := s.selectSQL(tenant, typ, q)
	if err != nil {
		return err
	}
	rows, err := s.queryContext(ctx, s.r, s.q(query), args...)
	if err != nil {
		return fmt.Errorf("sqlstore: list %s in tenant %q: %w", typ, tenant, err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return fmt.Errorf("sqlstore: list %s in tenant %q: %w", typ, tenant, err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlstore: list %s in tenant %q: %w", typ, tenant, err)
	}
	return nil
}

// CountResources returns how many resources of type typ where selects.
func (s *Store) CountResources(ctx context.Context, tenant, typ string, where *store.Cond) (int, error) {
	if !storable(tenant, typ) {
		return 0, nil
	}
	if where == nil {
		return s.countAll(ctx, tenant, typ)
	}
	b := &sqlQuery{typ: typ, args: []any{tenant, typ}}
	w, err := b.where(where)
	if err != nil {
		return 0, err
	}
	var n int
	err = s.queryRowContext(ctx, s.r, s.q(`SELECT COUNT(*) FROM resources r WHERE r.tenant = $1 AND r.type = $2 AND `+w), b.args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: count %s in tenant %q: %w", typ, tenant, err)
	}
	return n, nil
}

// Statements of UpdateResource and DeleteResource; updateSQL takes
// insertArgs.
const (
	updateSQL = `UPDATE resources SET version = $4, user_name = $5, user_name_folded = $6,
			external_id = $7, display_name = $8, display_name_folded = $9, emails = $10, data = $11, created = $12, modified = $13
			WHERE tenant = $1 AND type = $2 AND id = $3`
	deleteSQL  = `DELETE FROM resources WHERE tenant = $1 AND type = $2 AND id = $3`
	versionSQL = `SELECT version FROM resources WHERE tenant = $1 AND type = $2 AND id = $3 FOR UPDATE`
)

// UpdateResource reads a resource (locking it), calls update on it and
// writes the result with Version+1, in one transaction, together with
// the User's emails and the Members change the callback sets. Type and ID
// cannot change; Version is set by the store. update sees the stored
// Created and Modified; whatever it leaves there is written, except that
// a zero Created keeps the stored one and a zero Modified becomes the
// current time. An error from update aborts and is returned as is;
// store.ErrNotFound when absent; store.ErrExists when the new UserName is
// taken; a *store.MissingMembersError when the change adds a value that
// is not a User.
func (s *Store) UpdateResource(ctx context.Context, tenant, typ, id string, update func(*store.Record) error) (store.Record, error) {
	if !storable(tenant, typ, id) {
		return store.Record{}, fmt.Errorf("sqlstore: %s %q in tenant %q: %w", typ, id, tenant, store.ErrNotFound)
	}
	var out store.Record
	err := s.tx(ctx, "update resource", func(tx *sql.Tx) error {
		old, err := scanRecord(s.txQueryRow(ctx, tx, s.q(getSQL+` FOR UPDATE`), tenant, typ, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlstore: %s %q in tenant %q: %w", typ, id, tenant, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlstore: update %s %q in tenant %q: read: %w", typ, id, tenant, err)
		}
		r := old
		r.Data = slices.Clone(old.Data)
		r.Emails = slices.Clone(old.Emails)
		if err := update(&r); err != nil {
			return err
		}
		if r.Type != old.Type || r.ID != old.ID {
			return fmt.Errorf("sqlstore: update %s %q in tenant %q: type and id cannot change (to %s %q)", typ, id, tenant, r.Type, r.ID)
		}
		if err := checkRecord("update", tenant, &r); err != nil {
			return err
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
		if typ != store.TypeUser {
			r.Emails = nil // only Users have emails
		}
		_, err = s.txExec(ctx, tx, s.q(updateSQL), insertArgs(tenant, &r)...)
		if s.fl.isUnique(err) {
			return fmt.Errorf("sqlstore: %s %q in tenant %q: userName %q: %w", typ, id, tenant, r.UserName, store.ErrExists)
		}
		if err != nil {
			return fmt.Errorf("sqlstore: update %s %q in tenant %q: %w", typ, id, tenant, err)
		}
		if typ == store.TypeUser && !slices.Equal(old.Emails, r.Emails) {
			if err := s.writeEmails(ctx, tx, tenant, id, r.Emails, true); err != nil {
				return err
			}
		}
		if typ == store.TypeGroup {
			if err := s.applyMembers(ctx, tx, tenant, id, r.Members); err != nil {
				return err
			}
		}
		if !r.Created.Equal(old.Created) {
			// The resource moves in the default order: cursors of the old
			// generation no longer hold.
			if err := s.addCount(ctx, tx, tenant, typ, id, 0); err != nil {
				return err
			}
		}
		r.Members = nil
		out = r
		return nil
	})
	if err != nil {
		return store.Record{}, err
	}
	return out, nil
}

// DeleteResource removes a resource; store.ErrNotFound when absent.
// Deleting a User moves on the Version and Modified of every group that
// lists it, in the same transaction; the foreign keys remove its
// memberships and emails (a Group's members go the same way).
func (s *Store) DeleteResource(ctx context.Context, tenant, typ, id string) error {
	return s.deleteResource(ctx, tenant, typ, id, 0)
}

// DeleteResourceVersion deletes the resource only at the given version,
// as DeleteResource does; store.ErrStale when it has another version,
// store.ErrNotFound when absent.
func (s *Store) DeleteResourceVersion(ctx context.Context, tenant, typ, id string, version int64) error {
	return s.deleteResource(ctx, tenant, typ, id, version)
}

// deleteResource deletes a resource at any version (version 0) or only
// at version.
func (s *Store) deleteResource(ctx context.Context, tenant, typ, id string, version int64) error {
	if !storable(tenant, typ, id) {
		return fmt.Errorf("sqlstore: %s %q in tenant %q: %w", typ, id, tenant, store.ErrNotFound)
	}
	return s.tx(ctx, "delete resource", func(tx *sql.Tx) error {
		var got int64
		err := s.txQueryRow(ctx, tx, s.q(versionSQL), tenant, typ, id).Scan(&got)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlstore: %s %q in tenant %q: %w", typ, id, tenant, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlstore: delete %s %q in tenant %q: %w", typ, id, tenant, err)
		}
		if version != 0 && got != version {
			return fmt.Errorf("sqlstore: %s %q in tenant %q is no longer version %d: %w", typ, id, tenant, version, store.ErrStale)
		}
		if typ == store.TypeUser {
			if err := s.touchGroupsOf(ctx, tx, tenant, id); err != nil {
				return err
			}
		}
		if _, err := s.txExec(ctx, tx, s.q(deleteSQL), tenant, typ, id); err != nil {
			return fmt.Errorf("sqlstore: delete %s %q in tenant %q: %w", typ, id, tenant, err)
		}
		return s.addCount(ctx, tx, tenant, typ, id, -1)
	})
}

// touchGroupsOf moves on the Version and Modified of every group that
// lists a user, as an update of each would.
func (s *Store) touchGroupsOf(ctx context.Context, tx *sql.Tx, tenant, userID string) error {
	const groups = `SELECT m.group_id FROM members m WHERE m.tenant = $1 AND m.user_type = 'User' AND m.user_id = $2 AND m.group_type = 'Group'`
	if s.fl.name == "postgres" {
		// Lock the groups in one order, so two deletes of users that share
		// groups cannot deadlock.
		rows, err := tx.QueryContext(ctx, `SELECT id FROM resources WHERE tenant = $1 AND type = 'Group' AND id IN (`+groups+`) ORDER BY id FOR UPDATE`, tenant, userID)
		if err != nil {
			return fmt.Errorf("sqlstore: lock groups of User %q in tenant %q: %w", userID, tenant, err)
		}
		rows.Close()
	}
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE resources SET version = version + 1, modified = $3
		WHERE tenant = $1 AND type = 'Group' AND id IN (`+groups+`)`), tenant, userID, toDB(s.stamp())); err != nil {
		return fmt.Errorf("sqlstore: update groups of User %q in tenant %q: %w", userID, tenant, err)
	}
	return nil
}
