package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/idpkit/idpkit/scim/store"
)

const tenantColumns = `name, token_hash, okta_domain, auth_server, issuer, client_id, client_secret, created, modified,
	prev_token_hash, prev_token_expires, admin_group`

type rowScanner interface{ Scan(dest ...any) error }

func scanTenant(row rowScanner) (store.Tenant, error) {
	var t store.Tenant
	var created, modified, prevExpires int64
	err := row.Scan(&t.Name, &t.TokenHash, &t.OktaDomain, &t.AuthServer, &t.Issuer, &t.ClientID, &t.ClientSecret, &created, &modified,
		&t.PrevTokenHash, &prevExpires, &t.AdminGroup)
	t.TokenHash, t.PrevTokenHash = unblob(t.TokenHash), unblob(t.PrevTokenHash)
	t.Created, t.Modified = fromDB(created), fromDB(modified)
	t.PrevTokenExpires = optFromDB(prevExpires)
	return t, err
}

// optToDB is toDB for an optional time: the zero time is stored as 0.
func optToDB(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return toDB(t)
}

// optFromDB reverses optToDB: 0 is the zero time.
func optFromDB(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return fromDB(us)
}

// CreateTenant stores t; store.ErrExists when the name is taken. Zero
// Created and Modified are set to the current time.
func (s *Store) CreateTenant(ctx context.Context, t store.Tenant) error {
	if t.Name == "" {
		return errors.New("sqlstore: create tenant: empty name")
	}
	if !storable(t.Name, t.OktaDomain, t.AuthServer, t.Issuer, t.ClientID, t.ClientSecret, t.AdminGroup) {
		return fmt.Errorf("sqlstore: create tenant %q: a value holds a NUL byte or invalid UTF-8", t.Name)
	}
	now := s.stamp()
	if t.Created.IsZero() {
		t.Created = now
	}
	if t.Modified.IsZero() {
		t.Modified = t.Created
	}
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO tenants (`+tenantColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`),
		t.Name, blob(t.TokenHash), t.OktaDomain, t.AuthServer, t.Issuer, t.ClientID, t.ClientSecret, toDB(t.Created), toDB(t.Modified),
		blob(t.PrevTokenHash), optToDB(t.PrevTokenExpires), t.AdminGroup)
	if s.fl.isUnique(err) {
		return fmt.Errorf("sqlstore: tenant %q: %w", t.Name, store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create tenant %q: %w", t.Name, err)
	}
	return nil
}

// GetTenant returns the tenant; store.ErrNotFound when absent.
func (s *Store) GetTenant(ctx context.Context, name string) (store.Tenant, error) {
	if !storable(name) {
		return store.Tenant{}, fmt.Errorf("sqlstore: tenant %q: %w", name, store.ErrNotFound)
	}
	t, err := scanTenant(s.queryRowContext(ctx, s.r, s.q(`SELECT `+tenantColumns+` FROM tenants WHERE name = $1`), name))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Tenant{}, fmt.Errorf("sqlstore: tenant %q: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return store.Tenant{}, fmt.Errorf("sqlstore: get tenant %q: %w", name, err)
	}
	return t, nil
}

// UpdateTenant reads the tenant, calls update on it and writes the result
// in one transaction. An error from update aborts and is returned as is.
// The name cannot change. A zero Created keeps the stored one; a zero
// Modified becomes the current time; other values are written as set.
func (s *Store) UpdateTenant(ctx context.Context, name string, update func(*store.Tenant) error) (store.Tenant, error) {
	if !storable(name) {
		return store.Tenant{}, fmt.Errorf("sqlstore: tenant %q: %w", name, store.ErrNotFound)
	}
	var out store.Tenant
	err := s.tx(ctx, "update tenant", func(tx *sql.Tx) error {
		old, err := scanTenant(tx.QueryRowContext(ctx, s.q(`SELECT `+tenantColumns+` FROM tenants WHERE name = $1 FOR UPDATE`), name))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlstore: tenant %q: %w", name, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlstore: update tenant %q: read: %w", name, err)
		}
		t := old
		t.TokenHash = append([]byte(nil), old.TokenHash...)
		t.PrevTokenHash = append([]byte(nil), old.PrevTokenHash...)
		if err := update(&t); err != nil {
			return err
		}
		if t.Name != old.Name {
			return fmt.Errorf("sqlstore: update tenant %q: the name cannot change (to %q)", name, t.Name)
		}
		if !storable(t.OktaDomain, t.AuthServer, t.Issuer, t.ClientID, t.ClientSecret, t.AdminGroup) {
			return fmt.Errorf("sqlstore: update tenant %q: a value holds a NUL byte or invalid UTF-8", name)
		}
		if t.Created.IsZero() {
			t.Created = old.Created
		}
		if t.Modified.IsZero() {
			t.Modified = s.stamp()
		}
		t.Created, t.Modified = norm(t.Created), norm(t.Modified)
		t.TokenHash, t.PrevTokenHash = unblob(t.TokenHash), unblob(t.PrevTokenHash)
		t.PrevTokenExpires = norm(t.PrevTokenExpires)
		_, err = tx.ExecContext(ctx, s.q(`UPDATE tenants SET token_hash = $2, okta_domain = $3, auth_server = $4, issuer = $5,
			client_id = $6, client_secret = $7, created = $8, modified = $9, prev_token_hash = $10, prev_token_expires = $11,
			admin_group = $12
			WHERE name = $1`),
			t.Name, blob(t.TokenHash), t.OktaDomain, t.AuthServer, t.Issuer, t.ClientID, t.ClientSecret, toDB(t.Created), toDB(t.Modified),
			blob(t.PrevTokenHash), optToDB(t.PrevTokenExpires), t.AdminGroup)
		if err != nil {
			return fmt.Errorf("sqlstore: update tenant %q: %w", name, err)
		}
		out = t
		return nil
	})
	if err != nil {
		return store.Tenant{}, err
	}
	return out, nil
}
