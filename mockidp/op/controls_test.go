package op

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestQueueLoginValidation(t *testing.T) {
	e := ctlEnv(t, nil)
	tests := []struct {
		name    string
		login   QueuedLogin
		wantErr bool
	}{
		{"by id", QueuedLogin{UserID: "00u1alice"}, false},
		{"by login, any case", QueuedLogin{Login: "ALICE@example.com"}, false},
		{"id and matching login", QueuedLogin{UserID: "00u1alice", Login: "alice@example.com"}, false},
		{"for a client", QueuedLogin{Login: "alice@example.com", ClientID: "0oaweb"}, false},
		{"nobody", QueuedLogin{}, true},
		{"unknown id", QueuedLogin{UserID: "00unobody"}, true},
		{"unknown login", QueuedLogin{Login: "nobody@example.com"}, true},
		{"inactive user", QueuedLogin{Login: "bob@example.com"}, true},
		{"id and another login", QueuedLogin{UserID: "00u1alice", Login: ctlCarolLogin}, true},
		{"unknown client", QueuedLogin{Login: "alice@example.com", ClientID: "0oanope"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := e.p.QueueLogin(tt.login); (err != nil) != tt.wantErr {
				t.Errorf("QueueLogin error %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}

// authorizeOnce sends one authorization request for client and reports
// what came back: the login form, a code (with the user it signs in, after
// redeeming it), or an error.
type authzOutcome struct {
	Form  bool
	Error string
	Sub   string
}

func (e *env) ctlAuthorize(t *testing.T, client string, extra url.Values) (authzOutcome, tokenResponse) {
	t.Helper()
	verifier, challenge := pkce("queued-")
	q := authzQuery(challenge)
	q.Set("client_id", client)
	for k, v := range extra {
		q[k] = v
	}
	r := e.get(t, "/oauth2/v1/authorize", q)
	if r.status == http.StatusOK {
		return authzOutcome{Form: strings.Contains(r.body, `name="password"`)}, tokenResponse{}
	}
	cb := callback(t, r)
	if cb.Get("error") != "" {
		return authzOutcome{Error: cb.Get("error")}, tokenResponse{}
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")}, "redirect_uri": {testRedirect}, "code_verifier": {verifier}}
	var h http.Header
	switch client {
	case "0oaweb":
		h = basic("0oaweb", "web secret+/=")
	case "0oapost":
		form.Set("client_id", "0oapost")
		form.Set("client_secret", "post-secret")
	case ctlESClient:
		h = basic(ctlESClient, "es secret")
	}
	tr := decodeTokens(t, e.postForm(t, http.DefaultClient, "/oauth2/v1/token", form, h))
	sub, _ := ctlPayload(t, tr.IDToken)["sub"].(string)
	return authzOutcome{Sub: sub}, tr
}

func TestQueueLogin(t *testing.T) {
	type step struct {
		client string
		extra  url.Values
		want   authzOutcome
	}
	form := authzOutcome{Form: true}
	tests := []struct {
		name  string
		queue []QueuedLogin
		clear bool
		steps []step
	}{
		{
			name:  "signs in without a form and starts the SSO session",
			queue: []QueuedLogin{{Login: "alice@example.com"}},
			steps: []step{{client: "0oaweb", want: authzOutcome{Sub: "00u1alice"}}, {client: "0oaweb", want: authzOutcome{Sub: "00u1alice"}}},
		},
		{
			name:  "prompt=none succeeds",
			queue: []QueuedLogin{{UserID: ctlCarolID}},
			steps: []step{{client: "0oaweb", extra: url.Values{"prompt": {"none"}}, want: authzOutcome{Sub: ctlCarolID}}},
		},
		{
			name:  "prompt=login and max_age=0 take the queued login",
			queue: []QueuedLogin{{UserID: ctlCarolID}, {UserID: "00u1alice"}},
			steps: []step{
				{client: "0oaweb", extra: url.Values{"prompt": {"login"}}, want: authzOutcome{Sub: ctlCarolID}},
				{client: "0oaweb", extra: url.Values{"max_age": {"0"}}, want: authzOutcome{Sub: "00u1alice"}},
			},
		},
		{
			name:  "used up by one request",
			queue: []QueuedLogin{{Login: "alice@example.com"}},
			steps: []step{{client: "0oaweb", extra: url.Values{"prompt": {"login"}}, want: authzOutcome{Sub: "00u1alice"}},
				{client: "0oaweb", extra: url.Values{"prompt": {"login"}}, want: form}},
		},
		{
			name:  "first in, first out",
			queue: []QueuedLogin{{Login: ctlCarolLogin}, {Login: "alice@example.com"}},
			steps: []step{{client: "0oaweb", want: authzOutcome{Sub: ctlCarolID}}, {client: "0oaweb", want: authzOutcome{Sub: "00u1alice"}}},
		},
		{
			name:  "limited to its client",
			queue: []QueuedLogin{{Login: ctlCarolLogin, ClientID: "0oapost"}},
			steps: []step{{client: "0oaweb", want: form}, {client: "0oapost", want: authzOutcome{Sub: ctlCarolID}}},
		},
		{
			name:  "a client's login is skipped by other clients",
			queue: []QueuedLogin{{Login: ctlCarolLogin, ClientID: "0oapost"}, {Login: "alice@example.com"}},
			steps: []step{{client: "0oaweb", want: authzOutcome{Sub: "00u1alice"}}},
		},
		{
			name:  "ClearLogins",
			queue: []QueuedLogin{{Login: "alice@example.com"}},
			clear: true,
			steps: []step{{client: "0oaweb", extra: url.Values{"prompt": {"none"}}, want: authzOutcome{Error: "login_required"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ctlEnv(t, nil)
			for _, l := range tt.queue {
				if err := e.p.QueueLogin(l); err != nil {
					t.Fatal(err)
				}
			}
			if tt.clear {
				e.p.ClearLogins()
			}
			for i, s := range tt.steps {
				got, _ := e.ctlAuthorize(t, s.client, s.extra)
				if diff := cmp.Diff(s.want, got); diff != "" {
					t.Errorf("step %d (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

func TestQueueLoginDroppedWhenUserDeactivated(t *testing.T) {
	e := ctlEnv(t, nil)
	if err := e.p.QueueLogin(QueuedLogin{Login: ctlCarolLogin}); err != nil {
		t.Fatal(err)
	}
	delete(e.dir.users, ctlCarolID)
	got, _ := e.ctlAuthorize(t, "0oaweb", nil)
	if diff := cmp.Diff(authzOutcome{Form: true}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestQueueLoginClaims(t *testing.T) {
	e := ctlEnv(t, nil)
	claims := map[string]any{"email": nil, "department": "R&D", "groups": []string{"Admins"}}
	if err := e.p.QueueLogin(QueuedLogin{Login: "alice@example.com", Claims: claims}); err != nil {
		t.Fatal(err)
	}
	claims["department"] = "changed after queueing"
	_, tr := e.ctlAuthorize(t, "0oaweb", url.Values{"scope": {"openid profile email groups offline_access"}})
	if tr.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	refreshed := decodeTokens(t, e.postForm(t, http.DefaultClient, "/oauth2/v1/token",
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}}, basic("0oaweb", "web secret+/=")))
	// A later login without a queued one has no extra claims.
	_, plain := e.ctlAuthorize(t, "0oaweb", nil)

	pick := func(m map[string]any) map[string]any {
		out := map[string]any{}
		for _, k := range []string{"email", "department", "groups", "sub", "given_name"} {
			if v, ok := m[k]; ok {
				out[k] = v
			}
		}
		return out
	}
	userinfo := func(at string) map[string]any {
		r := e.userinfo(t, "/oauth2/v1/userinfo", at)
		m := map[string]any{}
		if err := json.Unmarshal([]byte(r.body), &m); err != nil {
			t.Fatalf("userinfo %d %s: %v", r.status, r.body, err)
		}
		return m
	}
	merged := map[string]any{"department": "R&D", "groups": []any{"Admins"}, "sub": "00u1alice", "given_name": "Alice"}
	normal := map[string]any{"email": "alice@example.com", "groups": []any{"Engineering", "Everyone"}, "sub": "00u1alice", "given_name": "Alice"}
	tests := []struct {
		name string
		got  map[string]any
		want map[string]any
	}{
		{"ID token", pick(ctlPayload(t, tr.IDToken)), merged},
		{"UserInfo", pick(userinfo(tr.AccessToken)), merged},
		{"refreshed ID token", pick(ctlPayload(t, refreshed.IDToken)), merged},
		{"refreshed UserInfo", pick(userinfo(refreshed.AccessToken)), merged},
		{"next login's ID token", pick(ctlPayload(t, plain.IDToken)), normal},
		{"next login's UserInfo", pick(userinfo(plain.AccessToken)), normal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestQueueErrorValidation(t *testing.T) {
	e := ctlEnv(t, nil)
	tests := []struct {
		name    string
		qe      QueuedError
		wantErr bool
	}{
		{"status", QueuedError{Endpoint: EndpointToken, Status: 500}, false},
		{"delay only", QueuedError{Endpoint: EndpointKeys, Delay: time.Second}, false},
		{"org server", QueuedError{Endpoint: EndpointToken, AuthServer: "org", Status: 400}, false},
		{"custom server", QueuedError{Endpoint: EndpointToken, AuthServer: "aus1custom", Status: 400}, false},
		{"unknown endpoint", QueuedError{Endpoint: "tokens", Status: 500}, true},
		{"no endpoint", QueuedError{Status: 500}, true},
		{"unknown server", QueuedError{Endpoint: EndpointToken, AuthServer: "aus9", Status: 500}, true},
		{"nothing to do", QueuedError{Endpoint: EndpointToken}, true},
		{"negative delay", QueuedError{Endpoint: EndpointToken, Status: 500, Delay: -time.Second}, true},
		{"status too small", QueuedError{Endpoint: EndpointToken, Status: 99}, true},
		{"status too big", QueuedError{Endpoint: EndpointToken, Status: 600}, true},
		{"delay only with a body", QueuedError{Endpoint: EndpointToken, Delay: time.Second, Body: "{}"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := e.p.QueueError(tt.qe); (err != nil) != tt.wantErr {
				t.Errorf("QueueError error %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}

func TestQueueError(t *testing.T) {
	type result struct {
		Status      int
		ContentType string
		Error       string // JSON error, or the page's error code
		Location    string // error and state of a redirect
		Header      string // the header named by want.HeaderName
	}
	tokenForm := "grant_type=authorization_code&code=nope&redirect_uri=x"
	_, challenge := pkce("queued-error-")
	authz := "/oauth2/v1/authorize?" + authzQuery(challenge).Encode()
	webAuth := basic("0oaweb", "web secret+/=")
	tests := []struct {
		name       string
		qe         QueuedError
		method     string
		path       string
		body       string
		header     http.Header
		headerName string
		want       result
		sameAfter  bool // the normal answer looks the same
	}{
		{
			name: "token server_error", qe: QueuedError{Endpoint: EndpointToken, Status: 500},
			method: "POST", path: "/oauth2/v1/token", body: tokenForm, header: webAuth,
			want: result{Status: 500, ContentType: "application/json", Error: "server_error"},
		},
		{
			name: "token invalid_grant with description", qe: QueuedError{Endpoint: EndpointToken, Status: 400, Error: "invalid_grant", Description: "Nope."},
			method: "POST", path: "/oauth2/default/v1/token", body: tokenForm, header: webAuth,
			want: result{Status: 400, ContentType: "application/json", Error: "invalid_grant"},
		},
		{
			name: "body and headers as given", headerName: "Retry-After",
			qe:     QueuedError{Endpoint: EndpointToken, Status: 429, Body: "slow down", Header: http.Header{"Content-Type": {"text/plain"}, "Retry-After": {"7"}}},
			method: "POST", path: "/oauth2/v1/token", body: tokenForm, header: webAuth,
			want: result{Status: 429, ContentType: "text/plain", Header: "7"},
		},
		{
			name: "body defaults to JSON", qe: QueuedError{Endpoint: EndpointKeys, Status: 503, Body: `{"x":1}`},
			method: "GET", path: "/oauth2/v1/keys",
			want: result{Status: 503, ContentType: "application/json"},
		},
		{
			name: "keys 503", qe: QueuedError{Endpoint: EndpointKeys, Status: 503},
			method: "GET", path: "/oauth2/v1/keys",
			want: result{Status: 503, ContentType: "application/json", Error: "temporarily_unavailable"},
		},
		{
			name: "discovery 404", qe: QueuedError{Endpoint: EndpointDiscovery, Status: 404},
			method: "GET", path: "/oauth2/default/.well-known/oauth-authorization-server",
			want: result{Status: 404, ContentType: "application/json", Error: "invalid_request"},
		},
		{
			name: "authorize page", qe: QueuedError{Endpoint: EndpointAuthorize, Status: 500},
			method: "GET", path: authz,
			want: result{Status: 500, ContentType: "text/html", Error: "server_error"},
		},
		{
			name: "authorize error redirect", qe: QueuedError{Endpoint: EndpointAuthorize, Status: 302, Error: "access_denied", Description: "The user said no."},
			method: "GET", path: authz,
			want: result{Status: 302, Location: "access_denied st-123"},
		},
		{
			name: "authorize error redirect never goes to an unregistered URI", qe: QueuedError{Endpoint: EndpointAuthorize, Status: 302},
			method: "GET", path: "/oauth2/v1/authorize?client_id=0oaweb&redirect_uri=https%3A%2F%2Fevil.example%2F&state=s",
			want: result{Status: 400, ContentType: "text/html", Error: "invalid_request"}, sameAfter: true,
		},
		{
			name: "logout page", qe: QueuedError{Endpoint: EndpointLogout, Status: 400, Error: "invalid_request"},
			method: "GET", path: "/oauth2/v1/logout",
			want: result{Status: 400, ContentType: "text/html", Error: "invalid_request"},
		},
		{
			name: "userinfo 401 challenges", qe: QueuedError{Endpoint: EndpointUserinfo, Status: 401}, headerName: "WWW-Authenticate",
			method: "GET", path: "/oauth2/v1/userinfo",
			want: result{Status: 401, ContentType: "application/json", Error: "invalid_token",
				Header: `Bearer authorization_uri="BASE/oauth2/v1/authorize", realm="BASE", scope="openid", error="invalid_token", error_description="Unauthorized (an error queued by the test).", resource="/oauth2/v1/userinfo"`},
		},
		{
			name: "revoke", qe: QueuedError{Endpoint: EndpointRevoke, Status: 401},
			method: "POST", path: "/oauth2/v1/revoke", body: "token=x", header: webAuth,
			want: result{Status: 401, ContentType: "application/json", Error: "invalid_client"},
		},
		{
			name: "introspect", qe: QueuedError{Endpoint: EndpointIntrospect, Status: 403},
			method: "POST", path: "/oauth2/v1/introspect", body: "token=x", header: webAuth,
			want: result{Status: 403, ContentType: "application/json", Error: "access_denied"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ctlEnv(t, nil)
			if err := e.p.QueueError(tt.qe); err != nil {
				t.Fatal(err)
			}
			r := e.ctlRequest(t, e.browser, tt.method, tt.path, tt.body, tt.header)
			got := result{Status: r.status}
			got.ContentType, _, _ = strings.Cut(r.header.Get("Content-Type"), ";")
			if tt.headerName != "" {
				got.Header = strings.ReplaceAll(r.header.Get(tt.headerName), e.srv.URL, "BASE")
			}
			switch {
			case r.status == http.StatusFound:
				u, err := url.Parse(r.header.Get("Location"))
				if err != nil {
					t.Fatal(err)
				}
				got.Location = u.Query().Get("error") + " " + u.Query().Get("state")
			case got.ContentType == "application/json" && tt.qe.Body == "":
				got.Error = decodeOAuthError(t, r).Error
			case got.ContentType == "text/html":
				if i := strings.Index(r.body, `<p id="error-code">`); i >= 0 {
					got.Error, _, _ = strings.Cut(r.body[i+len(`<p id="error-code">`):], "<")
				}
			}
			if tt.qe.Body != "" && r.body != tt.qe.Body {
				t.Errorf("body %q, want %q", r.body, tt.qe.Body)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			// One-shot: the next request is answered normally.
			if r2 := e.ctlRequest(t, e.browser, tt.method, tt.path, tt.body, tt.header); !tt.sameAfter && r2.status == tt.want.Status && r2.body == r.body {
				t.Errorf("a one-shot error applied twice")
			}
		})
	}
}

func TestQueueErrorLifecycle(t *testing.T) {
	keys := func(e *env, path string) int {
		return e.ctlRequest(t, http.DefaultClient, "GET", path, "", nil).status
	}
	tests := []struct {
		name  string
		queue []QueuedError
		clear bool
		paths []string
		want  []int
	}{
		{
			name:  "one-shot",
			queue: []QueuedError{{Endpoint: EndpointKeys, Status: 500}},
			paths: []string{"/oauth2/v1/keys", "/oauth2/v1/keys"}, want: []int{500, 200},
		},
		{
			name:  "one-shot entries in order",
			queue: []QueuedError{{Endpoint: EndpointKeys, Status: 500}, {Endpoint: EndpointKeys, Status: 503}},
			paths: []string{"/oauth2/v1/keys", "/oauth2/v1/keys", "/oauth2/v1/keys"}, want: []int{500, 503, 200},
		},
		{
			name:  "sticky",
			queue: []QueuedError{{Endpoint: EndpointKeys, Status: 500, Sticky: true}},
			paths: []string{"/oauth2/v1/keys", "/oauth2/default/v1/keys", "/oauth2/v1/keys"}, want: []int{500, 500, 500},
		},
		{
			name:  "ClearErrors",
			queue: []QueuedError{{Endpoint: EndpointKeys, Status: 500, Sticky: true}},
			clear: true,
			paths: []string{"/oauth2/v1/keys"}, want: []int{200},
		},
		{
			name:  "org only",
			queue: []QueuedError{{Endpoint: EndpointKeys, AuthServer: "org", Status: 500}},
			paths: []string{"/oauth2/default/v1/keys", "/oauth2/aus1custom/v1/keys", "/oauth2/v1/keys", "/oauth2/v1/keys"},
			want:  []int{200, 200, 500, 200},
		},
		{
			name:  "one custom server",
			queue: []QueuedError{{Endpoint: EndpointKeys, AuthServer: "aus1custom", Status: 500}},
			paths: []string{"/oauth2/v1/keys", "/oauth2/default/v1/keys", "/oauth2/aus1custom/v1/keys"},
			want:  []int{200, 200, 500},
		},
		{
			name:  "other endpoints untouched",
			queue: []QueuedError{{Endpoint: EndpointToken, Status: 500}},
			paths: []string{"/oauth2/v1/keys", "/.well-known/openid-configuration"}, want: []int{200, 200},
		},
		{
			name:  "delay only answers normally",
			queue: []QueuedError{{Endpoint: EndpointKeys, Delay: 20 * time.Millisecond}},
			paths: []string{"/oauth2/v1/keys"}, want: []int{200},
		},
		{
			name:  "delay then error",
			queue: []QueuedError{{Endpoint: EndpointKeys, Status: 502, Delay: 20 * time.Millisecond}},
			paths: []string{"/oauth2/v1/keys", "/oauth2/v1/keys"}, want: []int{502, 200},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ctlEnv(t, nil)
			for _, qe := range tt.queue {
				if err := e.p.QueueError(qe); err != nil {
					t.Fatal(err)
				}
			}
			if tt.clear {
				e.p.ClearErrors()
			}
			var got []int
			for _, p := range tt.paths {
				got = append(got, keys(e, p))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
		})
	}
}

// TestQueueErrorDelayEndsWithClient queues an hour's delay: the request
// ends when its client gives up, which the log shows as status 0. Were the
// delay not to end, the server's Close at cleanup would wait the hour.
func TestQueueErrorDelayEndsWithClient(t *testing.T) {
	e := ctlEnv(t, nil)
	if err := e.p.QueueError(QueuedError{Endpoint: EndpointKeys, Status: 500, Delay: time.Hour}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+"/oauth2/v1/keys", nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	// Give up once the provider is waiting (its queued entry is taken).
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		e.p.ctl.mu.Lock()
		n := len(e.p.ctl.errors)
		e.p.ctl.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the request never reached the provider")
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("client error %v, want context.Canceled", err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if reqs := e.p.Requests(); len(reqs) == 1 {
			if reqs[0].Status != 0 {
				t.Errorf("logged status %d, want 0", reqs[0].Status)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the abandoned request was never logged")
		}
	}
}

func TestRequestLog(t *testing.T) {
	e := ctlEnv(t, nil)
	verifier, challenge := pkce("log-")
	q := authzQuery(challenge)
	q.Set("login_hint", "alice@example.com")
	q.Set("prompt", "login")
	page := e.get(t, "/oauth2/v1/authorize", q)
	cb := callback(t, e.submitLogin(t, page, "alice@example.com", alicePass))
	tr := decodeTokens(t, e.exchange(t, "", cb.Get("code"), verifier))
	e.ctlRequest(t, http.DefaultClient, "GET", "/oauth2/v1/userinfo", "", http.Header{"Authorization": {"Bearer " + tr.AccessToken}})
	e.ctlRequest(t, http.DefaultClient, "GET", "/oauth2/default/v1/keys", "", http.Header{"Origin": {"https://elsewhere.example"}})
	e.ctlRequest(t, http.DefaultClient, "GET", "/oauth2/aus1custom/.well-known/openid-configuration", "", nil)
	e.ctlRequest(t, http.DefaultClient, "POST", "/oauth2/v1/revoke", url.Values{"token": {tr.AccessToken}, "token_type_hint": {"access_token"}}.Encode(), basic("0oaweb", "web secret+/="))
	e.ctlRequest(t, http.DefaultClient, "POST", "/oauth2/v1/introspect", url.Values{"token": {tr.AccessToken}, "client_id": {"0oapost"}, "client_secret": {"post-secret"}}.Encode(), nil)
	e.ctlRequest(t, e.browser, "GET", "/oauth2/v1/logout?"+url.Values{"id_token_hint": {tr.IDToken}, "post_logout_redirect_uri": {testLogout}, "state": {"bye"}}.Encode(), "", nil)

	wantAuthz := map[string]string{"response_type": "code", "scope": "openid profile email groups", "state": "st-123", "nonce": "n-456",
		"code_challenge": challenge, "code_challenge_method": "S256", "redirect_uri": testRedirect, "login_hint": "alice@example.com"}
	withPrompt := map[string]string{"prompt": "login"}
	for k, v := range wantAuthz {
		withPrompt[k] = v
	}
	want := []Request{
		{Endpoint: EndpointAuthorize, Method: "GET", ClientID: "0oaweb", Params: withPrompt, Status: 200},
		{Endpoint: EndpointAuthorize, Method: "POST", ClientID: "0oaweb", Params: wantAuthz, Status: 302},
		{Endpoint: EndpointToken, Method: "POST", ClientID: "0oaweb", Params: map[string]string{"grant_type": "authorization_code", "redirect_uri": testRedirect}, Status: 200},
		{Endpoint: EndpointUserinfo, Method: "GET", ClientID: "0oaweb", Status: 200},
		{Endpoint: EndpointKeys, AuthServer: "default", Method: "GET", Status: 200, Origin: "https://elsewhere.example"},
		{Endpoint: EndpointDiscovery, AuthServer: "aus1custom", Method: "GET", Status: 200},
		{Endpoint: EndpointRevoke, Method: "POST", ClientID: "0oaweb", Params: map[string]string{"token_type_hint": "access_token"}, Status: 200},
		{Endpoint: EndpointIntrospect, Method: "POST", ClientID: "0oapost", Status: 200},
		{Endpoint: EndpointLogout, Method: "GET", ClientID: "0oaweb", Params: map[string]string{"post_logout_redirect_uri": testLogout, "state": "bye"}, Status: 302},
	}
	got := e.p.Requests()
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Request{}, "Time")); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
	for _, r := range got {
		if !r.Time.Equal(e.clock.Now()) {
			t.Errorf("%s logged at %v, want the provider's clock %v", r.Endpoint, r.Time, e.clock.Now())
		}
	}
	t.Run("no secrets", func(t *testing.T) {
		b, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		for name, secret := range map[string]string{"code": cb.Get("code"), "verifier": verifier, "password": alicePass,
			"client secret": "post-secret", "access token": tr.AccessToken, "ID token": tr.IDToken} {
			if strings.Contains(string(b), secret) {
				t.Errorf("the log holds the %s", name)
			}
		}
	})
	t.Run("ResetRequests", func(t *testing.T) {
		e.p.ResetRequests()
		if n := len(e.p.Requests()); n != 0 {
			t.Errorf("%d requests after reset", n)
		}
	})
}

func TestRequestLogCap(t *testing.T) {
	e := ctlEnv(t, nil)
	as := &authServer{}
	for i := range 2*maxRequests + 5 {
		r, _ := http.NewRequest(http.MethodGet, "/oauth2/v1/keys?state="+url.QueryEscape(string(rune('a'+i%26))), nil)
		e.p.record(as, EndpointKeys, r, &recorder{status: 200 + i%2})
	}
	got := e.p.Requests()
	if len(got) != maxRequests {
		t.Fatalf("%d requests kept, want %d", len(got), maxRequests)
	}
	// The newest is kept: record 2*maxRequests+4 had status 200 (even index).
	if got[len(got)-1].Status != 200 || got[len(got)-2].Status != 201 {
		t.Errorf("the newest requests were not kept")
	}
}

// TestControlsConcurrent drives the controls and the endpoints from many
// goroutines at once; run with -race it checks their locking.
func TestControlsConcurrent(t *testing.T) {
	e := ctlEnv(t, nil)
	done := make(chan struct{})
	const workers, rounds = 6, 20
	for w := range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range rounds {
				switch (w + i) % 4 {
				case 0:
					e.p.QueueError(QueuedError{Endpoint: EndpointKeys, Status: 503})
				case 1:
					e.p.QueueLogin(QueuedLogin{Login: "alice@example.com"})
					e.p.AddTrustedOrigin(ctlTrustedOrig)
				case 2:
					_ = e.p.Requests()
					e.p.KeyIDs()
				case 3:
					e.p.ClearErrors()
					e.p.ClearLogins()
				}
				req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/oauth2/v1/keys", nil)
				req.Header.Set("Origin", ctlTrustedOrig)
				if resp, err := http.DefaultClient.Do(req); err == nil {
					resp.Body.Close()
				}
			}
		}()
	}
	for range workers {
		<-done
	}
	if n := len(e.p.Requests()); n != workers*rounds {
		t.Errorf("%d requests logged, want %d", n, workers*rounds)
	}
}
