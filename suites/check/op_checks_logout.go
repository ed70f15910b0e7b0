package check

import (
	"context"
	"net/url"
)

// opLogoutChecks are the checks of OpenID Connect RP-Initiated Logout 1.0.
func opLogoutChecks() []OPCheck {
	l := opLabels("op-logout")
	return []OPCheck{
		{ID: "op-logout-redirect", Labels: l,
			Title: "logout with id_token_hint and a registered post_logout_redirect_uri ends the session and redirects there with the state",
			Ref:   "OpenID Connect RP-Initiated Logout 1.0 §2, §3",
			Run:   opCheckLogoutRedirect},
		{ID: "op-logout-unregistered", Labels: l,
			Title: "logout with an unregistered post_logout_redirect_uri does not redirect there",
			Ref:   "OpenID Connect RP-Initiated Logout 1.0 §3",
			Run:   opCheckLogoutUnregistered},
	}
}

// logoutURL builds an RP-initiated logout request.
func (a *opAgent) logoutURL(idToken, postLogout, state string) string {
	v := url.Values{"id_token_hint": {idToken}, "client_id": {a.t.ClientID}}
	if postLogout != "" {
		v.Set("post_logout_redirect_uri", postLogout)
	}
	if state != "" {
		v.Set("state", state)
	}
	return a.meta.endSession + "?" + v.Encode()
}

// signedInForLogout signs in and returns the browser and its ID token;
// it skips the check when the provider has no end_session_endpoint.
func (t *OPTarget) signedInForLogout(ctx context.Context) (*opAgent, string, error) {
	a, err := t.start(ctx)
	if err != nil {
		return nil, "", err
	}
	if a.meta.endSession == "" {
		return nil, "", Skip("the discovery document has no end_session_endpoint")
	}
	tk, err := a.codeFlow(ctx, a.authz(opScope))
	if err != nil {
		return nil, "", err
	}
	if tk.id == "" {
		return nil, "", opFail(tk.x, "the token response has no id_token to send as id_token_hint")
	}
	return a, tk.id, nil
}

func opCheckLogoutRedirect(ctx context.Context, t *OPTarget) error {
	if t.PostLogoutRedirectURI == "" {
		return Skip("the target names no registered post-logout redirect URI (idpkit conform op --post-logout-redirect-uri)")
	}
	a, idToken, err := t.signedInForLogout(ctx)
	if err != nil {
		return err
	}
	state := "lo-" + unique()
	x, err := a.navigate(ctx, "GET", a.logoutURL(idToken, t.PostLogoutRedirectURI, state), nil, t.PostLogoutRedirectURI)
	if err != nil {
		return err
	}
	p := &opProbe{}
	loc := x.location()
	if !x.redirected() || !opSameEndpoint(loc, t.PostLogoutRedirectURI) {
		p.failf(x, "logout did not redirect to the registered post_logout_redirect_uri %s (OpenID Connect RP-Initiated Logout 1.0 §3)", t.PostLogoutRedirectURI)
		return p.err()
	}
	if got := loc.Query().Get("state"); got != state {
		p.failf(x, "the post-logout redirect's state is %q, want %q (OpenID Connect RP-Initiated Logout 1.0 §3)", got, state)
	}
	// The session is over: the next authorization request must ask the
	// user to sign in.
	az := a.authz(opScope)
	ax, err := a.authorize(ctx, az)
	if err != nil {
		return err
	}
	if cb, ok := opCallback(ax, az.redirectURI()); ok && cb.Get("code") != "" {
		p.failf(ax, "after logout, an authorization request still returned a code without the login form: the session did not end (OpenID Connect RP-Initiated Logout 1.0 §2)")
	}
	return p.err()
}

func opCheckLogoutUnregistered(ctx context.Context, t *OPTarget) error {
	a, idToken, err := t.signedInForLogout(ctx)
	if err != nil {
		return err
	}
	bad := "https://unregistered.example.invalid/signed-out"
	x, err := a.navigate(ctx, "GET", a.logoutURL(idToken, bad, "lo-"+unique()), nil, bad)
	if err != nil {
		return err
	}
	if to := opLeaves(x); to != nil && opSameEndpoint(to, bad) {
		return opFail(x, "logout redirected to the unregistered post_logout_redirect_uri %s; the provider must not (OpenID Connect RP-Initiated Logout 1.0 §3)", bad)
	}
	return nil
}
