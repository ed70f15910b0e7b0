package tenant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/idpkit/idpkit/scim/store"
)

// SignIn holds the sign-in settings an admin enters in the Connect Okta
// dialog (or passes to `idpkit tenant configure`). AuthServer is "" for
// Okta's org authorization server, else a custom server id such as "default".
type SignIn struct {
	OktaDomain   string `json:"oktaDomain"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
	AuthServer   string `json:"authServer"`
}

// NormalizeDomain turns an Okta domain as a person enters it into a base
// URL without a trailing slash: "example.okta.com" and
// "https://example.okta.com/" become "https://example.okta.com". http:// is
// accepted only for loopback hosts (127.0.0.1, ::1, localhost), as used by
// a local mock. Paths, queries, fragments and user info are refused.
// Errors match ErrInvalidDomain.
func NormalizeDomain(domain string) (string, error) {
	d := strings.TrimSpace(domain)
	if d == "" {
		return "", fmt.Errorf("%w: the Okta domain is empty; enter it as Okta shows it, such as example.okta.com", ErrInvalidDomain)
	}
	raw := d
	if !strings.Contains(d, "://") {
		raw = "https://" + d
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%w: %q is not a domain or URL; enter it as Okta shows it, such as example.okta.com", ErrInvalidDomain, d)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", fmt.Errorf("%w: %q: only https URLs are allowed", ErrInvalidDomain, d)
	}
	if u.Opaque != "" || u.Host == "" {
		return "", fmt.Errorf("%w: %q has no host name; enter it as Okta shows it, such as example.okta.com", ErrInvalidDomain, d)
	}
	if u.User != nil {
		return "", fmt.Errorf("%w: %q contains a user name or password; enter only the domain", ErrInvalidDomain, d)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(d, "#") {
		return "", fmt.Errorf("%w: %q contains a query or fragment; enter only the domain", ErrInvalidDomain, d)
	}
	if u.Path != "" && u.Path != "/" {
		if strings.HasPrefix(u.Path, "/oauth2/") {
			id := strings.Trim(strings.TrimPrefix(u.Path, "/oauth2/"), "/")
			return "", fmt.Errorf("%w: %q contains the path %q; enter only the domain and choose the authorization server separately (--auth-server %s)", ErrInvalidDomain, d, u.Path, id)
		}
		return "", fmt.Errorf("%w: %q contains the path %q; enter only the domain (an authorization server is chosen with --auth-server)", ErrInvalidDomain, d, u.Path)
	}
	host := strings.ToLower(u.Hostname())
	if !validHost(host) {
		return "", fmt.Errorf("%w: %q is not a valid host name", ErrInvalidDomain, u.Hostname())
	}
	if p := u.Port(); p != "" {
		for _, c := range p {
			if c < '0' || c > '9' {
				return "", fmt.Errorf("%w: %q has an invalid port", ErrInvalidDomain, d)
			}
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return "", fmt.Errorf("%w: %q has an empty port", ErrInvalidDomain, d)
	}
	if u.Scheme == "http" && !isLoopback(host) {
		return "", fmt.Errorf("%w: %q: http is allowed only for loopback hosts; Okta domains use https", ErrInvalidDomain, d)
	}
	hostport := host
	if strings.Contains(host, ":") {
		hostport = "[" + host + "]"
	}
	if p := u.Port(); p != "" {
		hostport += ":" + p
	}
	return u.Scheme + "://" + hostport, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validHost accepts IP literals and DNS names made of letters, digits and
// hyphens (RFC 1123 §2.1).
func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// validAuthServer accepts Okta authorization server ids such as "default"
// or "aus1a2b3c4d5e6f7g8h9".
func validAuthServer(id string) bool {
	if len(id) > 100 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Issuer returns the issuer Okta uses for a normalised base URL and an
// authorization server id: base for the org server, else base/oauth2/ID.
func Issuer(base, authServer string) string {
	if authServer == "" {
		return base
	}
	return base + "/oauth2/" + authServer
}

// Configure saves the tenant's sign-in settings after normalising the
// domain and reading the issuer's discovery document
// (issuer/.well-known/openid-configuration), whose issuer must equal the
// expected one exactly (OpenID Connect Discovery 1.0 §4.3). An empty
// ClientSecret keeps a secret saved before. Errors match ErrInvalidDomain,
// ErrInvalidSignIn, ErrDiscovery or ErrNotFound, and read as a sentence a
// person can act on.
func (s *Service) Configure(ctx context.Context, name string, in SignIn) (store.Tenant, error) {
	base, err := NormalizeDomain(in.OktaDomain)
	if err != nil {
		return store.Tenant{}, err
	}
	authServer := strings.TrimSpace(in.AuthServer)
	if !validAuthServer(authServer) {
		return store.Tenant{}, fmt.Errorf("%w: the authorization server id %q may contain only letters, digits, hyphens and underscores (such as default); leave it empty for the org authorization server", ErrInvalidSignIn, authServer)
	}
	clientID := strings.TrimSpace(in.ClientID)
	clientSecret := strings.TrimSpace(in.ClientSecret)
	if clientID == "" {
		return store.Tenant{}, fmt.Errorf("%w: the client id is missing; copy it from the OIDC app's General tab in Okta", ErrInvalidSignIn)
	}
	cur, err := s.Store.GetTenant(ctx, name)
	if err != nil {
		return store.Tenant{}, s.storeErr(name, "configure", err)
	}
	if clientSecret == "" && cur.ClientSecret == "" {
		return store.Tenant{}, fmt.Errorf("%w: the client secret is missing; copy it from the OIDC app's General tab in Okta", ErrInvalidSignIn)
	}
	issuer := Issuer(base, authServer)
	if err := s.checkDiscovery(ctx, issuer, authServer); err != nil {
		s.log().WarnContext(ctx, "sign-in discovery failed", "tenant", name, "issuer", issuer, "err", err)
		return store.Tenant{}, err
	}
	t, err := s.Store.UpdateTenant(ctx, name, func(t *store.Tenant) error {
		t.OktaDomain = base
		t.AuthServer = authServer
		t.Issuer = issuer
		t.ClientID = clientID
		if clientSecret != "" {
			t.ClientSecret = clientSecret
		}
		t.Modified = s.now()
		return nil
	})
	if err != nil {
		return store.Tenant{}, s.storeErr(name, "configure", err)
	}
	s.log().InfoContext(ctx, "sign-in configured", "tenant", name, "issuer", issuer, "clientId", clientID)
	return t, nil
}

// checkDiscovery reads issuer's discovery document and checks its issuer.
func (s *Service) checkDiscovery(ctx context.Context, issuer, authServer string) error {
	client := &http.Client{Timeout: DiscoveryTimeout}
	if s.HTTPClient != nil {
		c := *s.HTTPClient
		client = &c
	}
	// Okta serves discovery at the issuer itself: a redirect is refused,
	// so that a lying domain cannot point this server elsewhere.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	ctx, cancel := context.WithTimeout(ctx, DiscoveryTimeout)
	defer cancel()
	where := issuer + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, where, nil)
	if err != nil {
		return fmt.Errorf("%w: cannot request %s: %w", ErrDiscovery, where, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: could not reach %s (%w); check the Okta domain and that this server can reach it", ErrDiscovery, where, unwrapURLError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%w: reading %s: %w", ErrDiscovery, where, err)
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return fmt.Errorf("%w: %s answered a redirect (HTTP %d) to %q instead of the discovery document; check the Okta domain (use the domain Okta shows for your org, not a vanity or login URL)", ErrDiscovery, where, resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp.StatusCode != http.StatusOK {
		hint := "check the Okta domain"
		if authServer != "" {
			hint += fmt.Sprintf(" and that the authorization server %q exists", authServer)
		}
		return fmt.Errorf("%w: %s answered HTTP %d instead of the discovery document; %s", ErrDiscovery, where, resp.StatusCode, hint)
	}
	var doc struct {
		Issuer        string `json:"issuer"`
		Authorization string `json:"authorization_endpoint"`
		Token         string `json:"token_endpoint"`
		Userinfo      string `json:"userinfo_endpoint"`
		JWKS          string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return fmt.Errorf("%w: %s did not return a JSON discovery document; check that the domain is an Okta domain", ErrDiscovery, where)
	}
	if doc.Issuer == "" {
		return fmt.Errorf("%w: the discovery document at %s has no issuer; check that the domain is an Okta domain", ErrDiscovery, where)
	}
	if doc.Issuer != issuer {
		var hint string
		switch {
		case strings.TrimRight(doc.Issuer, "/") == strings.TrimRight(issuer, "/"):
			hint = "they differ only by a trailing slash, and the issuer must match exactly (Okta issuers never end in /)"
		case authServer == "" && strings.Contains(doc.Issuer, "/oauth2/"):
			hint = "the document is for a custom authorization server, so set the authorization server (--auth-server) to match"
		case authServer != "" && !strings.Contains(doc.Issuer, "/oauth2/"):
			hint = "the document is for the org authorization server, so leave the authorization server empty"
		default:
			hint = "check the Okta domain (use the domain Okta shows for your org) and the authorization server"
		}
		return fmt.Errorf("%w: the discovery document at %s names the issuer %q, but %q was expected; %s", ErrDiscovery, where, doc.Issuer, issuer, hint)
	}
	for _, ep := range []struct{ name, url string }{
		{"authorization_endpoint", doc.Authorization}, {"token_endpoint", doc.Token},
		{"userinfo_endpoint", doc.Userinfo}, {"jwks_uri", doc.JWKS},
	} {
		if ep.url != "" && !SameOrigin(issuer, ep.url) {
			return fmt.Errorf("%w: the discovery document at %s puts its %s at %q, outside the issuer's origin; Okta serves every endpoint on the issuer's own host, so this is not an Okta org", ErrDiscovery, where, ep.name, ep.url)
		}
	}
	return nil
}

// SameOrigin reports whether endpoint has the scheme and host (with port)
// of issuer (RFC 6454 §4), and no user information: every endpoint Okta's
// discovery documents name does.
func SameOrigin(issuer, endpoint string) bool {
	iu, err := url.Parse(issuer)
	if err != nil {
		return false
	}
	eu, err := url.Parse(endpoint)
	if err != nil || eu.User != nil || eu.Host == "" {
		return false
	}
	return strings.EqualFold(iu.Scheme, eu.Scheme) && strings.EqualFold(iu.Host, eu.Host)
}

// unwrapURLError drops the *url.Error wrapper, whose text repeats the URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
