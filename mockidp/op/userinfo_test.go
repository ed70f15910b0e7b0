package op

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func (e *env) userinfo(t *testing.T, path, token string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return do(t, http.DefaultClient, req)
}

func TestUserinfo(t *testing.T) {
	e := newEnv(t)
	verifier, challenge := pkce("userinfo-")
	tr := decodeTokens(t, e.exchange(t, "", e.signIn(t, "", authzQuery(challenge)), verifier))
	// Okta's shape of the RFC 6750 §3 challenge.
	bearerChallenge := func(as, code, desc string) string {
		s := &authServer{id: as}
		return `Bearer authorization_uri="` + e.srv.URL + s.endpoint("authorize") + `", realm="` + e.srv.URL +
			`", scope="openid", error="` + code + `", error_description="` + desc + `", resource="` + s.endpoint("userinfo") + `"`
	}
	invalid := bearerChallenge("", "invalid_token", "The access token is invalid")
	tamper := tr.AccessToken[:len(tr.AccessToken)-4] + "AAAA"
	if tamper == tr.AccessToken {
		tamper = tr.AccessToken[:len(tr.AccessToken)-4] + "BBBB"
	}
	tests := []struct {
		name       string
		do         func() response
		wantStatus int
		wantAuth   string
		wantBody   map[string]any
	}{
		{
			name:       "GET with bearer",
			do:         func() response { return e.userinfo(t, "/oauth2/v1/userinfo", tr.AccessToken) },
			wantStatus: 200,
			wantBody: map[string]any{"sub": "00u1alice", "name": "Alice Liddell", "preferred_username": "alice@example.com",
				"given_name": "Alice", "family_name": "Liddell", "email": "alice@example.com", "email_verified": true,
				"groups": []any{"Engineering", "Everyone"}},
		},
		{
			name: "POST with form token",
			do: func() response {
				return e.postForm(t, http.DefaultClient, "/oauth2/v1/userinfo", url.Values{"access_token": {tr.AccessToken}}, nil)
			},
			wantStatus: 200,
		},
		{name: "tampered token", do: func() response { return e.userinfo(t, "/oauth2/v1/userinfo", tamper) }, wantStatus: 401, wantAuth: invalid},
		{name: "garbage token", do: func() response { return e.userinfo(t, "/oauth2/v1/userinfo", "not-a-jwt") }, wantStatus: 401, wantAuth: invalid},
		{name: "ID token instead", do: func() response { return e.userinfo(t, "/oauth2/v1/userinfo", tr.IDToken) }, wantStatus: 401, wantAuth: invalid},
		{name: "other server's token", do: func() response { return e.userinfo(t, "/oauth2/default/v1/userinfo", tr.AccessToken) }, wantStatus: 401, wantAuth: bearerChallenge("default", "invalid_token", "The access token is invalid")},
		{
			name: "token in the query",
			do: func() response {
				req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/oauth2/v1/userinfo?access_token="+tr.AccessToken, nil)
				return do(t, http.DefaultClient, req)
			},
			wantStatus: 400, wantAuth: bearerChallenge("", "invalid_request", "The access token cannot be presented in a query string."),
		},
		{
			name: "missing token",
			do: func() response {
				req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/oauth2/v1/userinfo", nil)
				return do(t, http.DefaultClient, req)
			},
			wantStatus: 401, wantAuth: bearerChallenge("", "invalid_request", "The access token is missing."),
		},
		{
			name: "expired token",
			do: func() response {
				e.clock.Advance(time.Hour + time.Second)
				defer e.clock.Advance(-time.Hour - time.Second)
				return e.userinfo(t, "/oauth2/v1/userinfo", tr.AccessToken)
			},
			wantStatus: 401, wantAuth: invalid,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.do()
			if diff := cmp.Diff([]any{tt.wantStatus, tt.wantAuth}, []any{r.status, r.header.Get("WWW-Authenticate")}); diff != "" {
				t.Errorf("status, WWW-Authenticate (-want +got):\n%s", diff)
			}
			if tt.wantBody != nil {
				var got map[string]any
				if err := json.Unmarshal([]byte(r.body), &got); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.wantBody, got); diff != "" {
					t.Errorf("body (-want +got):\n%s", diff)
				}
			}
			if r.status == 200 && !strings.Contains(r.body, `"sub":"00u1alice"`) {
				t.Errorf("body lacks sub: %s", r.body)
			}
		})
	}
}
