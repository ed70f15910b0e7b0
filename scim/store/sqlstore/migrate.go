package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// step is one step of a migration: a statement in PostgreSQL's dialect
// (translated for SQLite), or a Go function run in the migration's
// transaction, for what SQL alone cannot do (such as moving data out of
// JSON). only, when set, names the one flavor the step runs on.
type step struct {
	sql  string
	fn   func(ctx context.Context, s *Store, tx *sql.Tx) error
	only string
}

// sqls makes a migration of plain statements for both backends.
func sqls(stmts ...string) []step {
	out := make([]step, len(stmts))
	for i, q := range stmts {
		out[i] = step{sql: q}
	}
	return out
}

// migrations are applied in order; migrations[i] is recorded in the
// migrations table as num = i+1. Never edit or reorder a released entry:
// append a new one. Statements are written in PostgreSQL's dialect. The
// slice is a constant table, never modified.
var migrations = [][]step{
	// 1: the initial schema.
	sqls(
		`CREATE TABLE tenants (
				name TEXT PRIMARY KEY,
				token_hash BYTEA NOT NULL,
				okta_domain TEXT NOT NULL DEFAULT '',
				auth_server TEXT NOT NULL DEFAULT '',
				issuer TEXT NOT NULL DEFAULT '',
				client_id TEXT NOT NULL DEFAULT '',
				client_secret TEXT NOT NULL DEFAULT '',
				created BIGINT NOT NULL,
				modified BIGINT NOT NULL
			)`,
		`CREATE TABLE resources (
				tenant TEXT NOT NULL,
				type TEXT NOT NULL,
				id TEXT NOT NULL,
				version BIGINT NOT NULL,
				user_name TEXT NOT NULL DEFAULT '',
				user_name_folded TEXT NOT NULL DEFAULT '',
				external_id TEXT NOT NULL DEFAULT '',
				display_name TEXT NOT NULL DEFAULT '',
				data BYTEA NOT NULL,
				created BIGINT NOT NULL,
				modified BIGINT NOT NULL,
				PRIMARY KEY (tenant, type, id)
			)`,
		`CREATE UNIQUE INDEX resources_user_name ON resources (tenant, type, user_name_folded) WHERE user_name_folded <> ''`,
		`CREATE INDEX resources_external_id ON resources (tenant, type, external_id)`,
		`CREATE INDEX resources_display_name ON resources (tenant, type, display_name)`,
		`CREATE INDEX resources_created ON resources (tenant, type, created, id)`,
		`CREATE TABLE tokens (
				kind TEXT NOT NULL,
				key TEXT NOT NULL,
				tenant TEXT NOT NULL DEFAULT '',
				value BYTEA NOT NULL,
				expires BIGINT NOT NULL,
				PRIMARY KEY (kind, key)
			)`,
		`CREATE INDEX tokens_expires ON tokens (expires)`,
	),
	// 2: issue 4, storage that scales (see migrate2.go).
	migration2,
	// 3: issue 7, SCIM token rotation with an overlap: the previous
	// token's hash and when it stops working (0: no previous token).
	{
		{only: "postgres", sql: `ALTER TABLE tenants ADD COLUMN prev_token_hash BYTEA NOT NULL DEFAULT ''::bytea`},
		{only: "sqlite", sql: `ALTER TABLE tenants ADD COLUMN prev_token_hash BYTEA NOT NULL DEFAULT X''`},
		{sql: `ALTER TABLE tenants ADD COLUMN prev_token_expires BIGINT NOT NULL DEFAULT 0`},
	},
	// 4: issue 7, the audit trail (see audit.go): seq orders the records
	// of one instant as they were appended.
	{
		{only: "postgres", sql: `CREATE TABLE audit (
				seq BIGSERIAL PRIMARY KEY,
				tenant TEXT NOT NULL,
				at BIGINT NOT NULL,
				kind TEXT NOT NULL,
				actor TEXT NOT NULL DEFAULT '',
				source TEXT NOT NULL DEFAULT '',
				action TEXT NOT NULL DEFAULT '',
				target TEXT NOT NULL DEFAULT '',
				detail TEXT NOT NULL DEFAULT '',
				outcome TEXT NOT NULL DEFAULT ''
			)`},
		{only: "sqlite", sql: `CREATE TABLE audit (
				seq INTEGER PRIMARY KEY AUTOINCREMENT,
				tenant TEXT NOT NULL,
				at BIGINT NOT NULL,
				kind TEXT NOT NULL,
				actor TEXT NOT NULL DEFAULT '',
				source TEXT NOT NULL DEFAULT '',
				action TEXT NOT NULL DEFAULT '',
				target TEXT NOT NULL DEFAULT '',
				detail TEXT NOT NULL DEFAULT '',
				outcome TEXT NOT NULL DEFAULT ''
			)`},
		{sql: `CREATE INDEX audit_tenant_at ON audit (tenant, at, seq)`},
		{sql: `CREATE INDEX audit_at ON audit (at)`},
	},
	// 5: issue 7, admins sign in with Okta: the displayName of the SCIM
	// group whose members are the tenant's admins ('' for none).
	sqls(`ALTER TABLE tenants ADD COLUMN admin_group TEXT NOT NULL DEFAULT ''`),
}

// ErrNewerSchema marks a database whose migrations table records more
// migrations than this build knows: Open and Restore refuse it, and the
// message tells the operator to upgrade idpkit.
var ErrNewerSchema = errors.New("database schema is newer than this build of idpkit")

// checkSchema refuses a database at migration done when this build knows
// fewer migrations (migrations are forward-only: an old binary cannot
// know what a newer one changed).
func checkSchema(done int) error {
	if done > len(migrations) {
		return fmt.Errorf("%w: database is at migration %d but this build knows only %d; upgrade idpkit", ErrNewerSchema, done, len(migrations))
	}
	return nil
}

// Migrations returns the number of migrations this build knows: a
// database it opens is at this migration afterwards.
func Migrations() int { return len(migrations) }

// migrate applies the pending migrations in one write transaction.
func (s *Store) migrate(ctx context.Context) error { return s.migrateTo(ctx, len(migrations)) }

// migrateTo applies the pending migrations up to number upTo (tests use
// it to build a database of an older shape).
func (s *Store) migrateTo(ctx context.Context, upTo int) error {
	return s.tx(ctx, "migrate", func(tx *sql.Tx) error {
		if s.fl.migrationLock != "" {
			if _, err := tx.ExecContext(ctx, s.fl.migrationLock); err != nil {
				return fmt.Errorf("sqlstore: migrate: lock: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrations (num INTEGER PRIMARY KEY, applied BIGINT NOT NULL)`); err != nil {
			return fmt.Errorf("sqlstore: migrate: create migrations table: %w", err)
		}
		var done int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(num), 0) FROM migrations`).Scan(&done); err != nil {
			return fmt.Errorf("sqlstore: migrate: read migrations: %w", err)
		}
		if err := checkSchema(done); err != nil {
			return fmt.Errorf("sqlstore: migrate: %w", err)
		}
		for i := done; i < upTo; i++ {
			num := i + 1
			for j, st := range migrations[i] {
				if st.only != "" && st.only != s.fl.name {
					continue
				}
				var err error
				if st.fn != nil {
					err = st.fn(ctx, s, tx)
				} else {
					_, err = tx.ExecContext(ctx, s.q(st.sql))
				}
				if err != nil {
					return fmt.Errorf("sqlstore: migration %d step %d: %w", num, j+1, err)
				}
			}
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO migrations (num, applied) VALUES ($1, $2)`), num, toDB(s.now())); err != nil {
				return fmt.Errorf("sqlstore: migration %d: record: %w", num, err)
			}
			s.log.Info("sqlstore: applied migration", "num", num, "backend", s.fl.name)
		}
		return nil
	})
}
