package login

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/idpkit/idpkit/scim/secret"
	"github.com/idpkit/idpkit/scim/store"
	"golang.org/x/oauth2"
)

// loginState is what the store keeps under the hash of a state value.
type loginState struct {
	Verifier string `json:"verifier"`
	Nonce    string `json:"nonce"`
	Binding  string `json:"binding"` // secret.HashString of the LoginCookie value
	Issuer   string `json:"issuer"`
	ClientID string `json:"clientId"`
}

// sessionValue is what the store keeps under the hash of a session cookie.
type sessionValue struct {
	UserID      string `json:"userId"`
	UserName    string `json:"userName"`
	DisplayName string `json:"displayName"`
	Sub         string `json:"sub"`
	Issuer      string `json:"issuer"`
}

func (h *Handler) oauthConfig(t store.Tenant, p *oidc.Provider) *oauth2.Config {
	ep := p.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInHeader // client_secret_basic, Okta's default
	return &oauth2.Config{
		ClientID:     t.ClientID,
		ClientSecret: t.ClientSecret,
		Endpoint:     ep,
		RedirectURL:  h.tenants.RedirectURI(t.Name),
		Scopes:       []string{oidc.ScopeOpenID, "profile", "email"},
	}
}

func (h *Handler) notConfigured(w http.ResponseWriter) {
	h.page(w, http.StatusServiceUnavailable, page{
		Title:   "Sign-in is not set up yet",
		Message: "An administrator has to enter the Okta domain, client ID and client secret in the Connect Okta dialog before anyone can sign in.",
	})
}

func (h *Handler) providerFailed(w http.ResponseWriter, r *http.Request, t store.Tenant, err error) {
	h.log.ErrorContext(r.Context(), "oidc discovery failed", "tenant", t.Name, "issuer", t.Issuer, "err", err)
	h.page(w, http.StatusBadGateway, page{
		Title:   "Okta cannot be reached",
		Message: "The server could not read the sign-in settings of " + t.Issuer + "; try again in a moment, or ask your administrator to check the Okta domain.",
	})
}

// handleLogin starts the Authorization Code flow with state, nonce and PKCE.
func (h *Handler) handleLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	t, ok := h.getTenant(w, r, false)
	if !ok {
		return
	}
	if t.Issuer == "" || t.ClientID == "" {
		h.notConfigured(w)
		return
	}
	p, err := h.provider(ctx, t.Issuer)
	if err != nil {
		h.providerFailed(w, r, t, err)
		return
	}
	// Reuse the browser's binding so sign-ins in two tabs both complete.
	binding := ""
	if c, err := r.Cookie(LoginCookie); err == nil && len(c.Value) >= 32 && len(c.Value) <= 128 {
		binding = c.Value
	} else {
		binding = secret.New()
	}
	state, nonce, verifier := secret.New(), secret.New(), oauth2.GenerateVerifier()
	val, _ := json.Marshal(loginState{Verifier: verifier, Nonce: nonce, Binding: secret.HashString(binding), Issuer: t.Issuer, ClientID: t.ClientID})
	err = h.store.PutToken(ctx, store.Token{
		Kind: KindLoginState, Key: secret.HashString(state), Tenant: t.Name,
		Value: val, Expires: h.now().Add(LoginStateTTL),
	})
	if err != nil {
		h.log.ErrorContext(ctx, "store login state", "tenant", t.Name, "err", err)
		h.page(w, http.StatusInternalServerError, page{Title: "Something went wrong", Message: "The server could not start the sign-in; try again in a moment."})
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: LoginCookie, Value: binding, Path: "/t/" + t.Name,
		MaxAge: int(LoginStateTTL.Seconds()), HttpOnly: true, Secure: h.isHTTPS(r), SameSite: http.SameSiteLaxMode,
	})
	u := h.oauthConfig(t, p).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
	h.log.InfoContext(ctx, "oidc login started", "tenant", t.Name, "issuer", t.Issuer)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, u, http.StatusFound)
}

// handleCallback finishes the flow: checks state and browser binding,
// exchanges the code with the PKCE verifier, verifies the ID token and its
// nonce, then finds the SCIM user and starts a session if it is active.
func (h *Handler) handleCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	log := h.log.With("tenant", r.PathValue("tenant"))
	t, ok := h.getTenant(w, r, false)
	if !ok {
		return
	}
	q := r.URL.Query()
	loginLink := "/t/" + t.Name + "/login"
	again := func(status int, title, msg string) {
		h.page(w, status, page{Title: title, Message: msg, LinkHref: loginLink, LinkText: "Sign in again"})
	}

	// The state is single-use whatever the outcome.
	var st loginState
	stateOK := false
	if state := q.Get("state"); state != "" {
		tok, err := h.store.TakeToken(ctx, KindLoginState, secret.HashString(state))
		switch {
		case err == nil && tok.Tenant == t.Name && h.now().Before(tok.Expires):
			stateOK = json.Unmarshal(tok.Value, &st) == nil
		case err != nil && !errors.Is(err, store.ErrNotFound):
			log.ErrorContext(ctx, "oidc callback: read login state", "err", err)
			again(http.StatusInternalServerError, "Something went wrong", "The server could not check this sign-in; please start again.")
			return
		}
	}

	if e := q.Get("error"); e != "" {
		desc := q.Get("error_description")
		log.WarnContext(ctx, "oidc callback: error from provider", "error", e, "error_description", desc)
		status := http.StatusBadRequest
		if e == "access_denied" {
			status = http.StatusForbidden
		}
		msg := "Okta did not sign you in (" + e + ")"
		if desc != "" {
			msg += ": " + desc
		}
		again(status, "Sign-in was refused", msg+". If you think you should have access, ask your Okta administrator.")
		return
	}
	if q.Get("state") == "" {
		log.WarnContext(ctx, "oidc callback: no state")
		again(http.StatusBadRequest, "Sign-in could not be completed", "This sign-in response is incomplete (it has no state); please start again.")
		return
	}
	if !stateOK {
		log.WarnContext(ctx, "oidc callback: unknown, used or expired state")
		again(http.StatusBadRequest, "Sign-in expired or was already used", "This sign-in response is unknown, expired or was already used; please start again.")
		return
	}
	c, err := r.Cookie(LoginCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(secret.HashString(c.Value)), []byte(st.Binding)) != 1 {
		log.WarnContext(ctx, "oidc callback: state not bound to this browser")
		again(http.StatusBadRequest, "Sign-in could not be completed", "This sign-in was started in another browser or its cookie is missing; please start again here, with cookies enabled.")
		return
	}
	log.InfoContext(ctx, "oidc callback: state checked")
	if t.Issuer != st.Issuer || t.ClientID != st.ClientID {
		log.WarnContext(ctx, "oidc callback: sign-in settings changed during the sign-in")
		again(http.StatusBadRequest, "Sign-in could not be completed", "The sign-in settings changed while you were signing in; please start again.")
		return
	}
	code := q.Get("code")
	if code == "" {
		log.WarnContext(ctx, "oidc callback: no code")
		again(http.StatusBadRequest, "Sign-in could not be completed", "This sign-in response has no authorization code; please start again.")
		return
	}
	p, err := h.provider(ctx, t.Issuer)
	if err != nil {
		h.providerFailed(w, r, t, err)
		return
	}
	xctx := oidc.ClientContext(ctx, h.client)
	tok, err := h.oauthConfig(t, p).Exchange(xctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			log.WarnContext(ctx, "oidc callback: token endpoint refused the code", "error", re.ErrorCode, "error_description", re.ErrorDescription)
			again(http.StatusBadRequest, "Sign-in could not be completed", "Okta did not accept the sign-in code ("+firstNonEmpty(re.ErrorCode, "error")+"); it may have been used already. Please start again.")
			return
		}
		log.ErrorContext(ctx, "oidc callback: token request failed", "err", err)
		again(http.StatusBadGateway, "Okta cannot be reached", "The server could not finish the sign-in with Okta; please try again in a moment.")
		return
	}
	log.InfoContext(ctx, "oidc callback: code exchanged")
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		log.WarnContext(ctx, "oidc callback: no id_token in the token response")
		again(http.StatusBadGateway, "Sign-in could not be completed", "Okta sent no identity token; ask your administrator to check that the app uses OpenID Connect.")
		return
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: t.ClientID, Now: h.now}).Verify(xctx, raw)
	if err != nil {
		log.WarnContext(ctx, "oidc callback: id token rejected", "err", err)
		again(http.StatusBadRequest, "Sign-in could not be completed", "The identity token from Okta could not be verified; please start again, and ask your administrator if this keeps happening.")
		return
	}
	// OpenID Connect Core §3.1.3.7 items 4 and 5: with several audiences
	// the token must name this client as its authorized party, and an azp
	// present must be this client (go-oidc checks neither).
	var party struct {
		Azp string `json:"azp"`
	}
	if err := idt.Claims(&party); err != nil || party.Azp != "" && party.Azp != t.ClientID || len(idt.Audience) > 1 && party.Azp == "" {
		log.WarnContext(ctx, "oidc callback: id token issued to another party", "azp", party.Azp, "aud", idt.Audience)
		again(http.StatusBadRequest, "Sign-in could not be completed", "The identity token from Okta could not be verified; please start again, and ask your administrator if this keeps happening.")
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		log.WarnContext(ctx, "oidc callback: id token nonce does not match")
		again(http.StatusBadRequest, "Sign-in could not be completed", "The identity token from Okta does not belong to this sign-in; please start again.")
		return
	}
	var claims struct {
		PreferredUsername string `json:"preferred_username"`
		Email             string `json:"email"`
		EmailVerified     *bool  `json:"email_verified"`
	}
	if err := idt.Claims(&claims); err != nil || idt.Subject == "" {
		log.WarnContext(ctx, "oidc callback: id token claims unreadable", "err", err)
		again(http.StatusBadRequest, "Sign-in could not be completed", "The identity token from Okta is incomplete; please start again.")
		return
	}
	log.InfoContext(ctx, "oidc callback: id token verified", "sub", idt.Subject)

	email := claims.Email
	if claims.EmailVerified != nil && !*claims.EmailVerified {
		email = ""
	}
	u, found, err := h.findUser(ctx, t.Name, idt.Subject, claims.PreferredUsername, email)
	if err != nil {
		log.ErrorContext(ctx, "oidc callback: look up user", "err", err)
		again(http.StatusInternalServerError, "Something went wrong", "The server could not check your account; please try again in a moment.")
		return
	}
	if !found {
		log.WarnContext(ctx, "oidc callback: user not provisioned", "sub", idt.Subject, "preferred_username", claims.PreferredUsername)
		h.page(w, http.StatusForbidden, page{Title: "No access", Message: "Your account has not been provisioned to this app by your Okta administrator; ask them to assign you to the app's SCIM integration."})
		return
	}
	if !u.active {
		log.WarnContext(ctx, "oidc callback: user deactivated", "sub", idt.Subject, "user", u.id)
		h.page(w, http.StatusForbidden, page{Title: "No access", Message: "Your account has been deactivated in this app; ask your Okta administrator if you need access."})
		return
	}
	sid := secret.New()
	sv, _ := json.Marshal(sessionValue{UserID: u.id, UserName: u.userName, DisplayName: u.displayName, Sub: idt.Subject, Issuer: idt.Issuer})
	err = h.store.PutToken(ctx, store.Token{Kind: KindSession, Key: secret.HashString(sid), Tenant: t.Name, Value: sv, Expires: h.now().Add(SessionTTL)})
	if err != nil {
		log.ErrorContext(ctx, "oidc callback: store session", "err", err)
		again(http.StatusInternalServerError, "Something went wrong", "The server could not start your session; please try again.")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: sid, Path: "/t/" + t.Name,
		MaxAge: int(SessionTTL.Seconds()), HttpOnly: true, Secure: h.isHTTPS(r), SameSite: http.SameSiteLaxMode,
	})
	log.InfoContext(ctx, "oidc callback: signed in", "user", u.id, "userName", u.userName)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, "/t/"+t.Name+"/me", http.StatusSeeOther)
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// scimUser is what sign-in needs of a stored SCIM User.
type scimUser struct {
	id, userName, displayName, externalID string
	active                                bool
}

func parseUser(rec store.Record) scimUser {
	u := scimUser{id: rec.ID, userName: rec.UserName, displayName: rec.DisplayName, externalID: rec.ExternalID, active: true}
	var data struct {
		Active any `json:"active"`
	}
	if json.Unmarshal(rec.Data, &data) == nil {
		// RFC 7643 §4.1.1: active is a boolean; an absent value is taken
		// as active, anything but true/absent as inactive.
		switch v := data.Active.(type) {
		case nil:
		case bool:
			u.active = v
		case string:
			u.active = strings.EqualFold(v, "true")
		default:
			u.active = false
		}
	} else {
		u.active = false
	}
	return u
}

// findUser finds the tenant's SCIM user for an ID token: by externalId ==
// sub (Okta sends its user id as externalId), else by userName ==
// preferred_username or email, case-insensitively. A user found by name
// whose externalId names another Okta user is not a match: it was
// provisioned for someone else, and names can be reassigned or edited.
func (h *Handler) findUser(ctx context.Context, tenantName, sub, username, email string) (scimUser, bool, error) {
	recs, err := h.store.ListResources(ctx, tenantName, store.TypeUser, store.Query{Where: store.Eq(store.FieldExternalID, sub)})
	if err != nil {
		return scimUser{}, false, err
	}
	if len(recs) > 0 {
		return pickUser(recs), true, nil
	}
	for _, name := range []string{username, email} {
		if name == "" {
			continue
		}
		recs, err := h.store.ListResources(ctx, tenantName, store.TypeUser, store.Query{Where: store.Eq(store.FieldUserName, name)})
		if err != nil {
			return scimUser{}, false, err
		}
		var mine []store.Record
		for _, r := range recs {
			if r.ExternalID != "" && r.ExternalID != sub {
				h.log.WarnContext(ctx, "oidc callback: user matched by userName belongs to another Okta user", "tenant", tenantName, "user", r.ID)
				continue
			}
			mine = append(mine, r)
		}
		if len(mine) > 0 {
			return pickUser(mine), true, nil
		}
	}
	return scimUser{}, false, nil
}

// pickUser prefers an active user when several match.
func pickUser(recs []store.Record) scimUser {
	first := parseUser(recs[0])
	for _, r := range recs {
		if u := parseUser(r); u.active {
			return u
		}
	}
	return first
}
