package check

// This file is the table of the mock's faults the catalogue knows, and the
// check of one fault: one login with the fault armed, judged by what the
// fault expects of a correct relying party.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The expectations of a fault (FaultInfo.Expect).
const (
	rpRefuse = "refuse" // no session, no call to the next endpoint, a page below 500
	rpAccept = "accept" // a session
	rpEither = "either" // refuse or accept, but no 5xx
)

// The stages at which a fault shows itself to the RP.
const (
	rpStageIDToken  = "" // the token response's ID token (or the JWKS it needs)
	rpStageToken    = "token"
	rpStageUserinfo = "userinfo"
)

// rpFault is one known fault.
type rpFault struct {
	name, expect, title, ref string
	stage                    string
	keys                     bool // about the JWKS: labelled rp-keys too
	// should marks a refusal the spec asks for with SHOULD or MAY only
	// (certified libraries such as openid-client accept these tokens):
	// labelled Strict, so SelectRP leaves it out unless asked.
	should bool
	// gap is how far RPTarget.Advance moves the clocks before the login
	// (see RPTarget.Advance): rpRefetchGap or rpStaleGap.
	gap time.Duration
	// fetch marks a fault the RP meets only when it fetches the JWKS
	// during the login; without a fetch the check is skipped.
	fetch bool
	// upstream marks a fault that makes the provider fail (a 5xx): the
	// RP may then answer 502, 503 or 504 with a readable page, as a
	// gateway whose upstream failed (RFC 9110 §15.6.3), instead of a page
	// below 500. A 500 is never right.
	upstream bool
	// cooldown marks the key rotation fault: a login refused without a
	// JWKS fetch is tried once more after rpCooldown (a refetch cooldown
	// of up to 30 s is allowed), with the fault armed again.
	cooldown bool
	// cached marks kid-absent-single-jwks: an RP that did not fetch the
	// JWKS during the login checked the token without kid against the
	// keys it had cached, several of them (kid-absent-multiple-jwks), and
	// is judged as that fault is ("either").
	cached bool
}

// rpCore is the reference prefix of ID token validation.
const rpCore = "OpenID Connect Core 1.0 §3.1.3.7"

// rpFaults are the faults the catalogue knows, in the order they run:
// key rotation first, before any check can have used up a limit the RP
// puts on refetching the JWKS (alg-none and hs256-client-secret, tokens
// without a kid that no cached key verifies, make a careful RP refetch).
var rpFaults = []rpFault{
	{name: "key-rotation-op-sign-key", expect: rpAccept, keys: true, gap: rpRefetchGap, cooldown: true, title: "an ID token signed by a newly published key is accepted (the JWKS is fetched again; a refetch cooldown of up to 30 s is allowed)", ref: "OpenID Connect Core 1.0 §10.1.1; OIDF rp-key-rotation-op-sign-key"},
	{name: "invalid-signature", expect: rpRefuse, title: "an ID token whose RS256 signature does not verify is refused", ref: rpCore + " item 6; OIDF rp-id_token-bad-sig-rs256"},
	{name: "alg-none", expect: rpRefuse, title: "an unsigned ID token (alg none) is refused", ref: rpCore + " item 6; OIDF rp-id_token-sig-none"},
	{name: "hs256-client-secret", expect: rpRefuse, title: "an ID token signed HS256 with the client secret is refused (Okta signs RS256)", ref: rpCore + " items 6–8; OIDF rp-id_token-sig-hs256"},
	{name: "wrong-iss", expect: rpRefuse, title: "an ID token from another issuer is refused", ref: rpCore + " item 2; OIDF rp-id_token-issuer-mismatch"},
	{name: "wrong-aud", expect: rpRefuse, title: "an ID token for another audience is refused", ref: rpCore + " item 3; OIDF rp-id_token-aud"},
	{name: "missing-aud", expect: rpRefuse, title: "an ID token without aud is refused", ref: rpCore + " item 3; Core §2"},
	{name: "missing-sub", expect: rpRefuse, title: "an ID token without sub is refused", ref: "OpenID Connect Core 1.0 §2; OIDF rp-id_token-sub"},
	{name: "missing-iat", expect: rpRefuse, title: "an ID token without iat is refused", ref: "OpenID Connect Core 1.0 §2, §3.1.3.7 item 10; OIDF rp-id_token-iat"},
	{name: "iat-future", expect: rpRefuse, should: true, title: "an ID token issued an hour in the future is refused", ref: rpCore + " item 10"},
	{name: "iat-skew-small", expect: rpAccept, title: "an ID token issued 30 s in the future (a small clock skew) is accepted", ref: rpCore + " items 9–10 (clock skew)"},
	{name: "expired", expect: rpRefuse, title: "an expired ID token is refused", ref: rpCore + " item 9"},
	{name: "wrong-nonce", expect: rpRefuse, title: "an ID token with another login's nonce is refused", ref: rpCore + " item 11; OIDF rp-nonce-invalid"},
	{name: "kid-absent-single-jwks", expect: rpAccept, keys: true, gap: rpRefetchGap, cached: true, title: "an ID token without kid is accepted when the JWKS has a single key", ref: "OpenID Connect Core 1.0 §10.1; OIDF rp-id_token-kid-absent-single-jwks"},
	{name: "kid-absent-multiple-jwks", expect: rpEither, keys: true, gap: rpRefetchGap, title: "an ID token without kid, with several keys in the JWKS, is refused or accepted without a server error", ref: "OpenID Connect Core 1.0 §10.1; OIDF rp-id_token-kid-absent-multiple-jwks"},
	{name: "kid-unpublished", expect: rpRefuse, keys: true, gap: rpRefetchGap, title: "an ID token signed by a key the JWKS never published is refused", ref: "OpenID Connect Core 1.0 §10.1; RFC 7515 §4.1.4"},
	{name: "aud-array-no-azp", expect: rpRefuse, title: "an ID token for several audiences without azp is refused", ref: rpCore + " items 4–5"},
	{name: "wrong-azp", expect: rpRefuse, should: true, title: "an ID token whose azp is another client is refused", ref: rpCore + " item 5"},
	{name: "wrong-at-hash", expect: rpRefuse, should: true, title: "an ID token whose at_hash does not match the access token is refused", ref: "OpenID Connect Core 1.0 §3.1.3.8, §3.2.2.9; OIDF rp-id_token-bad-at_hash"},
	{name: "userinfo-sub-mismatch", expect: rpRefuse, stage: rpStageUserinfo, title: "a UserInfo response about another sub is refused", ref: "OpenID Connect Core 1.0 §5.3.2; OIDF rp-userinfo-bad-sub-claim"},
	{name: "jwks-secp256k1-key", expect: rpAccept, keys: true, gap: rpStaleGap, fetch: true, title: "a JWKS with an extra EC key on secp256k1 still verifies the ID token", ref: "RFC 7517 §5 (keys not understood are ignored)"},
	{name: "jwks-okp-key", expect: rpAccept, keys: true, gap: rpStaleGap, fetch: true, title: "a JWKS with extra OKP keys (Ed25519, X25519) still verifies the ID token", ref: "RFC 7517 §5; RFC 8037"},
	{name: "jwks-unparseable-key", expect: rpAccept, keys: true, gap: rpStaleGap, fetch: true, title: "a JWKS with an extra unparseable key still verifies the ID token", ref: "RFC 7517 §5"},
	{name: "token-server-error", expect: rpRefuse, stage: rpStageToken, upstream: true, title: "a token endpoint 500 server_error gives no session and a readable page (below 500, or 502–504 saying the provider failed)", ref: "RFC 6749 §5.2; RFC 9110 §15.6.3"},
	{name: "token-invalid-grant", expect: rpRefuse, stage: rpStageToken, title: "a token endpoint 400 invalid_grant gives a page below 500 and no session", ref: "RFC 6749 §5.2"},
	{name: "slow-token", expect: rpAccept, stage: rpStageToken, title: "a token endpoint that answers 3 s late still signs the user in", ref: "RFC 6749 §4.1.3 (network latency)"},
	{name: "slow-keys", expect: rpAccept, keys: true, gap: rpStaleGap, fetch: true, title: "a keys endpoint that answers 3 s late still signs the user in", ref: "OpenID Connect Core 1.0 §10.1 (network latency)"},
}

// rpKnownFault returns the table's entry for a fault name.
func rpKnownFault(name string) (rpFault, bool) {
	i := slices.IndexFunc(rpFaults, func(f rpFault) bool { return f.name == name })
	if i < 0 {
		return rpFault{}, false
	}
	return rpFaults[i], true
}

// rpFaultID is the check ID of a fault by its expectation.
func rpFaultID(name, expect string) string {
	switch expect {
	case rpAccept:
		return "rp-accepts-" + name
	case rpEither:
		return "rp-survives-" + name
	}
	return "rp-refuses-" + name
}

// rpFaultCheck is the check of one fault.
func rpFaultCheck(f rpFault) RPCheck {
	if f.expect == "" {
		f.expect = rpRefuse
	}
	if f.title == "" {
		f.title = "the mock's fault " + f.name
	}
	if f.ref == "" {
		f.ref = "the mock's fault list"
	} else if !strings.Contains(f.ref, " ") {
		f.ref = "OIDF " + f.ref
	}
	labels := []string{LabelRP, LabelRPFaults}
	if f.keys || strings.HasPrefix(f.name, "kid-") || strings.HasPrefix(f.name, "jwks-") || strings.Contains(f.name, "key") {
		labels = append(labels, LabelRPKeys)
	}
	if f.should {
		labels = append(labels, Strict)
	}
	c := RPCheck{ID: rpFaultID(f.name, f.expect), Title: f.title, Ref: f.ref, Labels: labels,
		Run: func(ctx context.Context, t *RPTarget) error { return rpRunFault(ctx, t, f) }}
	if f.cooldown {
		c.limit = rpLimit*2 + rpCooldown // two logins and the wait
	}
	return c
}

// rpRunFault is one login with the fault f armed.
func rpRunFault(ctx context.Context, t *RPTarget, f rpFault) error {
	infos, err := t.availableFaults(ctx)
	if err != nil {
		return rpMockTrouble(err)
	}
	i := slices.IndexFunc(infos, func(fi RPFaultInfo) bool { return fi.Name == f.name })
	if i < 0 {
		return Skip(fmt.Sprintf("the mock does not offer the fault %q (GET /__mock/faults)", f.name))
	}
	about := f.name
	if err := t.reset(ctx); err != nil {
		return rpMockTrouble(err)
	}
	if err := t.advance(ctx, f.gap); err != nil {
		return rpMockTrouble(err)
	}
	if err := t.arm(ctx, f.name); err != nil {
		return rpMockTrouble(err)
	}
	r := &rpReport{}
	desc := infos[i].Description
	if desc == "" {
		desc = f.title
	}
	r.notef("the fault %s: %s", f.name, desc)
	l, err := t.signIn(ctx, r, "login 1")
	if err != nil {
		return rpMockTrouble(err)
	}
	reqs, err := r.log(ctx, t)
	if err != nil {
		return rpMockTrouble(err)
	}
	if f.cooldown && rpCooledDown(l, reqs) {
		// Refused without a JWKS fetch: the RP may hold back refetches
		// for a while after its last one. Once that has passed, a token
		// signed by another new key must make it fetch.
		r.notef("login 1 was refused and the RP did not fetch the JWKS for its unknown kid; the check let %s pass (a refetch cooldown of up to 30 s is allowed) and signed in again with another new key", rpDuration(rpCooldown))
		r.retried = true
		if err := t.pause(ctx, rpCooldown); err != nil {
			return rpMockTrouble(err)
		}
		if err := t.arm(ctx, f.name); err != nil {
			return rpMockTrouble(err)
		}
		if l, err = t.signIn(ctx, r, "login 2, after the cooldown"); err != nil {
			return rpMockTrouble(err)
		}
		before := len(reqs)
		if reqs, err = r.log(ctx, t); err != nil {
			return rpMockTrouble(err)
		}
		reqs = reqs[min(before, len(reqs)):]
	}
	if skip := rpJudgeFault(r, l, reqs, f, about); skip != nil {
		return skip
	}
	return r.err()
}

// rpCooledDown reports whether a key rotation login is worth a second
// try after a refetch cooldown: the RP got its ID token, refused it, and
// did not fetch the JWKS.
func rpCooledDown(l *rpLogin, reqs []rpMockRequest) bool {
	return l.final != nil && l.final.Err == nil && l.astray() == "" && !l.session &&
		rpTokensOK(reqs) > 0 && rpCount(reqs, "keys") == 0
}

// rpJudgeFault records in r what is wrong with login l under fault f; it
// returns a Skip when the rule does not apply to this RP.
func rpJudgeFault(r *rpReport, l *rpLogin, reqs []rpMockRequest, f rpFault, about string) error {
	if l.final == nil || l.final.Err != nil {
		r.failf("the login through the RP did not finish with fault %s armed", about)
		return nil
	}
	if why := l.astray(); why != "" {
		r.failf("%s, so the RP never saw fault %s", why, about)
		return nil
	}
	tokens := rpCount(reqs, "token")
	fetched := rpCount(reqs, "keys") > 0
	id := rpFaultID(f.name, f.expect)
	switch f.expect {
	case rpAccept:
		if f.fetch && !fetched && l.session && l.final.Status < 500 {
			return Skip(fmt.Sprintf("the RP verified the ID token with the JWKS it had cached and did not fetch the changed one during the login: your RP kept its cached JWKS; this check runs when that cache has expired, e.g. right after the RP starts (idpkit conform rp --check %s)", id))
		}
		if f.cached && !fetched && !l.session && rpTokensOK(reqs) > 0 {
			// Not the single-key case: the RP's cached JWKS has several
			// keys, so it met kid-absent-multiple-jwks ("either").
			if l.final.Status >= 500 {
				r.failf("the RP answered the person with %d; it did not fetch the JWKS during the login, so it checked the token without kid against the several keys it had cached (the kid-absent-multiple-jwks case): refusing is right then, a server error is not", l.final.Status)
				return nil
			}
			return Skip(fmt.Sprintf("the RP did not fetch the JWKS during the login and refused the token without kid, without a server error: against the several keys it had cached that is the kid-absent-multiple-jwks case, where refusing is right; the single-key case runs when the RP's JWKS cache has expired, e.g. right after the RP starts (idpkit conform rp --check %s)", id))
		}
		if !l.session {
			hint := ""
			switch {
			case f.cooldown && !fetched && r.retried:
				hint = fmt.Sprintf("; the RP did not fetch the JWKS for the token's unknown kid, also %s after its first refusal (if it limits refetches for longer, or by count, an earlier check may have used up its allowance: run it alone with idpkit conform rp --check %s)", rpDuration(rpCooldown), id)
			case f.cooldown && !fetched:
				hint = fmt.Sprintf("; the RP did not fetch the JWKS again for the token's unknown kid (if it limits refetches, an earlier check may have used up its allowance: run it alone with idpkit conform rp --check %s)", id)
			}
			r.failf("the RP refused a login it should accept, with fault %s: %s%s", about, l.sessionSays(), hint)
		}
		if l.final.Status >= 500 {
			r.failf("the RP answered the person with %d", l.final.Status)
		}
	case rpEither:
		if l.final.Status >= 500 {
			r.failf("the RP answered the person with %d under fault %s; refusing or accepting are both right, a server error is not", l.final.Status, about)
		}
	default: // refuse
		if f.stage == rpStageUserinfo && tokens > 0 && rpCount(reqs, "userinfo") == 0 && l.final.Status < 500 {
			// The fault lives in the UserInfo response: an RP that never
			// reads UserInfo never meets it, whatever it did with the login.
			return Skip("the RP does not call UserInfo; the rule is for relying parties that read it")
		}
		okTokens := 0
		for _, q := range reqs {
			if q.Endpoint == "token" && q.Status == 200 {
				okTokens++
			}
		}
		switch {
		case tokens == 0:
			r.failf("the RP never called the mock's token endpoint, so the fault %s was not put to it", about)
		case f.stage == rpStageIDToken && okTokens == 0:
			r.failf("the mock's token endpoint never answered 200 (%s), so the fault %s was not put to the RP", rpLogLine(reqs), about)
		}
		if l.session {
			r.failf("the RP gave a session to a login with fault %s: %s", about, l.sessionSays())
		}
		gateway := l.final.Status >= 502 && l.final.Status <= 504 && len(rpPageText(l.final)) >= 10
		if l.final.Status >= 500 && !(f.upstream && gateway) {
			r.failf("the RP answered the person with %d, want a page below 500 saying the sign-in failed", l.final.Status)
		}
		rest, _ := rpAfter(reqs, "token")
		calls := rpCount(rest, "userinfo")
		if f.stage == rpStageUserinfo {
			break
		}
		if calls > 0 && tokens > 0 {
			r.failf("the RP called UserInfo %d time(s) after a token response it must refuse (fault %s)", calls, about)
		}
	}
	return nil
}
