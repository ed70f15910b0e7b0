package login

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/idpkit/idpkit/scim/adminapi"
	"github.com/idpkit/idpkit/scim/secret"
	"github.com/idpkit/idpkit/scim/store"
)

// handleAdminSignIn answers GET …/admin/signin: an admin signs in with
// Okta. When the tenant's sign-in is configured and it names an admin
// group (store.Tenant.AdminGroup), it starts the same OIDC flow as /login
// with an admin login state; the callback (finishAdminSignIn) then starts
// an admin session for an active member of that group. Otherwise it
// answers a page that says to use a one-time admin link.
func (h *Handler) handleAdminSignIn(w http.ResponseWriter, r *http.Request) {
	if !h.allowAttempt(w, r) {
		return
	}
	t, ok := h.getTenant(w, r, false)
	if !ok {
		return
	}
	if t.Issuer == "" || t.ClientID == "" || t.AdminGroup == "" {
		h.page(w, http.StatusOK, page{Title: "Admin sign-in with Okta is not set up",
			Message: "This tenant's admins cannot sign in with Okta yet: it needs Okta sign-in configured and an admin group (idpkit tenant admin-group " + t.Name + " GROUP). Until then, ask your idpkit operator for a one-time admin link: idpkit tenant admin-link " + t.Name + "."})
		return
	}
	// The admin session the browser had (or one planted in it) ends
	// here, where its cookie is sent (the callback is outside its path):
	// the session after the sign-in never takes over a cookie value the
	// server did not just issue.
	if old, err := r.Cookie(AdminCookie); err == nil && old.Value != "" {
		if err := h.store.DeleteToken(r.Context(), KindAdminSession, secret.HashString(old.Value)); err != nil && !errors.Is(err, store.ErrNotFound) {
			h.log.WarnContext(r.Context(), "admin sign-in: end the previous admin session", "tenant", t.Name, "err", err)
		}
		h.setAdminCookie(w, r, t.Name, "", -1)
	}
	h.startLoginAs(w, r, t, "", true, func(status int, title, msg string) {
		h.page(w, status, page{Title: title, Message: msg})
	})
}

// finishAdminSignIn ends the callback of an admin sign-in for u, an
// active SCIM user whose ID token every check of a real sign-in passed:
// a member of the group named by t.AdminGroup gets a new admin session
// (a fresh id; the one the browser had is deleted), and the same page as
// a one-time admin link. No user session is started or ended.
func (h *Handler) finishAdminSignIn(w http.ResponseWriter, r *http.Request, t store.Tenant, u scimUser, sub string) {
	ctx := r.Context()
	log := h.log.With("tenant", t.Name)
	member, err := h.inGroup(ctx, t.Name, u.id, t.AdminGroup)
	if err != nil {
		log.ErrorContext(ctx, "admin sign-in: read groups", "user", u.id, "err", err)
		h.page(w, http.StatusInternalServerError, page{Title: "Something went wrong", Message: "The server could not check your admin group; try again in a moment."})
		return
	}
	if t.AdminGroup == "" || !member {
		log.WarnContext(ctx, "admin sign-in: not in the admin group", "user", u.id, "sub", sub)
		h.auditRecord(r, t.Name, store.AuditAdmin, "admin-signin", sub, "User/"+u.id, auditDetail{Reason: "not-admin"}, "refused")
		h.page(w, http.StatusForbidden, page{Title: "No admin access",
			Message:  "You are signed in as " + u.userName + ", but only members of the group " + t.AdminGroup + " may manage this tenant.",
			LinkHref: adminPath(t.Name) + "/signin?prompt=login", LinkText: "Sign in as someone else"})
		return
	}
	sid, err := h.newAdminSession(ctx, t.Name, adminSession{User: u.id, Sub: sub, UserName: u.userName})
	if err != nil {
		log.ErrorContext(ctx, "store admin session", "err", err)
		h.page(w, http.StatusInternalServerError, page{Title: "Something went wrong", Message: "The server could not start the admin session; try again in a moment."})
		return
	}
	// The new session has a fresh id: the browser's old one (if any) was
	// ended when the sign-in started, where the admin cookie is sent.
	h.setAdminCookie(w, r, t.Name, sid, int(AdminSessionTTL.Seconds()))
	log.InfoContext(ctx, "admin signed in with okta", "user", u.id)
	h.auditRecord(r, t.Name, store.AuditAdmin, "admin-signin", sub, "User/"+u.id, auditDetail{}, "ok")
	// A page rather than a redirect, as for the admin link: the callback
	// may be a cross-site navigation (or a form_post from Okta), which
	// would withhold the SameSite=Strict cookie just set.
	dialog := adminPath(t.Name) + "/connect-okta"
	h.page(w, http.StatusOK, page{Title: "Signed in", Message: "You are signed in as " + u.userName + ", an admin of this tenant; the Connect Okta dialog opens now.", LinkHref: dialog, LinkText: "Open the Connect Okta dialog", Refresh: dialog})
}

// inGroup reports whether user userID belongs to a group of the tenant
// whose displayName is group.
func (h *Handler) inGroup(ctx context.Context, tenantName, userID, group string) (bool, error) {
	if group == "" {
		return false, nil
	}
	groups, err := h.store.GroupsOf(ctx, tenantName, []string{userID})
	if err != nil {
		return false, err
	}
	for _, g := range groups[userID] {
		if g.DisplayName == group {
			return true, nil
		}
	}
	return false, nil
}

// newAdminSession stores s, with a new CSRF value, as a new admin session
// of the tenant for the SCIM user who signed in with Okta (s.User, s.Sub)
// and returns its cookie value.
func (h *Handler) newAdminSession(ctx context.Context, tenantName string, s adminSession) (string, error) {
	sid := secret.New()
	s.CSRF = secret.New()
	val, _ := json.Marshal(s)
	err := h.store.PutToken(ctx, store.Token{Kind: KindAdminSession, Key: secret.HashString(sid), Tenant: tenantName, Value: val, Expires: h.now().Add(AdminSessionTTL)})
	return sid, err
}

// setAdminCookie sets (maxAge > 0) or clears (maxAge < 0) the admin
// cookie of the tenant.
func (h *Handler) setAdminCookie(w http.ResponseWriter, r *http.Request, tenantName, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: AdminCookie, Value: value, Path: adminPath(tenantName),
		MaxAge: maxAge, HttpOnly: true, Secure: h.isHTTPS(r), SameSite: http.SameSiteStrictMode,
	})
}

// handleAdminLogout answers POST …/admin/logout: it deletes the admin
// session on the server and clears its cookie. The request must carry the
// session's CSRF value, in the CSRFHeader or (a form of this app's page)
// as the form field csrf; a request from another site's page is refused.
func (h *Handler) handleAdminLogout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	t, ok := h.getTenant(w, r, false)
	if !ok {
		return
	}
	refuse := func(reason, msg string) {
		h.auditRefused(r, t.Name, store.AuditAdmin, "admin-signout", reason, http.StatusForbidden)
		h.page(w, http.StatusForbidden, page{Title: "Not signed out", Message: msg, LinkHref: adminPath(t.Name) + "/connect-okta", LinkText: "Back to the Connect Okta dialog"})
	}
	if h.crossSite(r) {
		h.log.WarnContext(ctx, "admin sign-out from another site refused", "tenant", t.Name)
		refuse(refusedCrossSite, "Another site asked to sign you out; use the Sign out button of the Connect Okta dialog instead.")
		return
	}
	s, ok, err := h.adminSession(r, t.Name)
	if err != nil {
		h.log.ErrorContext(ctx, "read admin session", "tenant", t.Name, "err", err)
		h.page(w, http.StatusInternalServerError, page{Title: "Something went wrong", Message: "The server could not read the admin session; try again in a moment."})
		return
	}
	if ok {
		got := r.Header.Get(CSRFHeader)
		if got == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
			if err := r.ParseForm(); err == nil {
				got = r.PostForm.Get("csrf")
			}
		}
		if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) != 1 {
			h.log.WarnContext(ctx, "admin sign-out without valid csrf token", "tenant", t.Name)
			refuse(refusedCSRF, "This sign-out request does not carry the admin session's check value; use the Sign out button of the Connect Okta dialog.")
			return
		}
		c, _ := r.Cookie(AdminCookie)
		if err := h.store.DeleteToken(ctx, KindAdminSession, secret.HashString(c.Value)); err != nil && !errors.Is(err, store.ErrNotFound) {
			h.log.ErrorContext(ctx, "delete admin session", "tenant", t.Name, "err", err)
			h.page(w, http.StatusInternalServerError, page{Title: "Something went wrong", Message: "The server could not end the admin session; try again in a moment."})
			return
		}
		h.auditAdmin(r, t.Name, s.actor(), "admin-signout", "ok", auditDetail{})
		h.log.InfoContext(ctx, "admin signed out", "tenant", t.Name)
	}
	io.Copy(io.Discard, io.LimitReader(r.Body, maxBody))
	h.setAdminCookie(w, r, t.Name, "", -1)
	w.Header().Set("Cache-Control", "no-store")
	h.page(w, http.StatusOK, page{Title: "Signed out", Message: "You are signed out of this tenant's admin pages.", LinkHref: adminPath(t.Name) + "/signin", LinkText: "Sign in again"})
}

// handleAdminGroup answers POST …/admin/api/admin-group with an
// adminapi.AdminGroup body: it sets the tenant's admin group ("" clears
// it) and returns the new settings with whether that group is provisioned
// (adminapi.AdminGroupSaved).
func (h *Handler) handleAdminGroup(w http.ResponseWriter, r *http.Request) {
	t, s, ok := h.requireAdminAPI(w, r)
	if !ok {
		return
	}
	var in adminapi.AdminGroup
	if !readAdminJSON(w, r, &in, false, "the request body must be a JSON object such as {\"group\": \"Idpkit Admins\"}") {
		return
	}
	group := strings.TrimSpace(in.Group)
	if len(group) > 256 {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "the group name is longer than 256 bytes")
		return
	}
	if s.User != "" {
		// An admin who signed in with Okta may not name a group that
		// leaves them out: their session, and maybe every admin's, would
		// end at once, with only an operator's admin link to recover.
		member, err := h.inGroup(r.Context(), t.Name, s.User, group)
		if err != nil {
			h.log.ErrorContext(r.Context(), "set admin group: read groups", "tenant", t.Name, "err", err)
			writeJSONError(w, http.StatusInternalServerError, "server_error", "the server could not check the group's members; try again")
			return
		}
		if !member {
			msg := "You are not a member of a group named " + strconv.Quote(group) + ", so saving it would end your own admin access at once. Name a group you are in, or sign in with a one-time admin link to hand admin access to another group."
			if group == "" {
				msg = "Turning admin sign-in with Okta off would end your own admin access at once. Sign in with a one-time admin link to turn it off."
			} else if sug, _ := h.groupSuggestion(r.Context(), t.Name, group); sug != "" {
				msg = "You are not a member of a group named " + strconv.Quote(group) + " (Okta pushed " + strconv.Quote(sug) + ": the name must match exactly), so saving it would end your own admin access at once."
			}
			writeJSONError(w, http.StatusConflict, adminapi.ErrWouldLockOut, msg)
			return
		}
	}
	nt, err := h.store.UpdateTenant(r.Context(), t.Name, func(tn *store.Tenant) error {
		tn.AdminGroup = group
		tn.Modified = h.now()
		return nil
	})
	if err != nil {
		h.log.ErrorContext(r.Context(), "set admin group", "tenant", t.Name, "err", err)
		writeJSONError(w, http.StatusInternalServerError, "server_error", "the server could not save the admin group; try again")
		return
	}
	h.auditAdmin(r, t.Name, s.actor(), "admin-group-saved", "ok", auditDetail{})
	out := adminapi.AdminGroupSaved{}
	if out.Settings, err = h.settings(r, nt, s); err == nil {
		out.GroupFound, out.GroupMembers, err = h.groupMembers(r.Context(), t.Name, group)
	}
	if err == nil && !out.GroupFound && group != "" {
		out.GroupSuggestion, err = h.groupSuggestion(r.Context(), t.Name, group)
	}
	if err != nil {
		h.log.ErrorContext(r.Context(), "read admin group", "tenant", t.Name, "err", err)
		writeJSONError(w, http.StatusInternalServerError, "server_error", "the admin group was saved, but the server could not read the tenant; reload the page")
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// groupSuggestion returns the displayName of a provisioned group that
// differs from group only in case or in spaces ("" for none): what the
// admin probably meant.
func (h *Handler) groupSuggestion(ctx context.Context, tenantName, group string) (string, error) {
	squash := func(v string) string { return strings.ToLower(strings.Join(strings.Fields(v), " ")) }
	recs, err := h.store.ListResources(ctx, tenantName, store.TypeGroup, store.Query{Where: store.Eq(store.FieldDisplayName, group), Limit: 10})
	if err != nil {
		return "", err
	}
	for _, g := range recs {
		if g.DisplayName != group && squash(g.DisplayName) == squash(group) {
			return g.DisplayName, nil
		}
	}
	return "", nil
}

// groupMembers reports whether the tenant has a provisioned group whose
// displayName is exactly group (as inGroup compares it) and how many
// users those groups hold.
func (h *Handler) groupMembers(ctx context.Context, tenantName, group string) (bool, int, error) {
	if group == "" {
		return false, 0, nil
	}
	recs, err := h.store.ListResources(ctx, tenantName, store.TypeGroup, store.Query{Where: store.Eq(store.FieldDisplayName, group), Limit: 10})
	if err != nil {
		return false, 0, err
	}
	found, members := false, 0
	for _, g := range recs {
		if g.DisplayName != group {
			continue // the store folds case; sign-in does not
		}
		found = true
		n, err := h.store.CountResources(ctx, tenantName, store.TypeUser, store.Eq(store.FieldGroup, g.ID))
		if err != nil {
			return false, 0, err
		}
		members += n
	}
	return found, members, nil
}

// stillAdmin returns nil while the SCIM user s.User, who opened an admin
// session by signing in with Okta, is still an admin of the tenant: the
// tenant still names an admin group, and the user is still provisioned,
// active and a member of it. Okta deactivating the user, removing them
// from the group, or the operator changing the group ends the session at
// its next request: the session (stored under key) is deleted, the end
// recorded in the audit trail, and a *sessionEndedError returned.
func (h *Handler) stillAdmin(r *http.Request, tenantName string, s adminSession, key string) error {
	userID := s.User
	ctx := r.Context()
	t, err := h.store.GetTenant(ctx, tenantName)
	if err != nil {
		return err
	}
	reason := ""
	rec, err := h.store.GetResource(ctx, tenantName, store.TypeUser, userID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		reason = "not-provisioned"
	case err != nil:
		return err
	case !parseUser(rec).active:
		reason = "deactivated"
	default:
		member, err := h.inGroup(ctx, tenantName, userID, t.AdminGroup)
		if err != nil {
			return err
		}
		if !member {
			reason = "not-admin"
		}
	}
	if reason == "" {
		return nil
	}
	// Taken, not deleted: of two requests that find it ended at once,
	// only one records the end.
	switch _, err := h.store.TakeToken(ctx, KindAdminSession, key); {
	case err == nil:
		h.log.WarnContext(ctx, "admin session ended: no longer an admin", "tenant", tenantName, "user", userID, "reason", reason)
		h.auditRecord(r, tenantName, store.AuditAdmin, "admin-session-ended", s.Sub, "User/"+userID, auditDetail{Reason: reason}, "refused")
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	return &sessionEndedError{reason: reason, group: t.AdminGroup}
}
