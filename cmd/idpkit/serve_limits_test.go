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
)

// TestServeLongQuery: serve accepts request headers up to 1 MiB, so a
// long filter reaches the SCIM server and gets its SCIM error (400
// invalidFilter) instead of Go's plain-text 431 (it did at 64 KiB).
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
		{"500,000 bytes", strings.Repeat("a", 500_000) + " pr", []any{400, "application/scim+json; charset=utf-8", "invalidFilter"}},
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
