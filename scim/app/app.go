// Package app composes idpkit's app server: the SCIM 2.0 service
// (RFC 7644) per tenant, the OIDC relying party (OpenID Connect Core 1.0
// §3.1) and the Connect Okta dialog with its API, plus /healthz, into one
// http.Handler.
package app

import (
	"io/fs"
	"log/slog"
	"net/http"
	"time"

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
	tenants := Tenants(cfg)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	server.New(server.Config{Store: cfg.Store, Logger: cfg.Logger, Now: cfg.Now, PublicURL: cfg.PublicURL}).Register(mux)
	login.New(login.Config{Store: cfg.Store, Tenants: tenants, Logger: cfg.Logger, Now: cfg.Now, HTTPClient: cfg.HTTPClient, Assets: cfg.Assets}).Register(mux)
	return mux
}

// Tenants returns the tenant service for cfg, as New uses it.
func Tenants(cfg Config) *tenant.Service {
	return &tenant.Service{Store: cfg.Store, PublicURL: cfg.PublicURL, HTTPClient: cfg.HTTPClient, Now: cfg.Now, Logger: cfg.Logger}
}
