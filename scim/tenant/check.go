package tenant

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/idpkit/idpkit/scim/adminapi"
	"github.com/idpkit/idpkit/scim/secret"
	"github.com/idpkit/idpkit/scim/store"
)

// Check is one step of the sign-in check (adminapi.Check): its name is one
// of adminapi.CheckDomain, CheckDiscovery, CheckKeys and CheckCredentials.
type Check = adminapi.Check

// CheckError is the error of a sign-in check whose last step failed. Its
// text is that step's error, which it wraps (so errors.Is matches
// ErrInvalidDomain, ErrDiscovery or ErrInvalidSignIn), and Checks are the
// steps that ran, the failed one last.
type CheckError struct {
	Checks []Check
	Err    error
}

// Error returns the failed step's error text.
func (e *CheckError) Error() string { return e.Err.Error() }

// Unwrap returns the failed step's error.
func (e *CheckError) Unwrap() error { return e.Err }

// maxOPBody bounds every response body the check reads from Okta.
const maxOPBody = 1 << 20

// maxKeysInSet is the largest JWK Set accepted, as scim/login's key set.
const maxKeysInSet = 50

// minRSABits is the smallest RSA signing key accepted (RFC 7518 §3.3).
const minRSABits = 2048

// resolved is what a passed sign-in check saves.
type resolved struct {
	base, authServer, issuer, clientID, clientSecret string
}

// CheckSignIn runs the sign-in check for tenant name without saving
// anything: the steps adminapi.CheckDomain (NormalizeDomain, and not an
// Okta Admin Console "-admin" domain), adminapi.CheckDiscovery (the
// issuer's discovery document, whose issuer must be the expected one,
// OpenID Connect Discovery 1.0 §4.3), adminapi.CheckKeys (jwks_uri serves
// a JWK Set, RFC 7517 §5, with at least one RS256 or ES256 signing key)
// and adminapi.CheckCredentials (the token endpoint, sent a made-up
// authorization code with the client id and secret as client_secret_basic,
// RFC 6749 §2.3.1, answers invalid_grant rather than invalid_client). It
// returns the steps that ran; when one fails, the error is a *CheckError
// holding them, and no later step runs. An empty ClientSecret means the
// saved one. Every request follows no redirect, reads at most 1 MiB and
// has DiscoveryTimeout. Other errors match ErrNotFound.
func (s *Service) CheckSignIn(ctx context.Context, name string, in SignIn) ([]Check, error) {
	cur, err := s.Store.GetTenant(ctx, name)
	if err != nil {
		return nil, s.storeErr(name, "check sign-in", err)
	}
	_, checks, err := s.checkSignIn(ctx, cur, in)
	return checks, err
}

// ConfigureChecked runs CheckSignIn and, only when every step passed,
// saves the tenant's sign-in settings. It returns the saved tenant and the
// steps; on a failed step the error is a *CheckError (see CheckSignIn).
func (s *Service) ConfigureChecked(ctx context.Context, name string, in SignIn) (store.Tenant, []Check, error) {
	cur, err := s.Store.GetTenant(ctx, name)
	if err != nil {
		return store.Tenant{}, nil, s.storeErr(name, "configure", err)
	}
	res, checks, err := s.checkSignIn(ctx, cur, in)
	if err != nil {
		s.log().WarnContext(ctx, "sign-in check failed", "tenant", name, "domain", clipText(in.OktaDomain, 200), "step", checks[len(checks)-1].Name, "err", err)
		return store.Tenant{}, checks, err
	}
	t, err := s.Store.UpdateTenant(ctx, name, func(t *store.Tenant) error {
		t.OktaDomain = res.base
		t.AuthServer = res.authServer
		t.Issuer = res.issuer
		t.ClientID = res.clientID
		if strings.TrimSpace(in.ClientSecret) != "" {
			t.ClientSecret = res.clientSecret
		}
		t.Modified = s.now()
		return nil
	})
	if err != nil {
		return store.Tenant{}, checks, s.storeErr(name, "configure", err)
	}
	s.log().InfoContext(ctx, "sign-in configured", "tenant", name, "issuer", res.issuer, "clientId", res.clientID)
	return t, checks, nil
}

// checkSignIn runs the steps for tenant cur.
func (s *Service) checkSignIn(ctx context.Context, cur store.Tenant, in SignIn) (resolved, []Check, error) {
	var checks []Check
	pass := func(name, detail string) { checks = append(checks, Check{Name: name, OK: true, Detail: detail}) }
	fail := func(name string, err error) (resolved, []Check, error) {
		checks = append(checks, Check{Name: name, Detail: Message(err)})
		return resolved{}, checks, &CheckError{Checks: checks, Err: err}
	}

	// Okta domain.
	entered, authServer := in.OktaDomain, strings.TrimSpace(in.AuthServer)
	var moved []string
	if domain, path, id, ok := authServerPath(entered); ok {
		// The issuer of a custom authorization server pasted whole: its
		// path names the server, which goes where the form asks for it.
		if authServer != "" && authServer != id {
			return fail(adminapi.CheckDomain, fmt.Errorf("%w: the Okta domain %q ends in the path %s of the authorization server %q, but Authorization server is %q; enter only the domain, %s, and in Authorization server the one you mean (%q or %q)", ErrInvalidDomain, clipText(strings.TrimSpace(entered), 200), path, id, clipText(authServer, 100), strings.TrimSpace(domain), id, clipText(authServer, 100)))
		}
		entered, authServer = domain, id
		moved = append(moved, "the "+path+" path was moved to Authorization server")
	}
	base, err := NormalizeDomain(entered)
	if err != nil {
		return fail(adminapi.CheckDomain, err)
	}
	if err := adminDomain(base); err != nil {
		return fail(adminapi.CheckDomain, err)
	}
	pass(adminapi.CheckDomain, base+domainNote(entered, base, moved...))

	// Discovery document.
	if !validAuthServer(authServer) {
		return fail(adminapi.CheckDiscovery, fmt.Errorf("%w: the authorization server id %q may contain only letters, digits, hyphens and underscores (such as default); leave it empty for the org authorization server", ErrInvalidSignIn, clipText(authServer, 100)))
	}
	issuer := Issuer(base, authServer)
	doc, err := s.discover(ctx, issuer, authServer)
	if err != nil {
		return fail(adminapi.CheckDiscovery, err)
	}
	pass(adminapi.CheckDiscovery, "issuer "+issuer)

	// Signing keys.
	detail, err := s.checkKeys(ctx, doc.JWKS)
	if err != nil {
		return fail(adminapi.CheckKeys, err)
	}
	pass(adminapi.CheckKeys, detail)

	// Client credentials.
	clientID := strings.TrimSpace(in.ClientID)
	clientSecret := strings.TrimSpace(in.ClientSecret)
	if clientID == "" {
		return fail(adminapi.CheckCredentials, fmt.Errorf("%w: the client id is missing; copy it from the OIDC app's General tab in Okta", ErrInvalidSignIn))
	}
	if clientSecret == "" {
		clientSecret = cur.ClientSecret
	}
	if clientSecret == "" {
		return fail(adminapi.CheckCredentials, fmt.Errorf("%w: the client secret is missing; copy it from the OIDC app's General tab in Okta", ErrInvalidSignIn))
	}
	if err := s.checkCredentials(ctx, doc.Token, clientID, clientSecret, s.RedirectURI(cur.Name)); err != nil {
		return fail(adminapi.CheckCredentials, err)
	}
	pass(adminapi.CheckCredentials, "Okta accepted the Client ID and secret")
	return resolved{base: base, authServer: authServer, issuer: issuer, clientID: clientID, clientSecret: clientSecret}, checks, nil
}

// authServerPath splits an Okta domain entered with the path of a custom
// authorization server ("dev-1.okta.com/oauth2/default", the issuer Okta
// shows on Security › API) into the domain ("dev-1.okta.com"), the path
// ("/oauth2/default", without a trailing slash) and the server id. ok is
// false for anything else, which NormalizeDomain judges: other paths,
// the org server's /oauth2/v1, queries, fragments and user info.
func authServerPath(entered string) (domain, path, id string, ok bool) {
	d := strings.TrimSpace(entered)
	raw := d
	if !strings.Contains(d, "://") {
		raw = "https://" + d
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(d, "#") {
		return "", "", "", false
	}
	rest, has := strings.CutPrefix(u.Path, "/oauth2/")
	id = strings.TrimSuffix(rest, "/")
	if !has || id == "" || id == "v1" || strings.Contains(id, "/") || !validAuthServer(id) {
		return "", "", "", false
	}
	i := strings.Index(entered, "/oauth2/")
	if i < 0 || u.Host == "" {
		return "", "", "", false
	}
	return entered[:i], "/oauth2/" + id, id, true
}

// domainNote says in parentheses what NormalizeDomain changed in what was
// entered to make base, and the more reasons given, or "" when nothing.
func domainNote(entered, base string, more ...string) string {
	var why []string
	d := strings.TrimSpace(entered)
	if d != entered {
		why = append(why, "the spaces around it were removed")
	}
	if !strings.Contains(d, "://") {
		why = append(why, "https:// was added")
		d = "https://" + d
	}
	if strings.HasSuffix(d, "/") {
		why = append(why, "the trailing slash was dropped")
		d = strings.TrimSuffix(d, "/")
	}
	if d != base && strings.EqualFold(d, base) {
		why = append(why, "it was written in lower case")
	}
	why = append(why, more...)
	switch len(why) {
	case 0:
		return ""
	case 1:
		return " (" + why[0] + ")"
	}
	return " (" + strings.Join(why[:len(why)-1], ", ") + " and " + why[len(why)-1] + ")"
}

// oktaSuffixes are the domains of Okta orgs (not custom domains), whose
// Admin Console lives at ORG-admin.SUFFIX.
var oktaSuffixes = []string{".okta.com", ".oktapreview.com", ".okta-emea.com", ".okta-gov.com", ".okta.mil", ".trexcloud.com"}

// adminDomain refuses an Okta Admin Console domain (dev-1-admin.okta.com):
// it serves no sign-in, the org domain does.
func adminDomain(base string) error {
	u, err := url.Parse(base)
	if err != nil {
		return nil
	}
	host := u.Hostname()
	for _, suf := range oktaSuffixes {
		label, ok := strings.CutSuffix(host, suf)
		if !ok || strings.Contains(label, ".") {
			continue
		}
		if org, ok := strings.CutSuffix(label, "-admin"); ok && org != "" {
			return fmt.Errorf("%w: the domain %s is Okta's Admin Console; use the org domain without -admin: %s", ErrInvalidDomain, host, org+suf)
		}
	}
	return nil
}

// discoveryDoc is what the check reads of a discovery document.
type discoveryDoc struct {
	Issuer        string `json:"issuer"`
	Authorization string `json:"authorization_endpoint"`
	Token         string `json:"token_endpoint"`
	Userinfo      string `json:"userinfo_endpoint"`
	JWKS          string `json:"jwks_uri"`
}

// opClient is the client for requests to Okta: HTTPClient's transport
// and timeout (DiscoveryTimeout when nil), following no redirect and
// keeping no cookies, so that a lying domain cannot point this server
// elsewhere.
func (s *Service) opClient() *http.Client {
	client := &http.Client{Timeout: DiscoveryTimeout}
	if s.HTTPClient != nil {
		c := *s.HTTPClient
		client = &c
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	client.Jar = nil
	return client
}

// opResponse is an answer from Okta, its body read (at most maxOPBody).
type opResponse struct {
	status   int
	header   http.Header
	body     []byte
	tooLarge bool
}

// do sends req with DiscoveryTimeout and reads the answer. An error is a
// request that got no answer, without the *url.Error wrapper.
func (s *Service) do(ctx context.Context, method, where string, body io.Reader, edit func(*http.Request)) (opResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, DiscoveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, where, body)
	if err != nil {
		return opResponse{}, err
	}
	req.Header.Set("Accept", "application/json")
	if edit != nil {
		edit(req)
	}
	resp, err := s.opClient().Do(req)
	if err != nil {
		return opResponse{}, unwrapURLError(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxOPBody+1))
	if err != nil {
		return opResponse{}, err
	}
	return opResponse{status: resp.StatusCode, header: resp.Header, body: b, tooLarge: len(b) > maxOPBody}, nil
}

// discover reads issuer's discovery document, checks its issuer and that
// its endpoints are on the issuer's origin, and returns it.
func (s *Service) discover(ctx context.Context, issuer, authServer string) (discoveryDoc, error) {
	where := issuer + "/.well-known/openid-configuration"
	resp, err := s.do(ctx, http.MethodGet, where, nil, nil)
	if err != nil {
		if origin, ok := strings.CutSuffix(issuer, "/oauth2/"+authServer); ok || authServer == "" {
			if authServer == "" {
				origin = issuer
			}
			if strings.HasPrefix(origin, "https://") && strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
				// Go's transport got a plain-http answer to its TLS hello.
				hint := "Okta domains use https, so check the Okta domain"
				if u, perr := url.Parse(origin); perr == nil && isLoopback(strings.ToLower(u.Hostname())) {
					hint = "if this is a local mock Okta, enter its address with http://"
				}
				return discoveryDoc{}, fmt.Errorf("%w: %s speaks http, not https; %s", ErrDiscovery, origin, hint)
			}
		}
		return discoveryDoc{}, fmt.Errorf("%w: could not reach %s (%w); check the Okta domain and that this server can reach it", ErrDiscovery, where, err)
	}
	if resp.status >= 300 && resp.status < 400 {
		return discoveryDoc{}, fmt.Errorf("%w: %s answered a redirect (HTTP %d) to %q instead of the discovery document; check the Okta domain (use the domain Okta shows for your org, not a vanity or login URL)", ErrDiscovery, where, resp.status, clipText(resp.header.Get("Location"), 200))
	}
	if resp.status == http.StatusNotFound {
		if authServer != "" {
			return discoveryDoc{}, fmt.Errorf("%w: %s answered HTTP 404: this org has no authorization server %q; leave Authorization server empty for the org server, or copy the id from Security › API in Okta", ErrDiscovery, where, authServer)
		}
		return discoveryDoc{}, fmt.Errorf("%w: %s answered HTTP 404, so %s is not an Okta domain; check the Okta domain (use the domain Okta shows for your org)", ErrDiscovery, where, issuer)
	}
	if resp.status != http.StatusOK {
		hint := "check the Okta domain"
		if authServer != "" {
			hint += fmt.Sprintf(" and that the authorization server %q exists", authServer)
		}
		if resp.status >= 500 {
			hint = "Okta may be having trouble; try again in a moment, and " + hint
		}
		return discoveryDoc{}, fmt.Errorf("%w: %s answered HTTP %d instead of the discovery document; %s", ErrDiscovery, where, resp.status, hint)
	}
	if resp.tooLarge {
		return discoveryDoc{}, fmt.Errorf("%w: %s sent more than 1 MiB, which is no discovery document; check that the domain is an Okta domain", ErrDiscovery, where)
	}
	var doc discoveryDoc
	if err := json.Unmarshal(resp.body, &doc); err != nil {
		return discoveryDoc{}, fmt.Errorf("%w: %s did not return a JSON discovery document; check that the domain is an Okta domain", ErrDiscovery, where)
	}
	if doc.Issuer == "" {
		return discoveryDoc{}, fmt.Errorf("%w: the discovery document at %s has no issuer; check that the domain is an Okta domain", ErrDiscovery, where)
	}
	if doc.Issuer != issuer {
		var hint string
		switch {
		case strings.TrimRight(doc.Issuer, "/") == strings.TrimRight(issuer, "/"):
			hint = "they differ only by a trailing slash, and the issuer must match exactly (Okta issuers never end in /)"
		case authServer == "" && strings.Contains(doc.Issuer, "/oauth2/"):
			id := strings.Trim(doc.Issuer[strings.Index(doc.Issuer, "/oauth2/")+len("/oauth2/"):], "/")
			hint = fmt.Sprintf("the document is for a custom authorization server, so enter %q as the authorization server", id)
		case authServer != "" && !strings.Contains(doc.Issuer, "/oauth2/"):
			hint = "the document is for the org authorization server, so leave the authorization server empty"
		default:
			hint = "check the Okta domain (use the domain Okta shows for your org) and the authorization server"
		}
		return discoveryDoc{}, fmt.Errorf("%w: the discovery document at %s names the issuer %q, but %q was expected; %s", ErrDiscovery, where, clipText(doc.Issuer, 200), issuer, hint)
	}
	for _, ep := range []struct{ name, url string }{
		{"authorization_endpoint", doc.Authorization}, {"token_endpoint", doc.Token},
		{"userinfo_endpoint", doc.Userinfo}, {"jwks_uri", doc.JWKS},
	} {
		if ep.url == "" && ep.name != "userinfo_endpoint" {
			return discoveryDoc{}, fmt.Errorf("%w: the discovery document at %s lists no %s, which sign-in needs; check that the domain is an Okta domain", ErrDiscovery, where, ep.name)
		}
		if ep.url != "" && !SameOrigin(issuer, ep.url) {
			return discoveryDoc{}, fmt.Errorf("%w: the discovery document at %s puts its %s at %q, outside the issuer's origin; Okta serves every endpoint on the issuer's own host, so this is not an Okta org", ErrDiscovery, where, ep.name, clipText(ep.url, 200))
		}
	}
	return doc, nil
}

// checkKeys reads the JWK Set at jwksURI and says how many signing keys
// sign-in can use ("2 keys (RS256)"). Each key is parsed alone, with
// scim/login's rules, so that one it cannot use does not spoil the rest.
func (s *Service) checkKeys(ctx context.Context, jwksURI string) (string, error) {
	resp, err := s.do(ctx, http.MethodGet, jwksURI, nil, func(r *http.Request) {
		r.Header.Set("Accept", "application/json, application/jwk-set+json")
	})
	if err != nil {
		return "", fmt.Errorf("%w: could not reach the signing keys at %s (%w); check that this server can reach Okta", ErrDiscovery, jwksURI, err)
	}
	if resp.status >= 300 && resp.status < 400 {
		return "", fmt.Errorf("%w: %s answered a redirect (HTTP %d) instead of the signing keys; Okta serves them directly, so check the Okta domain", ErrDiscovery, jwksURI, resp.status)
	}
	if resp.status != http.StatusOK {
		return "", fmt.Errorf("%w: %s answered HTTP %d instead of the signing keys; check the Okta domain, or try again in a moment", ErrDiscovery, jwksURI, resp.status)
	}
	if resp.tooLarge {
		return "", fmt.Errorf("%w: %s sent more than 1 MiB, which is no key set of Okta's", ErrDiscovery, jwksURI)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(resp.body, &set); err != nil || set.Keys == nil {
		return "", fmt.Errorf("%w: %s did not return a JWK Set (a JSON object with \"keys\"); check that the domain is an Okta domain", ErrDiscovery, jwksURI)
	}
	if len(set.Keys) > maxKeysInSet {
		return "", fmt.Errorf("%w: %s publishes %d keys, more than the %d sign-in accepts", ErrDiscovery, jwksURI, len(set.Keys), maxKeysInSet)
	}
	byAlg := map[string]int{}
	usable := 0
	for _, raw := range set.Keys {
		alg, err := signingAlg(raw)
		if err != nil {
			continue
		}
		byAlg[alg]++
		usable++
	}
	if usable == 0 {
		what := "it is empty"
		if len(set.Keys) > 0 {
			what = fmt.Sprintf("none of its %d keys is an RS256 or ES256 signing key", len(set.Keys))
		}
		return "", fmt.Errorf("%w: the key set at %s has no key sign-in can use (%s); Okta publishes RS256 keys, so check the Okta domain", ErrDiscovery, jwksURI, what)
	}
	algs := make([]string, 0, len(byAlg))
	for a := range byAlg {
		algs = append(algs, a)
	}
	sort.Strings(algs)
	noun := "keys"
	if usable == 1 {
		noun = "key"
	}
	detail := fmt.Sprintf("%d %s (%s)", usable, noun, strings.Join(algs, ", "))
	if skipped := len(set.Keys) - usable; skipped > 0 {
		detail += fmt.Sprintf("; %d other %s not used", skipped, map[bool]string{true: "key", false: "keys"}[skipped == 1])
	}
	return detail, nil
}

// signingAlg returns the algorithm ("RS256" or "ES256") a JWK verifies
// signatures with, or why sign-in cannot use it: the rules of scim/login's
// key set (use absent or sig, public RSA of 2048 bits or more, or EC
// P-256, alg absent or matching).
func signingAlg(raw json.RawMessage) (string, error) {
	var head struct {
		Kty, Use, Alg, Crv string
		D, P, Q, K         *string
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return "", errors.New("not a JSON object")
	}
	switch {
	case head.D != nil || head.P != nil || head.Q != nil || head.K != nil:
		return "", errors.New("private or symmetric key")
	case head.Use != "" && head.Use != "sig":
		return "", errors.New("not a signing key")
	case head.Kty == "RSA" && head.Alg != "" && head.Alg != string(jose.RS256):
		return "", errors.New("RSA key for another alg")
	case head.Kty == "EC" && (head.Crv != "P-256" || head.Alg != "" && head.Alg != string(jose.ES256)):
		return "", errors.New("EC key for another alg or curve")
	case head.Kty != "RSA" && head.Kty != "EC":
		return "", errors.New("another key type")
	}
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON(raw); err != nil {
		return "", err
	}
	switch pub := k.Key.(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < minRSABits || pub.E < 3 || pub.E%2 == 0 {
			return "", errors.New("weak RSA key")
		}
		return string(jose.RS256), nil
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return "", errors.New("EC key not on P-256")
		}
		return string(jose.ES256), nil
	}
	return "", fmt.Errorf("unsupported key %T", k.Key)
}

// checkCredentials sends the token endpoint a made-up authorization code
// with the client's id and secret (client_secret_basic, each
// form-urlencoded first, RFC 6749 §2.3.1). Okta authenticates the client
// before it looks at the code: invalid_grant means the credentials are
// right, invalid_client that they are not.
func (s *Service) checkCredentials(ctx context.Context, tokenURL, clientID, clientSecret, redirectURI string) error {
	form := url.Values{
		"grant_type":   {"authorization_code"},
		"code":         {"idpkit-sign-in-check-" + secret.New()},
		"redirect_uri": {redirectURI},
	}
	resp, err := s.do(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()), func(r *http.Request) {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(clientSecret))
	})
	if err != nil {
		return fmt.Errorf("%w: could not reach Okta's token endpoint %s (%w); check that this server can reach Okta", ErrDiscovery, tokenURL, err)
	}
	var oe struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	json.Unmarshal(resp.body, &oe)
	// A token endpoint may echo what it was sent: the secret goes into
	// no sentence and no log line, in any of the forms it was sent in.
	hide := secretForms(clientID, clientSecret)
	oe.Error = clipText(redactSecret(oe.Error, hide), 64)
	oe.Description = clipText(redactSecret(oe.Description, hide), 200)
	what := "HTTP " + strconv.Itoa(resp.status)
	if oe.Error != "" {
		what = oe.Error
		if oe.Description != "" {
			what += ": " + oe.Description
		}
	}
	switch {
	case resp.status == http.StatusBadRequest && oe.Error == "invalid_grant":
		return nil
	case oe.Error == "invalid_client" || resp.status == http.StatusUnauthorized:
		code := oe.Error
		if code == "" {
			code = "HTTP 401"
		}
		return fmt.Errorf("%w: Okta refused the Client ID or Client secret (%s); copy both again from the OIDC app's General tab", ErrInvalidSignIn, code)
	case oe.Error == "unauthorized_client":
		return fmt.Errorf("%w: Okta does not let this client use the Authorization Code grant (%s); in the OIDC app's General tab, allow the grant type Authorization Code (the app must be a Web app)", ErrInvalidSignIn, what)
	case resp.status >= 300 && resp.status < 400:
		return fmt.Errorf("%w: Okta's token endpoint %s answered a redirect (HTTP %d); check the Okta domain", ErrDiscovery, tokenURL, resp.status)
	case resp.status >= 500:
		return fmt.Errorf("%w: Okta's token endpoint %s failed (%s); try again in a moment", ErrDiscovery, tokenURL, what)
	case resp.status == http.StatusOK:
		return fmt.Errorf("%w: Okta's token endpoint %s accepted a made-up authorization code, which Okta never does; check the Okta domain", ErrDiscovery, tokenURL)
	}
	return fmt.Errorf("%w: Okta's token endpoint %s answered %s to a test request with a made-up code, not invalid_grant; check the OIDC app's settings in Okta", ErrDiscovery, tokenURL, what)
}

// secretForms are the forms in which a client secret is sent to a token
// endpoint: as is, form-urlencoded (also path-escaped), alone and inside
// the Basic credentials (RFC 7617 §2) in standard and URL-safe base64.
func secretForms(clientID, clientSecret string) []string {
	if clientSecret == "" {
		return nil
	}
	forms := []string{clientSecret, url.QueryEscape(clientSecret), url.PathEscape(clientSecret)}
	for _, b := range [][]byte{
		[]byte(url.QueryEscape(clientID) + ":" + url.QueryEscape(clientSecret)),
		[]byte(clientID + ":" + clientSecret),
		[]byte(clientSecret),
	} {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			forms = append(forms, enc.EncodeToString(b))
		}
	}
	// Longest first, so that a form containing another goes whole.
	sort.Slice(forms, func(i, j int) bool { return len(forms[i]) > len(forms[j]) })
	return forms
}

// redactSecret replaces every non-empty form in s with "[client secret]".
func redactSecret(s string, forms []string) string {
	for _, f := range forms {
		if f != "" {
			s = strings.ReplaceAll(s, f, "[client secret]")
		}
	}
	return s
}

// RedactClientSecret returns s (what a token endpoint answered) with
// clientSecret replaced by "[client secret]" in every form it is sent in
// (as is, form-urlencoded, base64 alone or in the Basic credentials with
// clientID), so that an endpoint echoing it gets it into no page and no
// log line.
func RedactClientSecret(s, clientID, clientSecret string) string {
	return redactSecret(s, secretForms(clientID, clientSecret))
}

// clipText shortens s to at most n bytes of valid UTF-8 and an ellipsis.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
