package check

import (
	"context"
	"fmt"
	"net/http"
	"slices"
)

// opPKCEChecks are the checks of RFC 7636 at the token and authorization
// endpoints.
func opPKCEChecks() []OPCheck {
	l := opLabels("op-pkce")
	return []OPCheck{
		{ID: "op-pkce-verifier-missing", Labels: l,
			Title: "a code issued for a code_challenge is refused without a code_verifier",
			Ref:   "RFC 7636 §4.5, §4.6; RFC 6749 §5.2",
			Run:   opCheckPKCEMissing},
		{ID: "op-pkce-verifier-wrong", Labels: l,
			Title: "a code is refused with a code_verifier that does not match its code_challenge, with invalid_grant",
			Ref:   "RFC 7636 §4.6",
			Run:   opCheckPKCEWrong},
		{ID: "op-pkce-verifier-length", Labels: l,
			Title: "a code_verifier of 42 or 129 characters is refused even when its S256 hash is the code_challenge",
			Ref:   "RFC 7636 §4.1, §4.6",
			Run:   opCheckPKCELength},
		{ID: "op-pkce-plain", Labels: l,
			Title: "code_challenge_method=plain is refused with an invalid_request error response to the redirect URI, with state",
			Ref:   "RFC 7636 §4.2, §4.4.1, §7.2; RFC 6749 §4.1.2.1; RFC 9700 §2.1.1",
			Run:   opCheckPKCEPlain},
	}
}

// refusedWith checks that a token response is a 400 error with one of
// codes; ref is the rule's section.
func (p *opProbe) refusedWith(x *opExchange, what, ref string, codes ...string) {
	if x.status == http.StatusOK {
		p.failf(x, "%s: the provider issued tokens (status 200), want 400 %s (%s)", what, joinOr(codes), ref)
		return
	}
	if x.status != http.StatusBadRequest || !slices.Contains(codes, x.opErrorCode()) {
		p.failf(x, "%s: status %d error %q, want 400 with error %s (%s; RFC 6749 §5.2)", what, x.status, x.opErrorCode(), joinOr(codes), ref)
	}
}

func joinOr(codes []string) string {
	if len(codes) == 1 {
		return codes[0]
	}
	return fmt.Sprintf("%s or %s", codes[0], codes[1])
}

func opCheckPKCEMissing(ctx context.Context, t *OPTarget) error {
	a, az, code, err := t.startCode(ctx)
	if err != nil {
		return err
	}
	x, err := a.redeem(ctx, code, "", az.redirectURI(), opClientAuthTarget)
	if err != nil {
		return err
	}
	p := &opProbe{}
	p.refusedWith(x, "a code issued for a code_challenge, redeemed without code_verifier", "RFC 7636 §4.6", "invalid_grant", "invalid_request")
	return p.err()
}

func opCheckPKCEWrong(ctx context.Context, t *OPTarget) error {
	a, az, code, err := t.startCode(ctx)
	if err != nil {
		return err
	}
	x, err := a.redeem(ctx, code, opVerifier(64), az.redirectURI(), opClientAuthTarget)
	if err != nil {
		return err
	}
	p := &opProbe{}
	p.refusedWith(x, "a code redeemed with another code_verifier", "RFC 7636 §4.6", "invalid_grant")
	return p.err()
}

func opCheckPKCELength(ctx context.Context, t *OPTarget) error {
	a, err := t.start(ctx)
	if err != nil {
		return err
	}
	p := &opProbe{}
	for _, n := range []int{42, 129} {
		v := opVerifier(n)
		az := a.authz(opScope).set("code_challenge", opChallenge(v))
		code, _, err := a.signInCode(ctx, az)
		if err != nil {
			return err
		}
		x, err := a.redeem(ctx, code, v, az.redirectURI(), opClientAuthTarget)
		if err != nil {
			return err
		}
		p.refusedWith(x, fmt.Sprintf("a code_verifier of %d characters (RFC 7636 §4.1 allows 43 to 128)", n), "RFC 7636 §4.1", "invalid_grant", "invalid_request")
	}
	return p.err()
}

func opCheckPKCEPlain(ctx context.Context, t *OPTarget) error {
	a, err := t.signedIn(ctx)
	if err != nil {
		return err
	}
	v := opVerifier(64)
	az := a.authz(opScope).set("code_challenge", v).set("code_challenge_method", "plain")
	x, err := a.authorizeThrough(ctx, az)
	if err != nil {
		return err
	}
	cb, ok := opCallback(x, az.redirectURI())
	if !ok {
		return opFail(x, "code_challenge_method=plain got no error response at the redirect URI; want a redirect with error=invalid_request, since the client and redirect URI are valid (RFC 6749 §4.1.2.1)")
	}
	p := &opProbe{}
	if code := cb.Get("code"); code != "" {
		tx, err := a.redeem(ctx, code, v, az.redirectURI(), opClientAuthTarget)
		if err != nil {
			return err
		}
		verdict := "the token endpoint refused it"
		if tx.status == http.StatusOK {
			verdict = "and the token endpoint accepted the plain verifier"
		}
		p.failf(x, "code_challenge_method=plain was accepted with a code (%s); want error=invalid_request, since plain shows the verifier to whoever sees the authorization request (RFC 7636 §4.4.1, §7.2)", verdict)
		return p.err()
	}
	if e := cb.Get("error"); e != "invalid_request" {
		p.failf(x, "code_challenge_method=plain got error=%q, want invalid_request (RFC 7636 §4.4.1)", e)
	}
	if cb.Get("state") != az.state {
		p.failf(x, "the error response's state is %q, want %q (RFC 6749 §4.1.2.1)", cb.Get("state"), az.state)
	}
	return p.err()
}
