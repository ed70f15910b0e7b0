package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/idpkit/idpkit/scim/store"
)

// migration2 is issue 4's schema: folded displayName, every lookup and
// sort an index, emails and group members in their own tables (with
// foreign keys that cascade a resource's delete), and byte-order
// collation on PostgreSQL so that its comparisons, sorts and indexes agree
// with SQLite's and Go's strings.Compare.
//
// The emails and members tables carry a constant type column
// (user_type = 'User', group_type = 'Group') so that their foreign keys
// can name the resources primary key (tenant, type, id); queries repeat
// the constant so that the indexes that start with it are used.
var migration2 = []step{
	{only: "postgres", sql: `ALTER TABLE resources
		ALTER COLUMN tenant TYPE TEXT COLLATE "C",
		ALTER COLUMN type TYPE TEXT COLLATE "C",
		ALTER COLUMN id TYPE TEXT COLLATE "C",
		ALTER COLUMN user_name_folded TYPE TEXT COLLATE "C",
		ALTER COLUMN external_id TYPE TEXT COLLATE "C"`},
	{sql: `ALTER TABLE resources ADD COLUMN display_name_folded TEXT COLLATE "C" NOT NULL DEFAULT ''`},
	// The values of Record.Emails as a JSON array ('' for none), so that
	// a read is one row; the emails table is their index.
	{sql: `ALTER TABLE resources ADD COLUMN emails TEXT NOT NULL DEFAULT ''`},
	{sql: `DROP INDEX resources_external_id`},
	{sql: `DROP INDEX resources_display_name`},
	// Each lookup index ends in the default order (created, id), so an eq
	// lookup returns its rows in order and a sort's id scan is covered.
	{sql: `CREATE INDEX resources_external_id ON resources (tenant, type, external_id, created, id)`},
	{sql: `CREATE INDEX resources_display_name ON resources (tenant, type, display_name_folded, created, id)`},
	{sql: `CREATE INDEX resources_modified ON resources (tenant, type, modified, created, id)`},
	// On SQLite the emails table is its primary key (WITHOUT ROWID): one
	// B-tree fewer to write per email than a rowid table with a key index.
	{only: "postgres", sql: emailsTable},
	{only: "sqlite", sql: emailsTable + ` WITHOUT ROWID`},
	{sql: `CREATE INDEX emails_value ON emails (tenant, value_folded, user_id)`},
	{sql: `CREATE TABLE members (
			seq BIGSERIAL PRIMARY KEY,
			tenant TEXT COLLATE "C" NOT NULL,
			group_type TEXT COLLATE "C" NOT NULL DEFAULT 'Group' CHECK (group_type = 'Group'),
			group_id TEXT COLLATE "C" NOT NULL,
			user_type TEXT COLLATE "C" NOT NULL DEFAULT 'User' CHECK (user_type = 'User'),
			user_id TEXT COLLATE "C" NOT NULL,
			display TEXT NOT NULL DEFAULT '',
			UNIQUE (tenant, group_type, group_id, user_id),
			FOREIGN KEY (tenant, group_type, group_id) REFERENCES resources (tenant, type, id) ON DELETE CASCADE,
			FOREIGN KEY (tenant, user_type, user_id) REFERENCES resources (tenant, type, id) ON DELETE CASCADE
		)`},
	{sql: `CREATE INDEX members_group ON members (tenant, group_type, group_id, seq)`},
	{sql: `CREATE INDEX members_user ON members (tenant, user_type, user_id)`},
	// How many resources each tenant has of each type, and a generation
	// that moves on with every create and delete of one (and every change
	// of a Created): CountResources without a filter is one key read, and
	// the generation tells the keyset cursors of the default order when
	// they still hold (see scanDefault).
	// The count and the generation are sums over a few slots (see
	// counts.go), so that concurrent writes on PostgreSQL do not all
	// queue on one row.
	{sql: `CREATE TABLE resource_counts (
			tenant TEXT COLLATE "C" NOT NULL,
			type TEXT COLLATE "C" NOT NULL,
			slot INTEGER NOT NULL,
			n BIGINT NOT NULL,
			gen BIGINT NOT NULL,
			PRIMARY KEY (tenant, type, slot)
		)`},
	{sql: `INSERT INTO resource_counts (tenant, type, slot, n, gen) SELECT tenant, type, 0, COUNT(*), 1 FROM resources GROUP BY tenant, type`},
	{fn: moveData2},
}

// emailsTable is the emails table of migration 2.
const emailsTable = `CREATE TABLE emails (
			tenant TEXT COLLATE "C" NOT NULL,
			user_type TEXT COLLATE "C" NOT NULL DEFAULT 'User' CHECK (user_type = 'User'),
			user_id TEXT COLLATE "C" NOT NULL,
			pos INTEGER NOT NULL,
			value_folded TEXT COLLATE "C" NOT NULL,
			PRIMARY KEY (tenant, user_type, user_id, pos),
			FOREIGN KEY (tenant, user_type, user_id) REFERENCES resources (tenant, type, id) ON DELETE CASCADE
		)`

// migrateBatch is how many resources moveData2 reads at a time.
const migrateBatch = 500

// moveData2 fills the new columns and tables from the resources' JSON:
// display_name_folded for every resource; for a User, its emails from
// "emails"[].value; for a Group, its members from "members" (values that
// are not Users of the tenant are dropped), which it then removes from
// the stored JSON. It pages through the table in key order.
func moveData2(ctx context.Context, s *Store, tx *sql.Tx) error {
	type row struct {
		tenant, typ, id, displayName string
		data                         []byte
	}
	var last row
	first := true
	for {
		q := `SELECT tenant, type, id, display_name, data FROM resources`
		var args []any
		if !first {
			q += ` WHERE (tenant, type, id) > ($1, $2, $3)`
			args = []any{last.tenant, last.typ, last.id}
		}
		q += ` ORDER BY tenant, type, id LIMIT ` + fmt.Sprint(migrateBatch)
		rows, err := tx.QueryContext(ctx, s.q(q), args...)
		if err != nil {
			return fmt.Errorf("read resources: %w", err)
		}
		var batch []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.tenant, &r.typ, &r.id, &r.displayName, &r.data); err != nil {
				rows.Close()
				return fmt.Errorf("read resources: %w", err)
			}
			batch = append(batch, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read resources: %w", err)
		}
		for _, r := range batch {
			data, emails, members := splitData2(r.typ, r.data)
			if r.typ == store.TypeGroup && len(members) > 0 {
				ids := make([]string, len(members))
				for i, m := range members {
					ids[i] = m.Value
				}
				missing, err := s.missingUsers(ctx, tx, r.tenant, ids)
				if err != nil {
					return err
				}
				if len(missing) > 0 {
					drop := map[string]bool{}
					for _, id := range missing {
						drop[id] = true
					}
					kept := members[:0]
					for _, m := range members {
						if !drop[m.Value] {
							kept = append(kept, m)
						}
					}
					members = kept
					s.log.Warn("sqlstore: migration 2 dropped group members that are not users",
						"tenant", r.tenant, "group", r.id, "values", missing)
				}
				if err := s.insertMembers(ctx, tx, r.tenant, r.id, members); err != nil {
					return err
				}
			}
			if r.typ == store.TypeUser {
				if err := s.writeEmails(ctx, tx, r.tenant, r.id, emails, false); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE resources SET display_name_folded = $4, emails = $5, data = $6
				WHERE tenant = $1 AND type = $2 AND id = $3`),
				r.tenant, r.typ, r.id, store.Fold(r.displayName), encodeEmails(emails), blob(data)); err != nil {
				return fmt.Errorf("update %s %q in tenant %q: %w", r.typ, r.id, r.tenant, err)
			}
		}
		if len(batch) < migrateBatch {
			return nil
		}
		last, first = batch[len(batch)-1], false
	}
}

// splitData2 reads what migration 2 moves out of a resource's JSON: a
// User's email values (its data unchanged), or a Group's members (its
// data without "members"). Data that is not a JSON object is kept as is.
func splitData2(typ string, data []byte) ([]byte, []string, []store.Member) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return data, nil, nil
	}
	switch typ {
	case store.TypeUser:
		var emails []struct {
			Value any `json:"value"`
		}
		if raw, ok := obj["emails"]; !ok || json.Unmarshal(raw, &emails) != nil {
			return data, nil, nil
		}
		var out []string
		for _, e := range emails {
			if v, ok := e.Value.(string); ok && storable(v) {
				out = append(out, v)
			}
		}
		return data, out, nil
	case store.TypeGroup:
		raw, ok := obj["members"]
		if !ok {
			return data, nil, nil
		}
		var members []struct {
			Value   any `json:"value"`
			Display any `json:"display"`
		}
		json.Unmarshal(raw, &members) // members that are not objects are dropped
		var out []store.Member
		seen := map[string]bool{}
		for _, m := range members {
			v, ok := m.Value.(string)
			if !ok || v == "" || !storable(v) || seen[v] {
				continue
			}
			seen[v] = true
			d, _ := m.Display.(string)
			if !storable(d) {
				d = ""
			}
			out = append(out, store.Member{Value: v, Display: d})
		}
		delete(obj, "members")
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(obj); err != nil {
			return data, nil, out
		}
		return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil, out
	}
	return data, nil, nil
}
