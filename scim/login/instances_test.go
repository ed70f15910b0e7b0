package login_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/mockidp"
	"github.com/idpkit/idpkit/mockidp/directory"
	"github.com/idpkit/idpkit/scim/app"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
	"github.com/idpkit/idpkit/scim/tenant"
)

// TestSignInAcrossSQLiteStores: two app servers, each with its own store
// opened on one SQLite file (as two processes would be), behind one public
// URL. A sign-in started at the first finishes its callback at the second,
// and the session then works on both.
//
// The second instance may have been given another public URL by mistake:
// the callback still redeems the code with the redirect_uri the sign-in
// started with (RFC 6749 §4.1.3), which the login state keeps.
func TestSignInAcrossSQLiteStores(t *testing.T) {
	for _, tc := range []struct{ name, second string }{
		{"one public URL", ""},
		{"another public URL on the second instance", "http://127.0.0.2:1"},
	} {
		t.Run(tc.name, func(t *testing.T) { testSignInAcrossSQLiteStores(t, tc.second) })
	}
}

func testSignInAcrossSQLiteStores(t *testing.T, secondPublicURL string) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "idpkit.db")
	var (
		handlers []http.Handler
		mu       sync.Mutex
		route    = map[string]int{} // path → the instance that serves it
		served   []string
	)
	lb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		i := route[r.URL.Path]
		served = append(served, fmt.Sprintf("%d %s", i, r.URL.Path))
		mu.Unlock()
		handlers[i].ServeHTTP(w, r)
	}))
	defer lb.Close()
	var cfgs []app.Config
	for i := range 2 {
		st, err := sqlstore.Open(ctx, "sqlite:"+path, sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		cfg := app.Config{Store: st, PublicURL: lb.URL, DisableMetrics: true}
		if i == 1 && secondPublicURL != "" {
			cfg.PublicURL = secondPublicURL
		}
		cfgs = append(cfgs, cfg)
		handlers = append(handlers, app.New(cfg))
	}
	created, err := app.Tenants(cfgs[0]).Create(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	okta := mockidp.NewServer()
	defer okta.Close()
	oidc, err := okta.Directory().CreateApp(directory.App{Label: "idpkit sign-in", OAuthClient: &directory.OAuthClient{RedirectURIs: []string{created.RedirectURI}}})
	if err != nil {
		t.Fatal(err)
	}
	const password = "correct-horse-battery-staple"
	alice, err := okta.Directory().CreateUser(directory.Profile{Login: "alice@example.com", Email: "alice@example.com", FirstName: "Alice", LastName: "Smith"}, password, true)
	if err != nil {
		t.Fatal(err)
	}
	// Okta signs in only the users assigned to the app.
	if err := okta.Assign(mockidp.SeedAssignment{App: oidc.ID, Users: []string{"alice@example.com"}}); err != nil {
		t.Fatal(err)
	}
	// Configured through the second instance's store, used by both.
	if _, err := app.Tenants(cfgs[1]).Configure(ctx, "acme", tenant.SignIn{OktaDomain: okta.URL, ClientID: oidc.OAuthClient.ClientID, ClientSecret: oidc.OAuthClient.ClientSecret}); err != nil {
		t.Fatal(err)
	}
	user := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"alice@example.com","externalId":"` + alice.ID + `","active":true}`
	req, _ := http.NewRequest("POST", created.SCIMBaseURL+"/Users", strings.NewReader(user))
	req.Header.Set("Authorization", "Bearer "+created.Token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("provision alice: %d", resp.StatusCode)
	}

	mu.Lock()
	route["/t/acme/oidc/callback"] = 1
	mu.Unlock()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, err = browser.Get(lb.URL + "/t/acme/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	form := regexp.MustCompile(`<form method="post" action="([^"]*)">`).FindSubmatch(page)
	if resp.StatusCode != http.StatusOK || form == nil {
		t.Fatalf("GET /login ended at %s (%d) without Okta's sign-in form:\n%.1000s", resp.Request.URL, resp.StatusCode, page)
	}
	values := url.Values{"username": {"alice@example.com"}, "password": {password}}
	for _, h := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllSubmatch(page, -1) {
		values.Set(html.UnescapeString(string(h[1])), html.UnescapeString(string(h[2])))
	}
	action, err := resp.Request.URL.Parse(html.UnescapeString(string(form[1])))
	if err != nil {
		t.Fatal(err)
	}
	resp, err = browser.PostForm(action.String(), values)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/t/acme/me" {
		t.Fatalf("signing in ended at %s (%d), want /t/acme/me:\n%.1000s", resp.Request.URL, resp.StatusCode, body)
	}
	var me []string
	for i := range handlers {
		mu.Lock()
		route["/t/acme/me"] = i
		mu.Unlock()
		req, _ := http.NewRequest("GET", lb.URL+"/t/acme/me", nil)
		req.Header.Set("Accept", "application/json")
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		me = append(me, fmt.Sprintf("%d %t", resp.StatusCode, bytes.Contains(b, []byte(`"userName":"alice@example.com"`))))
	}
	if diff := cmp.Diff([]string{"200 true", "200 true"}, me); diff != "" {
		t.Errorf("GET /me on each instance: status and alice signed in (-want +got):\n%s", diff)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"0 /t/acme/scim/v2/Users", "0 /t/acme/login", "1 /t/acme/oidc/callback", "0 /t/acme/me", "0 /t/acme/me", "1 /t/acme/me"}
	if diff := cmp.Diff(want, served); diff != "" {
		t.Errorf("which instance served which request (-want +got):\n%s", diff)
	}
}
