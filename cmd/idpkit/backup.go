package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/idpkit/idpkit/scim/store/sqlstore"
)

const (
	backupSynopsis  = "backup [--db sqlite:PATH] [--force] FILE"
	restoreSynopsis = "restore [--db sqlite:PATH] [--force] FILE"
)

// cmdBackupRestore runs "backup" or "restore", as args[0] names.
func cmdBackupRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if args[0] == "restore" {
		return cmdRestore(ctx, args[1:], stdout, stderr)
	}
	return cmdBackup(ctx, args[1:], stdout, stderr)
}

// cmdBackup writes a consistent copy of a SQLite database to FILE while
// idpkit serve keeps running (sqlstore.Backup); PostgreSQL is refused
// with the pg_dump route.
func cmdBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("backup", backupSynopsis+"\n\nCopies the SQLite database to FILE, consistently, while idpkit serve keeps writing it.\nFor PostgreSQL use pg_dump --format=custom (see the README's Backups section).", stderr)
	dsn := fs.String("db", defaultDB, "database: sqlite:PATH (env IDPKIT_DB)")
	force := fs.Bool("force", false, "replace FILE when it exists")
	file, err := backupArgs(fs, "backup", args)
	if err != nil {
		return err
	}
	info, err := sqlstore.Backup(ctx, *dsn, file, *force)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s to %s: %s\n", redactDSN(*dsn), info.File, describe(info))
	return nil
}

// cmdRestore replaces a SQLite database, which idpkit serve must not be
// using, with a backup (sqlstore.Restore).
func cmdRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("restore", restoreSynopsis+"\n\nReplaces the SQLite database with the backup FILE; stop idpkit serve first.\nA database that holds tenants is replaced only with --force.\nFor PostgreSQL use pg_restore --clean (see the README's Backups section).", stderr)
	dsn := fs.String("db", defaultDB, "database to restore into: sqlite:PATH (env IDPKIT_DB)")
	force := fs.Bool("force", false, "replace a database that holds tenants")
	file, err := backupArgs(fs, "restore", args)
	if err != nil {
		return err
	}
	info, err := sqlstore.Restore(ctx, *dsn, file, *force)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s from %s: %s\n", redactDSN(*dsn), file, describe(info))
	return nil
}

// backupArgs parses the flags of backup and restore (IDPKIT_DB sets
// --db) and returns FILE, the one positional argument.
func backupArgs(fs *flag.FlagSet, cmd string, args []string) (string, error) {
	pos, err := parseFlags(fs, args)
	if err != nil {
		return "", err
	}
	if err := flagsFromEnv(fs, []flagEnv{{"db", "IDPKIT_DB"}}); err != nil {
		return "", err
	}
	if len(pos) != 1 || pos[0] == "" {
		return "", fmt.Errorf("%w: %s takes one FILE, got %q", errUsage, cmd, pos)
	}
	return pos[0], nil
}

// describe renders what a backup holds, its size and how long it took.
func describe(info sqlstore.BackupInfo) string {
	return fmt.Sprintf("%d %s, %d %s, %d %s, schema migration %d, %.1f MiB in %s",
		info.Tenants, plural(info.Tenants, "tenant", "tenants"), info.Users, plural(info.Users, "user", "users"), info.Groups, plural(info.Groups, "group", "groups"),
		info.Migration, float64(info.Bytes)/(1<<20), info.Took.Round(time.Millisecond))
}
