package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/store/sqlstore"
)

// TestTenantAdminGroup runs tenant admin-group through run(): it stores
// the group, "" clears it, and misuse is an error that changes nothing.
func TestTenantAdminGroup(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "idpkit.db")
	t.Setenv("IDPKIT_DB", "")
	t.Setenv("IDPKIT_PUBLIC_URL", "http://127.0.0.1:8080")
	if code, _, errs := runCmd(t, context.Background(), "tenant", "create", "acme", "--db", db); code != 0 {
		t.Fatalf("tenant create: exit %d: %s", code, errs)
	}
	stored := func(t *testing.T) string {
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
		return tn.AdminGroup
	}
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		output string // in stdout (code 0) or stderr
		want   string // the stored group afterwards
	}{
		{"set", []string{"acme", "Idpkit Admins"}, 0, `"Idpkit Admins" may sign in as admins at /t/acme/admin/signin`, "Idpkit Admins"},
		{"no group", []string{"acme"}, 2, "takes NAME and GROUP", "Idpkit Admins"},
		{"unknown tenant", []string{"nope", "Ops"}, 1, "nope", "Idpkit Admins"},
		{"change", []string{"acme", "Ops"}, 0, `"Ops"`, "Ops"},
		{"clear", []string{"acme", ""}, 0, "admin sign-in with Okta is off; use idpkit tenant admin-link acme", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"tenant", "admin-group"}, tc.args...)
			code, out, errs := runCmd(t, context.Background(), append(args, "--db", db)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, tc.code, out, errs)
			}
			text := out
			if code != 0 {
				text = errs
			}
			if !strings.Contains(text, tc.output) {
				t.Errorf("output %q does not contain %q", text, tc.output)
			}
			if diff := cmp.Diff(tc.want, stored(t)); diff != "" {
				t.Errorf("stored admin group (-want +got):\n%s", diff)
			}
		})
	}
}
