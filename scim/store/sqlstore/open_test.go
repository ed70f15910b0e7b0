package sqlstore_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idpkit/idpkit/scim/store/sqlstore"
)

// TestDSNErrorHidesPassword: a PostgreSQL DSN that does not parse is
// refused without any part of it in the error (pgx's own message masks
// the password only as far as it can tell where it ends), with a hint
// about percent-encoding.
func TestDSNErrorHidesPassword(t *testing.T) {
	for _, dsn := range []string{
		"postgres://idpkit:zq7/k9v@db.internal:5432/idpkit",
		"postgres://idpkit:zq7@k9v:x@db.internal:notaport/idpkit",
		"postgres://idpkit:zq7 k9v#x@db.internal/idpkit?sslmode=nonsense",
	} {
		t.Run(dsn, func(t *testing.T) {
			st, err := sqlstore.Open(context.Background(), dsn, sqlstore.Options{})
			if err == nil {
				st.Close()
				t.Fatal("opened")
			}
			for _, part := range []string{"zq7", "k9v", "db.internal"} {
				if strings.Contains(err.Error(), part) {
					t.Errorf("error %q contains %q", err, part)
				}
			}
			if !strings.Contains(err.Error(), "percent-encode") {
				t.Errorf("error %q has no hint", err)
			}
		})
	}
}

// TestNewSQLiteFileMode: a database file the store creates is readable by
// its owner only, and so are the files SQLite adds beside it; an existing
// file keeps its mode.
func TestNewSQLiteFileMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "new.db")
	st, err := sqlstore.Open(context.Background(), "sqlite:"+path, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, f := range []string{path, path + "-wal"} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s has mode %04o, want no access for group and others", f, perm)
		}
	}
	old := filepath.Join(dir, "old.db")
	if err := os.WriteFile(old, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	st2, err := sqlstore.Open(context.Background(), "sqlite:"+old, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if fi, _ := os.Stat(old); fi.Mode().Perm() != 0o640 {
		t.Errorf("an existing file changed mode to %04o", fi.Mode().Perm())
	}
}

// TestUnsupportedDSNHidesIt: a DSN of another kind is refused naming its
// scheme only, never the rest (a key=value DSN has no scheme, and holds
// the password in the clear).
func TestUnsupportedDSNHidesIt(t *testing.T) {
	for _, tc := range []struct{ dsn, want string }{
		{"host=db.internal user=idpkit password=zq7k9v dbname=idpkit", "not a URL"},
		{"mysql://idpkit:zq7k9v@db.internal/idpkit", `"mysql:"`},
		{"zq7k9v", "not a URL"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			_, err := sqlstore.Open(context.Background(), tc.dsn, sqlstore.Options{})
			_, berr := sqlstore.Backup(context.Background(), tc.dsn, filepath.Join(t.TempDir(), "b.db"), false)
			for _, e := range []error{err, berr} {
				if e == nil || strings.Contains(e.Error(), "zq7k9v") || !strings.Contains(e.Error(), tc.want) {
					t.Errorf("error %v: want one saying %q without the password", e, tc.want)
				}
			}
		})
	}
}
