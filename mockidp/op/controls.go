package op

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http/httpguts"
)

// This file holds the provider's test controls other than faults
// (faults.go): queued logins, queued endpoint errors and delays, the
// request log and trusted origins. serve applies them, in one place, around
// every endpoint Register mounts.

// Endpoint names, as used by QueuedError.Endpoint and Request.Endpoint.
const (
	EndpointDiscovery  = "discovery" // both .well-known documents
	EndpointAuthorize  = "authorize"
	EndpointToken      = "token"
	EndpointKeys       = "keys"
	EndpointUserinfo   = "userinfo"
	EndpointIntrospect = "introspect"
	EndpointRevoke     = "revoke"
	EndpointLogout     = "logout"
)

// endpoints lists every Endpoint* name.
var endpoints = []string{EndpointDiscovery, EndpointAuthorize, EndpointToken, EndpointKeys,
	EndpointUserinfo, EndpointIntrospect, EndpointRevoke, EndpointLogout}

// maxRequests is how many requests the log keeps.
const maxRequests = 10000

// maxParamLen caps each logged parameter value.
const maxParamLen = 1024

// loggedParams are the request parameters the log keeps: none of them is a
// secret, a code, a token or a PKCE verifier.
var loggedParams = []string{"response_type", "response_mode", "scope", "state", "nonce", "code_challenge",
	"code_challenge_method", "redirect_uri", "prompt", "max_age", "grant_type", "login_hint",
	"post_logout_redirect_uri", "token_type_hint"}

// controls is the state of the test controls; its mutex is its own, so the
// request log never waits on the provider's token maps.
type controls struct {
	mu      sync.Mutex
	logins  []queuedLogin
	errors  []QueuedError
	log     []Request
	origins map[string]bool
}

type queuedLogin struct {
	userID, clientID string
	claims           map[string]any
}

// QueuedLogin is the user the next authorization request signs in
// without showing the login form (and without asking for a password).
type QueuedLogin struct {
	// UserID (00u…) or Login names the user; the user must be ACTIVE. When
	// both are set they must name the same user.
	UserID string
	Login  string
	// ClientID, when set, limits the queued login to that client's
	// authorization requests.
	ClientID string
	// Claims are merged into the ID token (and UserInfo) of the tokens
	// issued from this login, refreshed ones included; a nil value removes
	// a claim. Faults apply after them.
	Claims map[string]any
}

// QueueLogin queues a login; logins queued earlier are used first. The
// next authorization request that passes validation (for ClientID, when
// set) starts an SSO session for the user, as a real sign-in would, and
// redirects with a code at once — whatever its prompt (prompt=none
// succeeds) and max_age. It fails for an unknown or inactive user and an
// unknown client.
func (p *Provider) QueueLogin(l QueuedLogin) error {
	ctx := context.Background()
	var u User
	var ok bool
	switch {
	case l.UserID == "" && l.Login == "":
		return errors.New("op: a queued login needs a user id or a login")
	case l.UserID != "":
		u, ok = p.dir.User(ctx, l.UserID)
		if ok && l.Login != "" && !strings.EqualFold(u.Login, l.Login) {
			return fmt.Errorf("op: user %s has login %q, not %q", l.UserID, u.Login, l.Login)
		}
	default:
		u, ok = p.dir.UserByLogin(ctx, l.Login)
	}
	if !ok {
		return fmt.Errorf("op: no ACTIVE user %q", l.UserID+l.Login)
	}
	if l.ClientID != "" {
		if _, ok := p.dir.Client(ctx, l.ClientID); !ok {
			return fmt.Errorf("op: no OIDC client %q", l.ClientID)
		}
	}
	claims, err := copyClaims(l.Claims)
	if err != nil {
		return err
	}
	p.ctl.mu.Lock()
	defer p.ctl.mu.Unlock()
	p.ctl.logins = append(p.ctl.logins, queuedLogin{userID: u.ID, clientID: l.ClientID, claims: claims})
	return nil
}

// copyClaims deep-copies a queued login's claims through JSON, so a caller
// that changes its map later changes nothing here, and a value no token
// could carry (a channel, a NaN) is refused now rather than at the token
// endpoint.
func copyClaims(claims map[string]any) (map[string]any, error) {
	if claims == nil {
		return nil, nil
	}
	b, err := json.Marshal(claims)
	if err != nil {
		return nil, fmt.Errorf("op: a queued login's claims must be JSON values: %w", err)
	}
	var out map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // an int64 past 2^53 keeps every digit
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("op: a queued login's claims must be JSON values: %w", err)
	}
	// JSON turns a nil value into null, which decodes as a nil value: the
	// claim is still removed, as documented.
	return numbers(out).(map[string]any), nil
}

// numbers replaces the json.Numbers of a decoded value with int64 (an
// integer, every digit kept) or float64: the JWT encoder knows those, and
// would write a json.Number as a string.
func numbers(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = numbers(e)
		}
	case []any:
		for i, e := range v {
			v[i] = numbers(e)
		}
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n
		}
		f, _ := v.Float64()
		return f
	}
	return v
}

// takeLogin removes and returns the first queued login for clientID.
func (c *controls) takeLogin(clientID string) (queuedLogin, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, l := range c.logins {
		if l.clientID == "" || l.clientID == clientID {
			c.logins = append(c.logins[:i:i], c.logins[i+1:]...)
			return l, true
		}
	}
	return queuedLogin{}, false
}

// QueuedError makes an endpoint answer with an error (or just late).
type QueuedError struct {
	// Endpoint is one of the Endpoint* names. Required.
	Endpoint string
	// AuthServer limits it to one authorization server ("" = any; use
	// "org" for the org server only).
	AuthServer string
	// Status is the HTTP status; 0 with Delay set means "answer normally,
	// but late". On authorize, 302 (or 303) sends the error to the
	// client's redirect URI by its response mode (RFC 6749 §4.1.2.1), once
	// client_id and redirect_uri have been checked; any other status is an
	// HTML error page.
	Status int
	// Error and Description fill an RFC 6749 §5.2 body (an HTML page on
	// authorize and logout; RFC 6750 §3 WWW-Authenticate too on userinfo).
	// Empty, they are derived from Status.
	Error, Description string
	// Body, when set, is sent as is instead (Content-Type from Header, else
	// application/json).
	Body string
	// Header is set on the response, over the provider's own headers.
	// Names and values must be valid HTTP field names and values (no CR,
	// LF or NUL), and the headers that frame a response (Content-Length,
	// Transfer-Encoding, Connection, Keep-Alive, Upgrade, Trailer, TE) are
	// refused: they would break the connection, not the relying party.
	Header http.Header
	// Delay is waited before answering (or before the normal answer). A
	// client that goes away ends the wait, and the request is logged with
	// Status 0; Close ends it too, and the request is answered 503
	// temporarily_unavailable in the endpoint's shape.
	Delay time.Duration
	// Sticky keeps it until ClearErrors; otherwise it applies once. The
	// first queued entry that matches a request applies, so a sticky entry
	// shadows later ones for the same endpoint.
	Sticky bool
}

// QueueError queues an endpoint error or delay. Preflight (OPTIONS)
// requests never use one up.
func (p *Provider) QueueError(e QueuedError) error {
	if !slices.Contains(endpoints, e.Endpoint) {
		return fmt.Errorf("op: unknown endpoint %q (want one of %s)", e.Endpoint, strings.Join(endpoints, ", "))
	}
	if e.AuthServer != "" && e.AuthServer != "org" {
		if _, ok := p.server(e.AuthServer); !ok {
			return fmt.Errorf("op: unknown authorization server %q", e.AuthServer)
		}
	}
	switch {
	case e.Delay < 0:
		return errors.New("op: a queued error's delay is negative")
	case e.Status == 0 && e.Delay == 0:
		return errors.New("op: a queued error needs a status, a delay or both")
	case e.Status != 0 && (e.Status < 200 || e.Status > 599):
		return fmt.Errorf("op: status %d is not an HTTP status the provider can send", e.Status)
	case e.Status == 0 && (e.Body != "" || e.Error != "" || e.Description != "" || len(e.Header) > 0):
		return errors.New("op: a delay-only entry (status 0) cannot carry an error, body or headers")
	}
	if err := checkHeader(e.Header); err != nil {
		return err
	}
	e.Header = e.Header.Clone()
	p.ctl.mu.Lock()
	defer p.ctl.mu.Unlock()
	p.ctl.errors = append(p.ctl.errors, e)
	return nil
}

// framingHeaders are the response headers a queued error may not set:
// they frame the HTTP message, so a wrong one breaks the connection (a
// client waiting for bytes that never come) rather than testing the
// relying party.
var framingHeaders = []string{"Connection", "Content-Length", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// checkHeader checks a queued error's headers: valid field names and
// values (RFC 9110 §5.1, §5.5; no CR, LF or NUL), none of framingHeaders.
func checkHeader(h http.Header) error {
	for k, vs := range h {
		if !httpguts.ValidHeaderFieldName(k) {
			return fmt.Errorf("op: header name %q is not a valid HTTP field name", k)
		}
		if slices.Contains(framingHeaders, http.CanonicalHeaderKey(k)) {
			return fmt.Errorf("op: header %s frames the response and cannot be queued", http.CanonicalHeaderKey(k))
		}
		for _, v := range vs {
			if !httpguts.ValidHeaderFieldValue(v) {
				return fmt.Errorf("op: the value of header %s is not a valid HTTP field value (no CR, LF or NUL)", http.CanonicalHeaderKey(k))
			}
		}
	}
	return nil
}

// takeError returns the first queued error for an endpoint of server, and
// removes it unless it is sticky.
func (c *controls) takeError(endpoint, server string) (QueuedError, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, e := range c.errors {
		if e.Endpoint != endpoint {
			continue
		}
		switch e.AuthServer {
		case "":
		case "org":
			if server != "" {
				continue
			}
		default:
			if server != e.AuthServer {
				continue
			}
		}
		if !e.Sticky {
			c.errors = append(c.errors[:i:i], c.errors[i+1:]...)
		}
		return e, true
	}
	return QueuedError{}, false
}

// ClearErrors drops every queued error and delay.
func (p *Provider) ClearErrors() {
	p.ctl.mu.Lock()
	p.ctl.errors = nil
	p.ctl.mu.Unlock()
}

// ClearLogins drops every queued login.
func (p *Provider) ClearLogins() {
	p.ctl.mu.Lock()
	p.ctl.logins = nil
	p.ctl.mu.Unlock()
}

// Request is one request an endpoint of the provider answered.
type Request struct {
	Time       time.Time `json:"time"`
	Endpoint   string    `json:"endpoint"`
	AuthServer string    `json:"authServer"` // "" for the org server
	Method     string    `json:"method"`
	// ClientID is the client the request was for: the authenticated
	// client at the token, revoke and introspect endpoints, the token's
	// client at UserInfo, the ID token hint's audience at logout, else the
	// client_id parameter.
	ClientID string `json:"clientId,omitempty"`
	// Params are the non-secret parameters sent (query or form):
	// response_type, response_mode, scope, state, nonce, code_challenge,
	// code_challenge_method, redirect_uri, prompt, max_age, grant_type,
	// login_hint, post_logout_redirect_uri, token_type_hint. Never a code,
	// a secret, a token or a PKCE verifier.
	Params map[string]string `json:"params,omitempty"`
	// Status is the HTTP status answered; 0 when the client went away
	// before an answer.
	Status int    `json:"status"`
	Origin string `json:"origin,omitempty"`
}

// Requests returns the request log, oldest first (at most the last 10,000).
func (p *Provider) Requests() []Request {
	p.ctl.mu.Lock()
	defer p.ctl.mu.Unlock()
	log := p.ctl.log
	if len(log) > maxRequests {
		log = log[len(log)-maxRequests:]
	}
	return append([]Request(nil), log...)
}

// ResetRequests empties the request log.
func (p *Provider) ResetRequests() {
	p.ctl.mu.Lock()
	p.ctl.log = nil
	p.ctl.mu.Unlock()
}

// AddTrustedOrigin lets a browser page on origin (scheme://host[:port],
// http or https, no path, not even "/") read discovery, keys, token,
// userinfo, revoke and introspect responses (CORS), as Okta's Trusted
// Origins do. Scheme and host are compared case-insensitively and a
// default port (80, 443) is the same as none.
func (p *Provider) AddTrustedOrigin(origin string) error {
	o, err := normalizeOrigin(origin)
	if err != nil {
		return err
	}
	p.ctl.mu.Lock()
	p.ctl.origins[o] = true
	p.ctl.mu.Unlock()
	return nil
}

// trustedOrigin reports whether a request's Origin header is trusted.
func (p *Provider) trustedOrigin(origin string) bool {
	o, err := normalizeOrigin(origin)
	if err != nil {
		return false
	}
	p.ctl.mu.Lock()
	defer p.ctl.mu.Unlock()
	return p.ctl.origins[o]
}

// normalizeOrigin checks an origin (RFC 6454 §7 serialisation) and
// returns it with scheme and host in lower case and a default port
// dropped.
func normalizeOrigin(origin string) (string, error) {
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("op: origin %q %s; want scheme://host[:port]", origin, why)
	}
	u, err := url.Parse(origin)
	if err != nil {
		return bad("does not parse")
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme != "http" && scheme != "https":
		return bad("is not http or https")
	case u.Opaque != "" || u.Host == "":
		return bad("has no host")
	case u.User != nil:
		return bad("carries user information")
	case u.Path != "" || u.RawPath != "":
		return bad("has a path")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.ContainsAny(origin, "?#"):
		return bad("has a query or fragment")
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if host == "" {
		return bad("has no host")
	}
	if strings.HasSuffix(u.Host, ":") {
		return bad("has an empty port")
	}
	if port != "" {
		n := 0
		for _, c := range port {
			if c < '0' || c > '9' {
				return bad("has a bad port")
			}
			n = n*10 + int(c-'0')
			if n > 65535 {
				return bad("has a bad port")
			}
		}
		if n == 0 {
			return bad("has a bad port")
		}
		if scheme == "http" && n == 80 || scheme == "https" && n == 443 {
			port = ""
		}
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		return scheme + "://" + host + ":" + port, nil
	}
	return scheme + "://" + host, nil
}

// recorder is the ResponseWriter serve hands to an endpoint: it keeps the
// status for the log, the client a handler names (setClientID), and
// headers a queued error sets over the handler's own.
type recorder struct {
	http.ResponseWriter
	status   int
	clientID string
	extra    http.Header
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		for k, vs := range w.extra {
			w.Header()[http.CanonicalHeaderKey(k)] = vs
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// setClientID records the client a request was for in the request log.
func setClientID(w http.ResponseWriter, id string) {
	if rec, ok := w.(*recorder); ok {
		rec.clientID = id
	}
}

// serve wraps an endpoint with everything the test controls add, in this
// order: scheduled key rotation, CORS (a preflight is answered here), a
// queued error or delay, the handler, the request log. A panic becomes a
// logged 500, so no input can crash a serving goroutine.
func (p *Provider) serve(as *authServer, endpoint string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				p.log.Error("op: handler panic", "path", r.URL.Path, "panic", fmt.Sprint(v))
				if rec.status == 0 {
					http.Error(rec, "internal error", http.StatusInternalServerError)
				}
			}
			p.record(as, endpoint, r, rec)
		}()
		p.rotateIfDue()
		if p.cors(rec, r, endpoint) {
			return
		}
		if qe, ok := p.ctl.takeError(endpoint, as.id); ok && !p.applyError(rec, r, as, endpoint, qe) {
			return
		}
		h(rec, r)
	})
}

// applyError waits a queued entry's delay and writes its error. It
// reports whether the endpoint should still answer normally (a delay-only
// entry).
func (p *Provider) applyError(w *recorder, r *http.Request, as *authServer, endpoint string, qe QueuedError) bool {
	if qe.Delay > 0 {
		p.log.DebugContext(r.Context(), "op: waiting out a queued delay", "endpoint", endpoint, "delay", qe.Delay)
		t := time.NewTimer(qe.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return false
		case <-p.closing:
			// The server is shutting down: end the wait with an answer in
			// the endpoint's shape rather than hold the shutdown up.
			qe = QueuedError{Status: http.StatusServiceUnavailable, Error: "temporarily_unavailable",
				Description: "The mock Okta is shutting down; the queued delay was cut short."}
		}
	}
	if qe.Status == 0 {
		return true
	}
	// The handler will not run: read the form here, for the log only.
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		r.ParseForm()
	}
	w.extra = qe.Header
	if qe.Body != "" {
		if w.Header().Get("Content-Type") == "" && qe.Header.Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(qe.Status)
		io.WriteString(w, qe.Body)
		return false
	}
	code, desc := qe.Error, qe.Description
	if code == "" {
		code = defaultErrorCode(endpoint, qe.Status)
	}
	if desc == "" {
		desc = http.StatusText(qe.Status) + " (an error queued by the test)."
	}
	switch endpoint {
	case EndpointAuthorize:
		if qe.Status == http.StatusFound || qe.Status == http.StatusSeeOther {
			params, ok := p.requestParams(w, r, "authorize", true)
			if !ok {
				return false
			}
			req, ok := p.parseClient(w, r, params)
			if !ok {
				return false
			}
			p.redirect(w, req, url.Values{"error": {code}, "error_description": {desc}})
			return false
		}
		p.errorPage(w, qe.Status, code, desc)
	case EndpointLogout:
		p.errorPage(w, qe.Status, code, desc)
	case EndpointUserinfo:
		p.bearerError(w, as, qe.Status, code, desc)
	default:
		writeOAuthError(w, qe.Status, code, desc)
	}
	return false
}

// defaultErrorCode is the error code of a queued error that names none.
func defaultErrorCode(endpoint string, status int) string {
	switch {
	case status == http.StatusFound || status == http.StatusSeeOther:
		return errAccessDenied
	case status == http.StatusUnauthorized && endpoint == EndpointUserinfo:
		return errInvalidToken
	case status == http.StatusUnauthorized:
		return errInvalidClient
	case status == http.StatusForbidden && endpoint == EndpointUserinfo:
		return errInsufficientScope
	case status == http.StatusForbidden:
		return errAccessDenied
	case status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests:
		return "temporarily_unavailable"
	case status >= 500:
		return "server_error"
	default:
		return errInvalidRequest
	}
}

// truncate cuts a logged value to maxParamLen bytes, so 10,000 requests
// with megabyte parameters cannot fill the memory.
func truncate(s string) string {
	if len(s) > maxParamLen {
		return s[:maxParamLen]
	}
	return s
}

// record appends a request to the log.
func (p *Provider) record(as *authServer, endpoint string, r *http.Request, w *recorder) {
	vals := r.Form // set when the handler (or applyError) parsed the form
	if vals == nil {
		vals = r.URL.Query()
	}
	req := Request{
		Time: p.now(), Endpoint: endpoint, AuthServer: as.id, Method: r.Method,
		ClientID: w.clientID, Status: w.status, Origin: truncate(r.Header.Get("Origin")),
	}
	if req.ClientID == "" {
		req.ClientID = vals.Get("client_id")
	}
	if req.ClientID == "" && endpoint != EndpointUserinfo {
		if user, _, has, ok := basicAuth(r); has && ok {
			req.ClientID = user
		}
	}
	req.ClientID = truncate(req.ClientID)
	for _, k := range loggedParams {
		if v, ok := vals[k]; ok && len(v) > 0 {
			if req.Params == nil {
				req.Params = map[string]string{}
			}
			req.Params[k] = truncate(v[0])
		}
	}
	p.ctl.mu.Lock()
	defer p.ctl.mu.Unlock()
	p.ctl.log = append(p.ctl.log, req)
	if len(p.ctl.log) >= 2*maxRequests {
		p.ctl.log = append([]Request(nil), p.ctl.log[len(p.ctl.log)-maxRequests:]...)
	}
}
