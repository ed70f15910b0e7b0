package wasm

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAssetsFiles(t *testing.T) {
	var got []string
	err := fs.WalkDir(Assets, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			got = append(got, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"connect-okta.html", "dialog.css", "dialog.js", "dialog.wasm", "wasm_exec.js"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
}

func TestAssetsReferences(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{Page, []string{`src="assets/wasm_exec.js"`, `src="assets/dialog.js"`, `href="assets/dialog.css"`, "<noscript>", "Loading…", `id="app"`, `rel="icon"`}},
		{"dialog.js", []string{`"assets/dialog.wasm"`, "instantiateStreaming", "go.run"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := fs.ReadFile(Assets, tt.file)
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

// TestDialogWasmUpToDate rebuilds the dialog the way `make wasm` does and
// compares it with the committed dist/dialog.wasm, which also proves that
// the build is reproducible.
func TestDialogWasmUpToDate(t *testing.T) {
	goCmd, _ := goTool(t)
	out := filepath.Join(t.TempDir(), "dialog.wasm")
	cmd := exec.Command(goCmd, "build", "-trimpath", "-buildvcs=false", `-ldflags=-s -w -buildid=`, "-o", out, "./dialog")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the dialog: %v\n%s", err, b)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := fs.ReadFile(Assets, "dialog.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("wasm/dist/dialog.wasm (%d bytes) is not the build of wasm/dialog (%d bytes); run `make wasm`", len(got), len(want))
	}
}
