package main

import (
	"bytes"
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
// checking that every encrypted secret in the database opens with them:
// without a key, a database that holds an encrypted secret is refused
// (errNoSecretKey).
func openSealed(ctx context.Context, dsn string, st store.Store, keys *sealed.Keys) (*sealed.Store, error) {
	names, err := tenantNames(ctx, dsn, true)
	if err != nil {
		return nil, err
	}
	s := sealed.New(st, keys)
	if err := s.Check(ctx, names); err != nil {
		if errors.Is(err, sealed.ErrNoKey) {
			return nil, fmt.Errorf("%w (%d %s, such as %q)", errNoSecretKey, len(names), plural(len(names), "tenant", "tenants"), names[0])
		}
		return nil, fmt.Errorf("the secret key does not open the encrypted secrets in the database (pass the key they were encrypted with, or both keys to tenant rotate-key): %w", err)
	}
	return s, nil
}

// tenantNames lists the tenants of the database by a read of its own
// (store.Store has no listing), in name order; with onlySealed, only those
// whose client secret is encrypted.
func tenantNames(ctx context.Context, dsn string, onlySealed bool) ([]string, error) {
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
	if onlySealed {
		q = `SELECT name FROM tenants WHERE client_secret LIKE '` + sealed.Prefix + `%' ORDER BY name`
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
	names, err := tenantNames(ctx, *dsn, false)
	if err != nil {
		return err
	}
	n, err := sealed.New(st, keys).Rotate(ctx, names)
	if err != nil {
		if errors.Is(err, sealed.ErrUnknownKey) || errors.Is(err, sealed.ErrDecrypt) {
			err = fmt.Errorf("%w; pass the key the secrets are encrypted with now as --old-key-file (%d of %d tenants were re-encrypted before this one; run again to finish)", err, n, len(names))
		}
		return fmt.Errorf("tenant rotate-key: %w", err)
	}
	for _, name := range names {
		// Re-encrypted now or found under the new key already: either
		// way its secrets are under this key from here on.
		auditCLI(ctx, st, stderr, name, "key-rotated", "ok", cliDetail{Key: keys.ID()})
	}
	note := ""
	if n == 0 && len(names) > 0 {
		note = " (every tenant was under it already)"
	}
	_, err = fmt.Fprintf(stdout, "re-encrypted %d of %d %s under key %s%s\n", n, len(names), plural(len(names), "tenant", "tenants"), keys.ID(), note)
	return err
}
