package op

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
)

// faultLogin signs alice in to the web client on the org server (through
// the SSO session after the first time) and redeems the code.
func (e *env) faultLogin(t *testing.T) tokenResponse {
	t.Helper()
	verifier, challenge := pkce("fault-")
	return decodeTokens(t, e.exchange(t, "", e.signIn(t, "", authzQuery(challenge)), verifier))
}

// faultJWKS fetches the org server's JWKS, one JSON object per key.
func (e *env) faultJWKS(t *testing.T) []json.RawMessage {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/oauth2/v1/keys", nil)
	if err != nil {
		t.Fatal(err)
	}
	r := do(t, http.DefaultClient, req)
	if r.status != http.StatusOK {
		t.Fatalf("keys status %d: %s", r.status, r.body)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal([]byte(r.body), &set); err != nil {
		t.Fatalf("keys body %q: %v", r.body, err)
	}
	return set.Keys
}

// faultUserinfoSub reads UserInfo's sub with an access token.
func (e *env) faultUserinfoSub(t *testing.T, accessToken string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/oauth2/v1/userinfo", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	r := do(t, http.DefaultClient, req)
	if r.status != http.StatusOK {
		t.Fatalf("userinfo status %d: %s", r.status, r.body)
	}
	var body struct {
		Sub string `json:"sub"`
	}
	if err := json.Unmarshal([]byte(r.body), &body); err != nil {
		t.Fatal(err)
	}
	return body.Sub
}

// compact is a JWS compact serialisation taken apart by hand.
type compact struct {
	raw    string
	header map[string]any
	claims map[string]any
	sig    []byte
}

func parseCompact(t *testing.T, raw string) compact {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d parts", raw, len(parts))
	}
	enc := base64.RawURLEncoding.Strict()
	c := compact{raw: raw}
	for i, dst := range []*map[string]any{&c.header, &c.claims} {
		b, err := enc.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("token part %d is not base64url: %v", i, err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatalf("token part %d is not JSON: %v", i, err)
		}
	}
	sig, err := enc.DecodeString(parts[2])
	if err != nil {
		t.Fatalf("signature is not base64url: %v", err)
	}
	c.sig = sig
	return c
}

// tokenObs is what the table tests compare about one login: the ID
// token's header, signature and claims, and UserInfo's sub, with values
// that differ from run to run replaced by labels.
type tokenObs struct {
	Alg, Typ, Kid string
	Sig           string
	Claims        map[string]any
	UserinfoSub   string
}

// labeler names keys: "signing" and "published" for the keys published
// before the fault was armed, "new1", "new2"… for other kids in the order
// they are first seen.
type labeler struct {
	signing string
	before  map[string]bool
	fresh   map[string]string
}

func newLabeler(e *env, before []json.RawMessage) *labeler {
	l := &labeler{signing: e.p.keys.current().kid, before: map[string]bool{}, fresh: map[string]string{}}
	for _, k := range before {
		l.before[jwkField(k, "kid")] = true
	}
	return l
}

func (l *labeler) kid(kid string) string {
	switch {
	case kid == "":
		return ""
	case kid == l.signing:
		return "signing"
	case l.before[kid]:
		return "published"
	case kid == kidSecp256k1 || kid == kidOKP || kid == kidUnparseable:
		return kid
	}
	if s, ok := l.fresh[kid]; ok {
		return s
	}
	l.fresh[kid] = fmt.Sprintf("new%d", len(l.fresh)+1)
	return l.fresh[kid]
}

func jwkField(k json.RawMessage, name string) string {
	var m map[string]any
	json.Unmarshal(k, &m)
	s, _ := m[name].(string)
	return s
}

// keys labels a JWKS as "kty[ crv] kid-label" per key.
func (l *labeler) keys(set []json.RawMessage) []string {
	var out []string
	for _, k := range set {
		s := jwkField(k, "kty")
		if crv := jwkField(k, "crv"); crv != "" {
			s += " " + crv
		}
		out = append(out, s+" "+l.kid(jwkField(k, "kid")))
	}
	return out
}

// observe describes a login's ID token, verified against the JWKS jwks.
func (l *labeler) observe(t *testing.T, e *env, tr tokenResponse, jwks []json.RawMessage, userinfoSub string) tokenObs {
	t.Helper()
	c := parseCompact(t, tr.IDToken)
	str := func(k string) string { s, _ := c.header[k].(string); return s }
	o := tokenObs{Alg: str("alg"), Typ: str("typ"), Kid: l.kid(str("kid")), Claims: claimView(e, c.claims, tr.AccessToken)}
	o.Sig = l.signature(t, e, c, jwks)
	switch sub := userinfoSub; {
	case sub == "00u1alice":
		o.UserinfoSub = "user"
	case strings.HasPrefix(sub, otherUserPrefix) && len(sub) == 20:
		o.UserinfoSub = "other user"
	default:
		o.UserinfoSub = sub
	}
	return o
}

// signature says which key signed the token: "RS256 by <label>",
// "RS256 by the unpublished key", "RS256 bad", "none, empty", "HS256 by
// the client secret", "HS256 by the public-client key".
func (l *labeler) signature(t *testing.T, e *env, c compact, jwks []json.RawMessage) string {
	t.Helper()
	alg, _ := c.header["alg"].(string)
	kid, _ := c.header["kid"].(string)
	input := c.raw[:strings.LastIndexByte(c.raw, '.')]
	switch alg {
	case "none":
		if len(c.sig) == 0 {
			return "none, empty"
		}
		return "none, not empty"
	case "HS256":
		for _, k := range []struct{ name, key string }{{"the client secret", "web secret+/="}, {"the public-client key", hs256PublicSecret}} {
			m := hmac.New(sha256.New, []byte(k.key))
			m.Write([]byte(input))
			if hmac.Equal(m.Sum(nil), c.sig) {
				return "HS256 by " + k.name
			}
		}
		return "HS256 bad"
	case "RS256":
		jws, err := jose.ParseSigned(c.raw, []jose.SignatureAlgorithm{jose.RS256})
		if err != nil {
			t.Fatalf("parse %q: %v", c.raw, err)
		}
		for _, k := range jwks {
			var jwk jose.JSONWebKey
			if json.Unmarshal(k, &jwk) != nil || (kid != "" && jwk.KeyID != kid) {
				continue
			}
			if _, err := jws.Verify(jwk.Key); err == nil {
				return "RS256 by " + l.kid(jwk.KeyID)
			}
		}
		fs := e.p.faultState()
		fs.mu.Lock()
		hidden := fs.hidden
		fs.mu.Unlock()
		if hidden != nil {
			if _, err := jws.Verify(hidden.public); err == nil {
				return "RS256 by the unpublished key"
			}
		}
		return "RS256 bad"
	}
	return alg + " unexpected"
}

// claimView labels the claims faults change: times relative to the clock
// in seconds, ids and hashes by what they are.
func claimView(e *env, c map[string]any, accessToken string) map[string]any {
	v := map[string]any{}
	client := func(x any) any {
		s, _ := x.(string)
		switch {
		case s == "0oaweb":
			return "client"
		case strings.HasPrefix(s, otherClientPrefix) && len(s) == 20:
			return "other client"
		}
		return x
	}
	if iss, ok := c["iss"].(string); ok {
		u, _ := url.Parse(iss)
		want, _ := url.Parse(e.srv.URL)
		switch {
		case iss == e.srv.URL:
			v["iss"] = "issuer"
		case u != nil && u.Host != want.Host && strings.TrimRight(iss, "/") != e.srv.URL:
			v["iss"] = "other host"
		default:
			v["iss"] = iss
		}
	}
	switch aud := c["aud"].(type) {
	case nil:
	case []any:
		var l []any
		for _, a := range aud {
			l = append(l, client(a))
		}
		v["aud"] = l
	default:
		v["aud"] = client(aud)
	}
	if azp, ok := c["azp"]; ok {
		v["azp"] = client(azp)
	}
	if sub, ok := c["sub"]; ok {
		v["sub"] = sub
		if sub == "00u1alice" {
			v["sub"] = "user"
		}
	}
	now := e.clock.Now().Unix()
	for _, k := range []string{"iat", "exp", "auth_time"} {
		if f, ok := c[k].(float64); ok {
			v[k] = int64(f) - now
		}
	}
	if n, ok := c["nonce"].(string); ok {
		switch {
		case n == "n-456":
			v["nonce"] = "request"
		case len(n) >= 16:
			v["nonce"] = "random"
		default:
			v["nonce"] = n
		}
	}
	if h, ok := c["at_hash"].(string); ok {
		switch {
		case h == atHash(accessToken):
			v["at_hash"] = "matches"
		case len(h) == 22:
			v["at_hash"] = "other"
		default:
			v["at_hash"] = h
		}
	}
	return v
}

// normalObs is a login with no fault.
func normalObs() tokenObs {
	return tokenObs{
		Alg: "RS256", Typ: "JWT", Kid: "signing", Sig: "RS256 by signing",
		Claims: map[string]any{
			"iss": "issuer", "aud": "client", "sub": "user", "iat": int64(0), "exp": int64(3600), "auth_time": int64(0),
			"nonce": "request", "at_hash": "matches",
		},
		UserinfoSub: "user",
	}
}

// viewed are the claims claimView covers; the rest must be untouched.
var viewed = []string{"iss", "aud", "azp", "sub", "iat", "exp", "auth_time", "nonce", "at_hash", "jti"}

func otherClaims(t *testing.T, raw string) map[string]any {
	t.Helper()
	c := parseCompact(t, raw).claims
	for _, k := range viewed {
		delete(c, k)
	}
	return c
}

// tokenFaultRow is a fault that changes the ID token, the JWKS or UserInfo.
type tokenFaultRow struct {
	name string
	// tok changes normalObs into the observation of the use-th token the
	// fault changes (1, or 2 when sticky).
	tok func(o *tokenObs, use int)
	// jwks is the JWKS while the fault is in effect, after uses tokens
	// (0 right after arming); nil means unchanged.
	jwks func(before []string, uses int) []string
}

func claim(k string, v any) func(o *tokenObs, _ int) {
	return func(o *tokenObs, _ int) {
		if v == nil {
			delete(o.Claims, k)
			return
		}
		o.Claims[k] = v
	}
}

func withKey(extra string) func(before []string, _ int) []string {
	return func(before []string, _ int) []string { return append(slices.Clone(before), extra) }
}

var tokenFaultRows = []tokenFaultRow{
	{name: "invalid-signature", tok: func(o *tokenObs, _ int) { o.Sig = "RS256 bad" }},
	{name: "alg-none", tok: func(o *tokenObs, _ int) { o.Alg, o.Kid, o.Sig = "none", "", "none, empty" }},
	{name: "hs256-client-secret", tok: func(o *tokenObs, _ int) { o.Alg, o.Kid, o.Sig = "HS256", "", "HS256 by the client secret" }},
	{name: "wrong-iss", tok: claim("iss", "other host")},
	{name: "wrong-aud", tok: claim("aud", "other client")},
	{name: "missing-aud", tok: claim("aud", nil)},
	{name: "missing-sub", tok: claim("sub", nil)},
	{name: "missing-iat", tok: claim("iat", nil)},
	{name: "iat-future", tok: func(o *tokenObs, _ int) { o.Claims["iat"], o.Claims["exp"] = int64(3600), int64(7200) }},
	{name: "iat-skew-small", tok: func(o *tokenObs, _ int) {
		o.Claims["iat"], o.Claims["exp"], o.Claims["auth_time"] = int64(30), int64(3630), int64(30)
	}},
	{name: "expired", tok: func(o *tokenObs, _ int) { o.Claims["iat"], o.Claims["exp"] = int64(-7200), int64(-3600) }},
	{name: "wrong-nonce", tok: claim("nonce", "random")},
	{name: "kid-absent-single-jwks", tok: func(o *tokenObs, _ int) { o.Kid = "" },
		jwks: func([]string, int) []string { return []string{"RSA signing"} }},
	{name: "kid-absent-multiple-jwks", tok: func(o *tokenObs, _ int) { o.Kid = "" }},
	{name: "key-rotation-op-sign-key",
		tok: func(o *tokenObs, use int) { o.Kid = fmt.Sprintf("new%d", use); o.Sig = "RS256 by " + o.Kid },
		jwks: func(before []string, uses int) []string {
			out := append(slices.Clone(before), "RSA new1")
			if uses == 2 {
				out = append(out, "RSA new2")
			}
			return out
		}},
	{name: "kid-unpublished", tok: func(o *tokenObs, _ int) { o.Kid, o.Sig = "new1", "RS256 by the unpublished key" }},
	{name: "aud-array-no-azp", tok: claim("aud", []any{"client", "other client"})},
	{name: "wrong-azp", tok: claim("azp", "other client")},
	{name: "wrong-at-hash", tok: claim("at_hash", "other")},
	{name: "userinfo-sub-mismatch", tok: func(o *tokenObs, _ int) { o.UserinfoSub = "other user" }},
	{name: "jwks-secp256k1-key", jwks: withKey("EC secp256k1 " + kidSecp256k1)},
	{name: "jwks-okp-key", jwks: withKey("OKP Ed25519 " + kidOKP)},
	{name: "jwks-unparseable-key", jwks: withKey("RSA " + kidUnparseable)},
}

// queuedFaultRows are the faults that go through the error queue.
var queuedFaultRows = []struct {
	name       string
	endpoint   string
	wantStatus int
	wantError  string
}{
	{"token-server-error", EndpointToken, http.StatusInternalServerError, "server_error"},
	{"token-invalid-grant", EndpointToken, http.StatusBadRequest, "invalid_grant"},
	{"slow-token", EndpointToken, http.StatusOK, ""},
	{"slow-keys", EndpointKeys, http.StatusOK, ""},
}

func TestFaultNames(t *testing.T) {
	type row struct{ Name, Module, Expect string }
	// The contract's list, in its order.
	want := []row{
		{"invalid-signature", "rp-id_token-bad-sig-rs256", "refuse"},
		{"alg-none", "rp-id_token-sig-none", "refuse"},
		{"hs256-client-secret", "rp-id_token-sig-hs256", "refuse"},
		{"wrong-iss", "rp-id_token-issuer-mismatch", "refuse"},
		{"wrong-aud", "rp-id_token-aud", "refuse"},
		{"missing-aud", "", "refuse"},
		{"missing-sub", "rp-id_token-sub", "refuse"},
		{"missing-iat", "rp-id_token-iat", "refuse"},
		{"iat-future", "", "refuse"},
		{"iat-skew-small", "", "accept"},
		{"expired", "", "refuse"},
		{"wrong-nonce", "rp-nonce-invalid", "refuse"},
		{"kid-absent-single-jwks", "rp-id_token-kid-absent-single-jwks", "accept"},
		{"kid-absent-multiple-jwks", "rp-id_token-kid-absent-multiple-jwks", "either"},
		{"key-rotation-op-sign-key", "rp-key-rotation-op-sign-key", "accept"},
		{"kid-unpublished", "", "refuse"},
		{"aud-array-no-azp", "", "refuse"},
		{"wrong-azp", "", "refuse"},
		{"wrong-at-hash", "rp-id_token-bad-at_hash", "refuse"},
		{"userinfo-sub-mismatch", "rp-userinfo-bad-sub-claim", "refuse"},
		{"jwks-secp256k1-key", "", "accept"},
		{"jwks-okp-key", "", "accept"},
		{"jwks-unparseable-key", "", "accept"},
		{"token-server-error", "", "refuse"},
		{"token-invalid-grant", "", "refuse"},
		{"slow-token", "", "accept"},
		{"slow-keys", "", "accept"},
	}
	var got []row
	seen := map[string]bool{}
	for _, f := range FaultNames() {
		got = append(got, row{f.Name, f.Module, f.Expect})
		if seen[f.Name] {
			t.Errorf("fault %q listed twice", f.Name)
		}
		seen[f.Name] = true
		if len(f.Description) < 20 || !strings.HasSuffix(f.Description, ".") || strings.Count(f.Description, ". ") > 0 {
			t.Errorf("fault %q: description %q is not one sentence", f.Name, f.Description)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FaultNames (-want +got):\n%s", diff)
	}
	// Every fault has a row in the behaviour tables below.
	var tested []string
	for _, r := range tokenFaultRows {
		tested = append(tested, r.name)
	}
	for _, r := range queuedFaultRows {
		tested = append(tested, r.name)
	}
	var names []string
	for _, r := range want {
		names = append(names, r.Name)
	}
	if diff := cmp.Diff(names, tested); diff != "" {
		t.Errorf("faults without a test row (-listed +tested):\n%s", diff)
	}
	// FaultNames returns a copy.
	FaultNames()[0].Name = "changed"
	if FaultNames()[0].Name != "invalid-signature" {
		t.Error("FaultNames shares its backing array")
	}
}

func TestArmFaultUnknown(t *testing.T) {
	e := newEnv(t)
	err := e.p.ArmFault("no-such-fault", false)
	if !errors.Is(err, ErrUnknownFault) {
		t.Fatalf("ArmFault: %v, want ErrUnknownFault", err)
	}
	for _, f := range FaultNames() {
		if !strings.Contains(err.Error(), f.Name) {
			t.Errorf("error %q does not list %q", err, f.Name)
		}
	}
	if !strings.HasPrefix(err.Error(), "op: ") || !strings.Contains(err.Error(), `"no-such-fault"`) {
		t.Errorf("error %q does not name the fault with the op: prefix", err)
	}
	if diff := cmp.Diff([]Fault{}, e.p.ArmedFaults()); diff != "" {
		t.Errorf("ArmedFaults (-want +got):\n%s", diff)
	}
}

// TestTokenFaults arms each fault one-shot and sticky, logs in three
// times (twice armed, once after DisarmFaults) and compares tokens, JWKS
// and UserInfo with what the fault promises.
func TestTokenFaults(t *testing.T) {
	for _, row := range tokenFaultRows {
		for _, sticky := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/sticky=%v", row.name, sticky), func(t *testing.T) {
				e := newEnv(t)
				beforeSet := e.faultJWKS(t)
				l := newLabeler(e, beforeSet)
				before := l.keys(beforeSet)
				wantJWKS := func(uses int) []string {
					if row.jwks == nil {
						return before
					}
					return row.jwks(before, uses)
				}
				faulted := func(use int) tokenObs {
					o := normalObs()
					if row.tok != nil {
						row.tok(&o, use)
					}
					return o
				}
				login := func() (tokenResponse, tokenObs, []string) {
					tr := e.faultLogin(t)
					set := e.faultJWKS(t)
					return tr, l.observe(t, e, tr, set, e.faultUserinfoSub(t, tr.AccessToken)), l.keys(set)
				}
				type step struct {
					Armed []Fault
					JWKS  []string
					Token tokenObs
				}
				check := func(name string, want, got step) {
					t.Helper()
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("%s (-want +got):\n%s", name, diff)
					}
				}

				if err := e.p.ArmFault(row.name, sticky); err != nil {
					t.Fatalf("ArmFault: %v", err)
				}
				armed := []Fault{{Name: row.name, Sticky: sticky}}
				check("armed", step{Armed: armed, JWKS: wantJWKS(0)}, step{Armed: e.p.ArmedFaults(), JWKS: l.keys(e.faultJWKS(t))})

				tr1, obs1, jwks1 := login()
				check("first login", step{Armed: map[bool][]Fault{false: {}, true: armed}[sticky], JWKS: wantJWKS(1), Token: faulted(1)},
					step{Armed: e.p.ArmedFaults(), JWKS: jwks1, Token: obs1})

				_, obs2, jwks2 := login()
				want2 := step{Armed: []Fault{}, JWKS: wantJWKS(1), Token: normalObs()} // a one-shot JWKS change lingers
				if sticky {
					want2 = step{Armed: armed, JWKS: wantJWKS(2), Token: faulted(2)}
				}
				check("second login", want2, step{Armed: e.p.ArmedFaults(), JWKS: jwks2, Token: obs2})

				e.p.DisarmFaults()
				tr3, obs3, jwks3 := login()
				check("after DisarmFaults", step{Armed: []Fault{}, JWKS: before, Token: normalObs()},
					step{Armed: e.p.ArmedFaults(), JWKS: jwks3, Token: obs3})

				if diff := cmp.Diff(otherClaims(t, tr3.IDToken), otherClaims(t, tr1.IDToken)); diff != "" {
					t.Errorf("claims the fault does not name changed (-normal +faulted):\n%s", diff)
				}
			})
		}
	}
}

func TestHS256PublicClient(t *testing.T) {
	e := newEnv(t)
	if err := e.p.ArmFault("hs256-client-secret", false); err != nil {
		t.Fatal(err)
	}
	verifier, challenge := pkce("public-")
	q := authzQuery(challenge)
	q.Set("client_id", "0oapublic")
	code := e.signIn(t, "", q)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testRedirect}, "code_verifier": {verifier}, "client_id": {"0oapublic"}}
	tr := decodeTokens(t, e.postForm(t, http.DefaultClient, "/oauth2/v1/token", form, nil))
	c := parseCompact(t, tr.IDToken)
	l := newLabeler(e, e.faultJWKS(t))
	got := []any{c.header, l.signature(t, e, c, nil)}
	want := []any{map[string]any{"alg": "HS256", "typ": "JWT"}, "HS256 by the public-client key"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestInvalidSignatureAltersOnlyTheSignature(t *testing.T) {
	e := newEnv(t)
	if err := e.p.ArmFault("invalid-signature", false); err != nil {
		t.Fatal(err)
	}
	c := parseCompact(t, e.faultLogin(t).IDToken)
	// Re-sign the same header and payload with the signing key: only the
	// signature may differ (RSA PKCS #1 v1.5 signatures are deterministic).
	good, err := e.p.keys.sign(c.claims)
	if err != nil {
		t.Fatal(err)
	}
	g := parseCompact(t, good)
	differ := 0
	for i := range g.sig {
		if g.sig[i] != c.sig[i] {
			differ++
		}
	}
	got := []any{len(c.sig), differ > 0, c.header}
	want := []any{len(g.sig), true, g.header}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestFaultsES256Client: claim faults keep the client's ES256 signature;
// invalid-signature alters an ES256 one; the kid faults sign RS256.
func TestFaultsES256Client(t *testing.T) {
	tests := []struct {
		fault  string
		alg    string
		ecSig  bool // verifies with the EC key
		hasKid bool
	}{
		{"wrong-nonce", "ES256", true, true},
		{"invalid-signature", "ES256", false, true},
		{"kid-absent-multiple-jwks", "RS256", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.fault, func(t *testing.T) {
			e := newEnv(t)
			c := e.dir.clients["0oaweb"]
			c.SigningAlg = AlgES256
			e.dir.clients["0oaweb"] = c
			if err := e.p.ArmFault(tt.fault, false); err != nil {
				t.Fatal(err)
			}
			raw := e.faultLogin(t).IDToken
			jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
			if err != nil {
				t.Fatal(err)
			}
			h := jws.Signatures[0].Header
			_, verr := jws.Verify(e.p.keys.ec.ecPublic)
			got := []any{h.Algorithm, verr == nil, h.KeyID != ""}
			if diff := cmp.Diff([]any{tt.alg, tt.ecSig, tt.hasKid}, got); diff != "" {
				t.Errorf("alg, verifies with the EC key, kid (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFaultJWKSKeys checks the extra keys of the jwks-* faults field by
// field.
func TestFaultJWKSKeys(t *testing.T) {
	tests := []struct {
		name  string
		check func(t *testing.T, k map[string]any)
		want  map[string]any
	}{
		{name: "jwks-secp256k1-key", want: map[string]any{"kty": "EC", "crv": "secp256k1", "kid": kidSecp256k1, "use": "sig", "alg": "ES256K"},
			check: func(t *testing.T, k map[string]any) {
				// y² = x³ + 7 over the field of SEC 2 §2.4.1.
				p, _ := new(big.Int).SetString("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F", 16)
				x, y := b64Int(t, k["x"]), b64Int(t, k["y"])
				lhs := new(big.Int).Mod(new(big.Int).Mul(y, y), p)
				rhs := new(big.Int).Mod(new(big.Int).Add(new(big.Int).Exp(x, big.NewInt(3), p), big.NewInt(7)), p)
				if lhs.Cmp(rhs) != 0 {
					t.Error("x, y is not a point on secp256k1")
				}
			}},
		{name: "jwks-okp-key", want: map[string]any{"kty": "OKP", "crv": "Ed25519", "kid": kidOKP, "use": "sig", "alg": "EdDSA"},
			check: func(t *testing.T, k map[string]any) {
				b, _ := json.Marshal(k)
				var jwk jose.JSONWebKey
				if err := json.Unmarshal(b, &jwk); err != nil || !jwk.Valid() {
					t.Errorf("go-jose does not read the OKP key: %v", err)
				}
			}},
		{name: "jwks-unparseable-key", want: map[string]any{"kty": "RSA", "kid": kidUnparseable, "use": "sig", "alg": "RS256", "n": "!!!", "e": "AQAB"},
			check: func(t *testing.T, k map[string]any) {
				b, _ := json.Marshal(k)
				var jwk jose.JSONWebKey
				if err := json.Unmarshal(b, &jwk); err == nil {
					t.Error("go-jose parses the unparseable key")
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			n := len(e.faultJWKS(t))
			if err := e.p.ArmFault(tt.name, false); err != nil {
				t.Fatal(err)
			}
			set := e.faultJWKS(t)
			if len(set) != n+1 {
				t.Fatalf("JWKS has %d keys, want %d", len(set), n+1)
			}
			var k map[string]any
			if err := json.Unmarshal(set[n], &k); err != nil {
				t.Fatal(err)
			}
			tt.check(t, k)
			delete(k, "x")
			delete(k, "y")
			if diff := cmp.Diff(tt.want, k); diff != "" {
				t.Errorf("extra key (-want +got):\n%s", diff)
			}
		})
	}
}

func b64Int(t *testing.T, v any) *big.Int {
	t.Helper()
	s, _ := v.(string)
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 32 {
		t.Fatalf("coordinate %q: %v (%d bytes)", s, err, len(b))
	}
	return new(big.Int).SetBytes(b)
}

// TestFaultsCombine arms several faults at once.
func TestFaultsCombine(t *testing.T) {
	e := newEnv(t)
	beforeSet := e.faultJWKS(t)
	l := newLabeler(e, beforeSet)
	before := l.keys(beforeSet)
	arm := func(names ...string) {
		t.Helper()
		for _, n := range names {
			if err := e.p.ArmFault(n, false); err != nil {
				t.Fatal(err)
			}
		}
	}
	type step struct {
		Armed []string
		JWKS  []string
		Token tokenObs
	}
	login := func() step {
		t.Helper()
		tr := e.faultLogin(t)
		set := e.faultJWKS(t)
		var armed []string
		for _, f := range e.p.ArmedFaults() {
			armed = append(armed, f.Name)
		}
		return step{Armed: armed, JWKS: l.keys(set), Token: l.observe(t, e, tr, set, e.faultUserinfoSub(t, tr.AccessToken))}
	}
	obs := func(f func(o *tokenObs)) tokenObs {
		o := normalObs()
		f(&o)
		return o
	}

	arm("wrong-aud", "alg-none", "missing-aud", "invalid-signature", "jwks-okp-key", "wrong-aud")
	steps := []struct {
		name string
		want step
	}{
		{"claim faults all apply, the first signer signs", step{
			Armed: []string{"invalid-signature"},
			JWKS:  append(slices.Clone(before), "OKP Ed25519 "+kidOKP),
			Token: obs(func(o *tokenObs) { o.Alg, o.Kid, o.Sig = "none", "", "none, empty"; delete(o.Claims, "aud") }),
		}},
		{"the waiting signer signs the next token; the JWKS change lingers", step{
			JWKS:  append(slices.Clone(before), "OKP Ed25519 "+kidOKP),
			Token: obs(func(o *tokenObs) { o.Sig = "RS256 bad" }),
		}},
		{"then tokens are normal", step{
			JWKS:  append(slices.Clone(before), "OKP Ed25519 "+kidOKP),
			Token: normalObs(),
		}},
	}
	for _, s := range steps {
		if diff := cmp.Diff(s.want, login()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", s.name, diff)
		}
	}

	// Arming another fault ends the lingering change; JWKS faults combine.
	arm("kid-absent-single-jwks", "jwks-secp256k1-key", "wrong-nonce")
	want := step{
		JWKS:  []string{"RSA signing", "EC secp256k1 " + kidSecp256k1},
		Token: obs(func(o *tokenObs) { o.Kid = ""; o.Claims["nonce"] = "random" }),
	}
	if diff := cmp.Diff(want, login()); diff != "" {
		t.Errorf("kid-absent-single-jwks with jwks-secp256k1-key (-want +got):\n%s", diff)
	}
	// A normal token verifies against the lingering single-key JWKS.
	want = step{JWKS: []string{"RSA signing", "EC secp256k1 " + kidSecp256k1}, Token: normalObs()}
	if diff := cmp.Diff(want, login()); diff != "" {
		t.Errorf("after use (-want +got):\n%s", diff)
	}
	arm("missing-sub")
	if diff := cmp.Diff(before, l.keys(e.faultJWKS(t))); diff != "" {
		t.Errorf("JWKS after arming a later fault (-want +got):\n%s", diff)
	}
	e.p.DisarmFaults()
	if diff := cmp.Diff(step{JWKS: before, Token: normalObs()}, login()); diff != "" {
		t.Errorf("after DisarmFaults (-want +got):\n%s", diff)
	}
}

func TestArmFaultTwice(t *testing.T) {
	tests := []struct {
		name   string
		sticky []bool
		want   []Fault
		// faulted is how many of three logins get a wrong nonce.
		faulted int
	}{
		{"one-shot twice is one fault", []bool{false, false}, []Fault{{"wrong-nonce", false}}, 1},
		{"one-shot then sticky is sticky", []bool{false, true}, []Fault{{"wrong-nonce", true}}, 3},
		{"sticky then one-shot stays sticky", []bool{true, false}, []Fault{{"wrong-nonce", true}}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			for _, s := range tt.sticky {
				if err := e.p.ArmFault("wrong-nonce", s); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(tt.want, e.p.ArmedFaults()); diff != "" {
				t.Errorf("ArmedFaults (-want +got):\n%s", diff)
			}
			faulted := 0
			for range 3 {
				if parseCompact(t, e.faultLogin(t).IDToken).claims["nonce"] != "n-456" {
					faulted++
				}
			}
			if faulted != tt.faulted {
				t.Errorf("%d tokens faulted, want %d", faulted, tt.faulted)
			}
		})
	}
}

// TestFaultOnRefresh: an ID token from the refresh_token grant uses a
// fault up too.
func TestFaultOnRefresh(t *testing.T) {
	e := newEnv(t)
	verifier, challenge := pkce("refresh-")
	q := authzQuery(challenge)
	q.Set("scope", "openid offline_access")
	tr := decodeTokens(t, e.exchange(t, "", e.signIn(t, "", q), verifier))
	if err := e.p.ArmFault("missing-sub", false); err != nil {
		t.Fatal(err)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}}
	rt := decodeTokens(t, e.postForm(t, http.DefaultClient, "/oauth2/v1/token", form, basic("0oaweb", "web secret+/=")))
	_, hasSub := parseCompact(t, rt.IDToken).claims["sub"]
	if diff := cmp.Diff([]any{false, []Fault{}}, []any{hasSub, e.p.ArmedFaults()}); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestQueuedFaults checks the faults that go through QueueError.
func TestQueuedFaults(t *testing.T) {
	for _, row := range queuedFaultRows {
		for _, sticky := range []bool{false, true} {
			if sticky && row.wantStatus == http.StatusOK {
				continue // a sticky delay costs 3 s per request; the one-shot run covers it
			}
			t.Run(fmt.Sprintf("%s/sticky=%v", row.name, sticky), func(t *testing.T) {
				e := newEnv(t)
				type result struct {
					Status int
					Error  string
					Armed  []Fault
				}
				call := func() result {
					t.Helper()
					var r response
					if row.endpoint == EndpointKeys {
						req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/oauth2/v1/keys", nil)
						r = do(t, http.DefaultClient, req)
					} else {
						verifier, challenge := pkce("queued-")
						r = e.exchange(t, "", e.signIn(t, "", authzQuery(challenge)), verifier)
					}
					res := result{Status: r.status, Armed: e.p.ArmedFaults()}
					if r.status != http.StatusOK {
						res.Error = decodeOAuthError(t, r).Error
					}
					return res
				}
				if err := e.p.ArmFault(row.name, sticky); err != nil {
					t.Fatalf("ArmFault: %v", err)
				}
				armed := []Fault{{Name: row.name, Sticky: sticky}}
				if diff := cmp.Diff(armed, e.p.ArmedFaults()); diff != "" {
					t.Errorf("armed (-want +got):\n%s", diff)
				}
				normal := result{Status: http.StatusOK, Armed: []Fault{}}
				faulted := result{Status: row.wantStatus, Error: row.wantError, Armed: []Fault{}}
				want := []result{faulted, normal}
				if sticky {
					faulted.Armed = armed
					want = []result{faulted, faulted}
				}
				got := []result{call(), call()}
				e.p.DisarmFaults()
				want, got = append(want, normal), append(got, call())
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("responses (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestQueuedFaultsAndTheQueue: a queued fault made sticky by a second
// arming stays one entry, and DisarmFaults removes only the faults'
// entries from the error queue.
func TestQueuedFaultsAndTheQueue(t *testing.T) {
	e := newEnv(t)
	if err := e.p.QueueError(QueuedError{Endpoint: EndpointUserinfo, Status: http.StatusServiceUnavailable, Sticky: true}); err != nil {
		t.Fatal(err)
	}
	for _, sticky := range []bool{false, true, false} {
		if err := e.p.ArmFault("token-server-error", sticky); err != nil {
			t.Fatal(err)
		}
	}
	token := func() int {
		verifier, challenge := pkce("queue-")
		return e.exchange(t, "", e.signIn(t, "", authzQuery(challenge)), verifier).status
	}
	got := []any{token(), token(), e.p.ArmedFaults()}
	e.p.DisarmFaults()
	tr := e.faultLogin(t)
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/oauth2/v1/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tr.AccessToken)
	got = append(got, e.p.ArmedFaults(), do(t, http.DefaultClient, req).status)
	want := []any{500, 500, []Fault{{"token-server-error", true}}, []Fault{}, http.StatusServiceUnavailable}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("token, token, armed, armed after DisarmFaults, userinfo (-want +got):\n%s", diff)
	}
}

// rpLeeway is the clock skew the relying-party checks below allow.
const rpLeeway = time.Minute

// rpChecks are the ID token checks go-oidc's Verify leaves to its caller:
// nonce (OIDC Core §3.1.3.7 item 11), iat present and not in the future
// (item 10; go-oidc reads iat but checks only exp and nbf), sub present
// (§2), azp with several audiences and azp naming the client (items 4–5),
// at_hash (§3.1.3.8, IDToken.VerifyAccessToken exists but the caller must
// call it) and UserInfo's sub equal to the ID token's (§5.3.2).
func rpChecks(idt *oidc.IDToken, tr tokenResponse, userinfoSub string, now time.Time) error {
	var c struct {
		Azp string   `json:"azp"`
		Iat *float64 `json:"iat"`
	}
	if err := idt.Claims(&c); err != nil {
		return err
	}
	switch {
	case idt.Subject == "":
		return errors.New("no sub")
	case idt.Nonce != "n-456":
		return errors.New("nonce is not the request's")
	case c.Iat == nil:
		return errors.New("no iat")
	case idt.IssuedAt.After(now.Add(rpLeeway)):
		return errors.New("iat in the future")
	case len(idt.Audience) > 1 && c.Azp == "":
		return errors.New("several audiences and no azp")
	case c.Azp != "" && c.Azp != "0oaweb":
		return errors.New("azp is another client")
	case idt.VerifyAccessToken(tr.AccessToken) != nil:
		return errors.New("at_hash does not match")
	case userinfoSub != idt.Subject:
		return errors.New("userinfo sub differs")
	}
	return nil
}

// TestFaultsAgainstGoOIDC logs in with each ID token, JWKS or UserInfo
// fault armed and verifies the ID token with go-oidc, with a verifier
// whose JWKS cache was filled before the fault (an RP that has been
// running) and with one created afterwards (an RP that just started).
// Column goOIDC is what go-oidc's Verify alone decides; the faults it
// accepts although they must be refused are the ones it leaves to its
// caller (rpChecks): missing-sub, missing-iat, iat-future, wrong-nonce,
// aud-array-no-azp, wrong-azp, wrong-at-hash, userinfo-sub-mismatch.
// Verify plus rpChecks must then do what FaultInfo.Expect says.
func TestFaultsAgainstGoOIDC(t *testing.T) {
	expect := map[string]string{}
	for _, f := range FaultNames() {
		expect[f.Name] = f.Expect
	}
	tests := []struct {
		name   string
		goOIDC string // "refuse" or "accept", warm and cold
		// coldGoOIDC, when set, is go-oidc's outcome with a cold cache,
		// when it differs from the warm one.
		coldGoOIDC string
		// deviates marks a fault go-oidc gets wrong, so Verify plus rpChecks
		// does not give FaultInfo.Expect; a relying party built on go-oidc
		// must work around it.
		deviates bool
	}{
		{name: "invalid-signature", goOIDC: "refuse"},
		{name: "alg-none", goOIDC: "refuse"},
		{name: "hs256-client-secret", goOIDC: "refuse"},
		{name: "wrong-iss", goOIDC: "refuse"},
		{name: "wrong-aud", goOIDC: "refuse"},
		{name: "missing-aud", goOIDC: "refuse"},
		{name: "missing-sub", goOIDC: "accept"},
		{name: "missing-iat", goOIDC: "accept"},
		{name: "iat-future", goOIDC: "accept"},
		{name: "iat-skew-small", goOIDC: "accept"},
		{name: "expired", goOIDC: "refuse"},
		{name: "wrong-nonce", goOIDC: "accept"},
		{name: "kid-absent-single-jwks", goOIDC: "accept"},
		{name: "kid-absent-multiple-jwks", goOIDC: "accept"}, // go-oidc tries every key
		{name: "key-rotation-op-sign-key", goOIDC: "accept"}, // refetches on an unknown kid
		{name: "kid-unpublished", goOIDC: "refuse"},          // refetches, then refuses
		{name: "aud-array-no-azp", goOIDC: "accept"},
		{name: "wrong-azp", goOIDC: "accept"},
		{name: "wrong-at-hash", goOIDC: "accept"},
		{name: "userinfo-sub-mismatch", goOIDC: "accept"},
		{name: "jwks-secp256k1-key", goOIDC: "accept"}, // skipped: go-oidc ignores keys of an unsupported alg
		{name: "jwks-okp-key", goOIDC: "accept"},
		// go-oidc fails the whole key set when one key does not decode, so a
		// verifier that fetches the JWKS while the key is there refuses
		// every token; one with a warm cache does not refetch.
		{name: "jwks-unparseable-key", goOIDC: "accept", coldGoOIDC: "refuse", deviates: true},
	}
	var names []string
	for _, tt := range tests {
		names = append(names, tt.name)
	}
	var want []string
	for _, r := range tokenFaultRows {
		want = append(want, r.name)
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("rows (-token faults +here):\n%s", diff)
	}
	outcome := func(err error) string {
		if err != nil {
			return "refuse"
		}
		return "accept"
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := oidc.ClientContext(context.Background(), e.srv.Client())
			newVerifier := func() *oidc.IDTokenVerifier {
				provider, err := oidc.NewProvider(ctx, e.srv.URL)
				if err != nil {
					t.Fatal(err)
				}
				return provider.VerifierContext(ctx, &oidc.Config{ClientID: "0oaweb", Now: e.clock.Now})
			}
			warm := newVerifier()
			if _, err := warm.Verify(ctx, e.faultLogin(t).IDToken); err != nil {
				t.Fatalf("normal token: %v", err)
			}
			if err := e.p.ArmFault(tt.name, true); err != nil {
				t.Fatal(err)
			}
			cold := newVerifier()
			tr := e.faultLogin(t)
			sub := e.faultUserinfoSub(t, tr.AccessToken)
			type result struct{ Warm, Cold, WarmRP, ColdRP string }
			var got result
			idt, err := warm.Verify(ctx, tr.IDToken)
			got.Warm = outcome(err)
			if err == nil {
				err = rpChecks(idt, tr, sub, e.clock.Now())
			}
			got.WarmRP = outcome(err)
			idt, err = cold.Verify(ctx, tr.IDToken)
			got.Cold = outcome(err)
			if err == nil {
				err = rpChecks(idt, tr, sub, e.clock.Now())
			}
			got.ColdRP = outcome(err)

			want := result{Warm: tt.goOIDC, Cold: tt.goOIDC, WarmRP: expect[tt.name], ColdRP: expect[tt.name]}
			if tt.coldGoOIDC != "" {
				want.Cold = tt.coldGoOIDC
			}
			if tt.deviates {
				want.ColdRP = want.Cold
			}
			if want.WarmRP == expectEither {
				want.WarmRP, want.ColdRP = got.WarmRP, got.ColdRP
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}

			// UserInfo through go-oidc shows the mismatch the same way.
			if tt.name == "userinfo-sub-mismatch" {
				provider, err := oidc.NewProvider(ctx, e.srv.URL)
				if err != nil {
					t.Fatal(err)
				}
				ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tr.AccessToken, TokenType: "Bearer"}))
				if err != nil {
					t.Fatal(err)
				}
				if ui.Subject == "00u1alice" || !strings.HasPrefix(ui.Subject, otherUserPrefix) {
					t.Errorf("userinfo sub %q, want another user", ui.Subject)
				}
			}
		})
	}
}

// BenchmarkIdTokenFaultIdle is the cost the fault hooks add to a token
// when no fault is armed.
func BenchmarkIdTokenFaultIdle(b *testing.B) {
	p, err := New(Config{BaseURL: func() string { return "http://127.0.0.1" }, Directory: newFakeDirectory()})
	if err != nil {
		b.Fatal(err)
	}
	claims := map[string]any{"sub": "00u1alice"}
	for b.Loop() {
		if p.idTokenFault(Client{ID: "0oaweb"}, claims) != nil {
			b.Fatal("signer without a fault")
		}
		p.jwksFault(nil)
	}
}
