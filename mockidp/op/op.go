// Package op is the mock Okta's OpenID provider: Okta's org authorization
// server and its custom authorization servers ("default" and any others
// configured), in the shape Okta publishes them.
//
// It implements:
//
//   - OpenID Connect Core 1.0 §3.1 (Authorization Code flow): §3.1.2.1
//     authorization request (GET and POST), §3.1.2.6 error responses,
//     §3.1.3 token endpoint, §2 and §3.1.3.6 ID token claims (at_hash),
//     §5.3 UserInfo, and OAuth 2.0 Form Post Response Mode;
//   - OpenID Connect Discovery 1.0 §3 and RFC 8414 §3 metadata;
//   - RFC 6749 §2.3.1 client authentication (client_secret_basic with
//     form-URL-decoded user and password, client_secret_post), §4.1 the
//     authorization code grant with §4.1.2.1 error redirects, §5.1/§5.2
//     token responses and errors, §6 refresh;
//   - RFC 7636 PKCE, S256 only (§4.1 verifier syntax, §4.6 verification);
//   - RFC 7517 JWK Sets at the keys endpoint, RFC 7638 thumbprints as kid;
//   - RFC 6750 §2.1/§2.2 and §3 bearer tokens and WWW-Authenticate at UserInfo;
//   - RFC 7009 token revocation and RFC 7662 token introspection;
//   - OpenID Connect RP-Initiated Logout 1.0 (id_token_hint,
//     post_logout_redirect_uri, state).
//
// Okta's URL layout: the org server has issuer BaseURL, discovery at
// /.well-known/openid-configuration and endpoints under /oauth2/v1/; a
// custom server {id} has issuer BaseURL/oauth2/{id}, discovery at
// /oauth2/{id}/.well-known/openid-configuration and
// /oauth2/{id}/.well-known/oauth-authorization-server, endpoints under
// /oauth2/{id}/v1/. Issuers never end in "/".
//
// Simplifications, each deliberate:
//   - Only response_type=code is served, although discovery lists every
//     combination Okta lists.
//   - All authorization servers share one signing key set (Okta keeps one
//     per server); RotateKeys rotates it.
//   - Okta adds a "groups" claim through claim configuration on the
//     authorization server; here asking for the scope "groups" adds it
//     (at most 100 group names) to the ID token and UserInfo.
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
	// User looks a user up by id.
	User(ctx context.Context, id string) (User, bool)
	// Client looks an OIDC application up by client_id.
	Client(ctx context.Context, clientID string) (Client, bool)
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

	mu       sync.Mutex
	codes    map[string]*authCode
	sessions map[string]*session
	refresh  map[string]*grant
	revoked  map[string]time.Time // access token jti → its expiry
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
	return p, nil
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
// same mux.
func (p *Provider) Register(mux *http.ServeMux) {
	for _, as := range p.servers {
		disco := p.safe(p.handleDiscovery(as))
		mux.Handle(as.root()+"/.well-known/openid-configuration", disco)
		mux.Handle(as.root()+"/.well-known/oauth-authorization-server", disco)
		mux.Handle(as.endpoint("authorize"), p.safe(p.handleAuthorize(as)))
		mux.Handle(as.endpoint("token"), p.safe(p.handleToken(as)))
		mux.Handle(as.endpoint("keys"), p.safe(p.handleKeys))
		mux.Handle(as.endpoint("userinfo"), p.safe(p.handleUserinfo(as)))
		mux.Handle(as.endpoint("logout"), p.safe(p.handleLogout(as)))
		mux.Handle(as.endpoint("revoke"), p.safe(p.handleRevoke(as)))
		mux.Handle(as.endpoint("introspect"), p.safe(p.handleIntrospect(as)))
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
