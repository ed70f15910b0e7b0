package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idpkit/idpkit/scim/store/sqlstore/pgtest"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver for the schema helper
)

// idpkitBin is the idpkit binary TestMain builds for the whole run; tests
// only read it.
var idpkitBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "idpkit-cluster-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "cluster: temp dir:", err)
		os.Exit(1)
	}
	idpkitBin = filepath.Join(dir, "idpkit")
	// The test binary runs in the package directory; the module root is
	// two levels up.
	build := exec.Command(goTool(), "build", "-o", idpkitBin, "./cmd/idpkit")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "cluster: go build ./cmd/idpkit: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// goTool returns the go command: the one in GOROOT when set, else the
// one on PATH.
func goTool() string {
	if root := os.Getenv("GOROOT"); root != "" {
		if p := filepath.Join(root, "bin", "go"); fileExists(p) {
			return p
		}
	}
	return "go"
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// syncBuffer is a bytes.Buffer safe for a writing process and a reader.
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

// cleanEnv is the test's environment without IDPKIT_ variables, so that
// the processes see only the flags each test gives them.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "IDPKIT_") {
			env = append(env, kv)
		}
	}
	return env
}

// instance is one running `idpkit serve` process.
type instance struct {
	URL  string // http://ADDR
	Addr string
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan struct{} // closed when the process has exited
	err  error         // the process's exit, once done is closed
}

// startServe starts `idpkit serve` on a free address with the database dsn
// and the given extra flags; the process is killed when the test ends if
// it still runs.
func startServe(t *testing.T, dsn string, extra ...string) *instance {
	t.Helper()
	addr := freeAddr(t)
	args := append([]string{"serve", "--addr", addr, "--db", dsn}, extra...)
	cmd := exec.Command(idpkitBin, args...)
	cmd.Env = cleanEnv()
	in := &instance{URL: "http://" + addr, Addr: addr, cmd: cmd, logs: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = in.logs, in.logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start idpkit serve: %v", err)
	}
	go func() { in.err = cmd.Wait(); close(in.done) }()
	t.Cleanup(func() {
		select {
		case <-in.done:
		default:
			cmd.Process.Kill()
			<-in.done
		}
		if t.Failed() {
			t.Logf("logs of idpkit serve at %s (last 4 KiB):\n%s", addr, tail(in.logs.String(), 4096))
		}
	})
	return in
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// waitReady waits until GET /readyz answers 200, failing the test when the
// process exits first or 30 s pass.
func (in *instance) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-in.done:
			t.Fatalf("idpkit serve at %s exited before it was ready (%v):\n%s", in.Addr, in.err, in.logs.String())
		default:
		}
		resp, err := http.Get(in.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("idpkit serve at %s: /readyz never answered 200 within 30s:\n%s", in.Addr, in.logs.String())
}

// kill ends the process with SIGKILL, which it cannot catch, and waits.
func (in *instance) kill(t *testing.T) {
	t.Helper()
	if err := in.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("kill: %v", err)
	}
	<-in.done
}

// created is what `idpkit tenant create` prints.
type created struct {
	Tenant      string `json:"tenant"`
	SCIMBaseURL string `json:"scimBaseUrl"`
	Token       string `json:"token"`
	RedirectURI string `json:"redirectUri"`
	AdminURL    string `json:"adminUrl"`
}

// idpkit runs the binary with args to completion and returns its stdout;
// a non-zero exit fails the test with stderr.
func idpkit(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(idpkitBin, args...)
	cmd.Env = cleanEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("idpkit %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(redactArgs(args), " "), err, out.String(), errb.String())
	}
	return out.String()
}

// redactArgs hides client secrets in a command line shown in a failure.
func redactArgs(args []string) []string {
	out := append([]string(nil), args...)
	for i := range out {
		if i > 0 && out[i-1] == "--client-secret" {
			out[i] = "***"
		}
	}
	return out
}

// createTenant runs `idpkit tenant create NAME --db DSN --public-url URL`.
func createTenant(t *testing.T, dsn, public, name string) created {
	t.Helper()
	out := idpkit(t, "tenant", "create", name, "--db", dsn, "--public-url", public)
	var c created
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.Token == "" || c.SCIMBaseURL == "" {
		t.Fatalf("tenant create printed %q (%v), want its JSON with a token", out, err)
	}
	return c
}

// postgresSchema returns the DSN of a fresh schema on the test server
// (see pgtest.Schema; outside CI an unreachable server skips). Its drop
// runs after the processes' cleanups have stopped them.
func postgresSchema(t *testing.T) string {
	t.Helper()
	return pgtest.Schema(t, "idpkit_cluster_", true)
}

// httpClient returns a client that keeps enough idle connections for the
// tests' parallel requests.
func httpClient(rt http.RoundTripper) *http.Client {
	if rt == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 64
		rt = tr
	}
	return &http.Client{Transport: rt, Timeout: 30 * time.Second}
}

// scimCall sends one SCIM request and returns the status and the decoded
// JSON body (nil when there is none).
func scimCall(ctx context.Context, c *http.Client, method, u, token string, body any) (int, map[string]any, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/scim+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, err
	}
	var out map[string]any
	if len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, &out); err != nil {
			return resp.StatusCode, nil, fmt.Errorf("%s %s: %d, not JSON: %.200s", method, u, resp.StatusCode, data)
		}
	}
	return resp.StatusCode, out, nil
}

// userBody is a minimal Okta-shaped user.
func userBody(userName string) map[string]any {
	return map[string]any{
		"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": userName,
		"name":     map[string]any{"givenName": "Test", "familyName": "User"},
		"emails":   []map[string]any{{"primary": true, "value": userName, "type": "work"}},
		"active":   true,
	}
}

// totalResults returns totalResults of GET base/typ?filter=…&count=0.
func totalResults(t *testing.T, c *http.Client, base, token, typ, filter string) int {
	t.Helper()
	u := base + "/" + typ + "?count=0"
	if filter != "" {
		u += "&filter=" + url.QueryEscape(filter)
	}
	status, body, err := scimCall(t.Context(), c, "GET", u, token, nil)
	if err != nil || status != http.StatusOK {
		t.Fatalf("GET %s: %d %v %v", u, status, body, err)
	}
	n, _ := body["totalResults"].(float64)
	return int(n)
}
