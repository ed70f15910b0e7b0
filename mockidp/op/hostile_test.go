package op

import (
	"context"
	"encoding/base64"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The tests of this file each reproduce a defect a hostile review found;
// every row failed before its fix.

// userinfoStatus is the status UserInfo answers for an access token.
func (e *env) userinfoStatus(t *testing.T, as, accessToken string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+(&authServer{id: as}).endpoint("userinfo"), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	return do(t, http.DefaultClient, req).status
}

// Two concurrent redemptions of one code: exactly one succeeds, and its
// tokens end up revoked whichever finished first (RFC 6749 §4.1.2). Before
// the fix the replay revoked nothing when it came while the first
// redemption was still minting, which was most of the time.
func TestCodeReplayRace(t *testing.T) {
	e := newEnv(t)
	verifier, challenge := pkce("race-")
	q := authzQuery(challenge)
	q.Set("scope", "openid offline_access")
	for round := range 30 {
		code := e.signIn(t, "", q)
		var wg sync.WaitGroup
		results := make([]response, 2)
		for i := range results {
			wg.Go(func() { results[i] = e.exchange(t, "", code, verifier) })
		}
		wg.Wait()
		var ok []tokenResponse
		for _, r := range results {
			if r.status == http.StatusOK {
				ok = append(ok, decodeTokens(t, r))
			} else if oe := decodeOAuthError(t, r); r.status != 400 || oe.Error != errInvalidGrant {
				t.Fatalf("round %d: the losing redemption got %d %+v, want 400 invalid_grant", round, r.status, oe)
			}
		}
		if len(ok) != 1 {
			t.Fatalf("round %d: %d redemptions succeeded, want exactly 1", round, len(ok))
		}
		if got := e.userinfoStatus(t, "", ok[0].AccessToken); got != http.StatusUnauthorized {
			t.Fatalf("round %d: UserInfo with the access token of a replayed code: %d, want 401", round, got)
		}
		refresh := e.postForm(t, http.DefaultClient, "/oauth2/v1/token",
			url.Values{"grant_type": {"refresh_token"}, "refresh_token": {ok[0].RefreshToken}}, basic("0oaweb", "web secret+/="))
		if refresh.status != 400 {
			t.Fatalf("round %d: refresh with the refresh token of a replayed code: %d, want 400", round, refresh.status)
		}
	}
}

// A replayed code also revokes the access tokens its refresh token was
// refreshed into, not only the first one.
func TestCodeReplayRevokesRefreshedTokens(t *testing.T) {
	e := newEnv(t)
	verifier, challenge := pkce("family-")
	q := authzQuery(challenge)
	q.Set("scope", "openid offline_access")
	code := e.signIn(t, "", q)
	first := decodeTokens(t, e.exchange(t, "", code, verifier))
	refreshed := decodeTokens(t, e.postForm(t, http.DefaultClient, "/oauth2/v1/token",
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}}, basic("0oaweb", "web secret+/=")))
	if got := e.userinfoStatus(t, "", refreshed.AccessToken); got != http.StatusOK {
		t.Fatalf("UserInfo before the replay: %d, want 200", got)
	}
	if r := e.exchange(t, "", code, verifier); r.status != 400 {
		t.Fatalf("replay: %d, want 400", r.status)
	}
	got := []int{e.userinfoStatus(t, "", first.AccessToken), e.userinfoStatus(t, "", refreshed.AccessToken)}
	if diff := cmp.Diff([]int{401, 401}, got); diff != "" {
		t.Errorf("UserInfo after the replay, first and refreshed access token (-want +got):\n%s", diff)
	}
}

// A refresh request whose scope is only blanks is malformed (RFC 6749
// §3.3); it used to mint an access token with no scope at all.
func TestRefreshScopeBlank(t *testing.T) {
	e := newEnv(t)
	verifier, challenge := pkce("blank-")
	q := authzQuery(challenge)
	q.Set("scope", "openid offline_access")
	tok := decodeTokens(t, e.exchange(t, "", e.signIn(t, "", q), verifier))
	for _, scope := range []string{" ", "\t", "   "} {
		r := e.postForm(t, http.DefaultClient, "/oauth2/v1/token",
			url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "scope": {scope}}, basic("0oaweb", "web secret+/="))
		if diff := cmp.Diff([]any{400, errInvalidScope}, []any{r.status, decodeOAuthError(t, r).Error}); diff != "" {
			t.Errorf("scope %q (-want +got):\n%s", scope, diff)
		}
	}
}

// A max_age too large for a time.Duration is no limit, not a forced new
// sign-in (it used to overflow into a negative duration).
func TestMaxAgeHuge(t *testing.T) {
	e := newEnv(t)
	_, challenge := pkce("maxage-")
	e.signIn(t, "", authzQuery(challenge)) // the SSO session
	for _, ma := range []string{"9223372036854775807", "9300000000", "31536000000"} {
		q := authzQuery(challenge)
		q.Set("max_age", ma)
		r := e.get(t, "/oauth2/v1/authorize", q)
		if r.status != http.StatusFound || callback(t, r).Get("code") == "" {
			t.Errorf("max_age=%s with a fresh session: %d, want a code at once (302)", ma, r.status)
		}
	}
}

// The form_post page is never built around a registered redirect URI that
// is not http or https: html/template trusts the action, so a
// "javascript://" registration used to run its script on the provider's
// origin.
func TestFormPostUnsafeRedirect(t *testing.T) {
	e := newEnv(t)
	_, challenge := pkce("form-")
	for _, uri := range []string{"javascript://x/%0aalert(document.domain)", "JavaScript://x/%0aalert(1)", "data://x/text/html,hi", "vbscript://x/msgbox"} {
		t.Run(uri, func(t *testing.T) {
			e.dir.clients["0oajs"] = Client{ID: "0oajs", Secret: "s", RedirectURIs: []string{uri}}
			q := authzQuery(challenge)
			q.Set("client_id", "0oajs")
			q.Set("redirect_uri", uri)
			q.Set("response_mode", "form_post")
			q.Set("response_type", "token") // an error, sent by the response mode
			r := e.get(t, "/oauth2/v1/authorize", q)
			if r.status != http.StatusBadRequest || strings.Contains(strings.ToLower(r.body), `action="`+strings.ToLower(uri[:4])) {
				t.Errorf("got %d, want 400 and no form to %s:\n%.600s", r.status, uri, r.body)
			}
		})
	}
}

func TestQueueErrorHeaderValidation(t *testing.T) {
	e := ctlEnv(t, nil)
	tests := []struct {
		name    string
		header  http.Header
		wantErr bool
	}{
		{"plain header", http.Header{"Retry-After": {"5"}, "X-Okta-Request-Id": {"abc"}}, false},
		{"content type", http.Header{"Content-Type": {"text/plain"}}, false},
		{"CRLF in a value", http.Header{"X-A": {"a\r\nSet-Cookie: evil=1"}}, true},
		{"LF in a value", http.Header{"X-A": {"a\nb"}}, true},
		{"NUL in a value", http.Header{"X-A": {"a\x00b"}}, true},
		{"space in a name", http.Header{"Bad Name": {"a"}}, true},
		{"colon in a name", http.Header{"X:Y": {"a"}}, true},
		{"empty name", http.Header{"": {"a"}}, true},
		{"Content-Length", http.Header{"Content-Length": {"99999"}}, true},
		{"Transfer-Encoding", http.Header{"Transfer-Encoding": {"chunked"}}, true},
		{"Connection", http.Header{"Connection": {"close"}}, true},
		{"lower-case framing header", http.Header{"content-length": {"1"}}, true},
		{"Upgrade", http.Header{"Upgrade": {"websocket"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.p.QueueError(QueuedError{Endpoint: EndpointDiscovery, Status: 500, Header: tt.header})
			if (err != nil) != tt.wantErr {
				t.Errorf("QueueError error %v, wantErr %v", err, tt.wantErr)
			}
			e.p.ClearErrors()
		})
	}
}

// Close ends a queued delay at once with a 503 in the endpoint's own
// shape, so a server shutting down never waits an hour for it.
func TestCloseEndsDelays(t *testing.T) {
	tests := []struct {
		endpoint, path string
		wantType       string // prefix of Content-Type
		wantBearer     bool   // a WWW-Authenticate header
	}{
		{EndpointKeys, "/oauth2/v1/keys", "application/json", false},
		{EndpointToken, "/oauth2/v1/token", "application/json", false},
		{EndpointAuthorize, "/oauth2/v1/authorize", "text/html", false},
		{EndpointUserinfo, "/oauth2/v1/userinfo", "application/json", true},
		{EndpointLogout, "/oauth2/v1/logout", "text/html", false},
	}
	for _, tt := range tests {
		t.Run(tt.endpoint, func(t *testing.T) {
			e := ctlEnv(t, nil)
			for _, delayOnly := range []bool{true, false} {
				qe := QueuedError{Endpoint: tt.endpoint, Delay: time.Hour}
				if !delayOnly {
					qe.Status = 500
				}
				if err := e.p.QueueError(qe); err != nil {
					t.Fatal(err)
				}
			}
			done := make(chan response, 2)
			for range 2 {
				go func() {
					req, _ := http.NewRequest(http.MethodGet, e.srv.URL+tt.path, nil)
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						done <- response{}
						return
					}
					resp.Body.Close()
					done <- response{status: resp.StatusCode, header: resp.Header}
				}()
			}
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
				e.p.ctl.mu.Lock()
				n := len(e.p.ctl.errors)
				e.p.ctl.mu.Unlock()
				if n == 0 {
					break // both requests are waiting
				}
				if time.Now().After(deadline) {
					t.Fatal("the requests never reached the provider")
				}
			}
			e.p.Close()
			for range 2 {
				var r response
				select {
				case r = <-done:
				case <-time.After(time.Minute):
					t.Fatal("Close did not end the queued delay")
				}
				if r.status != http.StatusServiceUnavailable || !strings.HasPrefix(r.header.Get("Content-Type"), tt.wantType) ||
					(r.header.Get("WWW-Authenticate") != "") != tt.wantBearer {
					t.Errorf("got %d %q (WWW-Authenticate %q), want 503 %s", r.status, r.header.Get("Content-Type"), r.header.Get("WWW-Authenticate"), tt.wantType)
				}
			}
			// Later delays end at once too.
			e.p.QueueError(QueuedError{Endpoint: tt.endpoint, Delay: time.Hour})
			req, _ := http.NewRequest(http.MethodGet, e.srv.URL+tt.path, nil)
			if r := do(t, http.DefaultClient, req); r.status != http.StatusServiceUnavailable {
				t.Errorf("a delay queued after Close: %d, want 503", r.status)
			}
		})
	}
}

// Arming one queued fault from many goroutines at once queues it once: a
// one-shot token-server-error used to be queued twice now and then, and
// then failed two token requests.
func TestArmQueuedFaultConcurrently(t *testing.T) {
	e := ctlEnv(t, nil)
	for _, name := range []string{faultTokenServerError, faultSlowKeys} {
		for round := range 100 {
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() { e.p.ArmFault(name, false) })
			}
			wg.Wait()
			e.p.ctl.mu.Lock()
			n := len(e.p.ctl.errors)
			e.p.ctl.mu.Unlock()
			if n != 1 {
				t.Fatalf("%s, round %d: %d queue entries, want 1", name, round, n)
			}
			e.p.DisarmFaults()
		}
	}
}

// A queued error's code and description never break the quoted-strings
// of WWW-Authenticate.
func TestBearerErrorQuoting(t *testing.T) {
	e := ctlEnv(t, nil)
	if err := e.p.QueueError(QueuedError{Endpoint: EndpointUserinfo, Status: 401, Error: `bad"code\`, Description: "say \"no\"\\\r\n\tnow"}); err != nil {
		t.Fatal(err)
	}
	r := e.ctlRequest(t, http.DefaultClient, http.MethodGet, "/oauth2/v1/userinfo", "", nil)
	h := r.header.Get("WWW-Authenticate")
	want := `Bearer authorization_uri="` + e.srv.URL + `/oauth2/v1/authorize", realm="` + e.srv.URL +
		`", scope="openid", error="bad'code/", error_description="say 'no'/   now", resource="/oauth2/v1/userinfo"`
	if diff := cmp.Diff(want, h); diff != "" {
		t.Errorf("WWW-Authenticate (-want +got):\n%s", diff)
	}
}

func TestSecretEqual(t *testing.T) {
	tests := []struct {
		got, want string
		equal     bool
	}{
		{"secret", "secret", true},
		{"secret", "secreT", false},
		{"secre", "secret", false},
		{"secret-and-more", "secret", false},
		{"", "secret", false},
		{"", "", true},
	}
	for _, tt := range tests {
		if got := secretEqual(tt.got, tt.want); got != tt.equal {
			t.Errorf("secretEqual(%q, %q) = %v, want %v", tt.got, tt.want, got, tt.equal)
		}
	}
}

// A queued login's claims are copied deeply when queued (a caller that
// changes its map afterwards changes nothing) and must be JSON values.
func TestQueueLoginClaimsCopied(t *testing.T) {
	e := ctlEnv(t, nil)
	tests := []struct {
		name    string
		claims  map[string]any
		wantErr bool
	}{
		{"JSON values", map[string]any{"department": "R&D", "n": 1.5, "list": []any{"a"}, "gone": nil}, false},
		{"a channel", map[string]any{"c": make(chan int)}, true},
		{"NaN", map[string]any{"x": math.NaN()}, true},
		{"a function", map[string]any{"f": func() {}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.p.QueueLogin(QueuedLogin{Login: "alice@example.com", Claims: tt.claims})
			if (err != nil) != tt.wantErr {
				t.Errorf("QueueLogin error %v, wantErr %v", err, tt.wantErr)
			}
			e.p.ClearLogins()
		})
	}

	nested := map[string]any{"team": "blue"}
	if err := e.p.QueueLogin(QueuedLogin{Login: "alice@example.com", Claims: map[string]any{"org": nested, "big": int64(1<<53 + 1)}}); err != nil {
		t.Fatal(err)
	}
	nested["team"] = "red" // after queueing
	verifier, challenge := pkce("copy-")
	tok := decodeTokens(t, e.exchange(t, "", e.signIn(t, "", authzQuery(challenge)), verifier))
	if got := ctlPayload(t, tok.IDToken)["org"]; !cmp.Equal(map[string]any{"team": "blue"}, got) {
		t.Errorf("claim org = %v, want the value queued, {team: blue}", got)
	}
	if raw := ctlRawPayload(t, tok.IDToken); !strings.Contains(raw, `"big":9007199254740993`) {
		t.Errorf("claim big lost digits: %s", raw)
	}
}

// The request log keeps at most maxParamLen bytes of a client id and an
// Origin, as it does for parameters: 10,000 requests with megabyte ids
// used to be kept whole.
func TestRequestLogCapsValues(t *testing.T) {
	e := ctlEnv(t, nil)
	huge := strings.Repeat("x", 100_000)
	e.ctlRequest(t, http.DefaultClient, http.MethodPost, "/oauth2/v1/token", url.Values{"client_id": {huge}}.Encode(), http.Header{"Origin": {"https://" + huge}})
	e.ctlRequest(t, http.DefaultClient, http.MethodGet, "/oauth2/v1/authorize?"+url.Values{"client_id": {huge}}.Encode(), "", nil)
	reqs := e.p.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests logged, want 2", len(reqs))
	}
	for _, r := range reqs {
		if len(r.ClientID) > maxParamLen || len(r.Origin) > maxParamLen {
			t.Errorf("%s: logged a client id of %d bytes and an Origin of %d, want at most %d", r.Endpoint, len(r.ClientID), len(r.Origin), maxParamLen)
		}
	}
}

// Close is safe to call twice, and from many goroutines.
func TestProviderCloseTwice(t *testing.T) {
	e := ctlEnv(t, nil)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(e.p.Close)
	}
	wg.Wait()
	e.p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+"/oauth2/v1/keys", nil)
	if r := do(t, http.DefaultClient, req); r.status != 200 {
		t.Errorf("keys after Close: %d, want 200 (the provider keeps serving)", r.status)
	}
}

// Logout redirects only to a Logout redirect URI registered for the
// client of the ID token hint, byte for byte; every near miss is an error
// page and the session stays.
func TestLogoutOpenRedirect(t *testing.T) {
	e := newEnv(t)
	verifier, challenge := pkce("logout-redirect-")
	idToken := decodeTokens(t, e.exchange(t, "", e.signIn(t, "", authzQuery(challenge)), verifier)).IDToken
	for _, tt := range []struct {
		name   string
		params url.Values
	}{
		{"trailing slash", url.Values{"post_logout_redirect_uri": {testLogout + "/"}}},
		{"upper case", url.Values{"post_logout_redirect_uri": {strings.ToUpper(testLogout)}}},
		{"upper-case host", url.Values{"post_logout_redirect_uri": {strings.Replace(testLogout, "app.example", "APP.example", 1)}}},
		{"extra query", url.Values{"post_logout_redirect_uri": {testLogout + "?next=https://evil.example"}}},
		{"fragment", url.Values{"post_logout_redirect_uri": {testLogout + "#x"}}},
		{"userinfo", url.Values{"post_logout_redirect_uri": {strings.Replace(testLogout, "https://", "https://evil.example@", 1)}}},
		{"host as userinfo", url.Values{"post_logout_redirect_uri": {strings.Replace(testLogout, "app.example", "app.example@evil.example", 1)}}},
		{"encoded character", url.Values{"post_logout_redirect_uri": {strings.Replace(testLogout, "signed-out", "signed%2Dout", 1)}}},
		{"dot segment", url.Values{"post_logout_redirect_uri": {strings.Replace(testLogout, "/signed-out", "/x/../signed-out", 1)}}},
		{"NUL", url.Values{"post_logout_redirect_uri": {testLogout + "\x00"}}},
		{"scheme-relative", url.Values{"post_logout_redirect_uri": {"//evil.example/"}}},
		{"the sign-in redirect URI", url.Values{"post_logout_redirect_uri": {testRedirect}}},
		{"evil first of two", url.Values{"post_logout_redirect_uri": {"https://evil.example/", testLogout}}},
		{"client_id of another client", url.Values{"post_logout_redirect_uri": {testLogout}, "client_id": {"0oapost"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.params
			q.Set("id_token_hint", idToken)
			r := e.get(t, "/oauth2/v1/logout", q)
			if diff := cmp.Diff([]any{400, "", "text/html; charset=utf-8"}, []any{r.status, r.header.Get("Location"), r.header.Get("Content-Type")}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	// The registered URI first of two is the one used: never the second.
	r := e.get(t, "/oauth2/v1/logout", url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {testLogout, "https://evil.example/"}, "state": {"a\r\nb"}})
	if diff := cmp.Diff([]any{302, testLogout + "?state=a%0D%0Ab"}, []any{r.status, r.header.Get("Location")}); diff != "" {
		t.Errorf("registered URI first (-want +got):\n%s", diff)
	}
}

// PKCE edge cases (RFC 7636 §4.1–§4.6): only the exact verifier of an S256
// challenge redeems a code; every other verifier is invalid_grant, and
// every malformed challenge is refused at the authorization request.
func TestPKCEEdges(t *testing.T) {
	e := newEnv(t)
	verifier, challenge := pkce("edge-")
	t.Run("verifiers", func(t *testing.T) {
		for _, tt := range []struct {
			name, verifier string
			want           int
		}{
			{"exact", verifier, 200},
			{"42 characters", verifier[:42], 400},
			{"129 characters", verifier + strings.Repeat("a", 86), 400},
			{"plus sign", verifier[:42] + "+", 400},
			{"percent", verifier[:42] + "%", 400},
			{"upper case", strings.ToUpper(verifier), 400},
			{"the challenge itself", challenge, 400},
			{"empty", "", 400},
		} {
			t.Run(tt.name, func(t *testing.T) {
				r := e.exchange(t, "", e.signIn(t, "", authzQuery(challenge)), tt.verifier)
				if r.status != tt.want {
					t.Fatalf("got %d, want %d: %s", r.status, tt.want, r.body)
				}
				if tt.want == 400 {
					if diff := cmp.Diff(oauthError{errInvalidGrant, pkceFailed}, decodeOAuthError(t, r)); diff != "" {
						t.Errorf("(-want +got):\n%s", diff)
					}
				}
			})
		}
	})
	t.Run("verifier without a challenge", func(t *testing.T) {
		q := authzQuery("")
		q.Del("code_challenge")
		q.Del("code_challenge_method")
		r := e.exchange(t, "", e.signIn(t, "", q), verifier)
		if r.status != 400 || decodeOAuthError(t, r).Error != errInvalidGrant {
			t.Errorf("got %d %s, want 400 invalid_grant", r.status, r.body)
		}
	})
	t.Run("challenges", func(t *testing.T) {
		for _, tt := range []struct{ name, challenge, method string }{
			{"42 characters", challenge[:42], "S256"},
			{"129 characters", strings.Repeat("a", 129), "S256"},
			{"padding", challenge + "=", "S256"},
			{"space", challenge[:42] + " ", "S256"},
			{"plain", challenge, "plain"},
			{"lower-case s256", challenge, "s256"},
			{"method without challenge", "", "S256"},
			{"challenge without method", challenge, ""},
		} {
			t.Run(tt.name, func(t *testing.T) {
				q := authzQuery(tt.challenge)
				q.Set("code_challenge_method", tt.method)
				if tt.challenge == "" {
					q.Del("code_challenge")
				}
				if tt.method == "" {
					q.Del("code_challenge_method")
				}
				cb := callback(t, e.get(t, "/oauth2/v1/authorize", q))
				if cb.Get("error") != errInvalidRequest || cb.Get("code") != "" {
					t.Errorf("callback %v, want error=invalid_request and no code", cb)
				}
			})
		}
	})
	t.Run("public client without PKCE", func(t *testing.T) {
		q := authzQuery("")
		q.Set("client_id", "0oapublic")
		q.Del("code_challenge")
		q.Del("code_challenge_method")
		cb := callback(t, e.get(t, "/oauth2/v1/authorize", q))
		if cb.Get("error") != errInvalidRequest {
			t.Errorf("callback %v, want invalid_request", cb)
		}
	})
}

// A refresh token works only for the client and the authorization server
// it was issued to, and stays valid for them after being refused
// elsewhere.
func TestRefreshTokenReuseAcrossClients(t *testing.T) {
	e := ctlEnv(t, nil)
	e.dir.clients["0oapost"] = Client{ID: "0oapost", Secret: "post-secret", RedirectURIs: []string{testRedirect}, AuthMethod: AuthMethodPost,
		GrantTypes: []string{"authorization_code", "refresh_token"}}
	verifier, challenge := pkce("reuse-")
	q := authzQuery(challenge)
	q.Set("scope", "openid offline_access")
	rt := decodeTokens(t, e.exchange(t, "", e.signIn(t, "", q), verifier)).RefreshToken
	for _, tt := range []struct {
		name, path string
		form       url.Values
		header     http.Header
	}{
		{"another client", "/oauth2/v1/token", url.Values{"client_id": {"0oapost"}, "client_secret": {"post-secret"}}, nil},
		{"another server", "/oauth2/default/v1/token", url.Values{}, basic("0oaweb", "web secret+/=")},
		{"a custom server", "/oauth2/aus1custom/v1/token", url.Values{}, basic("0oaweb", "web secret+/=")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.form.Set("grant_type", "refresh_token")
			tt.form.Set("refresh_token", rt)
			r := e.postForm(t, http.DefaultClient, tt.path, tt.form, tt.header)
			if r.status != 400 || decodeOAuthError(t, r).Error != errInvalidGrant {
				t.Errorf("got %d %s, want 400 invalid_grant", r.status, r.body)
			}
		})
	}
	r := e.postForm(t, http.DefaultClient, "/oauth2/v1/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basic("0oaweb", "web secret+/="))
	decodeTokens(t, r) // still good for its own client
}

// ctlRawPayload is a JWT's payload as sent.
func ctlRawPayload(t *testing.T, raw string) string {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %.40q", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
