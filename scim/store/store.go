// Package store defines the persistence interface of idpkit's app server:
// tenants, SCIM resources (RFC 7643 §3) and short-lived tokens (one-time
// admin links, login states, sessions). Backends live in scim/store/sqlstore;
// scim/store/storetest is the conformance suite every backend passes.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors returned by every backend, matched with errors.Is.
var (
	// ErrNotFound: no tenant, resource or token with that key (an expired
	// token is not found).
	ErrNotFound = errors.New("store: not found")
	// ErrExists: a tenant of that name exists, or a resource's unique
	// attribute (a User's userName, compared case-insensitively) is taken.
	ErrExists = errors.New("store: already exists")
	// ErrStale: a conditional write found another version than the one
	// it was given (the resource changed since it was read).
	ErrStale = errors.New("store: version changed")
)

// Tenant is one app tenant: its SCIM credential and its sign-in settings.
type Tenant struct {
	Name      string // URL-safe, unique
	TokenHash []byte // secret.Hash of the SCIM bearer token; the token itself is never stored

	// Sign-in (OIDC relying party) settings, empty until configured.
	OktaDomain   string // as the admin entered it, normalised to a base URL (https://example.okta.com)
	AuthServer   string // "" for the org authorization server, else a custom server id such as "default"
	Issuer       string // the issuer read from the discovery document
	ClientID     string
	ClientSecret string

	Created  time.Time
	Modified time.Time
}

// Resource types stored by Record.Type.
const (
	TypeUser  = "User"
	TypeGroup = "Group"
)

// Record is one stored SCIM resource. Data is the resource's JSON as the
// server keeps it (including id and meta); the other fields are indexed
// copies the server fills in so the store never parses Data.
type Record struct {
	Type        string // TypeUser or TypeGroup
	ID          string
	Version     int64  // 1 on create, +1 on every update; set by the store
	UserName    string // Users only; unique per tenant, case-insensitively
	ExternalID  string
	DisplayName string
	Data        []byte
	Created     time.Time
	Modified    time.Time
}

// Query narrows ListResources by equality on indexed fields. Empty fields
// do not constrain. UserName compares case-insensitively, the others exactly.
// The server still evaluates the full filter on what comes back.
type Query struct {
	ID          string
	UserName    string
	ExternalID  string
	DisplayName string
}

// Token is a short-lived value under a key, such as a one-time admin link,
// an OIDC login state or a session. Callers store a hash of any secret key.
type Token struct {
	Kind    string // namespace, e.g. "admin-link", "login-state", "session"
	Key     string
	Tenant  string
	Value   []byte
	Expires time.Time
}

// Store is what the app server persists. Implementations are safe for
// concurrent use by many goroutines and by several processes sharing one
// database.
type Store interface {
	// CreateTenant stores t; ErrExists when the name is taken.
	CreateTenant(ctx context.Context, t Tenant) error
	// GetTenant returns the tenant; ErrNotFound when absent.
	GetTenant(ctx context.Context, name string) (Tenant, error)
	// UpdateTenant reads the tenant, calls update on it and writes the
	// result, atomically. An error from update aborts and is returned.
	UpdateTenant(ctx context.Context, name string, update func(*Tenant) error) (Tenant, error)

	// CreateResource stores r with Version 1 and returns it; ErrExists
	// when r.UserName is taken in the tenant (case-insensitively) or r.ID exists.
	CreateResource(ctx context.Context, tenant string, r Record) (Record, error)
	// GetResource returns one resource; ErrNotFound when absent.
	GetResource(ctx context.Context, tenant, typ, id string) (Record, error)
	// ListResources returns the tenant's resources of a type that match q,
	// in a stable order (creation time, then ID) so pages never overlap.
	ListResources(ctx context.Context, tenant, typ string, q Query) ([]Record, error)
	// CountResources returns how many resources of a type the tenant holds.
	CountResources(ctx context.Context, tenant, typ string) (int, error)
	// UpdateResource reads a resource, calls update on it and writes the
	// result with Version+1, in one transaction, so concurrent updates
	// never lose a write. Type and ID cannot change. An error from update
	// aborts and is returned; ErrNotFound when absent; ErrExists when the
	// new UserName is taken.
	UpdateResource(ctx context.Context, tenant, typ, id string, update func(*Record) error) (Record, error)
	// DeleteResource removes a resource; ErrNotFound when absent.
	DeleteResource(ctx context.Context, tenant, typ, id string) error
	// DeleteResourceVersion removes a resource only if its Version is
	// still version, atomically; ErrStale when it has another version,
	// ErrNotFound when absent. It serves DELETE with If-Match.
	DeleteResourceVersion(ctx context.Context, tenant, typ, id string, version int64) error

	// PutToken stores or replaces a token.
	PutToken(ctx context.Context, t Token) error
	// GetToken returns an unexpired token; ErrNotFound otherwise.
	GetToken(ctx context.Context, kind, key string) (Token, error)
	// TakeToken returns an unexpired token and deletes it, atomically, so
	// that only one caller ever gets it; ErrNotFound otherwise.
	TakeToken(ctx context.Context, kind, key string) (Token, error)
	// DeleteToken removes a token; absent tokens are not an error.
	DeleteToken(ctx context.Context, kind, key string) error

	// Close releases the database.
	Close() error
}
