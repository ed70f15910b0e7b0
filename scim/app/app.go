// Package app composes idpkit's app server: the SCIM 2.0 service
// (RFC 7644) per tenant, the OIDC relying party (OpenID Connect Core 1.0
// §3.1), the Connect Okta dialog with its API and the SCIM tester page
// (/conform/), plus the operating
// endpoints /healthz (liveness), /readyz (the database answers) and /metrics
// (Prometheus text exposition format), into one http.Handler.
package app

import (
	"bytes"
	"github.com/idpkit/idpkit/scim/activity"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/idpkit/idpkit/scim/httpx"
	"github.com/idpkit/idpkit/scim/login"
	"github.com/idpkit/idpkit/scim/server"
	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/tenant"
	"github.com/idpkit/idpkit/wasm"
)

// Config configures the app server. Store and PublicURL are required.
type Config struct {
	Store      store.Store
	PublicURL  string       // the server's public base URL, without a trailing slash
	Logger     *slog.Logger // nil discards
	Now        func() time.Time
	HTTPClient *http.Client // reaches Okta (discovery, keys, token); nil means a client with timeouts
	Assets     fs.FS        // the dialog's page assets; nil means wasm.Assets

	// DisableMetrics leaves out GET /metrics and the request and store
	// instrumentation behind it. By default /metrics is served, without
	// authentication, on the app's own listener: it names routes
	// (ServeMux patterns), status codes and store methods, never a tenant,
	// a user or a path. Turn it off where that listener is public and the
	// metrics should not be.
	DisableMetrics bool

	// KeepPasswordHashes makes the SCIM server keep a PBKDF2 hash of each
	// password a client pushes (see server.Config.KeepPasswordHashes). By
	// default a pushed password is accepted and dropped: sign-in goes
	// through OIDC and never checks it.
	KeepPasswordHashes bool

	// OIDCResponseMode is how Okta returns sign-in responses to
	// /t/{tenant}/oidc/callback: "query" ("" means it) or "form_post"
	// (see login.Config.ResponseMode: form_post needs https, or a
	// loopback PublicURL). New panics on another value; check user input
	// with login.CheckResponseMode.
	OIDCResponseMode string

	// DisableRateLimits turns off the limits on failed authentication.
	// By default one httpx.FailureLimiter (FailureLimits, by default
	// 20 failures a minute per source address and 100 per tenant)
	// is shared by the SCIM server (wrong bearer tokens) and the sign-in
	// and admin routes (wrong admin links, forged callbacks): an address
	// over its budget gets 429 with Retry-After before its credential is
	// checked, and a tenant over its budget turns only failed attempts
	// into 429, so Okta, with the right token, is never refused. The
	// client address is r.RemoteAddr, which follows X-Forwarded-For only
	// from trusted proxies (httpx.TrustedProxies).
	DisableRateLimits bool

	// FailureLimits sets the budgets of that limiter (serve's
	// --auth-failures-per-address, --auth-failures-per-tenant and
	// --auth-failure-window): zero fields take httpx's defaults,
	// httpx.NoLimit turns one budget off, and a nil Now means Config.Now.
	// DisableRateLimits wins over it.
	FailureLimits httpx.FailureLimiterConfig

	// TenantRate limits each tenant's requests per second (serve's
	// --tenant-rate and --tenant-burst; see httpx.TenantRate): a tenant
	// over its budget gets 429 with Retry-After, a SCIM error body on
	// SCIM paths. A request answered 401, 403 or 429 costs nothing, so
	// requests without the right token cannot spend Okta's budget. The
	// zero value (Rate 0) is no limit; a nil Now means Config.Now and a
	// nil Logger Config.Logger. DisableRateLimits does not turn it off.
	TenantRate httpx.TenantRateConfig

	// Audit, when set, receives the audit trail: SCIM writes, sign-in
	// outcomes and admin changes. The caller closes it (flushing) after
	// the server has shut down.
	Audit *server.AuditWriter
}

// New returns the app server's handler.
func New(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.Assets == nil {
		cfg.Assets = wasm.Assets
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	// /readyz pings the store itself, not through the instrumentation.
	mux.Handle("GET /readyz", readyz(cfg.Store, cfg.Logger))
	var m *httpMetrics
	if !cfg.DisableMetrics {
		var reg *prometheus.Registry
		reg, m, cfg.Store = instrumentation(cfg)
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
			ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
			Registry: reg,
		}))
	}
	// The SCIM tester page, same-origin with every tenant's SCIM service.
	mux.Handle("GET /conform", http.RedirectHandler("/conform/", http.StatusMovedPermanently))
	mux.Handle("GET /conform/{file...}", tester(wasm.Tester, cfg.Now))
	tenants := Tenants(cfg)
	log := activity.New(0)
	var limiter *httpx.FailureLimiter
	if !cfg.DisableRateLimits {
		fl := cfg.FailureLimits
		if fl.Now == nil {
			fl.Now = cfg.Now
		}
		limiter = httpx.NewFailureLimiter(fl)
	}
	server.New(server.Config{Store: cfg.Store, Logger: cfg.Logger, Now: cfg.Now, PublicURL: cfg.PublicURL, KeepPasswordHashes: cfg.KeepPasswordHashes, Activity: log, Limiter: limiter, Audit: cfg.Audit}).Register(mux)
	var auditor login.Auditor
	if cfg.Audit != nil {
		auditor = cfg.Audit // not a typed nil in the interface
	}
	login.New(login.Config{Audit: auditor, Store: cfg.Store, Tenants: tenants, Logger: cfg.Logger, Now: cfg.Now, HTTPClient: cfg.HTTPClient, Assets: cfg.Assets, ResponseMode: cfg.OIDCResponseMode, Activity: log, Limiter: limiter}).Register(mux)
	tr := cfg.TenantRate
	if tr.Now == nil {
		tr.Now = cfg.Now
	}
	if tr.Logger == nil {
		tr.Logger = cfg.Logger
	}
	// Outside the mux, inside the metrics and the access log, which
	// count its 429s.
	h := httpx.NewTenantRate(tr).Handler(mux)
	if m != nil {
		h = m.instrument(cfg.Now, h)
	}
	return accessLog(cfg.Logger, cfg.Now, h)
}

// tester serves the tester page's files: conform.html at /conform/ and
// every other file at /conform/{file}. It has no config.json (404), so the
// page starts with empty fields.
func tester(files fs.FS, now func() time.Time) http.Handler {
	modified := now()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("file")
		if name == "" {
			name = wasm.TesterPage
		}
		b, err := fs.ReadFile(files, name)
		if err != nil || strings.Contains(name, "/") {
			http.NotFound(w, r)
			return
		}
		if ct := contentType(path.Ext(name)); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, name, modified, bytes.NewReader(b))
	})
}

// contentType is the media type of the tester's file types.
func contentType(ext string) string {
	switch ext {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".wasm":
		return "application/wasm"
	}
	return ""
}

// accessLog logs one line per request at Info: method, path, status,
// duration and client address. It never logs the query string, which can
// carry a one-time admin link or an authorization code.
func accessLog(log *slog.Logger, now func() time.Time, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", rec.status),
			slog.Duration("duration", now().Sub(start)), slog.String("remote", r.RemoteAddr))
	})
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Tenants returns the tenant service for cfg, as New uses it.
func Tenants(cfg Config) *tenant.Service {
	return &tenant.Service{Store: cfg.Store, PublicURL: cfg.PublicURL, HTTPClient: cfg.HTTPClient, Now: cfg.Now, Logger: cfg.Logger}
}
