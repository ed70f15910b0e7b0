// Package mockidp is a mock Okta org for tests and local runs, in the
// shape of net/http/httptest.Server: NewServer starts it on a loopback
// port; URL, Client and Close work as they do for httptest.
//
// One server carries the three faces of Okta that idpkit meets:
//
//   - the OpenID provider of package op: the org authorization server
//     (issuer URL, /.well-known/openid-configuration, /oauth2/v1/…) and the
//     "default" custom server (/oauth2/default/…), per OpenID Connect Core
//     1.0 §3.1, OpenID Connect Discovery 1.0 §3, RFC 6749 and RFC 7636;
//   - the management API of package mgmt under /api/v1 (SSWS token), in
//     Okta's request and response shapes, with Link-header paging (RFC 8288);
//   - the SCIM client of package provision (RFC 7644), driven synchronously
//     by management actions on SCIM apps: assigning, updating, unassigning,
//     deactivating and Group Push.
//
// The org's data lives in a directory.Directory, reachable through
// Server.Directory for assertions; a Seed loads users, groups, apps and
// assignments at start.
package mockidp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/idpkit/idpkit/mockidp/directory"
	"github.com/idpkit/idpkit/mockidp/mgmt"
	"github.com/idpkit/idpkit/mockidp/op"
	"github.com/idpkit/idpkit/mockidp/provision"
)

// DefaultAddr is where New listens when Config.Addr is empty: a free
// loopback port.
const DefaultAddr = "127.0.0.1:0"

// Config configures New.
type Config struct {
	// Addr is the listen address; empty means DefaultAddr.
	Addr string
	// APIToken is the management API's SSWS token; empty means a generated
	// one (Server.APIToken).
	APIToken string
	// Now is the clock; nil means time.Now. Server.FastForward moves it on.
	Now func() time.Time
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
	// HTTPClient reaches the SCIM servers of SCIM apps; nil means
	// http.DefaultClient.
	HTTPClient *http.Client
	// Seed, when set, is loaded before the server answers its first request.
	Seed *Seed
}

// Server is a running mock Okta org.
type Server struct {
	// URL is the org URL, http://127.0.0.1:port, without a trailing slash;
	// it is also the org authorization server's issuer.
	URL string
	// APIToken is the management API token: send "Authorization: SSWS <APIToken>".
	APIToken string

	log      *slog.Logger
	dir      *directory.Directory
	mgmt     *mgmt.Handler
	op       *op.Provider
	handler  http.Handler
	srv      *http.Server
	listener net.Listener
	client   *http.Client
	seeded   Seeded
	offset   atomic.Int64 // FastForward, in nanoseconds
	serveErr chan error
	close    sync.Once
}

// New starts a server for cfg: listening and serving when it returns.
func New(cfg Config) (*Server, error) {
	addr := cfg.Addr
	if addr == "" {
		addr = DefaultAddr
	}
	s := &Server{APIToken: cfg.APIToken, log: cfg.Logger, serveErr: make(chan error, 1)}
	if s.APIToken == "" {
		s.APIToken = "00" + directory.RandomString(40)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	base := cfg.Now
	if base == nil {
		base = time.Now
	}
	now := func() time.Time { return base().Add(time.Duration(s.offset.Load())) }

	s.dir = directory.New(directory.Config{Now: now, Logger: s.log})
	baseURL := func() string { return s.URL }
	engine := &provision.Engine{Client: cfg.HTTPClient, Logger: s.log}
	m, err := mgmt.New(mgmt.Config{Directory: s.dir, APIToken: s.APIToken, BaseURL: baseURL, Provisioner: engine, Now: now, Logger: s.log})
	if err != nil {
		return nil, fmt.Errorf("mockidp: %w", err)
	}
	s.mgmt = m
	p, err := op.New(op.Config{BaseURL: baseURL, OrgID: s.dir.OrgID(), Directory: opDirectory{s.dir}, Now: now, Logger: s.log})
	if err != nil {
		return nil, fmt.Errorf("mockidp: %w", err)
	}
	s.op = p

	mux := http.NewServeMux()
	m.Register(mux)
	p.Register(mux)
	s.handler = mux

	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mockidp: listen on %s: %w", addr, err)
	}
	s.listener = l
	s.URL = "http://" + l.Addr().String()
	s.client = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}

	if cfg.Seed != nil {
		seeded, err := s.applySeed(context.Background(), cfg.Seed)
		if err != nil {
			l.Close()
			return nil, err
		}
		s.seeded = seeded
	}

	s.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	go func() { s.serveErr <- s.srv.Serve(l) }()
	return s, nil
}

// Option configures NewServer.
type Option func(*Config)

// WithAPIToken fixes the management API token.
func WithAPIToken(token string) Option { return func(c *Config) { c.APIToken = token } }

// WithNow sets the clock.
func WithNow(now func() time.Time) Option { return func(c *Config) { c.Now = now } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(c *Config) { c.Logger = l } }

// WithHTTPClient sets the client that reaches SCIM servers.
func WithHTTPClient(hc *http.Client) Option { return func(c *Config) { c.HTTPClient = hc } }

// WithSeed loads a seed at start.
func WithSeed(seed *Seed) Option { return func(c *Config) { c.Seed = seed } }

// WithAddr sets the listen address (default DefaultAddr).
func WithAddr(addr string) Option { return func(c *Config) { c.Addr = addr } }

// NewServer starts a server on a free loopback port, like
// httptest.NewServer. It panics only when it cannot start (no free port, a
// bad seed), as httptest does; callers should Close it.
func NewServer(opts ...Option) *Server {
	var cfg Config
	for _, o := range opts {
		o(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		panic(fmt.Sprintf("mockidp: failed to start: %v", err))
	}
	return s
}

// Client returns an HTTP client for the server (no cookie jar, like
// httptest's); Close closes its idle connections.
func (s *Server) Client() *http.Client { return s.client }

// Close stops the server gracefully: it stops accepting, waits for
// in-flight requests to finish, then closes idle client connections.
// Calling it again does nothing.
func (s *Server) Close() {
	s.close.Do(func() {
		if err := s.srv.Shutdown(context.Background()); err != nil {
			s.log.Warn("mockidp: shutdown", "err", err)
		}
		if err := <-s.serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Warn("mockidp: serve", "err", err)
		}
		s.client.CloseIdleConnections()
	})
}

// Issuer returns an authorization server's issuer: "" is the org server
// (URL), "default" is URL + "/oauth2/default".
func (s *Server) Issuer(authServer string) string { return s.op.Issuer(authServer) }

// Directory returns the org's data, for assertions and direct set-up.
// Changes made through it bypass provisioning; use Management for that.
func (s *Server) Directory() *directory.Directory { return s.dir }

// Management returns the management API, whose methods (AssignUser,
// AssignGroup, AddMember, …) change the org with provisioning from Go.
func (s *Server) Management() *mgmt.Handler { return s.mgmt }

// Provider returns the OpenID provider (for RotateKeys and Metadata).
func (s *Server) Provider() *op.Provider { return s.op }

// Handler returns the server's whole handler: /api/v1/… and the OIDC
// endpoints. It can be mounted elsewhere; its links still use URL.
func (s *Server) Handler() http.Handler { return s.handler }

// Seeded returns the ids of what the seed created (empty without a seed).
func (s *Server) Seeded() Seeded { return s.seeded }

// FastForward moves the server's clock on by d (codes, tokens, sessions
// and rate-limit windows expire as if d had passed).
func (s *Server) FastForward(d time.Duration) { s.offset.Add(int64(d)) }
