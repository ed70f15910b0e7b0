package op

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// fuzzServers are the authorization servers the fuzzers pick from.
var fuzzServers = []string{"", "default", "aus1custom"}

// fuzzEnv is ctlEnv for a fuzzer: one provider, its handler called in
// process, and a way to get fresh codes.
type fuzzEnv struct {
	*env
	h http.Handler
}

func newFuzzEnvFor(f *testing.F) *fuzzEnv {
	f.Helper()
	e := ctlEnv(f, nil)
	return &fuzzEnv{env: e, h: e.srv.Config.Handler}
}

// serve sends one request to the provider in process.
func (fe *fuzzEnv) serve(r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	fe.h.ServeHTTP(rec, r)
	return rec
}

// code signs alice in for 0oaweb on server as (a queued login, no form)
// and returns a code for the PKCE verifier of pkce("fuzz-").
func (fe *fuzzEnv) code(t testing.TB, as string, scope string) string {
	t.Helper()
	if err := fe.p.QueueLogin(QueuedLogin{Login: "alice@example.com"}); err != nil {
		t.Fatal(err)
	}
	_, challenge := pkce("fuzz-")
	q := authzQuery(challenge)
	q.Set("scope", scope)
	rec := fe.serve(httptest.NewRequest(http.MethodGet, (&authServer{id: as}).endpoint("authorize")+"?"+q.Encode(), nil))
	loc, err := url.Parse(rec.Header().Get("Location"))
	if rec.Code != http.StatusFound || err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("no code: %d %s", rec.Code, rec.Body)
	}
	return loc.Query().Get("code")
}

// checkOAuthAnswer fails unless rec is an OAuth JSON answer: no 5xx (none
// is deliberate without a queued error or fault), JSON with no-store, an
// error code on errors.
func checkOAuthAnswer(t *testing.T, what string, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	body := map[string]any{}
	if rec.Code != http.StatusOK || rec.Body.Len() > 0 {
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("%s: %d with Content-Type %q: %.300s", what, rec.Code, ct, rec.Body)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s: %d with a body that is not a JSON object: %.300s", what, rec.Code, rec.Body)
		}
	}
	if rec.Code >= 400 {
		if code, _ := body["error"].(string); code == "" {
			t.Fatalf("%s: %d without an OAuth error: %.300s", what, rec.Code, rec.Body)
		}
	}
	if rec.Code >= 500 {
		// The only deliberate 5xx are queued errors and token-server-error,
		// and the fuzzers queue and arm none.
		t.Fatalf("%s: %d with no error queued or fault armed: %.300s", what, rec.Code, rec.Body)
	}
	if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Fatalf("%s: Cache-Control %q, want no-store", what, cc)
	}
	return body
}

// FuzzToken posts arbitrary form bodies and Authorization headers to the
// token endpoints of the org, default and a custom server. CODE in the
// body becomes a fresh code (PKCE verifier VERIFIER), REFRESH a live
// refresh token. Every answer is OAuth JSON, never a 5xx, and a token
// answer carries tokens.
func FuzzToken(f *testing.F) {
	web := "Basic " + strings.TrimPrefix(basic("0oaweb", "web secret+/=").Get("Authorization"), "Basic ")
	seeds := []struct {
		server      uint8
		auth, body  string
		contentType string
	}{
		{0, web, "grant_type=authorization_code&code=CODE&redirect_uri=REDIRECT&code_verifier=VERIFIER", ""},
		{1, web, "grant_type=authorization_code&code=CODE&redirect_uri=REDIRECT&code_verifier=VERIFIER&code=CODE", ""},
		{0, web, "grant_type=authorization_code&code=CODE&redirect_uri=REDIRECT%2F&code_verifier=VERIFIER", ""},
		{0, web, "grant_type=authorization_code&code=CODE&redirect_uri=REDIRECT&code_verifier=" + strings.Repeat("v", 129), ""},
		{0, web, "grant_type=refresh_token&refresh_token=REFRESH&scope=openid+profile", ""},
		{0, web, "grant_type=refresh_token&refresh_token=REFRESH&scope=%20%20", ""},
		{1, "", "grant_type=client_credentials&client_id=0oaservice&client_secret=service-secret&scope=a+b", ""},
		{2, "Basic " + "MG9hc2VydmljZTpzZXJ2aWNlLXNlY3JldA==", "grant_type=client_credentials&scope=a%09b", ""},
		{0, web, "grant_type=authorization_code&client_secret=x", ""},
		{0, "Basic !!!", "grant_type=authorization_code", ""},
		{0, "Bearer x", "grant_type=password&username=a&password=b", ""},
		{0, "", "client_id=0oapublic&grant_type=authorization_code&code=CODE&redirect_uri=REDIRECT", ""},
		{0, "", "client_id=0oapost&client_secret=post-secret&grant_type=authorization_code&code=%ff%fe", ""},
		{0, web, "grant_type=authorization_code%00&code=\x00", ""},
		{0, web, `{"grant_type":"authorization_code"}`, "application/json"},
		{0, web, "grant_type=%zz", ""},
		{0, web, "client_assertion=x&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer", ""},
		{2, web, "grant_type=refresh_token&refresh_token=REFRESH", ""},
	}
	for _, s := range seeds {
		f.Add(s.server, s.auth, s.body, s.contentType)
	}
	fe := newFuzzEnvFor(f)
	verifier, _ := pkce("fuzz-")
	tok := fe.refreshToken(f)
	f.Fuzz(func(t *testing.T, server uint8, auth, body, contentType string) {
		as := fuzzServers[int(server)%len(fuzzServers)]
		if strings.Contains(body, "CODE") {
			body = strings.ReplaceAll(body, "CODE", fe.code(t, as, "openid offline_access"))
		}
		body = strings.NewReplacer("VERIFIER", verifier, "REFRESH", tok, "REDIRECT", url.QueryEscape(testRedirect)).Replace(body)
		if contentType == "" {
			contentType = "application/x-www-form-urlencoded"
		}
		req := httptest.NewRequest(http.MethodPost, (&authServer{id: as}).endpoint("token"), strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := fe.serve(req)
		out := checkOAuthAnswer(t, "token "+body, rec)
		if rec.Code == http.StatusOK {
			if at, _ := out["access_token"].(string); at == "" || out["token_type"] != "Bearer" {
				t.Fatalf("token %s: 200 without an access token: %s", body, rec.Body)
			}
		}
		// RFC 6749 §5.2: a 401 to a client that sent Basic credentials
		// names the scheme in WWW-Authenticate.
		if scheme, _, _ := strings.Cut(auth, " "); rec.Code == http.StatusUnauthorized && strings.EqualFold(scheme, "Basic") &&
			!strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Basic ") {
			t.Fatalf("token %s: 401 to Basic credentials %q without WWW-Authenticate: Basic", body, auth)
		}
	})
}

// formActionRE finds the action of a form_post page.
var formActionRE = regexp.MustCompile(`<form method="post" action="([^"]*)">`)

// FuzzAuthorize sends arbitrary authorization requests (a query, or a
// form body when POST), with or without an SSO session or a queued login.
// The provider never answers 5xx, every page is HTML, and it never sends
// the browser anywhere but a redirect URI registered for the client named:
// no open redirect, whatever the parameters.
func FuzzAuthorize(f *testing.F) {
	_, challenge := pkce("fuzz-")
	good := authzQuery(challenge)
	seeds := []struct {
		server, method, session uint8
		params                  string
	}{
		{0, 0, 0, good.Encode()},
		{1, 0, 1, good.Encode()},
		{0, 1, 2, good.Encode() + "&response_mode=form_post"},
		{0, 0, 1, good.Encode() + "&response_mode=fragment&prompt=none"},
		{0, 0, 0, good.Encode() + "&prompt=none"},
		{0, 0, 1, good.Encode() + "&max_age=0&prompt=login"},
		{0, 0, 1, good.Encode() + "&max_age=9223372036854775807"},
		{0, 0, 0, strings.Replace(good.Encode(), "redirect_uri=", "redirect_uri=https%3A%2F%2Fevil.example%2F&x=", 1)},
		{0, 0, 0, good.Encode() + "&redirect_uri=https%3A%2F%2Fevil.example%2F"},
		{0, 0, 0, "client_id=0oaweb&redirect_uri=" + url.QueryEscape(testRedirect) + "%00&response_type=code&scope=openid"},
		{0, 0, 0, "client_id=0oaweb&redirect_uri=" + url.QueryEscape(strings.ToUpper(testRedirect)) + "&response_type=code&scope=openid"},
		{0, 0, 0, "client_id=0oaweb&redirect_uri=https%3A%2F%2Fapp.example%40evil.example%2Ft%2Facme%2Foidc%2Fcallback&response_type=code"},
		{0, 0, 1, good.Encode() + "&response_type=token&state=%0d%0aSet-Cookie:%20x=1"},
		{0, 1, 0, good.Encode() + "&username=alice%40example.com&password=Correct-Horse-1"},
		{0, 1, 0, good.Encode() + "&username=alice%40example.com&password=wrong"},
		{0, 0, 1, good.Encode() + "&code_challenge_method=plain"},
		{2, 0, 1, good.Encode() + "&scope=openid+bogus"},
		{0, 0, 1, "client_id=0oapublic&redirect_uri=" + url.QueryEscape(testRedirect) + "&response_type=code&scope=openid"},
		{0, 0, 0, "client_id=%3Cscript%3E&redirect_uri=javascript%3Aalert(1)"},
		{0, 2, 0, good.Encode()},
		{0, 1, 0, "%zz"},
	}
	for _, s := range seeds {
		f.Add(s.server, s.method, s.session, s.params)
	}
	fe := newFuzzEnvFor(f)
	sid := fe.sessionCookie(f)
	registered := map[string]bool{}
	for _, c := range fe.dir.clients {
		for _, u := range c.RedirectURIs {
			registered[u] = true
		}
	}
	methods := []string{http.MethodGet, http.MethodPost, http.MethodHead, http.MethodPut}
	f.Fuzz(func(t *testing.T, server, method, session uint8, params string) {
		as := fuzzServers[int(server)%len(fuzzServers)]
		m := methods[int(method)%len(methods)]
		path := (&authServer{id: as}).endpoint("authorize")
		var req *http.Request
		if m == http.MethodPost {
			req = httptest.NewRequest(m, path, strings.NewReader(params))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req = httptest.NewRequest(m, path, nil)
			req.URL.RawQuery = params
		}
		switch session % 3 {
		case 1:
			req.AddCookie(&http.Cookie{Name: sessionCookie, Value: sid})
		case 2:
			fe.p.QueueLogin(QueuedLogin{Login: "alice@example.com"})
			defer fe.p.ClearLogins()
		}
		rec := fe.serve(req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s?%s: %d %.300s", m, path, params, rec.Code, rec.Body)
		}
		if rec.Code == http.StatusFound || rec.Code == http.StatusSeeOther {
			loc, err := url.Parse(rec.Header().Get("Location"))
			if err != nil {
				t.Fatalf("%s: a Location that does not parse: %q", params, rec.Header().Get("Location"))
			}
			target := *loc
			target.RawQuery, target.Fragment, target.RawFragment, target.ForceQuery = "", "", "", false
			if !registered[target.String()] {
				t.Fatalf("%s %s?%s: redirected to %q, not a registered redirect URI", m, path, params, loc)
			}
			return
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Fatalf("%s %s?%s: %d with Content-Type %q: %.300s", m, path, params, rec.Code, ct, rec.Body)
		}
		if a := formActionRE.FindStringSubmatch(rec.Body.String()); a != nil && a[1] != path {
			action := strings.ReplaceAll(a[1], "&amp;", "&")
			if !registered[action] && !slices.Contains(fuzzServerPaths(), action) {
				t.Fatalf("%s %s?%s: a form posting to %q", m, path, params, a[1])
			}
		}
	})
}

// fuzzServerPaths are the authorize paths, where the login form posts.
func fuzzServerPaths() []string {
	var out []string
	for _, as := range fuzzServers {
		out = append(out, (&authServer{id: as}).endpoint("authorize"))
	}
	return out
}

// refreshToken returns a refresh token of 0oaweb on the org server.
func (fe *fuzzEnv) refreshToken(f *testing.F) string {
	f.Helper()
	code := fe.code(f, "", "openid offline_access")
	verifier, _ := pkce("fuzz-")
	req := httptest.NewRequest(http.MethodPost, "/oauth2/v1/token", strings.NewReader(codeForm(code, verifier).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", basic("0oaweb", "web secret+/=").Get("Authorization"))
	rec := fe.serve(req)
	var tr tokenResponse
	if err := json.NewDecoder(io.LimitReader(rec.Body, 1<<20)).Decode(&tr); err != nil || tr.RefreshToken == "" {
		f.Fatalf("no refresh token: %d %v", rec.Code, err)
	}
	return tr.RefreshToken
}

// sessionCookie returns the value of an SSO session cookie for alice.
func (fe *fuzzEnv) sessionCookie(f *testing.F) string {
	f.Helper()
	if err := fe.p.QueueLogin(QueuedLogin{Login: "alice@example.com"}); err != nil {
		f.Fatal(err)
	}
	_, challenge := pkce("fuzz-")
	rec := fe.serve(httptest.NewRequest(http.MethodGet, "/oauth2/v1/authorize?"+authzQuery(challenge).Encode(), nil))
	for _, c := range rec.Result().Cookies() {
		if c.Name == sessionCookie {
			return c.Value
		}
	}
	f.Fatalf("no session cookie: %d", rec.Code)
	return ""
}
