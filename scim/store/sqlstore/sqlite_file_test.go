package sqlstore_test

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
)

// helperEnv names the database file when the test binary runs as the
// second process of TestSQLiteTwoProcesses.
const helperEnv = "IDPKIT_SQLSTORE_HELPER_DB"

const processUpdates = 25

// bump appends tag to the JSON list in a record's Data.
func bump(tag string) func(r *store.Record) error {
	return func(r *store.Record) error {
		var seen []string
		if err := json.Unmarshal(r.Data, &seen); err != nil {
			return err
		}
		b, err := json.Marshal(append(seen, tag))
		r.Data = b
		return err
	}
}

// TestSQLiteHelperProcess is the other process of TestSQLiteTwoProcesses;
// run on its own (without helperEnv) it does nothing.
func TestSQLiteHelperProcess(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		return
	}
	s := openSQLite(t, path, sqlstore.Options{})
	ctx := t.Context()
	if err := s.CreateTenant(ctx, store.Tenant{Name: "child", TokenHash: []byte{2}}); err != nil {
		t.Fatalf("child: CreateTenant: %v", err)
	}
	for i := range processUpdates {
		if _, err := s.UpdateResource(ctx, "acme", store.TypeUser, "u1", bump("child")); err != nil {
			t.Fatalf("child: update %d: %v", i, err)
		}
	}
}

// TestSQLiteTwoProcesses writes one file from this process and a child
// process at the same time, as `idpkit tenant create` does while
// `idpkit serve` runs.
func TestSQLiteTwoProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "idpkit.db")
	s := openSQLite(t, path, sqlstore.Options{})
	ctx := t.Context()
	if _, err := s.CreateResource(ctx, "acme", store.Record{Type: store.TypeUser, ID: "u1", UserName: "u1", Data: []byte(`[]`)}); err != nil {
		t.Fatal(err)
	}

	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestSQLiteHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Keep writing until the child has finished, so the two overlap.
	parent := 0
	var childErr error
	for running := true; running || parent < processUpdates; parent++ {
		if _, err := s.UpdateResource(ctx, "acme", store.TypeUser, "u1", bump("parent")); err != nil {
			t.Fatalf("parent: update %d: %v", parent, err)
		}
		if parent == 3 {
			if err := s.CreateTenant(ctx, store.Tenant{Name: "parent", TokenHash: []byte{1}}); err != nil {
				t.Errorf("parent: CreateTenant: %v", err)
			}
		}
		// A pause between writes, as a server has between requests: SQLite's
		// busy handler is not fair, and a process that writes without pause
		// can starve the other past busy_timeout.
		select {
		case childErr = <-done:
			running = false
		case <-time.After(2 * time.Millisecond):
		}
	}
	if childErr != nil {
		t.Fatalf("child process: %v\n%s", childErr, out.String())
	}

	got, err := s.GetResource(ctx, "acme", store.TypeUser, "u1")
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	if err := json.Unmarshal(got.Data, &seen); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	switches := 0
	for i, tag := range seen {
		count[tag]++
		if i > 0 && tag != seen[i-1] {
			switches++
		}
	}
	t.Logf("%d parent and %d child updates, interleaved %d times", parent, count["child"], switches)
	if diff := cmp.Diff(map[string]int{"parent": parent, "child": processUpdates}, count); diff != "" {
		t.Errorf("updates applied (-want +got):\n%s", diff)
	}
	if want := int64(parent + processUpdates + 1); got.Version != want {
		t.Errorf("Version = %d, want %d", got.Version, want)
	}
	for _, name := range []string{"parent", "child"} {
		if _, err := s.GetTenant(ctx, name); err != nil {
			t.Errorf("GetTenant(%s): %v", name, err)
		}
	}
}

// TestSQLiteReopen checks that what one store wrote is all there after
// it is closed and the file is opened again (a restart loses nothing).
func TestSQLiteReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "idpkit.db")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	tenant := store.Tenant{Name: "acme", TokenHash: []byte{1, 2, 3}, OktaDomain: "https://dev-1.okta.com", ClientID: "c", ClientSecret: "s"}
	tok := store.Token{Kind: "session", Key: "k", Tenant: "acme", Value: []byte("v"), Expires: exp}

	first, err := sqlstore.Open(ctx, "sqlite:"+path, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.CreateTenant(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	rec, err := first.CreateResource(ctx, "acme", store.Record{Type: store.TypeUser, ID: "u1", UserName: "Alice", Data: []byte(`{"id":"u1"}`)})
	if err != nil {
		t.Fatal(err)
	}
	rec, err = first.UpdateResource(ctx, "acme", store.TypeUser, "u1", func(r *store.Record) error { r.DisplayName = "A"; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if err := first.PutToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := first.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	second := openSQLite(t, path, sqlstore.Options{})
	gotTenant, err := second.GetTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	tenant.Created, tenant.Modified = gotTenant.Created, gotTenant.Modified
	if diff := cmp.Diff(tenant, gotTenant); diff != "" {
		t.Errorf("tenant after reopen (-want +got):\n%s", diff)
	}
	gotRec, err := second.GetResource(ctx, "acme", store.TypeUser, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rec, gotRec); diff != "" {
		t.Errorf("resource after reopen (-want +got):\n%s", diff)
	}
	gotTok, err := second.GetToken(ctx, "session", "k")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(tok, gotTok); diff != "" {
		t.Errorf("token after reopen (-want +got):\n%s", diff)
	}
	if _, err := second.CreateResource(ctx, "acme", store.Record{Type: store.TypeUser, ID: "u2", UserName: "ALICE"}); !errors.Is(err, store.ErrExists) {
		t.Errorf("uniqueness after reopen: %v, want ErrExists", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, dsn, want string
	}{
		{"empty", "", "unsupported database"},
		{"unknown scheme", "mysql://root@localhost/x", `unsupported database "mysql:"`},
		{"no path", "sqlite:", "no file path"},
		{"memory", "sqlite::memory:", "plain file name"},
		{"query in path", "sqlite:" + dir + "/x.db?mode=ro", "plain file name"},
		{"missing directory", "sqlite:" + dir + "/no/such/dir/x.db", "sqlstore: open sqlite"},
		{"postgres unreachable", "postgres://nobody@127.0.0.1:1/x?sslmode=disable&connect_timeout=2", "sqlstore: connect to postgres"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := sqlstore.Open(t.Context(), c.dsn, sqlstore.Options{})
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded, want an error", c.dsn)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("Open(%q) = %v, want an error containing %q", c.dsn, err, c.want)
			}
		})
	}
}

func TestSQLiteAcceptsSlashForm(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	s, err := sqlstore.Open(t.Context(), "sqlite://"+path, sqlstore.Options{})
	if err != nil {
		t.Fatalf("Open(sqlite://%s): %v", path, err)
	}
	s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file not created: %v", err)
	}
}

func TestInvalidInput(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "x.db"), sqlstore.Options{})
	ctx := t.Context()
	for _, c := range []struct {
		name string
		err  error
	}{
		{"tenant without name", s.CreateTenant(ctx, store.Tenant{})},
		{"resource without id", func() error { _, err := s.CreateResource(ctx, "t", store.Record{Type: store.TypeUser}); return err }()},
		{"resource without type", func() error { _, err := s.CreateResource(ctx, "t", store.Record{ID: "x"}); return err }()},
		{"token without key", s.PutToken(ctx, store.Token{Kind: "k", Expires: time.Now().Add(time.Hour)})},
		{"token without expiry", s.PutToken(ctx, store.Token{Kind: "k", Key: "k"})},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.err == nil || !strings.HasPrefix(c.err.Error(), "sqlstore: ") {
				t.Errorf("error = %v, want a sqlstore: error", c.err)
			}
		})
	}
}
