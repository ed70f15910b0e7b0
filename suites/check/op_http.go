package check

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"time"
)

// opExchange is one request an OP check sent and what came back, with the
// redirects that led to it. Secrets never show: codes, verifiers, client
// secrets, passwords and tokens are redacted from the URL, the form and
// the JSON body when it is rendered.
type opExchange struct {
	method  string
	reqURL  *url.URL
	reqForm url.Values
	reqAuth string // the Authorization scheme sent ("Basic", "Bearer"), never its value
	status  int
	header  http.Header
	body    []byte
	json    any
	prev    *opExchange // the redirect that led here, when a navigation followed one
}

// opSecretParams are the parameters whose values a report never shows.
var opSecretParams = []string{
	"code", "code_verifier", "client_secret", "password", "access_token", "refresh_token",
	"id_token", "id_token_hint", "token", "client_assertion",
}

// opRedact returns v encoded with the values of secret parameters replaced.
func opRedact(v url.Values) string {
	if len(v) == 0 {
		return ""
	}
	c := url.Values{}
	for k, vs := range v {
		if slices.Contains(opSecretParams, k) {
			vs = []string{"REDACTED"}
		}
		c[k] = vs
	}
	s, _ := url.QueryUnescape(c.Encode())
	return s
}

// opRedactURL renders u with its secret query parameters redacted.
func opRedactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.RawQuery, c.Fragment, c.RawFragment = "", "", ""
	s := c.String()
	if q := opRedact(u.Query()); q != "" {
		s += "?" + q
	}
	if u.Fragment != "" {
		if fv, err := url.ParseQuery(u.Fragment); err == nil {
			s += "#" + opRedact(fv)
		} else {
			s += "#…"
		}
	}
	return s
}

// location returns the response's Location resolved against the request
// URL, or nil.
func (x *opExchange) location() *url.URL {
	loc := x.header.Get("Location")
	if loc == "" {
		return nil
	}
	u, err := x.reqURL.Parse(loc)
	if err != nil {
		return nil
	}
	return u
}

// redirected reports whether x is a redirect with a Location.
func (x *opExchange) redirected() bool {
	return x.status >= 300 && x.status < 400 && x.location() != nil
}

// String renders the chain of exchanges compactly for a failure report.
func (x *opExchange) String() string {
	var chain []*opExchange
	for e := x; e != nil; e = e.prev {
		chain = append(chain, e)
	}
	var b strings.Builder
	for i := len(chain) - 1; i >= 0; i-- {
		e := chain[i]
		fmt.Fprintf(&b, "\n  request:  %s %s", e.method, opRedactURL(e.reqURL))
		if f := opRedact(e.reqForm); f != "" {
			fmt.Fprintf(&b, " body %s", f)
		}
		if e.reqAuth != "" {
			fmt.Fprintf(&b, " [Authorization: %s …]", e.reqAuth)
		}
		fmt.Fprintf(&b, "\n  response: %d", e.status)
		if u := e.location(); u != nil {
			fmt.Fprintf(&b, " Location: %s", opRedactURL(u))
		}
		if w := e.header.Get("WWW-Authenticate"); w != "" {
			fmt.Fprintf(&b, " [WWW-Authenticate: %s]", w)
		}
		ct := e.header.Get("Content-Type")
		if ct != "" {
			fmt.Fprintf(&b, " %s", ct)
		}
		if body := e.excerpt(); body != "" {
			fmt.Fprintf(&b, " %s", body)
		}
	}
	return b.String()
}

// excerpt is the body for a report: JSON with token values redacted, the
// text of an HTML page, or the raw body, cut after about 400 bytes.
func (x *opExchange) excerpt() string {
	if m, ok := x.json.(map[string]any); ok {
		c := map[string]any{}
		for k, v := range m {
			if slices.Contains(opSecretParams, k) {
				v = "REDACTED"
			}
			c[k] = v
		}
		b, _ := json.Marshal(c)
		return excerpt(b, 400)
	}
	if strings.Contains(strings.ToLower(x.header.Get("Content-Type")), "html") {
		return excerpt([]byte(opPageText(x.body)), 400)
	}
	return excerpt(x.body, 400)
}

// opErrorCode returns the OAuth error code of a JSON error body.
func (x *opExchange) opErrorCode() string { return str(get(x.json, "error")) }

// opProbe gathers the problems of one OP check.
type opProbe struct{ problems []string }

func (p *opProbe) failf(x *opExchange, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if x != nil {
		msg += x.String()
	}
	p.problems = append(p.problems, msg)
}

// err returns nil when nothing went wrong.
func (p *opProbe) err() error {
	if len(p.problems) == 0 {
		return nil
	}
	return &Failure{Problems: p.problems}
}

// opFail is the error of a check that cannot go on.
func opFail(x *opExchange, format string, args ...any) error {
	p := &opProbe{}
	p.failf(x, format, args...)
	return p.err()
}

// opMeta is what the checks read from the discovery document.
type opMeta struct {
	raw           map[string]any
	issuer        string
	authorization string
	token         string
	userinfo      string
	jwksURI       string
	endSession    string
	responseModes []string
	grantTypes    []string
	algs          []string
	x             *opExchange // the discovery exchange
}

// opStrings returns the strings of a JSON array (nil when v is not one).
func opStrings(v any) []string {
	a, _ := v.([]any)
	var out []string
	for _, e := range a {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// opAgent is one browser session against the provider: its own cookie
// jar, no redirects followed by the HTTP client.
type opAgent struct {
	t    *OPTarget
	hc   *http.Client
	meta *opMeta
	jwks *opJWKS
}

// discoveryURL is where OIDC Discovery §4.1 puts the document for the
// configured issuer.
func (t *OPTarget) discoveryURL() string {
	return strings.TrimSuffix(t.Issuer, "/") + "/.well-known/openid-configuration"
}

// newAgent starts a browser session with a fresh cookie jar.
func (t *OPTarget) newAgent() *opAgent {
	base := t.Client
	if base == nil {
		base = http.DefaultClient
	}
	jar, _ := cookiejar.New(nil)
	return &opAgent{t: t, hc: &http.Client{
		Transport: base.Transport,
		Timeout:   base.Timeout,
		Jar:       jar,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

// start returns a browser session that has read the discovery document;
// a document that cannot be read fails the check.
func (t *OPTarget) start(ctx context.Context) (*opAgent, error) {
	a := t.newAgent()
	if err := a.discover(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// discover reads the discovery document into a.meta.
func (a *opAgent) discover(ctx context.Context) error {
	x, err := a.do(ctx, "GET", a.t.discoveryURL(), nil, "application/json", "")
	if err != nil {
		return err
	}
	m, ok := x.json.(map[string]any)
	if x.status != http.StatusOK || !ok {
		return opFail(x, "the discovery document could not be read: status %d, want 200 with a JSON object (OpenID Connect Discovery 1.0 §4)", x.status)
	}
	a.meta = &opMeta{
		raw:           m,
		issuer:        str(m["issuer"]),
		authorization: str(m["authorization_endpoint"]),
		token:         str(m["token_endpoint"]),
		userinfo:      str(m["userinfo_endpoint"]),
		jwksURI:       str(m["jwks_uri"]),
		endSession:    str(m["end_session_endpoint"]),
		responseModes: opStrings(m["response_modes_supported"]),
		grantTypes:    opStrings(m["grant_types_supported"]),
		algs:          opStrings(m["id_token_signing_alg_values_supported"]),
		x:             x,
	}
	var missing []string
	for k, v := range map[string]string{"authorization_endpoint": a.meta.authorization, "token_endpoint": a.meta.token, "jwks_uri": a.meta.jwksURI} {
		if v == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return opFail(x, "the discovery document has no %s; the check cannot go on", strings.Join(missing, ", "))
	}
	return nil
}

// do sends one request. form, when not nil, is sent as an
// application/x-www-form-urlencoded body; auth, when not empty, is the
// Authorization header.
func (a *opAgent) do(ctx context.Context, method, rawURL string, form url.Values, accept, auth string) (*opExchange, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("check: %s %s: %w", method, rawURL, err)
	}
	x := &opExchange{method: method, reqURL: u, reqForm: form}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("check: %s %s: %w", method, opRedactURL(u), err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	req.Header.Set("User-Agent", "idpkit-conform-op")
	if auth != "" {
		req.Header.Set("Authorization", auth)
		x.reqAuth, _, _ = strings.Cut(auth, " ")
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("check: %s %s: %w", method, opRedactURL(u), err)
	}
	defer resp.Body.Close()
	x.body, err = io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("check: %s %s: reading the response: %w", method, opRedactURL(u), err)
	}
	x.status, x.header = resp.StatusCode, resp.Header
	if len(bytes.TrimSpace(x.body)) > 0 {
		var v any
		d := json.NewDecoder(bytes.NewReader(x.body))
		d.UseNumber()
		if d.Decode(&v) == nil {
			x.json = v
		}
	}
	return x, nil
}

// opPageAccept is the Accept header of a browser navigation.
const opPageAccept = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"

// opMaxHops bounds the redirects a navigation follows.
const opMaxHops = 10

// navigate sends a browser request and follows the redirects that stay on
// the provider's origin, as a browser would; it stops at a redirect to
// stopAt (the client's redirect URI) or to any other origin, and returns
// the last exchange.
func (a *opAgent) navigate(ctx context.Context, method, rawURL string, form url.Values, stopAt string) (*opExchange, error) {
	x, err := a.do(ctx, method, rawURL, form, opPageAccept, "")
	if err != nil {
		return nil, err
	}
	for hops := 0; x.redirected(); hops++ {
		loc := x.location()
		if opSameEndpoint(loc, stopAt) || !opSameOrigin(loc, x.reqURL) {
			return x, nil
		}
		if hops == opMaxHops {
			return nil, opFail(x, "the provider redirected more than %d times", opMaxHops)
		}
		next, err := a.do(ctx, "GET", loc.String(), nil, opPageAccept, "")
		if err != nil {
			return nil, err
		}
		next.prev = x
		x = next
	}
	return x, nil
}

// opSameOrigin reports whether a and b have the same scheme, host and port.
func opSameOrigin(a, b *url.URL) bool {
	return a != nil && b != nil && strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host)
}

// opSameEndpoint reports whether u points at the endpoint raw names: the
// same origin and path, whatever the query.
func opSameEndpoint(u *url.URL, raw string) bool {
	r, err := url.Parse(raw)
	if err != nil || u == nil || raw == "" {
		return false
	}
	return opSameOrigin(u, r) && u.EscapedPath() == r.EscapedPath()
}

// opCallback returns the authorization response parameters x delivers to
// redirectURI: a redirect's query (the fragment when the query has neither
// code nor error), or the fields of a form_post form whose action is the
// redirect URI. ok is false when x delivers nothing there.
func opCallback(x *opExchange, redirectURI string) (url.Values, bool) {
	if x.redirected() {
		loc := x.location()
		if !opSameEndpoint(loc, redirectURI) {
			return nil, false
		}
		q := loc.Query()
		if !q.Has("code") && !q.Has("error") && loc.Fragment != "" {
			if fq, err := url.ParseQuery(loc.Fragment); err == nil {
				return fq, true
			}
		}
		return q, true
	}
	if x.status != http.StatusOK {
		return nil, false
	}
	for _, f := range opForms(x.body, x.reqURL) {
		if f.action != nil && opSameEndpoint(f.action, redirectURI) {
			return f.values, true
		}
	}
	return nil, false
}

// opLeaves reports where x sends the browser away from the provider: a
// redirect off the provider's origin, or a page whose form posts off it
// (form_post). It returns the target, or nil.
func opLeaves(x *opExchange) *url.URL {
	if x.redirected() {
		if loc := x.location(); !opSameOrigin(loc, x.reqURL) {
			return loc
		}
		return nil
	}
	if x.status == http.StatusOK {
		for _, f := range opForms(x.body, x.reqURL) {
			if f.action != nil && !opSameOrigin(f.action, x.reqURL) && !f.login() {
				return f.action
			}
		}
	}
	return nil
}

// opAuthz is one authorization request the check builds.
type opAuthz struct {
	params   url.Values
	state    string
	nonce    string
	verifier string // the PKCE verifier; empty when no challenge was sent
}

// opScope is the scope the checks ask for.
const opScope = "openid profile email"

// authz builds an authorization request for the code flow with PKCE S256,
// a fresh state and nonce, to the target's redirect URI.
func (a *opAgent) authz(scope string) *opAuthz {
	v := opVerifier(64)
	az := &opAuthz{state: "st-" + unique(), nonce: "n-" + unique(), verifier: v}
	az.params = url.Values{
		"client_id":             {a.t.ClientID},
		"redirect_uri":          {a.t.RedirectURI},
		"response_type":         {"code"},
		"scope":                 {scope},
		"state":                 {az.state},
		"nonce":                 {az.nonce},
		"code_challenge":        {opChallenge(v)},
		"code_challenge_method": {"S256"},
	}
	return az
}

// set sets a parameter; an empty value deletes it.
func (b *opAuthz) set(k, v string) *opAuthz {
	if v == "" {
		b.params.Del(k)
	} else {
		b.params.Set(k, v)
	}
	switch k {
	case "state":
		b.state = v
	case "nonce":
		b.nonce = v
	}
	return b
}

// noPKCE removes the challenge.
func (b *opAuthz) noPKCE() *opAuthz {
	b.params.Del("code_challenge")
	b.params.Del("code_challenge_method")
	b.verifier = ""
	return b
}

// url is the authorization request as a URL.
func (az *opAuthz) url(endpoint string) string {
	sep := "?"
	if strings.Contains(endpoint, "?") {
		sep = "&"
	}
	return endpoint + sep + az.params.Encode()
}

// redirectURI is the request's redirect_uri.
func (az *opAuthz) redirectURI() string { return az.params.Get("redirect_uri") }

// authorize sends the authorization request and follows the provider's own
// redirects.
func (a *opAgent) authorize(ctx context.Context, az *opAuthz) (*opExchange, error) {
	return a.navigate(ctx, "GET", az.url(a.meta.authorization), nil, az.redirectURI())
}

// submitLogin fills the login form with the target's credentials and sends
// it.
func (a *opAgent) submitLogin(ctx context.Context, f *opForm, stopAt string) (*opExchange, error) {
	v := url.Values{}
	for k, vs := range f.values {
		v[k] = append([]string(nil), vs...)
	}
	v.Set(f.username, a.t.Username)
	v.Set(f.password, a.t.Password)
	if f.method == "GET" {
		u := *f.action
		u.RawQuery = v.Encode()
		return a.navigate(ctx, "GET", u.String(), nil, stopAt)
	}
	return a.navigate(ctx, "POST", f.action.String(), v, stopAt)
}

// signIn runs an authorization request to its end: when the provider
// shows its login form, it types the target's credentials into it. It
// returns the authorization response's parameters and the exchange that
// delivered them.
func (a *opAgent) signIn(ctx context.Context, az *opAuthz) (url.Values, *opExchange, error) {
	x, err := a.authorize(ctx, az)
	if err != nil {
		return nil, nil, err
	}
	if cb, ok := opCallback(x, az.redirectURI()); ok {
		return cb, x, nil
	}
	f, err := opLoginForm(x)
	if err != nil {
		return nil, x, err
	}
	x, err = a.submitLogin(ctx, f, az.redirectURI())
	if err != nil {
		return nil, nil, err
	}
	if cb, ok := opCallback(x, az.redirectURI()); ok {
		return cb, x, nil
	}
	if _, err := opLoginForm(x); err == nil {
		return nil, x, opFail(x, "the provider showed its login form again after the username and password were posted: are the username and password right, and is the user allowed to sign in to the client?")
	}
	return nil, x, opFail(x, "after the login form was posted, the provider neither redirected to the redirect URI %s nor sent a form_post form to it", az.redirectURI())
}

// code returns the authorization code of a successful authorization
// response, or an error that shows the response.
func opCode(cb url.Values, x *opExchange) (string, error) {
	if e := cb.Get("error"); e != "" {
		return "", opFail(x, "the provider answered the authorization request with error=%s (%s), want a code", e, cb.Get("error_description"))
	}
	code := cb.Get("code")
	if code == "" {
		return "", opFail(x, "the authorization response has no code (RFC 6749 §4.1.2)")
	}
	return code, nil
}

// signInCode signs in and returns the code.
func (a *opAgent) signInCode(ctx context.Context, az *opAuthz) (string, *opExchange, error) {
	cb, x, err := a.signIn(ctx, az)
	if err != nil {
		return "", x, err
	}
	code, err := opCode(cb, x)
	return code, x, err
}

// How a token request authenticates the client.
type opClientAuth int

const (
	opClientAuthTarget      opClientAuth = iota // the target's AuthMethod
	opClientAuthBoth                            // Basic header and client_secret in the body
	opClientAuthWrongSecret                     // the target's AuthMethod with a wrong secret
)

// opBasic is the Basic credentials of RFC 6749 §2.3.1: client id and
// secret form-URL-encoded, then base64.
func opBasic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// tokenRequest posts form to the token endpoint with client
// authentication.
func (a *opAgent) tokenRequest(ctx context.Context, form url.Values, how opClientAuth) (*opExchange, error) {
	form = cloneValues(form)
	secret := a.t.ClientSecret
	if how == opClientAuthWrongSecret {
		secret = "wrong-" + unique() + secret
	}
	var auth string
	basic := a.t.authMethod() == opAuthBasic
	if basic || how == opClientAuthBoth {
		auth = opBasic(a.t.ClientID, secret)
	}
	if !basic || how == opClientAuthBoth {
		form.Set("client_id", a.t.ClientID)
		form.Set("client_secret", secret)
	}
	return a.do(ctx, "POST", a.meta.token, form, "application/json", auth)
}

func cloneValues(v url.Values) url.Values {
	c := url.Values{}
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// redeem exchanges a code at the token endpoint.
func (a *opAgent) redeem(ctx context.Context, code, verifier, redirectURI string, how opClientAuth) (*opExchange, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}}
	if redirectURI != "" {
		form.Set("redirect_uri", redirectURI)
	}
	if verifier != "" {
		form.Set("code_verifier", verifier)
	}
	return a.tokenRequest(ctx, form, how)
}

// opTokens is a successful token response.
type opTokens struct {
	access, id, refresh, tokenType string
	x                              *opExchange
}

// opTokensOf reads a token response; a response that is not a success
// with an access token is an error.
func opTokensOf(x *opExchange) (*opTokens, error) {
	if x.status != http.StatusOK {
		return nil, opFail(x, "the token request was refused: status %d, want 200 (RFC 6749 §5.1)", x.status)
	}
	tk := &opTokens{
		access:    str(get(x.json, "access_token")),
		id:        str(get(x.json, "id_token")),
		refresh:   str(get(x.json, "refresh_token")),
		tokenType: str(get(x.json, "token_type")),
		x:         x,
	}
	if tk.access == "" {
		return nil, opFail(x, "the token response has no access_token (RFC 6749 §5.1)")
	}
	return tk, nil
}

// codeFlow signs in with az and redeems the code with the verifier.
func (a *opAgent) codeFlow(ctx context.Context, az *opAuthz) (*opTokens, error) {
	code, _, err := a.signInCode(ctx, az)
	if err != nil {
		return nil, err
	}
	return a.redeemTokens(ctx, az, code)
}

// redeemTokens redeems the code of az with its verifier and redirect URI
// and reads the token response; a refusal is an error.
func (a *opAgent) redeemTokens(ctx context.Context, az *opAuthz, code string) (*opTokens, error) {
	x, err := a.redeem(ctx, code, az.verifier, az.redirectURI(), opClientAuthTarget)
	if err != nil {
		return nil, err
	}
	return opTokensOf(x)
}

// startCode starts a browser session and signs in with a fresh
// authorization request for opScope: the session, the request and the
// code it was answered with.
func (t *OPTarget) startCode(ctx context.Context) (*opAgent, *opAuthz, string, error) {
	a, err := t.start(ctx)
	if err != nil {
		return nil, nil, "", err
	}
	az := a.authz(opScope)
	code, _, err := a.signInCode(ctx, az)
	if err != nil {
		return nil, nil, "", err
	}
	return a, az, code, nil
}

// startTokens is startCode with the code redeemed: the session, the
// request and the tokens.
func (t *OPTarget) startTokens(ctx context.Context) (*opAgent, *opAuthz, *opTokens, error) {
	a, az, code, err := t.startCode(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	tk, err := a.redeemTokens(ctx, az, code)
	if err != nil {
		return nil, nil, nil, err
	}
	return a, az, tk, nil
}

// startUserinfo starts a browser session; it skips the check when the
// provider publishes no UserInfo endpoint.
func (t *OPTarget) startUserinfo(ctx context.Context) (*opAgent, error) {
	a, err := t.start(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.needUserinfo(); err != nil {
		return nil, err
	}
	return a, nil
}

// userinfoRequest calls the UserInfo endpoint with an access token in the
// Authorization header ("" sends none).
func (a *opAgent) userinfoRequest(ctx context.Context, method, token string) (*opExchange, error) {
	auth := ""
	if token != "" {
		auth = "Bearer " + token
	}
	var form url.Values
	if method == "POST" {
		form = url.Values{}
	}
	return a.do(ctx, method, a.meta.userinfo, form, "application/json", auth)
}

// needUserinfo skips a check when the provider publishes no UserInfo
// endpoint.
func (a *opAgent) needUserinfo() error {
	if a.meta.userinfo == "" {
		return Skip("the discovery document has no userinfo_endpoint")
	}
	return nil
}

// keys reads the JWK Set once per agent.
func (a *opAgent) keys(ctx context.Context) (*opJWKS, error) {
	if a.jwks != nil {
		return a.jwks, nil
	}
	x, err := a.do(ctx, "GET", a.meta.jwksURI, nil, "application/json", "")
	if err != nil {
		return nil, err
	}
	if x.status != http.StatusOK {
		return nil, opFail(x, "the JWK Set could not be read: status %d, want 200 (RFC 7517 §5)", x.status)
	}
	set, problems := opParseJWKS(x.json)
	if set == nil {
		return nil, opFail(x, "the JWK Set could not be read: %s", strings.Join(problems, "; "))
	}
	set.x = x
	a.jwks = set
	return set, nil
}

// opSkew is the clock difference the time checks tolerate.
const opSkew = 5 * time.Minute
