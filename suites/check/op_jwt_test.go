package check

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var opTestRSA = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func opB64Enc(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func opJSONB64(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return opB64Enc(b)
}

// opSign makes a compact JWS of claims with header hdr, signed by key
// (*rsa.PrivateKey for RS256/PS256, *ecdsa.PrivateKey for ES256; nil
// leaves the signature empty).
func opSign(t *testing.T, hdr, claims map[string]any, key crypto.Signer) string {
	t.Helper()
	input := opJSONB64(t, hdr) + "." + opJSONB64(t, claims)
	sum := sha256.Sum256([]byte(input))
	var sig []byte
	var err error
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if hdr["alg"] == "PS256" {
			sig, err = rsa.SignPSS(rand.Reader, k, crypto.SHA256, sum[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			sig, err = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:])
		}
	case *ecdsa.PrivateKey:
		var r, s *big.Int
		r, s, err = ecdsa.Sign(rand.Reader, k, sum[:])
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	}
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + opB64Enc(sig)
}

func opRSAJWK(kid, alg string, pub *rsa.PublicKey) map[string]any {
	return map[string]any{"kty": "RSA", "kid": kid, "use": "sig", "alg": alg,
		"n": opB64Enc(pub.N.Bytes()), "e": opB64Enc(big.NewInt(int64(pub.E)).Bytes())}
}

func opECJWK(kid string, pub *ecdsa.PublicKey) map[string]any {
	b, _ := pub.Bytes()
	return map[string]any{"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
		"x": opB64Enc(b[1:33]), "y": opB64Enc(b[33:])}
}

func opSet(t *testing.T, keys ...map[string]any) *opJWKS {
	t.Helper()
	arr := make([]any, len(keys))
	for i, k := range keys {
		arr[i] = k
	}
	set, problems := opParseJWKS(map[string]any{"keys": arr})
	if set == nil || len(problems) > 0 {
		t.Fatalf("JWKS: %v", problems)
	}
	return set
}

func TestOPVerifyJWS(t *testing.T) {
	rk := opTestRSA()
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	claims := map[string]any{"iss": "https://idp.example.com", "sub": "u1"}
	both := opSet(t, opRSAJWK("r1", "RS256", &rk.PublicKey), opECJWK("e1", &ek.PublicKey))
	psSet := opSet(t, opRSAJWK("p1", "PS256", &rk.PublicKey))
	single := opSet(t, opRSAJWK("r1", "RS256", &rk.PublicKey))
	for _, tc := range []struct {
		name    string
		token   string
		set     *opJWKS
		allowed []string
		wantErr string
	}{
		{"RS256 with kid", opSign(t, map[string]any{"alg": "RS256", "kid": "r1"}, claims, rk), both, []string{"RS256", "ES256"}, ""},
		{"ES256 with kid", opSign(t, map[string]any{"alg": "ES256", "kid": "e1"}, claims, ek), both, nil, ""},
		{"PS256", opSign(t, map[string]any{"alg": "PS256", "kid": "p1"}, claims, rk), psSet, nil, ""},
		{"no kid, one key", opSign(t, map[string]any{"alg": "RS256"}, claims, rk), single, nil, ""},
		{"no kid, two keys", opSign(t, map[string]any{"alg": "RS256"}, claims, rk), both, nil, "has no kid, but the JWK Set holds 2 keys"},
		{"alg none", opJSONB64(t, map[string]any{"alg": "none"}) + "." + opJSONB64(t, claims) + ".", both, nil, `signed with alg "none"`},
		{"HS256", opSign(t, map[string]any{"alg": "HS256", "kid": "r1"}, claims, nil), both, nil, `signed with alg "HS256"`},
		{"alg not advertised", opSign(t, map[string]any{"alg": "ES256", "kid": "e1"}, claims, ek), both, []string{"RS256"}, "not in id_token_signing_alg_values_supported"},
		{"unknown kid", opSign(t, map[string]any{"alg": "RS256", "kid": "zz"}, claims, rk), both, nil, `kid "zz" is not in the JWK Set`},
		{"alg not the key's", opSign(t, map[string]any{"alg": "ES256", "kid": "r1"}, claims, ek), both, nil, `is not the alg "RS256" of its key`},
		{"signed by another key", opSign(t, map[string]any{"alg": "ES256", "kid": "e1"}, claims, other), both, nil, "signature does not verify"},
		{"tampered payload", func() string {
			tok := opSign(t, map[string]any{"alg": "RS256", "kid": "r1"}, claims, rk)
			p := strings.Split(tok, ".")
			return p[0] + "." + opJSONB64(t, map[string]any{"iss": "https://idp.example.com", "sub": "u2"}) + "." + p[2]
		}(), both, nil, "signature does not verify"},
		{"two parts", "a.b", both, nil, "has 2 parts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, got, err := opVerifyJWS(tc.token, tc.set, tc.allowed)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(claims, got); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOPParseJWKSProblems(t *testing.T) {
	rk := opTestRSA()
	short, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	offCurve := map[string]any{"kty": "EC", "crv": "P-256", "kid": "e9", "x": opB64Enc(make([]byte, 32)), "y": opB64Enc(append(make([]byte, 31), 1))}
	garbage := opRSAJWK("g", "RS256", &rk.PublicKey)
	garbage["n"] = "!!not base64!!"
	_, problems := opParseJWKS(map[string]any{"keys": []any{
		opRSAJWK("ok", "RS256", &rk.PublicKey),
		opRSAJWK("short", "RS256", &short.PublicKey),
		garbage,
		offCurve,
		map[string]any{"kty": "EC", "crv": "secp256k1", "kid": "k1", "x": "AA", "y": "AA"},
		map[string]any{"kty": "OKP", "crv": "Ed25519", "kid": "o1", "x": "AA"},
	}})
	want := []string{
		`key 1 (kid "short"): the modulus has 1024 bits, want at least 2048 (RFC 7518 §3.3)`,
		`key 2 (kid "g"): n is not a base64url-encoded modulus`,
		`key 3 (kid "e9"): the point is not on the curve`,
	}
	if diff := cmp.Diff(want, problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if set, problems := opParseJWKS(map[string]any{"kid": "x"}); set != nil || len(problems) != 1 {
		t.Errorf("a body without keys: set %v, problems %v", set, problems)
	}
}

func TestOPHalfHash(t *testing.T) {
	sum := sha256.Sum256([]byte("access-token"))
	want := opB64Enc(sum[:16])
	for _, alg := range []string{"RS256", "ES256", "PS256"} {
		if got, ok := opHalfHash(alg, "access-token"); !ok || got != want {
			t.Errorf("%s: %q %v, want %q", alg, got, ok, want)
		}
	}
	if _, ok := opHalfHash("EdDSA", "x"); ok {
		t.Error("EdDSA: ok, want no hash")
	}
}

func TestOPVerifierAndChallenge(t *testing.T) {
	for _, n := range []int{42, 43, 128, 129} {
		v := opVerifier(n)
		if len(v) != n || strings.Trim(v, opUnreserved) != "" {
			t.Errorf("opVerifier(%d) = %q", n, v)
		}
	}
	// RFC 7636 Appendix B.
	if got := opChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"); got != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Errorf("opChallenge = %q", got)
	}
}
