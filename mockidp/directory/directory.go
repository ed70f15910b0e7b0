// Package directory is the mock Okta org's data: users, groups, apps and
// app assignments, with Okta's user lifecycle and a System Log.
//
// It models the objects of Okta's management API (users with the statuses
// STAGED, PROVISIONED, ACTIVE, SUSPENDED and DEPROVISIONED; groups; OIDC web
// apps, whose clients follow RFC 6749 §2 and OpenID Connect Dynamic Client
// Registration 1.0 §2 metadata; SCIM apps that provision to an RFC 7644
// service) without any HTTP: mockidp/mgmt serves it in Okta's shapes and
// mockidp/op signs users in against it.
//
// A Directory is safe for concurrent use. Every value it returns is a copy;
// changing it does not change the directory.
package directory

import (
	"crypto/rand"
	"errors"
	"log/slog"
	"math/big"
	"sync"
	"time"
)

// Sentinel errors, matched with errors.Is. Errors returned by the
// directory wrap one of them and say which object and field is at fault.
var (
	// ErrNotFound: no user, group, app or assignment with that id.
	ErrNotFound = errors.New("directory: not found")
	// ErrExists: a unique field (a user's login, a group's name) is taken.
	ErrExists = errors.New("directory: already exists")
	// ErrInvalid: a required field is missing or malformed.
	ErrInvalid = errors.New("directory: invalid")
	// ErrLifecycle: the transition is not allowed from the user's status
	// (activating an active user, suspending one who is not active, deleting
	// one who is not deactivated).
	ErrLifecycle = errors.New("directory: lifecycle transition not allowed")
	// ErrAuthentication: unknown login, wrong password, or a user who may
	// not sign in (not ACTIVE).
	ErrAuthentication = errors.New("directory: authentication failed")
)

// FieldError is an ErrInvalid or ErrExists error about one field; mgmt
// renders it as an Okta errorCause "field: message".
type FieldError struct {
	Field   string // e.g. "login", "profile.email", "redirect_uris"
	Message string // e.g. "An object with this field already exists in the current organization"
	Kind    error  // ErrInvalid or ErrExists
}

// Error returns "directory: <field>: <message>".
func (e *FieldError) Error() string { return "directory: " + e.Field + ": " + e.Message }

// Unwrap returns e.Kind.
func (e *FieldError) Unwrap() error { return e.Kind }

func invalid(field, msg string) error {
	return &FieldError{Field: field, Message: msg, Kind: ErrInvalid}
}

// NotFoundError is an ErrNotFound error naming the missing object.
type NotFoundError struct {
	Kind string // Okta's type name: "User", "UserGroup", "AppInstance", "AppUser", "AppGroup"
	ID   string // the id or login asked for
}

// Error returns "directory: not found: <id> (<kind>)".
func (e *NotFoundError) Error() string { return "directory: not found: " + e.ID + " (" + e.Kind + ")" }

// Unwrap returns ErrNotFound.
func (e *NotFoundError) Unwrap() error { return ErrNotFound }

func notFound(kind, id string) error { return &NotFoundError{Kind: kind, ID: id} }

// Config configures a Directory.
type Config struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives debug logs; nil discards them.
	Logger *slog.Logger
}

// Directory is one in-memory Okta org.
type Directory struct {
	now   func() time.Time
	log   *slog.Logger
	orgID string

	mu        sync.RWMutex
	users     map[string]*userRecord
	userOrder []string
	groups    map[string]*groupRecord
	groupOrd  []string
	apps      map[string]*App
	appOrder  []string
	appUsers  map[assignKey]*AppUser
	appGroups map[assignKey]*AppGroup
	events    []Event
	seq       int
	everyone  string // the id of the built-in Everyone group
}

type assignKey struct{ app, member string }

// New returns an empty org with a fresh org id ("00o…") and its built-in
// Everyone group.
func New(cfg Config) *Directory {
	d := &Directory{
		now:       cfg.Now,
		log:       cfg.Logger,
		users:     map[string]*userRecord{},
		groups:    map[string]*groupRecord{},
		apps:      map[string]*App{},
		appUsers:  map[assignKey]*AppUser{},
		appGroups: map[assignKey]*AppGroup{},
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	d.orgID = NewID("00o")
	now := d.Now()
	e := &groupRecord{Group{ID: NewID("00g"), Type: GroupTypeBuiltIn, Name: EveryoneName, Description: EveryoneDescription, Created: now, LastUpdated: now, LastMembershipUpdated: now}}
	d.groups[e.ID] = e
	d.groupOrd = append(d.groupOrd, e.ID)
	d.everyone = e.ID
	return d
}

// OrgID returns the org's id ("00o…"), the idp claim of its ID tokens.
func (d *Directory) OrgID() string { return d.orgID }

// Now returns the directory's clock reading, truncated to milliseconds as
// Okta's timestamps are, in UTC.
func (d *Directory) Now() time.Time { return d.now().UTC().Truncate(time.Millisecond) }

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// RandomString returns n characters drawn uniformly from [0-9A-Za-z] by
// crypto/rand.
func RandomString(n int) string {
	b := make([]byte, n)
	max := big.NewInt(int64(len(base62)))
	for i := range b {
		v, err := rand.Int(rand.Reader, max)
		if err != nil { // crypto/rand does not fail on supported platforms
			v = big.NewInt(0)
		}
		b[i] = base62[v.Int64()]
	}
	return string(b)
}

// NewID returns prefix followed by 20 random base62 characters, the form of
// the mock's object ids ("00u…" users, "00g…" groups, "0oa…" apps).
func NewID(prefix string) string { return prefix + RandomString(20) }

func cloneStrings(s []string) []string {
	if s == nil {
		return nil
	}
	return append([]string(nil), s...)
}
