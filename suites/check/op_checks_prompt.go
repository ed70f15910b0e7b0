package check

import (
	"context"
	"net/url"
	"time"
)

// opPromptChecks are the checks of prompt and max_age (OIDC Core
// §3.1.2.1, §3.1.2.6).
func opPromptChecks() []OPCheck {
	l := opLabels("op-prompt")
	return []OPCheck{
		{ID: "op-prompt-none-no-session", Labels: l,
			Title: "prompt=none without a session is answered at the redirect URI with error=login_required and the state",
			Ref:   "OpenID Connect Core 1.0 §3.1.2.1 (prompt), §3.1.2.6",
			Run:   opCheckPromptNoneNoSession},
		{ID: "op-prompt-none-session", Labels: l,
			Title: "prompt=none with a session returns a code at once, and the code works",
			Ref:   "OpenID Connect Core 1.0 §3.1.2.1 (prompt)",
			Run:   opCheckPromptNoneSession},
		{ID: "op-prompt-login", Labels: l,
			Title: "prompt=login with a session shows the login form again",
			Ref:   "OpenID Connect Core 1.0 §3.1.2.1 (prompt)",
			Run:   opCheckPromptLogin},
		{ID: "op-prompt-max-age-zero", Labels: l,
			Title: "max_age=0 with a session shows the login form again, and the ID token carries auth_time",
			Ref:   "OpenID Connect Core 1.0 §3.1.2.1 (max_age), §2 (auth_time)",
			Run:   opCheckPromptMaxAgeZero},
		{ID: "op-prompt-max-age-session", Labels: l,
			Title: "a large max_age with a recent session returns a code at once, and the ID token carries auth_time",
			Ref:   "OpenID Connect Core 1.0 §3.1.2.1 (max_age), §2 (auth_time)",
			Run:   opCheckPromptMaxAgeSession},
	}
}

func opCheckPromptNoneNoSession(ctx context.Context, t *OPTarget) error {
	a, err := t.start(ctx)
	if err != nil {
		return err
	}
	az := a.authz(opScope).set("prompt", "none")
	cb, x, err := a.answerAt(ctx, az,
		"prompt=none without a session showed the login form; the provider must not show any page, and must answer error=login_required at the redirect URI (OpenID Connect Core 1.0 §3.1.2.1)",
		"prompt=none without a session got no response at the redirect URI; want error=login_required there (OpenID Connect Core 1.0 §3.1.2.6)")
	if err != nil {
		return err
	}
	p := &opProbe{}
	if cb.Get("code") != "" {
		p.failf(x, "prompt=none without a session returned a code")
	}
	if e := cb.Get("error"); e != "login_required" {
		p.failf(x, "prompt=none without a session got error=%q, want login_required (OpenID Connect Core 1.0 §3.1.2.6)", e)
	}
	if cb.Get("state") != az.state {
		p.failf(x, "the error response's state is %q, want %q (RFC 6749 §4.1.2.1)", cb.Get("state"), az.state)
	}
	return p.err()
}

func opCheckPromptNoneSession(ctx context.Context, t *OPTarget) error {
	a, err := t.signedIn(ctx)
	if err != nil {
		return err
	}
	az := a.authz(opScope).set("prompt", "none")
	const noAnswer = "prompt=none with a session got no response at the redirect URI; want a code (OpenID Connect Core 1.0 §3.1.2.1)"
	cb, x, err := a.answerAt(ctx, az, noAnswer, noAnswer)
	if err != nil {
		return err
	}
	code, err := opCode(cb, x)
	if err != nil {
		return err
	}
	_, err = a.redeemTokens(ctx, az, code)
	return err
}

// answerAt sends the authorization request az and returns the response
// the provider sent to the redirect URI; when there is none the check
// fails with shownForm if the provider showed its login form, else with
// noAnswer.
func (a *opAgent) answerAt(ctx context.Context, az *opAuthz, shownForm, noAnswer string) (url.Values, *opExchange, error) {
	x, err := a.authorize(ctx, az)
	if err != nil {
		return nil, x, err
	}
	cb, ok := opCallback(x, az.redirectURI())
	if !ok {
		if _, ferr := opLoginForm(x); ferr == nil {
			return nil, x, opFail(x, "%s", shownForm)
		}
		return nil, x, opFail(x, "%s", noAnswer)
	}
	return cb, x, nil
}

// expectLoginForm checks that an authorization request for a signed-in
// browser shows the login form, signs in through it and returns the code.
func (a *opAgent) expectLoginForm(ctx context.Context, az *opAuthz, what string) (string, error) {
	x, err := a.authorize(ctx, az)
	if err != nil {
		return "", err
	}
	if cb, ok := opCallback(x, az.redirectURI()); ok {
		if cb.Get("code") != "" {
			return "", opFail(x, "%s with a session returned a code without showing the login form; the user must sign in again (OpenID Connect Core 1.0 §3.1.2.1)", what)
		}
		return "", opFail(x, "%s with a session got error=%q instead of the login form", what, cb.Get("error"))
	}
	f, err := opLoginForm(x)
	if err != nil {
		return "", err
	}
	x, err = a.submitLogin(ctx, f, az.redirectURI())
	if err != nil {
		return "", err
	}
	cb, ok := opCallback(x, az.redirectURI())
	if !ok {
		return "", opFail(x, "after signing in again for %s, the provider did not answer at the redirect URI", what)
	}
	return opCode(cb, x)
}

func opCheckPromptLogin(ctx context.Context, t *OPTarget) error {
	a, err := t.signedIn(ctx)
	if err != nil {
		return err
	}
	_, err = a.expectLoginForm(ctx, a.authz(opScope).set("prompt", "login"), "prompt=login")
	return err
}

func opCheckPromptMaxAgeZero(ctx context.Context, t *OPTarget) error {
	a, _, first, err := t.startTokens(ctx)
	if err != nil {
		return err
	}
	var firstAuth time.Time
	if id := a.idToken(ctx, &opProbe{}, first.x, first.id, ""); id != nil {
		firstAuth, _ = opTime(id.claims["auth_time"])
	}
	az := a.authz(opScope).set("max_age", "0")
	code, err := a.expectLoginForm(ctx, az, "max_age=0")
	if err != nil {
		return err
	}
	tk, err := a.redeemTokens(ctx, az, code)
	if err != nil {
		return err
	}
	p := &opProbe{}
	id := a.idToken(ctx, p, tk.x, tk.id, az.nonce)
	if id == nil {
		return p.err()
	}
	at, ok := opTime(id.claims["auth_time"])
	switch {
	case !ok:
		p.failf(tk.x, "the ID token after max_age=0 has no auth_time; it is required when max_age was sent (OpenID Connect Core 1.0 §3.1.2.1)\n  claims: %s", opClaimsText(id.claims))
	case !firstAuth.IsZero() && at.Before(firstAuth):
		p.failf(tk.x, "auth_time %d after signing in again is earlier than the first sign-in's %d", at.Unix(), firstAuth.Unix())
	}
	return p.err()
}

func opCheckPromptMaxAgeSession(ctx context.Context, t *OPTarget) error {
	a, err := t.signedIn(ctx)
	if err != nil {
		return err
	}
	az := a.authz(opScope).set("max_age", "86400")
	cb, x, err := a.answerAt(ctx, az,
		"max_age=86400 with a session signed in moments ago showed the login form; want a code at once (OpenID Connect Core 1.0 §3.1.2.1)",
		"max_age=86400 with a session got no response at the redirect URI")
	if err != nil {
		return err
	}
	code, err := opCode(cb, x)
	if err != nil {
		return err
	}
	tk, err := a.redeemTokens(ctx, az, code)
	if err != nil {
		return err
	}
	p := &opProbe{}
	id := a.idToken(ctx, p, tk.x, tk.id, az.nonce)
	if id != nil {
		if _, ok := opTime(id.claims["auth_time"]); !ok {
			p.failf(tk.x, "the ID token has no auth_time although max_age was sent (OpenID Connect Core 1.0 §3.1.2.1)\n  claims: %s", opClaimsText(id.claims))
		}
	}
	return p.err()
}
