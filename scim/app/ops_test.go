package app_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/app"
	"github.com/idpkit/idpkit/scim/app/apptest"
	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
)

// get sends one request and returns its status, Content-Type and body.
func get(t *testing.T, method, url, token string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
}

// TestMetrics: after a few SCIM requests /metrics, in Prometheus text
// format, counts them by the ServeMux pattern (never the tenant's name or
// a resource id) and shows the store's latency.
func TestMetrics(t *testing.T) {
	srv := apptest.Start(t, nil)
	cfg := srv.Config
	created, err := app.Tenants(cfg).Create(context.Background(), "acme-secret-name")
	if err != nil {
		t.Fatal(err)
	}
	base := srv.URL + "/t/acme-secret-name/scim/v2"
	for _, r := range []struct{ method, path, token string }{
		{"GET", "/Users", created.Token},
		{"GET", "/Users", created.Token},
		{"GET", "/Users/id-4711", created.Token},
		{"GET", "/Users", ""},
		{"BREW", "/Users", created.Token},
	} {
		get(t, r.method, base+r.path, r.token)
	}
	get(t, "GET", srv.URL+"/no/such/page", "")

	status, ctype, body := get(t, "GET", srv.URL+"/metrics", "")
	if status != 200 || !strings.HasPrefix(ctype, "text/plain; version=0.0.4") {
		t.Fatalf("GET /metrics = %d %q, want 200 text/plain; version=0.0.4", status, ctype)
	}
	tests := []struct {
		name, line string
		want       bool
	}{
		{"listed users", `idpkit_http_requests_total{code="200",method="GET",route="GET /t/{tenant}/scim/v2/Users"} 2`, true},
		{"refused token", `idpkit_http_requests_total{code="401",method="GET",route="GET /t/{tenant}/scim/v2/Users"} 1`, true},
		{"missing user", `idpkit_http_requests_total{code="404",method="GET",route="GET /t/{tenant}/scim/v2/Users/{id}"} 1`, true},
		{"unknown method", `method="OTHER"`, true},
		{"unmatched path", `idpkit_http_requests_total{code="404",method="GET",route="unmatched"} 1`, true},
		{"latency histogram", `idpkit_http_request_duration_seconds_count{code="200",method="GET",route="GET /t/{tenant}/scim/v2/Users"} 2`, true},
		{"store latency", `idpkit_store_operation_duration_seconds_count{method="GetTenant",outcome="ok"}`, true},
		{"store latency of lists", `idpkit_store_operation_duration_seconds_bucket{method="ListResources",outcome="ok",le="0.005"}`, true},
		{"go collector", "go_goroutines ", true},
		{"process collector", "process_start_time_seconds ", true},
		{"no tenant name", "acme-secret-name", false},
		{"no resource id", "id-4711", false},
		{"no raw path", "/no/such/page", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := strings.Contains(body, tt.line); got != tt.want {
				t.Errorf("/metrics contains %q: %v, want %v\n%s", tt.line, got, tt.want, grepIdpkit(body))
			}
		})
	}
}

// grepIdpkit returns the idpkit_ lines of a metrics page, for messages.
func grepIdpkit(body string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "idpkit_") && !strings.Contains(l, "_bucket") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestMetricsPerApp: two apps in one process keep separate registries, and
// DisableMetrics leaves /metrics out.
func TestMetricsPerApp(t *testing.T) {
	st, err := sqlstore.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "x.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	one := httptest.NewServer(app.New(app.Config{Store: st, PublicURL: "http://one"}))
	defer one.Close()
	two := httptest.NewServer(app.New(app.Config{Store: st, PublicURL: "http://two"}))
	defer two.Close()
	off := httptest.NewServer(app.New(app.Config{Store: st, PublicURL: "http://off", DisableMetrics: true}))
	defer off.Close()
	for range 3 {
		get(t, "GET", one.URL+"/healthz", "")
	}
	get(t, "GET", two.URL+"/healthz", "")
	healthz := func(body string) string {
		for _, l := range strings.Split(body, "\n") {
			if strings.HasPrefix(l, `idpkit_http_requests_total{code="200",method="GET",route="GET /healthz"}`) {
				return l[strings.LastIndex(l, " ")+1:]
			}
		}
		return "absent"
	}
	_, _, oneBody := get(t, "GET", one.URL+"/metrics", "")
	_, _, twoBody := get(t, "GET", two.URL+"/metrics", "")
	offStatus, _, _ := get(t, "GET", off.URL+"/metrics", "")
	got := []string{healthz(oneBody), healthz(twoBody), http.StatusText(offStatus)}
	want := []string{"3", "1", "Not Found"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("/healthz counts of app one, app two; /metrics with DisableMetrics (-want +got):\n%s", diff)
	}
}

// noPing hides the store's Ping method, so /readyz falls back to a read.
type noPing struct{ store.Store }

// TestReadyz: /readyz is 200 while the database answers and 503 with a
// reason once the store is closed, whether the store has Ping or not;
// /healthz (liveness) stays 200.
func TestReadyz(t *testing.T) {
	for _, wrap := range []struct {
		name string
		fn   func(store.Store) store.Store
	}{
		{"ping", func(s store.Store) store.Store { return s }},
		{"no ping", func(s store.Store) store.Store { return noPing{s} }},
	} {
		t.Run(wrap.name, func(t *testing.T) {
			st, err := sqlstore.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "x.db"), sqlstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			srv := httptest.NewServer(app.New(app.Config{Store: wrap.fn(st), PublicURL: "http://x"}))
			defer srv.Close()
			tests := []struct {
				name   string
				before func()
				path   string
				want   []any
			}{
				{"live store", func() {}, "/readyz", []any{200, "text/plain; charset=utf-8", "ready\n"}},
				{"closed store", func() { st.Close() }, "/readyz", []any{503, "text/plain; charset=utf-8", "not ready: the database does not answer\n"}},
				{"liveness after close", func() {}, "/healthz", []any{200, "text/plain; charset=utf-8", "ok\n"}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					tt.before()
					status, ctype, body := get(t, "GET", srv.URL+tt.path, "")
					if diff := cmp.Diff(tt.want, []any{status, ctype, body}); diff != "" {
						t.Errorf("GET %s (-want +got):\n%s", tt.path, diff)
					}
				})
			}
		})
	}
}
