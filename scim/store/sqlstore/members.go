package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/idpkit/idpkit/scim/store"
)

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// memberChunk is how many user ids one membership statement carries
// (two parameters each), well below both backends' variable limits.
const memberChunk = 500

// placeholders returns "$from, $from+1, …" for n parameters.
func placeholders(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(from+i))
	}
	return b.String()
}

// chunks splits ids into slices of at most n.
func chunks(ids []string, n int) [][]string {
	var out [][]string
	for len(ids) > n {
		out = append(out, ids[:n])
		ids = ids[n:]
	}
	if len(ids) > 0 {
		out = append(out, ids)
	}
	return out
}

// missingUsers returns the ids (first occurrences, in the order given)
// that name no User of the tenant, with one query per chunk of ids. In a
// transaction on PostgreSQL it locks the users it finds against deletion.
func (s *Store) missingUsers(ctx context.Context, q querier, tenant string, ids []string) ([]string, error) {
	found := map[string]bool{}
	var check []string
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		if id != "" && storable(id) {
			check = append(check, id)
		}
	}
	for _, c := range chunks(check, memberChunk) {
		args := make([]any, 0, len(c)+1)
		args = append(args, tenant)
		for _, id := range c {
			args = append(args, id)
		}
		// FOR KEY SHARE (PostgreSQL): a user found stays until the commit,
		// so a concurrent delete waits for this write or, when it came
		// first, makes the user missing here rather than in the foreign key.
		rows, err := q.QueryContext(ctx, s.q(`SELECT id FROM resources WHERE tenant = $1 AND type = 'User' AND id IN (`+placeholders(2, len(c))+`) FOR KEY SHARE`), args...)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: check members in tenant %q: %w", tenant, err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlstore: check members in tenant %q: %w", tenant, err)
			}
			found[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("sqlstore: check members in tenant %q: %w", tenant, err)
		}
	}
	var missing []string
	seen = map[string]bool{}
	for _, id := range ids {
		if !found[id] && !seen[id] {
			seen[id] = true
			missing = append(missing, id)
		}
	}
	return missing, nil
}

// dedupeMembers merges repeated values of adds: a value keeps its first
// place and takes the last non-empty Display.
func dedupeMembers(adds []store.Member) []store.Member {
	at := make(map[string]int, len(adds))
	out := make([]store.Member, 0, len(adds))
	for _, m := range adds {
		if i, ok := at[m.Value]; ok {
			if m.Display != "" {
				out[i].Display = m.Display
			}
			continue
		}
		at[m.Value] = len(out)
		out = append(out, m)
	}
	return out
}

// insertMembers adds members (already checked to be users, no repeated
// values) to a group: new ones at the end of its order, existing ones
// keep their place and take a non-empty Display.
func (s *Store) insertMembers(ctx context.Context, q querier, tenant, groupID string, adds []store.Member) error {
	for len(adds) > 0 {
		n := min(len(adds), memberChunk)
		c := adds[:n]
		adds = adds[n:]
		var b strings.Builder
		b.WriteString(`INSERT INTO members (tenant, group_type, group_id, user_type, user_id, display) VALUES `)
		args := make([]any, 0, 2+2*len(c))
		args = append(args, tenant, groupID)
		for i, m := range c {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(`($1, 'Group', $2, 'User', $` + strconv.Itoa(len(args)+1) + `, $` + strconv.Itoa(len(args)+2) + `)`)
			args = append(args, m.Value, m.Display)
		}
		b.WriteString(` ON CONFLICT (tenant, group_type, group_id, user_id) DO UPDATE SET display = excluded.display WHERE excluded.display <> ''`)
		if _, err := q.ExecContext(ctx, s.q(b.String()), args...); err != nil {
			if s.fl.isForeignKey(err) {
				// A user went between the check and the insert (another
				// process on PostgreSQL); report which.
				ids := make([]string, len(c))
				for i, m := range c {
					ids[i] = m.Value
				}
				if missing, merr := s.missingUsers(ctx, q, tenant, ids); merr == nil && len(missing) > 0 {
					return &store.MissingMembersError{IDs: missing}
				}
			}
			return fmt.Errorf("sqlstore: add members to group %q in tenant %q: %w", groupID, tenant, err)
		}
	}
	return nil
}

// applyMembers applies a change to a group's members in q's transaction:
// Replace, then Remove, then Add. Adding a value that is not a User of the
// tenant fails with a *store.MissingMembersError before anything is
// written by this call.
func (s *Store) applyMembers(ctx context.Context, q querier, tenant, groupID string, mc *store.MemberChange) error {
	if mc == nil {
		return nil
	}
	adds := dedupeMembers(mc.Add)
	if len(adds) > 0 {
		ids := make([]string, len(adds))
		for i, m := range adds {
			ids[i] = m.Value
			if !storable(m.Display) {
				return fmt.Errorf("sqlstore: add members to group %q in tenant %q: display of %q holds a NUL byte or invalid UTF-8", groupID, tenant, m.Value)
			}
		}
		missing, err := s.missingUsers(ctx, q, tenant, ids)
		if err != nil {
			return err
		}
		if len(missing) > 0 {
			return &store.MissingMembersError{IDs: missing}
		}
	}
	if mc.Replace {
		if _, err := q.ExecContext(ctx, s.q(`DELETE FROM members WHERE tenant = $1 AND group_type = 'Group' AND group_id = $2`), tenant, groupID); err != nil {
			return fmt.Errorf("sqlstore: replace members of group %q in tenant %q: %w", groupID, tenant, err)
		}
	}
	var remove []string
	for _, id := range mc.Remove {
		if storable(id) {
			remove = append(remove, id)
		}
	}
	for _, c := range chunks(remove, memberChunk) {
		args := make([]any, 0, 2+len(c))
		args = append(args, tenant, groupID)
		for _, id := range c {
			args = append(args, id)
		}
		if _, err := q.ExecContext(ctx, s.q(`DELETE FROM members WHERE tenant = $1 AND group_type = 'Group' AND group_id = $2
			AND user_id IN (`+placeholders(3, len(c))+`)`), args...); err != nil {
			return fmt.Errorf("sqlstore: remove members of group %q in tenant %q: %w", groupID, tenant, err)
		}
	}
	return s.insertMembers(ctx, q, tenant, groupID, adds)
}

// Statements of ListMembers.
const (
	groupExistsSQL = `SELECT 1 FROM resources WHERE tenant = $1 AND type = 'Group' AND id = $2`
	membersSQL     = `SELECT seq, user_id, display FROM members WHERE tenant = $1 AND group_type = 'Group' AND group_id = $2`
)

// ListMembers returns a group's members in the order they were first
// added; with ids not nil, only those of them that are members.
// store.ErrNotFound when the group is absent.
func (s *Store) ListMembers(ctx context.Context, tenant, groupID string, ids []string) ([]store.Member, error) {
	if !storable(tenant, groupID) {
		return nil, fmt.Errorf("sqlstore: Group %q in tenant %q: %w", groupID, tenant, store.ErrNotFound)
	}
	s.stmts.get(ctx, s.r, s.q(groupExistsSQL)) // before the transaction holds a connection
	s.stmts.get(ctx, s.r, s.q(membersSQL+` ORDER BY seq`))
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list members of group %q in tenant %q: %w", groupID, tenant, err)
	}
	defer tx.Rollback()
	var one int
	row := tx.QueryRowContext
	if st := s.txStmt(ctx, tx, s.r, s.q(groupExistsSQL)); st != nil {
		row = func(ctx context.Context, _ string, args ...any) *sql.Row { return st.QueryRowContext(ctx, args...) }
	}
	err = row(ctx, s.q(groupExistsSQL), tenant, groupID).Scan(&one)
	if err == sql.ErrNoRows {
		return nil, fmt.Errorf("sqlstore: Group %q in tenant %q: %w", groupID, tenant, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list members of group %q in tenant %q: %w", groupID, tenant, err)
	}
	const base = membersSQL
	type seqMember struct {
		seq int64
		m   store.Member
	}
	var out []seqMember
	read := func(query string, args ...any) error {
		query = s.q(query)
		var rows *sql.Rows
		var err error
		if st := s.txStmt(ctx, tx, s.r, query); st != nil {
			rows, err = st.QueryContext(ctx, args...)
		} else {
			rows, err = tx.QueryContext(ctx, query, args...)
		}
		if err != nil {
			return fmt.Errorf("sqlstore: list members of group %q in tenant %q: %w", groupID, tenant, err)
		}
		defer rows.Close()
		for rows.Next() {
			var sm seqMember
			if err := rows.Scan(&sm.seq, &sm.m.Value, &sm.m.Display); err != nil {
				return fmt.Errorf("sqlstore: list members of group %q in tenant %q: %w", groupID, tenant, err)
			}
			out = append(out, sm)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlstore: list members of group %q in tenant %q: %w", groupID, tenant, err)
		}
		return nil
	}
	if ids == nil {
		if err := read(base+` ORDER BY seq`, tenant, groupID); err != nil {
			return nil, err
		}
	} else {
		var want []string
		seen := map[string]bool{}
		for _, id := range ids {
			if storable(id) && !seen[id] {
				seen[id] = true
				want = append(want, id)
			}
		}
		for _, c := range chunks(want, memberChunk) {
			args := make([]any, 0, 2+len(c))
			args = append(args, tenant, groupID)
			for _, id := range c {
				args = append(args, id)
			}
			if err := read(base+` AND user_id IN (`+placeholders(3, len(c))+`)`, args...); err != nil {
				return nil, err
			}
		}
		slices.SortFunc(out, func(a, b seqMember) int { return cmp.Compare(a.seq, b.seq) })
	}
	var members []store.Member
	for _, sm := range out {
		members = append(members, sm.m)
	}
	return members, nil
}

// GroupsOf returns, for each of userIDs that belongs to any group, the
// groups that list it, in the groups' default order (created, id). It
// reads the batch with one query per chunk of ids.
func (s *Store) GroupsOf(ctx context.Context, tenant string, userIDs []string) (map[string][]store.GroupRef, error) {
	out := map[string][]store.GroupRef{}
	if !storable(tenant) {
		return out, nil
	}
	var want []string
	seen := map[string]bool{}
	for _, id := range userIDs {
		if storable(id) && !seen[id] {
			seen[id] = true
			want = append(want, id)
		}
	}
	for _, c := range chunks(want, memberChunk) {
		args := make([]any, 0, 1+len(c))
		args = append(args, tenant)
		for _, id := range c {
			args = append(args, id)
		}
		rows, err := s.queryContext(ctx, s.r, s.q(`SELECT m.user_id, g.id, g.display_name FROM members m
			JOIN resources g ON g.tenant = m.tenant AND g.type = m.group_type AND g.id = m.group_id
			WHERE m.tenant = $1 AND m.user_type = 'User' AND m.user_id IN (`+placeholders(2, len(c))+`)
			ORDER BY g.created, g.id`), args...)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: groups of users in tenant %q: %w", tenant, err)
		}
		for rows.Next() {
			var uid string
			var g store.GroupRef
			if err := rows.Scan(&uid, &g.ID, &g.DisplayName); err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlstore: groups of users in tenant %q: %w", tenant, err)
			}
			out[uid] = append(out[uid], g)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("sqlstore: groups of users in tenant %q: %w", tenant, err)
		}
	}
	return out, nil
}
