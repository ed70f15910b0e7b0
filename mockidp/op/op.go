// Package op is the mock Okta's OpenID provider: Okta's org authorization
// server and its custom authorization servers ("default" and any others
// configured), in the shape Okta publishes them.
//
// It implements:
//
//   - OpenID Connect Core 1.0 §3.1 (Authorization Code flow): §3.1.2.1
//     authorization request (GET and POST; prompt none, login and consent,
//     max_age, login_hint pre-filling the form), §3.1.2.6 error responses,
//     §3.1.3 token endpoint, §2 and §3.1.3.6 ID token claims (auth_time
//     always, amr, idp, nonce, at_hash), §5.3 UserInfo (GET and POST), §5.4
//     scope claims (email_verified with email), and OAuth 2.0 Form Post
//     Response Mode (response_mode query, fragment or form_post);
//   - OpenID Connect Discovery 1.0 §3 and RFC 8414 §3 metadata;
//   - RFC 6749 §2.3.1 client authentication (client_secret_basic with
//     form-URL-decoded user and password, client_secret_post, none with
//     PKCE; credentials in header and body are invalid_request), §3.3
//     scope syntax, §4.1 the authorization code grant with §4.1.2.1 error
//     redirects (an unregistered redirect URI gets a page, never a
//     redirect), §4.4 the client credentials grant (custom servers only, as
//     Okta), §5.1/§5.2 token responses and errors, §6 refresh;
//   - RFC 7636 PKCE, S256 only (§4.1 verifier syntax, §4.6 verification);
//   - RFC 7515/7519 JWTs signed RS256 with kid (RFC 7518 §3.3) by default,
//     ES256 (§3.4) for clients whose SigningAlg asks for it; RFC 7517 JWK
//     Sets at the keys endpoint, RFC 7638 thumbprints as kid;
//   - RFC 6750 §2.1/§2.2 and §3 bearer tokens and WWW-Authenticate at
//     UserInfo, in Okta's shape (authorization_uri, realm, scope, error,
//     error_description, resource);
//   - RFC 7009 token revocation and RFC 7662 token introspection;
//   - OpenID Connect RP-Initiated Logout 1.0 (id_token_hint,
//     post_logout_redirect_uri, state);
//   - the Fetch standard's CORS protocol (Access-Control-Allow-Origin,
//     preflights) for Okta's Trusted Origins, on discovery, keys, token,
//     userinfo, revoke and introspect (cors.go).
//
// Okta's URL layout: the org server has issuer BaseURL, discovery at
// /.well-known/openid-configuration and endpoints under /oauth2/v1/; a
// custom server {id} has issuer BaseURL/oauth2/{id}, discovery at
// /oauth2/{id}/.well-known/openid-configuration and
// /oauth2/{id}/.well-known/oauth-authorization-server, endpoints under
// /oauth2/{id}/v1/. Issuers never end in "/".
//
// Keys: two RSA keys at start, the first signing and the second published
// as next; RotateKeys (and Config.RotateEvery, on the injected clock,
// checked at every request) publishes a new key and moves signing to the
// one published before, keeping at most three. One EC P-256 key signs the
// ID tokens of ES256 clients; access tokens are always RS256.
//
// Test controls (controls.go): QueueLogin signs the next authorization
// request in without a form, QueueError makes an endpoint fail or answer
// late, Requests is the log of every endpoint call with its non-secret
// parameters, AddTrustedOrigin adds a CORS origin. They are applied in one
// place, the wrapper Register puts around every endpoint. Faults
// (faults.go) change what the provider signs and publishes: mint calls
// idTokenFault before signing an ID token, the keys endpoint passes its
// keys through jwksFault and UserInfo its body through userinfoFault.
// ArmFault's doc comment gives the lifecycle: when a one-shot fault is
// used up, how long a JWKS change lasts, and how faults armed together
// combine.
//
// Sign-in is refused, after the user has signed in to the provider, when
// the Directory implements Assignments and the user is not assigned to the
// client (access_denied at the redirect URI, as Okta answers).
//
// Simplifications, each deliberate:
//   - Only response_type=code is served, although discovery lists every
//     combination Okta lists; client_assertion (client_secret_jwt,
//     private_key_jwt) is refused, so the org server, which takes the
//     client credentials grant only with private_key_jwt, refuses it.
//   - All authorization servers share one signing key set (Okta keeps one
//     per server); RotateKeys rotates it.
//   - Okta adds a "groups" claim through claim configuration on the
//     authorization server; here asking for the scope "groups" adds it
//     (at most 100 group names) to the ID token and UserInfo.
//   - Custom servers have no scope configuration: the client credentials
//     grant takes any syntactically valid scope except the OpenID Connect
//     ones, which need a user.
//   - Bearer errors at UserInfo carry a JSON body besides
//     WWW-Authenticate (Okta sends none), and CORS headers are sent on
//     error responses too.
//   - The SSO session is one cookie, mockokta_sid, with Path /oauth2, so it
//     cannot collide with an application's cookies on the same loopback
//     host.
package op

import (
	"context"
	"crypto"
	"crypto/rand"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// User is a directory user as the provider sees it.
type User struct {
	// ID is Okta's user id (00u…); it is the ID token's sub.
	ID string
	// Login is the Okta username; preferred_username and the access token's sub.
	Login string
	// Email is the primary email address.
	Email string
	// FirstName is given_name.
	FirstName string
	// LastName is family_name.
	LastName string
	// Groups are the names of the user's groups.
	Groups []string
}

// Client is a registered OIDC application.
type Client struct {
	// ID is the client_id (0oa…).
	ID string
	// Secret is the client_secret; empty for public clients.
	Secret string
	// RedirectURIs are the sign-in redirect URIs, matched exactly.
	RedirectURIs []string
	// PostLogoutRedirectURIs are the sign-out redirect URIs, matched exactly.
	PostLogoutRedirectURIs []string
	// AuthMethod is the token endpoint auth method: client_secret_basic
	// (the default when empty), client_secret_post or none.
	AuthMethod string
	// GrantTypes are the allowed grants; empty means authorization_code only.
	GrantTypes []string
	// SigningAlg is the ID token's signing algorithm: "RS256" (or empty,
	// Okta's default) or "ES256". Access tokens are always RS256.
	SigningAlg string
}

// Token endpoint authentication methods of Client.AuthMethod.
const (
	AuthMethodBasic = "client_secret_basic"
	AuthMethodPost  = "client_secret_post"
	AuthMethodNone  = "none"
)

// Directory is what the provider needs from the mock Okta's directory.
type Directory interface {
	// Authenticate checks a login and password; it returns an error for an
	// unknown user, a wrong password or a user that is not ACTIVE.
	Authenticate(ctx context.Context, login, password string) (User, error)
	// User looks an ACTIVE user up by id.
	User(ctx context.Context, id string) (User, bool)
	// UserByLogin looks an ACTIVE user up by login (Okta username,
	// case-insensitive); QueueLogin uses it.
	UserByLogin(ctx context.Context, login string) (User, bool)
	// Client looks an OIDC application up by client_id.
	Client(ctx context.Context, clientID string) (Client, bool)
}

// Assignments is what a Directory also implements to admit only the users
// assigned to an app, as Okta does: a user the directory says is not
// assigned to the client signs in to the provider (the SSO session is
// kept) but gets no code, and the authorization request is answered with
// access_denied and "User is not assigned to the client application." at
// the redirect URI (RFC 6749 §4.1.2.1). That applies to the login form, a
// queued login and an existing SSO session alike. A Directory without this
// method admits every active user.
type Assignments interface {
	// Assigned reports whether the user (by id) is assigned to the OIDC
	// app with that client id, directly or through a group.
	Assigned(ctx context.Context, clientID, userID string) bool
}

// Config configures a Provider.
type Config struct {
	// BaseURL returns the org URL, e.g. http://127.0.0.1:9090, without a
	// trailing slash. It is a func because the listener address is known
	// late; it is called on every request.
	BaseURL func() string
	// OrgID is the org id (00o…), the ID token's idp claim. Empty means a
	// generated one.
	OrgID string
	// AuthServers are the custom authorization servers besides "default",
	// which always exists.
	AuthServers []string
	// Directory resolves users and clients. Required.
	Directory Directory
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives request logs; nil discards them.
	Logger *slog.Logger
	// SigningKeys, when set, are exactly two RSA keys (at least 2048 bits)
	// published at start: the first signs, the second is the next key.
	// Nil generates two RSA-2048 keys, which takes a moment; tests that
	// start many providers pass fixed keys instead.
	SigningKeys []crypto.Signer
	// RotateEvery rotates the keys (as RotateKeys does) once per period on
	// the provider's clock, counted from New; 0 never rotates on its own.
	// Rotation is checked at every request, so moving the clock on past a
	// period rotates at the next request; a jump over several periods
	// rotates once per period, at most three times (which replaces every
	// key). The key that starts signing was published a period before, on
	// the provider's clock — after a jump over several periods, no client
	// can have fetched it yet, as with a real org that was not polled.
	RotateEvery time.Duration
	// TrustedOrigins are the origins (scheme://host[:port]) whose browser
	// pages may read discovery, keys, token, userinfo, revoke and
	// introspect responses (CORS), as Okta's Trusted Origins with CORS.
	TrustedOrigins []string
	// ES256 publishes the EC P-256 key and lists ES256 in discovery from
	// the start. Without it both happen from the first authorization (or
	// token) request of a client whose SigningAlg is ES256, so discovery
	// never hides an algorithm a token uses.
	ES256 bool
}

// Lifetimes, as on Okta's org server.
const (
	codeLifetime    = 60 * time.Second
	tokenLifetime   = time.Hour
	refreshLifetime = 90 * 24 * time.Hour
	sessionLifetime = 2 * time.Hour
	maxFormBytes    = 1 << 20
	maxGroups       = 100
)

// Provider is the OpenID provider. Its methods are safe for concurrent use.
type Provider struct {
	baseURL func() string
	orgID   string
	servers []*authServer
	dir     Directory
	now     func() time.Time
	log     *slog.Logger
	tmpl    *template.Template
	keys    *keySet

	rotation rotation
	es256    atomic.Bool
	ctl      controls
	fault    faultSet // faults.go

	closing   chan struct{} // closed by Close: queued delays end at once
	closeOnce sync.Once

	mu       sync.Mutex
	codes    map[string]*authCode
	sessions map[string]*session
	refresh  map[string]*grant
	revoked  map[string]time.Time    // access token jti → its expiry
	extra    map[string]*extraClaims // access token jti → queued login claims
	sweeps   [5]sweeper              // see sweepCodes…
}

// authServer is one authorization server; id "" is the org server.
type authServer struct {
	id string
}

// New builds a Provider and generates its first two RSA-2048 keys.
func New(cfg Config) (*Provider, error) {
	if cfg.BaseURL == nil {
		return nil, errors.New("op: Config.BaseURL is required")
	}
	if cfg.Directory == nil {
		return nil, errors.New("op: Config.Directory is required")
	}
	p := &Provider{
		baseURL:  cfg.BaseURL,
		orgID:    cfg.OrgID,
		dir:      cfg.Directory,
		now:      cfg.Now,
		log:      cfg.Logger,
		codes:    map[string]*authCode{},
		sessions: map[string]*session{},
		refresh:  map[string]*grant{},
		revoked:  map[string]time.Time{},
		extra:    map[string]*extraClaims{},
		closing:  make(chan struct{}),
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.orgID == "" {
		p.orgID = "00o" + rand.Text()[:17]
	}
	seen := map[string]bool{}
	p.servers = append(p.servers, &authServer{id: ""}, &authServer{id: "default"})
	seen["default"] = true
	for _, id := range cfg.AuthServers {
		if seen[id] {
			continue
		}
		if !validServerID(id) {
			return nil, fmt.Errorf("op: invalid authorization server id %q", id)
		}
		seen[id] = true
		p.servers = append(p.servers, &authServer{id: id})
	}
	tmpl, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	p.tmpl = tmpl
	ks, err := newKeySet(cfg.SigningKeys)
	if err != nil {
		return nil, err
	}
	p.keys = ks
	if cfg.RotateEvery < 0 {
		return nil, errors.New("op: Config.RotateEvery is negative")
	}
	p.rotation.every = cfg.RotateEvery
	p.rotation.next = p.now().Add(cfg.RotateEvery)
	p.es256.Store(cfg.ES256)
	p.ctl.origins = map[string]bool{}
	for _, o := range cfg.TrustedOrigins {
		if err := p.AddTrustedOrigin(o); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Close ends every wait of a queued delay (QueuedError.Delay, slow-token,
// slow-keys), those in progress and any later one, so the server around
// the provider can shut down without waiting for them: a delayed request
// is answered 503 temporarily_unavailable in its endpoint's shape. The
// provider keeps answering everything else. Calling it again does nothing.
func (p *Provider) Close() {
	p.closeOnce.Do(func() { close(p.closing) })
}

// es256On reports whether the EC key is published and ES256 listed.
func (p *Provider) es256On() bool { return p.es256.Load() }

// noteClient turns ES256 on when a client that signs with it shows up.
func (p *Provider) noteClient(c Client) {
	if c.SigningAlg == AlgES256 && !p.es256.Load() {
		p.es256.Store(true)
		p.log.Info("op: ES256 published", "client", c.ID)
	}
}

// server returns the configured authorization server id, "" for the org
// server.
func (p *Provider) server(id string) (*authServer, bool) {
	for _, as := range p.servers {
		if as.id == id {
			return as, true
		}
	}
	return nil, false
}

// validServerID accepts ids that make one clean path segment and do not
// clash with the org server's /oauth2/v1/ endpoints.
func validServerID(id string) bool {
	if id == "" || id == "v1" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return id != "." && id != ".."
}

// Register adds every endpoint of every authorization server to mux, as
// exact paths (no wildcards), so it composes with other handlers on the
// same mux. Each endpoint is wrapped by serve (controls.go), which applies
// CORS, scheduled key rotation, queued errors and the request log.
func (p *Provider) Register(mux *http.ServeMux) {
	for _, as := range p.servers {
		disco := p.serve(as, EndpointDiscovery, p.handleDiscovery(as))
		mux.Handle(as.root()+"/.well-known/openid-configuration", disco)
		mux.Handle(as.root()+"/.well-known/oauth-authorization-server", disco)
		mux.Handle(as.endpoint("authorize"), p.serve(as, EndpointAuthorize, p.handleAuthorize(as)))
		mux.Handle(as.endpoint("token"), p.serve(as, EndpointToken, p.handleToken(as)))
		mux.Handle(as.endpoint("keys"), p.serve(as, EndpointKeys, p.handleKeys))
		mux.Handle(as.endpoint("userinfo"), p.serve(as, EndpointUserinfo, p.handleUserinfo(as)))
		mux.Handle(as.endpoint("logout"), p.serve(as, EndpointLogout, p.handleLogout(as)))
		mux.Handle(as.endpoint("revoke"), p.serve(as, EndpointRevoke, p.handleRevoke(as)))
		mux.Handle(as.endpoint("introspect"), p.serve(as, EndpointIntrospect, p.handleIntrospect(as)))
	}
	mux.Handle("/oauth2/", p.safe(http.HandlerFunc(handleUnknownServer)))
}

// handleUnknownServer answers a path under /oauth2/ that no configured
// authorization server serves with Okta's E0000007 error body.
func handleUnknownServer(w http.ResponseWriter, r *http.Request) {
	id, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/oauth2/"), "/")
	writeJSON(w, http.StatusNotFound, map[string]any{
		"errorCode":    "E0000007",
		"errorSummary": "Not found: Resource not found: " + id + " (AuthorizationServer)",
		"errorLink":    "E0000007",
		"errorId":      "oae" + randomID(18),
		"errorCauses":  []any{},
	})
}

// Issuer returns the issuer of an authorization server: "" is the org
// server (BaseURL), any other id is BaseURL/oauth2/{id}. It does not check
// that the server is configured.
func (p *Provider) Issuer(server string) string {
	return p.base() + (&authServer{id: server}).root()
}

// OrgID returns the org id used as the idp claim.
func (p *Provider) OrgID() string { return p.orgID }

func (p *Provider) base() string {
	return strings.TrimRight(p.baseURL(), "/")
}

// root is the path prefix of the server's issuer: "" or /oauth2/{id}.
func (as *authServer) root() string {
	if as.id == "" {
		return ""
	}
	return "/oauth2/" + as.id
}

// endpoint is the path of a v1 endpoint.
func (as *authServer) endpoint(name string) string {
	if as.id == "" {
		return "/oauth2/v1/" + name
	}
	return "/oauth2/" + as.id + "/v1/" + name
}

// audience is the access token's aud: the org URL for the org server,
// api://{id} for custom servers.
func (as *authServer) audience(base string) string {
	if as.id == "" {
		return base
	}
	return "api://" + as.id
}

func (p *Provider) issuer(as *authServer) string { return p.base() + as.root() }

// safe turns a panic in h into a logged 500, so no input can crash a
// serving goroutine.
func (p *Provider) safe(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				p.log.Error("op: handler panic", "path", r.URL.Path, "panic", fmt.Sprint(v))
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		h(w, r)
	})
}

// Indexes of Provider.sweeps.
const (
	sweepCodes = iota
	sweepSessions
	sweepRefresh
	sweepRevoked
	sweepExtra
)

// sweepInterval and minSweepSize bound how often a map's expired entries
// are swept: every sweepInterval on the provider's clock, or once the map
// has doubled since the last sweep, so inserting stays O(1) amortised even
// under a load test.
const (
	sweepInterval = 30 * time.Second
	minSweepSize  = 1024
)

// sweeper says when to sweep one map; the caller holds p.mu.
type sweeper struct {
	at   time.Time
	size int
}

func (s *sweeper) due(now time.Time, n int) bool {
	return n >= s.size || !now.Before(s.at)
}

func (s *sweeper) done(now time.Time, n int) {
	s.at = now.Add(sweepInterval)
	s.size = max(minSweepSize, 2*n)
}

// extraClaims are a queued login's claims, kept for UserInfo while the
// access token they came with lives.
type extraClaims struct {
	claims  map[string]any
	expires time.Time
}

// mergeClaims sets extra's claims on dst; a nil value removes the claim.
func mergeClaims(dst, extra map[string]any) {
	for k, v := range extra {
		if v == nil {
			delete(dst, k)
		} else {
			dst[k] = v
		}
	}
}
