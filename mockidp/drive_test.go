package mockidp

import (
	"context"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDriveFromNode runs testdata/mockokta/drive.mjs, the README's
// "any language" example: a plain Node.js script that drives the mock over
// /__mock/ and signs a user in. A missing or old Node.js fails the test
// with what to install; it never skips.
func TestDriveFromNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node not found: this test runs testdata/mockokta/drive.mjs with Node.js 20 or newer; install it (apt-get install nodejs)")
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", node, err)
	}
	major := 0
	if m := regexp.MustCompile(`^v(\d+)\.`).FindStringSubmatch(strings.TrimSpace(string(out))); m != nil {
		major, _ = strconv.Atoi(m[1])
	}
	if major < 20 {
		t.Fatalf("node %s is too old: drive.mjs needs Node.js 20 or newer (built-in fetch); install a newer one (apt-get install nodejs)", strings.TrimSpace(string(out)))
	}
	s := NewServer()
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "../testdata/mockokta/drive.mjs")
	cmd.Env = append(cmd.Environ(), "MOCKOKTA_URL="+s.URL, "MOCKOKTA_TOKEN="+s.APIToken)
	b, err := cmd.CombinedOutput()
	if err != nil || !strings.HasSuffix(strings.TrimSpace(string(b)), "PASS") {
		t.Fatalf("node drive.mjs: %v\n%s", err, b)
	}
	t.Logf("node drive.mjs:\n%s", b)
}
