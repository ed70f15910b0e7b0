package op

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
)

// tokenError is an RFC 6749 §5.2 error with its HTTP status.
type tokenError struct {
	status      int
	code        string
	description string
	basic       bool // the client used the Authorization header
}

func (e *tokenError) write(w http.ResponseWriter) {
	if e.status == http.StatusUnauthorized && e.basic {
		w.Header().Set("WWW-Authenticate", `Basic realm="Okta"`)
	}
	writeOAuthError(w, e.status, e.code, e.description)
}

const clientAuthFailed = "Client authentication failed. Either the client or the client credentials are invalid."

// authenticateClient authenticates the client of a token, revocation or
// introspection request (RFC 6749 §2.3.1) by the method it registered, as
// Okta does. The form must already be parsed.
func (p *Provider) authenticateClient(r *http.Request) (Client, *tokenError) {
	user, pass, hasBasic, ok := basicAuth(r)
	if !ok {
		return Client{}, &tokenError{http.StatusUnauthorized, errInvalidClient, "The Authorization header is not valid Basic credentials.", true}
	}
	form := r.PostForm
	for _, k := range []string{"client_id", "client_secret", "client_assertion", "client_assertion_type"} {
		if len(form[k]) > 1 {
			return Client{}, &tokenError{http.StatusBadRequest, errInvalidRequest, "The '" + k + "' parameter was sent more than once.", hasBasic}
		}
	}
	bodyID, bodySecret := form.Get("client_id"), form.Get("client_secret")
	assertion := form.Get("client_assertion")
	if hasBasic && (form.Has("client_secret") || assertion != "") || bodySecret != "" && assertion != "" {
		return Client{}, &tokenError{http.StatusBadRequest, errInvalidRequest,
			"Cannot supply multiple client credentials. Use one of the following: credentials in the Authorization header, credentials in the post body, or a client_assertion in the post body.", hasBasic}
	}
	if assertion != "" {
		return Client{}, &tokenError{http.StatusUnauthorized, errInvalidClient, "This mock does not accept client_assertion; use client_secret_basic or client_secret_post.", false}
	}
	clientID := bodyID
	if hasBasic {
		if bodyID != "" && bodyID != user {
			return Client{}, &tokenError{http.StatusBadRequest, errInvalidRequest, "The 'client_id' parameter does not match the Authorization header.", true}
		}
		clientID = user
	}
	if clientID == "" {
		return Client{}, &tokenError{http.StatusUnauthorized, errInvalidClient, clientAuthFailed, hasBasic}
	}
	client, found := p.dir.Client(r.Context(), clientID)
	if !found {
		return Client{}, &tokenError{http.StatusUnauthorized, errInvalidClient, "Invalid value for 'client_id' parameter.", hasBasic}
	}
	var secret string
	switch authMethod(client) {
	case AuthMethodBasic:
		if !hasBasic {
			return Client{}, &tokenError{http.StatusUnauthorized, errInvalidClient, clientAuthFailed + " This client uses client_secret_basic.", false}
		}
		secret = pass
	case AuthMethodPost:
		if hasBasic || bodySecret == "" {
			return Client{}, &tokenError{http.StatusUnauthorized, errInvalidClient, clientAuthFailed + " This client uses client_secret_post.", hasBasic}
		}
		secret = bodySecret
	case AuthMethodNone:
		if hasBasic || bodySecret != "" {
			return Client{}, &tokenError{http.StatusUnauthorized, errInvalidClient, clientAuthFailed + " This is a public client; send only client_id.", hasBasic}
		}
		return client, nil
	default:
		return Client{}, &tokenError{http.StatusUnauthorized, errInvalidClient, clientAuthFailed, hasBasic}
	}
	if client.Secret == "" || !secretEqual(secret, client.Secret) {
		return Client{}, &tokenError{http.StatusUnauthorized, errInvalidClient, "The client secret supplied for a confidential client is invalid.", hasBasic}
	}
	return client, nil
}

// basicAuth reads Basic credentials and form-URL-decodes both parts, as
// RFC 6749 §2.3.1 requires. has reports whether Basic credentials were
// sent; ok is false when they were sent but malformed.
func basicAuth(r *http.Request) (user, pass string, has, ok bool) {
	h := r.Header.Get("Authorization")
	scheme, value, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Basic") {
		return "", "", false, true
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
	if err != nil {
		return "", "", true, false
	}
	u, pw, found := strings.Cut(string(raw), ":")
	if !found {
		return "", "", true, false
	}
	if user, err = url.QueryUnescape(u); err != nil {
		return "", "", true, false
	}
	if pass, err = url.QueryUnescape(pw); err != nil {
		return "", "", true, false
	}
	return user, pass, true, true
}

// secretEqual compares a presented client secret with the registered one
// in constant time, lengths included: subtle.ConstantTimeCompare alone
// returns at once for a secret of another length, which tells a caller the
// secret's length; comparing SHA-256 digests does not.
func secretEqual(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}
