// Package store defines the persistence interface of idpkit's app server:
// tenants, SCIM resources (RFC 7643 §3) with group membership in its own
// relation (RFC 7643 §4.1.2 groups, §4.2 members), filters, sorting and
// paging that the database evaluates (RFC 7644 §3.4.2.2–§3.4.2.4, through
// Cond and Query), and short-lived tokens (one-time admin links, login
// states, sessions). Backends live in scim/store/sqlstore;
// scim/store/storetest is the conformance suite every backend passes.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
	// ErrMissingMember: a write adds a member that is not a User of the
	// tenant (see MissingMembersError).
	ErrMissingMember = errors.New("store: member is not a user of the tenant")
	// ErrStale: a conditional write found another version than the one
	// it was given (the resource changed since it was read).
	ErrStale = errors.New("store: version changed")
)

// Tenant is one app tenant: its SCIM credential and its sign-in settings.
type Tenant struct {
	Name      string // URL-safe, unique
	TokenHash []byte // secret.Hash of the SCIM bearer token; the token itself is never stored

	// The previous SCIM token, kept through a rotation's grace period:
	// it authenticates too while the time is before PrevTokenExpires.
	// Empty and zero when there is none (only one previous token is kept).
	PrevTokenHash    []byte    // secret.Hash of the previous token
	PrevTokenExpires time.Time // when the previous token stops working

	// Sign-in (OIDC relying party) settings, empty until configured.
	OktaDomain   string // as the admin entered it, normalised to a base URL (https://example.okta.com)
	AuthServer   string // "" for the org authorization server, else a custom server id such as "default"
	Issuer       string // the issuer read from the discovery document
	ClientID     string
	ClientSecret string
	// ClientSecretErr is never stored: a store that could not decrypt
	// the stored client secret (package sealed, with another key or none)
	// sets it, with ClientSecret empty, so that the tenant's SCIM service,
	// which needs no client secret, keeps working while its sign-in
	// reports the error.
	ClientSecretErr error

	// AdminGroup is the displayName of the SCIM group whose active
	// members may sign in to the tenant's admin pages with Okta; "" when
	// nobody may (only the one-time admin link works then).
	AdminGroup string

	Created  time.Time
	Modified time.Time
}

// Resource types stored by Record.Type.
const (
	TypeUser  = "User"
	TypeGroup = "Group"
)

// Record is one stored SCIM resource. Data is the resource's JSON as the
// server keeps it (without a Group's members, which live in their own
// table); the other fields are indexed copies the server fills in so the
// store never parses Data.
type Record struct {
	Type        string   // TypeUser or TypeGroup
	ID          string   // unique per tenant and type
	Version     int64    // 1 on create, +1 on every update; set by the store
	UserName    string   // Users only; unique per tenant, compared folded (Fold)
	ExternalID  string   // compared exactly
	DisplayName string   // compared folded
	Emails      []string // Users: the values of "emails", compared folded; the store keeps them in order
	Data        []byte
	Created     time.Time
	Modified    time.Time

	// Members, when not nil, changes a Group's members in the same
	// transaction as the write that carries it: CreateResource applies
	// its Add; an UpdateResource callback may set it. It is never set on
	// a Record the store returns. Ignored for Users.
	Members *MemberChange
}

// Member is one member of a group (RFC 7643 §4.2 "members").
type Member struct {
	Value   string // the id of a User of the same tenant
	Display string // as the client sent it, or the user's userName; may be empty
}

// MemberChange is a change to a group's members, applied in this order:
// Replace, then Remove, then Add.
type MemberChange struct {
	// Replace removes every member first (PUT, or PATCH replace of
	// "members" as a whole).
	Replace bool
	// Remove names user ids to remove; ids that are not members are
	// ignored.
	Remove []string
	// Add inserts members. A user already a member keeps its place in the
	// order and takes the new Display when that is not empty. Every Value
	// must be the id of a User of the tenant, or the whole write fails
	// with a *MissingMembersError and nothing is written.
	Add []Member
}

// GroupRef names a group a user belongs to (RFC 7643 §4.1.2 "groups").
type GroupRef struct {
	ID          string
	DisplayName string
}

// MissingMembersError is returned by a write whose MemberChange adds
// members that are not Users of the tenant; it matches ErrMissingMember.
type MissingMembersError struct {
	IDs []string // the values that name no User, in the order given
}

// Error implements error.
func (e *MissingMembersError) Error() string {
	return fmt.Sprintf("store: members are not users of the tenant: %q", e.IDs)
}

// Unwrap makes errors.Is(err, ErrMissingMember) hold.
func (e *MissingMembersError) Unwrap() error { return ErrMissingMember }

// Fold is the case-insensitive form of a value under which the store
// indexes, compares, sorts and checks the uniqueness of the attributes
// that are not caseExact (userName, displayName, emails.value). It is
// strings.ToLower, the same folding scim/filter and the server's sorting
// apply, so that what SQL answers equals what the filter evaluates.
func Fold(s string) string { return strings.ToLower(s) }

// Field names an indexed value a Cond can test or a Query can sort by.
type Field string

// The indexed fields. Strings compare byte-wise (code point order) after
// Fold where noted; times compare as instants at microsecond precision.
const (
	FieldID          Field = "id"                // string, exact; always set
	FieldUserName    Field = "userName"          // string, folded; Users only
	FieldExternalID  Field = "externalId"        // string, exact
	FieldDisplayName Field = "displayName"       // string, folded
	FieldEmail       Field = "emails.value"      // strings, folded, multi-valued; Users only; not sortable
	FieldCreated     Field = "meta.created"      // time; always set
	FieldModified    Field = "meta.lastModified" // time; always set
	FieldMember      Field = "members.value"     // user ids, exact, multi-valued; Groups only; eq and pr only; not sortable
	FieldGroup       Field = "groups.value"      // group ids, exact, multi-valued; Users only; eq and pr only; not sortable
)

// Operators of a Cond comparison, named as in RFC 7644 §3.4.2.2.
const (
	OpEq = "eq"
	OpNe = "ne"
	OpCo = "co"
	OpSw = "sw"
	OpEw = "ew"
	OpGt = "gt"
	OpGe = "ge"
	OpLt = "lt"
	OpLe = "le"
	OpPr = "pr"
)

// Cond is a predicate over the indexed fields, evaluated by the database.
// Exactly one of these forms is used: And (all hold; empty And is true),
// Or (one holds; empty Or is false), Not, or a comparison Field Op Value
// (Time for the time fields).
//
// The meaning is plain SQL over stored values, which the server maps SCIM
// filters onto only where they agree:
//   - A string field that is empty is unset. Every operator but ne and pr
//     is false on an unset field; ne is true when the stored value differs
//     from Value, unset included; pr is true when the field is set.
//   - A folded field compares Fold(stored) with Fold(Value).
//   - co, sw and ew are substring, prefix and suffix tests; gt, ge, lt, le
//     compare byte-wise. On time fields only eq, ne, gt, ge, lt, le and pr.
//   - A multi-valued field (emails.value, members.value, groups.value)
//     holds when some one of its values satisfies the comparison; with no
//     values every comparison is false (ne too); pr means "has a value".
//   - A Value that is not valid UTF-8 or holds a NUL byte equals no stored
//     value.
type Cond struct {
	And []Cond
	Or  []Cond
	Not *Cond

	Field Field
	Op    string
	Value string
	Time  time.Time
}

// Eq is the condition "field eq value".
func Eq(f Field, value string) *Cond { return &Cond{Field: f, Op: OpEq, Value: value} }

// Query selects, orders and pages the resources ListResources and
// ScanResources return. The zero value is every resource of the type in
// the default order.
type Query struct {
	// Where selects resources; nil selects all.
	Where *Cond
	// Sort orders by a field (not a multi-valued one); "" is the default
	// order: creation time, then ID. With a Sort field, unset values come
	// last ascending and first descending, and equal values keep the
	// default order (in both directions), as a stable sort of the default
	// order would.
	Sort Field
	Desc bool
	// Offset skips that many resources of the ordered result.
	Offset int
	// Limit caps how many are returned; 0 means no limit.
	Limit int
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

// Audit record kinds (AuditRecord.Kind).
const (
	AuditSCIM   = "scim"   // a SCIM write, or a refused one
	AuditSignIn = "signin" // a sign-in outcome
	AuditAdmin  = "admin"  // an admin change
)

// AuditRecord is one entry of a tenant's audit trail. It keeps personal
// data to identifiers (resource ids, token ids, Okta subs): never a
// userName, an email, a password or a token.
type AuditRecord struct {
	Tenant  string    // filled in by ListAudit
	At      time.Time // stored at microsecond precision
	Kind    string    // AuditSCIM, AuditSignIn or AuditAdmin
	Actor   string    // who: a SCIM token id, an Okta sub, "admin"; may be empty
	Source  string    // the client address, when known
	Action  string    // e.g. create, replace, patch, delete, signed-in, secret-rotated
	Target  string    // e.g. User/<id>, Group/<id>; may be empty
	Detail  []byte    // JSON (an array of attribute names, a reason); may be empty
	Outcome string    // the HTTP status, or a reason code
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

	// CreateResource stores r with Version 1 and returns it (without
	// Members); ErrExists when r.UserName is taken in the tenant (folded)
	// or r.ID exists; a *MissingMembersError when r.Members adds a value
	// that is not a User of the tenant.
	CreateResource(ctx context.Context, tenant string, r Record) (Record, error)
	// CreateResources stores many new resources (each with Version 1) in
	// one transaction: all of them or, on any error, none. It is the bulk
	// path for seeding and imports; ErrExists when any one collides.
	CreateResources(ctx context.Context, tenant string, rs []Record) error
	// GetResource returns one resource; ErrNotFound when absent.
	GetResource(ctx context.Context, tenant, typ, id string) (Record, error)
	// ListResources returns the resources of a type that q selects, in
	// q's order and page. It is ScanResources collected into a slice.
	ListResources(ctx context.Context, tenant, typ string, q Query) ([]Record, error)
	// ScanResources calls fn with each resource q selects, in q's order
	// and page, while it reads them, so that a caller never holds more
	// than it keeps. An error from fn stops the scan and is returned.
	ScanResources(ctx context.Context, tenant, typ string, q Query, fn func(Record) error) error
	// CountResources returns how many resources of a type where selects
	// (all when nil).
	CountResources(ctx context.Context, tenant, typ string, where *Cond) (int, error)
	// ListMembers returns a group's members in the order they were first
	// added; with ids not nil, only those of them that are members.
	// ErrNotFound when the group is absent.
	ListMembers(ctx context.Context, tenant, groupID string, ids []string) ([]Member, error)
	// GroupsOf returns, for each of userIDs that belongs to any group, the
	// groups that list it, in the groups' default order.
	GroupsOf(ctx context.Context, tenant string, userIDs []string) (map[string][]GroupRef, error)
	// UpdateResource reads a resource, calls update on it and writes the
	// result with Version+1, in one transaction, so concurrent updates
	// never lose a write; the row stays locked from the read to the
	// commit, also against other processes. Type and ID cannot change.
	// The callback may set Members to change a group's members in the same
	// transaction. An error from update aborts and is returned;
	// ErrNotFound when absent; ErrExists when the new UserName is taken;
	// a *MissingMembersError as for CreateResource.
	UpdateResource(ctx context.Context, tenant, typ, id string, update func(*Record) error) (Record, error)
	// DeleteResource removes a resource; ErrNotFound when absent.
	// Deleting a User removes it from every group, and each such group's
	// Version and Modified move on as for an update, in the same
	// transaction; deleting a Group removes its members.
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

	// AppendAudit stores audit records of a tenant (the trail of writes,
	// sign-ins and admin changes), in one transaction. A record's Tenant
	// is ignored: tenant is stored.
	AppendAudit(ctx context.Context, tenant string, recs []AuditRecord) error
	// ListAudit returns a tenant's audit records at or after since,
	// oldest first (records of one instant in the order appended), at
	// most limit of them (0: all).
	ListAudit(ctx context.Context, tenant string, since time.Time, limit int) ([]AuditRecord, error)
	// LatestAudit returns a tenant's newest audit records at or after
	// since, newest first (records of one instant in the reverse of the
	// order appended), at most limit of them (0: all): ListAudit's
	// records, reversed, and the last limit of them.
	LatestAudit(ctx context.Context, tenant string, since time.Time, limit int) ([]AuditRecord, error)
	// PruneAudit deletes the audit records of every tenant from before
	// before and returns how many it deleted.
	PruneAudit(ctx context.Context, before time.Time) (int, error)

	// Close releases the database.
	Close() error
}
