package login

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/idpkit/idpkit/scim/secret"
	"github.com/idpkit/idpkit/scim/store"
)

// Me is the JSON answer of GET /t/{tenant}/me with Accept: application/json.
type Me struct {
	Tenant      string `json:"tenant"`
	UserName    string `json:"userName"`
	DisplayName string `json:"displayName"`
	ID          string `json:"id"`
	Sub         string `json:"sub"`
}

func (h *Handler) clearSession(w http.ResponseWriter, r *http.Request, tenantName string) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		if err := h.store.DeleteToken(r.Context(), KindSession, secret.HashString(c.Value)); err != nil {
			h.log.ErrorContext(r.Context(), "delete session", "tenant", tenantName, "err", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/t/" + tenantName, MaxAge: -1, HttpOnly: true, Secure: h.secureCookies(r), SameSite: http.SameSiteLaxMode})
}

// handleMe shows who is signed in, re-checking that the SCIM user still
// exists and is active, so deactivation ends access at once.
func (h *Handler) handleMe(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	asJSON := wantsJSON(r)
	t, ok := h.getTenant(w, r, asJSON)
	if !ok {
		return
	}
	loginLink := "/t/" + t.Name + "/login"
	refuse := func(status int, code, title, msg string) {
		if asJSON {
			writeJSONError(w, status, code, msg)
			return
		}
		h.page(w, status, page{Title: title, Message: msg, LinkHref: loginLink, LinkText: "Sign in"})
	}
	var sv sessionValue
	c, err := r.Cookie(SessionCookie)
	if err == nil {
		tok, gerr := h.store.GetToken(ctx, KindSession, secret.HashString(c.Value))
		switch {
		case gerr == nil && tok.Tenant == t.Name && h.now().Before(tok.Expires) && json.Unmarshal(tok.Value, &sv) == nil && sv.Issuer == t.Issuer:
		case gerr == nil && tok.Tenant == t.Name && sv.Issuer != t.Issuer:
			// Signed in through an Okta org the tenant no longer trusts
			// (sign-in was reconfigured since): the session ends.
			h.log.InfoContext(ctx, "session ended: sign-in reconfigured", "tenant", t.Name, "user", sv.UserID)
			h.store.DeleteToken(ctx, KindSession, tok.Key)
			err = errors.New("no session")
		case gerr != nil && !errors.Is(gerr, store.ErrNotFound):
			h.log.ErrorContext(ctx, "read session", "tenant", t.Name, "err", gerr)
			refuse(http.StatusInternalServerError, "server_error", "Something went wrong", "The server could not read your session; try again in a moment.")
			return
		default:
			err = errors.New("no session")
		}
	}
	if err != nil {
		refuse(http.StatusUnauthorized, "login_required", "Not signed in", "You are not signed in; sign in with your Okta account to continue.")
		return
	}
	rec, err := h.store.GetResource(ctx, t.Name, store.TypeUser, sv.UserID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		h.log.ErrorContext(ctx, "read session user", "tenant", t.Name, "err", err)
		refuse(http.StatusInternalServerError, "server_error", "Something went wrong", "The server could not check your account; try again in a moment.")
		return
	}
	if err != nil {
		h.log.InfoContext(ctx, "session ended: user deprovisioned", "tenant", t.Name, "user", sv.UserID)
		h.clearSession(w, r, t.Name)
		refuse(http.StatusForbidden, "access_denied", "No access", "Your account is no longer provisioned to this app; ask your Okta administrator if you need access.")
		return
	}
	if !parseUser(rec).active {
		h.log.InfoContext(ctx, "session ended: user deactivated", "tenant", t.Name, "user", sv.UserID)
		h.clearSession(w, r, t.Name)
		refuse(http.StatusForbidden, "access_denied", "No access", "Your account has been deactivated in this app; ask your Okta administrator if you need access.")
		return
	}
	u := parseUser(rec)
	me := Me{Tenant: t.Name, UserName: u.userName, DisplayName: u.displayName, ID: u.id, Sub: sv.Sub}
	if asJSON {
		writeJSON(w, http.StatusOK, me)
		return
	}
	msg := "Signed in as " + me.UserName
	if me.DisplayName != "" {
		msg += " (" + me.DisplayName + ")"
	}
	h.page(w, http.StatusOK, page{Title: "Signed in as " + me.UserName, Message: msg + ".", Logout: "/t/" + t.Name + "/logout"})
}

// handleLogout deletes the session and its cookie. A POST from another
// site's page is refused (403), so no page elsewhere can sign people out.
func (h *Handler) handleLogout(w http.ResponseWriter, r *http.Request) {
	t, ok := h.getTenant(w, r, false)
	if !ok {
		return
	}
	if h.crossSite(r) {
		h.log.WarnContext(r.Context(), "sign-out from another site refused", "tenant", t.Name)
		h.auditRefused(r, t.Name, store.AuditSignIn, "signout-refused", refusedCrossSite, http.StatusForbidden)
		h.page(w, http.StatusForbidden, page{Title: "Not signed out", Message: "Another site asked to sign you out; use the Sign out button on this app's page instead.", LinkHref: "/t/" + t.Name + "/me", LinkText: "Your page"})
		return
	}
	h.clearSession(w, r, t.Name)
	h.log.InfoContext(r.Context(), "signed out", "tenant", t.Name)
	h.page(w, http.StatusOK, page{Title: "Signed out", Message: "You are signed out of this app.", LinkHref: "/t/" + t.Name + "/login", LinkText: "Sign in again"})
}

// signedIn reports whether r carries a live session of tenant t (one that
// /me would at least look at: stored, unexpired, from t's current issuer).
func (h *Handler) signedIn(r *http.Request, t store.Tenant) bool {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return false
	}
	tok, err := h.store.GetToken(r.Context(), KindSession, secret.HashString(c.Value))
	if err != nil || tok.Tenant != t.Name || !h.now().Before(tok.Expires) {
		return false
	}
	var sv sessionValue
	return json.Unmarshal(tok.Value, &sv) == nil && sv.Issuer == t.Issuer
}
