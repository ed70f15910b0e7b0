package mockidp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/go-cmp/cmp"
	"github.com/idpkit/idpkit/mockidp/directory"
)

const redirectURI = "http://127.0.0.1:1/t/acme/oidc/callback"

func api(t *testing.T, s *Server, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.URL+path, rd)
	req.Header.Set("Authorization", "SSWS "+s.APIToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func TestNewServer(t *testing.T) {
	now := time.Date(2024, 3, 21, 9, 0, 0, 0, time.UTC)
	s := NewServer(WithAPIToken("fixed-token"), WithNow(func() time.Time { return now }))
	defer s.Close()
	if s.APIToken != "fixed-token" || !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Fatalf("server %q %q", s.URL, s.APIToken)
	}
	for _, tc := range []struct {
		name, path string
		want       int
	}{
		{"org discovery", "/.well-known/openid-configuration", 200},
		{"default discovery", "/oauth2/default/.well-known/openid-configuration", 200},
		{"keys", "/oauth2/v1/keys", 200},
		{"management without token", "/api/v1/users", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := s.Client().Get(s.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
	if code, _ := api(t, s, "GET", "/api/v1/users", nil); code != 200 {
		t.Errorf("management with token: %d", code)
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/.well-known/openid-configuration", nil))
	var meta map[string]any
	json.Unmarshal(rec.Body.Bytes(), &meta)
	if meta["issuer"] != s.URL {
		t.Errorf("issuer %v, want %s", meta["issuer"], s.URL)
	}
	s.FastForward(time.Hour)
	if got := s.Directory().Now(); !got.Equal(now.Add(time.Hour)) {
		t.Errorf("clock %v after FastForward", got)
	}

	g := NewServer()
	if g.APIToken == "" || g.APIToken == s.APIToken {
		t.Errorf("generated token %q", g.APIToken)
	}
	g.Close()
	g.Close() // idempotent
}

func TestNewBadAddr(t *testing.T) {
	if _, err := New(Config{Addr: "256.0.0.1:bad"}); err == nil {
		t.Fatal("New on a bad address: no error")
	}
	defer func() {
		if recover() == nil {
			t.Error("NewServer on a bad address did not panic")
		}
	}()
	NewServer(WithAddr("256.0.0.1:bad"))
}

func TestCloseWaitsForInFlight(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	scimSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		w.Header().Set("Content-Type", "application/scim+json")
		io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"startIndex":1,"itemsPerPage":0,"Resources":[]}`)
	}))
	defer scimSrv.Close()
	s := NewServer()
	_, app := api(t, s, "POST", "/api/v1/apps", map[string]any{"name": "scim2testapp", "label": "SCIM", "settings": map[string]any{"app": map[string]any{"baseUrl": scimSrv.URL}}})
	var wg sync.WaitGroup
	var status int
	wg.Add(1)
	go func() { // Test API Credentials blocks in the SCIM server
		defer wg.Done()
		status, _ = api(t, s, "POST", "/api/v1/apps/"+app["id"].(string)+"/connections/default", map[string]any{"profile": map[string]any{"authScheme": "TOKEN", "token": "x"}})
	}()
	<-started
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned with a request in flight")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	<-closed
	wg.Wait()
	if status != 201 {
		t.Errorf("in-flight request got %d, want 201", status)
	}
}

func TestSeed(t *testing.T) {
	f, err := os.Open("../testdata/mockokta/seed.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seed, err := LoadSeed(f)
	if err != nil {
		t.Fatal(err)
	}
	if got := seed.Summary(); got != "5 users, 1 group, 2 apps, 2 assignments" {
		t.Errorf("summary %q", got)
	}
	s := NewServer(WithSeed(seed))
	defer s.Close()
	sd := s.Seeded()
	web := sd.Apps["Q.wiki"]
	if diff := cmp.Diff(SeededApp{ID: "0oaseedwebapp0000000001", Type: "oidc", ClientID: "0oaseedwebapp0000000001", ClientSecret: "seed-client-secret-0000000000000000000001"}, web); diff != "" {
		t.Errorf("seeded web app (-want +got):\n%s", diff)
	}
	erin, _ := s.Directory().User(sd.Users["erin@example.com"])
	if erin.Status != directory.StatusSuspended {
		t.Errorf("erin %s", erin.Status)
	}
	var assigned []string
	for _, au := range s.Directory().AppUsers(web.ID) {
		u, _ := s.Directory().User(au.UserID)
		assigned = append(assigned, u.Profile.Login+" "+au.Scope())
	}
	// Everyone (access defaults to everyone), then the group and dave directly.
	if diff := cmp.Diff([]string{"alice@example.com GROUP", "bob@example.com GROUP", "carol@example.com GROUP", "dave@example.com USER", "erin@example.com GROUP"}, assigned); diff != "" {
		t.Errorf("assignments (-want +got):\n%s", diff)
	}
	if _, err := s.Directory().Authenticate("alice@example.com", "Correct-Horse-1"); err != nil {
		t.Errorf("seeded password: %v", err)
	}
}

// browser signs in through the login page like a person would.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// signIn runs authorize → login form → redirect and returns the code, or
// "" and the page when the sign-in is refused.
func (b *browser) signIn(s *Server, clientID, login, password, verifier string) (code, page string) {
	b.t.Helper()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"client_id": {clientID}, "redirect_uri": {redirectURI}, "response_type": {"code"}, "scope": {"openid profile email"},
		"state": {"st-1"}, "nonce": {"n-1"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	req, _ := http.NewRequest("GET", s.URL+"/oauth2/v1/authorize?"+q.Encode(), nil)
	resp, body := b.do(req)
	if resp.StatusCode != 200 || !strings.Contains(body, `name="password"`) {
		b.t.Fatalf("authorize: %d %s", resp.StatusCode, body)
	}
	action := regexp.MustCompile(`<form method="post" action="([^"]*)">`).FindStringSubmatch(body)
	form := url.Values{}
	for _, h := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(body, -1) {
		form.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	form.Set("username", login)
	form.Set("password", password)
	req, _ = http.NewRequest("POST", s.URL+html.UnescapeString(action[1]), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body = b.do(req)
	if resp.StatusCode != http.StatusFound {
		return "", body
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Query().Get("state") != "st-1" {
		b.t.Fatalf("callback %s", loc)
	}
	if c := loc.Query().Get("code"); c != "" {
		return c, ""
	}
	return "", loc.Query().Get("error") + ": " + loc.Query().Get("error_description")
}

func TestSignIn(t *testing.T) {
	s := NewServer()
	defer s.Close()
	ctx := context.Background()
	for _, login := range []string{"alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"} {
		code, _ := api(t, s, "POST", "/api/v1/users?activate=true", map[string]any{
			"profile":     map[string]any{"login": login, "email": login, "firstName": "F", "lastName": "L"},
			"credentials": map[string]any{"password": map[string]any{"value": "Correct-Horse-9"}},
		})
		if code != 200 {
			t.Fatalf("create %s: %d", login, code)
		}
	}
	bob, _ := s.Directory().User("bob@example.com")
	carol, _ := s.Directory().User("carol@example.com")
	api(t, s, "POST", "/api/v1/users/"+bob.ID+"/lifecycle/deactivate", nil)
	api(t, s, "POST", "/api/v1/users/"+carol.ID+"/lifecycle/suspend", nil)
	code, app := api(t, s, "POST", "/api/v1/apps", map[string]any{
		"name": "oidc_client", "label": "Q.wiki", "signOnMode": "OPENID_CONNECT",
		"credentials": map[string]any{"oauthClient": map[string]any{"token_endpoint_auth_method": "client_secret_basic"}},
		"settings":    map[string]any{"oauthClient": map[string]any{"redirect_uris": []string{redirectURI}, "response_types": []string{"code"}, "grant_types": []string{"authorization_code"}, "application_type": "web"}},
	})
	if code != 200 {
		t.Fatalf("create app: %d %v", code, app)
	}
	oc := app["credentials"].(map[string]any)["oauthClient"].(map[string]any)
	clientID, secret := oc["client_id"].(string), oc["client_secret"].(string)
	// An app made through the API has no assignments, as in Okta: assign
	// alice (and the others who are refused anyway), never dave.
	for _, login := range []string{"alice@example.com", "bob@example.com", "carol@example.com"} {
		u, _ := s.Directory().User(login)
		if code, body := api(t, s, "POST", "/api/v1/apps/"+clientID+"/users", map[string]any{"id": u.ID, "scope": "USER"}); code != 200 {
			t.Fatalf("assign %s: %d %v", login, code, body)
		}
	}

	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, s.Client()), s.Issuer(""))
	if err != nil {
		t.Fatal(err)
	}
	verifier := provider.Verifier(&oidc.Config{ClientID: clientID})

	for _, tc := range []struct {
		name, login string
		ok          bool
	}{
		{"active user", "alice@example.com", true},
		{"deactivated user", "bob@example.com", false},
		{"suspended user", "carol@example.com", false},
		{"unknown user", "mallory@example.com", false},
		{"active user not assigned to the app", "dave@example.com", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := "verifier-" + strings.Repeat("x", 40)
			code, page := newBrowser(t).signIn(s, clientID, tc.login, "Correct-Horse-9", v)
			if !tc.ok {
				want := "Unable to sign in"
				if tc.login == "dave@example.com" { // signed in to Okta, refused by the app's assignment
					want = "access_denied: User is not assigned to the client application."
				}
				if code != "" || !strings.Contains(page, want) {
					t.Errorf("refused sign-in: code %q page %q, want %q", code, page, want)
				}
				return
			}
			form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {v}}
			req, _ := http.NewRequest("POST", provider.Endpoint().TokenURL, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
			resp, err := s.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var tok struct {
				IDToken string `json:"id_token"`
			}
			json.NewDecoder(resp.Body).Decode(&tok)
			idt, err := verifier.Verify(ctx, tok.IDToken)
			if err != nil {
				t.Fatalf("token %d: %v", resp.StatusCode, err)
			}
			alice, _ := s.Directory().User("alice@example.com")
			var claims struct {
				PreferredUsername string `json:"preferred_username"`
				Idp               string `json:"idp"`
				Nonce             string `json:"nonce"`
			}
			idt.Claims(&claims)
			if diff := cmp.Diff([]string{alice.ID, "alice@example.com", s.Directory().OrgID(), "n-1"}, []string{idt.Subject, claims.PreferredUsername, claims.Idp, claims.Nonce}); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
			if u, _ := s.Directory().User(alice.ID); u.LastLogin.IsZero() {
				t.Error("lastLogin not set")
			}
		})
	}
}

// TestProvisioningThroughServer checks that HTTPClient reaches the SCIM
// server with Okta's headers, through the whole composed server.
func TestProvisioningThroughServer(t *testing.T) {
	var mu sync.Mutex
	var calls []string
	scimSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls = append(calls, r.Method+" "+r.URL.Path+" "+r.Header.Get("User-Agent")+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/scim+json")
		switch r.Method {
		case "GET":
			io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"startIndex":1,"itemsPerPage":0,"Resources":[]}`)
		case "POST":
			w.WriteHeader(201)
			io.WriteString(w, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"scim-1","userName":"alice@example.com","active":true}`)
		}
	}))
	defer scimSrv.Close()
	var used bool
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		used = true
		return http.DefaultTransport.RoundTrip(r)
	})}
	seed := &Seed{
		Users:       []SeedUser{{Login: "alice@example.com", FirstName: "Alice", LastName: "A", Password: "Correct-Horse-9"}},
		Apps:        []SeedApp{{Label: "SCIM", Type: SeedAppSCIM, BaseURL: scimSrv.URL + "/scim/v2", Token: "tok", Create: true}},
		Assignments: []SeedAssignment{{App: "SCIM", Users: []string{"alice@example.com"}}},
	}
	s := NewServer(WithHTTPClient(hc), WithSeed(seed))
	defer s.Close()
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]string{
		"GET /scim/v2/Users Okta SCIM Client 1.0.0 Bearer tok",
		"POST /scim/v2/Users Okta SCIM Client 1.0.0 Bearer tok",
	}, calls); diff != "" || !used {
		t.Errorf("calls (-want +got):\n%s (client used: %v)", diff, used)
	}
	au, err := s.Directory().AppUser(s.Seeded().Apps["SCIM"].ID, s.Seeded().Users["alice@example.com"])
	if err != nil || au.ExternalID != "scim-1" {
		t.Errorf("app user %+v %v", au, err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
