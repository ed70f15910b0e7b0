package security_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/idpkit/idpkit/mockidp"
	"github.com/idpkit/idpkit/scim/app"
	"github.com/idpkit/idpkit/scim/httpx"
	"github.com/idpkit/idpkit/scim/server"
	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
	"github.com/idpkit/idpkit/scim/tenant"
)

// tenantNames are the tenants every env creates and every snapshot reads.
var tenantNames = []string{"acme", "beta", "gamma", "delta"}

// oktaLogin is the mock Okta user who signs in to acme, with oktaPassword.
const (
	oktaLogin    = "sam.secure@example.com"
	oktaPassword = "Tulip-Garden-42!"
)

// env is one app server on a real listener (the serve command's timeouts
// and middleware) over one backend, with a mock Okta for acme's sign-in.
type env struct {
	url     string
	raw     *sqlstore.Store
	counts  *countingStore
	cfg     app.Config
	srv     *http.Server
	okta    *mockidp.Server
	tenants *tenant.Service
	created map[string]tenant.Created
	users   map[string]string // tenant → its user's id
	groups  map[string]string // tenant → its group's id
	client  *http.Client      // follows no redirects
	// audit is the app's audit trail writer, on the raw store (its
	// reads, to check a summarised refusal's tenant, are not counted).
	audit *server.AuditWriter
	// secrets are every secret the suite has seen (SCIM tokens, CSRF
	// values, admin links, passwords): no audit record may hold one.
	secrets []string
}

// countingStore records the store calls made through it.
type countingStore struct {
	store.Store
	mu    sync.Mutex
	calls []string
}

func (c *countingStore) add(name string) {
	c.mu.Lock()
	c.calls = append(c.calls, name)
	c.mu.Unlock()
}

// take returns the calls recorded since the last take.
func (c *countingStore) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = nil
	return out
}

func (c *countingStore) GetTenant(ctx context.Context, name string) (store.Tenant, error) {
	c.add("GetTenant")
	return c.Store.GetTenant(ctx, name)
}

func (c *countingStore) UpdateTenant(ctx context.Context, name string, f func(*store.Tenant) error) (store.Tenant, error) {
	c.add("UpdateTenant")
	return c.Store.UpdateTenant(ctx, name, f)
}

func (c *countingStore) GetResource(ctx context.Context, tenant, typ, id string) (store.Record, error) {
	c.add("GetResource")
	return c.Store.GetResource(ctx, tenant, typ, id)
}

func (c *countingStore) ListResources(ctx context.Context, tenant, typ string, q store.Query) ([]store.Record, error) {
	c.add("ListResources")
	return c.Store.ListResources(ctx, tenant, typ, q)
}

func (c *countingStore) ScanResources(ctx context.Context, tenant, typ string, q store.Query, fn func(store.Record) error) error {
	c.add("ScanResources")
	return c.Store.ScanResources(ctx, tenant, typ, q, fn)
}

func (c *countingStore) CountResources(ctx context.Context, tenant, typ string, where *store.Cond) (int, error) {
	c.add("CountResources")
	return c.Store.CountResources(ctx, tenant, typ, where)
}

func (c *countingStore) PutToken(ctx context.Context, t store.Token) error {
	c.add("PutToken")
	return c.Store.PutToken(ctx, t)
}

func (c *countingStore) GetToken(ctx context.Context, kind, key string) (store.Token, error) {
	c.add("GetToken")
	return c.Store.GetToken(ctx, kind, key)
}

func (c *countingStore) TakeToken(ctx context.Context, kind, key string) (store.Token, error) {
	c.add("TakeToken")
	return c.Store.TakeToken(ctx, kind, key)
}

// startEnv opens dsn and starts the app server and a mock Okta on it.
func startEnv(ctx context.Context, dsn string) (*env, error) {
	st, err := sqlstore.Open(ctx, dsn, sqlstore.Options{})
	if err != nil {
		return nil, err
	}
	e := &env{raw: st, counts: &countingStore{Store: st}, created: map[string]tenant.Created{}, users: map[string]string{}, groups: map[string]string{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return e, err
	}
	e.url = "http://" + ln.Addr().String()
	client := &http.Client{Timeout: 10 * time.Second}
	e.audit = server.NewAuditWriter(st, nil)
	e.cfg = app.Config{Store: e.counts, PublicURL: e.url, HTTPClient: client, DisableMetrics: true, Audit: e.audit}
	e.srv = newServer(e.cfg)
	go e.srv.Serve(ln)
	e.client = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if e.okta, err = mockidp.New(mockidp.Config{HTTPClient: client}); err != nil {
		return e, err
	}
	e.tenants = app.Tenants(e.cfg)
	oktaUser, err := e.okta.AddUser(mockidp.SeedUser{Login: oktaLogin, FirstName: "Sam", LastName: "Secure", Password: oktaPassword})
	if err != nil {
		return e, err
	}
	for _, name := range tenantNames {
		c, err := e.tenants.Create(ctx, name)
		if err != nil {
			return e, err
		}
		e.created[name] = c
		e.secrets = append(e.secrets, c.Token, c.AdminURL)
		userName, externalID := name+".user@example.com", "ext-"+name
		if name == "acme" {
			userName, externalID = oktaLogin, oktaUser.ID
		}
		var u struct{ ID string }
		if err := e.scimJSON(name, c.Token, "POST", "/Users", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
			"userName": userName, "externalId": externalID, "active": true, "name": map[string]any{"givenName": "Sam", "familyName": name},
			"emails": []map[string]any{{"value": userName, "primary": true, "type": "work"}}}, &u); err != nil {
			return e, err
		}
		e.users[name] = u.ID
		var g struct{ ID string }
		if err := e.scimJSON(name, c.Token, "POST", "/Groups", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
			"displayName": name + " admins", "members": []map[string]any{{"value": u.ID}}}, &g); err != nil {
			return e, err
		}
		e.groups[name] = g.ID
	}
	oidcApp, err := e.okta.AddApp(mockidp.SeedApp{Label: "acme sign-in", Type: mockidp.SeedAppOIDC, RedirectURIs: []string{e.created["acme"].RedirectURI}})
	if err != nil {
		return e, err
	}
	if _, err := e.tenants.Configure(ctx, "acme", tenant.SignIn{OktaDomain: e.okta.URL,
		ClientID: oidcApp.OAuthClient.ClientID, ClientSecret: oidcApp.OAuthClient.ClientSecret}); err != nil {
		return e, err
	}
	e.counts.take()
	return e, nil
}

// newServer is the serve command's server around app.New(cfg): the same
// middleware (trusted proxies, here loopback; HSTS) and timeouts.
func newServer(cfg app.Config) *http.Server {
	proxies := httpx.TrustedProxies{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	return &http.Server{
		Handler:           proxies.Handler(httpx.HSTS(app.New(cfg))),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    2 * server.MaxFilterLength, // as idpkit serve
	}
}

func (e *env) close() {
	if e.okta != nil {
		e.okta.Close()
	}
	if e.srv != nil {
		e.srv.Close()
	}
	e.audit.Close()
	if e.raw != nil {
		e.raw.Close()
	}
}

// token is a tenant's current SCIM token.
func (e *env) token(name string) string { return e.created[name].Token }

// scimJSON sends a SCIM request that must succeed and decodes its answer.
func (e *env) scimJSON(tenantName, token, method, path string, body, out any) error {
	resp, data := e.scim(tenantName, token, method, path, body, nil)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// scim sends a request to tenantName's SCIM base + path (path is sent as
// is, without cleaning or escaping) with token.
func (e *env) scim(tenantName, token, method, path string, body any, hdr http.Header) (*http.Response, []byte) {
	return e.do(method, "/t/"+tenantName+"/scim/v2"+path, token, body, hdr)
}

// do sends a request whose request-target is exactly rawPath.
func (e *env) do(method, rawPath, token string, body any, hdr http.Header) (*http.Response, []byte) {
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	case string:
		r = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			panic(err)
		}
		r = bytes.NewReader(data)
	}
	u, _ := url.Parse(e.url)
	req, err := http.NewRequest(method, e.url, r)
	if err != nil {
		panic(err)
	}
	req.URL = &url.URL{Scheme: u.Scheme, Host: u.Host, Opaque: rawPath}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	resp, err := e.client.Do(req)
	if err != nil {
		panic(fmt.Sprintf("%s %s: %v", method, rawPath, err))
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return resp, data
}

// snapshot is everything the store holds about the tenants: the tenant
// rows, users, groups and members.
type snapshot struct {
	Tenants map[string]store.Tenant
	Users   map[string][]store.Record
	Groups  map[string][]store.Record
	Members map[string][]store.Member // tenant/group → members
}

// snap reads a snapshot through the store (not through the counting
// wrapper).
func (e *env) snap() snapshot {
	ctx := context.Background()
	s := snapshot{Tenants: map[string]store.Tenant{}, Users: map[string][]store.Record{}, Groups: map[string][]store.Record{}, Members: map[string][]store.Member{}}
	for _, name := range tenantNames {
		t, err := e.raw.GetTenant(ctx, name)
		must(err)
		s.Tenants[name] = t
		us, err := e.raw.ListResources(ctx, name, store.TypeUser, store.Query{})
		must(err)
		s.Users[name] = us
		gs, err := e.raw.ListResources(ctx, name, store.TypeGroup, store.Query{})
		must(err)
		s.Groups[name] = gs
		for _, g := range gs {
			ms, err := e.raw.ListMembers(ctx, name, g.ID, nil)
			must(err)
			s.Members[name+"/"+g.ID] = ms
		}
	}
	return s
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// newJar returns a client with a cookie jar that follows redirects.
func newJar() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

// auditOf returns tenant's audit records at or after since, once the
// audit writer has written what it holds (Flush: queued records and the
// counts of summarised refusals).
func (e *env) auditOf(tenant string, since time.Time) []store.AuditRecord {
	e.audit.Flush()
	recs, err := e.raw.ListAudit(context.Background(), tenant, since, 0)
	must(err)
	return recs
}

// auditEntry is an audit record as the suite compares it: what it did,
// to what, with what outcome and reason (no time, actor or source).
type auditEntry struct{ Kind, Action, Target, Outcome, Reason string }

// tally counts recs by auditEntry; a summarised record (one with a
// "count" in its detail) counts for the refusals it stands for.
func tally(recs []store.AuditRecord) map[auditEntry]int {
	out := map[auditEntry]int{}
	for _, r := range recs {
		var d struct {
			Reason string
			Count  int
		}
		if len(r.Detail) > 0 && r.Detail[0] == '{' {
			must(json.Unmarshal(r.Detail, &d))
		}
		n := max(d.Count, 1)
		out[auditEntry{r.Kind, r.Action, r.Target, r.Outcome, d.Reason}] += n
	}
	return out
}
