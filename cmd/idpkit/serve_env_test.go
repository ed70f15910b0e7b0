package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// serveVars returns the environment variables of serve's flags.
func serveVars() []string {
	return []string{"IDPKIT_ADDR", "IDPKIT_DB", "IDPKIT_PUBLIC_URL", "IDPKIT_GRACE", "IDPKIT_METRICS", "IDPKIT_VERBOSE", "IDPKIT_STORE_PASSWORD_HASHES", "IDPKIT_OIDC_RESPONSE_MODE",
		"IDPKIT_TRUST_PROXY", "IDPKIT_MAX_TENANT_REQUESTS", "IDPKIT_TENANT_RATE", "IDPKIT_TENANT_BURST",
		"IDPKIT_AUTH_FAILURES_PER_ADDRESS", "IDPKIT_AUTH_FAILURES_PER_TENANT", "IDPKIT_AUTH_FAILURE_WINDOW"}
}

// TestServeEnv: every serve flag can be set by its IDPKIT_ variable, and a
// flag on the command line wins over it.
func TestServeEnv(t *testing.T) {
	type seen struct {
		Metrics   int    // status of GET /metrics
		Debug     bool   // a level=DEBUG line was logged
		PublicURL string // as logged at start
		Grace     string // as logged at shutdown
		Mode      string // oidc_response_mode as logged at start
		EnvDB     bool   // the database named by IDPKIT_DB exists
		FlagDB    bool   // the database named by --db exists
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want seen
	}{
		{"defaults", nil, nil, seen{Metrics: 200, Grace: "10s", Mode: "query", EnvDB: true}},
		{"all from env", map[string]string{
			"IDPKIT_PUBLIC_URL": "https://app.example.com/", "IDPKIT_GRACE": "1500ms", "IDPKIT_METRICS": "false", "IDPKIT_VERBOSE": "true",
			"IDPKIT_OIDC_RESPONSE_MODE": "form_post",
		}, nil, seen{Metrics: 404, Debug: true, PublicURL: "https://app.example.com", Grace: "1.5s", Mode: "form_post", EnvDB: true}},
		{"flags win", map[string]string{
			"IDPKIT_PUBLIC_URL": "https://env.example.com", "IDPKIT_GRACE": "1500ms", "IDPKIT_METRICS": "false", "IDPKIT_VERBOSE": "true",
			"IDPKIT_OIDC_RESPONSE_MODE": "form_post",
		}, []string{"--public-url", "https://flag.example.com", "--grace", "2s", "--metrics", "--verbose=false", "--db", "FLAGDB", "--oidc-response-mode", "query"},
			seen{Metrics: 200, PublicURL: "https://flag.example.com", Grace: "2s", Mode: "query", FlagDB: true}},
		{"form_post by flag", nil, []string{"--oidc-response-mode=form_post"}, seen{Metrics: 200, Grace: "10s", Mode: "form_post", EnvDB: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			envDB, flagDB := filepath.Join(dir, "env.db"), filepath.Join(dir, "flag.db")
			addr := freeAddr(t)
			for _, k := range serveVars() {
				t.Setenv(k, "")
			}
			t.Setenv("IDPKIT_ADDR", addr)
			t.Setenv("IDPKIT_DB", "sqlite:"+envDB)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			args := []string{"serve"}
			for _, a := range tt.args {
				args = append(args, strings.Replace(a, "FLAGDB", "sqlite:"+flagDB, 1))
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var stderr syncBuffer
			done := make(chan int, 1)
			go func() { done <- run(ctx, args, &stderr, &stderr) }()
			waitHealthy(t, "http://"+addr)
			resp, err := http.Get("http://" + addr + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			cancel()
			if code := <-done; code != 0 {
				t.Fatalf("serve exited %d: %s", code, stderr.String())
			}
			logs := stderr.String()
			exists := func(path string) bool { _, err := os.Stat(path); return err == nil }
			got := seen{
				Metrics:   resp.StatusCode,
				Debug:     strings.Contains(logs, "level=DEBUG"),
				PublicURL: logged(logs, "public_url"),
				Grace:     logged(logs, "grace"),
				Mode:      logged(logs, "oidc_response_mode"),
				EnvDB:     exists(envDB),
				FlagDB:    exists(flagDB),
			}
			if got.PublicURL == "http://"+addr {
				got.PublicURL = "" // the default, which depends on the address
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s\nlogs:\n%s", diff, logs)
			}
		})
	}
}

// logged returns the first value logged under key in text-handler output.
func logged(logs, key string) string {
	m := regexp.MustCompile(`\b` + regexp.QuoteMeta(key) + `=(\S+)`).FindStringSubmatch(logs)
	if m == nil {
		return ""
	}
	return m[1]
}

// TestServeEnvInvalid: a value a flag would refuse is a usage error (exit
// 2) naming the variable, and nothing is served.
func TestServeEnvInvalid(t *testing.T) {
	tests := []struct {
		name, key, value string
		stderr           string
	}{
		{"duration", "IDPKIT_GRACE", "soon", `IDPKIT_GRACE="soon" is not a valid --grace`},
		{"negative duration", "IDPKIT_GRACE", "-1s", "--grace must not be negative"},
		{"boolean", "IDPKIT_METRICS", "maybe", `IDPKIT_METRICS="maybe" is not a valid --metrics`},
		{"verbose", "IDPKIT_VERBOSE", "loud", `IDPKIT_VERBOSE="loud" is not a valid --verbose`},
		{"public url", "IDPKIT_PUBLIC_URL", "app.example.com", `--public-url "app.example.com" is not an http:// or https:// URL`},
		{"response mode", "IDPKIT_OIDC_RESPONSE_MODE", "fragment", `--oidc-response-mode must be query or form_post, got "fragment"`},
		{"response mode case", "IDPKIT_OIDC_RESPONSE_MODE", "FORM_POST", `--oidc-response-mode must be query or form_post, got "FORM_POST"`},
		{"tenant rate", "IDPKIT_TENANT_RATE", "fast", `IDPKIT_TENANT_RATE="fast" is not a valid --tenant-rate`},
		{"negative tenant rate", "IDPKIT_TENANT_RATE", "-1", "--tenant-rate must be a number of requests per second, 0 or more, got -1"},
		{"tenant rate NaN", "IDPKIT_TENANT_RATE", "NaN", "--tenant-rate must be a number of requests per second, 0 or more, got NaN"},
		{"tenant rate Inf", "IDPKIT_TENANT_RATE", "+Inf", "--tenant-rate must be a number of requests per second, 0 or more, got +Inf"},
		{"tenant burst", "IDPKIT_TENANT_BURST", "1.5", `IDPKIT_TENANT_BURST="1.5" is not a valid --tenant-burst`},
		{"tenant burst without a rate", "IDPKIT_TENANT_BURST", "10", "--tenant-burst needs --tenant-rate"},
		{"address failures", "IDPKIT_AUTH_FAILURES_PER_ADDRESS", "many", `IDPKIT_AUTH_FAILURES_PER_ADDRESS="many" is not a valid --auth-failures-per-address`},
		{"negative address failures", "IDPKIT_AUTH_FAILURES_PER_ADDRESS", "-1", "--auth-failures-per-address must not be negative (0 means no limit), got -1"},
		{"negative tenant failures", "IDPKIT_AUTH_FAILURES_PER_TENANT", "-3", "--auth-failures-per-tenant must not be negative (0 means no limit), got -3"},
		{"failure window", "IDPKIT_AUTH_FAILURE_WINDOW", "60", `IDPKIT_AUTH_FAILURE_WINDOW="60" is not a valid --auth-failure-window`},
		{"zero failure window", "IDPKIT_AUTH_FAILURE_WINDOW", "0s", "--auth-failure-window must be positive, got 0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range serveVars() {
				t.Setenv(k, "")
			}
			t.Setenv("IDPKIT_DB", "sqlite:"+filepath.Join(t.TempDir(), "idpkit.db"))
			t.Setenv(tt.key, tt.value)
			code, _, errs := runCmd(t, context.Background(), "serve")
			if code != 2 || !strings.Contains(errs, tt.stderr) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errs, tt.stderr)
			}
		})
	}
}

// TestServeResponseModeFlag: --oidc-response-mode takes query or
// form_post only; anything else is a usage error (exit 2).
func TestServeResponseModeFlag(t *testing.T) {
	tests := []struct {
		name  string
		value string
	}{{"empty", ""}, {"fragment", "fragment"}, {"okta_post_message", "okta_post_message"}, {"form-post", "form-post"}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range serveVars() {
				t.Setenv(k, "")
			}
			t.Setenv("IDPKIT_DB", "sqlite:"+filepath.Join(t.TempDir(), "idpkit.db"))
			code, _, errs := runCmd(t, context.Background(), "serve", "--oidc-response-mode", tt.value)
			want := `--oidc-response-mode must be query or form_post, got "` + tt.value + `"`
			if code != 2 || !strings.Contains(errs, want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errs, want)
			}
		})
	}
}
