package check

import (
	"context"
	"net/http"
	"strings"
)

// opClientAuthChecks are the checks of client authentication at the token
// endpoint (RFC 6749 §2.3, §5.2).
func opClientAuthChecks() []OPCheck {
	l := opLabels("op-client-auth")
	return []OPCheck{
		{ID: "op-client-auth-multiple", Labels: l,
			Title: "a token request with client credentials in both the Authorization header and the body is refused with invalid_request",
			Ref:   "RFC 6749 §2.3, §5.2 (invalid_request: more than one mechanism for authenticating the client)",
			Run:   opCheckClientAuthMultiple},
		{ID: "op-client-auth-wrong-secret", Labels: l,
			Title: "a wrong client secret gets invalid_client, with 401 and WWW-Authenticate when Basic was used",
			Ref:   "RFC 6749 §2.3.1, §5.2 (invalid_client)",
			Run:   opCheckClientAuthWrongSecret},
	}
}

func opCheckClientAuthMultiple(ctx context.Context, t *OPTarget) error {
	a, az, code, err := t.startCode(ctx)
	if err != nil {
		return err
	}
	x, err := a.redeem(ctx, code, az.verifier, az.redirectURI(), opClientAuthBoth)
	if err != nil {
		return err
	}
	if x.status != http.StatusBadRequest || x.opErrorCode() != "invalid_request" {
		return opFail(x, "credentials in both the Basic header and the body got status %d error %q, want 400 invalid_request: a client must use one method per request (RFC 6749 §2.3, §5.2)", x.status, x.opErrorCode())
	}
	return nil
}

func opCheckClientAuthWrongSecret(ctx context.Context, t *OPTarget) error {
	a, az, code, err := t.startCode(ctx)
	if err != nil {
		return err
	}
	x, err := a.redeem(ctx, code, az.verifier, az.redirectURI(), opClientAuthWrongSecret)
	if err != nil {
		return err
	}
	p := &opProbe{}
	basic := t.authMethod() == opAuthBasic
	switch {
	case x.opErrorCode() != "invalid_client":
		p.failf(x, "a wrong client secret (%s) got status %d error %q, want invalid_client (RFC 6749 §5.2)", t.authMethod(), x.status, x.opErrorCode())
	case basic && x.status != http.StatusUnauthorized:
		p.failf(x, "a wrong client secret sent with Basic got status %d, want 401 (RFC 6749 §5.2)", x.status)
	case !basic && x.status != http.StatusUnauthorized && x.status != http.StatusBadRequest:
		p.failf(x, "a wrong client secret got status %d, want 401 or 400 (RFC 6749 §5.2)", x.status)
	}
	if basic && x.status == http.StatusUnauthorized {
		if w := x.header.Get("WWW-Authenticate"); !strings.HasPrefix(strings.ToLower(strings.TrimSpace(w)), "basic") {
			p.failf(x, "the 401 has WWW-Authenticate %q, want a Basic challenge: the client used the Authorization header (RFC 6749 §5.2)", w)
		}
	}
	return p.err()
}
