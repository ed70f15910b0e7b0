package op

import (
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// authzParams are the authorization request parameters (OIDC Core
// §3.1.2.1) the provider reads; they round-trip through the login form.
func authzParams() []string {
	return []string{
		"client_id", "redirect_uri", "response_type", "response_mode", "scope", "state", "nonce",
		"code_challenge", "code_challenge_method", "prompt", "max_age", "login_hint", "idp",
	}
}

// authzRequest is a parsed authorization request.
type authzRequest struct {
	client       Client
	redirectURI  string
	responseMode string
	scopes       []string
	state        string
	nonce        string
	challenge    string
	prompts      []string
	maxAge       int // -1: not sent
	loginHint    string
	raw          url.Values
}

// authCode is an issued authorization code and what it is bound to.
type authCode struct {
	server      string
	clientID    string
	redirectURI string
	challenge   string
	nonce       string
	scopes      []string
	userID      string
	authTime    time.Time
	expires     time.Time
	claims      map[string]any // a queued login's claims

	// Set at the first redemption; a second one revokes what the family
	// holds by then and anything issued into it later.
	used   bool
	family *tokenFamily
}

// redirectError is an error sent back to the client's redirect URI
// (RFC 6749 §4.1.2.1).
type redirectError struct {
	code, description string
}

// requestParams reads the parameters of a browser-facing endpoint that
// takes them in the query (GET, and HEAD when head is set) or as a form
// (POST), as OpenID Connect Core §3.1.2.1 allows; on failure it has shown
// an error page.
func (p *Provider) requestParams(w http.ResponseWriter, r *http.Request, endpoint string, head bool) (url.Values, bool) {
	switch {
	case r.Method == http.MethodGet, head && r.Method == http.MethodHead:
		return r.URL.Query(), true
	case r.Method == http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			p.errorPage(w, http.StatusBadRequest, errInvalidRequest, "The request body could not be read as a form.")
			return nil, false
		}
		return r.PostForm, true
	default:
		w.Header().Set("Allow", "GET, POST")
		p.errorPage(w, http.StatusMethodNotAllowed, errInvalidRequest, "The "+endpoint+" endpoint accepts only GET and POST.")
		return nil, false
	}
}

func (p *Provider) handleAuthorize(as *authServer) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		params, ok := p.requestParams(w, r, "authorize", true)
		if !ok {
			return
		}
		req, ok := p.parseClient(w, r, params)
		if !ok {
			return
		}
		if rerr := p.validateAuthz(req, params); rerr != nil {
			p.redirect(w, req, url.Values{"error": {rerr.code}, "error_description": {rerr.description}})
			return
		}

		// A POST carrying username is the login form coming back.
		if r.Method == http.MethodPost && params.Has("username") {
			p.login(w, r, as, req)
			return
		}

		// A queued login signs in at once, whatever prompt and max_age say
		// (a HEAD, which shows nothing, leaves it queued).
		if ql, ok := p.queuedLogin(r, req.client.ID); ok {
			if user, found := p.dir.User(r.Context(), ql.userID); found {
				sess := p.startSession(w, user.ID)
				p.log.InfoContext(r.Context(), "op: queued login", "user", user.ID, "client", req.client.ID)
				p.signIn(w, r, as, req, user, sess.authTime, ql.claims)
				return
			}
			p.log.WarnContext(r.Context(), "op: queued login dropped: user no longer active", "user", ql.userID)
		}

		sess := p.session(r)
		needLogin := sess == nil || slices.Contains(req.prompts, "login") || req.maxAge == 0 ||
			(req.maxAge > 0 && tooOld(p.now(), sess.authTime, req.maxAge))
		var user User
		if !needLogin {
			var found bool
			user, found = p.dir.User(r.Context(), sess.userID)
			needLogin = !found
		}
		if needLogin {
			if slices.Contains(req.prompts, "none") {
				p.redirect(w, req, url.Values{"error": {errLoginRequired}, "error_description": {"The client specified not to prompt, but the user is not logged in."}})
				return
			}
			p.loginForm(w, r, req, http.StatusOK, "", req.loginHint)
			return
		}
		p.signIn(w, r, as, req, user, sess.authTime, nil)
	}
}

// queuedLogin takes the queued login for a GET or POST authorization
// request of clientID.
func (p *Provider) queuedLogin(r *http.Request, clientID string) (queuedLogin, bool) {
	if r.Method == http.MethodHead {
		return queuedLogin{}, false
	}
	return p.ctl.takeLogin(clientID)
}

// parseClient checks client_id and redirect_uri. Until both are known good
// every error is an HTML page: redirecting to an unchecked URI would make
// the provider an open redirector (RFC 6749 §4.1.2.1).
func (p *Provider) parseClient(w http.ResponseWriter, r *http.Request, params url.Values) (*authzRequest, bool) {
	for _, k := range []string{"client_id", "redirect_uri"} {
		if len(params[k]) > 1 {
			p.errorPage(w, http.StatusBadRequest, errInvalidRequest, "The '"+k+"' parameter was sent more than once.")
			return nil, false
		}
	}
	clientID := params.Get("client_id")
	if clientID == "" {
		p.errorPage(w, http.StatusBadRequest, errInvalidRequest, "The 'client_id' parameter is required.")
		return nil, false
	}
	client, ok := p.dir.Client(r.Context(), clientID)
	if !ok {
		p.errorPage(w, http.StatusBadRequest, errInvalidClient, "Invalid value for 'client_id' parameter.")
		return nil, false
	}
	setClientID(w, client.ID)
	p.noteClient(client)
	redirectURI := params.Get("redirect_uri")
	if redirectURI == "" {
		p.errorPage(w, http.StatusBadRequest, errInvalidRequest, "The 'redirect_uri' parameter is required.")
		return nil, false
	}
	if !slices.Contains(client.RedirectURIs, redirectURI) {
		p.errorPage(w, http.StatusBadRequest, errInvalidRequest, "The 'redirect_uri' parameter must be a Login redirect URI in the client app settings.")
		return nil, false
	}
	if _, err := url.Parse(redirectURI); err != nil {
		p.errorPage(w, http.StatusBadRequest, errInvalidRequest, "The registered 'redirect_uri' is not a valid URI.")
		return nil, false
	}
	req := &authzRequest{client: client, redirectURI: redirectURI, responseMode: "query", maxAge: -1, raw: url.Values{}}
	for _, k := range authzParams() {
		if v := params[k]; len(v) > 0 {
			req.raw[k] = []string{v[0]}
		}
	}
	// The response mode decides how even errors travel, so read it first;
	// an unknown mode is reported through the query.
	switch m := params.Get("response_mode"); m {
	case "", "query":
	case "fragment", "form_post":
		req.responseMode = m
	}
	req.state = params.Get("state")
	return req, true
}

// validateAuthz checks the rest of the request against RFC 6749 §4.1.1,
// RFC 7636 §4.3 and OIDC Core §3.1.2.1, in Okta's order.
func (p *Provider) validateAuthz(req *authzRequest, params url.Values) *redirectError {
	for _, k := range authzParams() {
		if len(params[k]) > 1 {
			return &redirectError{errInvalidRequest, "The '" + k + "' parameter was sent more than once."}
		}
	}
	switch m := params.Get("response_mode"); m {
	case "", "query", "fragment", "form_post":
	default:
		return &redirectError{"unsupported_response_mode", "The response mode '" + m + "' is not supported by this mock."}
	}
	rt := params.Get("response_type")
	if rt == "" {
		return &redirectError{errInvalidRequest, "The 'response_type' parameter is required."}
	}
	if rt != "code" {
		return &redirectError{errUnsupportedResponseType, "The response type '" + rt + "' is not supported; use 'code'."}
	}
	if !allowsGrant(req.client, "authorization_code") {
		return &redirectError{errUnauthorizedClient, "The client is not authorized to use the provided grant type. Configured grant types: " + strings.Join(req.client.GrantTypes, ", ") + "."}
	}
	req.scopes = strings.Fields(params.Get("scope"))
	if len(req.scopes) == 0 {
		return &redirectError{errInvalidScope, "The authorization request must include the 'openid' scope."}
	}
	for _, s := range req.scopes {
		if !slices.Contains(scopesSupported(), s) {
			return &redirectError{errInvalidScope, "One or more scopes are not configured for the authorization server resource."}
		}
	}
	if !slices.Contains(req.scopes, "openid") {
		return &redirectError{errInvalidScope, "The authorization request must include the 'openid' scope."}
	}
	req.challenge = params.Get("code_challenge")
	method := params.Get("code_challenge_method")
	switch {
	case method != "" && method != "S256":
		return &redirectError{errInvalidRequest, "The 'code_challenge_method' parameter must be 'S256'."}
	case method != "" && req.challenge == "":
		return &redirectError{errInvalidRequest, "The 'code_challenge' parameter is required with 'code_challenge_method'."}
	case req.challenge != "" && method == "":
		return &redirectError{errInvalidRequest, "The 'code_challenge_method' parameter is required; only 'S256' is supported."}
	case req.challenge != "" && !validPKCE(req.challenge):
		return &redirectError{errInvalidRequest, "The 'code_challenge' parameter must be 43 to 128 unreserved characters."}
	case req.challenge == "" && authMethod(req.client) == AuthMethodNone:
		return &redirectError{errInvalidRequest, "PKCE code challenge is required when the token endpoint authentication method is 'NONE'."}
	}
	for _, pr := range strings.Fields(params.Get("prompt")) {
		if pr != "none" && pr != "login" && pr != "consent" {
			return &redirectError{errInvalidRequest, "The 'prompt' parameter must be 'none', 'login' or 'consent'."}
		}
		req.prompts = append(req.prompts, pr)
	}
	if slices.Contains(req.prompts, "none") && len(req.prompts) > 1 {
		return &redirectError{errInvalidRequest, "The 'prompt' value 'none' cannot be combined with other values."}
	}
	if ma := params.Get("max_age"); ma != "" {
		n, err := strconv.Atoi(ma)
		if err != nil || n < 0 {
			return &redirectError{errInvalidRequest, "The 'max_age' parameter must be a non-negative integer."}
		}
		req.maxAge = n
	}
	req.nonce = params.Get("nonce")
	req.loginHint = params.Get("login_hint")
	return nil
}

// login handles the login form's POST.
func (p *Provider) login(w http.ResponseWriter, r *http.Request, as *authServer, req *authzRequest) {
	username := strings.TrimSpace(r.PostForm.Get("username"))
	password := r.PostForm.Get("password")
	if username == "" || password == "" {
		p.loginForm(w, r, req, http.StatusUnauthorized, "Unable to sign in", username)
		return
	}
	user, err := p.dir.Authenticate(r.Context(), username, password)
	if err != nil {
		p.log.InfoContext(r.Context(), "op: sign-in refused", "login", username, "err", err)
		p.loginForm(w, r, req, http.StatusUnauthorized, "Unable to sign in", username)
		return
	}
	sess := p.startSession(w, user.ID)
	p.log.InfoContext(r.Context(), "op: signed in", "user", user.ID, "client", req.client.ID)
	p.signIn(w, r, as, req, user, sess.authTime, nil)
}

// loginForm renders the sign-in page; the authorization request rides in
// hidden fields so the POST can be validated again.
func (p *Provider) loginForm(w http.ResponseWriter, r *http.Request, req *authzRequest, status int, msg, username string) {
	var hidden []field
	for _, k := range authzParams() {
		if k == "prompt" || k == "max_age" {
			continue // answered by this very sign-in
		}
		if v := req.raw.Get(k); v != "" {
			hidden = append(hidden, field{k, v})
		}
	}
	p.render(w, status, "login", map[string]any{
		"Action":   r.URL.Path,
		"Hidden":   hidden,
		"Error":    msg,
		"Username": username,
	})
}

// errUserNotAssigned is Okta's error_description for a user who signed in
// but is not assigned to the client's app.
const errUserNotAssigned = "User is not assigned to the client application."

// signIn ends an authorization request for a signed-in user: a code for a
// user assigned to the client, else Okta's access_denied (Assignments).
func (p *Provider) signIn(w http.ResponseWriter, r *http.Request, as *authServer, req *authzRequest, user User, authTime time.Time, claims map[string]any) {
	if a, ok := p.dir.(Assignments); ok && !a.Assigned(r.Context(), req.client.ID, user.ID) {
		p.log.InfoContext(r.Context(), "op: user not assigned to the app", "user", user.ID, "client", req.client.ID)
		p.redirect(w, req, url.Values{"error": {errAccessDenied}, "error_description": {errUserNotAssigned}})
		return
	}
	p.issueCode(w, as, req, user, authTime, claims)
}

// issueCode stores a code and sends it to the redirect URI.
func (p *Provider) issueCode(w http.ResponseWriter, as *authServer, req *authzRequest, user User, authTime time.Time, claims map[string]any) {
	code := randomID(43)
	now := p.now()
	p.mu.Lock()
	if s := &p.sweeps[sweepCodes]; s.due(now, len(p.codes)) {
		for k, c := range p.codes {
			// Kept past expiry while its tokens live, so a replay can revoke them.
			if now.After(c.expires.Add(tokenLifetime)) {
				delete(p.codes, k)
			}
		}
		s.done(now, len(p.codes))
	}
	p.codes[code] = &authCode{
		server:      as.id,
		clientID:    req.client.ID,
		redirectURI: req.redirectURI,
		challenge:   req.challenge,
		nonce:       req.nonce,
		scopes:      req.scopes,
		userID:      user.ID,
		authTime:    authTime,
		expires:     now.Add(codeLifetime),
		claims:      claims,
	}
	p.mu.Unlock()
	p.redirect(w, req, url.Values{"code": {code}})
}

// redirect sends response parameters to the client by the request's
// response mode, always echoing state.
func (p *Provider) redirect(w http.ResponseWriter, req *authzRequest, v url.Values) {
	if req.state != "" {
		v.Set("state", req.state)
	}
	if req.responseMode == "form_post" {
		if !safeFormAction(req.redirectURI) {
			p.errorPage(w, http.StatusBadRequest, errInvalidRequest, "The registered 'redirect_uri' cannot receive a form_post response: its scheme is not http or https.")
			return
		}
		var fields []field
		for _, k := range []string{"code", "error", "error_description", "state"} {
			if v.Has(k) {
				fields = append(fields, field{k, v.Get(k)})
			}
		}
		p.render(w, http.StatusOK, "form_post", map[string]any{
			// Registered and exactly matched in parseClient.
			"Action": template.URL(req.redirectURI),
			"Fields": fields,
		})
		return
	}
	u, err := url.Parse(req.redirectURI)
	if err != nil {
		p.errorPage(w, http.StatusBadRequest, errInvalidRequest, "The registered 'redirect_uri' is not a valid URI.")
		return
	}
	var loc string
	if req.responseMode == "fragment" {
		u.Fragment, u.RawFragment = "", ""
		loc = u.String() + "#" + v.Encode()
	} else {
		q := u.Query()
		for k, vs := range v {
			q[k] = vs
		}
		u.RawQuery = q.Encode()
		loc = u.String()
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", loc)
	w.WriteHeader(http.StatusFound)
}

// safeFormAction reports whether a registered redirect URI may be the
// action of the auto-submitted form_post page, where it is marked as a
// trusted URL: only http and https, so a registration such as
// "javascript://…" can never run script on the provider's origin.
func safeFormAction(uri string) bool {
	u, err := url.Parse(uri)
	if err != nil {
		return false
	}
	s := strings.ToLower(u.Scheme)
	return s == "http" || s == "https"
}

// tooOld reports whether a sign-in at authTime is more than maxAge seconds
// before now (OIDC Core §3.1.2.1 max_age). It compares whole seconds, so
// a max_age of billions of years means "no limit" instead of overflowing
// a time.Duration into a negative one that forces a new sign-in.
func tooOld(now, authTime time.Time, maxAge int) bool {
	return int64(now.Sub(authTime)/time.Second) > int64(maxAge)
}

// validPKCE reports whether s is 43–128 characters of RFC 7636 §4.1's
// unreserved set.
func validPKCE(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

func authMethod(c Client) string {
	if c.AuthMethod == "" {
		return AuthMethodBasic
	}
	return c.AuthMethod
}

func allowsGrant(c Client, grant string) bool {
	if len(c.GrantTypes) == 0 {
		return grant == "authorization_code"
	}
	return slices.Contains(c.GrantTypes, grant)
}
