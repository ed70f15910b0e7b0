package cluster

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/mockidp"
	"github.com/idpkit/idpkit/mockidp/directory"
	"github.com/idpkit/idpkit/suites/check"
)

// alternate is an http.RoundTripper that sends request n to hosts[n%len],
// whatever host the request named: a balancer that spreads consecutive
// requests of one client over every instance.
type alternate struct {
	hosts []string // host:port of each instance
	n     atomic.Uint64
	next  http.RoundTripper
}

func (a *alternate) RoundTrip(req *http.Request) (*http.Response, error) {
	i := a.n.Add(1) - 1
	out := req.Clone(req.Context())
	out.URL.Host = a.hosts[i%uint64(len(a.hosts))]
	out.Host = ""
	return a.next.RoundTrip(out)
}

// balancer is a reverse proxy in front of the instances that sends request
// n to instance n%len and records which instance served each path.
type balancer struct {
	*httptest.Server
	mu     sync.Mutex
	served []string // "i path" for each request, in order
}

func newBalancer(t *testing.T) (*balancer, func(instances []*instance)) {
	b := &balancer{}
	var (
		n       atomic.Uint64
		targets []*url.URL
	)
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		i := (n.Add(1) - 1) % uint64(len(targets))
		pr.SetURL(targets[i])
		pr.Out.Host = pr.In.Host
		b.mu.Lock()
		b.served = append(b.served, fmt.Sprintf("%d %s", i, pr.In.URL.Path))
		b.mu.Unlock()
	}}
	b.Server = httptest.NewServer(proxy)
	t.Cleanup(b.Close)
	return b, func(ins []*instance) {
		for _, in := range ins {
			u, _ := url.Parse(in.URL)
			targets = append(targets, u)
		}
	}
}

func (b *balancer) log() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.served...)
}

// TestTwoInstances runs two `idpkit serve` processes on one PostgreSQL
// schema, started at the same moment on a fresh schema (so both race to
// apply the migrations), behind one public URL.
func TestTwoInstances(t *testing.T) {
	dsn := postgresSchema(t)
	lb, setTargets := newBalancer(t)
	var ins []*instance
	for range 2 {
		ins = append(ins, startServe(t, dsn, "--public-url", lb.URL))
	}
	setTargets(ins)
	for _, in := range ins {
		in.waitReady(t)
	}
	acme := createTenant(t, dsn, lb.URL, "acme")
	peer := createTenant(t, dsn, lb.URL, "acme-peer")
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = 64
	alt := &alternate{hosts: []string{ins[0].Addr, ins[1].Addr}, next: base}
	client := httpClient(alt)

	t.Run("catalogue", func(t *testing.T) {
		target := &check.Target{BaseURL: acme.SCIMBaseURL, Token: acme.Token, Client: client,
			Peer: &check.Target{BaseURL: peer.SCIMBaseURL, Token: peer.Token, Client: client}}
		checks := check.Select(check.SCIM(), nil, nil)
		before := alt.n.Load()
		results := check.RunAll(t.Context(), checks, target, nil)
		for _, r := range results {
			if !r.Passed {
				t.Errorf("%s (%s): %s", r.ID, r.Status(), r.Error)
			}
		}
		if sent := alt.n.Load() - before; sent < uint64(2*len(checks)) {
			t.Errorf("the catalogue sent %d requests over both instances; want at least two per check", sent)
		}
		t.Logf("%d checks, %d requests alternated over 2 instances", len(results), alt.n.Load()-before)
	})

	t.Run("concurrent members", func(t *testing.T) {
		const n = 200
		ctx := t.Context()
		ids := make([]string, n)
		var wg sync.WaitGroup
		errs := make(chan error, n)
		sem := make(chan struct{}, 16)
		for i := range n {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				status, body, err := scimCall(ctx, client, "POST", acme.SCIMBaseURL+"/Users", acme.Token, userBody(fmt.Sprintf("member%03d@example.com", i)))
				if err != nil || status != http.StatusCreated {
					errs <- fmt.Errorf("create user %d: %d %v %v", i, status, body, err)
					return
				}
				ids[i], _ = body["id"].(string)
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		status, g, err := scimCall(ctx, client, "POST", acme.SCIMBaseURL+"/Groups", acme.Token, map[string]any{
			"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "everyone",
		})
		if err != nil || status != http.StatusCreated {
			t.Fatalf("create group: %d %v %v", status, g, err)
		}
		gid, _ := g["id"].(string)
		// All 200 at once: each PATCH adds one member, half of them on each
		// instance, all on one row. Beyond serve's per-tenant cap
		// (--max-tenant-requests, 64 by default) an instance answers 503
		// with Retry-After, which Okta retries; so does this client.
		start := make(chan struct{})
		errs = make(chan error, n)
		var retried atomic.Int64
		for i := range n {
			wg.Go(func() {
				<-start
				var status int
				var body map[string]any
				var err error
				for attempt := range 6 {
					status, body, err = scimCall(ctx, client, "PATCH", acme.SCIMBaseURL+"/Groups/"+gid, acme.Token, map[string]any{
						"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
						"Operations": []map[string]any{{"op": "add", "path": "members", "value": []map[string]any{{"value": ids[i]}}}},
					})
					if err != nil || status != http.StatusServiceUnavailable || attempt == 5 {
						break
					}
					retried.Add(1)
					time.Sleep(time.Second)
				}
				// A group PATCH answers 204 No Content and no body.
				if err != nil || status != http.StatusNoContent || body != nil {
					errs <- fmt.Errorf("PATCH add member %d: %d %v %v", i, status, body, err)
				}
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		var failed []error
		for err := range errs {
			failed = append(failed, err)
		}
		if len(failed) > 0 {
			t.Errorf("%d of %d concurrent PATCH adds failed, e.g.:\n%v", len(failed), n, failed[:min(3, len(failed))])
		}
		t.Logf("%d PATCHes were answered 503 (the per-tenant cap) and sent again", retried.Load())
		for _, in := range ins {
			status, g, err := scimCall(ctx, client, "GET", in.URL+"/t/acme/scim/v2/Groups/"+gid, acme.Token, nil)
			if err != nil || status != http.StatusOK {
				t.Fatalf("GET group: %d %v", status, err)
			}
			members, _ := g["members"].([]any)
			got := map[string]bool{}
			for _, m := range members {
				v, _ := m.(map[string]any)["value"].(string)
				got[v] = true
			}
			want := map[string]bool{}
			for _, id := range ids {
				want[id] = true
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("members of the group (%d entries) after %d concurrent PATCH adds (-want +got):\n%s", len(members), n, diff)
			}
		}
		if got := totalResults(t, client, acme.SCIMBaseURL, acme.Token, "Groups", `members.value eq "`+ids[n-1]+`"`); got != 1 {
			t.Errorf("filter members.value eq the last user: totalResults %d, want 1", got)
		}
	})

	t.Run("login across instances", func(t *testing.T) {
		signInAcross(t, dsn, lb, ins, acme, client)
	})
}

// signInAcross configures the tenant's sign-in against a mock Okta,
// provisions a user, and signs in through the balancer so that the login
// starts on one instance and the callback is served by the other.
func signInAcross(t *testing.T, dsn string, lb *balancer, ins []*instance, acme created, client *http.Client) {
	ctx := t.Context()
	okta := mockidp.NewServer()
	t.Cleanup(okta.Close)
	app, err := okta.Directory().CreateApp(directory.App{Label: "idpkit sign-in", OAuthClient: &directory.OAuthClient{RedirectURIs: []string{acme.RedirectURI}}})
	if err != nil {
		t.Fatal(err)
	}
	const password = "correct-horse-battery-staple"
	alice, err := okta.Directory().CreateUser(directory.Profile{Login: "alice@example.com", Email: "alice@example.com", FirstName: "Alice", LastName: "Smith"}, password, true)
	if err != nil {
		t.Fatal(err)
	}
	// Okta signs in only the users assigned to the app.
	if err := okta.Assign(mockidp.SeedAssignment{App: app.ID, Users: []string{"alice@example.com"}}); err != nil {
		t.Fatal(err)
	}
	idpkit(t, "tenant", "configure", "acme", "--db", dsn, "--okta-domain", okta.URL,
		"--client-id", app.OAuthClient.ClientID, "--client-secret", app.OAuthClient.ClientSecret)
	u := userBody("alice@example.com")
	u["externalId"] = alice.ID
	if status, body, err := scimCall(ctx, client, "POST", acme.SCIMBaseURL+"/Users", acme.Token, u); err != nil || status != http.StatusCreated {
		t.Fatalf("provision alice: %d %v %v", status, body, err)
	}

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: client.Timeout}
	tenantURL := strings.TrimSuffix(acme.SCIMBaseURL, "/scim/v2")
	first := len(lb.log())
	page := get(t, browser, tenantURL+"/login")
	if page.status != http.StatusOK || !strings.HasPrefix(page.url.String(), okta.URL) {
		t.Fatalf("GET /login ended at %s (%d), want Okta's sign-in page:\n%.500s", page.url, page.status, page.body)
	}
	form := regexp.MustCompile(`<form method="post" action="([^"]*)">`).FindStringSubmatch(page.body)
	if form == nil {
		t.Fatalf("no sign-in form on %s:\n%.1000s", page.url, page.body)
	}
	values := url.Values{}
	for _, h := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(page.body, -1) {
		values.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	values.Set("username", "alice@example.com")
	values.Set("password", password)
	action, err := page.url.Parse(html.UnescapeString(form[1]))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := browser.PostForm(action.String(), values)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/t/acme/me" {
		t.Fatalf("signing in ended at %s (%d), want /t/acme/me:\n%.1000s", resp.Request.URL, resp.StatusCode, body)
	}
	served := lb.log()[first:]
	var loginAt, callbackAt string
	for _, s := range served {
		i, path, _ := strings.Cut(s, " ")
		switch path {
		case "/t/acme/login":
			loginAt = i
		case "/t/acme/oidc/callback":
			callbackAt = i
		}
	}
	if loginAt == "" || callbackAt == "" || loginAt == callbackAt {
		t.Fatalf("the balancer served %q; want /login and /oidc/callback on different instances", served)
	}
	// The session works on both instances.
	for range ins {
		req, _ := http.NewRequestWithContext(ctx, "GET", tenantURL+"/me", nil)
		req.Header.Set("Accept", "application/json")
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(data), `"userName":"alice@example.com"`) {
			t.Errorf("GET /me: %d %s; want alice signed in", resp.StatusCode, data)
		}
	}
	if got := lb.log()[len(lb.log())-2:]; got[0][0] == got[1][0] {
		t.Errorf("the last two /me were served by %q, want both instances", got)
	}
}

type page struct {
	status int
	url    *url.URL
	body   string
}

// get follows redirects as a browser does and returns the last page.
func get(t *testing.T, c *http.Client, u string) page {
	t.Helper()
	req, err := http.NewRequestWithContext(context.WithoutCancel(t.Context()), "GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, url: resp.Request.URL, body: string(data)}
}
