package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/idpkit/idpkit/scim/store"
)

// PutToken stores or replaces a token, and deletes tokens that have
// expired. t.Expires must be set: a token with no expiry is refused.
func (s *Store) PutToken(ctx context.Context, t store.Token) error {
	if t.Kind == "" || t.Key == "" {
		return errors.New("sqlstore: put token: kind and key are required")
	}
	if !storable(t.Kind, t.Key, t.Tenant) {
		return fmt.Errorf("sqlstore: put %s token: kind, key or tenant holds a NUL byte or invalid UTF-8", t.Kind)
	}
	if t.Expires.IsZero() {
		return fmt.Errorf("sqlstore: put %s token: no expiry", t.Kind)
	}
	return s.tx(ctx, "put token", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM tokens WHERE expires <= $1`), toDB(s.now())); err != nil {
			return fmt.Errorf("sqlstore: put %s token: sweep expired: %w", t.Kind, err)
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO tokens (kind, key, tenant, value, expires) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (kind, key) DO UPDATE SET tenant = excluded.tenant, value = excluded.value, expires = excluded.expires`),
			t.Kind, t.Key, t.Tenant, blob(t.Value), toDB(t.Expires))
		if err != nil {
			return fmt.Errorf("sqlstore: put %s token: %w", t.Kind, err)
		}
		return nil
	})
}

// GetToken returns an unexpired token; store.ErrNotFound otherwise.
func (s *Store) GetToken(ctx context.Context, kind, key string) (store.Token, error) {
	if !storable(kind, key) {
		return store.Token{}, fmt.Errorf("sqlstore: %s token: %w", kind, store.ErrNotFound)
	}
	t := store.Token{Kind: kind, Key: key}
	var expires int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT tenant, value, expires FROM tokens WHERE kind = $1 AND key = $2 AND expires > $3`),
		kind, key, toDB(s.now())).Scan(&t.Tenant, &t.Value, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Token{}, fmt.Errorf("sqlstore: %s token: %w", kind, store.ErrNotFound)
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("sqlstore: get %s token: %w", kind, err)
	}
	t.Value, t.Expires = unblob(t.Value), fromDB(expires)
	return t, nil
}

// TakeToken returns an unexpired token and deletes it in one statement,
// so only one caller ever gets it; store.ErrNotFound otherwise. An
// expired token is deleted too.
func (s *Store) TakeToken(ctx context.Context, kind, key string) (store.Token, error) {
	if !storable(kind, key) {
		return store.Token{}, fmt.Errorf("sqlstore: %s token: %w", kind, store.ErrNotFound)
	}
	t := store.Token{Kind: kind, Key: key}
	var expires int64
	err := s.w.QueryRowContext(ctx, s.q(`DELETE FROM tokens WHERE kind = $1 AND key = $2 RETURNING tenant, value, expires`),
		kind, key).Scan(&t.Tenant, &t.Value, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Token{}, fmt.Errorf("sqlstore: %s token: %w", kind, store.ErrNotFound)
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("sqlstore: take %s token: %w", kind, err)
	}
	if expires <= toDB(s.now()) {
		return store.Token{}, fmt.Errorf("sqlstore: %s token expired: %w", kind, store.ErrNotFound)
	}
	t.Value, t.Expires = unblob(t.Value), fromDB(expires)
	return t, nil
}

// DeleteToken removes a token; an absent token is not an error.
func (s *Store) DeleteToken(ctx context.Context, kind, key string) error {
	if !storable(kind, key) {
		return nil // nothing of that key can exist
	}
	if _, err := s.w.ExecContext(ctx, s.q(`DELETE FROM tokens WHERE kind = $1 AND key = $2`), kind, key); err != nil {
		return fmt.Errorf("sqlstore: delete %s token: %w", kind, err)
	}
	return nil
}
