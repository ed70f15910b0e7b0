package op

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// tokenResponse is the RFC 6749 §5.1 / OIDC Core §3.1.3.3 token response.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	Scope        string `json:"scope"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
}

// grant is a refresh token's grant.
type grant struct {
	server   string
	clientID string
	userID   string
	scopes   []string
	authTime time.Time
	expires  time.Time
	claims   map[string]any // a queued login's claims
	family   *tokenFamily   // the code it came from
}

// tokenFamily is everything one authorization code issued: the access
// tokens of its redemption and of every refresh of its refresh token, and
// that refresh token. A second redemption of the code revokes the family
// (RFC 6749 §4.1.2, §10.5), including tokens a redemption still in flight
// adds afterwards: two concurrent redemptions of one code leave one
// success whose tokens are revoked. Guarded by Provider.mu.
type tokenFamily struct {
	jtis    map[string]time.Time // access token jti → its expiry
	refresh string
	revoked bool
}

// addToFamilyLocked records tokens issued into the family, or revokes them at once
// when the family is revoked already; p.mu is held.
func (p *Provider) addToFamilyLocked(f *tokenFamily, jti, refreshToken string, now time.Time) {
	if f == nil {
		return
	}
	if f.revoked {
		p.revokeLocked(jti, refreshToken, now)
		return
	}
	for k, exp := range f.jtis {
		if now.After(exp) {
			delete(f.jtis, k)
		}
	}
	if jti != "" {
		f.jtis[jti] = now.Add(tokenLifetime)
	}
	if refreshToken != "" {
		f.refresh = refreshToken
	}
}

// revokeFamilyLocked revokes every live token of the family; p.mu is held.
func (p *Provider) revokeFamilyLocked(f *tokenFamily, now time.Time) {
	if f == nil || f.revoked {
		return
	}
	f.revoked = true
	for jti, exp := range f.jtis {
		if !now.After(exp) {
			p.revokeLocked(jti, "", now)
		}
	}
	p.revokeLocked("", f.refresh, now)
	f.jtis = nil
}

const (
	codeInvalid    = "The authorization code is invalid or has expired."
	refreshInvalid = "The refresh token is invalid or expired."
	pkceFailed     = "PKCE verification failed."
)

func (p *Provider) handleToken(as *authServer) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			writeOAuthError(w, http.StatusMethodNotAllowed, errInvalidRequest, "The token endpoint accepts only POST.")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			writeOAuthError(w, http.StatusBadRequest, errInvalidRequest, "The request body must be application/x-www-form-urlencoded.")
			return
		}
		// RFC 6749 §3.1: parameters must not be sent more than once.
		for _, k := range []string{"grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "scope"} {
			if len(r.PostForm[k]) > 1 {
				writeOAuthError(w, http.StatusBadRequest, errInvalidRequest, "The '"+k+"' parameter was sent more than once.")
				return
			}
		}
		client, terr := p.authenticateClient(r)
		if terr != nil {
			terr.write(w)
			return
		}
		setClientID(w, client.ID)
		p.noteClient(client)
		var resp *tokenResponse
		switch gt := r.PostForm.Get("grant_type"); gt {
		case "":
			terr = &tokenError{http.StatusBadRequest, errInvalidRequest, "The 'grant_type' parameter is required.", false}
		case "client_credentials":
			_, _, hasBasic, _ := basicAuth(r)
			switch {
			case !allowsGrant(client, gt):
				terr = &tokenError{http.StatusBadRequest, errUnauthorizedClient, "The client is not authorized to use the provided grant type.", false}
			case authMethod(client) == AuthMethodNone:
				terr = &tokenError{http.StatusBadRequest, errUnauthorizedClient, "The client_credentials grant is only for confidential clients.", false}
			case as.id == "":
				// Okta's org server takes this grant only with private_key_jwt,
				// which this mock does not accept.
				terr = &tokenError{http.StatusUnauthorized, errInvalidClient, "Client Credentials requests to the Org Authorization Server must use the private_key_jwt token_endpoint_auth_method.", hasBasic}
			default:
				resp, terr = p.clientCredentialsGrant(as, client, r)
			}
		case "authorization_code", "refresh_token":
			if !allowsGrant(client, gt) {
				terr = &tokenError{http.StatusBadRequest, errUnauthorizedClient, "The client is not authorized to use the provided grant type.", false}
				break
			}
			if gt == "authorization_code" {
				resp, terr = p.codeGrant(r.Context(), as, client, r)
			} else {
				resp, terr = p.refreshGrant(r.Context(), as, client, r)
			}
		default:
			terr = &tokenError{http.StatusBadRequest, errUnsupportedGrantType, "The authorization grant type '" + gt + "' is not supported by this mock.", false}
		}
		if terr != nil {
			p.log.InfoContext(r.Context(), "op: token refused", "client", client.ID, "error", terr.code, "description", terr.description)
			terr.write(w)
			return
		}
		writeJSON(w, http.StatusOK, resp)
	}
}

// codeGrant redeems an authorization code (RFC 6749 §4.1.3, RFC 7636 §4.6).
// A code works once; a second redemption also revokes what the first
// issued (RFC 6749 §4.1.2), even when the first is still being answered.
func (p *Provider) codeGrant(ctx context.Context, as *authServer, client Client, r *http.Request) (*tokenResponse, *tokenError) {
	form := r.PostForm
	codeValue := form.Get("code")
	if codeValue == "" {
		return nil, &tokenError{http.StatusBadRequest, errInvalidRequest, "The 'code' parameter is required.", false}
	}
	now := p.now()
	p.mu.Lock()
	code, ok := p.codes[codeValue]
	if ok && code.used {
		delete(p.codes, codeValue)
		p.revokeFamilyLocked(code.family, now)
		ok = false
	}
	var family *tokenFamily
	if ok {
		code.used = true
		family = &tokenFamily{jtis: map[string]time.Time{}}
		code.family = family
	}
	p.mu.Unlock()
	if !ok || now.After(code.expires) || code.server != as.id || code.clientID != client.ID {
		return nil, &tokenError{http.StatusBadRequest, errInvalidGrant, codeInvalid, false}
	}
	if form.Get("redirect_uri") != code.redirectURI {
		return nil, &tokenError{http.StatusBadRequest, errInvalidGrant, "The 'redirect_uri' does not match the redirection URI used in the authorization request.", false}
	}
	verifier := form.Get("code_verifier")
	switch {
	case code.challenge == "" && verifier != "":
		return nil, &tokenError{http.StatusBadRequest, errInvalidGrant, pkceFailed, false}
	case code.challenge != "":
		if !validPKCE(verifier) {
			return nil, &tokenError{http.StatusBadRequest, errInvalidGrant, pkceFailed, false}
		}
		sum := sha256.Sum256([]byte(verifier))
		if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(code.challenge)) != 1 {
			return nil, &tokenError{http.StatusBadRequest, errInvalidGrant, pkceFailed, false}
		}
	}
	user, found := p.dir.User(ctx, code.userID)
	if !found {
		return nil, &tokenError{http.StatusBadRequest, errInvalidGrant, codeInvalid, false}
	}
	resp, jti, err := p.mint(as, client, user, code.scopes, code.authTime, code.nonce, code.claims, family)
	if err != nil {
		return nil, &tokenError{http.StatusInternalServerError, "server_error", "The tokens could not be signed.", false}
	}
	p.mu.Lock()
	p.addToFamilyLocked(family, jti, resp.RefreshToken, p.now())
	p.mu.Unlock()
	return resp, nil
}

// refreshGrant serves RFC 6749 §6. Refresh tokens are not rotated, which is
// Okta's default.
func (p *Provider) refreshGrant(ctx context.Context, as *authServer, client Client, r *http.Request) (*tokenResponse, *tokenError) {
	form := r.PostForm
	rt := form.Get("refresh_token")
	if rt == "" {
		return nil, &tokenError{http.StatusBadRequest, errInvalidRequest, "The 'refresh_token' parameter is required.", false}
	}
	now := p.now()
	p.mu.Lock()
	g, ok := p.refresh[rt]
	if ok && now.After(g.expires) {
		delete(p.refresh, rt)
		ok = false
	}
	p.mu.Unlock()
	if !ok || g.server != as.id || g.clientID != client.ID {
		return nil, &tokenError{http.StatusBadRequest, errInvalidGrant, refreshInvalid, false}
	}
	scopes := g.scopes
	if s := form.Get("scope"); s != "" {
		scopes = strings.Fields(s)
		if len(scopes) == 0 {
			return nil, &tokenError{http.StatusBadRequest, errInvalidScope, "The requested scope is invalid, unknown, or malformed.", false}
		}
		for _, sc := range scopes {
			if !slices.Contains(g.scopes, sc) {
				return nil, &tokenError{http.StatusBadRequest, errInvalidScope, "The requested scope is invalid, unknown, or malformed.", false}
			}
		}
	}
	user, found := p.dir.User(ctx, g.userID)
	if !found {
		return nil, &tokenError{http.StatusBadRequest, errInvalidGrant, refreshInvalid, false}
	}
	resp, jti, err := p.mint(as, client, user, scopes, g.authTime, "", g.claims, g.family)
	if err != nil {
		return nil, &tokenError{http.StatusInternalServerError, "server_error", "The tokens could not be signed.", false}
	}
	p.mu.Lock()
	if resp.RefreshToken != "" {
		// Keep the one refresh token; drop the fresh one mint stored.
		delete(p.refresh, resp.RefreshToken)
	}
	// A replay of the code may have revoked the family meanwhile; then the
	// refresh token is gone and the new access token is revoked at once.
	p.addToFamilyLocked(g.family, jti, "", p.now())
	p.mu.Unlock()
	resp.RefreshToken = rt
	return resp, nil
}

// clientCredentialsGrant serves RFC 6749 §4.4 on a custom server: an
// access token for the client itself (sub and cid are its id, no uid), no
// ID token, no refresh token (§4.4.3). Custom servers here have no scope
// configuration, so the scope is required (there are no default scopes)
// and may hold any RFC 6749 §3.3 scope token except the OpenID Connect
// scopes, which need a user.
func (p *Provider) clientCredentialsGrant(as *authServer, client Client, r *http.Request) (*tokenResponse, *tokenError) {
	raw := r.PostForm.Get("scope")
	if strings.TrimSpace(raw) == "" {
		return nil, &tokenError{http.StatusBadRequest, errInvalidScope, "The 'scope' parameter is required: the authorization server has no default scopes.", false}
	}
	var scopes []string
	for _, s := range strings.Split(raw, " ") {
		if s == "" {
			continue
		}
		if !validScopeToken(s) {
			return nil, &tokenError{http.StatusBadRequest, errInvalidScope, "The requested scope is invalid, unknown, or malformed.", false}
		}
		if slices.Contains(scopesSupported(), s) {
			return nil, &tokenError{http.StatusBadRequest, errInvalidScope, "The scope '" + s + "' needs a user; the client_credentials grant has none.", false}
		}
		if !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	now := p.now()
	at, err := p.keys.sign(map[string]any{
		"ver": 1,
		"jti": "AT." + randomID(43),
		"iss": p.issuer(as),
		"aud": as.audience(p.base()),
		"iat": now.Unix(),
		"exp": now.Add(tokenLifetime).Unix(),
		"cid": client.ID,
		"scp": scopes,
		"sub": client.ID,
	})
	if err != nil {
		return nil, &tokenError{http.StatusInternalServerError, "server_error", "The tokens could not be signed.", false}
	}
	return &tokenResponse{AccessToken: at, TokenType: "Bearer", ExpiresIn: int(tokenLifetime.Seconds()), Scope: strings.Join(scopes, " ")}, nil
}

// validScopeToken reports whether s is an RFC 6749 §3.3 scope-token.
func validScopeToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e {
			return false
		}
	}
	return s != ""
}

// idTokenSigner returns the signer of a client's ID tokens by its
// SigningAlg.
func (p *Provider) idTokenSigner(client Client) (func(map[string]any) (string, error), error) {
	switch client.SigningAlg {
	case "", AlgRS256:
		return p.keys.sign, nil
	case AlgES256:
		k := p.keys.ec
		return func(c map[string]any) (string, error) { return signWith(k, c) }, nil
	default:
		return nil, fmt.Errorf("op: client %s asks for signing alg %q; want RS256 or ES256", client.ID, client.SigningAlg)
	}
}

// accessClaims are a user's access token claims, as Okta mints them.
func (p *Provider) accessClaims(as *authServer, client Client, user User, scopes []string, authTime, now time.Time) map[string]any {
	base := p.base()
	return map[string]any{
		"ver":       1,
		"jti":       "AT." + randomID(43),
		"iss":       base + as.root(),
		"aud":       as.audience(base),
		"iat":       now.Unix(),
		"exp":       now.Add(tokenLifetime).Unix(),
		"cid":       client.ID,
		"uid":       user.ID,
		"scp":       scopes,
		"auth_time": authTime.Unix(),
		"sub":       user.Login,
	}
}

// idClaims are the ID token claims (OIDC Core §2, §3.1.3.6, §5.4) for an
// access token at, before a queued login's claims and faults.
func (p *Provider) idClaims(as *authServer, client Client, user User, scopes []string, authTime, now time.Time, nonce, at string) map[string]any {
	id := map[string]any{
		"ver":       1,
		"jti":       "ID." + randomID(43),
		"iss":       p.base() + as.root(),
		"aud":       client.ID,
		"sub":       user.ID,
		"iat":       now.Unix(),
		"exp":       now.Add(tokenLifetime).Unix(),
		"auth_time": authTime.Unix(),
		"amr":       []string{"pwd"},
		"idp":       p.orgID,
		"at_hash":   atHash(at),
	}
	if nonce != "" {
		id["nonce"] = nonce
	}
	for k, v := range userClaims(user, scopes) {
		id[k] = v
	}
	return id
}

// mint signs an access token and an ID token, and stores a refresh token
// when offline_access was granted to a client allowed to refresh. extra
// (a queued login's claims) is merged into the ID token and kept for
// UserInfo. The refresh token joins family (nil: none). It returns the
// access token's jti.
func (p *Provider) mint(as *authServer, client Client, user User, scopes []string, authTime time.Time, nonce string, extra map[string]any, family *tokenFamily) (*tokenResponse, string, error) {
	signID, err := p.idTokenSigner(client)
	if err != nil {
		return nil, "", err
	}
	now := p.now()
	access := p.accessClaims(as, client, user, scopes, authTime, now)
	jti := access["jti"].(string)
	at, err := p.keys.sign(access)
	if err != nil {
		return nil, "", err
	}
	resp := &tokenResponse{
		AccessToken: at,
		TokenType:   "Bearer",
		ExpiresIn:   int(tokenLifetime.Seconds()),
		Scope:       strings.Join(scopes, " "),
	}
	if slices.Contains(scopes, "openid") {
		id := p.idClaims(as, client, user, scopes, authTime, now, nonce, at)
		mergeClaims(id, extra)
		if s := p.idTokenFault(client, id); s != nil {
			signID = s
		}
		if resp.IDToken, err = signID(id); err != nil {
			return nil, "", err
		}
	}
	offline := slices.Contains(scopes, "offline_access") && allowsGrant(client, "refresh_token")
	if !offline && len(extra) == 0 {
		return resp, jti, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(extra) > 0 {
		if s := &p.sweeps[sweepExtra]; s.due(now, len(p.extra)) {
			for k, x := range p.extra {
				if now.After(x.expires) {
					delete(p.extra, k)
				}
			}
			s.done(now, len(p.extra))
		}
		p.extra[jti] = &extraClaims{claims: extra, expires: now.Add(tokenLifetime)}
	}
	if offline {
		resp.RefreshToken = randomID(43)
		if s := &p.sweeps[sweepRefresh]; s.due(now, len(p.refresh)) {
			for k, g := range p.refresh {
				if now.After(g.expires) {
					delete(p.refresh, k)
				}
			}
			s.done(now, len(p.refresh))
		}
		p.refresh[resp.RefreshToken] = &grant{
			server: as.id, clientID: client.ID, userID: user.ID,
			scopes: scopes, authTime: authTime, expires: now.Add(refreshLifetime), claims: extra, family: family,
		}
	}
	return resp, jti, nil
}

// userClaims are the scope-dependent claims (OIDC Core §5.4) shared by the
// ID token and UserInfo.
func userClaims(u User, scopes []string) map[string]any {
	c := map[string]any{}
	if slices.Contains(scopes, "profile") {
		c["name"] = strings.TrimSpace(u.FirstName + " " + u.LastName)
		c["preferred_username"] = u.Login
		c["given_name"] = u.FirstName
		c["family_name"] = u.LastName
	}
	if slices.Contains(scopes, "email") {
		c["email"] = u.Email
		c["email_verified"] = true
	}
	if slices.Contains(scopes, "groups") {
		g := append([]string{}, u.Groups...)
		if len(g) > maxGroups {
			g = g[:maxGroups]
		}
		c["groups"] = g
	}
	return c
}

// revokeLocked revokes an access token by jti and a refresh token; p.mu is
// held.
func (p *Provider) revokeLocked(jti, refreshToken string, now time.Time) {
	if s := &p.sweeps[sweepRevoked]; s.due(now, len(p.revoked)) {
		for k, exp := range p.revoked {
			if now.After(exp) {
				delete(p.revoked, k)
			}
		}
		s.done(now, len(p.revoked))
	}
	if jti != "" {
		p.revoked[jti] = now.Add(tokenLifetime)
	}
	if refreshToken != "" {
		delete(p.refresh, refreshToken)
	}
}
