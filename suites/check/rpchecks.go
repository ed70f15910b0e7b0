package check

// This file is the RP catalogue (RP) and its flow checks: the
// authorization request, parallel logins, replayed callbacks, error
// responses, the JWKS refetch rate and form_post cookies.

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// RP returns the relying-party catalogue, in a stable order: the flow
// checks, then one check per fault of the mock that the catalogue knows
// (RPChecks adds the faults a newer mock offers), then
// rp-jwks-no-refetch-storm.
//
// # How a check drives the RP
//
// Each check resets the mock (POST /__mock/reset), arms what it needs
// (POST /__mock/faults, /__mock/errors), queues a login of RPTarget.Login
// (POST /__mock/login) and opens RPTarget.LoginURL in a new browser: a
// cookie jar of its own that keeps cookies as browsers do (Secure ones
// on http://localhost and loopback addresses too, SameSite applied
// across sites), redirects followed one at a time, and the mock's
// response_mode=form_post page submitted as its script would. The mock's
// authorize endpoint issues the code at once, so the browser lands on the
// RP's callback; after the login, RPTarget.SessionURL tells whether the
// browser has a session. GET /__mock/requests shows what the RP sent to
// the mock. A failure lists every response of every login (status,
// Location, Set-Cookie with the values hidden, the page's text) and the
// mock's request log.
//
// # Faults
//
// A fault check (label "rp-faults"; "rp-keys" too for the JWKS ones) is
// one login with one fault armed, judged by the fault's expectation:
// "refuse" (rp-refuses-…) means no session, no UserInfo request after the
// token response, and a page below 500 for the person (when the fault
// makes the provider fail, token-server-error, a readable 502–504 page
// too) — and the login must have reached the token endpoint, so that the
// fault was put to the RP; "accept" (rp-accepts-…) means a session;
// "either" (rp-survives-…) means no 5xx. The faults are the mock's
// (GET /__mock/faults): one the mock does not offer is skipped, and
// RPChecks adds checks for the ones this table does not know.
// rp-refuses-userinfo-sub-mismatch is skipped for an RP that never calls
// UserInfo, and the checks of odd JWKS contents and a slow keys endpoint
// for an RP that never fetched the JWKS during their login (see
// RPTarget.Advance). rp-accepts-kid-absent-single-jwks is judged as
// kid-absent-multiple-jwks ("either") when the RP did not fetch the JWKS
// during its login, since it then checked the token against the several
// keys it had cached: a refusal is a skip that says so, a 5xx fails. Key
// rotation runs first among the faults, before any check can have used
// up a limit the RP puts on refetching the JWKS; when its login is
// refused without a JWKS fetch, it lets 31 s pass (a refetch cooldown of
// up to 30 s, jose's default, is allowed; with RPTarget.Advance the
// clocks move instead) and signs in once more with another new key.
//
// # Flow
//
// The checks labelled "rp-flow" are about the login itself: a valid
// RS256 login gets a session; the authorization request carries a state
// of at least 128 bits, a nonce and a PKCE S256 challenge, each distinct
// per login, response_type=code, a scope with openid and the
// redirect_uri the token request repeats; two logins started in one
// browser and finished in reverse order both succeed; a reloaded callback
// sets no new cookie, sends the used code to the token endpoint no second
// time and gives no 5xx (in the signed-in browser a 4xx page or the
// session's own page; in the browser as it was before the callback, a
// 4xx page), and a callback delivered to another browser gives it no
// session; an error response from the mock (access_denied) gives a
// readable page below 500 and no token request; with
// response_mode=form_post, the cookies the RP sets before sending the
// browser to the mock are SameSite=None; Secure. rp-jwks-no-refetch-storm
// ("rp-keys") makes five logins in a row with tokens signed by an unknown
// key: each must get its ID token from the mock's token endpoint and be
// refused, and the JWKS is fetched at most twice in all.
func RP() []RPCheck {
	flow := []string{LabelRP, LabelRPFlow}
	all := []RPCheck{
		{ID: "rp-accepts-valid-login", Title: "a valid login (code flow, RS256 ID token) gets a session", Ref: "OpenID Connect Core 1.0 §3.1", Labels: flow, Run: rpCheckValidLogin},
		{ID: "rp-sends-state", Title: "the authorization request carries a state of at least 128 bits, new for every login", Ref: "RFC 6749 §10.12; RFC 9700 §2.1, §4.7", Labels: flow, Run: rpCheckState},
		{ID: "rp-sends-nonce", Title: "the authorization request carries a nonce, new for every login", Ref: "OpenID Connect Core 1.0 §3.1.2.1, §15.5.2", Labels: flow, Run: rpCheckNonce},
		{ID: "rp-sends-pkce-s256", Title: "the authorization request carries a PKCE S256 code_challenge, new for every login", Ref: "RFC 7636 §4.2–§4.3; RFC 9700 §2.1.1", Labels: flow, Run: rpCheckPKCE},
		{ID: "rp-sends-code-request", Title: "the authorization request asks for response_type=code with scope openid, and the token request repeats its exact redirect_uri", Ref: "OpenID Connect Core 1.0 §3.1.2.1; RFC 6749 §4.1.1, §4.1.3", Labels: flow, Run: rpCheckCodeRequest},
		{ID: "rp-two-tabs", Title: "two logins started in one browser and finished in reverse order both succeed", Ref: "RFC 6749 §10.12 (state per request); RFC 7636 §4.1 (a verifier per request)", Labels: flow, Run: rpCheckTwoTabs},
		{ID: "rp-callback-reload", Title: "reloading the callback gives no new session and no second use of the code: a 4xx page saying to start again (or, in the signed-in browser, its session's page), never a 5xx", Ref: "RFC 6749 §4.1.2, §10.5 (a code is used once)", Labels: flow, Run: rpCheckReload},
		{ID: "rp-callback-other-browser", Title: "an authorization response delivered to another browser gives it no session (state bound to the browser)", Ref: "RFC 6749 §10.12; RFC 9700 §4.5, §4.7", Labels: flow, Run: rpCheckOtherBrowser},
		{ID: "rp-error-response", Title: "an error response from the authorization endpoint (access_denied) gives a readable page below 500 and no session", Ref: "RFC 6749 §4.1.2.1", Labels: flow, Run: rpCheckErrorResponse},
		{ID: "rp-form-post-cookies", Title: "with response_mode=form_post, the cookies set before the authorization request are SameSite=None; Secure", Ref: "OAuth 2.0 Form Post Response Mode §2; RFC 6265bis §5.2 (SameSite)", Labels: flow, Run: rpCheckFormPostCookies},
	}
	for _, f := range rpFaults {
		all = append(all, rpFaultCheck(f))
	}
	// Last: it makes the RP meet five unknown kids, which may use up a
	// limit on refetching the JWKS for a while.
	all = append(all, RPCheck{ID: "rp-jwks-no-refetch-storm", Title: "five ID tokens in a row signed by an unpublished key are refused with at most two JWKS fetches in all", Ref: "OpenID Connect Core 1.0 §10.1.1 (refetch on an unknown kid, not on every token)", Labels: []string{LabelRP, LabelRPKeys}, Run: rpCheckRefetchStorm})
	return all
}

// begin resets the mock for a check; the check's error when it cannot.
func (t *RPTarget) begin(ctx context.Context) error { return rpMockTrouble(t.reset(ctx)) }

func rpCheckValidLogin(ctx context.Context, t *RPTarget) error {
	if err := t.begin(ctx); err != nil {
		return err
	}
	r := &rpReport{}
	l, err := t.signIn(ctx, r, "login 1")
	if err != nil {
		return rpMockTrouble(err)
	}
	if _, err := r.log(ctx, t); err != nil {
		return rpMockTrouble(err)
	}
	rpJudgeAccepted(r, l)
	return r.err()
}

// rpJudgeAccepted records what keeps l from being a good login.
func rpJudgeAccepted(r *rpReport, l *rpLogin) {
	switch {
	case l.final == nil || l.final.Err != nil:
		r.failf("%s did not finish", l.name)
	case l.astray() != "":
		r.failf("%s: %s", l.name, l.astray())
	case !l.session:
		r.failf("%s: the RP gave no session to a valid login: %s", l.name, l.sessionSays())
	case l.final.Status >= 400:
		r.failf("%s ended with %d", l.name, l.final.Status)
	}
}

// rpTwoLogins signs in twice, each time in a new browser, for the checks
// of the authorization request.
func rpTwoLogins(ctx context.Context, t *RPTarget) (*rpReport, [2]url.Values, error) {
	var qs [2]url.Values
	if err := t.begin(ctx); err != nil {
		return nil, qs, err
	}
	r := &rpReport{}
	for i := range qs {
		l, err := t.signIn(ctx, r, fmt.Sprintf("login %d", i+1))
		if err != nil {
			return nil, qs, rpMockTrouble(err)
		}
		if l.authorize == nil {
			r.failf("%s: %s", l.name, l.astray())
		}
		qs[i] = l.query()
	}
	if _, err := r.log(ctx, t); err != nil {
		return nil, qs, rpMockTrouble(err)
	}
	return r, qs, nil
}

// rpEntropyBits estimates the entropy of a random-looking string from its
// length and the smallest common alphabet it is drawn from (digits, hex,
// base64url, printable ASCII); a string of fewer than four distinct
// characters counts as not random at all.
func rpEntropyBits(s string) float64 {
	distinct := map[rune]bool{}
	alphabet := 10.0
	for _, c := range s {
		distinct[c] = true
		switch {
		case c >= '0' && c <= '9':
		case c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F':
			alphabet = math.Max(alphabet, 16)
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_' || c == '+' || c == '/' || c == '=' || c == '.' || c == '~':
			alphabet = math.Max(alphabet, 64)
		default:
			alphabet = math.Max(alphabet, 95)
		}
	}
	if len(distinct) < 4 {
		return 0
	}
	return float64(len([]rune(s))) * math.Log2(alphabet)
}

// rpDistinct checks that both logins sent param, new each time.
func rpDistinct(r *rpReport, qs [2]url.Values, param string) {
	for i, q := range qs {
		if q != nil && q.Get(param) == "" {
			r.failf("login %d: the authorization request has no %s", i+1, param)
		}
	}
	if qs[0] != nil && qs[1] != nil && qs[0].Get(param) != "" && qs[0].Get(param) == qs[1].Get(param) {
		r.failf("both logins sent the same %s %q: it must be new for every login", param, qs[0].Get(param))
	}
}

func rpCheckState(ctx context.Context, t *RPTarget) error {
	r, qs, err := rpTwoLogins(ctx, t)
	if err != nil {
		return err
	}
	rpDistinct(r, qs, "state")
	for i, q := range qs {
		if s := q.Get("state"); s != "" && rpEntropyBits(s) < 128 {
			r.failf("login %d: the state %q has about %.0f bits of entropy, want at least 128 (RFC 6749 §10.10, §10.12)", i+1, s, rpEntropyBits(s))
		}
	}
	return r.err()
}

func rpCheckNonce(ctx context.Context, t *RPTarget) error {
	r, qs, err := rpTwoLogins(ctx, t)
	if err != nil {
		return err
	}
	rpDistinct(r, qs, "nonce")
	return r.err()
}

func rpCheckPKCE(ctx context.Context, t *RPTarget) error {
	r, qs, err := rpTwoLogins(ctx, t)
	if err != nil {
		return err
	}
	for i, q := range qs {
		if q == nil {
			continue
		}
		c, m := q.Get("code_challenge"), q.Get("code_challenge_method")
		switch {
		case c == "":
			r.failf("login %d: no code_challenge was sent: the RP uses no PKCE; send code_challenge (the base64url SHA-256 of a new random verifier) with code_challenge_method=S256, and the verifier in the token request (RFC 7636 §4.1–§4.5)", i+1)
		case m == "":
			r.failf("login %d: code_challenge_method is missing, which means plain (the challenge is the verifier itself): want S256 (RFC 7636 §4.3)", i+1)
		case m != "S256":
			r.failf("login %d: code_challenge_method is %q, want S256 (plain reveals the verifier)", i+1, m)
		case len(c) != 43 || strings.ContainsFunc(c, func(r rune) bool { return !rpBase64URL(r) }):
			r.failf("login %d: code_challenge %q is not the 43-character base64url SHA-256 of a verifier (RFC 7636 §4.2)", i+1, c)
		}
	}
	if qs[0] != nil && qs[1] != nil && qs[0].Get("code_challenge") != "" && qs[0].Get("code_challenge") == qs[1].Get("code_challenge") {
		r.failf("both logins sent the same code_challenge %q: it must be new for every login", qs[0].Get("code_challenge"))
	}
	return r.err()
}

func rpBase64URL(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

func rpCheckCodeRequest(ctx context.Context, t *RPTarget) error {
	r, qs, err := rpTwoLogins(ctx, t)
	if err != nil {
		return err
	}
	var tokenURIs []string
	for _, q := range r.reqs {
		if q.Endpoint == "token" && q.Params["grant_type"] == "authorization_code" {
			tokenURIs = append(tokenURIs, q.Params["redirect_uri"])
		}
	}
	for i, q := range qs {
		if q == nil {
			continue
		}
		if rt := q.Get("response_type"); rt != "code" {
			r.failf("login %d: response_type is %q, want code (the authorization code flow)", i+1, rt)
		}
		if !slices.Contains(strings.Fields(q.Get("scope")), "openid") {
			r.failf("login %d: scope %q has no openid", i+1, q.Get("scope"))
		}
		ru := q.Get("redirect_uri")
		if u, err := url.Parse(ru); ru == "" || err != nil || !u.IsAbs() {
			r.failf("login %d: redirect_uri %q is not an absolute URL", i+1, ru)
			continue
		}
		if i < len(tokenURIs) && tokenURIs[i] != ru {
			r.failf("login %d: the token request's redirect_uri %q differs from the authorization request's %q (RFC 6749 §4.1.3: identical)", i+1, tokenURIs[i], ru)
		}
	}
	if len(tokenURIs) == 0 && qs[0] != nil {
		r.failf("the RP sent no authorization_code token request in two logins")
	}
	return r.err()
}

func rpCheckTwoTabs(ctx context.Context, t *RPTarget) error {
	if err := t.begin(ctx); err != nil {
		return err
	}
	for range 2 {
		if err := t.queueLogin(ctx); err != nil {
			return rpMockTrouble(err)
		}
	}
	r := &rpReport{}
	b := r.browser(t)
	first := r.add(t.newLogin("tab 1", b))
	second := r.add(t.newLogin("tab 2", b))
	first.toAuthorize(ctx)
	second.toAuthorize(ctx)
	for _, l := range []*rpLogin{first, second} {
		if l.next == nil {
			r.failf("%s: %s", l.name, l.astray())
			return r.err()
		}
	}
	second.finish(ctx)
	first.finish(ctx)
	if _, err := r.log(ctx, t); err != nil {
		return rpMockTrouble(err)
	}
	for _, l := range []*rpLogin{second, first} {
		switch {
		case l.final == nil || l.final.Err != nil:
			r.failf("%s did not finish", l.name)
		case l.astray() != "":
			r.failf("%s: %s", l.name, l.astray())
		case l.final.Status >= 400:
			r.failf("%s (started first, finished last) ended with %d: each login in a browser needs its own state and verifier", l.name, l.final.Status)
		case !l.session:
			r.failf("%s: no session after it: %s", l.name, l.sessionSays())
		}
	}
	return r.err()
}

func rpCheckReload(ctx context.Context, t *RPTarget) error {
	if err := t.begin(ctx); err != nil {
		return err
	}
	if err := t.queueLogin(ctx); err != nil {
		return rpMockTrouble(err)
	}
	r := &rpReport{}
	b := r.browser(t)
	l := r.add(t.newLogin("login 1", b))
	l.toCallback(ctx)
	if l.next == nil || l.callback == nil {
		l.probeSession(ctx)
		rpJudgeAccepted(r, l)
		return r.err()
	}
	cb := *l.callback
	before := b.fork("browser A as it was before the callback")
	l.finish(ctx)
	rpJudgeAccepted(r, l)
	if len(r.problems) > 0 {
		r.failf("the first login failed, so its reload cannot be judged")
		return r.err()
	}
	reqs, err := r.log(ctx, t)
	if err != nil {
		return rpMockTrouble(err)
	}
	tokens := rpCount(reqs, "token")
	jarBefore := b.jar.values()

	// The reload, in the signed-in browser: a 4xx page, or the page of
	// the session the browser already has, but no new session and no
	// second use of the code.
	reload := r.add(t.deliver(ctx, "the callback reloaded", b, cb))
	switch {
	case reload.final == nil || reload.final.Err != nil:
		r.failf("the reloaded callback got no answer")
	case reload.final.Status >= 500:
		r.failf("the reloaded callback got %d, want a 4xx page saying to start again", reload.final.Status)
	}
	var changed []string
	for _, h := range reload.hops {
		if b.onMock(h.URL) {
			continue
		}
		for _, sc := range h.SetCookie {
			c, err := http.ParseSetCookie(sc)
			if err != nil || c.Value == "" || c.MaxAge < 0 || slices.Contains(jarBefore[c.Name], c.Value) {
				continue // a deletion, or a cookie the browser already had
			}
			changed = append(changed, c.Name)
		}
	}
	slices.Sort(changed)
	if len(changed) > 0 {
		r.failf("the reloaded callback set the cookie(s) %s: a used authorization response must not give a new session", strings.Join(changed, ", "))
	}
	reqs, err = r.log(ctx, t)
	if err != nil {
		return rpMockTrouble(err)
	}
	if n := rpCount(reqs, "token") - tokens; n > 0 {
		r.failf("the reloaded callback made the RP send the used code to the token endpoint again (%d request(s)); a provider then revokes the tokens of the first login (RFC 6749 §4.1.2): check that the state is unused first", n)
	}
	tokens = rpCount(reqs, "token")

	// The same response again in the browser as it was before the
	// login finished (the login cookies, no session): a 4xx page.
	again := r.add(t.deliver(ctx, "the callback sent again", before, cb))
	switch {
	case again.final == nil || again.final.Err != nil:
		r.failf("the callback sent again got no answer")
	case again.session:
		r.failf("sending the used callback again, with the browser's cookies as they were before the login finished, gave a session: %s", again.sessionSays())
	case again.final.Status < 400 || again.final.Status >= 500:
		r.failf("sending the used callback again, with the browser's cookies as they were before the login finished, got %d, want a 4xx page saying to start again", again.final.Status)
	}
	reqs, err = r.log(ctx, t)
	if err != nil {
		return rpMockTrouble(err)
	}
	if n := rpCount(reqs, "token") - tokens; n > 0 {
		r.failf("the callback sent again made the RP send the used code to the token endpoint again (%d request(s))", n)
	}
	return r.err()
}

func rpCheckOtherBrowser(ctx context.Context, t *RPTarget) error {
	if err := t.begin(ctx); err != nil {
		return err
	}
	if err := t.queueLogin(ctx); err != nil {
		return rpMockTrouble(err)
	}
	r := &rpReport{}
	l := r.add(t.newLogin("login 1", r.browser(t)))
	l.toCallback(ctx)
	if l.next == nil || l.callback == nil {
		l.probeSession(ctx)
		rpJudgeAccepted(r, l)
		r.failf("the login never reached the RP's callback, so there was nothing to deliver elsewhere")
		return r.err()
	}
	other := r.add(t.deliver(ctx, "the callback in another browser", r.browser(t), *l.callback))
	if other.session {
		r.failf("browser B, which never started a login, got a session from browser A's authorization response: %s (bind the state to the browser that started the login, e.g. with a cookie)", other.sessionSays())
	}
	if !rpBelow500(other.final) {
		r.failf("browser B got no page below 500")
	}
	if _, err := r.log(ctx, t); err != nil {
		return rpMockTrouble(err)
	}
	return r.err()
}

func rpCheckErrorResponse(ctx context.Context, t *RPTarget) error {
	if err := t.begin(ctx); err != nil {
		return err
	}
	err := t.mock(ctx, "POST", "/__mock/errors", map[string]any{
		"endpoint": "authorize", "status": http.StatusFound, "error": "access_denied",
		"errorDescription": "User is not assigned to the client application.",
	}, nil)
	if err != nil {
		return rpMockTrouble(err)
	}
	r := &rpReport{}
	l := r.add(t.newLogin("login 1", r.browser(t)))
	l.finish(ctx)
	reqs, err := r.log(ctx, t)
	if err != nil {
		return rpMockTrouble(err)
	}
	switch {
	case l.final == nil || l.final.Err != nil:
		r.failf("the login did not finish")
	case l.callback == nil:
		r.failf("the mock did not send the error back to the RP (its queued authorize error did not redirect)")
	case l.final.Status >= 500:
		r.failf("the RP answered the error response with %d, want a page below 500 that says sign-in was refused", l.final.Status)
	case len(rpPageText(l.final)) < 10 || !strings.Contains(l.final.ContentType, "text/"):
		r.failf("the RP answered the error response with %d %s and no readable text", l.final.Status, l.final.ContentType)
	}
	if l.session {
		r.failf("the RP gave a session after an access_denied error: %s", l.sessionSays())
	}
	if n := rpCount(reqs, "token"); n > 0 {
		r.failf("the RP called the token endpoint %d time(s) after an error response without a code", n)
	}
	return r.err()
}

func rpCheckFormPostCookies(ctx context.Context, t *RPTarget) error {
	if err := t.begin(ctx); err != nil {
		return err
	}
	r := &rpReport{}
	l, err := t.signIn(ctx, r, "login 1")
	if err != nil {
		return rpMockTrouble(err)
	}
	if l.authorize == nil {
		rpJudgeAccepted(r, l)
		return r.err()
	}
	if mode := l.query().Get("response_mode"); mode != "form_post" {
		if mode == "" {
			mode = "query (the default)"
		}
		return Skip("the RP uses response_mode " + mode + "; the rule is for form_post")
	}
	for _, h := range l.hops {
		if l.b.isAuthorize(h.rpStep) {
			break
		}
		for _, sc := range h.SetCookie {
			c, err := http.ParseSetCookie(sc)
			if err != nil || c.MaxAge < 0 || c.Value == "" {
				continue // a deletion
			}
			if c.SameSite != http.SameSiteNoneMode || !c.Secure {
				r.failf("the cookie %s is set before the authorization request without SameSite=None; Secure (%s): a browser leaves it out of the mock's cross-site form POST", c.Name, rpMaskCookie(sc))
			}
		}
	}
	if _, err := r.log(ctx, t); err != nil {
		return rpMockTrouble(err)
	}
	rpJudgeAccepted(r, l)
	return r.err()
}

// rpStormLogins and rpStormFetches: five logins in a row with an unpublished
// kid may cost at most two JWKS fetches.
const (
	rpStormLogins  = 5
	rpStormFetches = 2
)

func rpCheckRefetchStorm(ctx context.Context, t *RPTarget) error {
	infos, err := t.availableFaults(ctx)
	if err != nil {
		return rpMockTrouble(err)
	}
	if !slices.ContainsFunc(infos, func(fi RPFaultInfo) bool { return fi.Name == "kid-unpublished" }) {
		return Skip(`the mock does not offer the fault "kid-unpublished"`)
	}
	if err := t.begin(ctx); err != nil {
		return err
	}
	if err := t.advance(ctx, rpRefetchGap); err != nil {
		return rpMockTrouble(err)
	}
	r := &rpReport{}
	seen := 0 // requests in the log before this login
	for i := range rpStormLogins {
		if err := t.arm(ctx, "kid-unpublished"); err != nil {
			return rpMockTrouble(err)
		}
		l, err := t.signIn(ctx, r, fmt.Sprintf("login %d", i+1))
		if err != nil {
			return rpMockTrouble(err)
		}
		reqs, err := r.log(ctx, t)
		if err != nil {
			return rpMockTrouble(err)
		}
		mine := reqs[min(seen, len(reqs)):]
		seen = len(reqs)
		if rpTokensOK(mine) == 0 {
			why := l.astray()
			if why == "" {
				why = "the mock's token endpoint answered it no ID token (" + rpLogLine(mine) + ")"
			}
			r.failf("%s got no ID token to the RP, so no token signed by an unpublished key was put to it: %s", l.name, why)
			return r.err()
		}
		if l.session {
			r.failf("%s, signed by an unpublished key, got a session: %s", l.name, l.sessionSays())
		}
		if !rpBelow500(l.final) {
			r.failf("%s got no page below 500", l.name)
		}
	}
	reqs, err := r.log(ctx, t)
	if err != nil {
		return rpMockTrouble(err)
	}
	if n := rpCount(reqs, "keys"); n > rpStormFetches {
		r.failf("the RP fetched the JWKS %d times for %d tokens with an unknown kid, want at most %d: rate-limit the refetch, or anyone can make it hammer the provider", n, rpStormLogins, rpStormFetches)
	}
	return r.err()
}
