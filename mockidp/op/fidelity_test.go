package op

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestMaxAgeAuthTime: with an SSO session, max_age decides between a code
// and the form, and the ID token's auth_time is the sign-in's time, not the
// token's (OIDC Core §3.1.2.1, §2).
func TestMaxAgeAuthTime(t *testing.T) {
	tests := []struct {
		name     string
		maxAge   string
		wantForm bool
	}{
		{"no max_age", "", false},
		{"max_age longer than the session's age", "3600", false},
		{"max_age shorter than the session's age", "300", true},
		{"max_age=0", "0", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ctlEnv(t, nil)
			signedIn := e.clock.Now().Unix()
			_, challenge := pkce("max-age-")
			e.signIn(t, "", authzQuery(challenge))
			e.clock.Advance(10 * time.Minute)
			extra := url.Values{}
			if tt.maxAge != "" {
				extra.Set("max_age", tt.maxAge)
			}
			got, tr := e.ctlAuthorize(t, "0oaweb", extra)
			if got.Form != tt.wantForm {
				t.Fatalf("form %v, want %v", got.Form, tt.wantForm)
			}
			if tt.wantForm {
				return
			}
			claims := ctlPayload(t, tr.IDToken)
			if diff := cmp.Diff([]any{float64(signedIn), float64(e.clock.Now().Unix())}, []any{claims["auth_time"], claims["iat"]}); diff != "" {
				t.Errorf("auth_time, iat (-want +got):\n%s", diff)
			}
		})
	}
}

// TestIDTokenClaimsByScope checks Okta's base claims and the scope
// claims, email_verified with email included.
func TestIDTokenClaimsByScope(t *testing.T) {
	base := []string{"amr", "at_hash", "aud", "auth_time", "exp", "iat", "idp", "iss", "jti", "nonce", "sub", "ver"}
	tests := []struct {
		scope string
		extra []string
	}{
		{"openid", nil},
		{"openid email", []string{"email", "email_verified"}},
		{"openid profile", []string{"family_name", "given_name", "name", "preferred_username"}},
		{"openid groups", []string{"groups"}},
	}
	for _, tt := range tests {
		t.Run(tt.scope, func(t *testing.T) {
			e := ctlEnv(t, nil)
			if err := e.p.QueueLogin(QueuedLogin{Login: "alice@example.com"}); err != nil {
				t.Fatal(err)
			}
			_, tr := e.ctlAuthorize(t, "0oaweb", url.Values{"scope": {tt.scope}})
			claims := ctlPayload(t, tr.IDToken)
			var got []string
			for k := range claims {
				got = append(got, k)
			}
			want := append(append([]string{}, base...), tt.extra...)
			if diff := cmp.Diff(want, got, cmpSorted); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
			if tt.extra != nil && tt.extra[0] == "email" && claims["email_verified"] != true {
				t.Errorf("email_verified %v", claims["email_verified"])
			}
		})
	}
}

var cmpSorted = cmpopts.SortSlices(func(a, b string) bool { return a < b })

// TestUserinfoPOSTAndLoginHint covers UserInfo by POST with the header
// and the form pre-filled from login_hint.
func TestUserinfoPOSTAndLoginHint(t *testing.T) {
	e := ctlEnv(t, nil)
	_, challenge := pkce("hint-")
	q := authzQuery(challenge)
	q.Set("login_hint", ctlCarolLogin)
	page := e.get(t, "/oauth2/v1/authorize", q)
	if !strings.Contains(page.body, `name="username" value="`+ctlCarolLogin+`"`) {
		t.Errorf("login_hint does not pre-fill the form")
	}
	if err := e.p.QueueLogin(QueuedLogin{Login: "alice@example.com"}); err != nil {
		t.Fatal(err)
	}
	_, tr := e.ctlAuthorize(t, "0oaweb", nil)
	r := e.ctlRequest(t, http.DefaultClient, "POST", "/oauth2/v1/userinfo", "", http.Header{"Authorization": {"Bearer " + tr.AccessToken}})
	if r.status != http.StatusOK || !strings.Contains(r.body, `"sub":"00u1alice"`) {
		t.Errorf("POST userinfo %d %s", r.status, r.body)
	}
}
