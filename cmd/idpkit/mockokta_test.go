package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// mockoktaVars are the environment variables of mockokta's flags.
var mockoktaVars = []string{
	"IDPKIT_MOCKOKTA_ADDR", "IDPKIT_MOCKOKTA_SEED", "IDPKIT_MOCKOKTA_API_TOKEN", "IDPKIT_MOCKOKTA_TRUSTED_ORIGINS",
	"IDPKIT_MOCKOKTA_ROTATE_EVERY", "IDPKIT_MOCKOKTA_AUTH_SERVERS", "IDPKIT_MOCKOKTA_VERBOSE",
}

// startMockOkta runs `idpkit mockokta args…` in-process until the test
// ends and returns its start-up output once it is listening.
func startMockOkta(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errs syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, append([]string{"mockokta"}, args...), &out, &errs) }()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("mockokta exited %d after the signal:\n%s", code, errs.String())
			}
		case <-time.After(10 * time.Second):
			t.Error("mockokta did not stop within 10s of the signal")
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "test controls:") {
		select {
		case code := <-done:
			t.Fatalf("mockokta exited %d:\nstdout:\n%s\nstderr:\n%s", code, out.String(), errs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("mockokta printed no start-up lines within 20s:\n%s\n%s", out.String(), errs.String())
		}
	}
	time.Sleep(20 * time.Millisecond) // the rest of the start-up lines
	return out.String()
}

// field returns the value printed after "name:" in mockokta's output.
func field(out, name string) string {
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			v, _, _ = strings.Cut(strings.TrimSpace(v), "   ")
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func getJSON(t *testing.T, url, token, origin string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "SSWS "+token)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := map[string]any{}
	json.Unmarshal(b, &m)
	return resp.StatusCode, m, resp.Header
}

// TestMockOktaCommand runs `idpkit mockokta` in-process with every flag,
// once from the command line and once from the environment.
func TestMockOktaCommand(t *testing.T) {
	yamlSeed := filepath.Join(t.TempDir(), "seed.yml")
	b, err := os.ReadFile("../../testdata/mockokta/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(yamlSeed, b, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  func(addr string) map[string]string
		args func(addr string) []string
		seed string
	}{
		{"flags", nil, func(addr string) []string {
			return []string{"--addr", addr, "--seed", "../../testdata/mockokta/seed.json", "--api-token", "tok-flags",
				"--trusted-origin", "http://localhost:3000", "--trusted-origin", "http://localhost:4000,http://localhost:5000",
				"--rotate-every", "24h", "--auth-server", "api,partners"}
		}, "../../testdata/mockokta/seed.json"},
		{"env", func(addr string) map[string]string {
			return map[string]string{
				"IDPKIT_MOCKOKTA_ADDR": addr, "IDPKIT_MOCKOKTA_SEED": yamlSeed, "IDPKIT_MOCKOKTA_API_TOKEN": "tok-env",
				"IDPKIT_MOCKOKTA_TRUSTED_ORIGINS": "http://localhost:3000,http://localhost:4000,http://localhost:5000",
				"IDPKIT_MOCKOKTA_ROTATE_EVERY":    "24h", "IDPKIT_MOCKOKTA_AUTH_SERVERS": "api,partners",
			}
		}, nil, yamlSeed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range mockoktaVars {
				t.Setenv(k, "")
			}
			addr := freeAddr(t)
			var args []string
			if tc.args != nil {
				args = tc.args(addr)
			}
			if tc.env != nil {
				for k, v := range tc.env(addr) {
					t.Setenv(k, v)
				}
			}
			out := startMockOkta(t, args...)
			base := "http://" + addr
			token := "tok-" + tc.name
			got := map[string]string{}
			for _, name := range []string{"Okta domain", "org issuer", "default custom issuer", "management API token", "test controls", "trusted origins", "key rotation", "seed"} {
				got[name] = field(out, name)
			}
			want := map[string]string{
				"Okta domain": base, "org issuer": base, "default custom issuer": base + "/oauth2/default",
				"management API token": token, "test controls": base + "/__mock/",
				"trusted origins": "http://localhost:3000, http://localhost:4000, http://localhost:5000, http://127.0.0.1:8080",
				"key rotation":    "every 24h0m0s",
				"seed":            tc.seed + " (5 users, 1 group, 2 apps, 2 assignments)",
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("start-up output (-want +got):\n%s\n%s", diff, out)
			}
			if !strings.Contains(out, "custom issuer:          "+base+"/oauth2/api\n") || !strings.Contains(out, base+"/oauth2/partners\n") {
				t.Errorf("the extra issuers are not printed:\n%s", out)
			}
			if status, index, _ := getJSON(t, base+"/__mock/", token, ""); status != 200 || len(index["controls"].([]any)) == 0 {
				t.Errorf("GET /__mock/: %d %v", status, index)
			}
			if status, _, _ := getJSON(t, base+"/__mock/", "wrong", ""); status != 401 {
				t.Errorf("GET /__mock/ with a wrong token: %d", status)
			}
			if status, users, _ := getJSON(t, base+"/api/v1/users/alice@example.com", token, ""); status != 200 || users["status"] != "ACTIVE" {
				t.Errorf("seeded alice: %d %v", status, users)
			}
			for _, origin := range []string{"http://localhost:3000", "http://localhost:5000", "http://127.0.0.1:8080"} {
				_, meta, h := getJSON(t, base+"/oauth2/partners/.well-known/openid-configuration", "", origin)
				if meta["issuer"] != base+"/oauth2/partners" || h.Get("Access-Control-Allow-Origin") != origin {
					t.Errorf("discovery from %s: issuer %v, Access-Control-Allow-Origin %q", origin, meta["issuer"], h.Get("Access-Control-Allow-Origin"))
				}
			}
		})
	}
}

func TestMockOktaCommandErrors(t *testing.T) {
	for _, k := range mockoktaVars {
		t.Setenv(k, "")
	}
	badSeed := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(badSeed, []byte("people: []\n"), 0o600)
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"argument", nil, []string{"extra"}, 2, "mockokta takes no arguments"},
		{"bad rotate-every", nil, []string{"--rotate-every", "daily"}, 2, "invalid value"},
		{"negative rotate-every", nil, []string{"--rotate-every", "-1h"}, 2, "--rotate-every must not be negative"},
		{"bad env rotate-every", map[string]string{"IDPKIT_MOCKOKTA_ROTATE_EVERY": "daily"}, nil, 2, `IDPKIT_MOCKOKTA_ROTATE_EVERY="daily" is not a valid --rotate-every`},
		{"bad seed", nil, []string{"--seed", badSeed}, 1, `unknown field "people"; a seed has users, groups`},
		{"missing seed", nil, []string{"--seed", "nope.json"}, 1, "nope.json"},
		{"bad origin", nil, []string{"--addr", "127.0.0.1:0", "--trusted-origin", "localhost"}, 1, `"localhost" is not an origin`},
		{"bad auth server", nil, []string{"--addr", "127.0.0.1:0", "--auth-server", "v1"}, 1, `"v1" is not an authorization server id`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			code, _, errs := runCmd(t, context.Background(), append([]string{"mockokta"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, want %d; stderr %q, want it to contain %q", code, tc.code, errs, tc.want)
			}
		})
	}
}
