package check

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// opTokenChecks are the checks of UserInfo (OIDC Core §5.3, RFC 6750) and
// refresh (RFC 6749 §6, OIDC Core §12).
func opTokenChecks() []OPCheck {
	l := opLabels("op-tokens")
	return []OPCheck{
		{ID: "op-userinfo-get", Labels: l,
			Title: "UserInfo answers GET with a bearer access token, and its sub is the ID token's",
			Ref:   "OpenID Connect Core 1.0 §5.3.1, §5.3.2; RFC 6750 §2.1",
			Run:   func(ctx context.Context, t *OPTarget) error { return opCheckUserinfo(ctx, t, "GET") }},
		{ID: "op-userinfo-post", Labels: l,
			Title: "UserInfo answers POST with a bearer access token, and its sub is the ID token's",
			Ref:   "OpenID Connect Core 1.0 §5.3.1, §5.3.2; RFC 6750 §2.1",
			Run:   func(ctx context.Context, t *OPTarget) error { return opCheckUserinfo(ctx, t, "POST") }},
		{ID: "op-userinfo-no-token", Labels: l,
			Title: "UserInfo without an access token answers 401 with a Bearer WWW-Authenticate challenge",
			Ref:   "RFC 6750 §3, §3.1; OpenID Connect Core 1.0 §5.3.3",
			Run:   opCheckUserinfoNoToken},
		{ID: "op-userinfo-bad-token", Labels: l,
			Title: "UserInfo with a forged or tampered access token answers 401 with error=\"invalid_token\" in WWW-Authenticate",
			Ref:   "RFC 6750 §3, §3.1 (invalid_token); OpenID Connect Core 1.0 §5.3.3",
			Run:   opCheckUserinfoBadToken},
		{ID: "op-refresh", Labels: l,
			Title: "with offline_access granted, the refresh token buys a new access token that works, and any new ID token keeps iss, sub, aud and auth_time",
			Ref:   "RFC 6749 §1.5, §6; OpenID Connect Core 1.0 §11, §12.1, §12.2",
			Run:   opCheckRefresh},
	}
}

// userinfoClaims reads a UserInfo response: JSON, or a signed JWT
// (OIDC Core §5.3.2).
func (a *opAgent) userinfoClaims(ctx context.Context, x *opExchange) (map[string]any, error) {
	ct := strings.ToLower(x.header.Get("Content-Type"))
	if strings.HasPrefix(ct, "application/jwt") {
		set, err := a.keys(ctx)
		if err != nil {
			return nil, err
		}
		_, claims, err := opVerifyJWS(strings.TrimSpace(string(x.body)), set, nil)
		if err != nil {
			return nil, opFail(x, "the signed UserInfo response does not verify: %v", err)
		}
		return claims, nil
	}
	m, ok := x.json.(map[string]any)
	if !strings.HasPrefix(ct, "application/json") || !ok {
		return nil, opFail(x, "the UserInfo response is not a JSON object with Content-Type application/json (OpenID Connect Core 1.0 §5.3.2)")
	}
	return m, nil
}

func opCheckUserinfo(ctx context.Context, t *OPTarget, method string) error {
	a, err := t.startUserinfo(ctx)
	if err != nil {
		return err
	}
	tk, err := a.codeFlow(ctx, a.authz(opScope))
	if err != nil {
		return err
	}
	id := a.idToken(ctx, &opProbe{}, tk.x, tk.id, "")
	x, err := a.userinfoRequest(ctx, method, tk.access)
	if err != nil {
		return err
	}
	if x.status != http.StatusOK {
		return opFail(x, "UserInfo %s with a fresh access token got status %d, want 200 (OpenID Connect Core 1.0 §5.3.1)", method, x.status)
	}
	claims, err := a.userinfoClaims(ctx, x)
	if err != nil {
		return err
	}
	sub := str(claims["sub"])
	switch {
	case sub == "":
		return opFail(x, "the UserInfo response has no sub (OpenID Connect Core 1.0 §5.3.2)")
	case id != nil && sub != id.sub():
		return opFail(x, "UserInfo's sub is %q but the ID token's is %q; they must be the same (OpenID Connect Core 1.0 §5.3.2)", sub, id.sub())
	}
	return nil
}

// bearerChallenge checks a 401 with a Bearer WWW-Authenticate challenge
// and, when wantError is set, its error parameter (RFC 6750 §3).
func (p *opProbe) bearerChallenge(x *opExchange, what, wantError string) {
	if x.status != http.StatusUnauthorized {
		p.failf(x, "%s: status %d, want 401 (RFC 6750 §3.1)", what, x.status)
		return
	}
	w := x.header.Get("WWW-Authenticate")
	scheme, params, _ := strings.Cut(strings.TrimSpace(w), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		p.failf(x, "%s: WWW-Authenticate is %q, want a Bearer challenge (RFC 6750 §3)", what, w)
		return
	}
	if wantError != "" && opAuthParam(params, "error") != wantError {
		p.failf(x, "%s: WWW-Authenticate is %q, want error=%q (RFC 6750 §3.1)", what, w, wantError)
	}
}

// opAuthParam reads one auth-param of a challenge (RFC 9110 §11.2): a
// token or a quoted string.
func opAuthParam(params, name string) string {
	s := params
	for s != "" {
		s = strings.TrimLeft(s, " ,")
		k, rest, ok := strings.Cut(s, "=")
		if !ok {
			return ""
		}
		k = strings.TrimSpace(k)
		rest = strings.TrimLeft(rest, " ")
		var v string
		if strings.HasPrefix(rest, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(rest) && rest[i] != '"'; i++ {
				if rest[i] == '\\' && i+1 < len(rest) {
					i++
				}
				b.WriteByte(rest[i])
			}
			v, s = b.String(), rest[min(i+1, len(rest)):]
		} else {
			v, s, _ = strings.Cut(rest, ",")
			v = strings.TrimSpace(v)
		}
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func opCheckUserinfoNoToken(ctx context.Context, t *OPTarget) error {
	a, err := t.startUserinfo(ctx)
	if err != nil {
		return err
	}
	x, err := a.userinfoRequest(ctx, "GET", "")
	if err != nil {
		return err
	}
	p := &opProbe{}
	p.bearerChallenge(x, "UserInfo without an access token", "")
	return p.err()
}

// opTamper changes a token's signature (or, for an opaque token, the
// token) so that it no longer verifies.
func opTamper(tok string) string {
	i := strings.LastIndexByte(tok, '.')
	if i < 0 || i >= len(tok)-2 {
		return tok + "x"
	}
	j := i + 1 + (len(tok)-i-1)/2
	c := byte('A')
	if tok[j] == 'A' {
		c = 'B'
	}
	return tok[:j] + string(c) + tok[j+1:]
}

func opCheckUserinfoBadToken(ctx context.Context, t *OPTarget) error {
	a, err := t.startUserinfo(ctx)
	if err != nil {
		return err
	}
	tk, err := a.codeFlow(ctx, a.authz(opScope))
	if err != nil {
		return err
	}
	p := &opProbe{}
	for _, c := range []struct{ what, token string }{
		{"UserInfo with a made-up access token", "idpkit-not-a-token-" + unique()},
		{"UserInfo with an access token whose signature was changed", opTamper(tk.access)},
	} {
		x, err := a.userinfoRequest(ctx, "GET", c.token)
		if err != nil {
			return err
		}
		p.bearerChallenge(x, c.what, "invalid_token")
	}
	return p.err()
}

func opCheckRefresh(ctx context.Context, t *OPTarget) error {
	a, err := t.start(ctx)
	if err != nil {
		return err
	}
	if gt := a.meta.raw["grant_types_supported"]; gt != nil && !slices.Contains(a.meta.grantTypes, "refresh_token") {
		return Skip("grant_types_supported does not list refresh_token")
	}
	az := a.authz("openid offline_access")
	cb, x, err := a.signIn(ctx, az)
	if err != nil {
		return err
	}
	if e := cb.Get("error"); e != "" {
		return Skip("the provider refused the scope offline_access for this client (error=" + e + ")")
	}
	code, err := opCode(cb, x)
	if err != nil {
		return err
	}
	tk, err := a.redeemTokens(ctx, az, code)
	if err != nil {
		return err
	}
	if tk.refresh == "" {
		return Skip("the provider issued no refresh token for the scope offline_access (is the refresh_token grant allowed for the client?)")
	}
	first := a.idToken(ctx, &opProbe{}, tk.x, tk.id, "")
	rx, err := a.tokenRequest(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.refresh}}, opClientAuthTarget)
	if err != nil {
		return err
	}
	fresh, err := opTokensOf(rx)
	if err != nil {
		return err
	}
	p := &opProbe{}
	if a.meta.userinfo != "" {
		ux, err := a.userinfoRequest(ctx, "GET", fresh.access)
		if err != nil {
			return err
		}
		if ux.status != http.StatusOK {
			p.failf(ux, "the access token bought with the refresh token got status %d at UserInfo, want 200", ux.status)
		}
	}
	if fresh.id != "" {
		id := a.idToken(ctx, p, rx, fresh.id, "")
		if id != nil && first != nil {
			if id.sub() != first.sub() {
				p.failf(rx, "the refreshed ID token's sub is %q, want the original %q (OpenID Connect Core 1.0 §12.2)", id.sub(), first.sub())
			}
			a1, ok1 := first.claims["auth_time"]
			a2, ok2 := id.claims["auth_time"]
			if ok1 && ok2 && show(a1) != show(a2) {
				p.failf(rx, "the refreshed ID token's auth_time is %s, want the original sign-in's %s (OpenID Connect Core 1.0 §12.2)", show(a2), show(a1))
			}
			if n, ok := id.claims["nonce"]; ok && str(n) != az.nonce {
				p.failf(rx, "the refreshed ID token's nonce is %s, want none or the original %q (OpenID Connect Core 1.0 §12.2)", show(n), az.nonce)
			}
		}
	}
	return p.err()
}
