package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/idpkit/idpkit/scim/store/sqlstore"
	"github.com/idpkit/idpkit/scim/tenant"
)

func cmdTenant(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: tenant needs a subcommand: create, configure, admin-link, admin-group, rotate-token or rotate-key", errUsage)
	}
	switch args[0] {
	case "create":
		return cmdTenantCreate(ctx, args[1:], stdout, stderr)
	case "configure":
		return cmdTenantConfigure(ctx, args[1:], stdout, stderr)
	case "admin-link":
		return cmdTenantAdminLink(ctx, args[1:], stdout, stderr)
	case "admin-group":
		return cmdTenantAdminGroup(ctx, args[1:], stdout, stderr)
	case "rotate-key":
		return cmdTenantRotateKey(ctx, args[1:], stdout, stderr)
	case "rotate-token":
		return cmdTenantRotateToken(ctx, args[1:], stdout, stderr)
	default:
		return fmt.Errorf("%w: unknown tenant subcommand %q (want create, configure, admin-link, admin-group, rotate-token or rotate-key)", errUsage, args[0])
	}
}

func cmdTenantCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return withTenantService(ctx, "create", args, stderr, func(svc *tenant.Service, name string) error {
		c, err := svc.Create(ctx, name)
		if err != nil {
			return err
		}
		auditCLI(ctx, svc.Store, stderr, name, "tenant-created", "ok", cliDetail{})
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(c)
	})
}

// withTenantService parses the arguments shared by tenant create and
// admin-link (NAME, --db, --public-url), opens the store and calls f.
func withTenantService(ctx context.Context, sub string, args []string, stderr io.Writer, f func(svc *tenant.Service, name string) error) error {
	fs := newFlagSet("tenant "+sub, "tenant "+sub+" NAME [--db DSN] [--public-url URL]", stderr)
	dsn := fs.String("db", envOr("IDPKIT_DB", defaultDB), "database: sqlite:PATH or postgres://… (env IDPKIT_DB)")
	public := fs.String("public-url", envOr("IDPKIT_PUBLIC_URL", defaultPublicURL), "the server's public base URL (env IDPKIT_PUBLIC_URL)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: tenant %s takes one NAME", errUsage, sub)
	}
	pub, err := publicURLFor(fs, *public, stderr)
	if err != nil {
		return err
	}
	db := tenantDB{dsn: *dsn, given: flagSet(fs, "db") || os.Getenv("IDPKIT_DB") != ""}
	if sub != "create" {
		if err := db.mustExist(); err != nil {
			return err
		}
	} else if !db.given {
		// A shell that lost IDPKIT_DB (an env file not loaded) would
		// otherwise create the tenant, quietly, in a new file here.
		fmt.Fprintf(stderr, "idpkit: note: no --db or IDPKIT_DB, so the tenant goes into %s in this folder (created if missing); for a running idpkit serve, pass its database\n", *dsn)
	}
	st, err := sqlstore.Open(ctx, *dsn, sqlstore.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	return db.explain(pos[0], f(&tenant.Service{Store: st, PublicURL: pub}, pos[0]))
}

// tenantDB is the database a tenant subcommand works on: dsn, and whether
// --db or IDPKIT_DB named it (else it is defaultDB, in the current folder).
type tenantDB struct {
	dsn   string
	given bool
}

// shown is the dsn without its secrets (redactDSN: postgres://user:***@host/db,
// and no password= parameter).
func (d tenantDB) shown() string {
	return redactDSN(d.dsn)
}

// hint says where to look when a tenant or the database is not found.
func (d tenantDB) hint() string {
	if d.given {
		return "check that --db (or IDPKIT_DB) names the database of your idpkit serve"
	}
	return "pass --db (or IDPKIT_DB) with the database of your idpkit serve"
}

// mustExist refuses an SQLite database file that does not exist, which
// opening it would create empty: a subcommand that needs a tenant would
// then only say the tenant is missing.
func (d tenantDB) mustExist() error {
	path, ok := strings.CutPrefix(d.dsn, "sqlite:")
	if !ok || path == "" {
		return nil
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no database %s (there is no file %s); %s", d.dsn, path, d.hint())
	}
	return nil
}

// explain names the database in an error that says tenant name does not
// exist; other errors are returned as they are.
func (d tenantDB) explain(name string, err error) error {
	if errors.Is(err, tenant.ErrNotFound) {
		return &noTenantError{msg: fmt.Sprintf("no tenant %q in %s; %s", name, d.shown(), d.hint()), err: err}
	}
	return err
}

// noTenantError is a tenant.ErrNotFound that names the database looked in.
type noTenantError struct {
	msg string
	err error
}

func (e *noTenantError) Error() string { return e.msg }
func (e *noTenantError) Unwrap() error { return e.err }

func cmdTenantConfigure(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("tenant configure", "tenant configure NAME --okta-domain DOMAIN --client-id ID --client-secret SECRET [--auth-server default] [--db DSN] [--secret-key-file FILE]", stderr)
	dsn := fs.String("db", envOr("IDPKIT_DB", defaultDB), "database: sqlite:PATH or postgres://… (env IDPKIT_DB)")
	domain := fs.String("okta-domain", "", "the Okta domain as Okta shows it (example.okta.com), or a URL (http only for loopback)")
	clientID := fs.String("client-id", "", "the OIDC web app's client id")
	clientSecret := fs.String("client-secret", envOr("IDPKIT_CLIENT_SECRET", ""), "the OIDC web app's client secret (env IDPKIT_CLIENT_SECRET)")
	authServer := fs.String("auth-server", "", "a custom authorization server id such as default; empty uses the org authorization server")
	secretKeyFile := fs.String("secret-key-file", "", "file holding the key serve encrypts client secrets with (env IDPKIT_SECRET_KEY_FILE, or the key itself in IDPKIT_SECRET_KEY); needed once the database holds encrypted secrets")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: tenant configure takes one NAME", errUsage)
	}
	var missing []string
	for _, f := range []struct{ name, v string }{{"--okta-domain", *domain}, {"--client-id", *clientID}, {"--client-secret", *clientSecret}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: tenant configure needs %s", errUsage, strings.Join(missing, ", "))
	}
	db := tenantDB{dsn: *dsn, given: flagSet(fs, "db") || os.Getenv("IDPKIT_DB") != ""}
	if err := db.mustExist(); err != nil {
		return err
	}
	keys, err := secretKeys(fs, *secretKeyFile)
	if err != nil {
		return err
	}
	raw, err := sqlstore.Open(ctx, *dsn, sqlstore.Options{})
	if err != nil {
		return err
	}
	defer raw.Close()
	st, notes, err := openSealed(ctx, *dsn, raw, keys)
	if err != nil {
		return fmt.Errorf("tenant configure: %w", err)
	}
	for _, n := range notes {
		fmt.Fprintf(stderr, "idpkit: note: %s\n", n)
	}
	svc := &tenant.Service{Store: st, HTTPClient: &http.Client{Timeout: 15 * time.Second}}
	t, checks, err := svc.ConfigureChecked(ctx, pos[0], tenant.SignIn{OktaDomain: *domain, ClientID: *clientID, ClientSecret: *clientSecret, AuthServer: *authServer})
	err = db.explain(pos[0], err)
	// The sign-in check's steps go to stderr, so that stdout stays JSON.
	for _, c := range checks {
		mark := "✓"
		if !c.OK {
			mark = "✗"
		}
		detail := c.Detail
		if !c.OK {
			// The check's sentences name the dialog's field; here it is a flag.
			detail = strings.ReplaceAll(detail, " as the authorization server", " as the authorization server (--auth-server)")
		}
		fmt.Fprintf(stderr, "%s %s: %s\n", mark, c.Name, detail)
	}
	var failed *tenant.CheckError
	if errors.As(err, &failed) {
		auditCLI(ctx, st, stderr, pos[0], "sign-in-saved", "refused", cliDetail{Reason: "check-failed"})
		// The ✗ line above has said why.
		return &failedError{n: 1}
	}
	if err != nil {
		return err
	}
	auditCLI(ctx, st, stderr, pos[0], "sign-in-saved", "ok", cliDetail{})
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]string{"tenant": t.Name, "oktaDomain": t.OktaDomain, "authServer": t.AuthServer, "issuer": t.Issuer, "clientId": t.ClientID})
}

// cmdTenantRotateToken is tenant rotate-token: it gives the tenant a new
// SCIM token and prints it once. With --grace D the previous token keeps
// working for D; --revoke (the default) ends it at once, as does any
// rotation for a previous token still in its grace period.
func cmdTenantRotateToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("tenant rotate-token", "tenant rotate-token NAME [--grace 10m | --revoke] [--db DSN]\n\n"+
		"Gives the tenant a new SCIM token and prints it once; paste it into Okta (Provisioning > Integration > API token). "+
		"With --grace the old token keeps working that long so Okta is not cut off meanwhile; --revoke (the default) ends it at once. "+
		"Only one old token is kept: a new rotation ends the one still in its grace period", stderr)
	dsn := fs.String("db", envOr("IDPKIT_DB", defaultDB), "database: sqlite:PATH or postgres://… (env IDPKIT_DB)")
	grace := fs.Duration("grace", 0, fmt.Sprintf("how long the old token keeps working, such as 10m (at most %v)", tenant.MaxGrace))
	revoke := fs.Bool("revoke", false, "end the old token at once (the default without --grace)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: tenant rotate-token takes one NAME", errUsage)
	}
	switch {
	case *revoke && flagSet(fs, "grace"):
		return fmt.Errorf("%w: tenant rotate-token takes --grace or --revoke, not both", errUsage)
	case *grace < 0 || *grace > tenant.MaxGrace:
		return fmt.Errorf("%w: --grace %v must be between 0 and %v", errUsage, *grace, tenant.MaxGrace)
	}
	db := tenantDB{dsn: *dsn, given: flagSet(fs, "db") || os.Getenv("IDPKIT_DB") != ""}
	if err := db.mustExist(); err != nil {
		return err
	}
	// Only the token hashes change: the plain store writes the client
	// secret back as it read it (encrypted or not), so no key is needed.
	st, err := sqlstore.Open(ctx, *dsn, sqlstore.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	now := time.Now()
	svc := &tenant.Service{Store: st, Now: func() time.Time { return now }}
	tok, err := svc.RotateTokenGrace(ctx, pos[0], *grace)
	if err != nil {
		return db.explain(pos[0], err)
	}
	auditCLI(ctx, st, stderr, pos[0], "secret-rotated", "ok", cliDetail{Grace: grace.String()})
	// The notes go to stderr, so that stdout is the token alone.
	if *grace > 0 {
		fmt.Fprintf(stderr, "idpkit: the old token keeps working for %v, until %s; paste the new one into Okta before then\n",
			*grace, now.Add(*grace).UTC().Format(time.RFC3339))
	} else {
		fmt.Fprintln(stderr, "idpkit: the old token no longer works; paste the new one into Okta now")
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

func cmdTenantAdminLink(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return withTenantService(ctx, "admin-link", args, stderr, func(svc *tenant.Service, name string) error {
		link, err := svc.AdminLink(ctx, name)
		if err != nil {
			return err
		}
		auditCLI(ctx, svc.Store, stderr, name, "admin-link-issued", "ok", cliDetail{})
		_, err = fmt.Fprintln(stdout, link)
		return err
	})
}

// defaultPublicURL is what tenant create and admin-link assume when neither
// --public-url nor IDPKIT_PUBLIC_URL is given: serve's default address.
const defaultPublicURL = "http://127.0.0.1:8080"

// publicURLFor validates the --public-url of tenant create and admin-link.
// The printed URLs are only right when they match the URL serve uses, so
// when the default is used it says so on stderr (stdout stays JSON).
func publicURLFor(fs *flag.FlagSet, public string, stderr io.Writer) (string, error) {
	pub, err := checkBaseURL("--public-url", public)
	if err != nil {
		return "", err
	}
	if !flagSet(fs, "public-url") && os.Getenv("IDPKIT_PUBLIC_URL") == "" {
		fmt.Fprintf(stderr, "idpkit: note: the URLs below use %s; if serve runs elsewhere (--addr, --public-url), pass the same --public-url here or set IDPKIT_PUBLIC_URL\n", pub)
	}
	return pub, nil
}
