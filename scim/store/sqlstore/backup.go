package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Errors of Backup and Restore; each returned error wraps one of them
// (or ErrNewerSchema) and says what to do.
var (
	// ErrPostgresBackup: Backup and Restore handle SQLite files only;
	// PostgreSQL is backed up with pg_dump and restored with pg_restore.
	ErrPostgresBackup = errors.New("idpkit backup and restore handle SQLite only; for PostgreSQL use pg_dump --format=custom --file=FILE DSN and pg_restore --clean --if-exists --no-owner --dbname=DSN FILE")
	// ErrFileExists: the backup file exists and force was not set.
	ErrFileExists = errors.New("file exists")
	// ErrNotEmpty: the restore target holds tenants and force was not set.
	ErrNotEmpty = errors.New("target database is not empty")
	// ErrInUse: another connection (such as idpkit serve) has the restore
	// target open.
	ErrInUse = errors.New("target database is in use")
)

// BackupInfo describes a backup file: its size, the migration its schema
// is at and what it holds.
type BackupInfo struct {
	File      string
	Bytes     int64
	Migration int
	Tenants   int
	Users     int
	Groups    int
	Took      time.Duration
}

// Backup writes a consistent copy of the SQLite database named by dsn
// ("sqlite:PATH") to file while other connections and processes (idpkit
// serve) keep reading and writing it. An existing file is refused unless
// force is set; it is then replaced atomically. A postgres:// dsn is
// refused with ErrPostgresBackup, which names the pg_dump route.
//
// The copy is made with VACUUM INTO, not the online backup API
// (sqlite3_backup_step): VACUUM INTO reads the whole database inside one
// read transaction, which in WAL mode is a snapshot that never blocks
// the writer and is never disturbed by it, so it finishes in one pass
// however busy the server is. The backup API restarts from the first
// page whenever another connection (every write of idpkit serve comes
// from another process) changes the source between steps, so under a
// steady write load an incremental backup may never finish, and run in
// one step it holds the same read transaction as VACUUM INTO anyway.
// VACUUM INTO is plain SQL, so it works the same on both SQLite drivers
// (modernc.org/sqlite and the sqlite_ncruces build), and its output is
// compact (no free pages) and self-contained (no -wal file). SQLite does
// not sync its output, so Backup writes it to a temporary file in the
// same directory, checks it (PRAGMA quick_check), fsyncs it, renames it
// to file and fsyncs the directory.
func Backup(ctx context.Context, dsn, file string, force bool) (BackupInfo, error) {
	started := time.Now()
	src, err := sqlitePath("backup", dsn)
	if err != nil {
		return BackupInfo{}, err
	}
	if file == "" {
		return BackupInfo{}, errors.New("sqlstore: backup: no backup file named")
	}
	if _, err := os.Stat(src); err != nil {
		return BackupInfo{}, fmt.Errorf("sqlstore: backup: database %s: %w", src, err)
	}
	if same, _ := sameFile(src, file); same {
		return BackupInfo{}, fmt.Errorf("sqlstore: backup: %s is the database itself; name another file", file)
	}
	if !force {
		if _, err := os.Lstat(file); err == nil {
			return BackupInfo{}, fmt.Errorf("sqlstore: backup: %s: %w; pass --force to replace it", file, ErrFileExists)
		}
	}
	tmp, err := tempName(file)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("sqlstore: backup: %w", err)
	}
	defer os.Remove(tmp)

	db, err := rawSQLite(src, 10*time.Second)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("sqlstore: backup: %w", err)
	}
	_, err = db.ExecContext(ctx, `VACUUM INTO ?`, tmp)
	db.Close()
	if err != nil {
		return BackupInfo{}, fmt.Errorf("sqlstore: backup %s: %w", src, err)
	}
	info, err := inspect(ctx, tmp, "quick_check")
	if err != nil {
		return BackupInfo{}, fmt.Errorf("sqlstore: backup: the copy does not check: %w", err)
	}
	if err := syncFile(tmp); err != nil {
		return BackupInfo{}, fmt.Errorf("sqlstore: backup: %w", err)
	}
	if err := os.Rename(tmp, file); err != nil {
		return BackupInfo{}, fmt.Errorf("sqlstore: backup: %w", err)
	}
	if err := syncDir(filepath.Dir(file)); err != nil {
		return BackupInfo{}, fmt.Errorf("sqlstore: backup: %w", err)
	}
	info.File = file
	info.Took = time.Since(started)
	return info, nil
}

// Restore replaces the SQLite database named by dsn ("sqlite:PATH") with
// the backup in file, a database written by Backup. idpkit serve must be
// stopped: a target another connection holds open is refused
// (ErrInUse). A target that holds tenants is refused (ErrNotEmpty)
// unless force is set. A backup whose schema is newer than this build is
// refused with ErrNewerSchema ("upgrade idpkit"); an older one is
// migrated forward.
//
// The backup is copied to a temporary file in the target's directory,
// checked (PRAGMA integrity_check), opened as a Store (applying pending
// migrations), fsynced and renamed over the target, so the target is
// either the old database or the whole restored one, never a mixture;
// the target's -wal and -shm files are removed first (the target is
// checkpointed and switched out of WAL mode, which needs the only
// connection). Restore opens the result before it returns.
func Restore(ctx context.Context, dsn, file string, force bool) (BackupInfo, error) {
	started := time.Now()
	dst, err := sqlitePath("restore", dsn)
	if err != nil {
		return BackupInfo{}, err
	}
	// Through a symbolic link, the database is the file it names: that is
	// the one to replace, not the link.
	if real, err := filepath.EvalSymlinks(dst); err == nil {
		dst = real
	}
	if _, err := os.Stat(file); err != nil {
		return BackupInfo{}, fmt.Errorf("sqlstore: restore: backup %w", err)
	}
	if same, _ := sameFile(dst, file); same {
		return BackupInfo{}, fmt.Errorf("sqlstore: restore: %s is the target database itself", file)
	}
	// The backup first: refuse a newer schema before touching anything.
	if _, err := inspect(ctx, file, "quick_check"); err != nil {
		return BackupInfo{}, fmt.Errorf("sqlstore: restore: backup %s: %w", file, err)
	}

	tmp, err := tempName(dst)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("sqlstore: restore: %w", err)
	}
	defer func() {
		for _, f := range []string{tmp, tmp + "-wal", tmp + "-shm", tmp + "-journal"} {
			os.Remove(f)
		}
	}()
	if err := copyFile(file, tmp); err != nil {
		return BackupInfo{}, fmt.Errorf("sqlstore: restore: %w", err)
	}
	if _, err := inspect(ctx, tmp, "integrity_check"); err != nil {
		return BackupInfo{}, fmt.Errorf("sqlstore: restore: backup %s: %w", file, err)
	}
	st, err := Open(ctx, "sqlite:"+tmp, Options{})
	if err != nil {
		return BackupInfo{}, fmt.Errorf("sqlstore: restore: %w", err)
	}
	if err := st.Close(); err != nil {
		return BackupInfo{}, fmt.Errorf("sqlstore: restore: %w", err)
	}
	// Out of WAL mode, so the temporary file is the whole database.
	if err := leaveWAL(ctx, tmp); err != nil {
		return BackupInfo{}, fmt.Errorf("sqlstore: restore: %w", err)
	}
	if err := syncFile(tmp); err != nil {
		return BackupInfo{}, fmt.Errorf("sqlstore: restore: %w", err)
	}

	// Then the target: empty (or force) and not in use.
	if _, err := os.Stat(dst); err == nil {
		tenants, err := countTenants(ctx, dst)
		switch {
		case err != nil && !force:
			return BackupInfo{}, fmt.Errorf("sqlstore: restore: target %s: %w; pass --force to replace it", dst, err)
		case tenants > 0 && !force:
			return BackupInfo{}, fmt.Errorf("sqlstore: restore: target %s holds %d tenants: %w; pass --force to replace it", dst, tenants, ErrNotEmpty)
		}
		if err == nil {
			if err := leaveWAL(ctx, dst); err != nil {
				return BackupInfo{}, fmt.Errorf("sqlstore: restore: target %s: %w", dst, err)
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return BackupInfo{}, fmt.Errorf("sqlstore: restore: target: %w", err)
	}
	// A replaced database keeps its permissions; a new one is 0600, like
	// the backup (it holds token hashes and client secrets).
	if fi, err := os.Stat(dst); err == nil {
		if err := os.Chmod(tmp, fi.Mode().Perm()); err != nil {
			return BackupInfo{}, fmt.Errorf("sqlstore: restore: %w", err)
		}
		// And its owner, so that a restore run as root leaves a database
		// the server's own user can still open.
		if err := sameOwner(tmp, fi); err != nil {
			return BackupInfo{}, fmt.Errorf("sqlstore: restore: %w", err)
		}
	}
	for _, f := range []string{dst + "-wal", dst + "-shm", dst + "-journal"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return BackupInfo{}, fmt.Errorf("sqlstore: restore: %w", err)
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		return BackupInfo{}, fmt.Errorf("sqlstore: restore: %w", err)
	}
	if err := syncDir(filepath.Dir(dst)); err != nil {
		return BackupInfo{}, fmt.Errorf("sqlstore: restore: %w", err)
	}

	st, err = Open(ctx, dsn, Options{})
	if err != nil {
		return BackupInfo{}, fmt.Errorf("sqlstore: restore: the restored database does not open: %w", err)
	}
	if err := st.Ping(ctx); err != nil {
		st.Close()
		return BackupInfo{}, fmt.Errorf("sqlstore: restore: the restored database does not answer: %w", err)
	}
	if err := st.Close(); err != nil {
		return BackupInfo{}, fmt.Errorf("sqlstore: restore: %w", err)
	}
	info, err := inspect(ctx, dst, "")
	if err != nil {
		return BackupInfo{}, fmt.Errorf("sqlstore: restore: %w", err)
	}
	info.File = dst
	info.Took = time.Since(started)
	return info, nil
}

// sqlitePath returns the file of a "sqlite:PATH" dsn, or an error naming
// the pg_dump route for PostgreSQL.
func sqlitePath(op, dsn string) (string, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return "", fmt.Errorf("sqlstore: %s: %w", op, ErrPostgresBackup)
	case !strings.HasPrefix(dsn, "sqlite:"):
		return "", fmt.Errorf("sqlstore: %s: unsupported database %s: want sqlite:PATH", op, dsnScheme(dsn))
	}
	path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//")
	if path == "" || strings.ContainsAny(path, "?#") || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return "", fmt.Errorf("sqlstore: %s: sqlite path %q must be a plain file name", op, path)
	}
	return path, nil
}

// rawSQLite opens path without the Store's pragmas or migrations, with
// one connection and the given busy timeout.
func rawSQLite(path string, busy time.Duration) (*sql.DB, error) {
	db, err := sql.Open(sqliteDriver, sqliteDSN(path, []string{fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds())}, false))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// inspect checks the database file path (check is "quick_check",
// "integrity_check" or "" for none), refuses a schema newer than this
// build, and counts what it holds. It never creates path.
func inspect(ctx context.Context, path, check string) (BackupInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return BackupInfo{}, err
	}
	info := BackupInfo{Bytes: fi.Size()}
	db, err := rawSQLite(path, 10*time.Second)
	if err != nil {
		return info, err
	}
	defer db.Close()
	if check != "" {
		var res string
		if err := db.QueryRowContext(ctx, `PRAGMA `+check).Scan(&res); err != nil {
			return info, fmt.Errorf("not a readable SQLite database: %w", err)
		}
		if res != "ok" {
			return info, fmt.Errorf("%s: %s", check, res)
		}
	}
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(num), 0) FROM migrations`).Scan(&info.Migration); err != nil {
		return info, fmt.Errorf("not an idpkit database (no migrations table): %w", err)
	}
	if err := checkSchema(info.Migration); err != nil {
		return info, err
	}
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM tenants`).Scan(&info.Tenants); err != nil {
		return info, fmt.Errorf("count tenants: %w", err)
	}
	if err := db.QueryRowContext(ctx, `SELECT COUNT(CASE WHEN type = 'User' THEN 1 END), COUNT(CASE WHEN type = 'Group' THEN 1 END) FROM resources`).Scan(&info.Users, &info.Groups); err != nil {
		return info, fmt.Errorf("count resources: %w", err)
	}
	return info, nil
}

// countTenants counts the tenants of the database file path: 0 for a
// file without tables (an empty database); an error for a file that is
// not an idpkit database.
func countTenants(ctx context.Context, path string) (int, error) {
	db, err := rawSQLite(path, time.Second)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var tables int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'tenants'`).Scan(&tables); err != nil {
		return 0, fmt.Errorf("not a readable SQLite database: %w", err)
	}
	if tables == 0 {
		var any int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master`).Scan(&any); err != nil || any > 0 {
			return 0, errors.New("not an idpkit database")
		}
		return 0, nil
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM tenants`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count tenants: %w", err)
	}
	return n, nil
}

// leaveWAL checkpoints the database file path into itself and switches
// it to rollback-journal mode, which deletes its -wal file. SQLite
// allows that only to the one connection to the file, so a running
// idpkit serve makes it fail with ErrInUse.
func leaveWAL(ctx context.Context, path string) error {
	db, err := rawSQLite(path, time.Second)
	if err != nil {
		return err
	}
	defer db.Close()
	var mode string
	if err := db.QueryRowContext(ctx, `PRAGMA journal_mode=DELETE`).Scan(&mode); err != nil || !strings.EqualFold(mode, "delete") {
		if err == nil {
			err = fmt.Errorf("journal mode stays %q", mode)
		}
		return fmt.Errorf("%w (stop idpkit serve and every other process using it first): %w", ErrInUse, err)
	}
	return nil
}

// tempName returns the name of a new, empty file beside path.
func tempName(path string) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return "", err
	}
	name := f.Name()
	if err := f.Close(); err != nil {
		os.Remove(name)
		return "", err
	}
	return name, nil
}

// copyFile copies src over dst (which exists) and fsyncs it.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	if _, err := out.ReadFrom(in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// syncFile fsyncs the file path.
func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir fsyncs a directory, so that a rename in it survives a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}

// sameFile reports whether a and b name the same existing file.
func sameFile(a, b string) (bool, error) {
	fa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(fa, fb), nil
}
