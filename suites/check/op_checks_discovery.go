package check

import (
	"context"
	"net"
	"net/url"
	"slices"
	"strings"
)

// opDiscoveryChecks are the checks of the discovery document (OIDC
// Discovery 1.0 §3–§4, RFC 8414 §2–§3) and the JWK Set (RFC 7517, OIDC Core
// §10.1).
func opDiscoveryChecks() []OPCheck {
	l := opLabels("op-discovery")
	return []OPCheck{
		{ID: "op-discovery-issuer", Labels: l,
			Title: "the discovery document is served at the issuer + /.well-known/openid-configuration and names exactly the configured issuer, without a trailing slash",
			Ref:   "OpenID Connect Discovery 1.0 §4.1, §4.3; RFC 8414 §3, §3.3",
			Run:   opCheckDiscoveryIssuer},
		{ID: "op-discovery-required", Labels: l,
			Title: "the discovery document has every required field with a value of the right type",
			Ref:   "OpenID Connect Discovery 1.0 §3; RFC 8414 §2",
			Run:   opCheckDiscoveryRequired},
		{ID: "op-discovery-endpoints", Labels: l,
			Title: "the issuer and every endpoint are https URLs (http only on a loopback host) without a fragment",
			Ref:   "OpenID Connect Discovery 1.0 §3; RFC 8414 §2; RFC 6749 §3.1, §3.2",
			Run:   opCheckDiscoveryEndpoints},
		{ID: "op-discovery-pkce", Labels: l,
			Title: "code_challenge_methods_supported lists S256 and not plain",
			Ref:   "RFC 8414 §2; RFC 7636 §4.2, §4.4.1; RFC 9700 §2.1.1",
			Run:   opCheckDiscoveryPKCE},
		{ID: "op-discovery-algs", Labels: l,
			Title: "id_token_signing_alg_values_supported includes RS256",
			Ref:   "OpenID Connect Discovery 1.0 §3 (id_token_signing_alg_values_supported)",
			Run:   opCheckDiscoveryAlgs},
		{ID: "op-discovery-response-types", Labels: l,
			Title: "response_types_supported includes code, and subject_types_supported is not empty",
			Ref:   "OpenID Connect Discovery 1.0 §3; OpenID Connect Core 1.0 §3.1",
			Run:   opCheckDiscoveryResponseTypes},
		{ID: "op-jwks-keys", Labels: l,
			Title: "the JWK Set's keys have unique kids; its RSA keys have kid, use (sig for signing keys), alg and a usable modulus",
			Ref:   "RFC 7517 §4, §5; RFC 7518 §6.3; OpenID Connect Core 1.0 §10.1",
			Run:   opCheckJWKSKeys},
		{ID: "op-jwks-cache-control", Labels: l,
			Title: "the JWK Set is served with Cache-Control, so relying parties know how long to keep it",
			Ref:   "OpenID Connect Core 1.0 §10.1.1; RFC 9111 §5.2",
			Run:   opCheckJWKSCache},
	}
}

func opCheckDiscoveryIssuer(ctx context.Context, t *OPTarget) error {
	a := t.newAgent()
	p := &opProbe{}
	if strings.HasSuffix(t.Issuer, "/") {
		p.failf(nil, "the configured issuer %q ends in \"/\": Okta's issuers never do, and relying parties that build URLs from the issuer or trim it before comparing it exactly disagree about such an issuer (OpenID Connect Discovery 1.0 §4.1, §4.3)", t.Issuer)
	}
	x, err := a.do(ctx, "GET", t.discoveryURL(), nil, "application/json", "")
	if err != nil {
		return err
	}
	if x.status != 200 {
		p.failf(x, "status %d at %s, want 200: the document lives at the issuer + /.well-known/openid-configuration (OpenID Connect Discovery 1.0 §4.1)", x.status, t.discoveryURL())
		return p.err()
	}
	iss, ok := get(x.json, "issuer").(string)
	switch {
	case !ok:
		p.failf(x, "the document has no issuer string")
	case iss != t.Issuer:
		why := ""
		if strings.TrimSuffix(iss, "/") == strings.TrimSuffix(t.Issuer, "/") {
			why = " (they differ by a trailing slash, and relying parties compare issuers exactly)"
		}
		p.failf(x, "issuer is %q, want %q, the issuer the document was fetched for%s (OpenID Connect Discovery 1.0 §4.3)", iss, t.Issuer, why)
	}
	return p.err()
}

func opCheckDiscoveryRequired(ctx context.Context, t *OPTarget) error {
	a, err := t.start(ctx)
	if err != nil {
		return err
	}
	p := &opProbe{}
	m, x := a.meta.raw, a.meta.x
	for _, k := range []string{"issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"} {
		if s, ok := m[k].(string); !ok || s == "" {
			p.failf(nil, "%s is %s, want a URL string", k, show(m[k]))
		}
	}
	for _, k := range []string{"response_types_supported", "subject_types_supported", "id_token_signing_alg_values_supported"} {
		arr, ok := m[k].([]any)
		if !ok || len(arr) == 0 || len(opStrings(m[k])) != len(arr) {
			p.failf(nil, "%s is %s, want a non-empty array of strings", k, show(m[k]))
		}
	}
	for _, k := range []string{"scopes_supported", "response_modes_supported", "grant_types_supported", "token_endpoint_auth_methods_supported", "claims_supported", "code_challenge_methods_supported"} {
		if v, ok := m[k]; ok {
			if arr, isArr := v.([]any); !isArr || len(opStrings(v)) != len(arr) {
				p.failf(nil, "%s is %s, want an array of strings", k, show(v))
			}
		}
	}
	if sc := opStrings(m["scopes_supported"]); m["scopes_supported"] != nil && !slices.Contains(sc, "openid") {
		p.failf(nil, "scopes_supported is %s and lacks openid (OpenID Connect Discovery 1.0 §3)", show(m["scopes_supported"]))
	}
	if len(p.problems) > 0 {
		p.problems[len(p.problems)-1] += x.String()
	}
	return p.err()
}

// opLoopback reports whether host names the loopback interface.
func opLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// opURLProblem says what is wrong with an endpoint URL, or "".
func opURLProblem(raw string, issuer bool) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		return "is not an absolute URL"
	case u.Scheme != "https" && !(u.Scheme == "http" && opLoopback(u.Hostname())):
		return "is not https (http is only acceptable on a loopback host)"
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "has a fragment"
	case issuer && u.RawQuery != "":
		return "has a query"
	}
	return ""
}

func opCheckDiscoveryEndpoints(ctx context.Context, t *OPTarget) error {
	a, err := t.start(ctx)
	if err != nil {
		return err
	}
	p := &opProbe{}
	m := a.meta.raw
	keys := []string{"issuer"}
	for k := range m {
		if strings.HasSuffix(k, "_endpoint") || k == "jwks_uri" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys[1:])
	for _, k := range keys {
		s, ok := m[k].(string)
		if !ok {
			continue // op-discovery-required says so
		}
		if why := opURLProblem(s, k == "issuer"); why != "" {
			p.failf(nil, "%s %q %s (OpenID Connect Discovery 1.0 §3, RFC 8414 §2)", k, s, why)
		}
	}
	if len(p.problems) > 0 {
		p.problems[len(p.problems)-1] += a.meta.x.String()
	}
	return p.err()
}

func opCheckDiscoveryPKCE(ctx context.Context, t *OPTarget) error {
	a, err := t.start(ctx)
	if err != nil {
		return err
	}
	p := &opProbe{}
	v := a.meta.raw["code_challenge_methods_supported"]
	methods := opStrings(v)
	if !slices.Contains(methods, "S256") {
		p.failf(a.meta.x, "code_challenge_methods_supported is %s, want it to list S256 (RFC 8414 §2: omitting it says PKCE is not supported)", show(v))
	}
	if slices.Contains(methods, "plain") {
		p.failf(a.meta.x, "code_challenge_methods_supported lists plain; a provider should not accept it, since S256 keeps the verifier secret from whoever sees the authorization request (RFC 7636 §4.2, §7.2; RFC 9700 §2.1.1)")
	}
	return p.err()
}

func opCheckDiscoveryAlgs(ctx context.Context, t *OPTarget) error {
	a, err := t.start(ctx)
	if err != nil {
		return err
	}
	if !slices.Contains(a.meta.algs, "RS256") {
		return opFail(a.meta.x, "id_token_signing_alg_values_supported is %s, want it to include RS256 (OpenID Connect Discovery 1.0 §3: RS256 MUST be included)", show(a.meta.raw["id_token_signing_alg_values_supported"]))
	}
	return nil
}

func opCheckDiscoveryResponseTypes(ctx context.Context, t *OPTarget) error {
	a, err := t.start(ctx)
	if err != nil {
		return err
	}
	p := &opProbe{}
	if !slices.Contains(opStrings(a.meta.raw["response_types_supported"]), "code") {
		p.failf(a.meta.x, "response_types_supported is %s, want it to include code (the authorization code flow, OpenID Connect Core 1.0 §3.1)", show(a.meta.raw["response_types_supported"]))
	}
	if len(opStrings(a.meta.raw["subject_types_supported"])) == 0 {
		p.failf(a.meta.x, "subject_types_supported is %s, want public or pairwise (OpenID Connect Discovery 1.0 §3)", show(a.meta.raw["subject_types_supported"]))
	}
	return p.err()
}

func opCheckJWKSKeys(ctx context.Context, t *OPTarget) error {
	a, err := t.start(ctx)
	if err != nil {
		return err
	}
	x, err := a.jwksResponse(ctx)
	if err != nil {
		return err
	}
	set, problems := opParseJWKS(x.json)
	if set == nil {
		return opFail(x, "%s", problems[0])
	}
	p := &opProbe{}
	for _, pr := range problems {
		p.failf(nil, "%s", pr)
	}
	seen := map[string]int{}
	nRSA := 0
	for i, k := range set.keys {
		if k.kty == "" {
			p.failf(nil, "key %d has no kty (RFC 7517 §4.1)", i)
		}
		if k.kid == "" {
			if len(set.keys) > 1 {
				p.failf(nil, "key %d has no kid, and the set holds %d keys: relying parties cannot tell which key signed a token (OpenID Connect Core 1.0 §10.1)", i, len(set.keys))
			}
		} else {
			seen[k.kid]++
			if seen[k.kid] == 2 {
				p.failf(nil, "kid %q appears more than once (RFC 7517 §4.5: keys in a set must be told apart by kid)", k.kid)
			}
		}
		if k.kty != "RSA" {
			continue
		}
		if k.kid == "" && len(set.keys) == 1 {
			p.failf(nil, "the RSA key has no kid (OpenID Connect Core 1.0 §10.1; a kid lets relying parties follow key rotation)")
		}
		switch k.use {
		case "sig":
			nRSA++
			if !strings.HasPrefix(k.alg, "RS") && !strings.HasPrefix(k.alg, "PS") {
				p.failf(nil, "RSA signing key %q has alg %q, want the algorithm it signs with, such as RS256 (RFC 7517 §4.4)", k.kid, k.alg)
			}
		case "enc":
			if k.alg == "" {
				p.failf(nil, "RSA encryption key %q has no alg (RFC 7517 §4.4)", k.kid)
			}
		default:
			p.failf(nil, "RSA key %q has use %q, want \"sig\" (or \"enc\" for an encryption key): relying parties pick the signing keys by use (RFC 7517 §4.2; OpenID Connect Core 1.0 §10.1.1)", k.kid, k.use)
		}
	}
	if nRSA == 0 && len(p.problems) == 0 {
		p.failf(nil, "the JWK Set has no RSA signing key, but ID tokens must be signable with RS256 (OpenID Connect Discovery 1.0 §3)")
	}
	if len(p.problems) > 0 {
		p.problems[len(p.problems)-1] += x.String()
	}
	return p.err()
}

func opCheckJWKSCache(ctx context.Context, t *OPTarget) error {
	a, err := t.start(ctx)
	if err != nil {
		return err
	}
	x, err := a.jwksResponse(ctx)
	if err != nil {
		return err
	}
	cc := strings.ToLower(x.header.Get("Cache-Control"))
	switch {
	case cc == "":
		return opFail(x, "the JWK Set has no Cache-Control header; relying parties cache the keys and need to know for how long (OpenID Connect Core 1.0 §10.1.1)")
	case strings.Contains(cc, "no-store"):
		return opFail(x, "the JWK Set is served with Cache-Control %q: every relying party would fetch the keys for every token", x.header.Get("Cache-Control"))
	}
	return nil
}

// jwksResponse fetches jwks_uri afresh; anything but a 200 fails the
// check.
func (a *opAgent) jwksResponse(ctx context.Context) (*opExchange, error) {
	x, err := a.do(ctx, "GET", a.meta.jwksURI, nil, "application/json", "")
	if err != nil {
		return nil, err
	}
	if x.status != 200 {
		return nil, opFail(x, "status %d at jwks_uri, want 200 with the JWK Set (RFC 7517 §5)", x.status)
	}
	return x, nil
}
