// Package harness starts idpkit's two sides on loopback inside one process:
// the app server (SCIM 2.0 service, OIDC relying party and Connect Okta
// dialog) on a temporary SQLite database, and a mock Okta. `idpkit conform`,
// the Ginkgo suites and the browser test all start from it.
package harness

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/idpkit/idpkit/mockidp"
	"github.com/idpkit/idpkit/scim/app"
	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
	"github.com/idpkit/idpkit/scim/tenant"
	"github.com/idpkit/idpkit/suites/guide"
)

// Options configures Start.
type Options struct {
	Logger *slog.Logger // nil discards the servers' logs
	// Dir holds the SQLite database; empty means a new temporary directory
	// that Close removes.
	Dir string
	// Wrap, when set, wraps the app server's handler: tests use it to put a
	// faulty app in front of Okta and see the guide notice.
	Wrap func(http.Handler) http.Handler
}

// Env is a running app server and mock Okta.
type Env struct {
	AppURL  string // the app server's public URL
	DBPath  string // its SQLite file
	Okta    *mockidp.Server
	Tenants *tenant.Service
	Client  *http.Client // a client with sensible timeouts for both sides

	store  *sqlstore.Store
	server *http.Server
	tmp    string
}

// Start starts both servers; Close stops them.
func Start(ctx context.Context, opts Options) (*Env, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Env{Client: &http.Client{Timeout: 30 * time.Second}}
	dir := opts.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "idpkit-")
		if err != nil {
			return nil, fmt.Errorf("harness: %w", err)
		}
		dir, e.tmp = d, d
	}
	e.DBPath = filepath.Join(dir, "idpkit.db")
	st, err := sqlstore.Open(ctx, "sqlite:"+e.DBPath, sqlstore.Options{Logger: log})
	if err != nil {
		e.Close()
		return nil, fmt.Errorf("harness: %w", err)
	}
	e.store = st
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.Close()
		return nil, fmt.Errorf("harness: listen: %w", err)
	}
	e.AppURL = "http://" + ln.Addr().String()
	cfg := app.Config{Store: st, PublicURL: e.AppURL, Logger: log.With("side", "app"), HTTPClient: e.Client}
	e.Tenants = app.Tenants(cfg)
	h := app.New(cfg)
	if opts.Wrap != nil {
		h = opts.Wrap(h)
	}
	e.server = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go e.server.Serve(ln)
	e.Okta, err = mockidp.New(mockidp.Config{Addr: "127.0.0.1:0", Logger: log.With("side", "okta"), HTTPClient: e.Client})
	if err != nil {
		e.Close()
		return nil, fmt.Errorf("harness: %w", err)
	}
	return e, nil
}

// Guide returns the guide's environment for these servers.
func (e *Env) Guide() guide.Env {
	return guide.Env{
		CreateTenant: func(ctx context.Context, name string) (tenant.Created, error) { return e.Tenants.Create(ctx, name) },
		OktaURL:      e.Okta.URL,
		OktaAPIToken: e.Okta.APIToken,
		HTTPClient:   e.Client,
	}
}

// Store is the app server's store, for tests that check what the SCIM
// service holds without sending it a request of their own (which the
// Connect Okta dialog would list among Okta's).
func (e *Env) Store() store.Store { return e.store }

// Close stops both servers and removes the temporary directory.
func (e *Env) Close() error {
	var errs []error
	if e.Okta != nil {
		e.Okta.Close()
	}
	if e.server != nil {
		errs = append(errs, e.server.Close())
	}
	if e.store != nil {
		errs = append(errs, e.store.Close())
	}
	if e.tmp != "" {
		errs = append(errs, os.RemoveAll(e.tmp))
	}
	return errors.Join(errs...)
}
