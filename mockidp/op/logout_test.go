package op

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLogout(t *testing.T) {
	type result struct {
		Status    int
		Location  string
		SessionOn bool // a later authorize skips the form
	}
	tests := []struct {
		name   string
		params func(idToken string) url.Values
		want   func(e *env) result
	}{
		{
			name: "registered redirect with state",
			params: func(id string) url.Values {
				return url.Values{"id_token_hint": {id}, "post_logout_redirect_uri": {testLogout}, "state": {"bye"}}
			},
			want: func(*env) result { return result{Status: 302, Location: testLogout + "?state=bye"} },
		},
		{
			name:   "no redirect shows a page",
			params: func(id string) url.Values { return url.Values{"id_token_hint": {id}} },
			want:   func(*env) result { return result{Status: 200} },
		},
		{
			name:   "missing hint",
			params: func(string) url.Values { return url.Values{"post_logout_redirect_uri": {testLogout}} },
			want:   func(*env) result { return result{Status: 400, SessionOn: true} },
		},
		{
			name: "tampered hint",
			params: func(id string) url.Values {
				return url.Values{"id_token_hint": {id[:len(id)-3] + "abc"}, "post_logout_redirect_uri": {testLogout}}
			},
			want: func(*env) result { return result{Status: 400, SessionOn: true} },
		},
		{
			name: "unregistered redirect",
			params: func(id string) url.Values {
				return url.Values{"id_token_hint": {id}, "post_logout_redirect_uri": {"https://evil.example/"}}
			},
			want: func(*env) result { return result{Status: 400, SessionOn: true} },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			verifier, challenge := pkce("logout-")
			tr := decodeTokens(t, e.exchange(t, "", e.signIn(t, "", authzQuery(challenge)), verifier))
			r := e.get(t, "/oauth2/v1/logout", tt.params(tr.IDToken))
			got := result{Status: r.status, Location: r.header.Get("Location")}
			again := e.get(t, "/oauth2/v1/authorize", authzQuery(challenge))
			got.SessionOn = again.status == http.StatusFound
			if diff := cmp.Diff(tt.want(e), got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if got.Status == 400 && !strings.Contains(r.body, `role="alert"`) {
				t.Errorf("error is not an HTML page: %s", r.body)
			}
		})
	}
}
