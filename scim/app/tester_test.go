package app_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/app/apptest"
)

// TestTesterPage checks that the app server serves the SCIM tester page
// at /conform/ from wasm.Tester, without a config.json.
func TestTesterPage(t *testing.T) {
	srv := apptest.Start(t, nil)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	type answer struct {
		Status      int
		ContentType string
		Location    string
		Contains    bool
	}
	tests := []struct {
		name, path, contains string
		want                 answer
	}{
		{"redirect", "/conform", "", answer{http.StatusMovedPermanently, "text/html; charset=utf-8", "/conform/", true}},
		{"page", "/conform/", `<label for="scim-url">SCIM base URL</label>`, answer{200, "text/html; charset=utf-8", "", true}},
		{"page by name", "/conform/conform.html", "start.js", answer{200, "text/html; charset=utf-8", "", true}},
		{"script", "/conform/start.js", "data-wasm", answer{200, "text/javascript; charset=utf-8", "", true}},
		{"go runtime", "/conform/wasm_exec.js", "Go", answer{200, "text/javascript; charset=utf-8", "", true}},
		{"style", "/conform/tester.css", "progress", answer{200, "text/css; charset=utf-8", "", true}},
		{"wasm", "/conform/tester.wasm", "\x00asm", answer{200, "application/wasm", "", true}},
		{"no config", "/conform/config.json", "", answer{404, "text/plain; charset=utf-8", "", true}},
		{"not the dialog", "/conform/dialog.wasm", "", answer{404, "text/plain; charset=utf-8", "", true}},
		{"no subfolder", "/conform/x/start.js", "", answer{404, "text/plain; charset=utf-8", "", true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := client.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			got := answer{resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Location"), strings.Contains(string(b), tt.contains)}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("GET %s (-want +got):\n%s", tt.path, diff)
			}
		})
	}
}
