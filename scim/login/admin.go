package login

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/idpkit/idpkit/scim/adminapi"
	"github.com/idpkit/idpkit/scim/secret"
	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/tenant"
)

// Settings is the admin API's settings JSON (see package adminapi).
type Settings = adminapi.Settings

// adminSession is what the store keeps under the hash of an admin cookie.
type adminSession struct {
	CSRF string `json:"csrf"`
	// User is the SCIM user id of an admin who signed in with Okta (see
	// stillAdmin), and Sub their Okta user id; both empty for a session
	// opened by a one-time admin link.
	User     string `json:"user,omitempty"`
	Sub      string `json:"sub,omitempty"`
	UserName string `json:"userName,omitempty"` // shown in the dialog, never audited
	// Expires is the session token's end, filled in by adminSession.
	Expires time.Time `json:"-"`
}

// sessionEndedError is adminSession's error for a session that ended
// because its Okta user is no longer an admin (stillAdmin): the dialog
// says so (adminapi.ErrAdminRemoved) rather than "expired".
type sessionEndedError struct {
	reason string // not-provisioned, deactivated or not-admin
	group  string // the tenant's admin group now
}

func (e *sessionEndedError) Error() string { return "login: admin session ended: " + e.reason }

// sentence says, to the person whose session ended, why.
func (e *sessionEndedError) sentence() string {
	switch {
	case e.reason == "deactivated":
		return "Your admin session has ended: Okta has deactivated your user, or unassigned it from this app."
	case e.reason == "not-provisioned":
		return "Your admin session has ended: Okta no longer provisions your user to this app."
	case e.group == "":
		return "Your admin session has ended: this tenant no longer lets admins sign in with Okta."
	default:
		return "Your admin session has ended: Okta no longer lists you as a member of the admin group " + e.group + "."
	}
}

// actorLink is the audit actor of a session opened by a one-time admin
// link, which names nobody.
const actorLink = "admin-link"

// wire is the session as the dialog reads it (Settings.Session).
func (s adminSession) wire() adminapi.AdminSession {
	if s.Sub != "" {
		return adminapi.AdminSession{Via: adminapi.SessionOkta, Sub: s.Sub, UserName: s.UserName, Expires: s.Expires}
	}
	return adminapi.AdminSession{Via: adminapi.SessionLink, Expires: s.Expires}
}

// signInNeeded is the page for a browser without an admin session: why,
// and how to get one — signing in with Okta when the tenant has an admin
// group and sign-in saved, else (and always for the operator) a new
// one-time admin link.
func (h *Handler) signInNeeded(t store.Tenant, title, why string) page {
	link := "Ask your idpkit operator for a new one-time admin link (idpkit tenant admin-link " + t.Name + "); each works once, for 15 minutes."
	if t.Issuer != "" && t.ClientID != "" && t.AdminGroup != "" {
		return page{Title: title, Message: why + " Members of the group " + t.AdminGroup + " sign in with Okta. " + link,
			LinkHref: adminPath(t.Name) + "/signin", LinkText: "Sign in with Okta"}
	}
	return page{Title: title, Message: why + " " + link}
}

// actor is who the session's changes are recorded as in the audit trail:
// the Okta sub of an admin who signed in with Okta, else actorLink.
func (s adminSession) actor() string {
	if s.Sub != "" {
		return s.Sub
	}
	return actorLink
}

const maxBody = 64 << 10

// dialogCSP is the Connect Okta page's Content Security Policy: its own
// scripts and WebAssembly ('wasm-unsafe-eval' lets the page compile
// dialog.wasm, nothing else), its own stylesheet, fetches to its own
// origin only, and no framing.
const dialogCSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func adminPath(name string) string { return "/t/" + name + "/admin" }

// handleAdminLogin redeems a one-time admin link for an admin session.
func (h *Handler) handleAdminLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	// The link is always checked, even from an address over its failure
	// budget; a failure from such an address is 429 (failedAttempt).
	t, ok := h.getTenant(w, r, false)
	if !ok {
		return
	}
	err := h.tenants.ConsumeAdminLink(ctx, t.Name, r.URL.Query().Get("token"))
	if errors.Is(err, tenant.ErrInvalidLink) {
		h.log.WarnContext(ctx, "admin link refused", "tenant", t.Name)
		h.auditAdmin(r, t.Name, actorLink, "admin-link", "refused", auditDetail{Reason: "invalid-link"})
		if h.failedAttempt(w, r) {
			return
		}
		h.page(w, http.StatusForbidden, h.signInNeeded(t, "This admin link does not work", "The link is invalid, has expired or was already used; each admin link works once, for 15 minutes."))
		return
	}
	if err != nil {
		h.log.ErrorContext(ctx, "admin link", "tenant", t.Name, "err", err)
		h.page(w, http.StatusInternalServerError, page{Title: "Something went wrong", Message: "The server could not check the admin link; try again in a moment."})
		return
	}
	sid := secret.New()
	val, _ := json.Marshal(adminSession{CSRF: secret.New()})
	err = h.store.PutToken(ctx, store.Token{Kind: KindAdminSession, Key: secret.HashString(sid), Tenant: t.Name, Value: val, Expires: h.now().Add(AdminSessionTTL)})
	if err != nil {
		h.log.ErrorContext(ctx, "store admin session", "tenant", t.Name, "err", err)
		h.page(w, http.StatusInternalServerError, page{Title: "Something went wrong", Message: "The server could not start the admin session; try again in a moment."})
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: AdminCookie, Value: sid, Path: adminPath(t.Name),
		MaxAge: int(AdminSessionTTL.Seconds()), HttpOnly: true, Secure: h.isHTTPS(r), SameSite: http.SameSiteStrictMode,
	})
	h.log.InfoContext(ctx, "admin signed in", "tenant", t.Name)
	h.auditAdmin(r, t.Name, actorLink, "admin-link", "ok", auditDetail{})
	// A page that moves on by itself rather than a redirect: when the link
	// is opened from another site (an e-mail, a chat), a redirect would
	// still count as cross-site and the browser would withhold the
	// SameSite=Strict cookie just set; a navigation from this page is
	// same-site, so the dialog sees the session.
	dialog := adminPath(t.Name) + "/connect-okta"
	h.page(w, http.StatusOK, page{Title: "Signed in", Message: "You are signed in as the tenant's admin; the Connect Okta dialog opens now.", LinkHref: dialog, LinkText: "Open the Connect Okta dialog", Refresh: dialog})
}

// adminSession returns the request's admin session for tenant name; a
// *sessionEndedError when it has just ended because its Okta user is no
// longer an admin (the session is then deleted).
func (h *Handler) adminSession(r *http.Request, name string) (adminSession, bool, error) {
	c, err := r.Cookie(AdminCookie)
	if err != nil || c.Value == "" {
		return adminSession{}, false, nil
	}
	tok, err := h.store.GetToken(r.Context(), KindAdminSession, secret.HashString(c.Value))
	if errors.Is(err, store.ErrNotFound) {
		return adminSession{}, false, nil
	}
	if err != nil {
		return adminSession{}, false, err
	}
	var s adminSession
	if tok.Tenant != name || !h.now().Before(tok.Expires) || json.Unmarshal(tok.Value, &s) != nil || s.CSRF == "" {
		return adminSession{}, false, nil
	}
	s.Expires = tok.Expires
	if s.User != "" {
		// Signed in with Okta: an admin only while Okta keeps them an
		// active member of the admin group.
		if err := h.stillAdmin(r, name, s, tok.Key); err != nil {
			return adminSession{}, false, err
		}
	}
	return s, true, nil
}

// requireAdminAPI checks the admin session and, for POSTs, the CSRF header;
// on failure it has written a JSON error and recorded an admin-refused
// audit record (no-session, cross-site, csrf; summarised, auditRefused).
func (h *Handler) requireAdminAPI(w http.ResponseWriter, r *http.Request) (store.Tenant, adminSession, bool) {
	t, ok := h.getTenant(w, r, true)
	if !ok {
		return store.Tenant{}, adminSession{}, false
	}
	s, ok, err := h.adminSession(r, t.Name)
	var ended *sessionEndedError
	if errors.As(err, &ended) {
		writeJSONError(w, http.StatusUnauthorized, adminapi.ErrAdminRemoved, ended.sentence())
		return store.Tenant{}, adminSession{}, false
	}
	if err != nil {
		h.log.ErrorContext(r.Context(), "read admin session", "tenant", t.Name, "err", err)
		writeJSONError(w, http.StatusInternalServerError, "server_error", "the server could not read the admin session; try again")
		return store.Tenant{}, adminSession{}, false
	}
	if !ok {
		h.auditRefused(r, t.Name, store.AuditAdmin, "admin-refused", refusedNoSession, http.StatusUnauthorized)
		writeJSONError(w, http.StatusUnauthorized, "login_required", "the admin session is missing or has expired; open a new admin link")
		return store.Tenant{}, adminSession{}, false
	}
	if r.Method == http.MethodPost {
		// A page of another site never changes admin settings, even with
		// the CSRF value (defence in depth: it could only have it from a
		// leak, and the admin cookie is SameSite=Strict anyway).
		if h.crossSite(r) {
			h.log.WarnContext(r.Context(), "admin request from another site refused", "tenant", t.Name, "path", r.URL.Path)
			h.auditRefused(r, t.Name, store.AuditAdmin, "admin-refused", refusedCrossSite, http.StatusForbidden)
			writeJSONError(w, http.StatusForbidden, "access_denied", "this request came from another site's page; use the Connect Okta dialog on this app")
			return store.Tenant{}, adminSession{}, false
		}
		got := r.Header.Get(CSRFHeader)
		if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) != 1 {
			h.log.WarnContext(r.Context(), "admin request without valid csrf token", "tenant", t.Name, "path", r.URL.Path)
			h.auditRefused(r, t.Name, store.AuditAdmin, "admin-refused", refusedCSRF, http.StatusForbidden)
			writeJSONError(w, http.StatusForbidden, "access_denied", "the "+CSRFHeader+" header is missing or wrong; reload the page")
			return store.Tenant{}, adminSession{}, false
		}
	}
	return t, s, true
}

// handleConnectOkta serves the dialog page to a signed-in admin.
func (h *Handler) handleConnectOkta(w http.ResponseWriter, r *http.Request) {
	t, ok := h.getTenant(w, r, false)
	if !ok {
		return
	}
	_, ok, err := h.adminSession(r, t.Name)
	var ended *sessionEndedError
	if errors.As(err, &ended) {
		h.page(w, http.StatusUnauthorized, h.signInNeeded(t, "Admin access ended", ended.sentence()))
		return
	}
	if err != nil {
		h.log.ErrorContext(r.Context(), "read admin session", "tenant", t.Name, "err", err)
		h.page(w, http.StatusInternalServerError, page{Title: "Something went wrong", Message: "The server could not read the admin session; try again in a moment."})
		return
	}
	if !ok {
		h.page(w, http.StatusUnauthorized, h.signInNeeded(t, "Admin sign-in needed", "Your admin session is missing or has ended."))
		return
	}
	b, err := h.readAsset("connect-okta.html")
	if err != nil {
		h.log.ErrorContext(r.Context(), "connect-okta page missing", "err", err)
		h.page(w, http.StatusInternalServerError, page{Title: "The dialog is not available", Message: "This server was built without the Connect Okta dialog; rebuild it with the wasm assets."})
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("Content-Security-Policy", dialogCSP)
	w.Write(b)
}

func (h *Handler) readAsset(name string) ([]byte, error) {
	if h.assets == nil {
		return nil, fs.ErrNotExist
	}
	return fs.ReadFile(h.assets, name)
}

var assetTypes = map[string]string{
	".wasm": "application/wasm",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".html": "text/html; charset=utf-8",
	".json": "application/json",
	".svg":  "image/svg+xml",
	".png":  "image/png",
}

// handleAsset serves a file of the dialog. The files are public code, so no
// session is needed.
func (h *Handler) handleAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	ctype, known := assetTypes[path.Ext(name)]
	if !known || !fs.ValidPath(name) || strings.ContainsAny(name, `/\`) || name == "connect-okta.html" {
		http.NotFound(w, r)
		return
	}
	b, err := h.readAsset(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(b)
}

func (h *Handler) settings(r *http.Request, t store.Tenant, s adminSession) (Settings, error) {
	users, err := h.store.CountResources(r.Context(), t.Name, store.TypeUser, nil)
	if err != nil {
		return Settings{}, err
	}
	groups, err := h.store.CountResources(r.Context(), t.Name, store.TypeGroup, nil)
	if err != nil {
		return Settings{}, err
	}
	return Settings{
		Tenant:          t.Name,
		SCIMBaseURL:     h.tenants.SCIMBaseURL(t.Name),
		RedirectURI:     h.tenants.RedirectURI(t.Name),
		OktaDomain:      t.OktaDomain,
		AuthServer:      t.AuthServer,
		Issuer:          t.Issuer,
		ClientID:        t.ClientID,
		ClientSecretSet: t.ClientSecret != "",
		AdminGroup:      t.AdminGroup,
		AdminSignInURL:  h.tenants.PublicURL + adminPath(t.Name) + "/signin",
		Session:         s.wire(),
		Users:           users,
		Groups:          groups,
		CSRF:            s.CSRF,
	}, nil
}

func (h *Handler) writeSettings(w http.ResponseWriter, r *http.Request, t store.Tenant, s adminSession) {
	st, err := h.settings(r, t, s)
	if err != nil {
		h.log.ErrorContext(r.Context(), "count resources", "tenant", t.Name, "err", err)
		writeJSONError(w, http.StatusInternalServerError, "server_error", "the server could not read the tenant; try again")
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// handleSettings answers GET …/admin/api/settings.
func (h *Handler) handleSettings(w http.ResponseWriter, r *http.Request) {
	t, s, ok := h.requireAdminAPI(w, r)
	if !ok {
		return
	}
	h.writeSettings(w, r, t, s)
}

// readAdminJSON decodes an admin API POST's JSON body (at most maxBody)
// into v; an empty body is allowed when optional. On failure it has
// answered 413 or 400 with shape, the sentence saying what the body must
// be, and returns false.
func readAdminJSON(w http.ResponseWriter, r *http.Request, v any, optional bool, shape string) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeJSONError(w, http.StatusRequestEntityTooLarge, "invalid_request", "the request body is too large")
		return false
	}
	if optional && len(bytes.TrimSpace(body)) == 0 {
		return true
	}
	if err := json.Unmarshal(body, v); err != nil {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", shape)
		return false
	}
	return true
}

// handleRotate answers POST …/admin/api/secret with a new SCIM token. An
// optional adminapi.SecretRequest body keeps the old token working for
// GraceSeconds; without one the old token stops at once.
func (h *Handler) handleRotate(w http.ResponseWriter, r *http.Request) {
	t, s, ok := h.requireAdminAPI(w, r)
	if !ok {
		return
	}
	var in adminapi.SecretRequest
	if !readAdminJSON(w, r, &in, true, "the request body must be a JSON object, such as {\"graceSeconds\": 600}") {
		return
	}
	if in.GraceSeconds < 0 || in.GraceSeconds > adminapi.MaxGraceSeconds {
		writeJSONError(w, http.StatusBadRequest, "invalid_request",
			fmt.Sprintf("graceSeconds must be between 0 (the old secret stops at once) and %d (a day)", adminapi.MaxGraceSeconds))
		return
	}
	tok, err := h.tenants.RotateTokenGrace(r.Context(), t.Name, time.Duration(in.GraceSeconds)*time.Second)
	if err != nil {
		h.log.ErrorContext(r.Context(), "rotate token", "tenant", t.Name, "err", err)
		writeJSONError(w, http.StatusInternalServerError, "server_error", "the server could not make a new secret; try again")
		return
	}
	h.auditAdmin(r, t.Name, s.actor(), "secret-rotated", "ok", auditDetail{Grace: (time.Duration(in.GraceSeconds) * time.Second).String()})
	writeJSON(w, http.StatusOK, adminapi.Secret{Token: tok})
}

// handleOIDC answers POST …/admin/api/oidc: it runs the sign-in check
// (tenant.Service.ConfigureChecked), which saves the settings only when
// every step passes, and returns the new settings with the steps, or a
// 400 adminapi.Error whose description is the failed step's sentence and
// whose checks are the steps that ran.
func (h *Handler) handleOIDC(w http.ResponseWriter, r *http.Request) {
	t, s, ok := h.requireAdminAPI(w, r)
	if !ok {
		return
	}
	var in adminapi.SignIn
	if !readAdminJSON(w, r, &in, false, "the request body must be a JSON object with oktaDomain, clientId, clientSecret and authServer") {
		return
	}
	nt, checks, err := h.tenants.ConfigureChecked(r.Context(), t.Name, tenant.SignIn{
		OktaDomain: in.OktaDomain, ClientID: in.ClientID, ClientSecret: in.ClientSecret, AuthServer: in.AuthServer,
	})
	var failed *tenant.CheckError
	switch {
	case errors.As(err, &failed):
		h.auditAdmin(r, t.Name, s.actor(), "sign-in-saved", "refused", auditDetail{Reason: "check-failed"})
		writeJSON(w, http.StatusBadRequest, adminapi.Error{Error: "invalid_request", Description: tenant.Message(err), Checks: failed.Checks})
		return
	case errors.Is(err, tenant.ErrInvalidDomain), errors.Is(err, tenant.ErrInvalidSignIn), errors.Is(err, tenant.ErrDiscovery):
		writeJSON(w, http.StatusBadRequest, adminapi.Error{Error: "invalid_request", Description: tenant.Message(err), Checks: checks})
		return
	case err != nil:
		h.log.ErrorContext(r.Context(), "configure sign-in", "tenant", t.Name, "err", err)
		writeJSONError(w, http.StatusInternalServerError, "server_error", "the server could not save the settings; try again")
		return
	}
	h.auditAdmin(r, t.Name, s.actor(), "sign-in-saved", "ok", auditDetail{})
	st, err := h.settings(r, nt, s)
	if err != nil {
		h.log.ErrorContext(r.Context(), "count resources", "tenant", t.Name, "err", err)
		writeJSONError(w, http.StatusInternalServerError, "server_error", "the server could not read the tenant; try again")
		return
	}
	st.Checks = checks
	writeJSON(w, http.StatusOK, st)
}
