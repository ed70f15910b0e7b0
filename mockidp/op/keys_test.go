package op

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
)

type jwkShape struct {
	Kty, Alg, Use, E string
	NLen             int
	KIDSet           bool
}

func (e *env) jwks(t *testing.T) ([]jwkShape, []string, response) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/oauth2/v1/keys", nil)
	r := do(t, http.DefaultClient, req)
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal([]byte(r.body), &set); err != nil {
		t.Fatalf("keys body %q: %v", r.body, err)
	}
	var shapes []jwkShape
	var kids []string
	for _, k := range set.Keys {
		shapes = append(shapes, jwkShape{Kty: k["kty"], Alg: k["alg"], Use: k["use"], E: k["e"], NLen: len(k["n"]), KIDSet: k["kid"] != ""})
		kids = append(kids, k["kid"])
	}
	return shapes, kids, r
}

func TestKeys(t *testing.T) {
	e := newEnv(t)
	shapes, kids, r := e.jwks(t)
	key := jwkShape{Kty: "RSA", Alg: "RS256", Use: "sig", E: "AQAB", NLen: 342, KIDSet: true}
	if diff := cmp.Diff([]jwkShape{key, key}, shapes); diff != "" {
		t.Errorf("JWKS (-want +got):\n%s", diff)
	}
	if kids[0] == kids[1] {
		t.Errorf("duplicate kid %q", kids[0])
	}
	if cc := r.header.Get("Cache-Control"); !strings.HasPrefix(cc, "max-age=") {
		t.Errorf("Cache-Control %q, want max-age", cc)
	}
	// The signing header names its key.
	verifier, challenge := pkce("keys-")
	tr := decodeTokens(t, e.exchange(t, "", e.signIn(t, "", authzQuery(challenge)), verifier))
	for _, tok := range []string{tr.IDToken, tr.AccessToken} {
		jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256})
		if err != nil {
			t.Fatal(err)
		}
		h := jws.Signatures[0].Header
		if diff := cmp.Diff([]string{"RS256", kids[0]}, []string{h.Algorithm, h.KeyID}); diff != "" {
			t.Errorf("JWS header (-want +got):\n%s", diff)
		}
	}
}

func TestRotateKeys(t *testing.T) {
	e := newEnv(t)
	ctx := oidc.ClientContext(context.Background(), e.srv.Client())
	provider, err := oidc.NewProvider(ctx, e.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	idToken := func() string {
		verifier, challenge := pkce("rotate-")
		return decodeTokens(t, e.exchange(t, "", e.signIn(t, "", authzQuery(challenge)), verifier)).IDToken
	}
	kidOf := func(tok string) string {
		jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256})
		if err != nil {
			t.Fatal(err)
		}
		return jws.Signatures[0].Header.KeyID
	}
	_, kids0, _ := e.jwks(t)
	before := idToken()

	e.p.RotateKeys()
	_, kids1, _ := e.jwks(t)
	after := idToken()

	e.p.RotateKeys()
	_, kids2, _ := e.jwks(t)

	tests := []struct {
		name string
		got  any
		want any
	}{
		{"three keys after a rotation", len(kids1), 3},
		{"still three after two", len(kids2), 3},
		{"old keys kept at first rotation", kids1[:2], kids0},
		{"signing moved to the pre-published key", kidOf(after), kids0[1]},
		{"oldest key dropped at second rotation", kids2[:2], kids1[1:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	verify := func(tok string) error {
		_, err := provider.VerifierContext(ctx, &oidc.Config{ClientID: "0oaweb", Now: e.clock.Now}).Verify(ctx, tok)
		return err
	}
	// After two rotations kids0[0] (which signed "before") is gone; kids0[1] signed "after" and is still published.
	t.Run("token signed with a still-published key verifies", func(t *testing.T) {
		if err := verify(after); err != nil {
			t.Errorf("verify: %v", err)
		}
	})
	t.Run("token signed with a dropped key fails", func(t *testing.T) {
		if err := verify(before); err == nil {
			t.Errorf("token of a dropped key verified")
		}
	})
}

func TestRotateKeysKeepsOldTokensVerifiable(t *testing.T) {
	e := newEnv(t)
	ctx := oidc.ClientContext(context.Background(), e.srv.Client())
	provider, err := oidc.NewProvider(ctx, e.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	verifier, challenge := pkce("keep-")
	tok := decodeTokens(t, e.exchange(t, "", e.signIn(t, "", authzQuery(challenge)), verifier)).IDToken
	e.p.RotateKeys()
	if _, err := provider.VerifierContext(ctx, &oidc.Config{ClientID: "0oaweb", Now: e.clock.Now}).Verify(ctx, tok); err != nil {
		t.Errorf("token signed before one rotation: %v", err)
	}
}
