package op

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// handleLogout serves OpenID Connect RP-Initiated Logout 1.0 §2–§3 as Okta
// does: id_token_hint is required and verified (signature, issuer, an
// audience that is a known client; an expired hint is accepted, as the spec
// allows); post_logout_redirect_uri must be registered for that client;
// state is echoed. Every error is an HTML page.
func (p *Provider) handleLogout(as *authServer) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		params, ok := p.requestParams(w, r, "logout", false)
		if !ok {
			return
		}
		hint := params.Get("id_token_hint")
		if hint == "" {
			p.errorPage(w, http.StatusBadRequest, errInvalidRequest, "The 'id_token_hint' parameter is required.")
			return
		}
		claims, err := p.keys.verify(hint)
		jti, _ := claims["jti"].(string)
		iss, _ := claims["iss"].(string)
		aud, _ := claims["aud"].(string)
		if err != nil || !strings.HasPrefix(jti, "ID.") || iss != p.issuer(as) || aud == "" {
			p.errorPage(w, http.StatusBadRequest, errInvalidRequest, "The 'id_token_hint' parameter is not a valid ID token of this authorization server.")
			return
		}
		if cid := params.Get("client_id"); cid != "" && cid != aud {
			p.errorPage(w, http.StatusBadRequest, errInvalidRequest, "The 'client_id' parameter does not match the ID token's audience.")
			return
		}
		setClientID(w, aud)
		client, ok := p.dir.Client(r.Context(), aud)
		if !ok {
			p.errorPage(w, http.StatusBadRequest, errInvalidClient, "The client of the 'id_token_hint' is unknown.")
			return
		}
		target := params.Get("post_logout_redirect_uri")
		if target != "" && !slices.Contains(client.PostLogoutRedirectURIs, target) {
			p.errorPage(w, http.StatusBadRequest, errInvalidRequest, "The 'post_logout_redirect_uri' parameter must be a Logout redirect URI in the client app settings.")
			return
		}
		var u *url.URL
		if target != "" {
			if u, err = url.Parse(target); err != nil {
				p.errorPage(w, http.StatusBadRequest, errInvalidRequest, "The registered 'post_logout_redirect_uri' is not a valid URI.")
				return
			}
		}
		p.endSession(w, r)
		if u == nil {
			p.render(w, http.StatusOK, "signed_out", nil)
			return
		}
		if state := params.Get("state"); state != "" {
			q := u.Query()
			q.Set("state", state)
			u.RawQuery = q.Encode()
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
}
