package login

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/tenant"
)

// env is an app server (login handler) and a test OpenID provider, with
// tenant "acme" configured to sign in through it.
type env struct {
	t       *testing.T
	store   *testStore
	tenants *tenant.Service
	app     *httptest.Server
	op      *testOP
	now     time.Time
	created tenant.Created
	second  atomic.Bool // serve requests with the second instance
}

// newEnv starts the env; opts change both instances' Config.
func newEnv(t *testing.T, opts ...func(*Config)) *env {
	t.Helper()
	e := &env{t: t, now: time.Now().Truncate(time.Second)}
	clock := func() time.Time { return e.now }
	e.store = newTestStore(t, clock)
	e.tenants = &tenant.Service{Store: e.store, Now: clock}
	cfg := Config{
		Store: e.store, Tenants: e.tenants, Now: clock,
		Assets: fstest.MapFS{
			"connect-okta.html": {Data: []byte("<!doctype html><title>Connect Okta</title>")},
			"wasm_exec.js":      {Data: []byte("// go")},
			"dialog.wasm":       {Data: []byte("\x00asm")},
		},
	}
	for _, o := range opts {
		o(&cfg)
	}
	h := New(cfg)
	mux := http.NewServeMux()
	h.Register(mux)
	// A second instance on the same store, as behind a load balancer.
	cfg2 := Config{Store: e.store, Tenants: e.tenants, Now: clock}
	for _, o := range opts {
		o(&cfg2)
	}
	h2 := New(cfg2)
	mux2 := http.NewServeMux()
	h2.Register(mux2)
	e.app = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e.second.Load() {
			mux2.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(e.app.Close)
	e.tenants.PublicURL = e.app.URL
	e.op = newTestOP(t, clock)
	e.op.redirectURI = e.tenants.RedirectURI("acme")
	ctx := context.Background()
	c, err := e.tenants.Create(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	e.created = c
	if _, err := e.tenants.Configure(ctx, "acme", tenant.SignIn{OktaDomain: e.op.srv.URL, ClientID: e.op.clientID, ClientSecret: e.op.clientSecret}); err != nil {
		t.Fatal(err)
	}
	// The sign-in check of Configure read the keys and tried the token
	// endpoint; the tests count only what sign-ins do.
	e.op.set(func(op *testOP) { clear(op.hits) })
	return e
}

// addUser stores a SCIM user in tenant acme.
func (e *env) addUser(id, userName, externalID string, active bool) {
	e.t.Helper()
	data, _ := json.Marshal(map[string]any{"id": id, "userName": userName, "externalId": externalID, "active": active, "displayName": "Display " + id})
	_, err := e.store.CreateResource(context.Background(), "acme", store.Record{
		Type: store.TypeUser, ID: id, UserName: userName, ExternalID: externalID, DisplayName: "Display " + id, Data: data,
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) setActive(id string, active bool) {
	e.t.Helper()
	_, err := e.store.UpdateResource(context.Background(), "acme", store.TypeUser, id, func(r *store.Record) error {
		var m map[string]any
		json.Unmarshal(r.Data, &m)
		m["active"] = active
		r.Data, _ = json.Marshal(m)
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// browser is a client with a cookie jar that does not follow redirects.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// result is a response with its body read.
type result struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(method, u string, hdr map[string]string, body string) result {
	b.t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, header: resp.Header, body: string(data)}
}

func (b *browser) get(u string) result { return b.do(http.MethodGet, u, nil, "") }

// cookie returns the named cookie the jar holds for u.
func (b *browser) cookie(u, name string) *http.Cookie {
	pu, _ := url.Parse(u)
	for _, c := range b.c.Jar.Cookies(pu) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// setCookieFor returns the Set-Cookie of name in r, or nil.
func setCookieFor(r result, name string) *http.Cookie {
	resp := http.Response{Header: r.header}
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// formPost returns the action and fields of a form_post page.
func formPost(t *testing.T, page string) (string, url.Values) {
	t.Helper()
	m := regexp.MustCompile(`<form method="post" action="([^"]*)">`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no form in:\n%s", page)
	}
	v := url.Values{}
	for _, f := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(page, -1) {
		v.Set(html.UnescapeString(f[1]), html.UnescapeString(f[2]))
	}
	return html.UnescapeString(m[1]), v
}

// startFormPostLogin runs /login and /authorize in form_post mode and
// returns the callback URL and the form fields Okta's page would POST.
func (e *env) startFormPostLogin(b *browser) (string, url.Values) {
	e.t.Helper()
	r := b.get(e.app.URL + "/t/acme/login")
	if r.status != http.StatusFound {
		e.t.Fatalf("/login = %d %s", r.status, r.body)
	}
	r = b.get(r.header.Get("Location"))
	if r.status != http.StatusOK {
		e.t.Fatalf("/authorize = %d %s", r.status, r.body)
	}
	return formPost(e.t, r.body)
}

// post POSTs form to u as application/x-www-form-urlencoded.
func (b *browser) post(u string, form url.Values) result {
	b.t.Helper()
	return b.do(http.MethodPost, u, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, form.Encode())
}

// startLogin runs /login and the provider's /authorize and returns the
// callback URL the provider redirected to.
func (e *env) startLogin(b *browser) string {
	e.t.Helper()
	r := b.get(e.app.URL + "/t/acme/login")
	if r.status != http.StatusFound {
		e.t.Fatalf("/login = %d %s", r.status, r.body)
	}
	r = b.get(r.header.Get("Location"))
	if r.status != http.StatusFound {
		e.t.Fatalf("/authorize = %d %s", r.status, r.body)
	}
	return r.header.Get("Location")
}
