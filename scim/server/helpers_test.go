package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/secret"
	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
)

// fixture is a running SCIM server on a temporary SQLite database with
// two tenants, acme and beta.
type fixture struct {
	srv       *httptest.Server
	server    *Server
	store     store.Store
	acmeToken string
	betaToken string
}

// newFixture starts a fixture; the test's cleanup stops it.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	return newFixtureWith(t, Config{})
}

// newFixtureWith starts a fixture whose server has cfg's options (Store,
// Logger and PublicURL are the fixture's).
func newFixtureWith(t testing.TB, cfg Config) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "scim.db"), sqlstore.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{store: st, acmeToken: secret.New(), betaToken: secret.New()}
	for name, tok := range map[string]string{"acme": f.acmeToken, "beta": f.betaToken} {
		if err := st.CreateTenant(ctx, store.Tenant{Name: name, TokenHash: secret.Hash(tok)}); err != nil {
			t.Fatalf("create tenant %s: %v", name, err)
		}
	}
	mux := http.NewServeMux()
	f.srv = httptest.NewUnstartedServer(mux)
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	cfg.Store, cfg.Logger, cfg.PublicURL = st, log, f.srv.URL
	f.server = New(cfg)
	f.server.Register(mux)
	return f
}

// base is the SCIM base URL of a tenant.
func (f *fixture) base(tenant string) string { return f.srv.URL + "/t/" + tenant + "/scim/v2" }

// reply is a decoded response.
type reply struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

// call sends a request to tenant acme with its token unless hdr says
// otherwise ("Authorization": "" sends none).
func (f *fixture) call(t *testing.T, method, path, body string, hdr map[string]string) reply {
	t.Helper()
	return f.callTenant(t, "acme", f.acmeToken, method, path, body, hdr)
}

// callTenant sends a request to tenant with token, as call does.
func (f *fixture) callTenant(t *testing.T, tenant, token, method, path, body string, hdr map[string]string) reply {
	t.Helper()
	resp, data, err := f.send(tenant, token, method, path, body, hdr)
	if err != nil {
		t.Fatal(err)
	}
	rep := reply{status: resp.StatusCode, header: resp.Header, raw: string(data)}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &rep.body); err != nil {
			t.Fatalf("%s %s: response is not a JSON object: %v\n%s", method, path, err, data)
		}
	}
	return rep
}

// rawCall is a request to acme that is safe in a goroutine: it reports
// failures as errors instead of failing the test.
func (f *fixture) rawCall(method, path, body string) (int, string, error) {
	resp, data, err := f.send("acme", f.acmeToken, method, path, body, nil)
	if err != nil {
		return 0, "", err
	}
	return resp.StatusCode, string(data), nil
}

// send makes a request with a SCIM body (when body is not empty) and
// returns the response with its body read and closed. A header in hdr
// replaces the default; an empty value removes it.
func (f *fixture) send(tenant, token, method, path, body string, hdr map[string]string) (*http.Response, []byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.base(tenant)+path, rd)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json; charset=utf-8")
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp, data, err
}

// createUser creates a user in tenant acme and returns its id.
func (f *fixture) createUser(t *testing.T, userName string) string {
	t.Helper()
	return f.createUserIn(t, "acme", f.acmeToken, userName)
}

// createUserIn creates a user in tenant and returns its id.
func (f *fixture) createUserIn(t *testing.T, tenant, token, userName string) string {
	t.Helper()
	r := f.callTenant(t, tenant, token, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+userName+`",
		"name":{"givenName":"Ann","familyName":"Example"},"emails":[{"value":"`+userName+`","type":"work","primary":true}],"active":true,"password":"S3cret!"}`, nil)
	if r.status != http.StatusCreated {
		t.Fatalf("create user %s: %d %s", userName, r.status, r.raw)
	}
	return r.body["id"].(string)
}

// errorOf returns the parts of a SCIM error body that tests compare.
func errorOf(r reply) map[string]any {
	out := map[string]any{"httpStatus": r.status}
	for _, k := range []string{"schemas", "status", "scimType"} {
		if v, ok := r.body[k]; ok {
			out[k] = v
		}
	}
	if d, _ := r.body["detail"].(string); d == "" {
		out["detail"] = "MISSING"
	}
	out["contentType"] = r.header.Get("Content-Type")
	return out
}

// scimError is what errorOf returns for a SCIM error with status and
// scimType ("" for none).
func scimError(status int, scimType string) map[string]any {
	m := map[string]any{
		"httpStatus":  status,
		"schemas":     []any{"urn:ietf:params:scim:api:messages:2.0:Error"},
		"status":      strconv.Itoa(status),
		"contentType": "application/scim+json; charset=utf-8",
	}
	if scimType != "" {
		m["scimType"] = scimType
	}
	return m
}

// asMaps is v as a list of JSON objects.
func asMaps(v any) []map[string]any {
	var out []map[string]any
	for _, e := range asList(v) {
		m, _ := e.(map[string]any)
		out = append(out, m)
	}
	return out
}

// asList is v as a JSON array, or nil.
func asList(v any) []any { l, _ := v.([]any); return l }

// str is v as a string, or "".
func str(v any) string { s, _ := v.(string); return s }

// patchBody is a PatchOp request body with the operations ops (a JSON
// array).
func patchBody(ops string) string {
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":` + ops + `}`
}

// memberIDs lists the values of the members of a group response body.
func memberIDs(body map[string]any) []string {
	var ids []string
	for _, m := range asList(body["members"]) {
		ids = append(ids, str(m.(map[string]any)["value"]))
	}
	return ids
}

// callUnchanged sends a request to acme that must not change stored
// data, and fails the test if it did.
func (f *fixture) callUnchanged(t *testing.T, method, path, body string, hdr map[string]string) reply {
	t.Helper()
	before := snapshot(t, f.store, "acme")
	r := f.call(t, method, path, body, hdr)
	if diff := cmp.Diff(before, snapshot(t, f.store, "acme")); diff != "" {
		t.Errorf("%s %s changed stored data (-before +after):\n%s", method, path, diff)
	}
	return r
}

// checkPrecondition sends a conditional write to acme and checks its
// status; a 412 must be a SCIM error and leave stored data as it was
// (RFC 7232 §3.1, §3.2).
func (f *fixture) checkPrecondition(t *testing.T, method, path, body string, hdr map[string]string, want int) {
	t.Helper()
	before := snapshot(t, f.store, "acme")
	r := f.call(t, method, path, body, hdr)
	if r.status != want {
		t.Fatalf("status = %d, want %d: %s", r.status, want, r.raw)
	}
	if want != http.StatusPreconditionFailed {
		return
	}
	if diff := cmp.Diff(scimError(412, ""), errorOf(r)); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, snapshot(t, f.store, "acme")); diff != "" {
		t.Errorf("412 changed stored data (-before +after):\n%s", diff)
	}
}

// stored is the resource of type typ and id as tenant acme's store holds
// it, password hash included.
func (f *fixture) stored(t *testing.T, typ, id string) scim.Resource {
	t.Helper()
	rec, err := f.store.GetResource(context.Background(), "acme", typ, id)
	if err != nil {
		t.Fatalf("get %s %s: %v", typ, id, err)
	}
	var res scim.Resource
	if err := json.Unmarshal(rec.Data, &res); err != nil {
		t.Fatal(err)
	}
	return res
}

// jsonUnmarshal is json.Unmarshal of a string.
func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
