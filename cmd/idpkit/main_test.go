package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idpkit/idpkit/mockidp"
	"github.com/idpkit/idpkit/suites/check"
)

func runCmd(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestConformInProcess(t *testing.T) {
	dir := t.TempDir()
	jsonFile, junitFile := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.xml")
	code, out, errs := runCmd(t, context.Background(), "conform", "--json", jsonFile, "--junit", junitFile)
	if code != 0 {
		t.Fatalf("conform exited %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	for i := 1; i <= 7; i++ {
		if !strings.Contains(out, "✓ "+string(rune('0'+i))+". ") {
			t.Errorf("step %d is not marked ✓:\n%s", i, out)
		}
	}
	if strings.Contains(out, "✗") || !strings.Contains(out, "7/7 steps passed") {
		t.Errorf("want every step and check to pass:\n%s", out)
	}
	var rep check.Report
	b, err := os.ReadFile(jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Summary.Failed != 0 || rep.Summary.Total < len(check.SCIM())+7 {
		t.Errorf("json report summary %+v, want every step and check passed", rep.Summary)
	}
	if x, err := os.ReadFile(junitFile); err != nil || !bytes.Contains(x, []byte("<testsuites")) {
		t.Errorf("junit report missing: %v", err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitHealthy(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s/healthz never answered 200", url)
}

// TestServeTenantConform runs the server as an operator would, creates a
// tenant while it runs, and runs the SCIM checks against it by URL.
func TestServeTenantConform(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "idpkit.db")
	addr := freeAddr(t)
	public := "http://" + addr
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var serveErr bytes.Buffer
	go func() { done <- run(ctx, []string{"serve", "--addr", addr, "--db", db}, &bytes.Buffer{}, &serveErr) }()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d: %s", code, serveErr.String())
		}
	}()
	waitHealthy(t, public)

	code, out, errs := runCmd(t, context.Background(), "tenant", "create", "acme", "--db", db, "--public-url", public)
	if code != 0 {
		t.Fatalf("tenant create exited %d: %s", code, errs)
	}
	var created struct{ Tenant, ScimBaseURL, Token, RedirectURI, AdminURL string }
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatalf("tenant create printed %q: %v", out, err)
	}
	if created.ScimBaseURL != public+"/t/acme/scim/v2" || created.RedirectURI != public+"/t/acme/oidc/callback" || created.Token == "" || !strings.HasPrefix(created.AdminURL, public+"/t/acme/admin/") {
		t.Fatalf("tenant create printed %+v", created)
	}
	if code, _, errs := runCmd(t, context.Background(), "tenant", "create", "acme", "--db", db); code != 1 || !strings.Contains(errs, "exists") {
		t.Errorf("a second create of acme: exit %d, %q; want 1 and a message saying it exists", code, errs)
	}
	if raw, err := os.ReadFile(strings.TrimPrefix(db, "sqlite:")); err == nil && bytes.Contains(raw, []byte(created.Token)) {
		t.Errorf("the SCIM token is stored in clear in the database")
	}

	code, out, _ = runCmd(t, context.Background(), "conform", "--scim-url", created.ScimBaseURL, "--token", created.Token, "--label", "okta-spec")
	if code != 0 || !strings.Contains(out, "checks passed") || strings.Contains(out, "✗") {
		t.Fatalf("conform --scim-url exited %d:\n%s", code, out)
	}
	code, out, _ = runCmd(t, context.Background(), "conform", "--scim-url", created.ScimBaseURL, "--token", "wrong", "--label", "okta-spec")
	if code != 1 || !strings.Contains(out, "✗") {
		t.Fatalf("conform with a wrong token exited %d, want 1 with failures:\n%s", code, out)
	}
}

func TestTenantConfigure(t *testing.T) {
	okta := mockidp.NewServer()
	defer okta.Close()
	db := "sqlite:" + filepath.Join(t.TempDir(), "idpkit.db")
	if code, _, errs := runCmd(t, context.Background(), "tenant", "create", "acme", "--db", db); code != 0 {
		t.Fatalf("tenant create: %s", errs)
	}
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"org server", []string{"--okta-domain", okta.URL}, 0, `"issuer": "` + okta.URL + `"`},
		{"default server", []string{"--okta-domain", okta.URL, "--auth-server", "default"}, 0, okta.URL + "/oauth2/default"},
		{"unreachable", []string{"--okta-domain", "http://127.0.0.1:1"}, 1, "127.0.0.1:1"},
		{"http off loopback", []string{"--okta-domain", "http://example.okta.com"}, 1, "loopback"},
		{"missing flags", nil, 2, "--okta-domain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"tenant", "configure", "acme", "--db", db}, tt.args...)
			if tt.args != nil {
				args = append(args, "--client-id", "0oa123", "--client-secret", "s3cret")
			}
			code, out, errs := runCmd(t, context.Background(), args...)
			if code != tt.code || !strings.Contains(out+errs, tt.contains) {
				t.Fatalf("exit %d (want %d); want output containing %q:\n%s%s", code, tt.code, tt.contains, out, errs)
			}
		})
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"nope"}, {"tenant"}, {"tenant", "create"}, {"conform", "--token", "x"}, {"serve", "--bogus"}} {
		if code, _, _ := runCmd(t, context.Background(), args...); code != 2 {
			t.Errorf("idpkit %q exited %d, want 2", args, code)
		}
	}
}
