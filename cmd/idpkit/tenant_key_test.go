package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/mockidp"
	"github.com/idpkit/idpkit/mockidp/directory"
	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/store/sealed"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
	"github.com/idpkit/idpkit/scim/store/sqlstore/pgtest"
)

// secretKeyVars are the environment variables of the secret keys.
var secretKeyVars = []string{"IDPKIT_SECRET_KEY", "IDPKIT_SECRET_KEY_FILE", "IDPKIT_OLD_SECRET_KEY", "IDPKIT_OLD_SECRET_KEY_FILE"}

// writeKey writes a key file of 32 bytes of b and returns its path and
// its text.
func writeKey(t *testing.T, b byte) (path, text string) {
	t.Helper()
	text = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, sealed.KeySize))
	path = filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(path, []byte(text+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, text
}

// rawSecrets reads the client_secret column of every tenant of an SQLite
// file with database/sql, in name order.
func rawSecrets(t *testing.T, path string) map[string]string {
	t.Helper()
	driver := "sqlite"
	if !slices.Contains(sql.Drivers(), driver) {
		driver = "sqlite3"
	}
	db, err := sql.Open(driver, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name, client_secret FROM tenants`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var n, v string
		if err := rows.Scan(&n, &v); err != nil {
			t.Fatal(err)
		}
		out[n] = v
	}
	return out
}

// serveOnce starts serve with args and env, and returns its exit status
// and output: at once when it refuses to start, else after it answered
// /healthz and was stopped.
func serveOnce(t *testing.T, db string, env map[string]string, args ...string) (int, string) {
	t.Helper()
	for _, k := range secretKeyVars {
		t.Setenv(k, "")
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--db", db, "--addr", addr}, args...), &stderr, &stderr)
	}()
	if !waitUp(addr, done) {
		return <-done, stderr.String()
	}
	cancel()
	return <-done, stderr.String()
}

// waitUp reports whether serve at addr answered /healthz before it exited.
func waitUp(addr string, done chan int) bool {
	for range 200 {
		select {
		case code := <-done:
			done <- code
			return false
		default:
		}
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// TestSecretsAtRest goes through an operator's life with a secret key:
// configure a tenant with the key, serve refusing to start without it,
// serve with it, rotate to a new key, serve with only the new one.
func TestSecretsAtRest(t *testing.T) {
	okta := mockidp.NewServer()
	defer okta.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "idpkit.db")
	db := "sqlite:" + path
	for _, k := range secretKeyVars {
		t.Setenv(k, "")
	}
	for _, n := range []string{"acme", "globex", "initech"} {
		if code, _, errs := runCmd(t, context.Background(), "tenant", "create", n, "--db", db); code != 0 {
			t.Fatalf("tenant create: %s", errs)
		}
	}
	oidcApp, err := okta.Directory().CreateApp(directory.App{Label: "sign-in", OAuthClient: &directory.OAuthClient{
		RedirectURIs: []string{"http://127.0.0.1:8080/t/acme/oidc/callback", "http://127.0.0.1:8080/t/globex/oidc/callback", "http://127.0.0.1:8080/t/initech/oidc/callback"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	secret := oidcApp.OAuthClient.ClientSecret
	configure := func(name string, extra ...string) {
		t.Helper()
		args := append([]string{"tenant", "configure", name, "--db", db, "--okta-domain", okta.URL, "--client-id", oidcApp.OAuthClient.ClientID, "--client-secret", secret}, extra...)
		if code, out, errs := runCmd(t, context.Background(), args...); code != 0 {
			t.Fatalf("tenant configure %s exited %d:\n%s%s", name, code, out, errs)
		}
	}
	oldFile, oldText := writeKey(t, 1)
	newFile, _ := writeKey(t, 2)
	oldID, newID := sealed.KeyID(bytes.Repeat([]byte{1}, 32)), sealed.KeyID(bytes.Repeat([]byte{2}, 32))

	// initech is configured before any key: its secret is in clear.
	configure("initech")
	if got := rawSecrets(t, path)["initech"]; got != secret {
		t.Fatalf("without a key the secret is stored as %q, want it in clear", got)
	}
	configure("acme", "--secret-key-file", oldFile)
	t.Setenv("IDPKIT_SECRET_KEY", oldText)
	configure("globex")
	t.Setenv("IDPKIT_SECRET_KEY", "")
	idOf := func() map[string]string {
		m := map[string]string{}
		for n, v := range rawSecrets(t, path) {
			if strings.Contains(v, secret) {
				t.Errorf("the raw row of %s holds the clear secret: %q", n, v)
			}
			m[n] = sealed.SealedKeyID(v)
		}
		return m
	}
	raw := rawSecrets(t, path)
	if diff := cmp.Diff(map[string]string{"acme": oldID, "globex": oldID, "initech": ""}, map[string]string{
		"acme": sealed.SealedKeyID(raw["acme"]), "globex": sealed.SealedKeyID(raw["globex"]), "initech": sealed.SealedKeyID(raw["initech"]),
	}); diff != "" {
		t.Errorf("key ids after configure (-want +got):\n%s", diff)
	}

	t.Run("configure without a key refused", func(t *testing.T) {
		code, _, errs := runCmd(t, context.Background(), "tenant", "configure", "initech", "--db", db, "--okta-domain", okta.URL, "--client-id", "x", "--client-secret", "y")
		if code != 1 || !strings.Contains(errs, "the database holds encrypted secrets: set IDPKIT_SECRET_KEY_FILE (or IDPKIT_SECRET_KEY, or --secret-key-file)") {
			t.Errorf("exit %d, want 1 saying a key is needed:\n%s", code, errs)
		}
	})

	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		code     int
		contains string
	}{
		{"no key", nil, nil, 1, "idpkit: serve: the database holds encrypted secrets: set IDPKIT_SECRET_KEY_FILE (or IDPKIT_SECRET_KEY, or --secret-key-file)"},
		{"wrong key", nil, []string{"--secret-key-file", newFile}, 1, "the secret key does not open the encrypted secrets"},
		{"key by flag", nil, []string{"--secret-key-file", oldFile}, 0, "secret_key_id=" + oldID},
		{"key by env", map[string]string{"IDPKIT_SECRET_KEY": oldText}, nil, 0, "secret_key_id=" + oldID},
		{"key file by env", map[string]string{"IDPKIT_SECRET_KEY_FILE": oldFile}, nil, 0, "secret_key_id=" + oldID},
		{"both env", map[string]string{"IDPKIT_SECRET_KEY_FILE": oldFile, "IDPKIT_SECRET_KEY": oldText}, nil, 2, "not both"},
		{"bad key", map[string]string{"IDPKIT_SECRET_KEY": "c2hvcnQ="}, nil, 1, "the secret key is 5 bytes, want 32"},
		{"new key with the old one", map[string]string{"IDPKIT_OLD_SECRET_KEY_FILE": oldFile}, []string{"--secret-key-file", newFile}, 0, "secret_key_id=" + newID + " old_secret_key_ids=" + oldID},
		{"old key alone", map[string]string{"IDPKIT_OLD_SECRET_KEY": oldText}, nil, 2, "no secret key"},
	}
	for _, tt := range tests {
		t.Run("serve "+tt.name, func(t *testing.T) {
			code, out := serveOnce(t, db, tt.env, tt.args...)
			if code != tt.code || !strings.Contains(out, tt.contains) {
				t.Errorf("serve exited %d (want %d); want output containing %q:\n%s", code, tt.code, tt.contains, out)
			}
		})
	}

	t.Run("rotate-key", func(t *testing.T) {
		for _, k := range secretKeyVars {
			t.Setenv(k, "")
		}
		code, _, errs := runCmd(t, context.Background(), "tenant", "rotate-key", "--db", db, "--secret-key-file", newFile)
		if code != 1 || !strings.Contains(errs, "--old-key-file") {
			t.Errorf("rotate-key without the old key exited %d, want 1 asking for --old-key-file:\n%s", code, errs)
		}
		code, out, errs := runCmd(t, context.Background(), "tenant", "rotate-key", "--db", db, "--secret-key-file", newFile, "--old-key-file", oldFile)
		if code != 0 || !strings.Contains(out, "re-encrypted 3 of 3 tenants under key "+newID) {
			t.Fatalf("rotate-key exited %d:\n%s%s", code, out, errs)
		}
		if diff := cmp.Diff(map[string]string{"acme": newID, "globex": newID, "initech": newID}, idOf()); diff != "" {
			t.Errorf("key ids after rotate-key (-want +got):\n%s", diff)
		}
		// Again, the old key from the environment: nothing left to do.
		t.Setenv("IDPKIT_OLD_SECRET_KEY", oldText)
		code, out, errs = runCmd(t, context.Background(), "tenant", "rotate-key", "--db", db, "--secret-key-file", newFile)
		if code != 0 || !strings.Contains(out, "re-encrypted 0 of 3 tenants under key "+newID+" (every tenant was under it already)") {
			t.Errorf("rotate-key again exited %d:\n%s%s", code, out, errs)
		}
		t.Setenv("IDPKIT_OLD_SECRET_KEY", "")
		// With serve's environment loaded (IDPKIT_SECRET_KEY_FILE, the key
		// in use), a bare rotate-key is a usage error, not a silent no-op,
		// and the key in use given as the new one is refused.
		t.Setenv("IDPKIT_SECRET_KEY_FILE", newFile)
		if code, _, errs := runCmd(t, context.Background(), "tenant", "rotate-key", "--db", db); code != 2 || !strings.Contains(errs, "needs the new key as --secret-key-file") {
			t.Errorf("bare rotate-key with serve's environment exited %d, want 2:\n%s", code, errs)
		}
		if code, _, errs := runCmd(t, context.Background(), "tenant", "rotate-key", "--db", db, "--secret-key-file", newFile); code != 2 || !strings.Contains(errs, "is the key in use") {
			t.Errorf("rotate-key to the key in use exited %d, want 2:\n%s", code, errs)
		}
		// Back to the old key, which serve's environment names as the
		// key in use: no --old-key-file needed.
		code, out, errs = runCmd(t, context.Background(), "tenant", "rotate-key", "--db", db, "--secret-key-file", oldFile)
		if code != 0 || !strings.Contains(out, "re-encrypted 3 of 3 tenants under key "+sealed.KeyID(mustParseKeyFile(t, oldFile))) {
			t.Errorf("rotate-key from serve's key exited %d:\n%s%s", code, out, errs)
		}
		code, out, errs = runCmd(t, context.Background(), "tenant", "rotate-key", "--db", db, "--secret-key-file", newFile, "--old-key-file", oldFile)
		if code != 0 || !strings.Contains(out, "re-encrypted 3 of 3") {
			t.Fatalf("rotate-key back to the new key exited %d:\n%s%s", code, out, errs)
		}
		t.Setenv("IDPKIT_SECRET_KEY_FILE", "")
		if code, out := serveOnce(t, db, nil, "--secret-key-file", newFile); code != 0 {
			t.Errorf("serve with the new key only exited %d:\n%s", code, out)
		}
		if code, out := serveOnce(t, db, nil, "--secret-key-file", oldFile); code != 1 || !strings.Contains(out, "does not open") {
			t.Errorf("serve with the old key exited %d, want 1:\n%s", code, out)
		}
		if code, _, errs := runCmd(t, context.Background(), "tenant", "rotate-key", "--db", db); code != 2 || !strings.Contains(errs, "needs the new key") {
			t.Errorf("rotate-key without keys exited %d, want 2:\n%s", code, errs)
		}
	})
}

// TestTenantNames: serve's own listing of tenants reads SQLite and
// PostgreSQL alike, all of them or only those with an encrypted secret.
func TestTenantNames(t *testing.T) {
	dsns := map[string]string{
		"sqlite":   "sqlite:" + filepath.Join(t.TempDir(), "idpkit.db"),
		"postgres": pgtest.Schema(t, "idpkit_cmd_", true),
	}
	for name, dsn := range dsns {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			raw, err := sqlstore.Open(ctx, dsn, sqlstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			k, _ := sealed.NewKeys(bytes.Repeat([]byte{5}, sealed.KeySize))
			for _, tn := range []store.Tenant{{Name: "b", ClientSecret: "x"}, {Name: "a"}, {Name: "c", ClientSecret: "y"}} {
				tn.TokenHash = []byte{1}
				st := store.Store(raw)
				if tn.Name == "c" {
					st = sealed.New(raw, k)
				}
				if err := st.CreateTenant(ctx, tn); err != nil {
					t.Fatal(err)
				}
			}
			all, err := tenantNames(ctx, dsn, secretsAny)
			if err != nil {
				t.Fatal(err)
			}
			enc, err := tenantNames(ctx, dsn, secretsSealed)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([][]string{{"a", "b", "c"}, {"c"}}, [][]string{all, enc}); diff != "" {
				t.Errorf("tenantNames (-want +got):\n%s", diff)
			}
		})
	}
}

// mustParseKeyFile reads a key file as serve does.
func mustParseKeyFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, err := sealed.ParseKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestKeyFilePermissions: a key file other users may read is refused,
// naming the fix; one the group may read is accepted.
func TestKeyFilePermissions(t *testing.T) {
	dir := t.TempDir()
	text := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))
	for _, tc := range []struct {
		mode os.FileMode
		want string // "" when accepted
	}{
		{0o600, ""},
		{0o640, ""},
		{0o644, "may be read or written by other users (mode 0644): chmod 600"},
		{0o666, "mode 0666"},
		{0o602, "mode 0602"},
	} {
		t.Run(fmt.Sprintf("%04o", tc.mode), func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("key%o", tc.mode))
			if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tc.mode); err != nil {
				t.Fatal(err)
			}
			_, err := readKeyFile(path)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestDamagedSecretStarts: with the right key, one tenant whose stored
// secret does not open (damaged, or copied from another tenant) no longer
// stops serve for every tenant: it starts and names that tenant, and it
// names a secret still stored in clear beside a key; a key that opens
// none of the secrets is still refused.
func TestDamagedSecretStarts(t *testing.T) {
	ctx := context.Background()
	db := "sqlite:" + filepath.Join(t.TempDir(), "idpkit.db")
	keyFile, _ := writeKey(t, 1)
	otherFile, _ := writeKey(t, 2)
	raw, err := sqlstore.Open(ctx, db, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	k, err := sealed.NewKeys(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	st := sealed.New(raw, k)
	for _, n := range []string{"acme", "globex"} {
		if err := st.CreateTenant(ctx, store.Tenant{Name: n, TokenHash: []byte{1}, ClientSecret: "secret-of-" + n}); err != nil {
			t.Fatal(err)
		}
	}
	if err := raw.CreateTenant(ctx, store.Tenant{Name: "initech", TokenHash: []byte{1}, ClientSecret: "in-clear"}); err != nil {
		t.Fatal(err)
	}
	// globex gets acme's sealed value: it names acme in its additional data.
	acme, err := raw.GetTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.UpdateTenant(ctx, "globex", func(tn *store.Tenant) error { tn.ClientSecret = acme.ClientSecret; return nil }); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	code, out := serveOnce(t, db, nil, "--secret-key-file", keyFile)
	for _, want := range []string{`the client secret of tenant \"globex\" does not open with the key that opens the others'`, `its sign-ins are refused`, `the client secret of tenant \"initech\" is stored in clear`} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("serve exited %d; want it running and saying %q:\n%s", code, want, out)
		}
	}
	if strings.Contains(out, `\"acme\" does not open`) {
		t.Errorf("acme is named as damaged:\n%s", out)
	}
	if code, out := serveOnce(t, db, nil, "--secret-key-file", otherFile); code != 1 || !strings.Contains(out, "does not open the encrypted secrets") {
		t.Errorf("serve with a key that opens nothing exited %d, want 1:\n%s", code, out)
	}
}
