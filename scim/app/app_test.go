package app_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idpkit/idpkit/scim/app"
	"github.com/idpkit/idpkit/scim/app/apptest"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
)

// TestRoutes checks that New wires every part of the app server.
func TestRoutes(t *testing.T) {
	srv := apptest.Start(t, nil)
	cfg := srv.Config
	created, err := app.Tenants(cfg).Create(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, token string
		status            int
		contentType       string
	}{
		{"health", "/healthz", "", 200, "text/plain"},
		{"scim with token", "/t/acme/scim/v2/Users", created.Token, 200, "application/scim+json"},
		{"scim without token", "/t/acme/scim/v2/Users", "", 401, "application/scim+json"},
		{"me without session", "/t/acme/me", "", 401, "text/html"},
		{"dialog without admin session", "/t/acme/admin/connect-okta", "", 401, "text/html"},
		{"dialog asset", "/t/acme/admin/assets/wasm_exec.js", "", 200, "javascript"},
		{"dialog wasm", "/t/acme/admin/assets/dialog.wasm", "", 200, "application/wasm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+tt.path, nil)
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || !strings.Contains(resp.Header.Get("Content-Type"), tt.contentType) {
				t.Errorf("GET %s = %d %q, want %d %q", tt.path, resp.StatusCode, resp.Header.Get("Content-Type"), tt.status, tt.contentType)
			}
		})
	}
}

func TestAccessLogOmitsQuery(t *testing.T) {
	st, err := sqlstore.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "x.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var logs bytes.Buffer
	srv := httptest.NewServer(app.New(app.Config{Store: st, PublicURL: "http://x", Logger: slog.New(slog.NewTextHandler(&logs, nil))}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/t/acme/admin/login?token=one-time-secret")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got := logs.String()
	if !strings.Contains(got, "path=/t/acme/admin/login") || !strings.Contains(got, "status=404") {
		t.Errorf("access log %q lacks the path or status", got)
	}
	if strings.Contains(got, "one-time-secret") {
		t.Errorf("access log leaks the query: %q", got)
	}
}

// TestRotatedTokenStopsAtOnce checks, over HTTP, that rotating a tenant's
// SCIM secret (the dialog's "Generate new secret") makes the old token 401
// on the very next request and the new one work, and that neither opens
// another tenant.
func TestRotatedTokenStopsAtOnce(t *testing.T) {
	srv := apptest.Start(t, nil)
	cfg := srv.Config
	tenants := app.Tenants(cfg)
	acme, err := tenants.Create(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tenants.Create(context.Background(), "beta"); err != nil {
		t.Fatal(err)
	}
	status := func(tenant, token string) int {
		req, _ := http.NewRequest("GET", srv.URL+"/t/"+tenant+"/scim/v2/Users?startIndex=1&count=1", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status("acme", acme.Token); got != 200 {
		t.Fatalf("before rotation: %d, want 200", got)
	}
	fresh, err := tenants.RotateToken(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{"old on acme": status("acme", acme.Token), "new on acme": status("acme", fresh), "new on beta": status("beta", fresh)}
	want := map[string]int{"old on acme": 401, "new on acme": 200, "new on beta": 401}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %d, want %d", k, got[k], w)
		}
	}
}
