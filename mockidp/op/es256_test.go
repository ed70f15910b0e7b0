package op

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
)

// ctlKeys returns the JWKS of the org server, each key as a map.
func (e *env) ctlKeys(t *testing.T) []map[string]any {
	t.Helper()
	r := e.ctlRequest(t, http.DefaultClient, "GET", "/oauth2/v1/keys", "", nil)
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal([]byte(r.body), &set); err != nil {
		t.Fatalf("keys %d %q: %v", r.status, r.body, err)
	}
	return set.Keys
}

// ctlAlgs returns discovery's id_token_signing_alg_values_supported.
func (e *env) ctlAlgs(t *testing.T, path string) []string {
	t.Helper()
	var md Metadata
	r := e.ctlRequest(t, http.DefaultClient, "GET", path, "", nil)
	if err := json.Unmarshal([]byte(r.body), &md); err != nil {
		t.Fatal(err)
	}
	return md.IDTokenSigningAlgValuesSupported
}

func ecThumbprint(t *testing.T, e *env) string {
	t.Helper()
	tp, err := (&jose.JSONWebKey{Key: e.p.keys.ec.ecPublic}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}

func TestES256Client(t *testing.T) {
	e := ctlEnv(t, nil)
	before := struct {
		Algs []string
		Keys int
	}{e.ctlAlgs(t, "/.well-known/openid-configuration"), len(e.ctlKeys(t))}
	if diff := cmp.Diff(struct {
		Algs []string
		Keys int
	}{[]string{"RS256"}, 2}, before); diff != "" {
		t.Errorf("before an ES256 client (-want +got):\n%s", diff)
	}

	if err := e.p.QueueLogin(QueuedLogin{Login: "alice@example.com"}); err != nil {
		t.Fatal(err)
	}
	_, tr := e.ctlAuthorize(t, ctlESClient, nil)

	keys := e.ctlKeys(t)
	ec := keys[len(keys)-1]
	kid := ecThumbprint(t, e)
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"discovery lists ES256", e.ctlAlgs(t, "/oauth2/default/.well-known/openid-configuration"), []string{"RS256", "ES256"}},
		{"JWKS adds the EC key", len(keys), 3},
		{"EC key shape", []any{ec["kty"], ec["crv"], ec["alg"], ec["use"], ec["kid"]}, []any{"EC", "P-256", "ES256", "sig", kid}},
		{"ID token header", []any{ctlHeader(t, tr.IDToken)["alg"], ctlHeader(t, tr.IDToken)["kid"]}, []any{"ES256", kid}},
		{"access token stays RS256", []any{ctlHeader(t, tr.AccessToken)["alg"], ctlHeader(t, tr.AccessToken)["kid"]}, []any{"RS256", e.p.keys.current().kid}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	t.Run("go-oidc verifies the ID token and its at_hash", func(t *testing.T) {
		ctx := oidc.ClientContext(context.Background(), e.srv.Client())
		provider, err := oidc.NewProvider(ctx, e.srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		idt, err := provider.VerifierContext(ctx, &oidc.Config{ClientID: ctlESClient, Now: e.clock.Now, SupportedSigningAlgs: []string{"ES256"}}).Verify(ctx, tr.IDToken)
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
		if err := idt.VerifyAccessToken(tr.AccessToken); err != nil {
			t.Errorf("at_hash: %v", err)
		}
	})
	t.Run("UserInfo takes its access token", func(t *testing.T) {
		if r := e.userinfo(t, "/oauth2/v1/userinfo", tr.AccessToken); r.status != http.StatusOK {
			t.Errorf("userinfo %d %s", r.status, r.body)
		}
	})
	t.Run("an ES256 token is no access token", func(t *testing.T) {
		if r := e.userinfo(t, "/oauth2/v1/userinfo", tr.IDToken); r.status != http.StatusUnauthorized {
			t.Errorf("userinfo with the ID token: %d", r.status)
		}
	})
	t.Run("logout takes an ES256 id_token_hint", func(t *testing.T) {
		q := url.Values{"id_token_hint": {tr.IDToken}, "post_logout_redirect_uri": {testLogout}, "state": {"s1"}}
		r := e.ctlRequest(t, e.browser, "GET", "/oauth2/v1/logout?"+q.Encode(), "", nil)
		if diff := cmp.Diff([]any{302, testLogout + "?state=s1"}, []any{r.status, r.header.Get("Location")}); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

func TestES256Config(t *testing.T) {
	e := ctlEnv(t, func(c *Config) { c.ES256 = true })
	got := []any{e.ctlAlgs(t, "/.well-known/openid-configuration"), len(e.ctlKeys(t))}
	published, signing := e.p.KeyIDs()
	if diff := cmp.Diff([]any{[]string{"RS256", "ES256"}, 3}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]any{3, ecThumbprint(t, e), e.p.keys.keys[0].kid}, []any{len(published), published[2], signing}); diff != "" {
		t.Errorf("KeyIDs (-want +got):\n%s", diff)
	}
}

func TestUnknownSigningAlg(t *testing.T) {
	e := ctlEnv(t, nil)
	c := e.dir.clients["0oaweb"]
	c.SigningAlg = "PS256"
	e.dir.clients["0oaweb"] = c
	verifier, challenge := pkce("ps256-")
	code := e.signIn(t, "", authzQuery(challenge))
	r := e.exchange(t, "", code, verifier)
	if diff := cmp.Diff([]any{500, "server_error"}, []any{r.status, decodeOAuthError(t, r).Error}); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if algs := e.ctlAlgs(t, "/.well-known/openid-configuration"); len(algs) != 1 {
		t.Errorf("discovery lists %v for an unknown alg", algs)
	}
}
