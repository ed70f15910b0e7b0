package login

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/idpkit/idpkit/scim/adminapi"
	"github.com/idpkit/idpkit/scim/secret"
	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/tenant"
	"golang.org/x/oauth2"
)

// loginState is what the store keeps under the hash of a state value.
type loginState struct {
	Verifier string `json:"verifier"`
	Nonce    string `json:"nonce"`
	// RedirectURI is the redirect_uri of the authorization request, which
	// the token request must repeat (RFC 6749 §4.1.3).
	RedirectURI string `json:"redirectUri,omitempty"`
	Binding     string `json:"binding"` // secret.HashString of the LoginCookie value
	Issuer      string `json:"issuer"`
	ClientID    string `json:"clientId"`
	// IssRequired: discovery announced the iss parameter (RFC 9207 §3),
	// so the response must carry it.
	IssRequired bool `json:"issRequired,omitempty"`
	// Test is set for a test sign-in from the Connect Okta dialog: the
	// store key (KindTestSignIn) its outcome goes to; such a sign-in
	// never starts a session.
	Test string `json:"test,omitempty"`
	// Admin is set for an admin sign-in (GET …/admin/signin, see
	// adminsignin.go): the callback starts an admin session for an active
	// member of the tenant's admin group, never a user session.
	Admin bool `json:"admin,omitempty"`
}

// sessionValue is what the store keeps under the hash of a session cookie.
type sessionValue struct {
	UserID      string `json:"userId"`
	UserName    string `json:"userName"`
	DisplayName string `json:"displayName"`
	Sub         string `json:"sub"`
	Issuer      string `json:"issuer"`
}

// responseParams are the authorization response's parameters (RFC 6749
// §4.1.2, §4.1.2.1; RFC 9207 §2), each allowed once.
var responseParams = []string{"state", "code", "error", "error_description", "error_uri", "iss"}

// maxParamLen bounds each of them but error_description (Okta's codes and
// states are under 100 bytes; a longer one is refused before it reaches
// the store or the token endpoint).
const maxParamLen = 2048

// maxErrorDescription is how much of an error_description a page shows.
const maxErrorDescription = 300

// maxCallbackBody bounds a form_post authorization response (code, state,
// or error and error_description: a few hundred bytes from Okta).
const maxCallbackBody = 16 << 10

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

// What a sign-in says when this server cannot decrypt the tenant's client
// secret (store.Tenant.ClientSecretErr).
const (
	secretUnreadableTitle   = "Sign-in is unavailable on this server"
	secretUnreadableMessage = "This server cannot read the tenant's Okta client secret: it runs without the secret key the secret was encrypted with. The operator must start every idpkit serve with the same secret key (IDPKIT_SECRET_KEY_FILE); sign-in works again as soon as it does."
)

// secretUnreadable reports, and logs at ERROR with the key id, that t's
// client secret did not decrypt on this server.
func (h *Handler) secretUnreadable(r *http.Request, t store.Tenant) bool {
	if t.ClientSecretErr == nil {
		return false
	}
	h.log.ErrorContext(r.Context(), "sign-in refused: this server cannot decrypt the tenant's client secret; start every idpkit serve with the same secret key", "tenant", t.Name, "err", t.ClientSecretErr)
	return true
}

func (h *Handler) notConfigured(w http.ResponseWriter) {
	h.page(w, http.StatusServiceUnavailable, page{
		Title:   "Sign-in is not set up yet",
		Message: "An administrator has to enter the Okta domain, client ID and client secret in the Connect Okta dialog before anyone can sign in.",
	})
}

func (h *Handler) providerFailed(w http.ResponseWriter, r *http.Request, t store.Tenant, err error) {
	h.log.ErrorContext(r.Context(), "oidc discovery failed", "tenant", t.Name, "issuer", t.Issuer, "err", clip(err.Error(), 500))
	h.page(w, http.StatusBadGateway, page{Title: "Okta cannot be reached", Message: providerFailedMessage(t)})
}

func providerFailedMessage(t store.Tenant) string {
	return "The server could not read the sign-in settings of " + t.Issuer + "; try again in a moment, or ask your administrator to check the Okta domain."
}

// providerFailedAdminMessage is providerFailedMessage for the admin of a
// test sign-in.
func providerFailedAdminMessage(t store.Tenant) string {
	return "The server could not read the sign-in settings (discovery document) of " + t.Issuer + "; try again in a moment, or check the Okta domain and Authorization server in the Connect Okta dialog."
}

// The sentences of a refused sign-in of a user Okta did sign in.
const (
	msgNotProvisioned = "Your account has not been provisioned to this app by your Okta administrator; ask them to assign you to the app's SCIM integration."
	msgDeactivated    = "Your account has been deactivated in this app; ask your Okta administrator if you need access."
)

// loginCookie is the cookie that binds a login state to the browser. In
// form_post mode Okta's page POSTs the response from Okta's site, a
// cross-site request that carries only SameSite=None cookies, and
// browsers keep SameSite=None only with Secure; the cookie is Secure then
// even when the app is served over plain http, which works on loopback
// (browsers, and Go's cookie jar, treat http://localhost and 127.0.0.1 as
// secure) and nowhere else: form_post needs https beyond loopback. In
// query mode the response is a top-level GET redirect, which carries
// SameSite=Lax cookies.
func (h *Handler) loginCookie(r *http.Request, tenantName, value string, maxAge int) *http.Cookie {
	c := &http.Cookie{
		Name: LoginCookie, Value: value, Path: "/t/" + tenantName,
		MaxAge: maxAge, HttpOnly: true, Secure: h.secureCookies(r), SameSite: http.SameSiteLaxMode,
	}
	if h.mode == ResponseModeFormPost {
		c.SameSite = http.SameSiteNoneMode
	}
	return c
}

// handleLogin starts the Authorization Code flow with state, nonce and PKCE.
func (h *Handler) handleLogin(w http.ResponseWriter, r *http.Request) {
	t, ok := h.getTenant(w, r, false)
	if !ok {
		return
	}
	if t.Issuer == "" || t.ClientID == "" {
		h.notConfigured(w)
		return
	}
	h.startLogin(w, r, t, "", func(status int, title, msg string) {
		h.page(w, status, page{Title: title, Message: msg})
	})
}

// startLogin redirects to the provider's authorization endpoint with a new
// login state (state, nonce, PKCE verifier) bound to the browser by the
// LoginCookie; test is the result key of a test sign-in, else "". t's
// sign-in must be configured. On failure it calls fail, which writes the
// page.
func (h *Handler) startLogin(w http.ResponseWriter, r *http.Request, t store.Tenant, test string, fail func(status int, title, msg string)) {
	h.startLoginAs(w, r, t, test, false, fail)
}

// startLoginAs is startLogin; admin marks the state an admin sign-in
// (loginState.Admin).
func (h *Handler) startLoginAs(w http.ResponseWriter, r *http.Request, t store.Tenant, test string, admin bool, fail func(status int, title, msg string)) {
	ctx := r.Context()
	if h.secretUnreadable(r, t) {
		fail(http.StatusServiceUnavailable, secretUnreadableTitle, secretUnreadableMessage)
		return
	}
	cp, err := h.provider(ctx, t.Issuer)
	if err != nil {
		h.log.ErrorContext(ctx, "oidc discovery failed", "tenant", t.Name, "issuer", t.Issuer, "err", clip(err.Error(), 500))
		msg := providerFailedMessage(t)
		if test != "" {
			msg = providerFailedAdminMessage(t)
		}
		fail(http.StatusBadGateway, "Okta cannot be reached", msg)
		return
	}
	// Reuse the browser's binding so sign-ins in two tabs both complete;
	// state, nonce and PKCE verifier are new for every sign-in.
	binding := ""
	if c, err := r.Cookie(LoginCookie); err == nil && len(c.Value) >= 32 && len(c.Value) <= 128 {
		binding = c.Value
	} else {
		binding = secret.New()
	}
	state, nonce, verifier := secret.New(), secret.New(), oauth2.GenerateVerifier()
	val, _ := json.Marshal(loginState{Verifier: verifier, Nonce: nonce, RedirectURI: h.tenants.RedirectURI(t.Name), Binding: secret.HashString(binding), Issuer: t.Issuer, ClientID: t.ClientID, IssRequired: cp.issParam, Test: test, Admin: admin && test == ""})
	err = h.store.PutToken(ctx, store.Token{
		Kind: KindLoginState, Key: secret.HashString(state), Tenant: t.Name,
		Value: val, Expires: h.now().Add(LoginStateTTL),
	})
	if err != nil {
		h.log.ErrorContext(ctx, "store login state", "tenant", t.Name, "err", err)
		fail(http.StatusInternalServerError, "Something went wrong", "The server could not start the sign-in; try again in a moment.")
		return
	}
	http.SetCookie(w, h.loginCookie(r, t.Name, binding, int(LoginStateTTL.Seconds())))
	opts := []oauth2.AuthCodeOption{oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)}
	if h.mode == ResponseModeFormPost {
		opts = append(opts, oauth2.SetAuthURLParam("response_mode", ResponseModeFormPost))
	}
	if test != "" || admin && r.URL.Query().Get("prompt") == "login" {
		// OpenID Connect Core §3.1.2.1: Okta shows its sign-in form even
		// to a browser it has a session for, so the admin can test as
		// anyone, not only as whoever signed in at Okta last (and a
		// refused admin can sign in as someone else).
		opts = append(opts, oauth2.SetAuthURLParam("prompt", "login"))
	}
	u := h.oauthConfig(t, cp.p).AuthCodeURL(state, opts...)
	h.log.InfoContext(ctx, "oidc login started", "tenant", t.Name, "issuer", t.Issuer, "response_mode", h.mode, "test", test != "")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, u, http.StatusFound)
}

// callbackParams returns the authorization response's parameters: the
// query in query mode, the urlencoded body in form_post mode (RFC 6749
// §4.1.2, OAuth 2.0 Form Post Response Mode §2). On a request in the
// wrong shape it has written a page and returns false.
func (h *Handler) callbackParams(w http.ResponseWriter, r *http.Request, loginLink string) (url.Values, bool) {
	again := func(status int, title, msg string) {
		h.page(w, status, page{Title: title, Message: msg, LinkHref: loginLink, LinkText: "Sign in again"})
	}
	want := http.MethodGet
	if h.mode == ResponseModeFormPost {
		want = http.MethodPost
	}
	if r.Method != want {
		h.log.WarnContext(r.Context(), "oidc callback: wrong method for the response mode", "method", r.Method, "response_mode", h.mode)
		w.Header().Set("Allow", want)
		how := "a link (response_mode=query)"
		if h.mode == ResponseModeFormPost {
			how = "a form Okta posts (response_mode=form_post)"
		}
		again(http.StatusMethodNotAllowed, "Sign-in could not be completed", "This app expects Okta's sign-in response as "+how+", not as a "+r.Method+" request; please start again.")
		return nil, false
	}
	if want == http.MethodGet {
		return r.URL.Query(), true
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		h.log.WarnContext(r.Context(), "oidc callback: form_post body is not urlencoded", "content_type", r.Header.Get("Content-Type"))
		again(http.StatusUnsupportedMediaType, "Sign-in could not be completed", "This sign-in response is not a form; please start again.")
		return nil, false
	}
	// The form is small and sent with its headers; a client trickling it
	// must not hold the request (and one of the tenant's
	// --max-tenant-requests slots) for the server's whole ReadTimeout. The
	// deadline is the connection's, so it is on the real clock, not h.now.
	// A writer that cannot set one (a test recorder) goes without.
	const bodyTimeout = 5 * time.Second
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(bodyTimeout))
	r.Body = http.MaxBytesReader(w, r.Body, maxCallbackBody)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			again(http.StatusRequestEntityTooLarge, "Sign-in could not be completed", "This sign-in response is too large; please start again.")
			return nil, false
		}
		again(http.StatusBadRequest, "Sign-in could not be completed", "This sign-in response could not be read; please start again.")
		return nil, false
	}
	return r.PostForm, true
}

// handleCallback finishes the flow: checks state and browser binding,
// exchanges the code with the PKCE verifier, verifies the ID token
// (checkIDToken), compares UserInfo's sub with the ID token's, then finds
// the SCIM user and starts a session if it is active. For a test
// sign-in's state (loginState.Test) every check runs the same, but no
// session is started or ended: each outcome after the state was taken is
// stored for the dialog and shown in the popup (finishTest).
func (h *Handler) handleCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	log := h.log.With("tenant", r.PathValue("tenant"))
	// The state is always checked, even from an address over its failure
	// budget; a failure from such an address is 429 (failedAttempt).
	t, ok := h.getTenant(w, r, false)
	if !ok {
		return
	}
	loginLink := "/t/" + t.Name + "/login"
	again := func(status int, title, msg string) {
		h.page(w, status, page{Title: title, Message: msg, LinkHref: loginLink, LinkText: "Sign in again"})
	}
	q, ok := h.callbackParams(w, r, loginLink)
	if !ok {
		return
	}

	// RFC 6749 §3.1: no parameter may appear twice. Which of two states
	// or codes would count is exactly what an attacker wants to choose.
	for _, name := range responseParams {
		if len(q[name]) > 1 {
			log.WarnContext(ctx, "oidc callback: repeated parameter", "param", name)
			again(http.StatusBadRequest, "Sign-in could not be completed", "This sign-in response has the parameter "+name+" more than once; please start again.")
			return
		}
		if len(q.Get(name)) > maxParamLen && name != "error_description" {
			log.WarnContext(ctx, "oidc callback: parameter too long", "param", name, "bytes", len(q.Get(name)))
			again(http.StatusBadRequest, "Sign-in could not be completed", "The parameter "+name+" of this sign-in response is too long; please start again.")
			return
		}
	}

	// The state is single-use whatever the outcome.
	var st loginState
	stateOK := false
	state := q.Get("state")
	if state != "" {
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
	providerError := q.Get("error")
	if state == "" {
		// An error without state is not shown either: its description
		// would be any text anyone put in a link to this page.
		log.WarnContext(ctx, "oidc callback: no state", "error", clip(providerError, maxParamLen))
		h.auditSignIn(r, t.Name, auditStateRefused, "", "", "no-state", false)
		if h.failedAttempt(w, r) {
			return
		}
		again(http.StatusBadRequest, "Sign-in could not be completed", "This sign-in response is incomplete (it has no state); please start again.")
		return
	}
	if !stateOK {
		// Most often a reloaded callback page, or the back button. Someone
		// already signed in here goes on to their page.
		if providerError == "" && h.signedIn(r, t) {
			log.InfoContext(ctx, "oidc callback: used or unknown state, but already signed in; to /me")
			w.Header().Set("Cache-Control", "no-store")
			http.Redirect(w, r, "/t/"+t.Name+"/me", http.StatusSeeOther)
			return
		}
		log.WarnContext(ctx, "oidc callback: unknown, used or expired state", "error", clip(providerError, maxParamLen))
		h.auditSignIn(r, t.Name, auditStateRefused, "", "", "unknown-state", false)
		if h.failedAttempt(w, r) {
			return
		}
		again(http.StatusBadRequest, "Sign-in expired or was already used", "This sign-in response is unknown, expired or was already used (a reloaded page does that); please start again.")
		return
	}
	// The state is taken: a test sign-in (testsignin.go) shows and stores
	// every outcome from here on; claims are the ID token's once it
	// verified.
	var claims map[string]any
	test := st.Test != ""
	if test {
		again = func(status int, title, msg string) {
			h.finishTest(w, r, t, st.Test, status, adminapi.TestSignIn{Done: true, Message: forAdmin(msg), Claims: claims}, true)
		}
	}
	if st.Admin {
		// An admin sign-in's pages link back to the admin sign-in.
		loginLink = adminPath(t.Name) + "/signin"
	}
	c, err := r.Cookie(LoginCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(secret.HashString(c.Value)), []byte(st.Binding)) != 1 {
		log.WarnContext(ctx, "oidc callback: state not bound to this browser")
		h.auditSignIn(r, t.Name, auditStateRefused, "", "", "not-bound", test)
		if h.failedAttempt(w, r) {
			return
		}
		again(http.StatusBadRequest, "Sign-in could not be completed", "This sign-in was started in another browser or its cookie is missing; please start again here, with cookies enabled.")
		return
	}
	log.InfoContext(ctx, "oidc callback: state checked", "test", st.Test != "")
	// RFC 9207 §2.4: an iss parameter must be the issuer this sign-in was
	// sent to (a mix-up attack delivers another provider's response); the
	// provider announcing it in discovery makes it required. Okta sends
	// none. Error responses carry it too.
	if iss, has := q["iss"]; has && iss[0] != st.Issuer {
		log.WarnContext(ctx, "oidc callback: iss parameter names another issuer", "iss", clip(iss[0], maxParamLen), "issuer", st.Issuer)
		h.auditSignIn(r, t.Name, auditTokenRefused, "", "", "issuer-mismatch", test)
		again(http.StatusBadRequest, "Sign-in could not be completed", "This sign-in response comes from another issuer than the one the sign-in was sent to; please start again.")
		return
	} else if !has && st.IssRequired {
		log.WarnContext(ctx, "oidc callback: no iss parameter, though the provider announces it", "issuer", st.Issuer)
		h.auditSignIn(r, t.Name, auditTokenRefused, "", "", "no-iss", test)
		again(http.StatusBadRequest, "Sign-in could not be completed", "This sign-in response does not name its issuer, which Okta announces it always does; please start again.")
		return
	}
	if t.Issuer != st.Issuer || t.ClientID != st.ClientID {
		log.WarnContext(ctx, "oidc callback: sign-in settings changed during the sign-in")
		h.auditSignIn(r, t.Name, auditStateRefused, "", "", "settings-changed", test)
		again(http.StatusBadRequest, "Sign-in could not be completed", "The sign-in settings changed while you were signing in; please start again.")
		return
	}

	if providerError != "" {
		// A refusal for this browser's own sign-in (RFC 6749 §4.1.2.1).
		desc := clip(q.Get("error_description"), maxErrorDescription)
		log.WarnContext(ctx, "oidc callback: error from provider", "error", providerError, "error_description", desc)
		h.auditSignIn(r, t.Name, auditProviderRefusd, "", "", providerError, test)
		status := http.StatusBadRequest
		if providerError == "access_denied" {
			status = http.StatusForbidden
		}
		d := strings.TrimRight(desc, ". ")
		if test {
			what := providerError
			if d != "" {
				what += ": " + d
			}
			hint := "; check the OIDC app in Okta, then test again."
			if providerError == "access_denied" {
				hint = ": assign the person, or a group they are in, to the OIDC app in Okta."
			}
			again(status, "Sign-in was refused", said(test, "", "Okta refused the sign-in ("+what+")"+hint))
			return
		}
		msg := "Okta did not sign you in (" + providerError + ")"
		if d != "" {
			msg += ": " + d
		}
		again(status, "Sign-in was refused", msg+". If you think you should have access, ask your Okta administrator.")
		return
	}
	code := q.Get("code")
	if code == "" {
		log.WarnContext(ctx, "oidc callback: no code")
		h.auditSignIn(r, t.Name, auditTokenRefused, "", "", "no-code", test)
		again(http.StatusBadRequest, "Sign-in could not be completed", "This sign-in response has no authorization code; please start again.")
		return
	}
	cp, err := h.provider(ctx, t.Issuer)
	if err != nil {
		if test {
			log.ErrorContext(ctx, "oidc discovery failed", "issuer", t.Issuer, "err", clip(err.Error(), 500))
			again(http.StatusBadGateway, "Okta cannot be reached", said(test, "", providerFailedAdminMessage(t)))
			return
		}
		h.providerFailed(w, r, t, err)
		return
	}
	tok, ok := h.exchange(w, r, log, t, cp, code, st.Verifier, st.RedirectURI, test, again)
	if !ok {
		h.auditSignIn(r, t.Name, auditTokenRefused, "", "", "code-exchange", test)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		log.WarnContext(ctx, "oidc callback: no id_token in the token response")
		h.auditSignIn(r, t.Name, auditTokenRefused, "", "", "no-id-token", test)
		again(http.StatusBadGateway, "Sign-in could not be completed", said(test,
			"Okta sent no identity token; ask your administrator to check that the app uses OpenID Connect.",
			"Okta's answer was refused: it has no ID token; check that the app in Okta is an OIDC app (OpenID Connect), then test again."))
		return
	}
	idt, ok := h.verifyIDToken(w, r, log, t, cp, raw, st.Nonce, tok.AccessToken, test, again)
	if !ok {
		h.auditSignIn(r, t.Name, auditTokenRefused, "", "", "id-token", test)
		return
	}
	var idc struct {
		PreferredUsername string    `json:"preferred_username"`
		Email             string    `json:"email"`
		EmailVerified     *flexBool `json:"email_verified"`
	}
	if err := idt.Claims(&idc); err != nil {
		log.WarnContext(ctx, "oidc callback: id token claims unreadable", "err", err)
		again(http.StatusBadRequest, "Sign-in could not be completed", said(test,
			"The identity token from Okta is incomplete; please start again.",
			"Okta's answer was refused: the claims of its ID token could not be read."))
		return
	}
	if st.Test != "" && idt.Claims(&claims) != nil {
		claims = nil
	}
	log.InfoContext(ctx, "oidc callback: id token verified", "sub", idt.Subject)
	email := idc.Email
	if idc.EmailVerified != nil && !*idc.EmailVerified {
		email = ""
	}
	username := idc.PreferredUsername

	// OpenID Connect Core §5.3.2: the UserInfo response's sub must be the
	// ID token's. Its claims only fill in what the ID token lacks.
	if cp.userinfo != "" {
		ui, ok := h.userinfo(w, r, log, cp.userinfo, tok.AccessToken, idt.Subject, again)
		if !ok {
			h.auditSignIn(r, t.Name, auditTokenRefused, idt.Subject, "", "userinfo", test)
			return
		}
		if username == "" {
			username = ui.PreferredUsername
		}
		if idc.Email == "" && (ui.EmailVerified == nil || *ui.EmailVerified) {
			email = ui.Email
		}
	}

	u, found, err := h.findUser(ctx, t.Name, idt.Subject, username, email)
	if err != nil {
		log.ErrorContext(ctx, "oidc callback: look up user", "err", err)
		again(http.StatusInternalServerError, "Something went wrong", said(test,
			"The server could not check your account; please try again in a moment.",
			"The server could not look up the SCIM users of this tenant; try again in a moment."))
		return
	}
	if !found {
		log.WarnContext(ctx, "oidc callback: user not provisioned", "sub", idt.Subject, "preferred_username", username)
		h.auditSignIn(r, t.Name, auditNotProvisioned, idt.Subject, "", "not-provisioned", test)
		if test {
			h.finishTest(w, r, t, st.Test, http.StatusForbidden, adminapi.TestSignIn{Done: true, Message: notProvisionedAdmin(idt.Subject, username, email), Claims: claims}, true)
			return
		}
		h.page(w, http.StatusForbidden, page{Title: "No access", Message: msgNotProvisioned})
		return
	}
	if !u.active {
		log.WarnContext(ctx, "oidc callback: user deactivated", "sub", idt.Subject, "user", u.id)
		h.auditSignIn(r, t.Name, auditDeactivated, idt.Subject, "User/"+u.id, "deactivated", test)
		if test {
			h.finishTest(w, r, t, st.Test, http.StatusForbidden, adminapi.TestSignIn{Done: true, Message: deactivatedAdmin(u.userName), UserName: u.userName, Claims: claims}, true)
			return
		}
		h.page(w, http.StatusForbidden, page{Title: "No access", Message: msgDeactivated})
		return
	}
	if test {
		// A test sign-in ends here: no session, and the session cookie
		// the browser has (or has not) stays as it is.
		log.InfoContext(ctx, "oidc callback: test sign-in worked", "user", u.id, "userName", u.userName)
		h.auditSignIn(r, t.Name, auditSignedIn, idt.Subject, "User/"+u.id, "", true)
		h.finishTest(w, r, t, st.Test, http.StatusOK, adminapi.TestSignIn{Done: true, OK: true, Message: "Signed in as " + u.userName + ".", UserName: u.userName, Claims: claims}, true)
		return
	}
	if st.Admin {
		// An admin sign-in ends here: an admin session for a member of
		// the admin group, never a user session (adminsignin.go).
		h.finishAdminSignIn(w, r, t, u, idt.Subject)
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
	// A session the browser had before (another user's, or one planted
	// in it) ends: the new one never takes over a cookie value it did not
	// issue itself, and the old one must not outlive the switch.
	if old, err := r.Cookie(SessionCookie); err == nil && old.Value != "" {
		if err := h.store.DeleteToken(ctx, KindSession, secret.HashString(old.Value)); err != nil && !errors.Is(err, store.ErrNotFound) {
			log.WarnContext(ctx, "oidc callback: end the previous session", "err", err)
		}
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: sid, Path: "/t/" + t.Name,
		MaxAge: int(SessionTTL.Seconds()), HttpOnly: true, Secure: h.secureCookies(r), SameSite: http.SameSiteLaxMode,
	})
	// The binding has done its job for this sign-in; other tabs' sign-ins
	// still need it, so it is left to expire.
	log.InfoContext(ctx, "oidc callback: signed in", "user", u.id, "userName", u.userName)
	h.auditSignIn(r, t.Name, auditSignedIn, idt.Subject, "User/"+u.id, "", false)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, "/t/"+t.Name+"/me", http.StatusSeeOther)
}

// exchange redeems the code at the token endpoint (RFC 6749 §4.1.3, with
// the PKCE verifier of RFC 7636 §4.5). On failure it has written a page:
// the OAuth error code of a refusal (RFC 6749 §5.2) is shown, a 5xx or no
// answer within the timeout is a 502.
// test words the sentences for the admin of a test sign-in.
// redirect is the redirect_uri the sign-in was started with ("" for a
// state from before it was kept: this instance's).
func (h *Handler) exchange(w http.ResponseWriter, r *http.Request, log *slog.Logger, t store.Tenant, cp cachedProvider, code, verifier, redirect string, test bool, again func(int, string, string)) (*oauth2.Token, bool) {
	ctx, cancel := context.WithTimeout(oidc.ClientContext(r.Context(), h.client), h.timeout)
	defer cancel()
	if h.secretUnreadable(r, t) {
		again(http.StatusServiceUnavailable, secretUnreadableTitle, secretUnreadableMessage)
		return nil, false
	}
	cfg := h.oauthConfig(t, cp.p)
	if redirect != "" {
		// RFC 6749 §4.1.3: the redirect_uri of the authorization request,
		// which the state kept, whichever instance started the sign-in.
		if redirect != cfg.RedirectURL {
			log.WarnContext(ctx, "oidc callback: the sign-in started on an instance with another public URL; give every idpkit serve the same --public-url", "started_with", redirect, "this_instance", cfg.RedirectURL)
		}
		cfg.RedirectURL = redirect
	}
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err == nil && !strings.EqualFold(tok.TokenType, "Bearer") {
		// OpenID Connect Core §3.1.3.3: the token type must be Bearer,
		// and RFC 6749 §7.1 forbids using a token of a type one does not
		// understand (it would go to UserInfo as a bearer token).
		log.WarnContext(ctx, "oidc callback: token response of another token type", "token_type", clip(tok.TokenType, 64))
		typ := quote(clip(tok.TokenType, 64))
		again(http.StatusBadGateway, "Okta could not finish the sign-in", said(test,
			"Okta's token endpoint gave out an access token of type "+typ+", not Bearer; ask your administrator to check the Okta app.",
			"Okta's answer was refused: its token endpoint gave out an access token of type "+typ+", not Bearer; check the OIDC app in Okta."))
		return nil, false
	}
	if err == nil {
		log.InfoContext(ctx, "oidc callback: code exchanged")
		return tok, true
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		// An endpoint may echo what it was sent: the client secret goes
		// onto no page and into no log line; the texts are clipped.
		code := clip(tenant.RedactClientSecret(re.ErrorCode, t.ClientID, t.ClientSecret), 64)
		desc := clip(tenant.RedactClientSecret(re.ErrorDescription, t.ClientID, t.ClientSecret), maxErrorDescription)
		log.WarnContext(ctx, "oidc callback: token endpoint refused the code", "status", status, "error", code, "error_description", desc)
		what := code
		if what == "" {
			what = "HTTP " + strconv.Itoa(status)
		}
		if desc != "" {
			what += ": " + desc
		}
		if status >= 500 || status == 0 {
			again(http.StatusBadGateway, "Okta could not finish the sign-in", "Okta's token endpoint failed ("+what+"); please try again in a moment.")
			return nil, false
		}
		again(http.StatusBadRequest, "Sign-in could not be completed", said(test,
			"Okta did not accept the sign-in code ("+what+"); it may have been used already. Please start again.",
			"Okta's token endpoint refused the sign-in code ("+what+"); check the Client ID and Client secret in the Connect Okta dialog and that the OIDC app in Okta allows the Authorization Code grant, then test again."))
		return nil, false
	}
	log.ErrorContext(ctx, "oidc callback: token request failed", "err", clip(tenant.RedactClientSecret(err.Error(), t.ClientID, t.ClientSecret), 500))
	if errors.Is(err, context.DeadlineExceeded) {
		again(http.StatusBadGateway, "Okta did not answer in time", "Okta's token endpoint did not answer within "+h.timeout.String()+"; please try again in a moment.")
		return nil, false
	}
	again(http.StatusBadGateway, "Okta cannot be reached", "The server could not finish the sign-in with Okta; please try again in a moment.")
	return nil, false
}

// verifyIDToken verifies the ID token's signature with the issuer's key
// set, then every rule of checkIDToken. On failure it has written a page.
// test words the sentences for the admin of a test sign-in.
func (h *Handler) verifyIDToken(w http.ResponseWriter, r *http.Request, log *slog.Logger, t store.Tenant, cp cachedProvider, raw, nonce, accessToken string, test bool, again func(int, string, string)) (*oidc.IDToken, bool) {
	ctx, cancel := context.WithTimeout(oidc.ClientContext(r.Context(), h.client), h.timeout)
	defer cancel()
	// Load the keys first, so that a provider that cannot serve them is a
	// 502, not a token that "does not verify"; a token in an algorithm
	// this RP refuses (none, HS256) is refused without any fetch.
	if _, perr := jose.ParseSigned(raw, acceptedAlgs); perr == nil {
		if err := cp.keys.ensure(ctx); err != nil {
			log.ErrorContext(ctx, "oidc callback: keys unavailable", "err", err)
			again(http.StatusBadGateway, "Okta cannot be reached", "The server could not read Okta's signing keys to check the sign-in; please try again in a moment.")
			return nil, false
		}
	}
	verifier := oidc.NewVerifier(t.Issuer, cp.keys, &oidc.Config{
		ClientID:             t.ClientID,
		SupportedSigningAlgs: acceptedAlgNames,
		SkipExpiryCheck:      true, // checkIDToken checks exp, iat and nbf with a leeway
		Now:                  h.now,
	})
	idt, err := verifier.Verify(ctx, raw)
	if err == nil {
		err = checkIDToken(idt, idTokenWant{ClientID: t.ClientID, Nonce: nonce, AccessToken: accessToken, Now: h.now()})
	}
	if err == nil {
		return idt, true
	}
	log.WarnContext(ctx, "oidc callback: id token rejected", "err", err)
	var ve *idTokenError
	switch {
	case errors.As(err, &ve) && ve.rule == ruleNonce:
		again(http.StatusBadRequest, "Sign-in could not be completed", said(test,
			"The identity token from Okta does not belong to this sign-in; please start again.",
			"Okta's answer was refused: its ID token does not belong to this sign-in (its nonce differs); test again."))
	case errors.As(err, &ve) && ve.rule == ruleSub:
		again(http.StatusBadRequest, "Sign-in could not be completed", said(test,
			"The identity token from Okta is incomplete (it names no user); please start again.",
			"Okta's answer was refused: its ID token names no user (it has no sub claim)."))
	default:
		again(http.StatusBadRequest, "Sign-in could not be completed", said(test,
			"The identity token from Okta could not be verified; please start again, and ask your administrator if this keeps happening.",
			"Okta's answer was refused: its ID token could not be verified ("+clip(err.Error(), 200)+"); check the Okta domain, Authorization server and Client ID in the Connect Okta dialog, then test again."))
	}
	return nil, false
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

// UserActive reports whether a stored SCIM user counts as active for a
// sign-in: "active" true or absent (RFC 7643 §4.1.1), the rule every
// sign-in and admin sign-in applies.
func UserActive(rec store.Record) bool { return parseUser(rec).active }

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
