package main

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/app/apptest"
)

// loadTarget starts idpkit's app server in process on a temporary SQLite
// file, with wrap (when not nil) in front, and returns a tenant's SCIM base
// URL and token.
func loadTarget(t *testing.T, wrap func(http.Handler) http.Handler) (string, string) {
	t.Helper()
	created := apptest.Start(t, wrap).Tenant(t, "load")
	return created.SCIMBaseURL, created.Token
}

// tableRows returns the first column and the count and errors columns of
// the table's operation rows.
func tableRows(out string) map[string]string {
	rows := map[string]string{}
	re := regexp.MustCompile(`^([a-z-]+) +(\d+) +(\d+) +[0-9.]+ +[0-9.]+ms +[0-9.]+ms +[0-9.]+ms +[0-9.]+ms$`)
	for _, line := range strings.Split(out, "\n") {
		if m := re.FindStringSubmatch(line); m != nil {
			rows[m[1]] = m[2] + "/" + m[3]
		}
	}
	return rows
}

func TestLoad(t *testing.T) {
	url, token := loadTarget(t, nil)
	broken, brokenToken := loadTarget(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == "PATCH" && strings.Contains(r.URL.Path, "/Users/") {
				http.Error(w, "deactivation is broken", 500)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	for _, tc := range []struct {
		name     string
		args     []string
		env      string
		wantCode int
		wantRows map[string]string // operation → count/errors; import is left out
		wantOut  []string
		wantErr  []string
	}{
		{
			name: "against idpkit", args: []string{"--scim-url", url, "--users", "12", "--concurrency", "3"}, env: token,
			wantRows: map[string]string{"filter": "12/0", "create": "12/0", "get": "12/0", "replace": "12/0", "deactivate": "6/0", "group-create": "1/0", "group-patch": "1/0"},
			wantOut:  []string{"operation", "users 12 of 12 created", "left on the server with prefix load-"},
			wantErr:  []string{"load: import, ", "12 users created"},
		},
		{
			name: "failing PATCH exits 1", args: []string{"--scim-url", broken, "--token", brokenToken, "--users", "4", "--concurrency", "2"}, wantCode: 1,
			wantRows: map[string]string{"filter": "4/0", "create": "4/0", "get": "4/0", "replace": "4/0", "deactivate": "2/2", "group-create": "1/0", "group-patch": "1/0"},
			wantOut:  []string{"error deactivate: PATCH /Users/", "500 deactivation is broken"},
			wantErr:  []string{"idpkit: load: 2 requests failed"},
		},
		{
			name: "cleanup", args: []string{"--scim-url", url, "--token", token, "--users", "3", "--cleanup"},
			wantRows: map[string]string{"filter": "3/0", "create": "3/0", "get": "3/0", "replace": "3/0", "deactivate": "1/0", "group-create": "1/0", "group-patch": "1/0", "delete": "4/0"},
			wantOut:  []string{"; deleted again"},
		},
		{name: "no URL", args: []string{"--token", "x"}, wantCode: 2, wantErr: []string{"load needs --scim-url"}},
		{name: "no token", args: []string{"--scim-url", url}, wantCode: 2, wantErr: []string{"needs --token"}},
		{name: "zero users", args: []string{"--scim-url", url, "--token", "x", "--users", "0"}, wantCode: 2, wantErr: []string{"--users and --concurrency must be at least 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("IDPKIT_SCIM_TOKEN", tc.env)
			code, out, errs := runCmd(t, context.Background(), append([]string{"load"}, tc.args...)...)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, out, errs)
			}
			rows := tableRows(out)
			delete(rows, "import")
			if tc.wantRows == nil {
				tc.wantRows = map[string]string{}
			}
			if d := cmp.Diff(tc.wantRows, rows); d != "" {
				t.Errorf("table rows (-want +got):\n%s\n%s", d, out)
			}
			if tc.wantCode != 2 && !regexp.MustCompile(`(?m)^import +\d+ +0 `).MatchString(out) {
				t.Errorf("no import row without errors:\n%s", out)
			}
			for _, s := range tc.wantOut {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			for _, s := range tc.wantErr {
				if !strings.Contains(errs, s) {
					t.Errorf("stderr lacks %q:\n%s", s, errs)
				}
			}
		})
	}
}
