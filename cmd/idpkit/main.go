// Command idpkit runs every side of an app's connection to Okta: the app
// server (SCIM 2.0 per RFC 7643/7644 and OIDC sign-in), a mock Okta, and
// the conformance run that plays the "Connect Okta" guide.
//
//	idpkit conform [--scim-url URL --token TOKEN [--peer-scim-url URL --peer-token TOKEN]] [--junit FILE] [--json FILE] [--label L,…] [--strict] [--skip ID,…] [--list]
//	idpkit conform --ui [--addr 127.0.0.1:0] [--scim-url URL]
//	idpkit serve [--addr 127.0.0.1:8080] [--db sqlite:PATH | postgres://…] [--public-url URL] [--grace 10s] [--metrics=false] [--store-password-hashes] [--oidc-response-mode query|form_post] [--tls-cert FILE --tls-key FILE] [--trust-proxy CIDR,…] [--max-tenant-requests 64] [--tenant-rate R [--tenant-burst N]] [--auth-failures-per-address 20] [--auth-failures-per-tenant 100] [--auth-failure-window 1m] [--secret-key-file FILE] [--audit-retention 2160h] [--verbose]
//	idpkit tenant create NAME [--db DSN] [--public-url URL]
//	idpkit tenant configure NAME --okta-domain DOMAIN --client-id ID --client-secret SECRET [--auth-server default] [--db DSN]
//	idpkit tenant admin-link NAME [--db DSN] [--public-url URL]
//	idpkit tenant rotate-token NAME [--grace 10m | --revoke] [--db DSN]
//	idpkit tenant admin-group NAME GROUP [--db DSN] [--public-url URL]
//	idpkit tenant rotate-key --secret-key-file NEW [--old-key-file OLD] [--db DSN]
//	idpkit audit NAME [--since 24h|RFC3339] [--json] [--db DSN]
//	idpkit backup [--db sqlite:PATH] [--force] FILE
//	idpkit restore [--db sqlite:PATH] [--force] FILE
//	idpkit seed --db DSN --tenant NAME --users N [--groups G --members M] [--batch 5000]
//	idpkit conform rp --login-url URL [--session-url URL] [--mock-url URL --mock-token TOKEN | --mock-addr ADDR --seed FILE] [--login USER] [--check ID,…] [--strict]
//	idpkit conform op [--issuer URL --client-id ID --client-secret SECRET --redirect-uri URI --username LOGIN --password PASSWORD] [--check ID,…]
//	idpkit mockokta [--addr 127.0.0.1:9090] [--seed FILE.json|.yaml] [--api-token TOKEN] [--trusted-origin ORIGIN,…] [--rotate-every D] [--auth-server ID,…]
//	idpkit load --scim-url URL --token TOKEN [--users N] [--concurrency C] [--duration D] [--cleanup]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

const usage = `idpkit — connect an app to Okta: SCIM provisioning, OIDC sign-in, conformance.

Usage:
  idpkit conform [--scim-url URL --token TOKEN [--peer-scim-url URL --peer-token TOKEN]] [--junit FILE] [--json FILE] [--label L,…] [--strict] [--skip ID,…] [--list] [--verbose]
  idpkit conform --ui [--addr 127.0.0.1:0] [--scim-url URL]
  idpkit serve [--addr 127.0.0.1:8080] [--db sqlite:idpkit.db | postgres://…] [--public-url URL] [--grace 10s] [--metrics=false] [--store-password-hashes] [--oidc-response-mode query|form_post] [--tls-cert FILE --tls-key FILE] [--trust-proxy CIDR,…] [--max-tenant-requests 64] [--tenant-rate R [--tenant-burst N]] [--auth-failures-per-address 20] [--auth-failures-per-tenant 100] [--auth-failure-window 1m] [--secret-key-file FILE] [--audit-retention 2160h] [--verbose]
  idpkit tenant create NAME [--db DSN] [--public-url URL]
  idpkit tenant configure NAME --okta-domain DOMAIN --client-id ID --client-secret SECRET [--auth-server default] [--db DSN]
  idpkit tenant admin-link NAME [--db DSN] [--public-url URL]
  idpkit tenant rotate-token NAME [--grace 10m | --revoke] [--db DSN]
  idpkit tenant admin-group NAME GROUP [--db DSN] [--public-url URL]
  idpkit tenant rotate-key --secret-key-file NEW [--old-key-file OLD] [--db DSN]
  idpkit audit NAME [--since 24h|RFC3339] [--json] [--db DSN]
  idpkit seed --db DSN --tenant NAME --users N [--groups G --members M] [--batch 5000]
  idpkit conform rp --login-url URL [--session-url URL] [--mock-url URL --mock-token TOKEN | --mock-addr ADDR --seed FILE] [--login USER] [--client-id ID] [--json FILE] [--junit FILE] [--label L,… | --check ID,…] [--skip ID,…] [--strict] [--list]
  idpkit conform op [--issuer URL --client-id ID --client-secret SECRET --redirect-uri URI --username LOGIN --password PASSWORD] [--json FILE] [--junit FILE] [--label L,… | --check ID,…] [--skip ID,…] [--list]
  idpkit mockokta [--addr 127.0.0.1:9090] [--seed FILE.json|.yaml] [--api-token TOKEN] [--trusted-origin ORIGIN,…] [--rotate-every D] [--auth-server ID,…]
  idpkit load --scim-url URL --token TOKEN [--users N] [--concurrency C] [--duration D] [--cleanup]
  idpkit backup [--db sqlite:PATH] [--force] FILE   |   idpkit restore [--db sqlite:PATH] [--force] FILE   (PostgreSQL: pg_dump, see README)

Run "idpkit COMMAND --help" for a command's flags.
`

// errUsage marks a command-line mistake: exit status 2.
var errUsage = errors.New("usage")

// errShown marks an error whose message has already been printed (the flag
// package prints its own errors with the usage); run adds nothing.
var errShown = errors.New("already shown")

// errInterrupted marks a command stopped by SIGINT or SIGTERM before it
// finished: exit status 130, as shells report an interrupted command.
var errInterrupted = errors.New("interrupted")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, restore the default behaviour so that a
	// second Ctrl-C ends the process at once instead of being ignored.
	go func() { <-ctx.Done(); stop() }()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command and returns the process exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "conform":
		err = cmdConform(ctx, args[1:], stdout, stderr)
	case "serve":
		err = cmdServe(ctx, args[1:], stdout, stderr)
	case "tenant":
		err = cmdTenant(ctx, args[1:], stdout, stderr)
	case "seed":
		err = cmdSeed(ctx, args[1:], stdout, stderr)
	case "mockokta":
		err = cmdMockOkta(ctx, args[1:], stdout, stderr)
	case "load":
		err = cmdLoad(ctx, args[1:], stdout, stderr)
	case "backup", "restore":
		err = cmdBackupRestore(ctx, args, stdout, stderr)
	case "audit":
		err = cmdAudit(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "idpkit: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	var failed *failedError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errShown):
		return 2
	case errors.Is(err, errInterrupted):
		fmt.Fprintf(stderr, "idpkit: %v\n", err)
		return 130
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "idpkit: %v\n", err)
		return 2
	case errors.As(err, &failed):
		return 1
	default:
		fmt.Fprintf(stderr, "idpkit: %v\n", err)
		return 1
	}
}

// failedError is returned when a run completed but something failed; the
// command has already printed why.
type failedError struct{ n int }

func (e *failedError) Error() string { return fmt.Sprintf("%d failed", e.n) }

// parseFlags parses flags that may come before or after positional
// arguments (`tenant create NAME --db x`), and returns the positionals.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			// fs has printed the error and the usage already.
			return nil, fmt.Errorf("%w: %w: %w", errUsage, errShown, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// newFlagSet returns a FlagSet that prints its usage to stderr.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: idpkit %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// newLogger returns a text logger on w at the given level.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// checkBaseURL validates a base URL given on the command line (--public-url,
// --scim-url): absolute http or https with a host, no query or fragment.
// It returns the URL without a trailing slash.
func checkBaseURL(flagName, s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return "", fmt.Errorf("%w: %s %q is not an http:// or https:// URL with a host, such as https://app.example.com", errUsage, flagName, s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("%w: %s %q must not carry a query, a fragment or credentials", errUsage, flagName, s)
	}
	return strings.TrimRight(s, "/"), nil
}

// flagSet reports whether the named flag was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// envOr returns the environment variable's value, or def when unset.
func envOr(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}
