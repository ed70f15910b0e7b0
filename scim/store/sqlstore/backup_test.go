package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/store"
)

// userRecord is a complete User: its JSON repeats the indexed fields, so
// a torn write would show as a mismatch.
func userRecord(i int) store.Record {
	name := fmt.Sprintf("user%07d@example.com", i)
	data, _ := json.Marshal(map[string]any{
		"userName": name, "externalId": fmt.Sprintf("ext%d", i), "displayName": fmt.Sprintf("User %d", i),
		"emails": []map[string]any{{"value": name, "primary": true}}, "active": true,
	})
	return store.Record{Type: store.TypeUser, ID: fmt.Sprintf("u%07d", i), UserName: name,
		ExternalID: fmt.Sprintf("ext%d", i), DisplayName: fmt.Sprintf("User %d", i), Emails: []string{name}, Data: data}
}

// checkUser reports how r is not the complete userRecord it was made as.
func checkUser(r store.Record) error {
	var d struct {
		UserName, ExternalID, DisplayName string
		Emails                            []struct{ Value string }
	}
	if err := json.Unmarshal(r.Data, &d); err != nil {
		return fmt.Errorf("user %s: data %q: %v", r.ID, r.Data, err)
	}
	if d.UserName != r.UserName || d.ExternalID != r.ExternalID || d.DisplayName != r.DisplayName ||
		len(d.Emails) != 1 || len(r.Emails) != 1 || d.Emails[0].Value != r.Emails[0] || r.Version != 1 {
		return fmt.Errorf("user %s is incomplete: %+v, data %s", r.ID, r, r.Data)
	}
	return nil
}

// backupSeedUsers fills a tenant of s with n users and returns nothing; the
// users are userRecord(first … first+n-1).
func backupSeedUsers(t testing.TB, s *Store, tenant string, first, n int) {
	t.Helper()
	rs := make([]store.Record, 0, n)
	for i := first; i < first+n; i++ {
		rs = append(rs, userRecord(i))
	}
	if err := s.CreateResources(t.Context(), tenant, rs); err != nil {
		t.Fatal(err)
	}
}

func backupTenant(name string) store.Tenant {
	return store.Tenant{Name: name, TokenHash: []byte("hash-" + name), OktaDomain: "https://" + name + ".okta.com",
		Issuer: "https://" + name + ".okta.com", ClientID: "0oa" + name, ClientSecret: "secret-" + name}
}

func integrityCheck(t testing.TB, path string) {
	t.Helper()
	db, err := rawSQLite(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&res); err != nil || res != "ok" {
		t.Fatalf("integrity_check of %s = %q, %v", path, res, err)
	}
}

// dumpTables returns every row of every table of the SQLite file path,
// rendered as text, in a stable order.
func dumpTables(t testing.TB, path string) map[string][]string {
	t.Helper()
	db, err := rawSQLite(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	out := map[string][]string{}
	for _, tb := range tables {
		rows, err := db.Query(`SELECT * FROM "` + tb + `" ORDER BY 1, 2`)
		if err != nil {
			rows, err = db.Query(`SELECT * FROM "` + tb + `" ORDER BY 1`)
		}
		if err != nil {
			t.Fatalf("dump %s: %v", tb, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for i, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				fmt.Fprintf(&b, "%s=%v;", cols[i], v)
			}
			out[tb] = append(out[tb], b.String())
		}
		rows.Close()
	}
	return out
}

// TestOpenRefusesNewerSchema: a database at a migration this build does
// not know is refused on both backends, with "upgrade idpkit".
func TestOpenRefusesNewerSchema(t *testing.T) {
	for name, dsn := range backends {
		t.Run(name, func(t *testing.T) {
			d := dsn(t)
			s := openAt(t, d, len(migrations), Options{})
			if _, err := s.w.ExecContext(t.Context(), s.q(`INSERT INTO migrations (num, applied) VALUES ($1, 1)`), len(migrations)+1); err != nil {
				t.Fatal(err)
			}
			s.Close()
			s2, err := Open(t.Context(), d, Options{})
			if err == nil {
				s2.Close()
				t.Fatal("Open of a newer schema succeeded")
			}
			want := fmt.Sprintf("database is at migration %d but this build knows only %d; upgrade idpkit", len(migrations)+1, len(migrations))
			if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), want) {
				t.Errorf("Open error = %v; want ErrNewerSchema saying %q", err, want)
			}
		})
	}
}

// TestBackupWhileWriting backs up while another goroutine keeps creating
// users: the copy checks, every user in it is complete, its counts agree
// with its rows, and it holds between the users before and after.
func TestBackupWhileWriting(t *testing.T) {
	for _, tc := range []struct {
		name    string
		initial int
		batch   int // users per write of the writer; 1 is CreateResource
	}{
		{"single creates", 20000, 1},
		{"batches", 20000, 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			dir := t.TempDir()
			src := filepath.Join(dir, "live.db")
			s := openAt(t, "sqlite:"+src, len(migrations), Options{})
			if err := s.CreateTenant(ctx, backupTenant("acme")); err != nil {
				t.Fatal(err)
			}
			backupSeedUsers(t, s, "acme", 0, tc.initial)

			wctx, stop := context.WithCancel(ctx)
			var wg sync.WaitGroup
			var werr error
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := tc.initial; wctx.Err() == nil; i += tc.batch {
					var err error
					if tc.batch == 1 {
						_, err = s.CreateResource(wctx, "acme", userRecord(i))
					} else {
						rs := make([]store.Record, tc.batch)
						for j := range rs {
							rs[j] = userRecord(i + j)
						}
						err = s.CreateResources(wctx, "acme", rs)
					}
					if err != nil && wctx.Err() == nil {
						werr = err
						return
					}
				}
			}()
			count := func() int {
				n, err := s.CountResources(ctx, "acme", store.TypeUser, nil)
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			time.Sleep(20 * time.Millisecond)
			before := count()
			file := filepath.Join(dir, "backup.db")
			info, err := Backup(ctx, "sqlite:"+src, file, false)
			after := count()
			stop()
			wg.Wait()
			if err != nil {
				t.Fatalf("Backup: %v", err)
			}
			if werr != nil {
				t.Fatalf("writer: %v", werr)
			}
			if after <= before {
				t.Fatalf("the writer made no progress during the backup (%d users before, %d after)", before, after)
			}
			integrityCheck(t, file)
			if _, err := os.Stat(file + "-wal"); err == nil {
				t.Errorf("the backup left a -wal file beside it")
			}

			b := openAt(t, "sqlite:"+file, len(migrations), Options{})
			got, err := b.CountResources(ctx, "acme", store.TypeUser, nil)
			if err != nil {
				t.Fatal(err)
			}
			var rows int
			if err := b.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM resources WHERE type = 'User'`).Scan(&rows); err != nil {
				t.Fatal(err)
			}
			if got != rows || info.Users != rows || info.Tenants != 1 || info.Migration != len(migrations) {
				t.Errorf("backup counts %d users, holds %d rows, info %+v", got, rows, info)
			}
			if rows < before || rows > after {
				t.Errorf("backup holds %d users; want between %d (before) and %d (after)", rows, before, after)
			}
			if tc.batch > 1 && rows%tc.batch != tc.initial%tc.batch {
				t.Errorf("backup holds %d users: a batch of %d is cut", rows, tc.batch)
			}
			seen := 0
			if err := b.ScanResources(ctx, "acme", store.TypeUser, store.Query{}, func(r store.Record) error {
				seen++
				return checkUser(r)
			}); err != nil {
				t.Fatal(err)
			}
			if seen != rows {
				t.Errorf("scanned %d users, want %d", seen, rows)
			}
			t.Logf("backup of %d users (%d bytes) in %s while %d users were created", rows, info.Bytes, info.Took.Round(time.Millisecond), after-before)
		})
	}
}

// fixture fills a database with two tenants, users, groups with members
// and tokens, and returns what a restore must give back.
type snapshot struct {
	Tenants []store.Tenant
	Users   map[string][]store.Record
	Groups  map[string][]store.Record
	Members map[string][]store.Member
	Tokens  []store.Token
}

var fixtureTokens = []store.Token{
	{Kind: "session", Key: "s1", Tenant: "acme", Value: []byte("v1")},
	{Kind: "admin-link", Key: "a1", Tenant: "globex", Value: []byte("v2")},
}

func fillFixture(t testing.TB, s *Store, now time.Time) {
	t.Helper()
	ctx := t.Context()
	for ti, name := range []string{"acme", "globex"} {
		if err := s.CreateTenant(ctx, backupTenant(name)); err != nil {
			t.Fatal(err)
		}
		backupSeedUsers(t, s, name, ti*100, 30)
		for g := range 3 {
			ms := []store.Member{{Value: fmt.Sprintf("u%07d", ti*100+g), Display: "first"}, {Value: fmt.Sprintf("u%07d", ti*100+g+10)}}
			if _, err := s.CreateResource(ctx, name, store.Record{Type: store.TypeGroup, ID: fmt.Sprintf("g%d", g),
				DisplayName: fmt.Sprintf("Group %d", g), Data: []byte(fmt.Sprintf(`{"displayName":"Group %d"}`, g)),
				Members: &store.MemberChange{Add: ms}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tok := range fixtureTokens {
		tok.Expires = now.Add(time.Hour)
		if err := s.PutToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
}

func takeSnapshot(t testing.TB, dsn string) snapshot {
	t.Helper()
	ctx := t.Context()
	s, err := Open(ctx, dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	snap := snapshot{Users: map[string][]store.Record{}, Groups: map[string][]store.Record{}, Members: map[string][]store.Member{}}
	for _, name := range []string{"acme", "globex"} {
		tn, err := s.GetTenant(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		snap.Tenants = append(snap.Tenants, tn)
		if snap.Users[name], err = s.ListResources(ctx, name, store.TypeUser, store.Query{}); err != nil {
			t.Fatal(err)
		}
		if snap.Groups[name], err = s.ListResources(ctx, name, store.TypeGroup, store.Query{}); err != nil {
			t.Fatal(err)
		}
		for _, g := range snap.Groups[name] {
			if snap.Members[name+"/"+g.ID], err = s.ListMembers(ctx, name, g.ID, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tok := range fixtureTokens {
		got, err := s.GetToken(ctx, tok.Kind, tok.Key)
		if err == nil {
			snap.Tokens = append(snap.Tokens, got)
		}
	}
	return snap
}

// TestRestore: a restore gives back exactly the tenants, users, groups,
// members and tokens of the backup, into a new path, an empty database,
// and with force over a database that holds other tenants.
func TestRestore(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name   string
		target func(t *testing.T, path string) // prepares the target
		force  bool
	}{
		{"new path", func(*testing.T, string) {}, false},
		{"empty database", func(t *testing.T, path string) {
			openAt(t, "sqlite:"+path, len(migrations), Options{}).Close()
		}, false},
		{"empty file", func(t *testing.T, path string) {
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"through a symbolic link", func(t *testing.T, path string) {
			real := filepath.Join(filepath.Dir(path), "real.db")
			openAt(t, "sqlite:"+real, len(migrations), Options{}).Close()
			if err := os.Symlink("real.db", path); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"another owner", func(t *testing.T, path string) {
			openAt(t, "sqlite:"+path, len(migrations), Options{}).Close()
			if os.Geteuid() == 0 {
				// As root (CI): a database of the server's own user.
				if err := os.Chown(path, 65534, 65534); err != nil {
					t.Fatal(err)
				}
			}
		}, false},
		{"force over other tenants", func(t *testing.T, path string) {
			s := openAt(t, "sqlite:"+path, len(migrations), Options{})
			if err := s.CreateTenant(t.Context(), backupTenant("initech")); err != nil {
				t.Fatal(err)
			}
			if err := s.CreateTenant(t.Context(), backupTenant("acme")); err != nil {
				t.Fatal(err)
			}
			backupSeedUsers(t, s, "acme", 5000, 7)
			s.Close()
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			dir := t.TempDir()
			src := "sqlite:" + filepath.Join(dir, "src.db")
			s := openAt(t, src, len(migrations), Options{})
			fillFixture(t, s, now)
			s.Close()
			want := takeSnapshot(t, src)
			file := filepath.Join(dir, "backup.db")
			if _, err := Backup(ctx, src, file, false); err != nil {
				t.Fatal(err)
			}
			target := filepath.Join(dir, "sub", "restored.db")
			os.Mkdir(filepath.Dir(target), 0o700)
			tc.target(t, target)
			info, err := Restore(ctx, "sqlite:"+target, file, tc.force)
			if err != nil {
				t.Fatalf("Restore: %v", err)
			}
			if info.Tenants != 2 || info.Users != 60 || info.Groups != 6 {
				t.Errorf("Restore info %+v; want 2 tenants, 60 users, 6 groups", info)
			}
			got := takeSnapshot(t, "sqlite:"+target)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("restored (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(dumpTables(t, filepath.Join(dir, "src.db")), dumpTables(t, target)); diff != "" {
				t.Errorf("restored tables (-source +restored):\n%s", diff)
			}
			integrityCheck(t, target)
			switch tc.name {
			case "through a symbolic link":
				if fi, err := os.Lstat(target); err != nil || fi.Mode()&os.ModeSymlink == 0 {
					t.Errorf("the link was replaced: %v %v", fi, err)
				}
			case "another owner":
				want := uint32(os.Geteuid())
				if want == 0 {
					want = 65534
				}
				fi, _ := os.Stat(target)
				if st, ok := fi.Sys().(*syscall.Stat_t); ok && (st.Uid != want || st.Gid != want && os.Geteuid() == 0) {
					t.Errorf("restored file owned by %d:%d, want the target's %d", st.Uid, st.Gid, want)
				}
			}
			left, _ := filepath.Glob(filepath.Join(dir, "sub", ".*tmp-*"))
			if len(left) > 0 {
				t.Errorf("temporary files left: %q", left)
			}
		})
	}
}

// TestBackupRestoreRefusals: each refusal wraps its sentinel, says what
// to do, and leaves the files as they were.
func TestBackupRestoreRefusals(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	src := filepath.Join(dir, "src.db")
	s := openAt(t, "sqlite:"+src, len(migrations), Options{})
	fillFixture(t, s, time.Now())
	s.Close()
	good := filepath.Join(dir, "good.db")
	if _, err := Backup(ctx, "sqlite:"+src, good, false); err != nil {
		t.Fatal(err)
	}
	newer := filepath.Join(dir, "newer.db")
	if _, err := Backup(ctx, "sqlite:"+src, newer, false); err != nil {
		t.Fatal(err)
	}
	if db, err := rawSQLite(newer, time.Second); err != nil {
		t.Fatal(err)
	} else {
		if _, err := db.Exec(`INSERT INTO migrations (num, applied) VALUES (?, 1)`, len(migrations)+1); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	notDB := filepath.Join(dir, "notes.txt")
	os.WriteFile(notDB, []byte("not a database, but long enough to look like one to nobody at all............................................."), 0o600)

	for _, tc := range []struct {
		name    string
		do      func(t *testing.T) error
		is      error
		message string
	}{
		{"backup over an existing file", func(t *testing.T) error {
			_, err := Backup(ctx, "sqlite:"+src, good, false)
			return err
		}, ErrFileExists, "good.db: file exists; pass --force to replace it"},
		{"backup of postgres", func(t *testing.T) error {
			_, err := Backup(ctx, "postgres://u@db/idpkit", filepath.Join(dir, "pg.db"), false)
			return err
		}, ErrPostgresBackup, "pg_dump --format=custom"},
		{"restore into postgres", func(t *testing.T) error {
			_, err := Restore(ctx, "postgresql://u@db/idpkit", good, false)
			return err
		}, ErrPostgresBackup, "pg_restore --clean"},
		{"backup of a missing database", func(t *testing.T) error {
			_, err := Backup(ctx, "sqlite:"+filepath.Join(dir, "missing.db"), filepath.Join(dir, "m.db"), false)
			return err
		}, os.ErrNotExist, "missing.db"},
		{"restore into a database with tenants", func(t *testing.T) error {
			_, err := Restore(ctx, "sqlite:"+src, good, false)
			return err
		}, ErrNotEmpty, "holds 2 tenants: target database is not empty; pass --force to replace it"},
		{"restore of a newer schema", func(t *testing.T) error {
			_, err := Restore(ctx, "sqlite:"+filepath.Join(dir, "fresh.db"), newer, false)
			return err
		}, ErrNewerSchema, "upgrade idpkit"},
		{"restore of a newer schema with force", func(t *testing.T) error {
			_, err := Restore(ctx, "sqlite:"+src, newer, true)
			return err
		}, ErrNewerSchema, "upgrade idpkit"},
		{"restore of a file that is no database", func(t *testing.T) error {
			_, err := Restore(ctx, "sqlite:"+filepath.Join(dir, "fresh.db"), notDB, false)
			return err
		}, nil, "not a readable SQLite database"},
		{"restore while the target is open", func(t *testing.T) error {
			live := openAt(t, "sqlite:"+src, len(migrations), Options{})
			if err := live.Ping(ctx); err != nil {
				t.Fatal(err)
			}
			_, err := Restore(ctx, "sqlite:"+src, good, true)
			return err
		}, ErrInUse, "stop idpkit serve"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := dumpTables(t, src)
			err := tc.do(t)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v; want it to match %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.message) {
				t.Errorf("error %q; want it to say %q", err, tc.message)
			}
			if diff := cmp.Diff(before, dumpTables(t, src)); diff != "" {
				t.Errorf("the source changed:\n%s", diff)
			}
			if _, err := os.Stat(filepath.Join(dir, "fresh.db")); err == nil {
				t.Errorf("a refused restore created its target")
			}
			left, _ := filepath.Glob(filepath.Join(dir, ".*tmp-*"))
			if len(left) > 0 {
				t.Errorf("temporary files left: %q", left)
			}
		})
	}

	t.Run("backup with force replaces the file", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(dir, "old.db"), []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
		info, err := Backup(ctx, "sqlite:"+src, filepath.Join(dir, "old.db"), true)
		if err != nil || info.Tenants != 2 {
			t.Fatalf("Backup --force = %+v, %v", info, err)
		}
		integrityCheck(t, filepath.Join(dir, "old.db"))
	})
}
