package op

import (
	"context"
	"net/http"
	"slices"
	"strings"
)

// accessToken is a verified access token's claims of interest.
type accessToken struct {
	jti, clientID, userID string
	scopes                []string
	exp, iat              int64
	claims                map[string]any
}

// verifyAccessToken checks signature, issuer, expiry, type and revocation.
func (p *Provider) verifyAccessToken(as *authServer, raw string) (*accessToken, bool) {
	claims, err := p.keys.verify(raw)
	if err != nil {
		return nil, false
	}
	at := &accessToken{claims: claims}
	at.jti, _ = claims["jti"].(string)
	at.clientID, _ = claims["cid"].(string)
	at.userID, _ = claims["uid"].(string)
	iss, _ := claims["iss"].(string)
	exp, _ := claims["exp"].(float64)
	iat, _ := claims["iat"].(float64)
	at.exp, at.iat = int64(exp), int64(iat)
	if !strings.HasPrefix(at.jti, "AT.") || at.userID == "" || iss != p.issuer(as) || p.now().Unix() >= at.exp {
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

// handleUserinfo serves OIDC Core §5.3 with RFC 6750 bearer tokens from
// the Authorization header (§2.1) or a form body (§2.2).
func (p *Provider) handleUserinfo(as *authServer) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			w.Header().Set("Allow", "GET, POST")
			writeOAuthError(w, http.StatusMethodNotAllowed, errInvalidRequest, "The userinfo endpoint accepts only GET and POST.")
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
				bearerError(w, http.StatusBadRequest, errInvalidRequest, "The request body could not be read as a form.")
				return
			}
			if r.PostForm.Has("access_token") {
				if raw != "" {
					bearerError(w, http.StatusBadRequest, errInvalidRequest, "The access token was sent more than once.")
					return
				}
				raw = r.PostForm.Get("access_token")
			}
		}
		if raw == "" {
			bearerError(w, http.StatusUnauthorized, errInvalidRequest, "The access token is missing.")
			return
		}
		at, ok := p.verifyAccessToken(as, raw)
		if !ok {
			bearerError(w, http.StatusUnauthorized, errInvalidToken, "The access token is invalid")
			return
		}
		if !slices.Contains(at.scopes, "openid") {
			bearerError(w, http.StatusForbidden, errInsufficientScope, "The access token must provide access to at least one of these scopes - openid")
			return
		}
		body, ok := p.userinfo(r.Context(), at)
		if !ok {
			bearerError(w, http.StatusUnauthorized, errInvalidToken, "The access token is invalid")
			return
		}
		p.userinfoFault(body)
		writeJSON(w, http.StatusOK, body)
	}
}

func (p *Provider) userinfo(ctx context.Context, at *accessToken) (map[string]any, bool) {
	u, ok := p.dir.User(ctx, at.userID)
	if !ok {
		return nil, false
	}
	body := userClaims(u, at.scopes)
	body["sub"] = u.ID
	if _, ok := body["email"]; ok {
		body["email_verified"] = true
	}
	return body, true
}

// bearerError writes an RFC 6750 §3 error with its WWW-Authenticate header.
func bearerError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("WWW-Authenticate", `Bearer error="`+code+`", error_description="`+description+`"`)
	writeOAuthError(w, status, code, description)
}
