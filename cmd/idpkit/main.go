// Command idpkit runs every side of an app's connection to Okta: the app
// server (SCIM 2.0 per RFC 7643/7644 and OIDC sign-in), a mock Okta, and
// the conformance run that plays the "Connect Okta" guide.
//
//	idpkit conform [--scim-url URL --token TOKEN] [--junit FILE] [--json FILE]
//	idpkit serve [--addr 127.0.0.1:8080] [--db sqlite:PATH | postgres://…] [--public-url URL]
//	idpkit tenant create NAME [--db DSN] [--public-url URL]
//	idpkit tenant configure NAME --okta-domain DOMAIN --client-id ID --client-secret SECRET [--auth-server default] [--db DSN]
//	idpkit mockokta [--addr 127.0.0.1:9090] [--seed FILE] [--api-token TOKEN]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

const usage = `idpkit — connect an app to Okta: SCIM provisioning, OIDC sign-in, conformance.

Usage:
  idpkit conform [--scim-url URL --token TOKEN] [--junit FILE] [--json FILE] [--label L,…] [--verbose]
  idpkit serve [--addr 127.0.0.1:8080] [--db sqlite:idpkit.db | postgres://…] [--public-url URL]
  idpkit tenant create NAME [--db DSN] [--public-url URL]
  idpkit tenant configure NAME --okta-domain DOMAIN --client-id ID --client-secret SECRET [--auth-server default] [--db DSN]
  idpkit tenant admin-link NAME [--db DSN] [--public-url URL]
  idpkit mockokta [--addr 127.0.0.1:9090] [--seed FILE] [--api-token TOKEN]

Run "idpkit COMMAND --help" for a command's flags.
`

// errUsage marks a command-line mistake: exit status 2.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
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
	case "mockokta":
		err = cmdMockOkta(ctx, args[1:], stdout, stderr)
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
			return nil, fmt.Errorf("%w: %v", errUsage, err)
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

// envOr returns the environment variable's value, or def when unset.
func envOr(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}
