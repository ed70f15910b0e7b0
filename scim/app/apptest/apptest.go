// Package apptest starts idpkit's app server (scim/app) in process for
// tests: on a temporary SQLite file, behind an httptest.Server, with an
// optional handler in front of it to inject faults. Everything it starts
// is closed when the test ends.
package apptest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/idpkit/idpkit/scim/app"
	"github.com/idpkit/idpkit/scim/server"
	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
	"github.com/idpkit/idpkit/scim/tenant"
)

// Server is a running app server.
type Server struct {
	// URL is the server's base URL, also its PublicURL.
	URL string
	// Client reaches the server.
	Client *http.Client
	// Config is what app.New was given.
	Config app.Config
}

// Option changes the app.Config that Start passes to app.New.
type Option func(*app.Config)

// WithOIDCResponseMode sets app.Config.OIDCResponseMode: "query" (the
// default) or "form_post".
func WithOIDCResponseMode(mode string) Option {
	return func(c *app.Config) { c.OIDCResponseMode = mode }
}

// WithAudit gives the app an audit trail (app.Config.Audit), closed when
// t ends; (*Server).Audit reads it.
func WithAudit(t testing.TB) Option {
	return func(c *app.Config) {
		aw := server.NewAuditWriter(c.Store, nil)
		t.Cleanup(aw.Close)
		c.Audit = aw
	}
}

// Audit writes out what the audit trail has queued and returns a tenant's
// records, oldest first; the server must have been started WithAudit.
func (s *Server) Audit(t testing.TB, tenant string) []store.AuditRecord {
	t.Helper()
	if s.Config.Audit == nil {
		t.Fatal("apptest: Audit needs a server started WithAudit")
	}
	s.Config.Audit.Flush()
	recs, err := s.Config.Store.ListAudit(context.Background(), tenant, time.Time{}, 0)
	if err != nil {
		t.Fatalf("apptest: read the audit trail: %v", err)
	}
	return recs
}

// Start runs app.New on a new SQLite store in t's temporary directory,
// with wrap (when not nil) in front of it, and opts applied to its config.
func Start(t testing.TB, wrap func(http.Handler) http.Handler, opts ...Option) *Server {
	t.Helper()
	st, err := sqlstore.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "idpkit.db"), sqlstore.Options{})
	if err != nil {
		t.Fatalf("apptest: open the store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	cfg := app.Config{Store: st, PublicURL: srv.URL, HTTPClient: srv.Client()}
	for _, o := range opts {
		o(&cfg)
	}
	h = app.New(cfg)
	if wrap != nil {
		h = wrap(h)
	}
	return &Server{URL: srv.URL, Client: srv.Client(), Config: cfg}
}

// Tenant creates a tenant and returns what `idpkit tenant create` prints:
// its SCIM base URL, token and the rest.
func (s *Server) Tenant(t testing.TB, name string) tenant.Created {
	t.Helper()
	created, err := app.Tenants(s.Config).Create(context.Background(), name)
	if err != nil {
		t.Fatalf("apptest: create tenant %q: %v", name, err)
	}
	return created
}
