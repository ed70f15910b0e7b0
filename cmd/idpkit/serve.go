package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/idpkit/idpkit/scim/app"
	"github.com/idpkit/idpkit/scim/httpx"
	"github.com/idpkit/idpkit/scim/login"
	"github.com/idpkit/idpkit/scim/server"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
)

const defaultDB = "sqlite:idpkit.db"

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "serve [--addr 127.0.0.1:8080] [--db sqlite:PATH | postgres://…] [--public-url URL] [--grace 10s] [--metrics=false] [--store-password-hashes] [--oidc-response-mode query|form_post] [--tls-cert FILE --tls-key FILE] [--trust-proxy CIDR,…] [--max-tenant-requests 64] [--tenant-rate R [--tenant-burst N]] [--auth-failures-per-address 20] [--auth-failures-per-tenant 100] [--auth-failure-window 1m] [--secret-key-file FILE] [--audit-retention 2160h] [--verbose]\n\nEvery flag can also be set by the environment variable named in its help; a flag on the command line wins", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (env IDPKIT_ADDR)")
	dsn := fs.String("db", defaultDB, "database: sqlite:PATH or postgres://… (env IDPKIT_DB)")
	public := fs.String("public-url", "", "public base URL used in tenant URLs and redirects (default http://ADDR; env IDPKIT_PUBLIC_URL)")
	grace := fs.Duration("grace", 10*time.Second, "on SIGINT/SIGTERM, how long to let running requests finish before cutting them off (env IDPKIT_GRACE)")
	metrics := fs.Bool("metrics", true, "serve Prometheus metrics at /metrics on --addr, without authentication; --metrics=false turns it off (env IDPKIT_METRICS)")
	keepHashes := fs.Bool("store-password-hashes", false, "keep a PBKDF2 hash of the password a SCIM client sends with a user; by default the password is dropped and never stored (env IDPKIT_STORE_PASSWORD_HASHES)")
	responseMode := fs.String("oidc-response-mode", login.ResponseModeQuery, "how Okta returns sign-in responses to /t/{tenant}/oidc/callback: query (a redirect) or form_post (a cross-site form POST; its login cookie is SameSite=None; Secure, so it needs an https --public-url or a loopback one) (env IDPKIT_OIDC_RESPONSE_MODE)")
	tlsCert := fs.String("tls-cert", "", "serve HTTPS with this PEM certificate (chain) file, reloaded when it changes; needs --tls-key (env IDPKIT_TLS_CERT)")
	tlsKey := fs.String("tls-key", "", "the PEM private key of --tls-cert (env IDPKIT_TLS_KEY)")
	trustProxy := fs.String("trust-proxy", "", "comma-separated CIDRs or addresses of reverse proxies whose X-Forwarded-Proto, -For and -Host are believed; from other peers they are dropped (env IDPKIT_TRUST_PROXY)")
	maxTenant := fs.Int("max-tenant-requests", 64, "at most this many requests per tenant run at once; more get 503 with Retry-After: 1; 0 means no cap (env IDPKIT_MAX_TENANT_REQUESTS)")
	tenantRate := fs.Float64("tenant-rate", 0, "at most this many requests per second per tenant (its SCIM API, and separately its sign-in and admin pages); beyond it 429 with Retry-After; requests answered 401, 403 or 429 do not count; 0 means no limit (env IDPKIT_TENANT_RATE)")
	tenantBurst := fs.Int("tenant-burst", 0, "how many requests a tenant may make at once after a quiet spell, under --tenant-rate; 0 means twice --tenant-rate, at least 1 (env IDPKIT_TENANT_BURST)")
	addrFailures := fs.Int("auth-failures-per-address", httpx.DefaultAddressFailures, "failed authentications (wrong bearer tokens, admin links, sign-in callbacks) one source address may make per --auth-failure-window before it gets 429; loopback is not counted; 0 means no per-address limit (env IDPKIT_AUTH_FAILURES_PER_ADDRESS)")
	tenantFailures := fs.Int("auth-failures-per-tenant", httpx.DefaultTenantFailures, "failed authentications per tenant, from all addresses, per --auth-failure-window before further failures get 429 instead of 401 (the right token still passes); 0 means no per-tenant limit (env IDPKIT_AUTH_FAILURES_PER_TENANT)")
	failureWindow := fs.Duration("auth-failure-window", httpx.DefaultWindow, "the period the --auth-failures-per-* budgets refill over, evenly (env IDPKIT_AUTH_FAILURE_WINDOW)")
	verbose := fs.Bool("verbose", false, "log at debug level (env IDPKIT_VERBOSE)")
	auditRetention := fs.Duration("audit-retention", defaultAuditRetention, "how long audit records are kept (idpkit audit NAME reads them); older ones are deleted hourly; 0 keeps them forever (env IDPKIT_AUDIT_RETENTION)")
	// Secrets at rest (see tenant_key.go): the key tenants' client secrets
	// are encrypted with; its environment variables are read by
	// secretKeys, not flagsFromEnv, because IDPKIT_SECRET_KEY holds the key
	// itself.
	secretKeyFile := fs.String("secret-key-file", "", "file holding the key that encrypts tenants' client secrets at rest: the base64 of 32 random bytes (openssl rand -base64 32); without a key secrets are stored in clear, and serve refuses a database that holds encrypted ones (env IDPKIT_SECRET_KEY_FILE, or the key itself in IDPKIT_SECRET_KEY; during a rotation IDPKIT_OLD_SECRET_KEY_FILE or IDPKIT_OLD_SECRET_KEY names the old key too)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := flagsFromEnv(fs, []flagEnv{
		{"addr", "IDPKIT_ADDR"}, {"db", "IDPKIT_DB"}, {"public-url", "IDPKIT_PUBLIC_URL"},
		{"grace", "IDPKIT_GRACE"}, {"metrics", "IDPKIT_METRICS"}, {"store-password-hashes", "IDPKIT_STORE_PASSWORD_HASHES"},
		{"oidc-response-mode", "IDPKIT_OIDC_RESPONSE_MODE"}, {"verbose", "IDPKIT_VERBOSE"},
		{"tls-cert", "IDPKIT_TLS_CERT"}, {"tls-key", "IDPKIT_TLS_KEY"}, {"trust-proxy", "IDPKIT_TRUST_PROXY"},
		{"max-tenant-requests", "IDPKIT_MAX_TENANT_REQUESTS"},
		{"tenant-rate", "IDPKIT_TENANT_RATE"}, {"tenant-burst", "IDPKIT_TENANT_BURST"},
		{"auth-failures-per-address", "IDPKIT_AUTH_FAILURES_PER_ADDRESS"}, {"auth-failures-per-tenant", "IDPKIT_AUTH_FAILURES_PER_TENANT"},
		{"auth-failure-window", "IDPKIT_AUTH_FAILURE_WINDOW"},
		{"audit-retention", "IDPKIT_AUDIT_RETENTION"},
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
	if (*tlsCert == "") != (*tlsKey == "") {
		return fmt.Errorf("%w: --tls-cert and --tls-key go together: give both (HTTPS) or neither (plain http)", errUsage)
	}
	proxies, err := httpx.ParseTrustedProxies(*trustProxy)
	if err != nil {
		return fmt.Errorf("%w: --trust-proxy: %w", errUsage, err)
	}
	if *maxTenant < 0 {
		return fmt.Errorf("%w: --max-tenant-requests must not be negative, got %d", errUsage, *maxTenant)
	}
	limits, err := serveLimits(*tenantRate, *tenantBurst, *addrFailures, *tenantFailures, *failureWindow)
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := newLogger(stderr, level)
	keys, err := secretKeys(fs, *secretKeyFile)
	if err != nil {
		return err
	}
	raw, err := sqlstore.Open(ctx, *dsn, sqlstore.Options{Logger: log})
	if err != nil {
		return redactedError{err, *dsn}
	}
	defer raw.Close()
	// Secrets at rest: refuse to start when the database holds encrypted
	// secrets that keys do not open (or no key is given).
	st, notes, err := openSealed(ctx, *dsn, raw, keys)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	for _, n := range notes {
		log.Warn("secrets at rest: " + n)
	}
	switch older := keys.OlderIDs(); {
	case keys == nil:
		log.Warn("no secret key (IDPKIT_SECRET_KEY_FILE, IDPKIT_SECRET_KEY or --secret-key-file): tenants' client secrets are stored in clear")
	case len(older) > 0:
		log.Info("tenant secrets are encrypted at rest", "secret_key_id", keys.ID(), "old_secret_key_ids", strings.Join(older, ","))
	default:
		log.Info("tenant secrets are encrypted at rest", "secret_key_id", keys.ID())
	}
	// The audit trail (audit.go): written in batches, flushed on the way
	// out (after the server has stopped), pruned hourly.
	if *auditRetention < 0 {
		return fmt.Errorf("%w: --audit-retention must not be negative, got %v", errUsage, *auditRetention)
	}
	auditor := server.NewAuditWriter(st, log)
	defer auditor.Close()
	go pruneAudit(ctx, st, *auditRetention, time.Now, log)
	var certs *certReloader
	if *tlsCert != "" {
		if certs, err = newCertReloader(*tlsCert, *tlsKey, certCheckEvery, log); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	pub := *public
	if pub == "" {
		pub = "http://" + ln.Addr().String()
		if certs != nil {
			pub = "https://" + ln.Addr().String()
		}
	}
	h := app.New(app.Config{Store: st, PublicURL: pub, Logger: log, DisableMetrics: !*metrics, KeepPasswordHashes: *keepHashes, OIDCResponseMode: *responseMode, Audit: auditor,
		FailureLimits: limits.failures, TenantRate: limits.rate})
	h = proxies.HandlerLogged(httpx.HSTSUnder(pub, httpx.LimitTenants(*maxTenant, h)), log, time.Now)
	if strings.HasPrefix(pub, "https://") && certs == nil && *trustProxy == "" {
		log.Warn("the public URL is https but serve speaks plain http and trusts no proxy: if a TLS-terminating proxy or load balancer is in front, name it with --trust-proxy (IDPKIT_TRUST_PROXY), else every request seems to come from the proxy's address: the audit trail and logs name the proxy, and all clients share one failure budget",
			"public_url", pub)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		// Every connection may hold this much of a request's headers in
		// memory while they arrive (within ReadHeaderTimeout), so it is
		// kept small: Go's default of 1 MiB let a few thousand idle
		// connections take gigabytes. It is still above
		// server.MaxFilterLength plus the rest of a request, so a filter
		// just over that limit reaches the SCIM server and gets its SCIM
		// error (400 invalidFilter); a longer request line or header gets
		// Go's plain-text 431.
		MaxHeaderBytes: maxHeaderBytes,
		ErrorLog:       serverErrorLog(log),
	}
	log.Info("idpkit serving", "addr", ln.Addr().String(), "public_url", pub, "db", redactDSN(*dsn), "store_password_hashes", *keepHashes, "oidc_response_mode", *responseMode,
		"tls", certs != nil, "trust_proxy", *trustProxy, "metrics", *metrics, "max_tenant_requests", *maxTenant,
		"tenant_rate", limits.rate.Rate, "tenant_burst", limits.rate.Burst,
		"auth_failures_per_address", *addrFailures, "auth_failures_per_tenant", *tenantFailures, "auth_failure_window", *failureWindow)
	errc := make(chan error, 1)
	if certs != nil {
		srv.TLSConfig = serverTLSConfig(certs)
		// ServeTLS adds "h2" to the ALPN protocols: HTTP/2 over TLS.
		go func() { errc <- srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { errc <- srv.Serve(ln) }()
	}
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

// limits is what serve's rate-limit flags set.
type limits struct {
	failures httpx.FailureLimiterConfig
	rate     httpx.TenantRateConfig
}

// serveLimits checks the rate-limit flags and turns them into the app's
// configuration: a failure budget of 0 is httpx.NoLimit, a burst of 0
// httpx.DefaultBurst of the rate.
func serveLimits(rate float64, burst, addrFailures, tenantFailures int, window time.Duration) (limits, error) {
	var l limits
	switch {
	case math.IsNaN(rate) || math.IsInf(rate, 0) || rate < 0:
		return l, fmt.Errorf("%w: --tenant-rate must be a number of requests per second, 0 or more, got %v", errUsage, rate)
	case burst < 0:
		return l, fmt.Errorf("%w: --tenant-burst must not be negative, got %d", errUsage, burst)
	case burst > 0 && rate == 0:
		return l, fmt.Errorf("%w: --tenant-burst needs --tenant-rate", errUsage)
	case addrFailures < 0:
		return l, fmt.Errorf("%w: --auth-failures-per-address must not be negative (0 means no limit), got %d", errUsage, addrFailures)
	case tenantFailures < 0:
		return l, fmt.Errorf("%w: --auth-failures-per-tenant must not be negative (0 means no limit), got %d", errUsage, tenantFailures)
	case window <= 0:
		return l, fmt.Errorf("%w: --auth-failure-window must be positive, got %v", errUsage, window)
	}
	if rate > 0 && burst == 0 {
		burst = httpx.DefaultBurst(rate)
	}
	l.rate = httpx.TenantRateConfig{Rate: rate, Burst: burst}
	budget := func(n int) int {
		if n == 0 {
			return httpx.NoLimit
		}
		return n
	}
	l.failures = httpx.FailureLimiterConfig{AddressFailures: budget(addrFailures), TenantFailures: budget(tenantFailures), Window: window}
	return l, nil
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

// maxHeaderBytes is serve's http.Server.MaxHeaderBytes: twice
// server.MaxFilterLength (64 KiB), so that a filter over that limit, with
// the rest of the request line and Okta's few headers, still reaches the
// SCIM server.
const maxHeaderBytes = 2 * server.MaxFilterLength

// redactDSN returns dsn fit for logs and messages, without its secrets:
// a sqlite: DSN as it is; a URL (postgres://…) with the password of its
// user info and the values of its password and sslpassword parameters
// replaced by ***; a key=value DSN (host=… password=…) with the values of
// its password and sslpassword keys replaced; any other text that holds
// an @ as its scheme alone.
func redactDSN(dsn string) string {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		return dsn
	case strings.Contains(dsn, "://"):
		return redactURL(dsn)
	case strings.Contains(dsn, "="):
		return kvPassword.ReplaceAllString(dsn, "${1}=***")
	case strings.Contains(dsn, "@"):
		scheme, _, _ := strings.Cut(dsn, ":")
		return scheme + ":…"
	}
	return dsn
}

// kvPassword finds the secret values of a key=value DSN, as libpq parses
// them: a quoted value (with \' and \\ escapes) or one up to white space.
var kvPassword = regexp.MustCompile(`(?i)\b((?:ssl)?password)\s*=\s*(?:'(?:[^'\\]|\\.)*'?|\S*)`)

// redactURL is redactDSN for a URL.
func redactURL(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		// The text cannot be shown safely; the scheme tells enough.
		scheme, _, _ := strings.Cut(dsn, ":")
		return scheme + ":…"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "***")
	}
	if u.RawQuery != "" {
		params := strings.Split(u.RawQuery, "&")
		for i, p := range params {
			k, _, _ := strings.Cut(p, "=")
			if key, err := url.QueryUnescape(k); err != nil || secretParam(key) {
				params[i] = k + "=***"
			}
		}
		u.RawQuery = strings.Join(params, "&")
	}
	return strings.ReplaceAll(u.String(), "%2A%2A%2A", "***")
}

// secretParam reports whether a DSN parameter holds a secret.
func secretParam(key string) bool {
	switch strings.ToLower(strings.TrimSpace(key)) {
	case "password", "sslpassword":
		return true
	}
	return false
}

// redactedError is err, whose text may quote dsn, with dsn redacted
// (redactDSN).
type redactedError struct {
	err error
	dsn string
}

func (e redactedError) Error() string {
	msg := e.err.Error()
	if e.dsn == "" {
		return msg
	}
	return strings.ReplaceAll(msg, e.dsn, redactDSN(e.dsn))
}

func (e redactedError) Unwrap() error { return e.err }

// certCheckEvery is how often, at most, serve looks whether the
// --tls-cert and --tls-key files changed (on a TLS handshake).
const certCheckEvery = 5 * time.Second

// tls12Suites are the TLS 1.2 cipher suites serve accepts: ECDHE (forward
// secrecy) with an AEAD cipher (AES-GCM, ChaCha20-Poly1305), for RSA and
// ECDSA certificates. Go's default list also has ECDHE with AES-CBC and
// SHA-1 MACs, which are not AEAD. TLS 1.3's suites are all AEAD and not
// configurable.
var tls12Suites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// serverTLSConfig is serve's TLS: 1.2 at least, with only AEAD,
// forward-secret cipher suites for TLS 1.2 (tls12Suites), the
// certificate from c.
func serverTLSConfig(c *certReloader) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: tls12Suites, GetCertificate: c.GetCertificate}
}

// serverErrorLog is the http.Server's ErrorLog: its lines go to log at
// Warn, but for failed TLS handshakes ("http: TLS handshake error from
// …"), which any client can cause as often as it likes (a port scan, a
// plain-http request, a client that does not trust the certificate):
// those go at Debug, so that strangers do not decide how much is logged
// at Warn.
func serverErrorLog(log *slog.Logger) *stdlog.Logger {
	return stdlog.New(errorLogWriter{log}, "", 0)
}

// errorLogWriter writes each line of the http.Server's ErrorLog to log.
type errorLogWriter struct{ log *slog.Logger }

func (w errorLogWriter) Write(p []byte) (int, error) {
	msg := strings.TrimSuffix(string(p), "\n")
	level := slog.LevelWarn
	if strings.HasPrefix(msg, "http: TLS handshake error") {
		level = slog.LevelDebug
	}
	w.log.Log(context.Background(), level, msg)
	return len(p), nil
}

// fileStamp tells whether a file changed: its modification time, size
// and a hash of its contents (a renewal copied with cp -p, rsync -t or
// tar keeps the old time, and often has the same size).
type fileStamp struct {
	mod  time.Time
	size int64
	sum  [sha256.Size]byte
}

// certReloader serves a certificate and key pair from two files and
// loads them again when they change. It looks at most once per every,
// on a handshake; a new pair that does not load (a key that does not
// match, a file half written) is logged at Warn — a renewal that writes
// the two files one after the other passes through that state — and at
// Error once it has lasted certBrokenFor; the old pair stays in use until
// the files change again.
type certReloader struct {
	certFile, keyFile string
	every             time.Duration
	log               *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	stamps  [2]fileStamp // of the pair last loaded or tried
	checked time.Time
	// brokenSince is when the files last changed into a pair that does
	// not load (zero while the last try loaded); reported says the Error
	// for it has been logged.
	brokenSince time.Time
	reported    bool
}

// certBrokenFor is how long the certificate files may stay a pair that
// does not load before it is logged at Error.
const certBrokenFor = time.Minute

// newCertReloader loads the pair once; an error here stops serve.
func newCertReloader(certFile, keyFile string, every time.Duration, log *slog.Logger) (*certReloader, error) {
	c := &certReloader{certFile: certFile, keyFile: keyFile, every: every, log: log}
	stamps, err := c.stat()
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("serve: --tls-cert %s / --tls-key %s: %w", certFile, keyFile, err)
	}
	c.cert, c.stamps, c.checked = &cert, stamps, time.Now()
	return c, nil
}

func (c *certReloader) stat() ([2]fileStamp, error) {
	var s [2]fileStamp
	for i, f := range []string{c.certFile, c.keyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			return s, fmt.Errorf("serve: TLS: %w", err)
		}
		// Certificate and key files are a few kilobytes: reading them at
		// each check (every certCheckEvery at most) costs nothing.
		b, err := os.ReadFile(f)
		if err != nil {
			return s, fmt.Errorf("serve: TLS: %w", err)
		}
		s[i] = fileStamp{fi.ModTime(), fi.Size(), sha256.Sum256(b)}
	}
	return s, nil
}

// GetCertificate is tls.Config.GetCertificate.
func (c *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := time.Now(); now.Sub(c.checked) >= c.every {
		c.checked = now
		c.reload()
		if !c.brokenSince.IsZero() && !c.reported && now.Sub(c.brokenSince) >= certBrokenFor {
			c.reported = true
			c.log.Error("TLS certificate files still do not load; the old certificate is still in use", "cert", c.certFile, "key", c.keyFile, "since", c.brokenSince)
		}
	}
	return c.cert, nil
}

// reload loads the pair again if either file changed since the last
// load or try.
func (c *certReloader) reload() {
	stamps, err := c.stat()
	if err != nil {
		c.log.Error("TLS certificate files unreadable; keeping the certificate in use", "cert", c.certFile, "key", c.keyFile, "err", err)
		return
	}
	if stamps == c.stamps {
		return
	}
	c.stamps = stamps
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		if c.brokenSince.IsZero() {
			c.brokenSince, c.reported = time.Now(), false
		}
		c.log.Warn("TLS certificate files changed but do not load (half of a renewal written?); keeping the certificate in use", "cert", c.certFile, "key", c.keyFile, "err", err)
		return
	}
	c.brokenSince = time.Time{}
	c.cert = &cert
	attrs := []any{"cert", c.certFile}
	if cert.Leaf != nil {
		attrs = append(attrs, "subject", cert.Leaf.Subject.String(), "not_after", cert.Leaf.NotAfter)
	}
	c.log.Info("TLS certificate reloaded", attrs...)
}
