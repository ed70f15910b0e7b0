package op

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTokenErrors(t *testing.T) {
	type result struct {
		Status int
		Error  oauthError
	}
	invalidGrant := func(desc string) result {
		return result{400, oauthError{"invalid_grant", desc}}
	}
	tests := []struct {
		name string
		// prepare gets a fresh env, a code issued to 0oaweb with a PKCE
		// challenge of verifier, and returns the token request.
		prepare func(t *testing.T, e *env, code, verifier string) (url.Values, http.Header)
		want    result
	}{
		{
			name: "reused code",
			prepare: func(t *testing.T, e *env, code, verifier string) (url.Values, http.Header) {
				decodeTokens(t, e.exchange(t, "", code, verifier))
				return codeForm(code, verifier), basic("0oaweb", "web secret+/=")
			},
			want: invalidGrant(codeInvalid),
		},
		{
			name: "expired code",
			prepare: func(t *testing.T, e *env, code, verifier string) (url.Values, http.Header) {
				e.clock.Advance(61 * time.Second)
				return codeForm(code, verifier), basic("0oaweb", "web secret+/=")
			},
			want: invalidGrant(codeInvalid),
		},
		{
			name: "unknown code",
			prepare: func(t *testing.T, e *env, code, verifier string) (url.Values, http.Header) {
				return codeForm("nope", verifier), basic("0oaweb", "web secret+/=")
			},
			want: invalidGrant(codeInvalid),
		},
		{
			name: "code of another client",
			prepare: func(t *testing.T, e *env, code, verifier string) (url.Values, http.Header) {
				f := codeForm(code, verifier)
				f.Set("client_id", "0oapost")
				f.Set("client_secret", "post-secret")
				return f, nil
			},
			want: invalidGrant(codeInvalid),
		},
		{
			name: "wrong secret",
			prepare: func(t *testing.T, e *env, code, verifier string) (url.Values, http.Header) {
				return codeForm(code, verifier), basic("0oaweb", "wrong")
			},
			want: result{401, oauthError{"invalid_client", "The client secret supplied for a confidential client is invalid."}},
		},
		{
			name: "unknown client",
			prepare: func(t *testing.T, e *env, code, verifier string) (url.Values, http.Header) {
				return codeForm(code, verifier), basic("0oanope", "x")
			},
			want: result{401, oauthError{"invalid_client", "Invalid value for 'client_id' parameter."}},
		},
		{
			name: "no client authentication",
			prepare: func(t *testing.T, e *env, code, verifier string) (url.Values, http.Header) {
				return codeForm(code, verifier), nil
			},
			want: result{401, oauthError{"invalid_client", clientAuthFailed}},
		},
		{
			name: "basic client using post",
			prepare: func(t *testing.T, e *env, code, verifier string) (url.Values, http.Header) {
				f := codeForm(code, verifier)
				f.Set("client_id", "0oaweb")
				f.Set("client_secret", "web secret+/=")
				return f, nil
			},
			want: result{401, oauthError{"invalid_client", clientAuthFailed + " This client uses client_secret_basic."}},
		},
		{
			name: "credentials in header and body",
			prepare: func(t *testing.T, e *env, code, verifier string) (url.Values, http.Header) {
				f := codeForm(code, verifier)
				f.Set("client_id", "0oaweb")
				f.Set("client_secret", "web secret+/=")
				return f, basic("0oaweb", "web secret+/=")
			},
			want: result{400, oauthError{"invalid_request", "Cannot supply multiple client credentials. Use one of the following: credentials in the Authorization header, credentials in the post body, or a client_assertion in the post body."}},
		},
		{
			name: "wrong verifier",
			prepare: func(t *testing.T, e *env, code, verifier string) (url.Values, http.Header) {
				other, _ := pkce("other-")
				return codeForm(code, other), basic("0oaweb", "web secret+/=")
			},
			want: invalidGrant(pkceFailed),
		},
		{
			name: "missing verifier",
			prepare: func(t *testing.T, e *env, code, verifier string) (url.Values, http.Header) {
				return codeForm(code, ""), basic("0oaweb", "web secret+/=")
			},
			want: invalidGrant(pkceFailed),
		},
		{
			name: "verifier with a bad character",
			prepare: func(t *testing.T, e *env, code, verifier string) (url.Values, http.Header) {
				return codeForm(code, verifier[:42]+"+"), basic("0oaweb", "web secret+/=")
			},
			want: invalidGrant(pkceFailed),
		},
		{
			name: "wrong redirect_uri",
			prepare: func(t *testing.T, e *env, code, verifier string) (url.Values, http.Header) {
				f := codeForm(code, verifier)
				f.Set("redirect_uri", testRedirect+"?x=1")
				return f, basic("0oaweb", "web secret+/=")
			},
			want: invalidGrant("The 'redirect_uri' does not match the redirection URI used in the authorization request."),
		},
		{
			name: "missing grant_type",
			prepare: func(t *testing.T, e *env, code, verifier string) (url.Values, http.Header) {
				f := codeForm(code, verifier)
				f.Del("grant_type")
				return f, basic("0oaweb", "web secret+/=")
			},
			want: result{400, oauthError{"invalid_request", "The 'grant_type' parameter is required."}},
		},
		{
			name: "password grant",
			prepare: func(t *testing.T, e *env, code, verifier string) (url.Values, http.Header) {
				return url.Values{"grant_type": {"password"}, "username": {"alice@example.com"}, "password": {alicePass}}, basic("0oaweb", "web secret+/=")
			},
			want: result{400, oauthError{"unsupported_grant_type", "The authorization grant type 'password' is not supported by this mock."}},
		},
		{
			name: "code from another authorization server",
			prepare: func(t *testing.T, e *env, code, verifier string) (url.Values, http.Header) {
				r := e.postForm(t, http.DefaultClient, "/oauth2/default/v1/token", codeForm(code, verifier), basic("0oaweb", "web secret+/="))
				t.Cleanup(func() {
					if diff := cmp.Diff(oauthError{"invalid_grant", codeInvalid}, decodeOAuthError(t, r)); diff != "" {
						t.Errorf("default server (-want +got):\n%s", diff)
					}
				})
				return codeForm(code, verifier), basic("0oaweb", "web secret+/=")
			},
			// The failed attempt consumed the code.
			want: invalidGrant(codeInvalid),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			verifier, challenge := pkce("token-")
			code := e.signIn(t, "", authzQuery(challenge))
			form, header := tt.prepare(t, e, code, verifier)
			r := e.postForm(t, http.DefaultClient, "/oauth2/v1/token", form, header)
			got := result{r.status, decodeOAuthError(t, r)}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if cc := r.header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
			if r.status == http.StatusUnauthorized && header != nil && r.header.Get("WWW-Authenticate") == "" {
				t.Errorf("401 to a Basic client without WWW-Authenticate")
			}
		})
	}
}

func codeForm(code, verifier string) url.Values {
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testRedirect}}
	if verifier != "" {
		f.Set("code_verifier", verifier)
	}
	return f
}

func TestTokenClientMethods(t *testing.T) {
	tests := []struct {
		name     string
		clientID string
		pkce     bool
		auth     func(f url.Values) http.Header
	}{
		{"client_secret_post", "0oapost", false, func(f url.Values) http.Header {
			f.Set("client_id", "0oapost")
			f.Set("client_secret", "post-secret")
			return nil
		}},
		{"public client with PKCE", "0oapublic", true, func(f url.Values) http.Header {
			f.Set("client_id", "0oapublic")
			return nil
		}},
		{"basic with a secret that needs URL-decoding", "0oaweb", true, func(f url.Values) http.Header {
			return basic("0oaweb", "web secret+/=")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			verifier, challenge := pkce("methods-")
			q := authzQuery(challenge)
			q.Set("client_id", tt.clientID)
			if !tt.pkce {
				q.Del("code_challenge")
				q.Del("code_challenge_method")
				verifier = ""
			}
			code := e.signIn(t, "", q)
			f := codeForm(code, verifier)
			tr := decodeTokens(t, e.postForm(t, http.DefaultClient, "/oauth2/v1/token", f, tt.auth(f)))
			if tr.IDToken == "" || tr.AccessToken == "" {
				t.Errorf("tokens missing: %+v", tr)
			}
		})
	}
}

func TestRefreshToken(t *testing.T) {
	e := newEnv(t)
	verifier, challenge := pkce("refresh-")
	q := authzQuery(challenge)
	q.Set("scope", "openid profile offline_access")
	tr := decodeTokens(t, e.exchange(t, "default", e.signIn(t, "default", q), verifier))
	if tr.RefreshToken == "" {
		t.Fatalf("no refresh token with offline_access: %+v", tr)
	}
	tests := []struct {
		name  string
		form  url.Values
		want  int
		error string
	}{
		{"refresh", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}}, 200, ""},
		{"narrower scope", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}, "scope": {"openid"}}, 200, ""},
		{"wider scope", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}, "scope": {"openid email"}}, 400, "invalid_scope"},
		{"unknown token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}}, 400, "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.postForm(t, http.DefaultClient, "/oauth2/default/v1/token", tt.form, basic("0oaweb", "web secret+/="))
			got := []any{r.status, decodeOAuthError(t, r).Error}
			if diff := cmp.Diff([]any{tt.want, tt.error}, got); diff != "" {
				t.Errorf("(-want +got):\n%s\n%s", diff, r.body)
			}
		})
	}
	// Replaying the code revokes the refresh token it issued.
	t.Run("code replay revokes", func(t *testing.T) {
		e := newEnv(t)
		code := e.signIn(t, "default", q)
		first := decodeTokens(t, e.exchange(t, "default", code, verifier))
		if r := e.exchange(t, "default", code, verifier); r.status != 400 {
			t.Fatalf("replay status %d", r.status)
		}
		r := e.postForm(t, http.DefaultClient, "/oauth2/default/v1/token",
			url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}}, basic("0oaweb", "web secret+/="))
		if diff := cmp.Diff("invalid_grant", decodeOAuthError(t, r).Error); diff != "" {
			t.Errorf("refresh after replay (-want +got):\n%s", diff)
		}
		u := e.userinfo(t, "/oauth2/default/v1/userinfo", first.AccessToken)
		if u.status != http.StatusUnauthorized {
			t.Errorf("userinfo after replay: status %d, want 401", u.status)
		}
	})
}
