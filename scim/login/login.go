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
//	GET  /t/{tenant}/oidc/callback         finishes it
//	GET  /t/{tenant}/me                    who is signed in
//	POST /t/{tenant}/logout                ends the session
//	GET  /t/{tenant}/admin/login?token=…   one-time admin link
//	GET  /t/{tenant}/admin/connect-okta    the dialog
//	GET  /t/{tenant}/admin/assets/{file}   its assets
//	GET  /t/{tenant}/admin/api/settings    settings JSON
//	POST /t/{tenant}/admin/api/secret      rotate the SCIM secret
//	POST /t/{tenant}/admin/api/oidc        save sign-in settings
//
// Nothing lives in process memory except a cache of discovered providers:
// login states and sessions are kept in the store, so a sign-in started on
// one instance completes on another.
package login

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/idpkit/idpkit/scim/adminapi"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
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
}

// Handler serves the sign-in and admin routes; create it with New.
type Handler struct {
	store   store.Store
	tenants *tenant.Service
	log     *slog.Logger
	now     func() time.Time
	client  *http.Client
	assets  fs.FS

	mu        sync.Mutex
	providers map[string]cachedProvider // by issuer; a cache only
}

type cachedProvider struct {
	p       *oidc.Provider
	fetched time.Time
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
		providers: map[string]cachedProvider{},
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
		{"GET", "/me", h.handleMe},
		{"POST", "/logout", h.handleLogout},
		{"GET", "/admin/login", h.handleAdminLogin},
		{"GET", "/admin/connect-okta", h.handleConnectOkta},
		{"GET", "/admin/assets/{file}", h.handleAsset},
		{"GET", "/admin/api/settings", h.handleSettings},
		{"POST", "/admin/api/secret", h.handleRotate},
		{"POST", "/admin/api/oidc", h.handleOIDC},
	}
	allow := map[string]string{}
	for _, rt := range routes {
		mux.HandleFunc(rt.method+" /t/{tenant}"+rt.path, rt.handle)
		allow[rt.path] = rt.method
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

// provider returns the discovered provider of issuer, from the cache when
// fresh. go-oidc checks that the document's issuer equals issuer.
func (h *Handler) provider(ctx context.Context, issuer string) (*oidc.Provider, error) {
	h.mu.Lock()
	c, ok := h.providers[issuer]
	h.mu.Unlock()
	if ok && h.now().Sub(c.fetched) < providerTTL && h.now().Sub(c.fetched) >= 0 {
		return c.p, nil
	}
	ctx, cancel := context.WithTimeout(ctx, httpTimeout)
	defer cancel()
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, h.client), issuer)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.providers[issuer] = cachedProvider{p: p, fetched: h.now()}
	h.mu.Unlock()
	return p, nil
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

// isHTTPS reports whether cookies for r should be Secure.
func (h *Handler) isHTTPS(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(h.tenants.PublicURL, "https://")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
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
