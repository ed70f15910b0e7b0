package check

// This file is PreflightOP: what keeps every OP check from running, said
// once before a run.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// PreflightOP tells, in one sentence, what keeps every OP check from
// running, before a run: a target Validate refuses; a discovery document
// that cannot be read (the provider is unreachable, or is not an OpenID
// provider); a login as Username with Password that fails (with what the
// provider said); or a token endpoint that refuses the client's
// credentials, saying so when the client uses the other authentication
// method than AuthMethod. It signs in once or twice and redeems the codes.
func PreflightOP(ctx context.Context, t *OPTarget) error {
	if err := t.Validate(); err != nil {
		return err
	}
	a := t.newAgent()
	x, err := a.do(ctx, "GET", t.discoveryURL(), nil, "application/json", "")
	if err != nil {
		return fmt.Errorf("check: the provider at %s is unreachable (GET %s: %v)", t.Issuer, t.discoveryURL(), opCause(err))
	}
	if _, ok := x.json.(map[string]any); x.status != http.StatusOK || !ok {
		return fmt.Errorf("check: %s is not an OpenID provider: GET %s answered %d %s, not a discovery document (OpenID Connect Discovery 1.0 §4)",
			t.Issuer, t.discoveryURL(), x.status, opOneLine(x))
	}
	if iss := str(get(x.json, "issuer")); iss != t.Issuer && strings.TrimRight(iss, "/") == strings.TrimRight(t.Issuer, "/") {
		return fmt.Errorf("check: the issuer is %q and the target names %q: they differ only by a trailing slash, and an issuer must match exactly (OpenID Connect Discovery 1.0 §4.3); use --issuer %s", iss, t.Issuer, iss)
	}
	if err := a.discover(ctx); err != nil {
		return fmt.Errorf("check: %s is not an OpenID provider the checks can sign in to: %s", t.Issuer, opFirstLine(err))
	}
	code, verifier, redirectURI, err := preflightSignIn(ctx, a)
	if err != nil {
		return err
	}
	tx, err := a.redeem(ctx, code, verifier, redirectURI, opClientAuthTarget)
	if err != nil {
		return fmt.Errorf("check: the token endpoint %s does not answer (%v)", a.meta.token, opCause(err))
	}
	if tx.status == http.StatusOK && str(get(tx.json, "access_token")) != "" {
		return nil
	}
	why := fmt.Sprintf("%d %s", tx.status, opOneLine(tx))
	if code := tx.opErrorCode(); code != "" {
		why = fmt.Sprintf("%d %s: %s", tx.status, code, str(get(tx.json, "error_description")))
	}
	if tx.opErrorCode() != "invalid_client" {
		return fmt.Errorf("check: the token endpoint refused the code of a fresh login: %s", why)
	}
	// The client's credentials were refused: does the client use the
	// other method?
	other := opAuthPost
	if t.authMethod() == opAuthPost {
		other = opAuthBasic
	}
	alt := *t
	alt.AuthMethod = other
	b := &opAgent{t: &alt, hc: a.hc, meta: a.meta}
	if code, verifier, redirectURI, err = preflightSignIn(ctx, b); err == nil {
		if ox, err := b.redeem(ctx, code, verifier, redirectURI, opClientAuthTarget); err == nil && ox.status == http.StatusOK {
			return fmt.Errorf("check: the token endpoint refused the client's credentials sent with %s (%s) and accepted them with %s: the client authenticates with %s, so set the auth method to it (--auth-method %s)",
				t.authMethod(), why, other, other, other)
		}
	}
	return fmt.Errorf("check: the token endpoint refused the client's credentials with %s and with %s (%s): check the client id and secret (--client-id, --client-secret)", t.authMethod(), other, why)
}

// preflightSignIn signs in once and returns the code with its verifier
// and redirect URI, or the error that says why the login failed.
func preflightSignIn(ctx context.Context, a *opAgent) (code, verifier, redirectURI string, err error) {
	az := a.authz(opScope)
	cb, x, err := a.signIn(ctx, az)
	if err == nil {
		code, err = opCode(cb, x)
	}
	if err != nil {
		if x != nil && x.status >= 400 && x.method == "GET" && opSameEndpoint(x.reqURL, a.meta.authorization) && opNoLoginForm(x) {
			return "", "", "", fmt.Errorf("check: the provider refused the authorization request with %d (are the client id and the redirect URI %s one of its clients' and that client's sign-in redirect URIs?); its page says %q",
				x.status, a.t.RedirectURI, opText(x))
		}
		said := ""
		if x != nil && !x.redirected() && opText(x) != "" {
			said = fmt.Sprintf("; the provider's page says %q", opText(x))
		}
		return "", "", "", fmt.Errorf("check: the login as %s failed (%s)%s", a.t.Username, strings.TrimRight(opFirstLine(err), ".?"), said)
	}
	return code, az.verifier, az.redirectURI(), nil
}

// opNoLoginForm reports whether x's page has no login form.
func opNoLoginForm(x *opExchange) bool {
	_, err := opLoginForm(x)
	return err != nil
}

// opCause is the transport error inside err, without the URL it names.
func opCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// opText is the visible text of x's page (or its body), cut for a
// one-line message.
func opText(x *opExchange) string {
	body := strings.Join(strings.Fields(x.excerpt()), " ")
	if len(body) > 200 {
		body = excerpt([]byte(body), 200)
	}
	return body
}

// opFirstLine is an error's first line, without the package prefix.
func opFirstLine(err error) string {
	line, _, _ := strings.Cut(err.Error(), "\n")
	return strings.TrimPrefix(line, "check: ")
}

// opOneLine is x's body for a one-line message: its Content-Type and an
// excerpt of the text (JSON with secrets redacted, a page's visible text).
func opOneLine(x *opExchange) string {
	body := opText(x)
	ct := x.header.Get("Content-Type")
	if ct == "" {
		ct = "(no Content-Type)"
	}
	if body == "" {
		return ct + " (empty)"
	}
	return fmt.Sprintf("%s %q", ct, body)
}
