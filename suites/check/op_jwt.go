package check

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"slices"
	"strings"
	"time"
)

// opJWK is one key of a JWK Set (RFC 7517 §4).
type opJWK struct {
	kty, kid, use, alg string
	key                crypto.PublicKey // *rsa.PublicKey or *ecdsa.PublicKey; nil when unusable
	err                error            // why key is nil, for RSA and EC keys
}

// opJWKS is a JWK Set.
type opJWKS struct {
	keys []*opJWK
	x    *opExchange // the exchange that fetched it
}

// opB64 decodes base64url without padding (RFC 7515 §2), tolerating
// padding.
func opB64(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// opParseJWKS reads a JWK Set. It returns nil when v is not a JWK Set at
// all; otherwise every key, usable or not, and a problem per RSA or EC key
// that cannot be used. Keys of other types are kept without a key.
func opParseJWKS(v any) (*opJWKS, []string) {
	arr, ok := get(v, "keys").([]any)
	if !ok {
		return nil, []string{"the body is not a JSON object with a \"keys\" array (RFC 7517 §5)"}
	}
	set := &opJWKS{}
	var problems []string
	for i, e := range arr {
		m, _ := e.(map[string]any)
		k := &opJWK{kty: str(m["kty"]), kid: str(m["kid"]), use: str(m["use"]), alg: str(m["alg"])}
		switch k.kty {
		case "RSA":
			k.key, k.err = opRSAKey(m)
		case "EC":
			k.key, k.err = opECKey(m)
		}
		if k.err != nil {
			problems = append(problems, fmt.Sprintf("key %d (kid %q): %v", i, k.kid, k.err))
		}
		set.keys = append(set.keys, k)
	}
	return set, problems
}

func opRSAKey(m map[string]any) (*rsa.PublicKey, error) {
	n, err := opB64(str(m["n"]))
	if err != nil || len(n) == 0 {
		return nil, errors.New("n is not a base64url-encoded modulus")
	}
	e, err := opB64(str(m["e"]))
	if err != nil || len(e) == 0 || len(e) > 4 {
		return nil, errors.New("e is not a base64url-encoded exponent")
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	if pub.N.BitLen() < 2048 {
		return nil, fmt.Errorf("the modulus has %d bits, want at least 2048 (RFC 7518 §3.3)", pub.N.BitLen())
	}
	if pub.E < 3 || pub.E%2 == 0 {
		return nil, fmt.Errorf("the exponent %d is not valid", pub.E)
	}
	return pub, nil
}

func opECKey(m map[string]any) (*ecdsa.PublicKey, error) {
	var c elliptic.Curve
	switch str(m["crv"]) {
	case "P-256":
		c = elliptic.P256()
	case "P-384":
		c = elliptic.P384()
	case "P-521":
		c = elliptic.P521()
	default:
		return nil, nil // a curve these checks do not verify with; not an error
	}
	size := (c.Params().BitSize + 7) / 8
	x, errX := opB64(str(m["x"]))
	y, errY := opB64(str(m["y"]))
	if errX != nil || errY != nil || len(x) != size || len(y) != size {
		return nil, fmt.Errorf("x and y are not %d-byte base64url coordinates (RFC 7518 §6.2.1)", size)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(c, append(append([]byte{4}, x...), y...))
	if err != nil {
		return nil, errors.New("the point is not on the curve")
	}
	return pub, nil
}

// opHash returns the hash of a JWS algorithm (RS256 → SHA-256, …).
func opHash(alg string) (crypto.Hash, func() hash.Hash, bool) {
	switch {
	case strings.HasSuffix(alg, "256"):
		return crypto.SHA256, sha256.New, true
	case strings.HasSuffix(alg, "384"):
		return crypto.SHA384, sha512.New384, true
	case strings.HasSuffix(alg, "512"):
		return crypto.SHA512, sha512.New, true
	}
	return 0, nil, false
}

// opVerifyJWS checks a compact JWS against the JWK Set: an asymmetric alg
// among allowed (when allowed is not empty), a kid that names a published
// key (or a single published key when there is no kid, OIDC Core §10.1),
// and the signature. It returns the header and the claims.
func opVerifyJWS(raw string, set *opJWKS, allowed []string) (hdr, claims map[string]any, err error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, nil, fmt.Errorf("the token has %d parts, want a compact JWS of 3 (RFC 7515 §7.1)", len(parts))
	}
	hb, err := opB64(parts[0])
	if err != nil || json.Unmarshal(hb, &hdr) != nil {
		return nil, nil, errors.New("the token's header is not base64url JSON")
	}
	cb, err := opB64(parts[1])
	if err != nil {
		return hdr, nil, errors.New("the token's payload is not base64url")
	}
	d := json.NewDecoder(bytes.NewReader(cb))
	d.UseNumber()
	if d.Decode(&claims) != nil {
		return hdr, nil, errors.New("the token's payload is not a JSON object")
	}
	sig, err := opB64(parts[2])
	if err != nil {
		return hdr, claims, errors.New("the token's signature is not base64url")
	}
	alg := str(hdr["alg"])
	if alg == "none" || alg == "" || strings.HasPrefix(alg, "HS") {
		return hdr, claims, fmt.Errorf("the token is signed with alg %q; an ID token must be signed with a key the JWK Set publishes (OpenID Connect Core §10.1)", alg)
	}
	if len(allowed) > 0 && !slices.Contains(allowed, alg) {
		return hdr, claims, fmt.Errorf("the token's alg %q is not in id_token_signing_alg_values_supported %q", alg, allowed)
	}
	kid, hasKid := hdr["kid"].(string)
	var key *opJWK
	switch {
	case hasKid:
		for _, k := range set.keys {
			if k.kid == kid {
				key = k
				break
			}
		}
		if key == nil {
			return hdr, claims, fmt.Errorf("the token's kid %q is not in the JWK Set", kid)
		}
	case len(set.keys) == 1:
		key = set.keys[0]
	default:
		return hdr, claims, fmt.Errorf("the token's header has no kid, but the JWK Set holds %d keys (OpenID Connect Core §10.1 requires a kid then)", len(set.keys))
	}
	if key.alg != "" && key.alg != alg {
		return hdr, claims, fmt.Errorf("the token's alg %q is not the alg %q of its key %q", alg, key.alg, key.kid)
	}
	if key.use != "" && key.use != "sig" {
		return hdr, claims, fmt.Errorf("the token's key %q has use %q, not sig", key.kid, key.use)
	}
	h, newHash, ok := opHash(alg)
	if !ok {
		return hdr, claims, fmt.Errorf("the token's alg %q is not one these checks verify (RS*, PS*, ES*)", alg)
	}
	hh := newHash()
	hh.Write([]byte(parts[0] + "." + parts[1]))
	digest := hh.Sum(nil)
	bad := fmt.Errorf("the token's signature does not verify with its key %q", key.kid)
	switch pub := key.key.(type) {
	case *rsa.PublicKey:
		switch alg[:2] {
		case "RS":
			if rsa.VerifyPKCS1v15(pub, h, digest, sig) != nil {
				return hdr, claims, bad
			}
		case "PS":
			if rsa.VerifyPSS(pub, h, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) != nil {
				return hdr, claims, bad
			}
		default:
			return hdr, claims, fmt.Errorf("the token's alg %q does not fit its RSA key %q", alg, key.kid)
		}
	case *ecdsa.PublicKey:
		size := (pub.Curve.Params().BitSize + 7) / 8
		if alg[:2] != "ES" || len(sig) != 2*size {
			return hdr, claims, fmt.Errorf("the token's alg %q or signature length does not fit its EC key %q", alg, key.kid)
		}
		r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
		if !ecdsa.Verify(pub, digest, r, s) {
			return hdr, claims, bad
		}
	default:
		return hdr, claims, fmt.Errorf("the token's key %q (kty %q) cannot be used: %v", key.kid, key.kty, key.err)
	}
	return hdr, claims, nil
}

// opHalfHash is at_hash (OIDC Core §3.1.3.6): the left half of the hash of
// the token by the ID token's alg, base64url.
func opHalfHash(alg, token string) (string, bool) {
	_, newHash, ok := opHash(alg)
	if !ok {
		return "", false
	}
	h := newHash()
	h.Write([]byte(token))
	sum := h.Sum(nil)
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2]), true
}

// opNumber reads a JSON number claim.
func opNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	}
	return 0, false
}

// opTime reads a NumericDate claim (RFC 7519 §2).
func opTime(v any) (time.Time, bool) {
	f, ok := opNumber(v)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}

// opAud returns the aud claim as a list.
func opAud(v any) []string {
	if s, ok := v.(string); ok {
		return []string{s}
	}
	return opStrings(v)
}

// opIDToken is a verified ID token.
type opIDToken struct {
	hdr, claims map[string]any
}

func (t *opIDToken) sub() string { return str(t.claims["sub"]) }

// idToken verifies an ID token with the provider's JWK Set and checks the
// claims every ID token must have (OIDC Core §2, §3.1.3.7): iss is the
// issuer, aud holds the client, azp (when present) is the client, exp is
// ahead, iat is now, sub is there, and nonce is the one sent (when nonce
// is not empty). Problems are recorded in p with the token response x; the
// token is nil when its signature did not verify.
func (a *opAgent) idToken(ctx context.Context, p *opProbe, x *opExchange, raw, nonce string) *opIDToken {
	if raw == "" {
		p.failf(x, "the token response has no id_token (OpenID Connect Core §3.1.3.3)")
		return nil
	}
	set, err := a.keys(ctx)
	if err != nil {
		p.problems = append(p.problems, err.Error())
		return nil
	}
	hdr, claims, err := opVerifyJWS(raw, set, a.meta.algs)
	if err != nil {
		p.failf(x, "the ID token does not verify: %v", err)
		return nil
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if iss := str(claims["iss"]); iss != a.t.Issuer {
		bad("iss is %q, want the issuer %q exactly", iss, a.t.Issuer)
	}
	if aud := opAud(claims["aud"]); !slices.Contains(aud, a.t.ClientID) {
		bad("aud is %s, want it to hold the client_id %q", show(claims["aud"]), a.t.ClientID)
	}
	if azp, ok := claims["azp"]; ok && str(azp) != a.t.ClientID {
		bad("azp is %s, want the client_id %q", show(azp), a.t.ClientID)
	}
	now := a.t.now()
	exp, okExp := opTime(claims["exp"])
	iat, okIat := opTime(claims["iat"])
	switch {
	case !okExp:
		bad("exp is %s, want a NumericDate", show(claims["exp"]))
	case !exp.After(now.Add(-opSkew)):
		bad("exp %s has passed (now %s)", exp.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	switch {
	case !okIat:
		bad("iat is %s, want a NumericDate", show(claims["iat"]))
	case iat.After(now.Add(opSkew)) || iat.Before(now.Add(-opSkew)):
		bad("iat %s is not the time of issue (now %s, ±%s allowed)", iat.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), opSkew)
	case okExp && !exp.After(iat):
		bad("exp is not after iat")
	}
	if sub, ok := claims["sub"].(string); !ok || sub == "" || len(sub) > 255 {
		bad("sub is %s, want a string of 1 to 255 characters", show(claims["sub"]))
	}
	if nonce != "" {
		if got, ok := claims["nonce"].(string); !ok || got != nonce {
			bad("nonce is %s, want the nonce sent, %q", show(claims["nonce"]), nonce)
		}
	}
	if at, ok := claims["auth_time"]; ok {
		if t, ok := opTime(at); !ok || t.After(now.Add(opSkew)) {
			bad("auth_time is %s, want a NumericDate not in the future", show(at))
		}
	}
	tok := &opIDToken{hdr: hdr, claims: claims}
	if len(problems) > 0 {
		p.problems = append(p.problems, "the ID token's claims are wrong (OpenID Connect Core §2, §3.1.3.7):\n  "+
			strings.Join(problems, "\n  ")+"\n  claims: "+opClaimsText(claims))
	}
	return tok
}

// opClaimsText renders claims for a report.
func opClaimsText(claims map[string]any) string {
	b, _ := json.Marshal(claims)
	return excerpt(b, 600)
}

// opUnreserved is RFC 7636 §4.1's unreserved set.
const opUnreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"

// opVerifier returns a random PKCE code verifier of n characters (n
// outside 43–128 makes an invalid one).
func opVerifier(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = opUnreserved[int(b[i])%len(opUnreserved)]
	}
	return string(b)
}

// opChallenge is the S256 code challenge of a verifier (RFC 7636 §4.2).
func opChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
