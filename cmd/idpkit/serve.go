package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/idpkit/idpkit/scim/app"
	"github.com/idpkit/idpkit/scim/login"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
)

const defaultDB = "sqlite:idpkit.db"

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "serve [--addr 127.0.0.1:8080] [--db sqlite:PATH | postgres://…] [--public-url URL] [--grace 10s] [--metrics=false] [--store-password-hashes] [--oidc-response-mode query|form_post] [--verbose]\n\nEvery flag can also be set by the environment variable named in its help; a flag on the command line wins", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (env IDPKIT_ADDR)")
	dsn := fs.String("db", defaultDB, "database: sqlite:PATH or postgres://… (env IDPKIT_DB)")
	public := fs.String("public-url", "", "public base URL used in tenant URLs and redirects (default http://ADDR; env IDPKIT_PUBLIC_URL)")
	grace := fs.Duration("grace", 10*time.Second, "on SIGINT/SIGTERM, how long to let running requests finish before cutting them off (env IDPKIT_GRACE)")
	metrics := fs.Bool("metrics", true, "serve Prometheus metrics at /metrics on --addr, without authentication; --metrics=false turns it off (env IDPKIT_METRICS)")
	keepHashes := fs.Bool("store-password-hashes", false, "keep a PBKDF2 hash of the password a SCIM client sends with a user; by default the password is dropped and never stored (env IDPKIT_STORE_PASSWORD_HASHES)")
	responseMode := fs.String("oidc-response-mode", login.ResponseModeQuery, "how Okta returns sign-in responses to /t/{tenant}/oidc/callback: query (a redirect) or form_post (a cross-site form POST; its login cookie is SameSite=None; Secure, so it needs an https --public-url or a loopback one) (env IDPKIT_OIDC_RESPONSE_MODE)")
	verbose := fs.Bool("verbose", false, "log at debug level (env IDPKIT_VERBOSE)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := flagsFromEnv(fs, []flagEnv{
		{"addr", "IDPKIT_ADDR"}, {"db", "IDPKIT_DB"}, {"public-url", "IDPKIT_PUBLIC_URL"},
		{"grace", "IDPKIT_GRACE"}, {"metrics", "IDPKIT_METRICS"}, {"store-password-hashes", "IDPKIT_STORE_PASSWORD_HASHES"},
		{"oidc-response-mode", "IDPKIT_OIDC_RESPONSE_MODE"}, {"verbose", "IDPKIT_VERBOSE"},
	}); err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: serve takes no arguments, got %q", errUsage, pos)
	}
	if *public != "" {
		if *public, err = checkBaseURL("--public-url", *public); err != nil {
			return err
		}
	}
	if err := login.CheckResponseMode(*responseMode); err != nil || *responseMode == "" {
		return fmt.Errorf("%w: --oidc-response-mode must be %s or %s, got %q", errUsage, login.ResponseModeQuery, login.ResponseModeFormPost, *responseMode)
	}
	if *grace < 0 {
		return fmt.Errorf("%w: --grace must not be negative, got %v", errUsage, *grace)
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := newLogger(stderr, level)
	st, err := sqlstore.Open(ctx, *dsn, sqlstore.Options{Logger: log})
	if err != nil {
		return err
	}
	defer st.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	pub := *public
	if pub == "" {
		pub = "http://" + ln.Addr().String()
	}
	h := app.New(app.Config{Store: st, PublicURL: pub, Logger: log, DisableMetrics: !*metrics, KeepPasswordHashes: *keepHashes, OIDCResponseMode: *responseMode})
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		// 1 MiB (Go's default), so that a long query string reaches the
		// SCIM server and gets its own SCIM error (a filter over
		// server.MaxFilterLength is 400 invalidFilter) rather than Go's
		// plain-text 431. Headers beyond 1 MiB still get that 431.
		MaxHeaderBytes: 1 << 20,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("idpkit serving", "addr", ln.Addr().String(), "public_url", pub, "db", redactDSN(*dsn), "store_password_hashes", *keepHashes, "oidc_response_mode", *responseMode)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: no new connections; letting running requests finish (Ctrl-C again stops at once)", "grace", *grace)
	sctx, cancel := context.WithTimeout(context.Background(), *grace)
	defer cancel()
	switch err := srv.Shutdown(sctx); {
	case err == nil, errors.Is(err, http.ErrServerClosed):
	case errors.Is(err, context.DeadlineExceeded):
		// The operator asked to stop; requests that outlived the grace
		// period are cut off, which is not a failure of serve itself.
		srv.Close()
		log.Warn("requests still running after the grace period were cut off", "grace", *grace)
	default:
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// flagEnv names the environment variable that sets a flag.
type flagEnv struct{ flag, env string }

// flagsFromEnv sets each flag not given on the command line from its
// environment variable, when that is set and not empty, so the command
// line wins over the environment, which wins over the default. A value
// the flag does not accept is a usage error naming the variable.
func flagsFromEnv(fs *flag.FlagSet, vars []flagEnv) error {
	for _, v := range vars {
		val, ok := os.LookupEnv(v.env)
		if !ok || val == "" || flagSet(fs, v.flag) {
			continue
		}
		if err := fs.Set(v.flag, val); err != nil {
			return fmt.Errorf("%w: %s=%q is not a valid --%s: %w", errUsage, v.env, val, v.flag, err)
		}
	}
	return nil
}

// redactDSN hides the password of a postgres:// DSN for logging.
func redactDSN(dsn string) string {
	if !strings.Contains(dsn, "@") {
		return dsn // no user info, so no password
	}
	u, err := url.Parse(dsn)
	if err != nil {
		// The text cannot be shown safely; the scheme tells enough.
		scheme, _, _ := strings.Cut(dsn, ":")
		return scheme + ":…"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "***")
		return strings.Replace(u.String(), "%2A%2A%2A", "***", 1)
	}
	return dsn
}
