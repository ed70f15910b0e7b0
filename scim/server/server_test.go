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
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/secret"
	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
	"github.com/idpkit/idpkit/suites/check/casefile"
)

// fixture is a running SCIM server on a temporary SQLite database with
// two tenants, acme and beta.
type fixture struct {
	srv       *httptest.Server
	store     store.Store
	acmeToken string
	betaToken string
}

func newFixture(t testing.TB) *fixture {
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
	New(Config{Store: st, Logger: log, PublicURL: f.srv.URL}).Register(mux)
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

func (f *fixture) callTenant(t *testing.T, tenant, token, method, path, body string, hdr map[string]string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.base(tenant)+path, rd)
	if err != nil {
		t.Fatal(err)
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
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
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

// createUser creates a user in tenant acme and returns its id.
func (f *fixture) createUser(t *testing.T, userName string) string {
	t.Helper()
	return f.createUserIn(t, "acme", f.acmeToken, userName)
}

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

// TestCases runs every case file of testdata/cases/scim against the server.
func TestCases(t *testing.T) {
	cases, err := casefile.Load(os.DirFS("../../testdata/cases/scim"), ".")
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	for _, c := range cases {
		t.Run(c.ID, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := c.Run(ctx, f.base("acme"), f.acmeToken, f.srv.Client()); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestAuth(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		tenant string
		auth   string
		path   string
	}{
		{"missing token", "acme", "", "/Users"},
		{"wrong token", "acme", "Bearer nope", "/Users"},
		{"not bearer", "acme", "non-token", "/Users"},
		{"basic scheme", "acme", "Basic " + "YTpi", "/Users"},
		{"empty bearer", "acme", "Bearer ", "/Users"},
		{"other tenant's token", "acme", "Bearer " + f.betaToken, "/Users"},
		{"unknown tenant", "nobody", "Bearer " + f.acmeToken, "/Users"},
		{"discovery needs the token", "acme", "", "/ServiceProviderConfig"},
		{"unknown path still 401", "acme", "", "/Nope"},
		{"unknown id still 401", "acme", "Bearer x", "/Users/123"},
	}
	var first string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.callTenant(t, tt.tenant, "", "GET", tt.path, "", map[string]string{"Authorization": tt.auth})
			got := map[string]any{"error": errorOf(r), "challenge": r.header.Get("WWW-Authenticate")}
			want := map[string]any{"error": scimError(401, ""), "challenge": `Bearer realm="idpkit"`}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			if first == "" {
				first = r.raw
			} else if r.raw != first {
				t.Errorf("401 body differs between cases:\n%s\n%s", first, r.raw)
			}
		})
	}
	t.Run("right token", func(t *testing.T) {
		r := f.callTenant(t, "beta", f.betaToken, "GET", "/Users", "", map[string]string{"Authorization": "bearer " + f.betaToken})
		if r.status != http.StatusOK {
			t.Errorf("status = %d, want 200: %s", r.status, r.raw)
		}
	})
}

func TestErrors(t *testing.T) {
	f := newFixture(t)
	id := f.createUser(t, "err@example.com")
	big := `{"userName":"` + strings.Repeat("a", MaxBody) + `"}`
	tests := []struct {
		name      string
		method    string
		path      string
		body      string
		hdr       map[string]string
		want      map[string]any
		wantAllow string
	}{
		{name: "unknown endpoint", method: "GET", path: "/Nope", want: scimError(404, "")},
		{name: "service root", method: "GET", path: "/", want: scimError(404, "")},
		{name: "service root without slash", method: "GET", path: "", want: scimError(404, "")},
		{name: "trailing slash", method: "GET", path: "/Users/", want: scimError(404, "")},
		{name: "too deep", method: "GET", path: "/Users/" + id + "/x", want: scimError(404, "")},
		{name: "unknown id", method: "GET", path: "/Users/does-not-exist", want: scimError(404, "")},
		{name: "unknown group", method: "GET", path: "/Groups/does-not-exist", want: scimError(404, "")},
		{name: "unknown resource type", method: "GET", path: "/ResourceTypes/Device", want: scimError(404, "")},
		{name: "unknown schema", method: "GET", path: "/Schemas/urn:x", want: scimError(404, "")},
		{name: "DELETE on collection", method: "DELETE", path: "/Users", want: scimError(405, ""), wantAllow: "GET, POST"},
		{name: "POST on resource", method: "POST", path: "/Users/" + id, body: `{}`, want: scimError(405, ""), wantAllow: "GET, PUT, PATCH, DELETE"},
		{name: "POST on discovery", method: "POST", path: "/ServiceProviderConfig", body: `{}`, want: scimError(405, ""), wantAllow: "GET"},
		{name: "bad JSON", method: "POST", path: "/Users", body: `{"userName":`, want: scimError(400, "invalidSyntax")},
		{name: "JSON array", method: "POST", path: "/Users", body: `[1]`, want: scimError(400, "invalidSyntax")},
		{name: "JSON null", method: "POST", path: "/Users", body: `null`, want: scimError(400, "invalidSyntax")},
		{name: "trailing garbage", method: "POST", path: "/Users", body: `{"userName":"a"} x`, want: scimError(400, "invalidSyntax")},
		{name: "empty body", method: "POST", path: "/Users", want: scimError(400, "invalidSyntax")},
		{name: "form body", method: "POST", path: "/Users", body: `userName=a`, hdr: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, want: scimError(415, "")},
		{name: "body over 1 MiB", method: "POST", path: "/Users", body: big, want: scimError(413, "")},
		{name: "PUT body over 1 MiB", method: "PUT", path: "/Users/" + id, body: big, want: scimError(413, "")},
		{name: "missing userName", method: "POST", path: "/Users", body: `{"name":{"givenName":"x"}}`, want: scimError(400, "invalidValue")},
		{name: "wrong type", method: "POST", path: "/Users", body: `{"userName":5}`, want: scimError(400, "invalidValue")},
		{name: "PATCH bad JSON", method: "PATCH", path: "/Users/" + id, body: `{"Operations":`, want: scimError(400, "invalidSyntax")},
		{name: "PATCH Operations not a list", method: "PATCH", path: "/Users/" + id, body: `{"Operations":{}}`, want: scimError(400, "invalidSyntax")},
		{name: "PATCH no operations", method: "PATCH", path: "/Users/" + id, body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[]}`, want: scimError(400, "invalidSyntax")},
		{name: "PATCH unknown id", method: "PATCH", path: "/Users/nope", body: `{"Operations":[{"op":"replace","value":{"active":false}}]}`, want: scimError(404, "")},
		{name: "PUT unknown id", method: "PUT", path: "/Users/nope", body: `{"userName":"x"}`, want: scimError(404, "")},
		{name: "DELETE unknown id", method: "DELETE", path: "/Users/nope", want: scimError(404, "")},
		{name: "unknown filter attribute", method: "GET", path: "/Users?filter=shoeSize%20eq%2042", want: scimError(400, "invalidFilter")},
		{name: "unparsable filter", method: "GET", path: "/Users?filter=userName%20eq", want: scimError(400, "invalidFilter")},
		{name: "filter unknown operator", method: "GET", path: "/Users?filter=userName%20zz%20%22a%22", want: scimError(400, "invalidFilter")},
		{name: "non-numeric count", method: "GET", path: "/Users?count=ten", want: scimError(400, "invalidValue")},
		{name: "non-numeric startIndex", method: "GET", path: "/Users?startIndex=1.5", want: scimError(400, "invalidValue")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.call(t, tt.method, tt.path, tt.body, tt.hdr)
			if diff := cmp.Diff(tt.want, errorOf(r)); diff != "" {
				t.Errorf("%s %s mismatch (-want +got):\n%s\n%s", tt.method, tt.path, diff, r.raw)
			}
			if diff := cmp.Diff(tt.wantAllow, r.header.Get("Allow")); diff != "" {
				t.Errorf("Allow mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestContentTypes(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name        string
		contentType string
	}{
		{"scim+json", "application/scim+json"},
		{"scim+json with charset", "application/scim+json; charset=utf-8"},
		{"json", "application/json"},
		{"json with charset", "application/json; charset=UTF-8"},
		{"missing", ""},
		{"upper case", "Application/SCIM+JSON; Charset=UTF-8"},
		{"extra parameter", "application/json; charset=utf-8; profile=x"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user := "ct" + strconv.Itoa(i) + "@example.com"
			r := f.call(t, "POST", "/Users", `{"userName":"`+user+`"}`, map[string]string{"Content-Type": tt.contentType})
			got := []any{r.status, r.header.Get("Content-Type"), r.body["userName"]}
			want := []any{201, "application/scim+json; charset=utf-8", user}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%s", diff, r.raw)
			}
		})
	}
}

func TestDiscovery(t *testing.T) {
	f := newFixture(t)
	t.Run("ServiceProviderConfig", func(t *testing.T) {
		r := f.call(t, "GET", "/ServiceProviderConfig", "", nil)
		got := map[string]any{"status": r.status, "patch": r.body["patch"], "bulk": r.body["bulk"],
			"filter": r.body["filter"], "etag": r.body["etag"], "sort": r.body["sort"], "changePassword": r.body["changePassword"],
			"auth": r.body["authenticationSchemes"].([]any)[0].(map[string]any)["type"]}
		want := map[string]any{"status": 200, "patch": map[string]any{"supported": true},
			"bulk":   map[string]any{"supported": true, "maxOperations": float64(MaxBulkOperations), "maxPayloadSize": float64(MaxBulkPayload)},
			"filter": map[string]any{"supported": true, "maxResults": float64(MaxCount)}, "etag": map[string]any{"supported": true},
			"sort": map[string]any{"supported": true}, "changePassword": map[string]any{"supported": true}, "auth": "oauthbearertoken"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	})
	for _, tt := range []struct {
		path string
		ids  []any
	}{
		{"/ResourceTypes", []any{"User", "Group"}},
		{"/Schemas", []any{"urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "urn:ietf:params:scim:schemas:core:2.0:Group"}},
	} {
		t.Run(tt.path, func(t *testing.T) {
			r := f.call(t, "GET", tt.path, "", nil)
			var ids []any
			for _, res := range r.body["Resources"].([]any) {
				ids = append(ids, res.(map[string]any)["id"])
			}
			got := []any{r.status, r.body["totalResults"], ids}
			want := []any{200, float64(len(tt.ids)), tt.ids}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			one := f.call(t, "GET", tt.path+"/"+tt.ids[0].(string), "", nil)
			if diff := cmp.Diff([]any{200, tt.ids[0]}, []any{one.status, one.body["id"]}); diff != "" {
				t.Errorf("single mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
