package op

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
)

// idClaims are the ID token claims the flow test compares.
type idClaims struct {
	Ver               int      `json:"ver"`
	Iss               string   `json:"iss"`
	Aud               string   `json:"aud"`
	Sub               string   `json:"sub"`
	Amr               []string `json:"amr"`
	Idp               string   `json:"idp"`
	Nonce             string   `json:"nonce"`
	Name              string   `json:"name"`
	PreferredUsername string   `json:"preferred_username"`
	GivenName         string   `json:"given_name"`
	FamilyName        string   `json:"family_name"`
	Email             string   `json:"email"`
	Groups            []string `json:"groups"`
	JTIPrefix         string   `json:"-"`
	ExpMinusIat       int64    `json:"-"`
	AuthTimeSet       bool     `json:"-"`
	ATHashOK          bool     `json:"-"`
}

func TestCodeFlowVerifiedByGoOIDC(t *testing.T) {
	for _, as := range []string{"", "default", "aus1custom"} {
		t.Run("server="+as, func(t *testing.T) {
			e := newEnv(t)
			issuer := e.srv.URL
			if as != "" {
				issuer += "/oauth2/" + as
			}
			if got := e.p.Issuer(as); got != issuer {
				t.Fatalf("Issuer(%q) = %q, want %q", as, got, issuer)
			}
			ctx := oidc.ClientContext(context.Background(), e.srv.Client())
			provider, err := oidc.NewProvider(ctx, issuer)
			if err != nil {
				t.Fatalf("discovery: %v", err)
			}

			verifier, challenge := pkce("flow-verifier-")
			code := e.signIn(t, as, authzQuery(challenge))
			tr := decodeTokens(t, e.exchange(t, as, code, verifier))
			if diff := cmp.Diff(tokenResponse{TokenType: "Bearer", ExpiresIn: 3600, Scope: "openid profile email groups"},
				tokenResponse{TokenType: tr.TokenType, ExpiresIn: tr.ExpiresIn, Scope: tr.Scope}); diff != "" {
				t.Errorf("token response (-want +got):\n%s", diff)
			}

			idt, err := provider.VerifierContext(ctx, &oidc.Config{ClientID: "0oaweb", Now: e.clock.Now}).Verify(ctx, tr.IDToken)
			if err != nil {
				t.Fatalf("verify id token: %v", err)
			}
			var got idClaims
			if err := idt.Claims(&got); err != nil {
				t.Fatal(err)
			}
			var raw map[string]any
			if err := idt.Claims(&raw); err != nil {
				t.Fatal(err)
			}
			jti, _ := raw["jti"].(string)
			got.JTIPrefix = jti[:min(3, len(jti))]
			got.ExpMinusIat = idt.Expiry.Unix() - idt.IssuedAt.Unix()
			_, got.AuthTimeSet = raw["auth_time"]
			got.ATHashOK = idt.VerifyAccessToken(tr.AccessToken) == nil
			want := idClaims{
				Ver: 1, Iss: issuer, Aud: "0oaweb", Sub: "00u1alice", Amr: []string{"pwd"}, Idp: "00o1org", Nonce: "n-456",
				Name: "Alice Liddell", PreferredUsername: "alice@example.com", GivenName: "Alice", FamilyName: "Liddell",
				Email: "alice@example.com", Groups: []string{"Engineering", "Everyone"},
				JTIPrefix: "ID.", ExpMinusIat: 3600, AuthTimeSet: true, ATHashOK: true,
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("id token claims (-want +got):\n%s", diff)
			}

			// The access token verifies against the same keys and carries Okta's claims.
			var md struct {
				JWKSURI string `json:"jwks_uri"`
			}
			if err := provider.Claims(&md); err != nil {
				t.Fatal(err)
			}
			if _, err := oidc.NewRemoteKeySet(ctx, md.JWKSURI).VerifySignature(ctx, tr.AccessToken); err != nil {
				t.Fatalf("verify access token: %v", err)
			}
			claims, err := e.p.keys.verify(tr.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			aud := e.srv.URL
			if as != "" {
				aud = "api://" + as
			}
			gotAT := map[string]any{"aud": claims["aud"], "cid": claims["cid"], "uid": claims["uid"], "sub": claims["sub"], "scp": claims["scp"], "ver": claims["ver"], "iss": claims["iss"],
				"jti": strings.HasPrefix(claims["jti"].(string), "AT.")}
			wantAT := map[string]any{"aud": aud, "cid": "0oaweb", "uid": "00u1alice", "sub": "alice@example.com", "scp": []any{"openid", "profile", "email", "groups"}, "ver": float64(1), "iss": issuer,
				"jti": true}
			if diff := cmp.Diff(wantAT, gotAT); diff != "" {
				t.Errorf("access token claims (-want +got):\n%s", diff)
			}

			// UserInfo through go-oidc.
			ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tr.AccessToken, TokenType: "Bearer"}))
			if err != nil {
				t.Fatalf("userinfo: %v", err)
			}
			if diff := cmp.Diff([]string{"00u1alice", "alice@example.com"}, []string{ui.Subject, ui.Email}); diff != "" {
				t.Errorf("userinfo (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSSOSession(t *testing.T) {
	tests := []struct {
		name       string
		extra      url.Values
		signedIn   bool
		wantStatus int
		wantForm   bool
		wantError  string
	}{
		{name: "session skips the form", signedIn: true, wantStatus: http.StatusFound},
		{name: "prompt=login shows the form", extra: url.Values{"prompt": {"login"}}, signedIn: true, wantStatus: http.StatusOK, wantForm: true},
		{name: "max_age=0 shows the form", extra: url.Values{"max_age": {"0"}}, signedIn: true, wantStatus: http.StatusOK, wantForm: true},
		{name: "no session shows the form", wantStatus: http.StatusOK, wantForm: true},
		{name: "prompt=none without session", extra: url.Values{"prompt": {"none"}}, wantStatus: http.StatusFound, wantError: "login_required"},
		{name: "prompt=none with session", extra: url.Values{"prompt": {"none"}}, signedIn: true, wantStatus: http.StatusFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			_, challenge := pkce("sso-")
			if tt.signedIn {
				e.signIn(t, "", authzQuery(challenge))
			}
			q := authzQuery(challenge)
			for k, v := range tt.extra {
				q[k] = v
			}
			r := e.get(t, "/oauth2/v1/authorize", q)
			got := struct {
				Status int
				Form   bool
				Error  string
				Code   bool
			}{Status: r.status, Form: strings.Contains(r.body, `name="password"`)}
			if r.status == http.StatusFound {
				cb := callback(t, r)
				got.Error, got.Code = cb.Get("error"), cb.Get("code") != ""
			}
			want := got
			want.Status, want.Form, want.Error = tt.wantStatus, tt.wantForm, tt.wantError
			want.Code = tt.wantStatus == http.StatusFound && tt.wantError == ""
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
