package op

import (
	"encoding/json"
	"net/http"
)

// OAuth 2.0 error codes (RFC 6749 §4.1.2.1 and §5.2, OIDC Core §3.1.2.6,
// RFC 6750 §3.1).
const (
	errInvalidRequest          = "invalid_request"
	errInvalidClient           = "invalid_client"
	errInvalidGrant            = "invalid_grant"
	errUnauthorizedClient      = "unauthorized_client"
	errUnsupportedGrantType    = "unsupported_grant_type"
	errUnsupportedResponseType = "unsupported_response_type"
	errInvalidScope            = "invalid_scope"
	errAccessDenied            = "access_denied"
	errLoginRequired           = "login_required"
	errInvalidToken            = "invalid_token"
	errInsufficientScope       = "insufficient_scope"
)

// oauthError is an RFC 6749 §5.2 error body.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// writeOAuthError writes an RFC 6749 §5.2 JSON error with Cache-Control:
// no-store.
func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, oauthError{Error: code, Description: description})
}

// writeJSON writes v as a no-store JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"error":"server_error","error_description":"The response could not be encoded."}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	w.Write(body)
}

// errorPage renders Okta's HTML error page; used where no redirect is
// allowed (unknown client, unregistered redirect URI, bad logout hint).
func (p *Provider) errorPage(w http.ResponseWriter, status int, code, description string) {
	p.render(w, status, "error", map[string]any{
		"Status":      status,
		"StatusText":  http.StatusText(status),
		"Code":        code,
		"Description": description,
	})
}
