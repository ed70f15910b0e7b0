// Package login is the browser side of idpkit's app server: an OpenID
// Connect relying party (OpenID Connect Core 1.0 §3.1, Authorization Code
// Flow, with PKCE S256 from RFC 7636 §4 and state per RFC 6749 §10.12)
// that gives a session only to a user provisioned by SCIM (RFC 7643 §4.1,
// externalId and active) and still active, and the admin API behind the
// Connect Okta dialog.
//
// Routes (see Register):
//
//	GET  /t/{tenant}/login                 starts sign-in
//	GET  /t/{tenant}/oidc/callback         finishes it (response_mode=query)
//	POST /t/{tenant}/oidc/callback         finishes it (response_mode=form_post)
//	GET  /t/{tenant}/me                    who is signed in
//	POST /t/{tenant}/logout                ends the session
//	GET  /t/{tenant}/admin/login?token=…   one-time admin link
//	GET  /t/{tenant}/admin/signin          admin sign-in with Okta (adminsignin.go)
//	POST /t/{tenant}/admin/logout          ends the admin session
//	GET  /t/{tenant}/admin/connect-okta    the dialog
//	GET  /t/{tenant}/admin/assets/{file}   its assets
//	GET  /t/{tenant}/admin/api/settings    settings JSON
//	POST /t/{tenant}/admin/api/secret      rotate the SCIM secret
//	POST /t/{tenant}/admin/api/oidc        save sign-in settings
//	POST /t/{tenant}/admin/api/admin-group set the admin group
//	GET  /t/{tenant}/admin/api/audit       the audit trail, newest first (adminaudit.go)
//
// # Sign-in
//
// Every sign-in has its own state, nonce and PKCE verifier, stored under
// the state's hash and bound to the browser by the LoginCookie (one per
// browser, shared by sign-ins in several tabs, which may finish in any
// order). The state is single-use: a reloaded callback finds it used and
// gets a 400 page with a link to sign in again, or a 303 to /me when the
// browser already has a session (in form_post mode a reload is a
// cross-site POST, which does not carry the SameSite=Lax session cookie,
// so it gets the page). A callback in a browser without the LoginCookie
// is refused. The authorization response comes as a query (the default,
// GET; the LoginCookie is SameSite=Lax) or, with Config.ResponseMode
// form_post, as a POSTed form (OAuth 2.0 Form Post Response Mode §2;
// application/x-www-form-urlencoded, at most 16 KiB; the LoginCookie is
// SameSite=None; Secure, Secure even on a plain-http loopback app, since
// browsers keep Secure cookies for localhost). The callback refuses the
// other method with a 405 page.
//
// The response is refused (a 400 page, no token request) when a parameter
// appears twice (RFC 6749 §3.1) or is longer than 2 KiB, and when its iss
// parameter (RFC 9207 §2.4) is not the sign-in's issuer, or is missing
// while discovery announces authorization_response_iss_parameter_supported;
// Okta sends none, so it is checked only when present. An error response
// is shown (its description cut to 300 bytes, escaped) only for a state
// this browser started; otherwise it gets the page of an unknown state,
// so that no link can put text on this app's pages.
//
// The code is exchanged with client_secret_basic and the PKCE verifier
// (RFC 6749 §4.1.3, RFC 7636 §4.5). A refusal from the token endpoint is
// a 400 page naming its OAuth error code (RFC 6749 §5.2), a 5xx a 502
// page; every request to the provider has a timeout (Config.OPTimeout,
// 10 s), and one that runs out is a 502 page, not a hang.
//
// Every request to the provider goes through providerClient: no redirect
// is followed and no response body is read beyond 1 MiB (go-oidc reads
// discovery unbounded). Discovery must list authorization_endpoint,
// token_endpoint and jwks_uri, and every endpoint must be on the issuer's
// origin, as Okta's are; otherwise sign-in is a 502 page. The token
// response's token_type must be Bearer (OpenID Connect Core §3.1.3.3).
//
// The ID token is verified by go-oidc with this package's key set
// (keyset.go: the JWK Set of RFC 7517 §5, cached per issuer, every JWK
// parsed on its own and skipped with a debug log when unusable, fetched
// again on an unknown kid at most once per 30 s with concurrent callers
// sharing one fetch, refreshed after the keys endpoint's Cache-Control
// max-age; a token without kid is tried against every key of its
// algorithm) and then by checkIDToken, the rules of OpenID Connect Core
// §3.1.3.7 go-oidc leaves to its caller: iss exact, aud containing the
// client id, azp required with several audiences and equal to the client
// id when present, sub not empty, exp and iat required (with a 60 s
// leeway both ways; nbf too), nonce equal in constant time, at_hash
// matching the access token when present (§3.1.3.8), alg RS256 or ES256
// only (RFC 7518 §3.1; never none or HS*). When discovery lists a
// userinfo_endpoint, UserInfo is then read with the access token and the
// sign-in is refused when its sub is not the ID token's (§5.3.2); its
// claims only fill in a missing preferred_username or email. Nothing is
// read from UserInfo when the ID token failed.
//
// A sign-in ends the session the browser had before (another user's, or
// a cookie planted in it, which is never adopted). Sign-out deletes the
// session in the store; a sign-out POST from another site (Sec-Fetch-Site
// cross-site, or an Origin that is not the public URL's) is a 403 page.
// The login and session cookies are HttpOnly, Path /t/{tenant}, and
// Secure on https and in form_post mode.
//
// Logs never hold a token, a code, a secret, a state, a nonce or a cookie.
//
// Nothing lives in process memory except a cache of discovered providers
// and their keys: login states and sessions are kept in the store, so a
// sign-in started on one instance completes on another.
package login

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/idpkit/idpkit/scim/activity"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/idpkit/idpkit/scim/adminapi"
	"github.com/idpkit/idpkit/scim/httpx"
	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/tenant"
)

// Store token kinds used by this package.
const (
	KindLoginState   = "login-state"
	KindSession      = "session"
	KindAdminSession = "admin-session"
)

// Cookie names.
const (
	SessionCookie = "idpkit_session"
	AdminCookie   = "idpkit_admin"
	LoginCookie   = "idpkit_login" // binds a login state to the browser
)

// CSRFHeader is the header every admin API POST carries (see package adminapi).
const CSRFHeader = adminapi.CSRFHeader

// Lifetimes.
const (
	LoginStateTTL   = 10 * time.Minute
	SessionTTL      = 8 * time.Hour
	AdminSessionTTL = time.Hour
	providerTTL     = time.Hour
	httpTimeout     = 10 * time.Second
)

// Response modes of the authorization response (OAuth 2.0 Multiple
// Response Type Encoding Practices §2.1, OAuth 2.0 Form Post Response
// Mode §2), the values of Config.ResponseMode.
const (
	ResponseModeQuery    = "query"
	ResponseModeFormPost = "form_post"
)

// CheckResponseMode returns an error unless mode is "", ResponseModeQuery
// or ResponseModeFormPost.
func CheckResponseMode(mode string) error {
	switch mode {
	case "", ResponseModeQuery, ResponseModeFormPost:
		return nil
	}
	return fmt.Errorf("login: response mode %q is not %q or %q", mode, ResponseModeQuery, ResponseModeFormPost)
}

// Config configures a Handler. Store and Tenants are required; nil Logger,
// Now and HTTPClient mean a discarding logger, time.Now and a client with a
// 10 s timeout. Assets holds connect-okta.html and the files served under
// /admin/assets/ (the lead wires in wasm.Assets); nil serves 404s.
type Config struct {
	Store      store.Store
	Tenants    *tenant.Service
	Logger     *slog.Logger
	Now        func() time.Time
	HTTPClient *http.Client
	Assets     fs.FS

	// ResponseMode is how Okta returns the authorization response to
	// /oidc/callback: ResponseModeQuery ("" means it), a redirect whose
	// query carries code and state (the callback accepts only GET), or
	// ResponseModeFormPost, a form Okta's page POSTs across sites (the
	// callback accepts only POST, and the login cookie is SameSite=None;
	// Secure, see handleLogin). New panics on any other value; check
	// user input with CheckResponseMode.
	ResponseMode string

	// OPTimeout bounds each request to the OpenID provider (discovery,
	// token, keys, userinfo) whatever HTTPClient's own timeout; 0 means
	// 10 s. A provider that does not answer in time gives a 502 page.
	OPTimeout time.Duration

	// Activity is the SCIM server's request log, read by the dialog's
	// GET …/admin/api/activity; nil means the dialog lists no requests.
	Activity *activity.Log

	// Limiter, when set, counts failed admin-link redemptions and failed
	// sign-in callbacks (no, unknown or used state; a state bound to
	// another browser) per source address; an address over its budget
	// gets a 429 page with Retry-After before its link or state is
	// looked at. Okta refusing a real user is not a failure here. Nil
	// means no limit.
	Limiter *httpx.FailureLimiter

	// Audit, when set, receives the audit trail of sign-in outcomes and
	// admin changes (audit.go).
	Audit Auditor
}

// Handler serves the sign-in and admin routes; create it with New.
type Handler struct {
	store    store.Store
	tenants  *tenant.Service
	log      *slog.Logger
	now      func() time.Time
	client   *http.Client
	assets   fs.FS
	activity *activity.Log
	limiter  *httpx.FailureLimiter
	audit    Auditor
	mode     string        // ResponseModeQuery or ResponseModeFormPost
	timeout  time.Duration // of each request to a provider

	mu        sync.Mutex
	providers map[string]cachedProvider // by issuer; a cache only
}

// cachedProvider is a discovered provider and its key set. The key set
// outlives a rediscovery that finds the same jwks_uri, so its cache and
// refetch limit carry over.
type cachedProvider struct {
	p        *oidc.Provider
	keys     *keySet
	userinfo string // userinfo_endpoint, "" when discovery lists none
	issParam bool   // authorization_response_iss_parameter_supported (RFC 9207 §3)
	fetched  time.Time
}

// New returns a Handler for cfg.
func New(cfg Config) *Handler {
	h := &Handler{
		store:     cfg.Store,
		tenants:   cfg.Tenants,
		log:       cfg.Logger,
		now:       cfg.Now,
		client:    cfg.HTTPClient,
		assets:    cfg.Assets,
		mode:      cfg.ResponseMode,
		timeout:   cfg.OPTimeout,
		activity:  cfg.Activity,
		limiter:   cfg.Limiter,
		audit:     cfg.Audit,
		providers: map[string]cachedProvider{},
	}
	if err := CheckResponseMode(h.mode); err != nil {
		panic(err)
	}
	if h.mode == "" {
		h.mode = ResponseModeQuery
	}
	if h.timeout <= 0 {
		h.timeout = httpTimeout
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.client == nil {
		h.client = &http.Client{Timeout: httpTimeout}
	}
	h.client = providerClient(h.client)
	return h
}

// Register adds the package's routes (see the package doc) to mux, and
// catch-alls so that every other request under /t/{tenant}/ gets a 404 or
// 405 in the right shape: JSON under the admin API, a page elsewhere.
func (h *Handler) Register(mux *http.ServeMux) {
	routes := []struct {
		method, path string
		handle       http.HandlerFunc
	}{
		{"GET", "/login", h.handleLogin},
		{"GET", "/oidc/callback", h.handleCallback},
		{"POST", "/oidc/callback", h.handleCallback}, // form_post; handleCallback refuses the other method
		{"GET", "/me", h.handleMe},
		{"POST", "/logout", h.handleLogout},
		{"GET", "/admin/login", h.handleAdminLogin},
		{"GET", "/admin/signin", h.handleAdminSignIn},
		{"POST", "/admin/logout", h.handleAdminLogout},
		{"POST", "/admin/api/admin-group", h.handleAdminGroup},
		{"GET", "/admin/connect-okta", h.handleConnectOkta},
		{"GET", "/admin/assets/{file}", h.handleAsset},
		{"GET", "/admin/api/settings", h.handleSettings},
		{"POST", "/admin/api/secret", h.handleRotate},
		{"POST", "/admin/api/oidc", h.handleOIDC},
		{"GET", "/admin/api/activity", h.handleActivity},
		{"GET", "/admin/api/audit", h.handleAudit},
		{"GET", "/admin/test-sign-in", h.handleTestSignIn},
		{"GET", "/admin/api/test-sign-in", h.handleTestSignInResult},
	}
	allow := map[string]string{}
	for _, rt := range routes {
		mux.HandleFunc(rt.method+" /t/{tenant}"+rt.path, rt.handle)
		if allow[rt.path] != "" {
			allow[rt.path] += ", "
		}
		allow[rt.path] += rt.method
	}
	unrouted := func(w http.ResponseWriter, r *http.Request) {
		rest := strings.TrimPrefix(r.URL.Path, "/t/"+r.PathValue("tenant"))
		api := strings.HasPrefix(rest, "/admin/api/")
		if method, ok := allow[rest]; ok {
			w.Header().Set("Allow", method)
			if api {
				writeJSONError(w, http.StatusMethodNotAllowed, "invalid_request", r.Method+" is not allowed here; use "+method+".")
				return
			}
			h.page(w, http.StatusMethodNotAllowed, page{Title: "Not allowed", Message: "This page does not accept " + r.Method + " requests."})
			return
		}
		if api {
			writeJSONError(w, http.StatusNotFound, "not_found", "There is no admin API at "+rest+".")
			return
		}
		h.page(w, http.StatusNotFound, page{Title: "Page not found", Message: "There is no page at this address."})
	}
	mux.HandleFunc("/t/{tenant}/", unrouted)
}

// provider returns the discovered provider of issuer and its key set, from
// the cache when fresh. go-oidc checks that the document's issuer equals
// issuer.
func (h *Handler) provider(ctx context.Context, issuer string) (cachedProvider, error) {
	h.mu.Lock()
	c, ok := h.providers[issuer]
	h.mu.Unlock()
	if ok && h.now().Sub(c.fetched) < providerTTL && h.now().Sub(c.fetched) >= 0 {
		return c, nil
	}
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, h.client), issuer)
	if err != nil {
		return cachedProvider{}, err
	}
	var meta struct {
		Authorize string `json:"authorization_endpoint"`
		Token     string `json:"token_endpoint"`
		JWKSURI   string `json:"jwks_uri"`
		Userinfo  string `json:"userinfo_endpoint"`
		IssParam  bool   `json:"authorization_response_iss_parameter_supported"`
	}
	if err := p.Claims(&meta); err != nil {
		return cachedProvider{}, fmt.Errorf("login: discovery of %s: %w", issuer, err)
	}
	for _, ep := range []struct{ name, url string }{
		{"authorization_endpoint", meta.Authorize}, {"token_endpoint", meta.Token},
		{"jwks_uri", meta.JWKSURI}, {"userinfo_endpoint", meta.Userinfo},
	} {
		switch {
		case ep.url == "" && ep.name != "userinfo_endpoint":
			return cachedProvider{}, fmt.Errorf("login: discovery of %s lists no %s", issuer, ep.name)
		case ep.url != "" && !tenant.SameOrigin(issuer, ep.url):
			return cachedProvider{}, fmt.Errorf("login: discovery of %s puts its %s on another origin (%s)", issuer, ep.name, clip(ep.url, 200))
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	keys := newKeySet(issuer, meta.JWKSURI, h.client, h.now, h.timeout, h.log)
	if old, ok := h.providers[issuer]; ok && old.keys.url == meta.JWKSURI {
		keys = old.keys
	}
	c = cachedProvider{p: p, keys: keys, userinfo: meta.Userinfo, issParam: meta.IssParam, fetched: h.now()}
	h.providers[issuer] = c
	return c, nil
}

// getTenant loads the tenant named in the path; on failure it has written
// a page (or JSON when asJSON) and returns false.
func (h *Handler) getTenant(w http.ResponseWriter, r *http.Request, asJSON bool) (store.Tenant, bool) {
	name := r.PathValue("tenant")
	t, err := h.store.GetTenant(r.Context(), name)
	if err == nil {
		return t, true
	}
	if errors.Is(err, store.ErrNotFound) {
		if asJSON {
			writeJSONError(w, http.StatusNotFound, "not_found", "there is no tenant of that name")
		} else {
			h.page(w, http.StatusNotFound, page{Title: "Unknown tenant", Message: "There is no tenant named " + quote(name) + "; check the address."})
		}
		return store.Tenant{}, false
	}
	h.log.ErrorContext(r.Context(), "get tenant", "tenant", name, "err", err)
	if asJSON {
		writeJSONError(w, http.StatusInternalServerError, "server_error", "the server could not read the tenant; try again")
	} else {
		h.page(w, http.StatusInternalServerError, page{Title: "Something went wrong", Message: "The server could not read this tenant's settings; try again in a moment."})
	}
	return store.Tenant{}, false
}

func quote(s string) string { return "“" + s + "”" }

// isHTTPS reports whether cookies for r should be Secure: r came over
// HTTPS, directly or through a trusted proxy (httpx.IsHTTPS), or the
// public URL is https.
func (h *Handler) isHTTPS(r *http.Request) bool {
	return httpx.IsHTTPS(r) || strings.HasPrefix(h.tenants.PublicURL, "https://")
}

// secureCookies reports whether the sign-in cookies (login, session) are
// Secure: on https, and always in form_post mode, which needs https
// anyway beyond loopback (where browsers keep Secure cookies over http).
func (h *Handler) secureCookies(r *http.Request) bool {
	return h.isHTTPS(r) || h.mode == ResponseModeFormPost
}

// crossSite reports whether r was sent by another site's page: a browser
// says so in Sec-Fetch-Site, or sends an Origin other than the public
// URL's.
func (h *Handler) crossSite(r *http.Request) bool {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return true
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return false
	}
	u, err := url.Parse(h.tenants.PublicURL)
	if err != nil || u.Host == "" {
		return true
	}
	return !strings.EqualFold(o, u.Scheme+"://"+u.Host)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// JSON is never a page: nothing may frame it or load from it.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeJSONError writes an OAuth-style error (RFC 6749 §5.2 shape).
func writeJSONError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}
