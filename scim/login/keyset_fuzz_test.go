package login

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// bodyTransport answers every request with one fixed JWK Set body.
type bodyTransport struct{ body, cacheControl string }

func (b bodyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"application/json"}, "Cache-Control": {b.cacheControl}},
		Body:       io.NopCloser(strings.NewReader(b.body)),
		Request:    r,
	}, nil
}

// FuzzKeySet feeds the relying party's key set an arbitrary JWK Set (and
// Cache-Control) from the provider and an arbitrary token: it must never
// panic, and must accept only RS256 and ES256 signatures.
func FuzzKeySet(f *testing.F) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	pub, err := json.Marshal(jose.JSONWebKey{Key: &priv.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"})
	if err != nil {
		f.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: priv}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
	if err != nil {
		f.Fatal(err)
	}
	obj, err := signer.Sign([]byte(`{"sub":"00u1"}`))
	if err != nil {
		f.Fatal(err)
	}
	good, err := obj.CompactSerialize()
	if err != nil {
		f.Fatal(err)
	}
	set := `{"keys":[` + string(pub) + `]}`
	f.Add(set, "max-age=3600", good)
	f.Add(`{"keys":[{"kty":"EC","crv":"secp256k1","x":"AA","y":"AA"},`+string(pub)+`]}`, "no-store", good)
	f.Add(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`, "", good)
	f.Add(`{"keys":[{"kty":"RSA","n":"!!!","e":"AQAB"}]}`, "max-age=-1", "eyJhbGciOiJub25lIn0.e30.")
	f.Add(`{"keys":null}`, "max-age=99999999999999999999", "a.b.c")
	f.Add(`[]`, `max-age="5"`, "")
	f.Fuzz(func(t *testing.T, body, cacheControl, token string) {
		client := &http.Client{Transport: bodyTransport{body, cacheControl}}
		now := time.Unix(1_800_000_000, 0)
		ks := newKeySet("https://issuer.example", "https://issuer.example/keys", client, func() time.Time { return now }, time.Second, slog.New(slog.DiscardHandler))
		payload, err := ks.VerifySignature(context.Background(), token)
		if err != nil {
			return
		}
		jws, perr := jose.ParseSigned(token, acceptedAlgs)
		if perr != nil {
			t.Fatalf("accepted a token that does not parse: %v", perr)
		}
		alg := jws.Signatures[0].Header.Algorithm
		if alg != string(jose.RS256) && alg != string(jose.ES256) {
			t.Fatalf("accepted alg %q", alg)
		}
		if len(payload) == 0 && token == good {
			t.Fatal("accepted the test token with an empty payload")
		}
	})
}
