package main

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/store/sealed"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
)

// errNoSecretKey is what serve says when the database holds encrypted
// secrets and no key was given.
var errNoSecretKey = errors.New("the database holds encrypted secrets: set IDPKIT_SECRET_KEY_FILE (or IDPKIT_SECRET_KEY, or --secret-key-file) to the key every other idpkit serve uses")

// keySource names where a secret key comes from: a file flag, an
// environment variable holding the file's name and one holding the key.
type keySource struct {
	flag, fileEnv, keyEnv string
}

// secretKeySource is the key serve and tenant configure seal with.
var secretKeySource = keySource{flag: "secret-key-file", fileEnv: "IDPKIT_SECRET_KEY_FILE", keyEnv: "IDPKIT_SECRET_KEY"}

// newKeySource is the key tenant rotate-key re-encrypts to: only ever
// from its flag.
var newKeySource = keySource{flag: "secret-key-file"}

// oldKeySource is the key tenant rotate-key re-encrypts from.
var oldKeySource = keySource{flag: "old-key-file", fileEnv: "IDPKIT_OLD_SECRET_KEY_FILE", keyEnv: "IDPKIT_OLD_SECRET_KEY"}

// load returns the key: from the file named by the flag (file, when the
// flag was given), else from the file named by fileEnv, else from keyEnv;
// nil when none is set. Both environment variables at once is an error.
func (k keySource) load(fs *flag.FlagSet, file string) ([]byte, error) {
	var text []byte
	switch envFile, envKey := os.Getenv(k.fileEnv), os.Getenv(k.keyEnv); {
	case (fs != nil && flagSet(fs, k.flag)) || file != "":
		if file == "" {
			return nil, fmt.Errorf("%w: --%s needs a file name", errUsage, k.flag)
		}
		b, err := readKeyFile(file)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", k.flag, err)
		}
		text = b
	case envFile != "" && envKey != "":
		return nil, fmt.Errorf("%w: set %s or %s, not both", errUsage, k.fileEnv, k.keyEnv)
	case envFile != "":
		b, err := readKeyFile(envFile)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k.fileEnv, err)
		}
		text = b
	case envKey != "":
		text = []byte(envKey)
	default:
		return nil, nil
	}
	key, err := sealed.ParseKey(text)
	if err != nil {
		return nil, fmt.Errorf("--%s (or %s / %s): %w", k.flag, k.fileEnv, k.keyEnv, err)
	}
	return key, nil
}

// readKeyFile reads a key file, refusing one that other users may read
// or write (as ssh refuses such a private key); the owner and the group
// (say, the group idpkit serve runs as) may. A file it cannot open is
// explained with its folder, which is the usual culprit.
func readKeyFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrPermission) {
		return nil, fmt.Errorf("%w (this user cannot reach the file: check the folder's permissions too, e.g. chgrp idpkit and chmod 750 on %s)", err, filepath.Dir(path))
	}
	if err != nil {
		return nil, err
	}
	if perm := fi.Mode().Perm(); perm&0o007 != 0 {
		return nil, fmt.Errorf("the key file %s may be read or written by other users (mode %04o): chmod 600 (or 640 with serve's group) %s", path, perm, path)
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrPermission) {
		return nil, fmt.Errorf("%w (make it readable by the user idpkit runs as: chown or chgrp it, mode 600 or 640)", err)
	}
	return b, err
}

// secretKeys returns the keys to seal with, nil when no key is given. The
// old key of a rotation (IDPKIT_OLD_SECRET_KEY_FILE or
// IDPKIT_OLD_SECRET_KEY, environment only here) still opens secrets, so
// that instances can be restarted with the new key before tenant
// rotate-key runs.
func secretKeys(fs *flag.FlagSet, file string) (*sealed.Keys, error) {
	key, err := secretKeySource.load(fs, file)
	if err != nil {
		return nil, err
	}
	old, err := oldKeySource.load(fs, "")
	if err != nil {
		return nil, err
	}
	if key == nil {
		if old != nil {
			return nil, fmt.Errorf("%w: %s or %s is set but no secret key: set IDPKIT_SECRET_KEY_FILE (or IDPKIT_SECRET_KEY, or --secret-key-file) too", errUsage, oldKeySource.fileEnv, oldKeySource.keyEnv)
		}
		return nil, nil
	}
	var older [][]byte
	if old != nil {
		older = append(older, old)
	}
	return sealed.NewKeys(key, older...)
}

// openSealed wraps st so that tenant secrets are sealed with keys, after
// checking the encrypted secrets in the database against them: without a
// key, a database that holds an encrypted secret is refused
// (errNoSecretKey), and so is a key that opens none of them (not the
// key they were encrypted with). When the key opens some and not others,
// those others are damaged (or were copied from another tenant): the
// server starts, and notes name them, as they name secrets still stored
// in clear beside a key.
func openSealed(ctx context.Context, dsn string, st store.Store, keys *sealed.Keys) (*sealed.Store, []string, error) {
	names, err := tenantNames(ctx, dsn, secretsSealed)
	if err != nil {
		return nil, nil, err
	}
	s := sealed.New(st, keys)
	var bad []string
	var first error
	for _, n := range names {
		if err := s.Check(ctx, []string{n}); err != nil {
			if errors.Is(err, sealed.ErrNoKey) {
				return nil, nil, fmt.Errorf("%w (%d %s, such as %q)", errNoSecretKey, len(names), plural(len(names), "tenant", "tenants"), names[0])
			}
			bad = append(bad, n)
			first = cmp.Or(first, err)
		}
	}
	if len(bad) > 0 && len(bad) == len(names) {
		return nil, nil, fmt.Errorf("the secret key does not open the encrypted secrets in the database (pass the key they were encrypted with, or both keys to tenant rotate-key): %w", first)
	}
	var notes []string
	if len(bad) > 0 {
		notes = append(notes, fmt.Sprintf("the client secret of %s %s does not open with the key that opens the others' (damaged, or copied from another tenant): %s sign-ins are refused until an admin enters the secret again in the Connect Okta dialog (%v)",
			plural(len(bad), "tenant", "tenants"), quoteList(bad), plural(len(bad), "its", "their"), first))
	}
	if keys != nil {
		clear, err := tenantNames(ctx, dsn, secretsClear)
		if err != nil {
			return nil, nil, err
		}
		if len(clear) > 0 {
			notes = append(notes, fmt.Sprintf("the client secret of %s %s is stored in clear; it is encrypted at its next change, or now with idpkit tenant rotate-key",
				plural(len(clear), "tenant", "tenants"), quoteList(clear)))
		}
	}
	return s, notes, nil
}

// quoteList quotes at most the first five names, and says how many more.
func quoteList(names []string) string {
	var q []string
	for i, n := range names {
		if i == 5 {
			q = append(q, fmt.Sprintf("and %d more", len(names)-5))
			break
		}
		q = append(q, strconv.Quote(n))
	}
	return strings.Join(q, ", ")
}

// Which tenants tenantNames lists.
const (
	secretsAny    = iota // every tenant
	secretsSealed        // those whose client secret is encrypted
	secretsClear         // those whose client secret is set and in clear
)

// tenantNames lists the tenants of the database by a read of its own
// (store.Store has no listing), in name order: all of them, or (which)
// only those whose client secret is encrypted, or set and in clear.
func tenantNames(ctx context.Context, dsn string, which int) ([]string, error) {
	driver, source := "pgx", dsn
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		path = strings.TrimPrefix(path, "//")
		drivers := sql.Drivers()
		switch {
		case slices.Contains(drivers, "sqlite"):
			driver = "sqlite"
		case slices.Contains(drivers, "sqlite3"):
			driver = "sqlite3"
		default:
			return nil, errors.New("tenants: no SQLite driver registered")
		}
		source = path
	}
	db, err := sql.Open(driver, source)
	if err != nil {
		return nil, fmt.Errorf("tenants: %w", err)
	}
	defer db.Close()
	q := `SELECT name FROM tenants ORDER BY name`
	switch which {
	case secretsSealed:
		q = `SELECT name FROM tenants WHERE client_secret LIKE '` + sealed.Prefix + `%' ORDER BY name`
	case secretsClear:
		q = `SELECT name FROM tenants WHERE client_secret <> '' AND client_secret NOT LIKE '` + sealed.Prefix + `%' ORDER BY name`
	}
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("tenants: list: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("tenants: list: %w", err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tenants: list: %w", err)
	}
	return names, nil
}

// cmdTenantRotateKey re-encrypts every tenant's secrets under the new key
// (--secret-key-file), opening them with it or the old key
// (--old-key-file). Each tenant is rewritten in its own transaction, so an
// interrupted run is finished by running it again; a tenant already under
// the new key is left alone.
func cmdTenantRotateKey(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("tenant rotate-key", "tenant rotate-key --secret-key-file NEW [--old-key-file OLD] [--db DSN]\n\n"+
		"Encrypts every tenant's client secret under the NEW key. Secrets stored in clear are encrypted too; secrets under OLD are decrypted with it. "+
		"OLD defaults to IDPKIT_OLD_SECRET_KEY_FILE / IDPKIT_OLD_SECRET_KEY, else to serve's key (IDPKIT_SECRET_KEY_FILE / IDPKIT_SECRET_KEY). "+
		"Every idpkit serve must hold the NEW key (as its key, or as IDPKIT_OLD_SECRET_KEY_FILE beside the old one) before this runs", stderr)
	dsn := fs.String("db", envOr("IDPKIT_DB", defaultDB), "database: sqlite:PATH or postgres://… (env IDPKIT_DB)")
	newFile := fs.String("secret-key-file", "", "file holding the NEW key: the base64 of 32 random bytes (openssl rand -base64 32); only this flag names it")
	oldFile := fs.String("old-key-file", "", "file holding the key the secrets are encrypted with now (env IDPKIT_OLD_SECRET_KEY_FILE or IDPKIT_OLD_SECRET_KEY; else serve's IDPKIT_SECRET_KEY_FILE or IDPKIT_SECRET_KEY)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: tenant rotate-key takes no arguments, got %q", errUsage, pos)
	}
	// The new key only from the flag: with serve's environment loaded,
	// IDPKIT_SECRET_KEY_FILE is the key in use, the one to rotate from.
	newKey, err := newKeySource.load(fs, *newFile)
	if err != nil {
		return err
	}
	if newKey == nil {
		return fmt.Errorf("%w: tenant rotate-key needs the new key as --secret-key-file FILE (make one with openssl rand -base64 32); IDPKIT_SECRET_KEY_FILE and IDPKIT_SECRET_KEY are taken as the key in use", errUsage)
	}
	oldKey, err := oldKeySource.load(fs, *oldFile)
	if err != nil {
		return err
	}
	if oldKey == nil {
		if oldKey, err = secretKeySource.load(nil, ""); err != nil {
			return err
		}
	}
	if oldKey != nil && bytes.Equal(oldKey, newKey) {
		return fmt.Errorf("%w: the new key (--secret-key-file) is the key in use (key id %s); make a new one with openssl rand -base64 32", errUsage, sealed.KeyID(newKey))
	}
	var older [][]byte
	if oldKey != nil {
		older = append(older, oldKey)
	}
	keys, err := sealed.NewKeys(newKey, older...)
	if err != nil {
		return err
	}
	db := tenantDB{dsn: *dsn, given: flagSet(fs, "db") || os.Getenv("IDPKIT_DB") != ""}
	if err := db.mustExist(); err != nil {
		return err
	}
	st, err := sqlstore.Open(ctx, *dsn, sqlstore.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	names, err := tenantNames(ctx, *dsn, secretsAny)
	if err != nil {
		return err
	}
	done, err := sealed.New(st, keys).Rotate(ctx, names)
	n := len(done)
	for _, name := range done {
		auditCLI(ctx, st, stderr, name, "key-rotated", "ok", cliDetail{Key: keys.ID()})
	}
	if err != nil {
		if errors.Is(err, sealed.ErrUnknownKey) || errors.Is(err, sealed.ErrDecrypt) {
			err = fmt.Errorf("%w; pass the key the secrets are encrypted with now as --old-key-file (%d of %d tenants were re-encrypted before this one; run again to finish)", err, n, len(names))
		}
		return fmt.Errorf("tenant rotate-key: %w", err)
	}
	note := ""
	if n == 0 && len(names) > 0 {
		note = " (every tenant was under it already)"
	}
	_, err = fmt.Fprintf(stdout, "re-encrypted %d of %d %s under key %s%s\n", n, len(names), plural(len(names), "tenant", "tenants"), keys.ID(), note)
	return err
}
