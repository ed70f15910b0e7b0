package check

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode"
)

// opCodeChecks are the checks of the authorization code flow (OIDC Core
// §3.1, RFC 6749 §4.1, §10.5).
func opCodeChecks() []OPCheck {
	l := opLabels("op-code")
	return []OPCheck{
		{ID: "op-code-flow", Labels: l,
			Title: "the authorization code flow with PKCE S256 signs the user in through the login form and the code buys an access token and an ID token, sent no-store",
			Ref:   "OpenID Connect Core 1.0 §3.1.2.5, §3.1.3.3; RFC 6749 §4.1, §5.1; RFC 7636 §4",
			Run:   opCheckCodeFlow},
		{ID: "op-code-id-token", Labels: l,
			Title: "the ID token verifies with the JWK Set and has iss, aud, exp, iat, sub and the nonce sent",
			Ref:   "OpenID Connect Core 1.0 §2, §3.1.3.7, §10.1",
			Run:   opCheckCodeIDToken},
		{ID: "op-code-at-hash", Labels: l,
			Title: "the ID token's at_hash is the left half of the hash of the access token",
			Ref:   "OpenID Connect Core 1.0 §3.1.3.6, §3.2.2.9",
			Run:   opCheckCodeAtHash},
		{ID: "op-code-sub-stable", Labels: l,
			Title: "two separate sign-ins of the same user give the same sub",
			Ref:   "OpenID Connect Core 1.0 §2 (sub), §5.7",
			Run:   opCheckCodeSubStable},
		{ID: "op-code-state", Labels: l,
			Title: "the authorization response echoes state exactly, characters that need encoding included",
			Ref:   "RFC 6749 §4.1.2; OpenID Connect Core 1.0 §3.1.2.5",
			Run:   opCheckCodeState},
		{ID: "op-code-form-post", Labels: l,
			Title: "response_mode=form_post delivers code and state in a form that posts to the redirect URI",
			Ref:   "OAuth 2.0 Form Post Response Mode §2; OAuth 2.0 Multiple Response Type Encoding Practices §2.1",
			Run:   opCheckCodeFormPost},
		{ID: "op-code-reuse", Labels: l,
			Title: "a code redeemed twice is refused with invalid_grant, and the access token of the first redemption stops working",
			Ref:   "RFC 6749 §4.1.2, §5.2, §10.5; OpenID Connect Core 1.0 §3.1.3.2",
			Run:   opCheckCodeReuse},
		{ID: "op-code-redirect-uri", Labels: l,
			Title: "an unregistered redirect_uri (another host, or the registered one with a trailing slash, another case or an extra query) gets an error page and never a redirect",
			Ref:   "RFC 6749 §3.1.2.3, §4.1.2.1, §10.6; RFC 9700 §2.1, §4.1.3; OpenID Connect Core 1.0 §3.1.2.1",
			Run:   opCheckCodeRedirectURI},
		{ID: "op-code-client-id", Labels: l,
			Title: "an authorization request with no client_id or an unknown one gets an error page and never a redirect",
			Ref:   "RFC 6749 §4.1.2.1; OpenID Connect Core 1.0 §3.1.2.6",
			Run:   opCheckCodeClientID},
		{ID: "op-code-token-redirect-uri", Labels: l,
			Title: "the token endpoint refuses a code with a redirect_uri other than the authorization request's, or none, with invalid_grant",
			Ref:   "RFC 6749 §4.1.3, §5.2; OpenID Connect Core 1.0 §3.1.3.2",
			Run:   opCheckCodeTokenRedirectURI},
	}
}

func opCheckCodeFlow(ctx context.Context, t *OPTarget) error {
	_, _, tk, err := t.startTokens(ctx)
	if err != nil {
		return err
	}
	x := tk.x // the token response
	p := &opProbe{}
	if ct := strings.ToLower(x.header.Get("Content-Type")); !strings.HasPrefix(ct, "application/json") {
		p.failf(x, "Content-Type %q, want application/json (RFC 6749 §5.1)", x.header.Get("Content-Type"))
	}
	if !strings.EqualFold(tk.tokenType, "Bearer") {
		p.failf(x, "token_type is %q, want Bearer (OpenID Connect Core 1.0 §3.1.3.3)", tk.tokenType)
	}
	if tk.id == "" {
		p.failf(x, "the token response has no id_token although the scope held openid (OpenID Connect Core 1.0 §3.1.3.3)")
	}
	if !strings.Contains(strings.ToLower(x.header.Get("Cache-Control")), "no-store") {
		p.failf(x, "Cache-Control is %q, want no-store: tokens must not be cached (RFC 6749 §5.1)", x.header.Get("Cache-Control"))
	}
	if v := get(x.json, "expires_in"); v != nil {
		if n, isNum := opNumber(v); !isNum || n <= 0 {
			p.failf(x, "expires_in is %s, want a positive number of seconds (RFC 6749 §5.1)", show(v))
		}
	}
	return p.err()
}

func opCheckCodeIDToken(ctx context.Context, t *OPTarget) error {
	a, az, tk, err := t.startTokens(ctx)
	if err != nil {
		return err
	}
	p := &opProbe{}
	a.idToken(ctx, p, tk.x, tk.id, az.nonce)
	return p.err()
}

func opCheckCodeAtHash(ctx context.Context, t *OPTarget) error {
	a, _, tk, err := t.startTokens(ctx)
	if err != nil {
		return err
	}
	p := &opProbe{}
	id := a.idToken(ctx, &opProbe{}, tk.x, tk.id, "")
	if id == nil {
		return opFail(tk.x, "the ID token does not verify (see op-code-id-token), so at_hash cannot be judged")
	}
	got, ok := id.claims["at_hash"]
	if !ok {
		return Skip("the ID token has no at_hash, which the code flow leaves optional (OpenID Connect Core 1.0 §3.1.3.6)")
	}
	want, _ := opHalfHash(str(id.hdr["alg"]), tk.access)
	if str(got) != want {
		p.failf(tk.x, "at_hash is %s, want %q, the left half of the %s hash of the access token (OpenID Connect Core 1.0 §3.1.3.6)", show(got), want, str(id.hdr["alg"]))
	}
	return p.err()
}

func opCheckCodeSubStable(ctx context.Context, t *OPTarget) error {
	var subs []string
	var last *opExchange
	for range 2 {
		a, _, tk, err := t.startTokens(ctx) // a fresh browser each time: no SSO session
		if err != nil {
			return err
		}
		id := a.idToken(ctx, &opProbe{}, tk.x, tk.id, "")
		if id == nil {
			return opFail(tk.x, "the ID token does not verify (see op-code-id-token)")
		}
		subs = append(subs, id.sub())
		last = tk.x
	}
	if subs[0] == "" || subs[0] != subs[1] {
		return opFail(last, "the same user signed in twice and got sub %q, then %q; sub must identify the user stably (OpenID Connect Core 1.0 §2)", subs[0], subs[1])
	}
	return nil
}

func opCheckCodeState(ctx context.Context, t *OPTarget) error {
	a, err := t.start(ctx)
	if err != nil {
		return err
	}
	state := "idpkit st/" + unique() + " +&=?%é~"
	az := a.authz(opScope).set("state", state)
	cb, x, err := a.signIn(ctx, az)
	if err != nil {
		return err
	}
	if got := cb.Get("state"); got != state || len(cb["state"]) != 1 {
		return opFail(x, "state came back as %q, want exactly %q (RFC 6749 §4.1.2)", cb["state"], state)
	}
	return nil
}

func opCheckCodeFormPost(ctx context.Context, t *OPTarget) error {
	a, err := t.start(ctx)
	if err != nil {
		return err
	}
	if !slices.Contains(a.meta.responseModes, "form_post") {
		return Skip("response_modes_supported does not list form_post")
	}
	az := a.authz(opScope).set("response_mode", "form_post")
	cb, x, err := a.signIn(ctx, az)
	if err != nil {
		return err
	}
	p := &opProbe{}
	if x.redirected() {
		p.failf(x, "with response_mode=form_post the provider redirected; want a page whose form posts the response to the redirect URI (OAuth 2.0 Form Post Response Mode §2)")
		return p.err()
	}
	code, err := opCode(cb, x)
	if err != nil {
		return err
	}
	if cb.Get("state") != az.state {
		p.failf(x, "the form's state is %q, want %q", cb.Get("state"), az.state)
	}
	for _, f := range opForms(x.body, x.reqURL) {
		if f.action != nil && opSameEndpoint(f.action, az.redirectURI()) && f.method != "POST" {
			p.failf(x, "the form's method is %s, want POST (OAuth 2.0 Form Post Response Mode §2)", f.method)
		}
	}
	tx, err := a.redeem(ctx, code, az.verifier, az.redirectURI(), opClientAuthTarget)
	if err != nil {
		return err
	}
	if _, err := opTokensOf(tx); err != nil {
		p.problems = append(p.problems, "the code delivered by form_post was refused: "+err.Error())
	}
	return p.err()
}

func opCheckCodeReuse(ctx context.Context, t *OPTarget) error {
	a, az, code, err := t.startCode(ctx)
	if err != nil {
		return err
	}
	tk, err := a.redeemTokens(ctx, az, code)
	if err != nil {
		return err
	}
	if a.meta.userinfo != "" {
		ux, err := a.userinfoRequest(ctx, "GET", tk.access)
		if err != nil {
			return err
		}
		if ux.status != http.StatusOK {
			return opFail(ux, "the fresh access token was refused at UserInfo (status %d), so its revocation cannot be judged (see op-userinfo-get)", ux.status)
		}
	}
	p := &opProbe{}
	second, err := a.redeem(ctx, code, az.verifier, az.redirectURI(), opClientAuthTarget)
	if err != nil {
		return err
	}
	if second.status != http.StatusBadRequest || second.opErrorCode() != "invalid_grant" {
		p.failf(second, "the code's second redemption got status %d error %q, want 400 invalid_grant: a code works once (RFC 6749 §4.1.2, §5.2, §10.5)", second.status, second.opErrorCode())
	}
	if a.meta.userinfo != "" {
		ux, err := a.userinfoRequest(ctx, "GET", tk.access)
		if err != nil {
			return err
		}
		if ux.status == http.StatusOK {
			p.failf(ux, "after the code was redeemed a second time, the access token of the first redemption still works at UserInfo; the provider should revoke what a replayed code issued (RFC 6749 §4.1.2, §10.5)")
		}
	}
	return p.err()
}

// opRedirectVariants are unregistered redirect URIs close to the
// registered one: another host, a trailing slash added or removed (not on
// a bare origin, where "/" and "" name the same resource), the case of the
// path (or, when it has no letters, of the host) changed, and an extra
// query parameter.
func opRedirectVariants(registered string) []opVariant {
	out := []opVariant{{"another host", "https://unregistered.example.invalid/callback"}}
	u, err := url.Parse(registered)
	if err != nil {
		return out
	}
	if u.Path != "" && u.Path != "/" {
		slash := *u
		slash.RawPath = ""
		if strings.HasSuffix(slash.Path, "/") {
			slash.Path = strings.TrimSuffix(slash.Path, "/")
		} else {
			slash.Path += "/"
		}
		out = append(out, opVariant{"the registered URI with the trailing slash changed", slash.String()})
	}
	cased := *u
	if strings.IndexFunc(cased.Path, unicode.IsLetter) >= 0 {
		cased.Path, cased.RawPath = opSwapCase(cased.Path), ""
	} else {
		cased.Host = opSwapCase(cased.Host)
	}
	if c := cased.String(); c != u.String() {
		out = append(out, opVariant{"the registered URI in another case", c})
	}
	extra := *u
	q := extra.Query()
	q.Set("idpkit_extra", "1")
	extra.RawQuery = q.Encode()
	out = append(out, opVariant{"the registered URI with an extra query parameter", extra.String()})
	return out
}

// opVariant is a redirect URI the provider must refuse, and how it differs
// from the registered one.
type opVariant struct{ what, uri string }

// opSwapCase swaps the case of every letter.
func opSwapCase(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsUpper(r) {
			return unicode.ToLower(r)
		}
		return unicode.ToUpper(r)
	}, s)
}

// authorizeThrough sends an authorization request and, when the provider
// shows its login form, signs in through it; it returns the exchange
// where the provider stopped.
func (a *opAgent) authorizeThrough(ctx context.Context, az *opAuthz) (*opExchange, error) {
	x, err := a.authorize(ctx, az)
	if err != nil {
		return nil, err
	}
	if _, ok := opCallback(x, az.redirectURI()); ok || x.redirected() {
		return x, nil
	}
	if f, ferr := opLoginForm(x); ferr == nil {
		return a.submitLogin(ctx, f, az.redirectURI())
	}
	return x, nil
}

// signedIn returns a browser with an SSO session at the provider.
func (t *OPTarget) signedIn(ctx context.Context) (*opAgent, error) {
	a, _, _, err := t.startCode(ctx)
	return a, err
}

// refuseWithPage checks that the provider answered a request it must not
// redirect with a page of its own: no redirect and no form that leaves its
// origin.
func (p *opProbe) refuseWithPage(x *opExchange, what string) {
	if to := opLeaves(x); to != nil {
		p.failf(x, "%s: the provider sent the browser to %s; it must show an error page and never redirect (RFC 6749 §4.1.2.1)", what, opRedactURL(to))
		return
	}
	if x.status < 400 && x.status != http.StatusOK {
		p.failf(x, "%s: status %d, want an error page", what, x.status)
	}
}

func opCheckCodeRedirectURI(ctx context.Context, t *OPTarget) error {
	// A signed-in browser: a provider that skips the check would issue a
	// code at once.
	a, err := t.signedIn(ctx)
	if err != nil {
		return err
	}
	p := &opProbe{}
	for _, v := range opRedirectVariants(t.RedirectURI) {
		x, err := a.authorizeThrough(ctx, a.authz(opScope).set("redirect_uri", v.uri))
		if err != nil {
			return err
		}
		p.refuseWithPage(x, "redirect_uri "+v.uri+" ("+v.what+")")
	}
	return p.err()
}

func opCheckCodeClientID(ctx context.Context, t *OPTarget) error {
	a, err := t.signedIn(ctx)
	if err != nil {
		return err
	}
	p := &opProbe{}
	for _, c := range []struct{ what, id string }{
		{"no client_id", ""},
		{"an unknown client_id", "idpkit-unknown-" + unique()},
	} {
		x, err := a.authorizeThrough(ctx, a.authz(opScope).set("client_id", c.id))
		if err != nil {
			return err
		}
		p.refuseWithPage(x, c.what)
	}
	return p.err()
}

func opCheckCodeTokenRedirectURI(ctx context.Context, t *OPTarget) error {
	a, err := t.start(ctx)
	if err != nil {
		return err
	}
	p := &opProbe{}
	for _, c := range []struct{ what, uri string }{
		{"another redirect_uri", "https://unregistered.example.invalid/callback"},
		{"no redirect_uri", ""},
	} {
		az := a.authz(opScope)
		code, _, err := a.signInCode(ctx, az)
		if err != nil {
			return err
		}
		x, err := a.redeem(ctx, code, az.verifier, c.uri, opClientAuthTarget)
		if err != nil {
			return err
		}
		ok := x.status == http.StatusBadRequest && x.opErrorCode() == "invalid_grant"
		if c.uri == "" {
			ok = ok || x.status == http.StatusBadRequest && x.opErrorCode() == "invalid_request"
		}
		if !ok {
			p.failf(x, "a code redeemed with %s (the authorization request sent %s) got status %d error %q, want 400 invalid_grant (RFC 6749 §4.1.3)", c.what, t.RedirectURI, x.status, x.opErrorCode())
		}
	}
	return p.err()
}
