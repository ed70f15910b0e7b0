package wasm

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAssetsFiles(t *testing.T) {
	tests := []struct {
		name   string
		fsys   fs.FS
		want   []string
		hidden []string
	}{
		{"Assets", Assets, []string{"connect-okta.html", "dialog.css", "dialog.wasm", "start.js", "wasm_exec.js"}, []string{"conform.html", "tester.wasm"}},
		{"Tester", Tester, []string{"conform.html", "start.js", "tester.css", "tester.wasm", "wasm_exec.js"}, []string{"connect-okta.html", "dialog.wasm", "config.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			err := fs.WalkDir(tt.fsys, ".", func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					got = append(got, p)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
			for _, h := range tt.hidden {
				if _, err := fs.Stat(tt.fsys, h); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("Stat(%q) = %v, want fs.ErrNotExist", h, err)
				}
			}
		})
	}
}

func TestAssetsReferences(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{Page, []string{`src="assets/wasm_exec.js"`, `src="assets/start.js" data-wasm="assets/dialog.wasm"`, `href="assets/dialog.css"`, "<noscript>", "Loading…", `id="app"`, `rel="icon"`}},
		{"start.js", []string{"data-wasm", "instantiateStreaming", "go.run"}},
		{TesterPage, []string{`src="wasm_exec.js"`, `src="start.js" data-wasm="tester.wasm"`, `href="tester.css"`, "<noscript>", `id="app"`, `rel="icon"`,
			`<label for="scim-url">SCIM base URL</label>`, `<label for="token">Bearer token</label>`, `id="run"`, `id="progress"`, `id="label-filter"`, `id="download-json"`, `id="download-junit"`}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			fsys := Assets
			if _, err := fs.Stat(Tester, tt.file); err == nil {
				fsys = Tester
			}
			b, err := fs.ReadFile(fsys, tt.file)
			if err != nil {
				t.Fatal(err)
			}
			var missing []string
			for _, w := range tt.want {
				if !strings.Contains(string(b), w) {
					missing = append(missing, w)
				}
			}
			if diff := cmp.Diff([]string(nil), missing); diff != "" {
				t.Errorf("missing from %s (-want +got):\n%s", tt.file, diff)
			}
		})
	}
}

// goTool returns the go command running the tests and its GOROOT.
func goTool(t *testing.T) (string, string) {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is not on PATH: %v", err)
	}
	out, err := exec.Command(goCmd, "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	return goCmd, strings.TrimSpace(string(out))
}

func TestWasmExecMatchesToolchain(t *testing.T) {
	_, goroot := goTool(t)
	want, err := os.ReadFile(filepath.Join(goroot, "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := fs.ReadFile(Assets, "wasm_exec.js")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("wasm/dist/wasm_exec.js differs from the Go toolchain's copy; run `make wasm`")
	}
}

// TestWasmUpToDate rebuilds the dialog and the tester the way `make wasm`
// does and compares them with the committed dist/dialog.wasm and
// dist/tester.wasm, which also proves that the build is reproducible.
func TestWasmUpToDate(t *testing.T) {
	goCmd, _ := goTool(t)
	tests := []struct {
		pkg  string
		fsys fs.FS
		file string
	}{
		{"./dialog", Assets, "dialog.wasm"},
		{"./tester", Tester, "tester.wasm"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), tt.file)
			cmd := exec.Command(goCmd, "build", "-trimpath", "-buildvcs=false", `-ldflags=-s -w -buildid=`, "-o", out, tt.pkg)
			cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("building %s: %v\n%s", tt.pkg, err, b)
			}
			want, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			got, err := fs.ReadFile(tt.fsys, tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(want, got) {
				t.Errorf("wasm/dist/%s (%d bytes) is not the build of %s (%d bytes); run `make wasm`", tt.file, len(got), tt.pkg, len(want))
			}
		})
	}
}
