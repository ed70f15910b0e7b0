package tenant

import (
	"context"
	"errors"
	"fmt"
	"net"
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
			id, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/oauth2/"), "/")
			if id == "v1" || id == "" {
				return "", fmt.Errorf("%w: %q contains the path %q; enter only the domain, %s, and leave Authorization server empty (that path is the org authorization server's)", ErrInvalidDomain, d, u.Path, u.Scheme+"://"+u.Host)
			}
			return "", fmt.Errorf("%w: %q contains the path %q; enter only the domain, %s, and %q as the authorization server", ErrInvalidDomain, d, u.Path, u.Scheme+"://"+u.Host, id)
		}
		return "", fmt.Errorf("%w: %q contains the path %q; enter only the domain, %s (an authorization server id such as \"default\" is entered on its own, as the authorization server)", ErrInvalidDomain, d, u.Path, u.Scheme+"://"+u.Host)
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

// Configure runs the sign-in check (CheckSignIn) and saves the tenant's
// sign-in settings only when every step passed: the domain normalised,
// the issuer's discovery document read
// (issuer/.well-known/openid-configuration) with an issuer equal to the
// expected one exactly (OpenID Connect Discovery 1.0 §4.3), a usable
// signing key, and client credentials the token endpoint accepts. An
// empty ClientSecret keeps a secret saved before. Errors match
// ErrInvalidDomain, ErrInvalidSignIn, ErrDiscovery or ErrNotFound, and
// read as a sentence a person can act on; a failed step's error is a
// *CheckError. ConfigureChecked also returns the steps.
func (s *Service) Configure(ctx context.Context, name string, in SignIn) (store.Tenant, error) {
	t, _, err := s.ConfigureChecked(ctx, name, in)
	return t, err
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
