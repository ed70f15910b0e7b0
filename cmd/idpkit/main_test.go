package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/mockidp"
	"github.com/idpkit/idpkit/mockidp/directory"
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
	// Each result carries "status" beside passed and skipped.
	var raw struct{ Results []map[string]any }
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	statuses := map[any]int{}
	for _, r := range raw.Results {
		statuses[r["status"]]++
		if want := map[bool]string{true: "passed", false: "failed"}[r["passed"] == true]; r["skipped"] == true && r["status"] != "skipped" || r["skipped"] != true && r["status"] != want {
			t.Errorf("result %v: status %v does not agree with passed and skipped", r["id"], r["status"])
		}
	}
	if statuses["passed"] == 0 || len(statuses) != 1 && statuses["skipped"] == 0 {
		t.Errorf("json report statuses %v, want every result passed (or skipped)", statuses)
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
	// The checks delete what they created: the tenant is empty again.
	req, _ := http.NewRequest("GET", created.ScimBaseURL+"/Users?count=0", nil)
	req.Header.Set("Authorization", "Bearer "+created.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var list struct{ TotalResults int }
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if list.TotalResults != 0 {
		t.Errorf("conform left %d users on the target, want 0", list.TotalResults)
	}
	code, out, errs = runCmd(t, context.Background(), "conform", "--scim-url", created.ScimBaseURL, "--token", "wrong", "--label", "okta-spec")
	// A refused token is said once, before any check runs.
	if code != 1 || strings.Contains(out, "✗") || strings.Contains(out, "✓") || strings.Count(errs, "the server refused the token: GET /Users?startIndex=1&count=1 answered 401") != 1 {
		t.Fatalf("conform with a wrong token exited %d, want 1 with one line saying the token was refused and no check run\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
}

func TestTenantConfigure(t *testing.T) {
	okta := mockidp.NewServer()
	defer okta.Close()
	db := "sqlite:" + filepath.Join(t.TempDir(), "idpkit.db")
	if code, _, errs := runCmd(t, context.Background(), "tenant", "create", "acme", "--db", db); code != 0 {
		t.Fatalf("tenant create: %s", errs)
	}
	oidcApp, err := okta.Directory().CreateApp(directory.App{Label: "sign-in", OAuthClient: &directory.OAuthClient{
		RedirectURIs: []string{"http://127.0.0.1:8080/t/acme/oidc/callback"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	secret := oidcApp.OAuthClient.ClientSecret
	tests := []struct {
		name     string
		args     []string
		secret   string
		code     int
		contains string
	}{
		{"org server", []string{"--okta-domain", okta.URL}, secret, 0, `"issuer": "` + okta.URL + `"`},
		{"steps on stderr", []string{"--okta-domain", okta.URL}, secret, 0, "✓ Signing keys: "},
		{"default server", []string{"--okta-domain", okta.URL, "--auth-server", "default"}, secret, 0, okta.URL + "/oauth2/default"},
		{"wrong secret", []string{"--okta-domain", okta.URL}, "wrong", 1, "✗ Client credentials: Okta refused the Client ID or Client secret (invalid_client)"},
		{"default server's issuer as the domain", []string{"--okta-domain", okta.URL + "/oauth2/default"}, secret, 0, "(the /oauth2/default path was moved to Authorization server)"},
		{"https to the mock", []string{"--okta-domain", strings.Replace(okta.URL, "http://", "https://", 1)}, secret, 1,
			"✗ Discovery document: " + strings.Replace(okta.URL, "http://", "https://", 1) + " speaks http, not https; if this is a local mock Okta, enter its address with http://\n"},
		{"unreachable", []string{"--okta-domain", "http://127.0.0.1:1"}, secret, 1, "127.0.0.1:1"},
		{"http off loopback", []string{"--okta-domain", "http://example.okta.com"}, secret, 1, "loopback"},
		{"missing flags", nil, secret, 2, "--okta-domain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"tenant", "configure", "acme", "--db", db}, tt.args...)
			if tt.args != nil {
				args = append(args, "--client-id", oidcApp.OAuthClient.ClientID, "--client-secret", tt.secret)
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

func TestConformFlags(t *testing.T) {
	// Enough of a SCIM server to pass conform's first request, and 404
	// for everything else.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/Users" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/scim+json")
		w.Write([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[]}`))
	}))
	defer srv.Close()
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/scim+json")
		w.WriteHeader(403)
		w.Write([]byte(`{"detail":"token revoked"}`))
	}))
	defer refusing.Close()
	notSCIM := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<html>login</html>`))
	}))
	defer notSCIM.Close()
	dir := t.TempDir()
	tests := []struct {
		name      string
		args      []string
		code      int
		stdout    string // a substring stdout must contain
		stderr    string // a substring stderr must contain
		notStdout string // a substring stdout must not contain
	}{
		{"unknown label", []string{"--label", "okta-spec,nope"}, 2, "", `unknown label "nope" in --label; the labels are bulk, entra, etag, filter, media, okta, okta-spec, paging, patch, rfc7643, rfc7644, schema, strict, tenant, writes`, "checks"},
		{"unknown skip id", []string{"--skip", "okta-spec-99"}, 2, "", `unknown check "okta-spec-99" in --skip`, "checks"},
		{"empty selection", []string{"--label", "tenant", "--skip", "tenant-token-isolation,tenant-data-isolation"}, 2, "", "leave no check to run", "checks"},
		{"list", []string{"--list", "--label", "okta-spec"}, 0, "okta-spec-11-wrong-token", "", "rfc-paging"},
		{"scim url not a url", []string{"--scim-url", "app.example.com/scim/v2", "--token", "x"}, 2, "", `--scim-url "app.example.com/scim/v2" is not an http:// or https:// URL`, "checks"},
		{"report path checked first", []string{"--scim-url", srv.URL, "--token", "x", "--json", filepath.Join(dir, "no", "such", "r.json")}, 1, "", "conform: --json: open", "checks"},
		{"token without url", []string{"--token", "x"}, 2, "", "--token needs --scim-url", "checks"},
		{"every check skipped is not a pass", []string{"--scim-url", srv.URL, "--token", "x", "--label", "tenant"}, 1, "Nothing was checked: every selected check was skipped (needs a second tenant",
			"conform: nothing was checked: all 2 selected checks were skipped", "✓"},
		{"strict checks left out against a foreign server", []string{"--list", "--scim-url", srv.URL, "--token", "x"}, 0, "okta-spec-01-list-users", "", "media-json-depth"},
		{"--strict adds them", []string{"--list", "--scim-url", srv.URL, "--token", "x", "--strict"}, 0, "media-json-depth", "", ""},
		{"--label strict selects only them", []string{"--list", "--scim-url", srv.URL, "--token", "x", "--label", "strict"}, 0, "paging-count-invalid", "", "okta-spec-01-list-users"},
		{"the in-process run has them", []string{"--list"}, 0, "schema-canonical-strict", "", ""},
		{"a refused token is said once", []string{"--scim-url", refusing.URL, "--token", "x"}, 1, "", `idpkit: conform: the server refused the token: GET /Users?startIndex=1&count=1 answered 403 application/scim+json {"detail":"token revoked"}; no check was run`, "✗"},
		{"a page that is not SCIM is said once", []string{"--scim-url", notSCIM.URL, "--token", "x"}, 1, "", "answered 200 text/html <html>login</html>, not a SCIM ListResponse", "✗"},
		{"an unreachable server is said once", []string{"--scim-url", "http://" + freeAddr(t) + "/scim/v2", "--token", "x"}, 1, "", "could not reach the SCIM server at http://", "✗"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCmd(t, context.Background(), append([]string{"conform"}, tt.args...)...)
			if code != tt.code || !strings.Contains(out, tt.stdout) || !strings.Contains(errs, tt.stderr) || (tt.notStdout != "" && strings.Contains(out, tt.notStdout)) {
				t.Fatalf("exit %d (want %d)\nstdout (want %q, not %q):\n%s\nstderr (want %q):\n%s", code, tt.code, tt.stdout, tt.notStdout, out, tt.stderr, errs)
			}
		})
	}
}

// TestConformInterrupted: checks that fail because the run was interrupted
// are reported as an interruption (exit 130), not as the target's failures.
func TestConformInterrupted(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code, _, errs := runCmd(t, ctx, "conform", "--scim-url", srv.URL, "--token", "x", "--label", "okta-spec")
	if code != 130 || !strings.Contains(errs, "interrupted") {
		t.Fatalf("exit %d, stderr %q; want 130 and a message saying the run was interrupted", code, errs)
	}
}

func TestFlagErrorPrintedOnce(t *testing.T) {
	code, _, errs := runCmd(t, context.Background(), "tenant", "create", "--db")
	if diff := cmp.Diff([]any{2, 1}, []any{code, strings.Count(errs, "flag needs an argument: -db")}); diff != "" {
		t.Fatalf("exit code and count of the flag error (-want +got):\n%s\nstderr:\n%s", diff, errs)
	}
}

func TestPublicURL(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "idpkit.db")
	tests := []struct {
		name    string
		args    []string
		code    int
		stderr  string // a substring stderr must contain ("" means stderr is empty)
		scimURL string // the scimBaseUrl printed, when code is 0
	}{
		{"serve: not a url", []string{"serve", "--public-url", "app.example.com"}, 2, `--public-url "app.example.com" is not an http:// or https:// URL`, ""},
		{"serve: query", []string{"serve", "--public-url", "https://app.example.com/?x=1"}, 2, "must not carry a query", ""},
		{"serve: negative grace", []string{"serve", "--grace", "-1s"}, 2, "--grace must not be negative", ""},
		{"create: ftp", []string{"tenant", "create", "t1", "--db", db, "--public-url", "ftp://app.example.com"}, 2, `--public-url "ftp://app.example.com"`, ""},
		{"create: default says so", []string{"tenant", "create", "t2", "--db", db}, 0, "the URLs below use http://127.0.0.1:8080", "http://127.0.0.1:8080/t/t2/scim/v2"},
		{"create: trailing slash", []string{"tenant", "create", "t3", "--db", db, "--public-url", "https://app.example.com/"}, 0, "", "https://app.example.com/t/t3/scim/v2"},
		{"admin-link: not a url", []string{"tenant", "admin-link", "t3", "--db", db, "--public-url", "x"}, 2, `--public-url "x"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("IDPKIT_PUBLIC_URL", "")
			code, out, errs := runCmd(t, context.Background(), tt.args...)
			if code != tt.code || (tt.stderr == "" && errs != "") || !strings.Contains(errs, tt.stderr) {
				t.Fatalf("exit %d (want %d); stderr %q, want it to contain %q", code, tt.code, errs, tt.stderr)
			}
			if tt.scimURL != "" {
				var c struct{ ScimBaseURL string }
				if err := json.Unmarshal([]byte(out), &c); err != nil {
					t.Fatalf("stdout %q: %v", out, err)
				}
				if diff := cmp.Diff(tt.scimURL, c.ScimBaseURL); diff != "" {
					t.Errorf("scimBaseUrl (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestServeGrace: on SIGINT a request that outlives --grace is cut off and
// serve still stops cleanly, with exit 0 and a log line saying so.
func TestServeGrace(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "idpkit.db")
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	var serveErr syncBuffer
	go func() {
		done <- run(ctx, []string{"serve", "--addr", addr, "--db", db, "--grace", "200ms"}, io.Discard, &serveErr)
	}()
	waitHealthy(t, "http://"+addr)
	// A client that sends half a body and then waits keeps a request running.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "POST /t/acme/scim/v2/Users HTTP/1.1\r\nHost: x\r\nContent-Type: application/scim+json\r\nContent-Length: 100\r\n\r\n{\"userName\"")
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case code := <-done:
		if code != 0 || !strings.Contains(serveErr.String(), "cut off") {
			t.Fatalf("serve exited %d; want 0 and a log line about the cut-off request:\n%s", code, serveErr.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("serve did not stop within 5s of the signal with --grace 200ms:\n%s", serveErr.String())
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRedactDSN(t *testing.T) {
	tests := []struct{ in, want string }{
		{"sqlite:idpkit.db", "sqlite:idpkit.db"},
		{"sqlite:/tmp/100%.db", "sqlite:/tmp/100%.db"},
		{"postgres://idpkit@db:5432/idpkit", "postgres://idpkit@db:5432/idpkit"},
		{"postgres://idpkit:s3cret@db:5432/idpkit?sslmode=require", "postgres://idpkit:***@db:5432/idpkit?sslmode=require"},
		{"postgres://idpkit:p%40ss@db/idpkit", "postgres://idpkit:***@db/idpkit"},
		{"postgres://idpkit:p@ss@db/idpkit", "postgres://idpkit:***@db/idpkit"},
		{"postgres://idpkit:%zz@db/idpkit", "postgres:…"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, redactDSN(tt.in)); diff != "" {
				t.Errorf("redactDSN(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// TestTenantConfigureOnce: a failed sign-in check is said once, by its ✗
// line, not again as an error.
func TestTenantConfigureOnce(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "idpkit.db")
	if code, _, errs := runCmd(t, context.Background(), "tenant", "create", "acme", "--db", db); code != 0 {
		t.Fatalf("tenant create: %s", errs)
	}
	code, out, errs := runCmd(t, context.Background(), "tenant", "configure", "acme", "--db", db, "--okta-domain", "http://127.0.0.1:1", "--client-id", "a", "--client-secret", "b")
	want := []any{1, "", 1, 0}
	got := []any{code, out, strings.Count(errs, "127.0.0.1:1/.well-known/openid-configuration"), strings.Count(errs, "idpkit:")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("exit, stdout, mentions, idpkit: lines (-want +got):\n%s\nstderr:\n%s", diff, errs)
	}
}

// TestTenantDatabase: a tenant subcommand names the database it looked
// in when the tenant is not there, and does not create an empty SQLite
// file where none was.
func TestTenantDatabase(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "serve.db")
	if code, _, errs := runCmd(t, context.Background(), "tenant", "create", "beta", "--db", db); code != 0 {
		t.Fatalf("tenant create: %s", errs)
	}
	t.Chdir(dir)
	t.Setenv("IDPKIT_DB", "")
	configure := []string{"--okta-domain", "http://127.0.0.1:1", "--client-id", "a", "--client-secret", "b"}
	tests := []struct {
		name string
		args []string
		env  string
		want string
	}{
		{"configure, no --db, no file", append([]string{"tenant", "configure", "acme"}, configure...), "",
			"idpkit: no database sqlite:idpkit.db (there is no file idpkit.db); pass --db (or IDPKIT_DB) with the database of your idpkit serve\n"},
		{"admin-link, no --db, no file", []string{"tenant", "admin-link", "acme", "--public-url", "http://127.0.0.1:8080"}, "",
			"idpkit: no database sqlite:idpkit.db (there is no file idpkit.db); pass --db (or IDPKIT_DB) with the database of your idpkit serve\n"},
		{"configure, unknown tenant", append([]string{"tenant", "configure", "acme", "--db", db}, configure...), "",
			"idpkit: no tenant \"acme\" in " + db + "; check that --db (or IDPKIT_DB) names the database of your idpkit serve\n"},
		{"admin-link, unknown tenant, IDPKIT_DB", []string{"tenant", "admin-link", "acme", "--public-url", "http://127.0.0.1:8080"}, db,
			"idpkit: no tenant \"acme\" in " + db + "; check that --db (or IDPKIT_DB) names the database of your idpkit serve\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("IDPKIT_DB", tt.env)
			code, out, errs := runCmd(t, context.Background(), tt.args...)
			if diff := cmp.Diff([]any{1, "", tt.want}, []any{code, out, errs}); diff != "" {
				t.Errorf("exit, stdout, stderr (-want +got):\n%s", diff)
			}
			if _, err := os.Stat(filepath.Join(dir, "idpkit.db")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("idpkit.db was created (%v)", err)
			}
		})
	}
}
