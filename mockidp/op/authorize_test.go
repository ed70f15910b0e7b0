package op

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAuthorizeErrors(t *testing.T) {
	e := newEnv(t)
	_, challenge := pkce("authz-")
	with := func(changes url.Values, drop ...string) url.Values {
		q := authzQuery(challenge)
		for k, v := range changes {
			q[k] = v
		}
		for _, k := range drop {
			q.Del(k)
		}
		return q
	}
	type result struct {
		Status   int
		Location bool   // a redirect was sent
		Error    string // error in the redirect, or the page's error code
		State    string
	}
	tests := []struct {
		name string
		q    url.Values
		want result
	}{
		{"unknown client", with(url.Values{"client_id": {"0oanope"}}), result{Status: 400, Error: "invalid_client"}},
		{"missing client", with(nil, "client_id"), result{Status: 400, Error: "invalid_request"}},
		{"redirect_uri mismatch", with(url.Values{"redirect_uri": {testRedirect + "/"}}), result{Status: 400, Error: "invalid_request"}},
		{"redirect_uri other host", with(url.Values{"redirect_uri": {"https://evil.example/cb"}}), result{Status: 400, Error: "invalid_request"}},
		{"redirect_uri missing", with(nil, "redirect_uri"), result{Status: 400, Error: "invalid_request"}},
		{"redirect_uri twice", func() url.Values { q := with(nil); q.Add("redirect_uri", testRedirect); return q }(), result{Status: 400, Error: "invalid_request"}},
		{"response_type token", with(url.Values{"response_type": {"token"}}), result{Status: 302, Location: true, Error: "unsupported_response_type", State: "st-123"}},
		{"response_type missing", with(nil, "response_type"), result{Status: 302, Location: true, Error: "invalid_request", State: "st-123"}},
		{"no openid scope", with(url.Values{"scope": {"profile email"}}), result{Status: 302, Location: true, Error: "invalid_scope", State: "st-123"}},
		{"no scope", with(nil, "scope"), result{Status: 302, Location: true, Error: "invalid_scope", State: "st-123"}},
		{"unknown scope", with(url.Values{"scope": {"openid admin"}}), result{Status: 302, Location: true, Error: "invalid_scope", State: "st-123"}},
		{"plain PKCE", with(url.Values{"code_challenge_method": {"plain"}}), result{Status: 302, Location: true, Error: "invalid_request", State: "st-123"}},
		{"challenge without method", with(nil, "code_challenge_method"), result{Status: 302, Location: true, Error: "invalid_request", State: "st-123"}},
		{"short challenge", with(url.Values{"code_challenge": {"abc"}}), result{Status: 302, Location: true, Error: "invalid_request", State: "st-123"}},
		{"public client without PKCE", with(url.Values{"client_id": {"0oapublic"}}, "code_challenge", "code_challenge_method"), result{Status: 302, Location: true, Error: "invalid_request", State: "st-123"}},
		{"bad prompt", with(url.Values{"prompt": {"select_account"}}), result{Status: 302, Location: true, Error: "invalid_request", State: "st-123"}},
		{"bad max_age", with(url.Values{"max_age": {"soon"}}), result{Status: 302, Location: true, Error: "invalid_request", State: "st-123"}},
		{"unsupported response_mode", with(url.Values{"response_mode": {"okta_post_message"}}), result{Status: 302, Location: true, Error: "unsupported_response_mode", State: "st-123"}},
		{"no state, error still sent", with(url.Values{"scope": {"email"}}, "state"), result{Status: 302, Location: true, Error: "invalid_scope"}},
		{"valid request shows the form", with(nil), result{Status: 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.get(t, "/oauth2/v1/authorize", tt.q)
			got := result{Status: r.status, Location: r.header.Get("Location") != ""}
			if got.Location {
				cb := callback(t, r)
				got.Error, got.State = cb.Get("error"), cb.Get("state")
				if cb.Get("error_description") == "" {
					t.Errorf("no error_description in %v", cb)
				}
			} else if i := strings.Index(r.body, `<p id="error-code">`); i >= 0 {
				rest := r.body[i+len(`<p id="error-code">`):]
				got.Error = rest[:strings.Index(rest, "<")]
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if ct := r.header.Get("Content-Type"); !got.Location && !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type %q, want an HTML page", ct)
			}
		})
	}
}

func TestLoginForm(t *testing.T) {
	tests := []struct {
		name           string
		user, password string
		wantStatus     int
		wantAlert      bool
	}{
		{"right credentials", "alice@example.com", alicePass, http.StatusFound, false},
		{"wrong password", "alice@example.com", "nope", http.StatusUnauthorized, true},
		{"unknown user", "mallory@example.com", "x", http.StatusUnauthorized, true},
		{"inactive user", "bob@example.com", "bob-pass-1", http.StatusUnauthorized, true},
		{"empty password", "alice@example.com", "", http.StatusUnauthorized, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			_, challenge := pkce("form-")
			q := authzQuery(challenge)
			q.Set("login_hint", `al"ice@example.com<`)
			page := e.get(t, "/oauth2/v1/authorize", q)
			for _, want := range []string{
				`<form method="post" action="/oauth2/v1/authorize">`,
				`<label for="okta-signin-username">Username</label>`,
				`<label for="okta-signin-password">Password</label>`,
				`name="username" value="al&#34;ice@example.com&lt;"`,
				`name="password"`,
				`<button type="submit" id="okta-signin-submit">Sign In</button>`,
				`<input type="hidden" name="code_challenge" value="` + challenge + `">`,
			} {
				if !strings.Contains(page.body, want) {
					t.Errorf("login page lacks %s", want)
				}
			}
			r := e.submitLogin(t, page, tt.user, tt.password)
			got := []any{r.status, strings.Contains(r.body, "Unable to sign in"), r.header.Get("Location") != ""}
			want := []any{tt.wantStatus, tt.wantAlert, tt.wantStatus == http.StatusFound}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("status, alert, redirect (-want +got):\n%s", diff)
			}
			if tt.wantAlert && !strings.Contains(r.body, `name="password"`) {
				t.Errorf("refused sign-in does not show the form again")
			}
		})
	}
}

func TestResponseModes(t *testing.T) {
	tests := []struct {
		mode string
		want []string // substrings of the Location or body
	}{
		{"query", []string{testRedirect + "?code="}},
		{"fragment", []string{testRedirect + "#code="}},
		{"form_post", []string{`<form method="post" action="` + testRedirect + `">`, `name="code" value="`, `name="state" value="st-123"`, `document.forms[0].submit()`}},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			e := newEnv(t)
			_, challenge := pkce("mode-")
			q := authzQuery(challenge)
			q.Set("response_mode", tt.mode)
			r := e.submitLogin(t, e.get(t, "/oauth2/v1/authorize", q), "alice@example.com", alicePass)
			text := r.header.Get("Location") + r.body
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("response lacks %q:\n%s", w, text)
				}
			}
		})
	}
}

// TestAuthorizePOST checks OIDC Core §3.1.2.1: the request may be a POST.
func TestAuthorizePOST(t *testing.T) {
	e := newEnv(t)
	_, challenge := pkce("post-")
	r := e.postForm(t, e.browser, "/oauth2/v1/authorize", authzQuery(challenge), nil)
	if r.status != http.StatusOK || !strings.Contains(r.body, `name="password"`) {
		t.Fatalf("POST authorize: status %d, want the login form", r.status)
	}
}
