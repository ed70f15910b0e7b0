package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/secret"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
)

// TestTenantRotateToken runs tenant rotate-token through run(): the new
// token is printed alone on stdout, --grace keeps the old token for that
// long, --revoke and the default end it, a second rotation ends the first
// old token, and misuse is a usage error that changes nothing.
func TestTenantRotateToken(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "idpkit.db")
	t.Setenv("IDPKIT_DB", "")
	t.Setenv("IDPKIT_PUBLIC_URL", "http://127.0.0.1:8080")
	code, out, errs := runCmd(t, context.Background(), "tenant", "create", "acme", "--db", db)
	if code != 0 {
		t.Fatalf("tenant create: exit %d: %s", code, errs)
	}
	var created struct{ Token string }
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatal(err)
	}
	current, previous := created.Token, ""
	type stored struct {
		Current, Previous bool          // the tokens the test expects match the stored hashes
		Grace             time.Duration // PrevTokenExpires minus the run's start, rounded to the minute; 0: none
	}
	check := func(t *testing.T, start time.Time, want stored) {
		t.Helper()
		st, err := sqlstore.Open(context.Background(), db, sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		tn, err := st.GetTenant(context.Background(), "acme")
		if err != nil {
			t.Fatal(err)
		}
		got := stored{Current: secret.Equal(tn.TokenHash, current), Previous: previous == "" && len(tn.PrevTokenHash) == 0 || secret.Equal(tn.PrevTokenHash, previous)}
		if !tn.PrevTokenExpires.IsZero() {
			got.Grace = tn.PrevTokenExpires.Sub(start).Round(time.Minute)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("stored tokens (-want +got):\n%s", diff)
		}
	}
	for _, tc := range []struct {
		name       string
		args       []string
		code       int
		stderr     string
		keepsOld   bool // the old token becomes the previous one
		wantGrace  time.Duration
		changesNot bool // a refused run: nothing changes
	}{
		{"grace", []string{"--grace", "10m"}, 0, "the old token keeps working for 10m0s, until ", true, 10 * time.Minute, false},
		{"second rotation ends the first old token", []string{"--grace", "1h"}, 0, "for 1h0m0s", true, time.Hour, false},
		{"revoke", []string{"--revoke"}, 0, "the old token no longer works", false, 0, false},
		{"default revokes", nil, 0, "the old token no longer works", false, 0, false},
		{"grace and revoke", []string{"--grace", "10m", "--revoke"}, 2, "--grace or --revoke, not both", false, 0, true},
		{"negative grace", []string{"--grace", "-1m"}, 2, "must be between 0 and 24h0m0s", false, 0, true},
		{"grace over a day", []string{"--grace", "25h"}, 2, "must be between 0 and 24h0m0s", false, 0, true},
		{"bad grace", []string{"--grace", "soon"}, 2, "invalid value", false, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			args := append([]string{"tenant", "rotate-token", "acme", "--db", db}, tc.args...)
			code, out, errs := runCmd(t, context.Background(), args...)
			if code != tc.code || !strings.Contains(errs, tc.stderr) {
				t.Fatalf("exit %d (want %d); stderr %q, want it to contain %q", code, tc.code, errs, tc.stderr)
			}
			if tc.changesNot {
				if out != "" {
					t.Errorf("stdout %q; want nothing", out)
				}
				check(t, start, stored{Current: true, Previous: true}) // as the last successful run left it
				return
			}
			tok := strings.TrimSuffix(out, "\n")
			if len(tok) != 43 || strings.ContainsAny(tok, " \n") {
				t.Fatalf("stdout %q; want the new token alone", out)
			}
			previous = ""
			if tc.keepsOld {
				previous = current
			}
			current = tok
			check(t, start, stored{Current: true, Previous: true, Grace: tc.wantGrace})
		})
	}
	t.Run("unknown tenant", func(t *testing.T) {
		code, out, errs := runCmd(t, context.Background(), "tenant", "rotate-token", "nope", "--db", db, "--grace", "10m")
		if diff := cmp.Diff([]any{1, "", "idpkit: no tenant \"nope\" in " + db + "; check that --db (or IDPKIT_DB) names the database of your idpkit serve\n"},
			[]any{code, out, errs}); diff != "" {
			t.Errorf("exit, stdout, stderr (-want +got):\n%s", diff)
		}
	})
}
