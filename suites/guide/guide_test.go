package guide_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/suites/check"
	"github.com/idpkit/idpkit/suites/guide"
	"github.com/idpkit/idpkit/suites/harness"
)

// outcome is a compact view of a guide run: "ok", "fail" or "not run" per step.
func outcome(steps []guide.Step) []string {
	var out []string
	for _, s := range steps {
		switch {
		case s.OK:
			out = append(out, "ok")
		case strings.HasPrefix(s.Detail, "not run"):
			out = append(out, "not run")
		default:
			out = append(out, "fail")
		}
	}
	return out
}

// drop answers matching requests itself, as a broken app would.
func drop(match func(*http.Request) bool, status int) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if match(r) {
				w.WriteHeader(status)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// TestGuideNoticesBrokenApps puts faulty apps in front of Okta: the guide
// must fail at the step that sees the fault, and only there.
func TestGuideNoticesBrokenApps(t *testing.T) {
	quick := check.Select(check.SCIM(), []string{"okta-spec"}, nil)
	tests := []struct {
		name     string
		wrap     func(http.Handler) http.Handler
		apiToken string
		want     []string
		says     string // a phrase of the failing step's detail
	}{
		{
			name: "a working app passes every step",
			want: []string{"ok", "ok", "ok", "ok", "ok", "ok", "ok"},
		},
		{
			name:     "a wrong Okta API token stops the Okta steps",
			apiToken: "not-the-token",
			want:     []string{"ok", "fail", "not run", "not run", "fail", "not run", "ok"},
			says:     "401",
		},
		{
			name: "an app that ignores deactivation",
			wrap: drop(func(r *http.Request) bool { return r.Method == "PATCH" && strings.Contains(r.URL.Path, "/Users/") }, http.StatusNoContent),
			want: []string{"ok", "ok", "ok", "fail", "ok", "not run", "ok"},
			says: "still active",
		},
		{
			name: "an app whose sign-in callback is broken",
			wrap: drop(func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/oidc/callback") }, http.StatusBadGateway),
			want: []string{"ok", "ok", "ok", "ok", "ok", "fail", "ok"},
			says: "502",
		},
		{
			name: "an app whose group listing fails",
			wrap: drop(func(r *http.Request) bool {
				return r.Method == "GET" && strings.HasSuffix(r.URL.Path, "/scim/v2/Groups")
			}, http.StatusInternalServerError),
			want: []string{"ok", "ok", "fail", "not run", "ok", "not run", "fail"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := harness.Start(context.Background(), harness.Options{Wrap: tt.wrap})
			if err != nil {
				t.Fatal(err)
			}
			defer env.Close()
			g := env.Guide()
			g.Checks = quick
			g.Wait = time.Second
			if tt.apiToken != "" {
				g.OktaAPIToken = tt.apiToken
			}
			var reported []int
			steps := guide.Run(context.Background(), g, func(s guide.Step) { reported = append(reported, s.N) })
			if diff := cmp.Diff(tt.want, outcome(steps)); diff != "" {
				for _, s := range steps {
					t.Logf("step %d ok=%v: %s", s.N, s.OK, s.Detail)
				}
				t.Fatalf("step outcomes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]int{1, 2, 3, 4, 5, 6, 7}, reported); diff != "" {
				t.Errorf("reported steps (-want +got):\n%s", diff)
			}
			if tt.says != "" {
				found := false
				for _, s := range steps {
					found = found || (!s.OK && strings.Contains(s.Detail, tt.says))
				}
				if !found {
					t.Errorf("no failing step says %q", tt.says)
				}
			}
		})
	}
}
