package check

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// This file holds the OpenID-provider side of the catalogue: checks that an
// OpenID provider (Okta, or the mock Okta of package mockidp) behaves as
// the specifications require of it, seen from a relying party that has a
// registered confidential client and one user's credentials.
//
// The OP checks sign in by driving the provider's own HTML login form (see
// op_form.go); a provider whose sign-in page is a script (Okta's Sign-In
// Widget) fails them with "could not find a login form at …". They never
// follow a redirect to the client's redirect URI: they read the Location
// header, or the form of the form_post response mode.
//
// Specifications: OpenID Connect Core 1.0 (§2 ID token, §3.1 code flow,
// §5.3 UserInfo, §10.1 signing keys, §12 refresh), OpenID Connect
// Discovery 1.0 §3–§4, RFC 8414 (authorization server metadata), RFC 6749
// (§2.3 client authentication, §3.1.2 redirection endpoint, §4.1 code
// grant, §5 token responses, §6 refresh, §10.5 codes), RFC 6750 §3
// (bearer token errors), RFC 7517 (JWK Sets), RFC 7636 (PKCE), OAuth 2.0
// Form Post Response Mode and OpenID Connect RP-Initiated Logout 1.0.

// OPTarget is the OpenID provider under test and what a relying party
// registered with it knows.
type OPTarget struct {
	// Issuer is the issuer identifier the relying party is configured
	// with, e.g. https://dev-1.okta.com/oauth2/default.
	Issuer string
	// ClientID and ClientSecret are a confidential client's credentials.
	ClientID, ClientSecret string
	// RedirectURI is one of the client's registered sign-in redirect
	// URIs. It is never fetched: the checks read the Location header (or
	// the form_post form) that points at it.
	RedirectURI string
	// AuthMethod is the client's token endpoint authentication method:
	// "client_secret_basic" (the default when empty) or
	// "client_secret_post".
	AuthMethod string
	// Username and Password are a user's credentials, typed into the
	// provider's login form.
	Username, Password string
	// PostLogoutRedirectURI is one of the client's registered sign-out
	// redirect URIs; empty skips the check that needs one.
	PostLogoutRedirectURI string
	// Client sends the requests; nil means http.DefaultClient. Each
	// check runs its browser sessions with a cookie jar of its own and
	// never follows redirects itself, whatever Client's settings.
	Client *http.Client
	// Now is the clock that judges exp, iat and auth_time and times the
	// checks; nil means time.Now.
	Now func() time.Time
}

func (t *OPTarget) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// authMethod is the client's token endpoint authentication method.
func (t *OPTarget) authMethod() string {
	if t.AuthMethod == "" {
		return opAuthBasic
	}
	return t.AuthMethod
}

// Token endpoint authentication methods of OPTarget.AuthMethod
// (RFC 6749 §2.3.1, OIDC Core §9).
const (
	opAuthBasic = "client_secret_basic"
	opAuthPost  = "client_secret_post"
)

// Validate reports a target that the checks cannot run against: a missing
// issuer, client, redirect URI or user, or an unknown AuthMethod.
func (t *OPTarget) Validate() error {
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"Issuer", t.Issuer}, {"ClientID", t.ClientID}, {"ClientSecret", t.ClientSecret},
		{"RedirectURI", t.RedirectURI}, {"Username", t.Username}, {"Password", t.Password},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("check: the OP target needs %s", strings.Join(missing, ", "))
	}
	if m := t.authMethod(); m != opAuthBasic && m != opAuthPost {
		return fmt.Errorf("check: unknown AuthMethod %q: want %s or %s", m, opAuthBasic, opAuthPost)
	}
	return nil
}

// OPCheck is one rule for an OpenID provider.
type OPCheck struct {
	ID     string   // stable identifier, e.g. "op-code-reuse"
	Title  string   // what the rule is, in one sentence
	Ref    string   // the specification section the rule comes from
	Labels []string // "op" and the area: op-discovery, op-code, op-pkce, op-prompt, op-client-auth, op-tokens, op-logout
	// Run performs the check against t and returns nil when the
	// provider behaves, Skip(reason) when the check cannot apply, or an
	// error describing everything that was wrong.
	Run func(ctx context.Context, t *OPTarget) error
}

// HasLabel reports whether c carries label l.
func (c OPCheck) HasLabel(l string) bool { return slices.Contains(c.Labels, l) }

// OP returns the OpenID provider catalogue, in a stable order. Every check
// carries the label "op" and one area label: "op-discovery" (discovery
// document and JWKS), "op-code" (the authorization code flow, state,
// redirect URIs, code reuse), "op-pkce", "op-prompt" (prompt and max_age),
// "op-client-auth" (token endpoint client authentication), "op-tokens"
// (UserInfo and refresh) and "op-logout" (RP-initiated logout).
func OP() []OPCheck {
	var all []OPCheck
	all = append(all, opDiscoveryChecks()...)
	all = append(all, opCodeChecks()...)
	all = append(all, opPKCEChecks()...)
	all = append(all, opPromptChecks()...)
	all = append(all, opClientAuthChecks()...)
	all = append(all, opTokenChecks()...)
	all = append(all, opLogoutChecks()...)
	return all
}

// SelectOP returns the checks that carry any of labels (every check when
// labels is empty) and whose ID does not appear in skip.
func SelectOP(checks []OPCheck, labels, skip []string) []OPCheck {
	return selectChecks(checks, labels, skip, true) // "strict" is a label like any other here
}

// RunOPAll runs checks one after another against t and returns their
// results; progress, when not nil, is called after each check. A check
// that panics is reported as failed; the run goes on. When ctx is done
// (an interrupted run) it stops: the check it cut short and the ones
// after it have no result, so fewer results than checks means the run
// was interrupted, and no check fails for the interruption.
func RunOPAll(ctx context.Context, checks []OPCheck, t *OPTarget, progress func(done, total int, r Result)) []Result {
	return runEach(ctx, checks, true, func(ctx context.Context, c OPCheck) Result { return RunOP(ctx, c, t) }, progress)
}

// RunOP runs a single OP check with a time limit of 30 seconds.
func RunOP(ctx context.Context, c OPCheck, t *OPTarget) (r Result) {
	return runLimited(ctx, c.head(), t.now, 30*time.Second, func(ctx context.Context) error {
		if err := t.Validate(); err != nil {
			return err
		}
		return c.Run(ctx, t)
	})
}

// opLabels is the label list of a check of one area.
func opLabels(area string) []string { return []string{"op", area} }
