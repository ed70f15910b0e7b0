package op

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// accessToken is a verified access token's claims of interest. userID is
// empty for a client credentials token.
type accessToken struct {
	jti, clientID, userID string
	scopes                []string
	exp, iat              int64
	claims                map[string]any
}

// verifyAccessToken checks signature (RS256 only), issuer, expiry, type
// and revocation. A token either has a user (uid) or is the client's own
// (client credentials: no uid, sub equal to cid).
func (p *Provider) verifyAccessToken(as *authServer, raw string) (*accessToken, bool) {
	claims, err := p.keys.verifyAlgs(raw, jose.RS256)
	if err != nil {
		return nil, false
	}
	at := &accessToken{claims: claims}
	at.jti, _ = claims["jti"].(string)
	at.clientID, _ = claims["cid"].(string)
	at.userID, _ = claims["uid"].(string)
	sub, _ := claims["sub"].(string)
	iss, _ := claims["iss"].(string)
	exp, _ := claims["exp"].(float64)
	iat, _ := claims["iat"].(float64)
	at.exp, at.iat = int64(exp), int64(iat)
	if !strings.HasPrefix(at.jti, "AT.") || at.clientID == "" || iss != p.issuer(as) || p.now().Unix() >= at.exp {
		return nil, false
	}
	if _, hasUID := claims["uid"]; hasUID && at.userID == "" || !hasUID && sub != at.clientID {
		return nil, false
	}
	if scp, ok := claims["scp"].([]any); ok {
		for _, s := range scp {
			if str, ok := s.(string); ok {
				at.scopes = append(at.scopes, str)
			}
		}
	}
	p.mu.Lock()
	_, revoked := p.revoked[at.jti]
	p.mu.Unlock()
	if revoked {
		return nil, false
	}
	return at, true
}

const tokenInvalid = "The access token is invalid"

// handleUserinfo serves OIDC Core §5.3 with RFC 6750 bearer tokens from
// the Authorization header (§2.1) or a form body (§2.2); like Okta it
// refuses the query parameter of §2.3.
func (p *Provider) handleUserinfo(as *authServer) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			w.Header().Set("Allow", "GET, POST")
			writeOAuthError(w, http.StatusMethodNotAllowed, errInvalidRequest, "The userinfo endpoint accepts only GET and POST.")
			return
		}
		if r.URL.Query().Has("access_token") {
			p.bearerError(w, as, http.StatusBadRequest, errInvalidRequest, "The access token cannot be presented in a query string.")
			return
		}
		var raw string
		scheme, value, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if strings.EqualFold(scheme, "Bearer") {
			raw = strings.TrimSpace(value)
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if err := r.ParseForm(); err != nil {
				p.bearerError(w, as, http.StatusBadRequest, errInvalidRequest, "The request body could not be read as a form.")
				return
			}
			if r.PostForm.Has("access_token") {
				if raw != "" {
					p.bearerError(w, as, http.StatusBadRequest, errInvalidRequest, "The access token was sent more than once.")
					return
				}
				raw = r.PostForm.Get("access_token")
			}
		}
		if raw == "" {
			p.bearerError(w, as, http.StatusUnauthorized, errInvalidRequest, "The access token is missing.")
			return
		}
		at, ok := p.verifyAccessToken(as, raw)
		if !ok || at.userID == "" {
			p.bearerError(w, as, http.StatusUnauthorized, errInvalidToken, tokenInvalid)
			return
		}
		setClientID(w, at.clientID)
		if !slices.Contains(at.scopes, "openid") {
			p.bearerError(w, as, http.StatusForbidden, errInsufficientScope, "The access token must provide access to at least one of these scopes - openid")
			return
		}
		body, ok := p.userinfo(r.Context(), at)
		if !ok {
			p.bearerError(w, as, http.StatusUnauthorized, errInvalidToken, tokenInvalid)
			return
		}
		p.userinfoFault(body)
		writeJSON(w, http.StatusOK, body)
	}
}

// userinfo is the UserInfo body: sub, the scope claims and a queued
// login's claims.
func (p *Provider) userinfo(ctx context.Context, at *accessToken) (map[string]any, bool) {
	u, ok := p.dir.User(ctx, at.userID)
	if !ok {
		return nil, false
	}
	body := userClaims(u, at.scopes)
	body["sub"] = u.ID
	p.mu.Lock()
	x := p.extra[at.jti]
	p.mu.Unlock()
	if x != nil {
		mergeClaims(body, x.claims)
	}
	return body, true
}

// bearerError writes an RFC 6750 §3 error with its WWW-Authenticate
// header in Okta's shape: authorization_uri, realm (the org URL), scope,
// error, error_description and resource (the endpoint's path).
func (p *Provider) bearerError(w http.ResponseWriter, as *authServer, status int, code, description string) {
	base := p.base()
	w.Header().Set("WWW-Authenticate", `Bearer authorization_uri="`+base+as.endpoint("authorize")+`", realm="`+base+
		`", scope="openid", error="`+quotable(code)+`", error_description="`+quotable(description)+
		`", resource="`+as.endpoint("userinfo")+`"`)
	writeOAuthError(w, status, code, description)
}

// quotable makes s safe inside a quoted-string of WWW-Authenticate
// (RFC 9110 §5.6.4) the way Okta writes them, without escapes: '"' becomes
// "'", a backslash becomes '/', and control characters become spaces. Only
// queued errors carry such characters; the provider's own texts have none.
func quotable(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '"':
			return '\''
		case r == '\\':
			return '/'
		case r < 0x20 || r == 0x7f:
			return ' '
		}
		return r
	}, s)
}
