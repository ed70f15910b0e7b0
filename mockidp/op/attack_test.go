package op

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Only the registered redirect URI, byte for byte, is accepted (RFC 6749
// §3.1.2.3, OAuth 2.0 Security BCP §4.1.3); every near miss is an error
// page and never a redirect.
func TestRedirectURIExactMatch(t *testing.T) {
	e := newEnv(t)
	_, challenge := pkce("redir-")
	for _, uri := range []string{
		testRedirect + "/",
		testRedirect + "x",
		strings.TrimSuffix(testRedirect, "/callback"),
		strings.TrimSuffix(testRedirect, "back"),
		strings.ToUpper(testRedirect),
		"HTTPS://app.example/t/acme/oidc/callback",
		"https://APP.example/t/acme/oidc/callback",
		"http://app.example/t/acme/oidc/callback",
		"https://app.example:443/t/acme/oidc/callback",
		testRedirect + "?next=https://evil.example",
		testRedirect + "?",
		testRedirect + "#frag",
		testRedirect + "#",
		"https://app.example/t/acme/oidc/%63allback",
		"https://app.example/t/acme/oidc/callback/../callback",
		"https://app.example/t/acme/oidc/./callback",
		"https://app.example@evil.example/t/acme/oidc/callback",
		"https://evil.example/?" + testRedirect,
		"https://app.example.evil.example/t/acme/oidc/callback",
		"//evil.example/t/acme/oidc/callback",
		testRedirect + "%00",
		" " + testRedirect,
		testRedirect + " ",
	} {
		t.Run(uri, func(t *testing.T) {
			q := authzQuery(challenge)
			q.Set("redirect_uri", uri)
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				var r response
				if method == http.MethodGet {
					r = e.get(t, "/oauth2/v1/authorize", q)
				} else {
					r = e.postForm(t, e.browser, "/oauth2/v1/authorize", q, nil)
				}
				if diff := cmp.Diff([]any{400, ""}, []any{r.status, r.header.Get("Location")}); diff != "" {
					t.Errorf("%s (-want +got):\n%s", method, diff)
				}
			}
		})
	}
}

// The token endpoint binds a code to its client, redirect URI, server and
// PKCE verifier; no mix of client authentication methods redeems another
// client's code.
func TestCodeBinding(t *testing.T) {
	tests := []struct {
		name   string
		form   func(code, verifier string) url.Values
		header http.Header
		status int
		error  string
	}{
		{"public client redeems the web client's code", func(c, v string) url.Values {
			f := codeForm(c, v)
			f.Set("client_id", "0oapublic")
			return f
		}, nil, 400, "invalid_grant"},
		{"public client id in Basic with no password", func(c, v string) url.Values { return codeForm(c, v) },
			basic("0oapublic", ""), 401, "invalid_client"},
		{"web client id in the body, no secret", func(c, v string) url.Values {
			f := codeForm(c, v)
			f.Set("client_id", "0oaweb")
			return f
		}, nil, 401, "invalid_client"},
		{"body client_id differs from Basic", func(c, v string) url.Values {
			f := codeForm(c, v)
			f.Set("client_id", "0oapost")
			return f
		}, basic("0oaweb", "web secret+/="), 400, "invalid_request"},
		{"Basic with an empty secret", func(c, v string) url.Values { return codeForm(c, v) }, basic("0oaweb", ""), 401, "invalid_client"},
		{"Basic secret prefix", func(c, v string) url.Values { return codeForm(c, v) }, basic("0oaweb", "web secret"), 401, "invalid_client"},
		{"lower-case basic scheme", func(c, v string) url.Values { return codeForm(c, v) },
			http.Header{"Authorization": {"basic " + strings.TrimPrefix(basic("0oaweb", "web secret+/=")["Authorization"][0], "Basic ")}}, 200, ""},
		{"redirect_uri with a trailing slash", func(c, v string) url.Values {
			f := codeForm(c, v)
			f.Set("redirect_uri", testRedirect+"/")
			return f
		}, basic("0oaweb", "web secret+/="), 400, "invalid_grant"},
		{"redirect_uri missing", func(c, v string) url.Values {
			f := codeForm(c, v)
			f.Del("redirect_uri")
			return f
		}, basic("0oaweb", "web secret+/="), 400, "invalid_grant"},
		{"verifier omitted although a challenge was sent", func(c, v string) url.Values {
			f := codeForm(c, v)
			f.Del("code_verifier")
			return f
		}, basic("0oaweb", "web secret+/="), 400, "invalid_grant"},
		{"challenge sent as verifier", func(c, v string) url.Values {
			_, ch := pkce("bind-")
			return codeForm(c, ch)
		}, basic("0oaweb", "web secret+/="), 400, "invalid_grant"},
		{"code twice in the form", func(c, v string) url.Values {
			f := codeForm(c, v)
			f.Add("code", "other")
			return f
		}, basic("0oaweb", "web secret+/="), 400, "invalid_request"},
		{"code_verifier twice in the form", func(c, v string) url.Values {
			f := codeForm(c, v)
			f.Add("code_verifier", v)
			return f
		}, basic("0oaweb", "web secret+/="), 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			verifier, challenge := pkce("bind-")
			code := e.signIn(t, "", authzQuery(challenge))
			r := e.postForm(t, http.DefaultClient, "/oauth2/v1/token", tt.form(code, verifier), tt.header)
			got := []any{r.status, ""}
			if r.status != http.StatusOK {
				got[1] = decodeOAuthError(t, r).Error
			}
			if diff := cmp.Diff([]any{tt.status, tt.error}, got); diff != "" {
				t.Errorf("(-want +got):\n%s\n%s", diff, r.body)
			}
		})
	}
	t.Run("code of the org server at the custom server", func(t *testing.T) {
		e := newEnv(t)
		verifier, challenge := pkce("bind-")
		code := e.signIn(t, "", authzQuery(challenge))
		r := e.exchange(t, "aus1custom", code, verifier)
		if r.status != http.StatusBadRequest || decodeOAuthError(t, r).Error != "invalid_grant" {
			t.Errorf("custom server redeemed an org code: %d %s", r.status, r.body)
		}
	})
}

func TestUnknownAuthorizationServer(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/oauth2/nope/.well-known/openid-configuration", "/oauth2/nope/v1/keys", "/oauth2/default/v1/nope"} {
		t.Run(path, func(t *testing.T) {
			resp, err := http.Get(e.srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct{ ErrorCode, ErrorSummary string }
			json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/json" || body.ErrorCode != "E0000007" {
				t.Errorf("GET %s = %d %q %+v, want 404 with Okta's E0000007 JSON", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
		})
	}
}
