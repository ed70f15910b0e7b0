package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/server"
)

// TestServeLongQuery: serve accepts request headers up to 128 KiB
// (maxHeaderBytes), so a filter just over server.MaxFilterLength reaches
// the SCIM server and gets its SCIM error (400 invalidFilter); a request
// line of half a megabyte gets Go's plain-text 431 instead of costing
// every connection a megabyte.
func TestServeLongQuery(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "idpkit.db")
	addr := freeAddr(t)
	public := "http://" + addr
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve", "--addr", addr, "--db", db}, io.Discard, io.Discard) }()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d", code)
		}
	}()
	waitHealthy(t, public)
	code, out, errs := runCmd(t, context.Background(), "tenant", "create", "acme", "--db", db, "--public-url", public)
	if code != 0 {
		t.Fatalf("tenant create exited %d: %s", code, errs)
	}
	var created struct{ ScimBaseURL, Token string }
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatalf("tenant create printed %q: %v", out, err)
	}
	tests := []struct {
		name   string
		filter string
		want   []any
	}{
		{"70,000 bytes", strings.Repeat("a", 70_000) + " pr", []any{400, "application/scim+json; charset=utf-8", "invalidFilter"}},
		{"MaxFilterLength+1 bytes", strings.Repeat("a", server.MaxFilterLength-2) + " pr", []any{400, "application/scim+json; charset=utf-8", "invalidFilter"}},
		{"125,000 bytes", strings.Repeat("a", 125_000) + " pr", []any{400, "application/scim+json; charset=utf-8", "invalidFilter"}},
		{"140,000 bytes", strings.Repeat("a", 140_000) + " pr", []any{431, "text/plain; charset=utf-8", nil}},
		{"500,000 bytes", strings.Repeat("a", 500_000) + " pr", []any{431, "text/plain; charset=utf-8", nil}},
		{"short", "userName pr", []any{200, "application/scim+json; charset=utf-8", nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", created.ScimBaseURL+"/Users?filter="+strings.ReplaceAll(tt.filter, " ", "%20"), nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+created.Token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]any
			data, _ := io.ReadAll(resp.Body)
			json.Unmarshal(data, &body)
			got := []any{resp.StatusCode, resp.Header.Get("Content-Type"), body["scimType"]}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%.200s", diff, data)
			}
		})
	}
}

// TestServeRateLimits: --tenant-rate (with its default burst, twice the
// rate) and --auth-failures-per-address, or their IDPKIT_ variables,
// take effect. The client address is faked with X-Forwarded-For from a
// trusted loopback proxy, since loopback itself is not counted per
// address. The wrong tokens before the right ones spend nothing of the
// tenant's request rate.
func TestServeRateLimits(t *testing.T) {
	type seen struct {
		Wrong      []int  // 4 wrong tokens from 192.0.2.9
		WrongRetry string // Retry-After of the last
		Right      []int  // then 5 right tokens from 198.51.100.7
		RightRetry string // Retry-After of the last
		Detail     string // its SCIM error detail
		Logged     []string
	}
	limited := seen{
		Wrong: []int{401, 401, 401, 429}, WrongRetry: "20", Right: []int{200, 200, 200, 200, 429}, RightRetry: "1",
		Detail: "too many requests for this tenant; wait 1 second before trying again",
		Logged: []string{"2", "4", "3", "100", "1m0s"},
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want seen
	}{
		{"defaults", nil, nil, seen{Wrong: []int{401, 401, 401, 401}, Right: []int{200, 200, 200, 200, 200}, Logged: []string{"0", "0", "20", "100", "1m0s"}}},
		{"flags", nil, []string{"--tenant-rate", "2", "--auth-failures-per-address", "3"}, limited},
		{"env", map[string]string{"IDPKIT_TENANT_RATE": "2", "IDPKIT_AUTH_FAILURES_PER_ADDRESS": "3"}, nil, limited},
		{"no per-address limit, a burst of 1", nil, []string{"--tenant-rate", "0.5", "--tenant-burst", "1", "--auth-failures-per-address", "0"}, seen{
			Wrong: []int{401, 401, 401, 401}, Right: []int{200, 429, 429, 429, 429}, RightRetry: "2",
			Detail: "too many requests for this tenant; wait 2 seconds before trying again",
			Logged: []string{"0.5", "1", "0", "100", "1m0s"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range serveVars() {
				t.Setenv(k, "")
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			db := "sqlite:" + filepath.Join(t.TempDir(), "idpkit.db")
			addr := freeAddr(t)
			public := "http://" + addr
			ctx, cancel := context.WithCancel(context.Background())
			var stderr syncBuffer
			done := make(chan int, 1)
			args := append([]string{"serve", "--addr", addr, "--db", db, "--trust-proxy", "127.0.0.1"}, tt.args...)
			go func() { done <- run(ctx, args, io.Discard, &stderr) }()
			defer func() {
				cancel()
				if code := <-done; code != 0 {
					t.Errorf("serve exited %d: %s", code, stderr.String())
				}
			}()
			waitHealthy(t, public)
			code, out, errs := runCmd(t, context.Background(), "tenant", "create", "acme", "--db", db, "--public-url", public)
			if code != 0 {
				t.Fatalf("tenant create exited %d: %s", code, errs)
			}
			var created struct{ ScimBaseURL, Token string }
			if err := json.Unmarshal([]byte(out), &created); err != nil {
				t.Fatalf("tenant create printed %q: %v", out, err)
			}
			get := func(client, token string) (*http.Response, []byte) {
				req, err := http.NewRequest("GET", created.ScimBaseURL+"/Users", nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("X-Forwarded-For", client)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				return resp, body
			}
			var got seen
			for range 4 {
				resp, _ := get("192.0.2.9", "wrong")
				got.Wrong = append(got.Wrong, resp.StatusCode)
				got.WrongRetry = resp.Header.Get("Retry-After")
			}
			for range 5 {
				resp, body := get("198.51.100.7", created.Token)
				got.Right = append(got.Right, resp.StatusCode)
				got.RightRetry = resp.Header.Get("Retry-After")
				var e struct{ Detail string }
				json.Unmarshal(body, &e)
				got.Detail = e.Detail
			}
			logs := stderr.String()
			for _, k := range []string{"tenant_rate", "tenant_burst", "auth_failures_per_address", "auth_failures_per_tenant", "auth_failure_window"} {
				got.Logged = append(got.Logged, logged(logs, k))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
