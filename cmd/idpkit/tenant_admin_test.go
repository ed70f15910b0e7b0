package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/store/sealed"
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
		{"set", []string{"acme", "Idpkit Admins"}, 0, `"Idpkit Admins" may sign in as admins at http://127.0.0.1:8080/t/acme/admin/signin`, "Idpkit Admins"},
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

// TestTenantAdminGroupNotes checks what admin-group says on stderr about
// what still stands between the admins and signing in, as the tenant's
// groups change: nothing pushed, another spelling, no active member, and
// nothing left to say.
func TestTenantAdminGroupNotes(t *testing.T) {
	ctx := context.Background()
	db := "sqlite:" + filepath.Join(t.TempDir(), "idpkit.db")
	t.Setenv("IDPKIT_DB", "")
	t.Setenv("IDPKIT_PUBLIC_URL", "https://app.example.com")
	if code, _, errs := runCmd(t, ctx, "tenant", "create", "acme", "--db", db); code != 0 {
		t.Fatalf("tenant create: exit %d: %s", code, errs)
	}
	st, err := sqlstore.Open(ctx, db, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	mustCreate := func(r store.Record) store.Record {
		t.Helper()
		got, err := st.CreateResource(ctx, "acme", r)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	unconfigured := "sign-in with Okta is not configured yet"
	for _, tc := range []struct {
		name    string
		setup   func()
		group   string
		notes   []string // each in stderr
		noNotes []string // none in stderr
	}{
		{"not pushed", func() {}, "Idpkit Admins",
			[]string{unconfigured, `Okta has not pushed a group named "Idpkit Admins"`}, nil},
		{"other spelling", func() {
			mustCreate(store.Record{Type: store.TypeGroup, ID: "g1", DisplayName: "idpkit admins", Data: []byte(`{"displayName":"idpkit admins"}`)})
		}, "Idpkit Admins", []string{`no SCIM group is named exactly "Idpkit Admins", but Okta pushed "idpkit admins"`}, nil},
		{"no active member", func() {
			mustCreate(store.Record{Type: store.TypeUser, ID: "u1", UserName: "bob@example.com", Data: []byte(`{"userName":"bob@example.com","active":false}`)})
			mustCreate(store.Record{Type: store.TypeGroup, ID: "g2", DisplayName: "Ops", Data: []byte(`{"displayName":"Ops"}`),
				Members: &store.MemberChange{Add: []store.Member{{Value: "u1"}}}})
		}, "Ops", []string{`the group "Ops" has no active members yet`}, []string{"has not pushed"}},
		{"an active member", func() {
			mustCreate(store.Record{Type: store.TypeUser, ID: "u2", UserName: "alice@example.com", Data: []byte(`{"userName":"alice@example.com","active":true}`)})
			if _, err := st.UpdateResource(ctx, "acme", store.TypeGroup, "g2", func(r *store.Record) error {
				r.Members = &store.MemberChange{Add: []store.Member{{Value: "u2"}}}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}, "Ops", []string{unconfigured}, []string{"no active members", "has not pushed", "exactly"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.setup()
			code, out, errs := runCmd(t, ctx, "tenant", "admin-group", "acme", tc.group, "--db", db)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if want := "at https://app.example.com/t/acme/admin/signin"; !strings.Contains(out, want) {
				t.Errorf("stdout %q does not name the sign-in address %q", out, want)
			}
			for _, n := range tc.notes {
				if !strings.Contains(errs, n) {
					t.Errorf("stderr %q does not say %q", errs, n)
				}
			}
			for _, n := range tc.noNotes {
				if strings.Contains(errs, n) {
					t.Errorf("stderr %q says %q", errs, n)
				}
			}
		})
	}
}

// TestTenantCommandsAudit checks that every tenant command that changes a
// tenant leaves an admin record (actor "cli") in its audit trail, with
// identifiers only: never the token, the link or the client secret.
func TestTenantCommandsAudit(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "idpkit.db")
	t.Setenv("IDPKIT_DB", "")
	t.Setenv("IDPKIT_PUBLIC_URL", "http://127.0.0.1:8080")
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, []byte(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var printed []string // what the commands printed: none of it may be in the trail
	for _, args := range [][]string{
		{"tenant", "create", "acme"},
		{"tenant", "admin-link", "acme"},
		{"tenant", "rotate-token", "acme", "--grace", "10m"},
		{"tenant", "rotate-token", "acme"},
		{"tenant", "admin-group", "acme", "Idpkit Admins"},
		{"tenant", "configure", "acme", "--okta-domain", "http://127.0.0.1:1", "--client-id", "0oa1", "--client-secret", "s3cr3t-value"},
	} {
		_, out, _ := runCmd(t, ctx, append(args, "--db", db)...)
		printed = append(printed, out)
	}
	st, err := sqlstore.Open(ctx, db, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// A secret in clear (as before any key), which rotate-key encrypts
	// once: a second run rewrites, and records, nothing.
	if _, err := st.UpdateTenant(ctx, "acme", func(tn *store.Tenant) error { tn.ClientSecret = "s3cr3t-value"; return nil }); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if code, out, errs := runCmd(t, ctx, "tenant", "rotate-key", "--secret-key-file", keyFile, "--db", db); code != 0 {
			t.Fatalf("rotate-key: exit %d: %s%s", code, out, errs)
		}
	}
	recs, err := st.ListAudit(ctx, "acme", time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ Kind, Actor, Action, Outcome, Detail string }
	var got []row
	for _, r := range recs {
		got = append(got, row{r.Kind, r.Actor, r.Action, r.Outcome, string(r.Detail)})
		all := r.Actor + r.Source + r.Action + r.Target + string(r.Detail) + r.Outcome
		for _, p := range append(printed, "s3cr3t-value") {
			for _, word := range strings.Fields(p) {
				if len(word) >= 20 && strings.Contains(all, strings.Trim(word, `",`)) {
					t.Errorf("audit record %+v holds %q, which a command printed", r, word)
				}
			}
		}
	}
	keys, err := sealed.NewKeys(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	want := []row{
		{"admin", "cli", "tenant-created", "ok", ""},
		{"admin", "cli", "admin-link-issued", "ok", ""},
		{"admin", "cli", "secret-rotated", "ok", `{"grace":"10m0s"}`},
		{"admin", "cli", "secret-rotated", "ok", `{"grace":"0s"}`},
		{"admin", "cli", "admin-group-saved", "ok", ""},
		{"admin", "cli", "sign-in-saved", "refused", `{"reason":"check-failed"}`},
		{"admin", "cli", "key-rotated", "ok", `{"key":"` + keys.ID() + `"}`},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit trail (-want +got):\n%s", diff)
	}
}
