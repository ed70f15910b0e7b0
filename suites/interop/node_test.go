package interop

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// srcDir holds package.json, package-lock.json and the scripts.
var srcDir = filepath.Join("..", "..", "testdata", "interop")

// installHint is what every missing-tool failure tells the reader to do.
const installHint = "install Node.js 20.19 or later with npm (Debian: apt-get install nodejs npm; `make deps` does it)"

// installTimeout bounds the first `npm ci` (later runs reuse the cache).
const installTimeout = 5 * time.Minute

// peers is the installed npm packages, ready to run scripts.
type peers struct {
	node        string            // the node executable
	nodeVersion string            // as `node --version` prints it
	modules     string            // the cache's node_modules directory
	pinned      map[string]string // package → version, from the lock file
	installed   bool              // this run ran `npm ci`
}

// installPeers is shared by every test of the package: one install per run.
var installPeers = sync.OnceValues(func() (*peers, error) {
	ctx, cancel := context.WithTimeout(context.Background(), installTimeout)
	defer cancel()
	return install(ctx)
})

// needPeers returns the installed peers or fails the test saying what to
// install. It never skips, also not under CI=true.
func needPeers(t testing.TB) *peers {
	t.Helper()
	p, err := installPeers()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// supportedNode reports whether a `node --version` string satisfies
// oidc-provider's engines (^20.19 || ^22.12 || >=23).
func supportedNode(v string) bool {
	m := regexp.MustCompile(`^v?(\d+)\.(\d+)\.(\d+)`).FindStringSubmatch(strings.TrimSpace(v))
	if m == nil {
		return false
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	switch {
	case major >= 23:
		return true
	case major == 22:
		return minor >= 12
	case major == 20:
		return minor >= 19
	}
	return false
}

// cacheRoot is where installs are kept: the user cache directory, or the
// temporary directory when there is none (no HOME).
func cacheRoot() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "idpkit")
	}
	return filepath.Join(os.TempDir(), "idpkit-cache")
}

// lockPins reads the exact versions of the direct dependencies from the
// lock file (lockfileVersion 3).
func lockPins(lock []byte) (map[string]string, error) {
	var l struct {
		Packages map[string]struct {
			Version      string            `json:"version"`
			Dependencies map[string]string `json:"dependencies"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(lock, &l); err != nil {
		return nil, fmt.Errorf("interop: read package-lock.json: %w", err)
	}
	root, ok := l.Packages[""]
	if !ok || len(root.Dependencies) == 0 {
		return nil, errors.New("interop: package-lock.json has no root dependencies")
	}
	pins := map[string]string{}
	for name, want := range root.Dependencies {
		got := l.Packages["node_modules/"+name].Version
		if got == "" || got != want {
			return nil, fmt.Errorf("interop: package.json asks for %s %q but the lock has %q; pin exact versions and run npm install --package-lock-only", name, want, got)
		}
		pins[name] = got
	}
	return pins, nil
}

// install finds node and npm and makes sure the lock file's packages are
// in the cache, running `npm ci` into a fresh directory that is renamed
// into place only when complete, so an interrupted install is never used.
func install(ctx context.Context) (*peers, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("interop: node is not on PATH; %s", installHint)
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return nil, fmt.Errorf("interop: npm is not on PATH; %s", installHint)
	}
	out, err := exec.CommandContext(ctx, node, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("interop: %s --version: %w; %s", node, err, installHint)
	}
	version := strings.TrimSpace(string(out))
	if !supportedNode(version) {
		return nil, fmt.Errorf("interop: node %s is too old for oidc-provider (needs ^20.19, ^22.12 or >=23); %s", version, installHint)
	}
	pkg, err := os.ReadFile(filepath.Join(srcDir, "package.json"))
	if err != nil {
		return nil, fmt.Errorf("interop: %w", err)
	}
	lock, err := os.ReadFile(filepath.Join(srcDir, "package-lock.json"))
	if err != nil {
		return nil, fmt.Errorf("interop: %w", err)
	}
	pins, err := lockPins(lock)
	if err != nil {
		return nil, err
	}
	sum := sha256.New()
	sum.Write(pkg)
	sum.Write([]byte{0})
	sum.Write(lock)
	key := "interop-" + hex.EncodeToString(sum.Sum(nil))[:16]
	root := cacheRoot()
	dir := filepath.Join(root, key)
	p := &peers{node: node, nodeVersion: version, modules: filepath.Join(dir, "node_modules"), pinned: pins}
	marker := filepath.Join(dir, ".complete")
	if _, err := os.Stat(marker); err == nil {
		return p, checkInstalled(p)
	}

	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("interop: cache directory: %w", err)
	}
	tmp, err := os.MkdirTemp(root, key+".partial-")
	if err != nil {
		return nil, fmt.Errorf("interop: cache directory: %w", err)
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	for name, b := range map[string][]byte{"package.json": pkg, "package-lock.json": lock} {
		if err := os.WriteFile(filepath.Join(tmp, name), b, 0o644); err != nil {
			return nil, fmt.Errorf("interop: %w", err)
		}
	}
	cmd := exec.CommandContext(ctx, npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund")
	cmd.Dir = tmp
	cmd.WaitDelay = 5 * time.Second
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("interop: npm ci in %s (the first run needs the npm registry): %w\n%s", tmp, err, tail(b, 4000))
	}
	if err := os.WriteFile(filepath.Join(tmp, ".complete"), []byte(version+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("interop: %w", err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("interop: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		// Another run may have finished the same install first.
		if _, serr := os.Stat(marker); serr != nil {
			return nil, fmt.Errorf("interop: move the install into place: %w", err)
		}
	} else {
		p.installed = true
	}
	return p, checkInstalled(p)
}

// checkInstalled compares the installed packages with the pins.
func checkInstalled(p *peers) error {
	for name, want := range p.pinned {
		b, err := os.ReadFile(filepath.Join(p.modules, name, "package.json"))
		if err != nil {
			return fmt.Errorf("interop: the cached install in %s is broken (remove it to reinstall): %w", filepath.Dir(p.modules), err)
		}
		var m struct {
			Version string `json:"version"`
		}
		if err := json.Unmarshal(b, &m); err != nil || m.Version != want {
			return fmt.Errorf("interop: the cached install in %s has %s %q, not the pinned %q (remove it to reinstall)", filepath.Dir(p.modules), name, m.Version, want)
		}
	}
	return nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// scriptDir returns a temporary directory with the script and a
// node_modules link to the cache: Node resolves packages from the
// script's own directory upwards, and the cache stays read-only.
func (p *peers) scriptDir(t testing.TB, script string) string {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join(srcDir, script))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, script), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(p.modules, filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// command prepares `node script arg` in a directory from scriptDir.
func (p *peers) command(ctx context.Context, t testing.TB, script string, arg any) *exec.Cmd {
	t.Helper()
	in, err := json.Marshal(arg)
	if err != nil {
		t.Fatal(err)
	}
	dir := p.scriptDir(t, script)
	cmd := exec.CommandContext(ctx, p.node, filepath.Join(dir, script), string(in))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NODE_NO_WARNINGS=1", "NO_COLOR=1")
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// runJSON runs a script to its end and decodes the last line it prints
// into out. A script that fails still prints what it saw; its stderr is
// returned for failure messages.
func (p *peers) runJSON(ctx context.Context, t testing.TB, script string, arg, out any) (stderr string, err error) {
	t.Helper()
	cmd := p.command(ctx, t, script, arg)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	runErr := cmd.Run()
	lines := strings.Split(strings.TrimSpace(so.String()), "\n")
	last := lines[len(lines)-1]
	t.Logf("%s printed: %s", script, last)
	if derr := json.Unmarshal([]byte(last), out); derr != nil {
		return se.String(), fmt.Errorf("%s printed no JSON (%v; run error %v); stdout:\n%s", script, derr, runErr, tail(so.Bytes(), 2000))
	}
	return se.String(), runErr
}

// service is a long-running script: it printed one JSON line when ready
// and exits when its standard input closes.
type service struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *lockedBuffer
	done   chan error
}

// lockedBuffer collects a process's stderr while tests read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// start runs a service script and decodes its ready line into ready. The
// process is stopped when the test ends.
func (p *peers) start(t testing.TB, script string, arg, ready any) *service {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := p.command(ctx, t, script, arg)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &service{cmd: cmd, stdin: stdin, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", script, err)
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, stdout)
		s.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		stdin.Close() // the script exits on end of input
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			cancel() // kills this process only
			<-s.done
		}
		cancel()
		if t.Failed() {
			t.Logf("%s stderr:\n%s", script, tail([]byte(s.stderr.String()), 4000))
		}
	})
	select {
	case line, ok := <-lines:
		if !ok {
			t.Fatalf("%s exited before it was ready; stderr:\n%s", script, s.stderr.String())
		}
		if err := json.Unmarshal([]byte(line), ready); err != nil {
			t.Fatalf("%s printed %q when ready: %v", script, line, err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("%s was not ready after 30 s; stderr:\n%s", script, s.stderr.String())
	}
	return s
}

// TestPeerVersions logs the pinned versions and checks that the cached
// install has exactly them.
func TestPeerVersions(t *testing.T) {
	p := needPeers(t)
	for _, name := range []string{"openid-client", "oidc-provider"} {
		if p.pinned[name] == "" {
			t.Errorf("package-lock.json does not pin %s", name)
		}
	}
	t.Logf("node %s; openid-client %s; oidc-provider %s; packages in %s (installed by this run: %v)",
		p.nodeVersion, p.pinned["openid-client"], p.pinned["oidc-provider"], filepath.Dir(p.modules), p.installed)
}

func TestSupportedNode(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want bool
	}{
		{"v18.20.4", false}, {"v20.18.9", false}, {"v20.19.0", true}, {"v20.20.2", true},
		{"v21.7.0", false}, {"v22.11.0", false}, {"v22.12.0", true}, {"v23.0.0", true}, {"v24.1.0", true}, {"garbage", false},
	} {
		t.Run(tc.v, func(t *testing.T) {
			if got := supportedNode(tc.v); got != tc.want {
				t.Errorf("supportedNode(%q) = %v, want %v", tc.v, got, tc.want)
			}
		})
	}
}
