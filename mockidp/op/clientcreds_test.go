package op

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestClientCredentials(t *testing.T) {
	type result struct {
		Status int
		Error  string
	}
	svc := basic(ctlServiceID, ctlServiceKey)
	tests := []struct {
		name   string
		server string
		form   url.Values
		header http.Header
		want   result
	}{
		{"custom server", "default", url.Values{"scope": {"things:read things:write"}}, svc, result{Status: 200}},
		{"client_secret_post client without the grant", "aus1custom", url.Values{"scope": {"things:read"}, "client_id": {"0oapost"}, "client_secret": {"post-secret"}}, nil,
			result{Status: 400, Error: "unauthorized_client"}},
		{"org server refuses client secrets", "", url.Values{"scope": {"things:read"}}, svc, result{Status: 401, Error: "invalid_client"}},
		{"no scope", "default", url.Values{}, svc, result{Status: 400, Error: "invalid_scope"}},
		{"openid", "default", url.Values{"scope": {"openid things:read"}}, svc, result{Status: 400, Error: "invalid_scope"}},
		{"offline_access", "default", url.Values{"scope": {"offline_access"}}, svc, result{Status: 400, Error: "invalid_scope"}},
		{"malformed scope", "default", url.Values{"scope": {`things"read`}}, svc, result{Status: 400, Error: "invalid_scope"}},
		{"wrong secret", "default", url.Values{"scope": {"things:read"}}, basic(ctlServiceID, "nope"), result{Status: 401, Error: "invalid_client"}},
		{"client without the grant", "default", url.Values{"scope": {"things:read"}}, basic("0oaweb", "web secret+/="), result{Status: 400, Error: "unauthorized_client"}},
		{"public client", "default", url.Values{"scope": {"things:read"}, "client_id": {ctlPublicSvc}}, nil, result{Status: 400, Error: "unauthorized_client"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ctlEnv(t, nil)
			tt.form.Set("grant_type", "client_credentials")
			r := e.postForm(t, http.DefaultClient, (&authServer{id: tt.server}).endpoint("token"), tt.form, tt.header)
			got := result{Status: r.status}
			if r.status != http.StatusOK {
				got.Error = decodeOAuthError(t, r).Error
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got): %s\n%s", r.body, diff)
			}
		})
	}
}

func TestClientCredentialsToken(t *testing.T) {
	e := ctlEnv(t, nil)
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"things:read things:write things:read"}}
	r := e.postForm(t, http.DefaultClient, "/oauth2/default/v1/token", form, basic(ctlServiceID, ctlServiceKey))
	var raw map[string]any
	if err := json.Unmarshal([]byte(r.body), &raw); err != nil {
		t.Fatalf("%d %s: %v", r.status, r.body, err)
	}
	at, _ := raw["access_token"].(string)
	delete(raw, "access_token")
	if diff := cmp.Diff(map[string]any{"token_type": "Bearer", "expires_in": float64(3600), "scope": "things:read things:write"}, raw); diff != "" {
		t.Errorf("response without access_token: no ID token, no refresh token (-want +got):\n%s", diff)
	}
	claims := ctlPayload(t, at)
	jti, _ := claims["jti"].(string)
	now := e.clock.Now().Unix()
	want := map[string]any{"ver": float64(1), "jti": jti, "iss": e.srv.URL + "/oauth2/default", "aud": "api://default",
		"iat": float64(now), "exp": float64(now + 3600), "cid": ctlServiceID, "scp": []any{"things:read", "things:write"}, "sub": ctlServiceID}
	if diff := cmp.Diff(want, claims); diff != "" {
		t.Errorf("access token claims (-want +got):\n%s", diff)
	}
	if len(jti) < 4 || jti[:3] != "AT." {
		t.Errorf("jti %q", jti)
	}
	if h := ctlHeader(t, at); h["alg"] != "RS256" {
		t.Errorf("alg %v", h["alg"])
	}

	introspect := func() map[string]any {
		r := e.postForm(t, http.DefaultClient, "/oauth2/default/v1/introspect", url.Values{"token": {at}}, basic(ctlServiceID, ctlServiceKey))
		m := map[string]any{}
		if err := json.Unmarshal([]byte(r.body), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	t.Run("introspect: active, no uid", func(t *testing.T) {
		m := introspect()
		got := []any{m["active"], m["sub"], m["client_id"], m["scope"]}
		_, hasUID := m["uid"]
		if diff := cmp.Diff([]any{true, ctlServiceID, ctlServiceID, "things:read things:write", false}, append(got, hasUID)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("userinfo refuses it", func(t *testing.T) {
		if r := e.userinfo(t, "/oauth2/default/v1/userinfo", at); r.status != http.StatusUnauthorized {
			t.Errorf("status %d", r.status)
		}
	})
	t.Run("revoke, then inactive", func(t *testing.T) {
		r := e.postForm(t, http.DefaultClient, "/oauth2/default/v1/revoke", url.Values{"token": {at}}, basic(ctlServiceID, ctlServiceKey))
		if r.status != http.StatusOK {
			t.Fatalf("revoke %d", r.status)
		}
		if m := introspect(); m["active"] != false {
			t.Errorf("active after revoke: %v", m)
		}
	})
	t.Run("expires", func(t *testing.T) {
		e.clock.Advance(time.Hour)
		defer e.clock.Advance(-time.Hour)
		if m := introspect(); m["active"] != false {
			t.Errorf("active after an hour: %v", m)
		}
	})
}
