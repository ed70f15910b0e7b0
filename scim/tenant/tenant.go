// Package tenant manages the lifecycle of idpkit's app tenants: creating a
// tenant with its SCIM bearer token (RFC 7644 §2 and RFC 6750 §2.1; only the
// token's SHA-256 is stored, RFC 6750 §5.3), one-time admin links, rotating
// the token, and configuring sign-in with an Okta OpenID provider after
// the sign-in check (check.go): the domain, the issuer's discovery
// document (OpenID Connect Discovery 1.0 §4 and §4.3; RFC 8414 §3), its
// JWK Set (RFC 7517 §5) and the client credentials (RFC 6749 §2.3.1,
// §5.2), each step reported as an adminapi.Check.
package tenant

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/idpkit/idpkit/scim/secret"
	"github.com/idpkit/idpkit/scim/store"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrInvalidName: the tenant name is not a DNS-label-like name.
	ErrInvalidName = errors.New("tenant: invalid tenant name")
	// ErrExists: a tenant of that name exists. It wraps store.ErrExists.
	ErrExists error = &wrapped{"tenant: tenant already exists", store.ErrExists}
	// ErrNotFound: no tenant of that name. It wraps store.ErrNotFound.
	ErrNotFound error = &wrapped{"tenant: no such tenant", store.ErrNotFound}
	// ErrInvalidLink: an admin link is unknown, used, expired or for another tenant.
	ErrInvalidLink = errors.New("tenant: the admin link is invalid, expired or already used")
	// ErrInvalidDomain: the Okta domain cannot be used (see NormalizeDomain).
	ErrInvalidDomain = errors.New("tenant: invalid okta domain")
	// ErrInvalidSignIn: the sign-in settings are incomplete or malformed
	// (missing client id or secret, bad authorization server id).
	ErrInvalidSignIn = errors.New("tenant: invalid sign-in settings")
	// ErrDiscovery: the discovery document could not be read or does not
	// describe the expected issuer.
	ErrDiscovery = errors.New("tenant: discovery failed")
	// ErrInvalidGrace: a rotation's grace period is negative or longer
	// than MaxGrace.
	ErrInvalidGrace = errors.New("tenant: invalid grace period")
)

// MaxGrace is the longest grace period of a token rotation: how long the
// previous SCIM token may keep working after RotateTokenGrace.
const MaxGrace = 24 * time.Hour

// wrapped is a sentinel with its own text that also matches base.
type wrapped struct {
	msg  string
	base error
}

func (e *wrapped) Error() string { return e.msg }
func (e *wrapped) Unwrap() error { return e.base }

// Token kinds this package keeps in the store.
const (
	// KindAdminLink is the store.Token kind of one-time admin links.
	KindAdminLink = "admin-link"
)

// AdminLinkTTL is how long a one-time admin link stays valid.
const AdminLinkTTL = 15 * time.Minute

// DiscoveryTimeout bounds the discovery request made by Configure.
const DiscoveryTimeout = 10 * time.Second

// Service creates and configures tenants. The zero values of HTTPClient,
// Now and Logger mean http.DefaultClient-like defaults (with
// DiscoveryTimeout), time.Now and a discarding logger.
type Service struct {
	Store      store.Store
	PublicURL  string // base URL of the app server, e.g. http://127.0.0.1:8080
	HTTPClient *http.Client
	Now        func() time.Time
	Logger     *slog.Logger
}

// Created is what Create returns: everything the Connect Okta dialog shows.
// Token is the SCIM bearer secret, shown only here.
type Created struct {
	Tenant      string `json:"tenant"`
	SCIMBaseURL string `json:"scimBaseUrl"`
	Token       string `json:"token"`
	RedirectURI string `json:"redirectUri"`
	AdminURL    string `json:"adminUrl"`
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Service) base() string { return strings.TrimRight(s.PublicURL, "/") }

// SCIMBaseURL returns the tenant's SCIM base URL, PublicURL/t/NAME/scim/v2.
func (s *Service) SCIMBaseURL(name string) string {
	return s.base() + "/t/" + name + "/scim/v2"
}

// RedirectURI returns the tenant's OIDC redirect URI, PublicURL/t/NAME/oidc/callback.
func (s *Service) RedirectURI(name string) string {
	return s.base() + "/t/" + name + "/oidc/callback"
}

// ValidateName reports whether name can be a tenant name: 1 to 63
// lowercase letters, digits and hyphens, not starting or ending with a
// hyphen (a DNS label, RFC 1123 §2.1). Errors match ErrInvalidName.
func ValidateName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: the name is empty; use lowercase letters, digits and hyphens", ErrInvalidName)
	}
	if len(name) > 63 {
		return fmt.Errorf("%w: %q is longer than 63 characters", ErrInvalidName, name)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("%w: %q may contain only lowercase letters, digits and hyphens", ErrInvalidName, name)
		}
	}
	if name[0] == '-' || name[len(name)-1] == '-' {
		return fmt.Errorf("%w: %q must not start or end with a hyphen", ErrInvalidName, name)
	}
	return nil
}

// Create makes a tenant with a fresh SCIM token (stored only as its hash)
// and a one-time admin link. Errors match ErrInvalidName or ErrExists.
func (s *Service) Create(ctx context.Context, name string) (Created, error) {
	if err := ValidateName(name); err != nil {
		return Created{}, err
	}
	token := secret.New()
	now := s.now()
	err := s.Store.CreateTenant(ctx, store.Tenant{Name: name, TokenHash: secret.Hash(token), Created: now, Modified: now})
	if errors.Is(err, store.ErrExists) {
		return Created{}, fmt.Errorf("%w: %q; choose another name", ErrExists, name)
	}
	if err != nil {
		return Created{}, fmt.Errorf("tenant: create %q: %w", name, err)
	}
	link, err := s.AdminLink(ctx, name)
	if err != nil {
		return Created{}, err
	}
	s.log().InfoContext(ctx, "tenant created", "tenant", name)
	return Created{
		Tenant:      name,
		SCIMBaseURL: s.SCIMBaseURL(name),
		Token:       token,
		RedirectURI: s.RedirectURI(name),
		AdminURL:    link,
	}, nil
}

// RotateToken replaces the tenant's SCIM token with a fresh one and returns
// it; the old token stops working at once (and so does a previous token
// still in a grace period). Errors match ErrNotFound.
func (s *Service) RotateToken(ctx context.Context, name string) (string, error) {
	return s.RotateTokenGrace(ctx, name, 0)
}

// RotateTokenGrace replaces the tenant's SCIM token with a fresh one and
// returns it. With grace > 0 the old token keeps working for grace (so
// the Okta admin has time to paste the new one); with 0 it stops at once.
// Only one previous token is kept: a rotation during a grace period ends
// the token that was in it. Errors match ErrNotFound or ErrInvalidGrace
// (grace below 0 or above MaxGrace).
func (s *Service) RotateTokenGrace(ctx context.Context, name string, grace time.Duration) (string, error) {
	if grace < 0 || grace > MaxGrace {
		return "", fmt.Errorf("%w: the grace period %v is not between 0 (revoke the old token at once) and %v", ErrInvalidGrace, grace, MaxGrace)
	}
	token := secret.New()
	now := s.now()
	_, err := s.Store.UpdateTenant(ctx, name, func(t *store.Tenant) error {
		if grace > 0 {
			t.PrevTokenHash, t.PrevTokenExpires = t.TokenHash, now.Add(grace)
		} else {
			t.PrevTokenHash, t.PrevTokenExpires = nil, time.Time{}
		}
		t.TokenHash = secret.Hash(token)
		t.Modified = now
		return nil
	})
	if err != nil {
		return "", s.storeErr(name, "rotate token", err)
	}
	s.log().InfoContext(ctx, "tenant token rotated", "tenant", name, "grace", grace)
	return token, nil
}

// AdminLink returns a new one-time admin link,
// PublicURL/t/NAME/admin/login?token=…, valid for AdminLinkTTL.
// Errors match ErrNotFound.
func (s *Service) AdminLink(ctx context.Context, name string) (string, error) {
	if _, err := s.Store.GetTenant(ctx, name); err != nil {
		return "", s.storeErr(name, "admin link", err)
	}
	token := secret.New()
	err := s.Store.PutToken(ctx, store.Token{
		Kind:    KindAdminLink,
		Key:     secret.HashString(token),
		Tenant:  name,
		Expires: s.now().Add(AdminLinkTTL),
	})
	if err != nil {
		return "", fmt.Errorf("tenant: admin link for %q: %w", name, err)
	}
	return s.base() + "/t/" + name + "/admin/login?token=" + url.QueryEscape(token), nil
}

// ConsumeAdminLink redeems the token of a one-time admin link for tenant
// name. A link works once; errors match ErrInvalidLink.
func (s *Service) ConsumeAdminLink(ctx context.Context, name, token string) error {
	if token == "" {
		return ErrInvalidLink
	}
	key := secret.HashString(token)
	t, err := s.Store.GetToken(ctx, KindAdminLink, key)
	if errors.Is(err, store.ErrNotFound) || err == nil && t.Tenant != name {
		return ErrInvalidLink
	}
	if err != nil {
		return fmt.Errorf("tenant: admin link: %w", err)
	}
	t, err = s.Store.TakeToken(ctx, KindAdminLink, key)
	if errors.Is(err, store.ErrNotFound) {
		return ErrInvalidLink
	}
	if err != nil {
		return fmt.Errorf("tenant: admin link: %w", err)
	}
	if !s.now().Before(t.Expires) {
		return ErrInvalidLink
	}
	s.log().InfoContext(ctx, "admin link used", "tenant", name)
	return nil
}

func (s *Service) storeErr(name, op string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	return fmt.Errorf("tenant: %s %q: %w", op, name, err)
}

// Message returns err as a sentence for a person: the text after this
// package's sentinel prefix ("tenant: invalid okta domain: "), with its
// first letter in upper case unless it starts with a URL. Other errors are returned as they are.
func Message(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	for _, e := range []error{ErrInvalidName, ErrExists, ErrNotFound, ErrInvalidLink, ErrInvalidDomain, ErrInvalidSignIn, ErrDiscovery, ErrInvalidGrace} {
		if errors.Is(err, e) && strings.HasPrefix(s, e.Error()) {
			rest := strings.TrimPrefix(strings.TrimPrefix(s, e.Error()), ": ")
			if rest == "" {
				rest = strings.TrimPrefix(e.Error(), "tenant: ")
			}
			if startsWithAddress(rest) {
				return rest // a URL or host name keeps its case
			}
			r, n := utf8.DecodeRuneInString(rest)
			return string(unicode.ToUpper(r)) + rest[n:]
		}
	}
	return s
}

// startsWithAddress reports whether s's first word is a URL (any word with
// "://", quoted or not) or a host name ("dev-1.okta.com",
// "127.0.0.1:9090"): a sentence starting with one keeps its first letter
// ("https://…", never "Https://…").
func startsWithAddress(s string) bool {
	first, _, _ := strings.Cut(s, " ")
	if strings.Contains(first, "://") {
		return true
	}
	host := strings.TrimRight(first, ",;:.")
	if i := strings.LastIndex(host, ":"); i > 0 && !strings.Contains(host[:i], ":") {
		host = host[:i] // a port
	}
	if !strings.Contains(host, ".") || host != strings.ToLower(host) {
		return false
	}
	return validHost(host)
}
