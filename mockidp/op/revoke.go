package op

import (
	"net/http"
	"strings"
)

// readClientForm checks the method, parses the form and authenticates the
// client of a revocation or introspection request.
func (p *Provider) readClientForm(w http.ResponseWriter, r *http.Request) (Client, string, bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeOAuthError(w, http.StatusMethodNotAllowed, errInvalidRequest, "This endpoint accepts only POST.")
		return Client{}, "", false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, errInvalidRequest, "The request body must be application/x-www-form-urlencoded.")
		return Client{}, "", false
	}
	client, terr := p.authenticateClient(r)
	if terr != nil {
		terr.write(w)
		return Client{}, "", false
	}
	setClientID(w, client.ID)
	token := r.PostForm.Get("token")
	if token == "" {
		writeOAuthError(w, http.StatusBadRequest, errInvalidRequest, "The 'token' parameter is required.")
		return Client{}, "", false
	}
	return client, token, true
}

// handleRevoke serves RFC 7009 §2: refresh tokens and access tokens of the
// calling client are revoked; anything else is ignored with 200 (§2.2).
func (p *Provider) handleRevoke(as *authServer) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		client, token, ok := p.readClientForm(w, r)
		if !ok {
			return
		}
		now := p.now()
		p.mu.Lock()
		if g, ok := p.refresh[token]; ok && g.clientID == client.ID && g.server == as.id {
			delete(p.refresh, token)
		}
		p.mu.Unlock()
		if at, ok := p.verifyAccessToken(as, token); ok && at.clientID == client.ID {
			p.mu.Lock()
			p.revokeLocked(at.jti, "", now)
			p.mu.Unlock()
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
	}
}

// handleIntrospect serves RFC 7662 §2 for access and refresh tokens; a
// token of another client, server or an unknown one is {"active":false}.
func (p *Provider) handleIntrospect(as *authServer) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		client, token, ok := p.readClientForm(w, r)
		if !ok {
			return
		}
		inactive := map[string]any{"active": false}
		if at, ok := p.verifyAccessToken(as, token); ok {
			if at.clientID != client.ID {
				writeJSON(w, http.StatusOK, inactive)
				return
			}
			sub, _ := at.claims["sub"].(string)
			body := map[string]any{
				"active":     true,
				"scope":      strings.Join(at.scopes, " "),
				"username":   sub,
				"exp":        at.exp,
				"iat":        at.iat,
				"sub":        sub,
				"aud":        at.claims["aud"],
				"iss":        at.claims["iss"],
				"jti":        at.jti,
				"token_type": "Bearer",
				"client_id":  at.clientID,
			}
			if at.userID != "" {
				body["uid"] = at.userID
			}
			writeJSON(w, http.StatusOK, body)
			return
		}
		now := p.now()
		p.mu.Lock()
		g, ok := p.refresh[token]
		var cp grant
		if ok {
			cp = *g
		}
		p.mu.Unlock()
		if !ok || cp.clientID != client.ID || cp.server != as.id || now.After(cp.expires) {
			writeJSON(w, http.StatusOK, inactive)
			return
		}
		body := map[string]any{
			"active":     true,
			"scope":      strings.Join(cp.scopes, " "),
			"exp":        cp.expires.Unix(),
			"client_id":  cp.clientID,
			"uid":        cp.userID,
			"token_type": "refresh_token",
			"iss":        p.issuer(as),
		}
		if u, ok := p.dir.User(r.Context(), cp.userID); ok {
			body["username"], body["sub"] = u.Login, u.Login
		}
		writeJSON(w, http.StatusOK, body)
	}
}
