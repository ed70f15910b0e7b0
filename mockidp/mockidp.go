// Package mockidp is a mock Okta org for tests and local runs, in the
// shape of net/http/httptest.Server: NewServer starts it on a loopback
// port; URL, Client and Close work as they do for httptest.
//
// Tests drive it from Go (AddUser, AddApp, Assign, QueueLogin, QueueError,
// ArmFault, FastForward, ResetClock, RotateKeys, Requests, Reset) or, from any
// language, over HTTP under /__mock/ with the management API token
// (controls.go lists the routes; GET /__mock/ lists them at run time).
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
	"math"
	"net"
	"net/http"
	"path"
	"slices"
	"strings"
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
	// Its trusted origins and authorization servers are added to those below.
	Seed *Seed
	// TrustedOrigins are Okta's Trusted Origins (scheme://host[:port]): CORS
	// lets browser pages there read discovery, keys, token, userinfo,
	// revoke and introspect responses.
	TrustedOrigins []string
	// RotateEvery, when positive, rotates the signing keys on that schedule,
	// on the server's clock (FastForward moves it).
	RotateEvery time.Duration
	// AuthServers are custom authorization server ids besides "default",
	// which always exists.
	AuthServers []string
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
	now      func() time.Time
	controls *controls
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
	s.now = now
	servers, origins := cfg.AuthServers, cfg.TrustedOrigins
	if cfg.Seed != nil {
		if err := cfg.Seed.check(); err != nil {
			return nil, err
		}
		servers = append(slices.Clone(servers), cfg.Seed.AuthServers...)
		origins = append(slices.Clone(origins), cfg.Seed.TrustedOrigins...)
	}
	for _, id := range servers {
		if err := checkAuthServer(id); err != nil {
			return nil, fmt.Errorf("mockidp: authorization server: %w", err)
		}
	}
	origins = slices.Clone(origins)
	for i, o := range origins {
		if err := checkOrigin(o); err != nil {
			return nil, fmt.Errorf("mockidp: trusted origin: %w", err)
		}
		origins[i] = strings.TrimSuffix(o, "/")
	}
	if cfg.RotateEvery < 0 {
		return nil, fmt.Errorf("mockidp: RotateEvery must not be negative, got %v", cfg.RotateEvery)
	}

	s.dir = directory.New(directory.Config{Now: now, Logger: s.log})
	baseURL := func() string { return s.URL }
	engine := &provision.Engine{Client: cfg.HTTPClient, Logger: s.log, Now: now}
	m, err := mgmt.New(mgmt.Config{Directory: s.dir, APIToken: s.APIToken, BaseURL: baseURL, Provisioner: engine, Now: now, Logger: s.log})
	if err != nil {
		return nil, fmt.Errorf("mockidp: %w", err)
	}
	s.mgmt = m
	p, err := op.New(op.Config{
		BaseURL: baseURL, OrgID: s.dir.OrgID(), Directory: opDirectory{s.dir}, Now: now, Logger: s.log,
		AuthServers: servers, TrustedOrigins: origins, RotateEvery: cfg.RotateEvery,
	})
	if err != nil {
		return nil, fmt.Errorf("mockidp: %w", err)
	}
	s.op = p

	s.controls = newControls(s)
	mux := http.NewServeMux()
	m.Register(mux)
	p.Register(mux)
	mux.Handle(ControlsPath, s.controls)
	s.handler = cleanPaths(mux)

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
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	go func() { s.serveErr <- s.srv.Serve(l) }()
	return s, nil
}

// cleanPaths answers a request for the management API or the test controls
// whose path is not clean ("//", "/./", "/../") with Okta's 404 error
// object, where ServeMux would answer a 307 redirect in HTML to the
// cleaned path: an id such as "../x" names nothing, and a client should
// not be sent elsewhere. The provider's paths keep ServeMux's behaviour.
func cleanPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if strings.HasPrefix(p, "/api/v1/") || strings.HasPrefix(p, ControlsPath) {
			clean := path.Clean(p)
			if strings.HasSuffix(p, "/") && clean != "/" {
				clean += "/"
			}
			if clean != p {
				w.Header().Set("Cache-Control", "no-store")
				writeOktaError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+p+" (Endpoint)")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
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

// WithTrustedOrigins adds Trusted Origins (scheme://host[:port]) whose
// pages may read the provider's responses (CORS).
func WithTrustedOrigins(origins ...string) Option {
	return func(c *Config) { c.TrustedOrigins = append(c.TrustedOrigins, origins...) }
}

// WithRotateEvery rotates the signing keys every d on the server's clock.
func WithRotateEvery(d time.Duration) Option { return func(c *Config) { c.RotateEvery = d } }

// WithAuthServers adds custom authorization servers besides "default".
func WithAuthServers(ids ...string) Option {
	return func(c *Config) { c.AuthServers = append(c.AuthServers, ids...) }
}

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
// Requests waiting out a queued delay (QueueError's Delay, the slow-*
// faults) are answered 503 at once rather than waited for. Calling it
// again does nothing.
func (s *Server) Close() {
	s.close.Do(func() {
		s.op.Close() // queued delays end now instead of holding the shutdown up
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

// Handler returns the server's whole handler: /api/v1/…, the OIDC
// endpoints and the test controls under /__mock/. It can be mounted
// elsewhere; its links still use URL.
func (s *Server) Handler() http.Handler { return s.handler }

// Seeded returns the ids of what the seed created (empty without a seed).
func (s *Server) Seeded() Seeded { return s.seeded }

// FastForward moves the server's clock on by d (codes, tokens, sessions
// and rate-limit windows expire as if d had passed). The total offset
// saturates at about ±292 years (the range of time.Duration) instead of
// wrapping round: moving on never moves the clock back.
func (s *Server) FastForward(d time.Duration) {
	for {
		old := s.offset.Load()
		next, _ := addOffset(old, d)
		if s.offset.CompareAndSwap(old, next) {
			return
		}
	}
}

// ResetClock undoes every FastForward: the server's clock is the injected
// clock (Config.Now, by default the real time) again. What happened while
// it ran ahead stays: codes, tokens and sessions issued then keep their
// later expiry times, and a scheduled key rotation (RotateEvery) is due at
// most one period from the reset. Reset leaves the clock alone, because
// a test that moves the mock's clock usually moves its relying party's
// clock with it, and only the test knows when to move both back.
func (s *Server) ResetClock() { s.offset.Store(0) }

// advance is FastForward for the HTTP control: it refuses (false) to move
// the clock past what a time.Duration offset can hold, instead of
// saturating.
func (s *Server) advance(d time.Duration) bool {
	for {
		old := s.offset.Load()
		next, ok := addOffset(old, d)
		if !ok {
			return false
		}
		if s.offset.CompareAndSwap(old, next) {
			return true
		}
	}
}

// addOffset adds d to a clock offset, saturating at the int64 range; ok is
// false when it had to saturate.
func addOffset(offset int64, d time.Duration) (next int64, ok bool) {
	n := offset + int64(d)
	switch {
	case d > 0 && n < offset:
		return math.MaxInt64, false
	case d < 0 && n > offset:
		return math.MinInt64, false
	}
	return n, true
}

// inputError is a mistake in what a caller asked for (a missing login, an
// unknown app type); the controls answer it with 400 E0000001.
type inputError struct{ err error }

func (e *inputError) Error() string { return e.err.Error() }
func (e *inputError) Unwrap() error { return e.err }

func badInput(what string, err error) error {
	return &inputError{fmt.Errorf("mockidp: %s: %w", what, err)}
}

// AddUser creates a user with a seed user's rules (Status ACTIVE by
// default; an activated user without a password is PROVISIONED). A login
// that exists is an error wrapping directory.ErrExists.
func (s *Server) AddUser(u SeedUser) (directory.User, error) {
	if err := checkUser(u); err != nil {
		return directory.User{}, badInput("user", err)
	}
	du, err := s.addUser(u)
	if err != nil {
		return directory.User{}, fmt.Errorf("mockidp: user %s: %w", u.Login, err)
	}
	return du, nil
}

// AddGroup creates a group with its members, given by login or user id.
// Members join through the management API, so groups pushed to SCIM apps
// follow (which matters only for a group assigned later).
func (s *Server) AddGroup(g SeedGroup) (directory.Group, error) {
	if err := checkGroup(g); err != nil {
		return directory.Group{}, badInput("group", err)
	}
	ids := make([]string, 0, len(g.Members))
	for _, m := range g.Members {
		u, err := s.dir.User(m)
		if err != nil {
			return directory.Group{}, fmt.Errorf("mockidp: group %s: member: %w", g.Name, err)
		}
		ids = append(ids, u.ID)
	}
	dg, err := s.addGroup(context.Background(), g, ids)
	if err != nil {
		return directory.Group{}, fmt.Errorf("mockidp: group %s: %w", g.Name, err)
	}
	return dg, nil
}

// AddApp creates an app as a seed's app: an OIDC app (its client id and
// secret in App.OAuthClient), open to every user unless a.Access is
// AccessAssigned, or a SCIM app, whose connection is ENABLED at once when
// BaseURL and Token are set. Assign then provisions to it.
func (s *Server) AddApp(a SeedApp) (directory.App, error) {
	if err := checkApp(a); err != nil {
		return directory.App{}, badInput("app", err)
	}
	app, err := s.addApp(context.Background(), a)
	if err != nil {
		return directory.App{}, fmt.Errorf("mockidp: app %s: %w", a.Label, err)
	}
	return app, nil
}

// Assign assigns groups (by name or id) and then users (by login or id) to
// an app (by id or label) through the management API, as Okta's admin
// console does: a SCIM app with Create Users on provisions each of them,
// and assigned groups are pushed.
func (s *Server) Assign(a SeedAssignment) error {
	app, err := s.findApp(a.App)
	if err != nil {
		return fmt.Errorf("mockidp: assign: %w", err)
	}
	var users, groups []string
	for _, name := range a.Groups {
		g, err := s.dir.Group(name)
		if err != nil {
			if g, err = s.dir.GroupByName(name); err != nil {
				return fmt.Errorf("mockidp: assign to %s: %w", app.Label, err)
			}
		}
		groups = append(groups, g.ID)
	}
	for _, login := range a.Users {
		u, err := s.dir.User(login)
		if err != nil {
			return fmt.Errorf("mockidp: assign to %s: %w", app.Label, err)
		}
		users = append(users, u.ID)
	}
	if err := s.assign(context.Background(), app.ID, users, groups); err != nil {
		return fmt.Errorf("mockidp: assign to %s: %w", app.Label, err)
	}
	return nil
}

// findApp finds an app by id, else by label; a label two apps share is an
// input error.
func (s *Server) findApp(idOrLabel string) (directory.App, error) {
	if strings.TrimSpace(idOrLabel) == "" {
		return directory.App{}, &inputError{errors.New("app is required (an app id or label)")}
	}
	if a, err := s.dir.App(idOrLabel); err == nil {
		return a, nil
	}
	var found []directory.App
	for _, a := range s.dir.Apps() {
		if a.Label == idOrLabel {
			found = append(found, a)
		}
	}
	switch len(found) {
	case 0:
		return directory.App{}, &directory.NotFoundError{ID: idOrLabel, Kind: "AppInstance"}
	case 1:
		return found[0], nil
	}
	return directory.App{}, &inputError{fmt.Errorf("%d apps have the label %q; name the app by its id", len(found), idOrLabel)}
}

// QueueLogin queues the user that the next authorization request (of
// l.ClientID, when set) signs in at once, without the login form; see
// op.QueuedLogin. A user who is not assigned to the requesting app is
// queued all the same: that authorization request signs the user in to
// the org and answers access_denied ("User is not assigned to the client
// application."), as Okta does, so a relying party's handling of it can be
// tested.
func (s *Server) QueueLogin(l op.QueuedLogin) error { return s.op.QueueLogin(l) }

// QueueError makes an endpoint fail (or answer late) once, or until Reset
// when sticky; see op.QueuedError.
func (s *Server) QueueError(e op.QueuedError) error { return s.op.QueueError(e) }

// ArmFault arms one of op.FaultNames, one-shot unless sticky; an unknown
// name is an error matching op.ErrUnknownFault.
func (s *Server) ArmFault(name string, sticky bool) error { return s.op.ArmFault(name, sticky) }

// DisarmFaults disarms every fault.
func (s *Server) DisarmFaults() { s.op.DisarmFaults() }

// RotateKeys publishes a new signing key and signs with the next one, as
// Okta's key rollover does.
func (s *Server) RotateKeys() { s.op.RotateKeys() }

// Requests returns the provider's request log, oldest first: every
// request to an OIDC endpoint with its non-secret parameters.
func (s *Server) Requests() []op.Request { return s.op.Requests() }

// ResetRequests empties the request log.
func (s *Server) ResetRequests() { s.op.ResetRequests() }

// Tasks returns the provisioning tasks of an app ("" = every app), oldest
// first: each SCIM request sent, its attempts and outcome.
func (s *Server) Tasks(appID string) []mgmt.Task { return s.mgmt.Tasks(appID) }

// Reset disarms every fault and empties the queued logins, the queued
// errors and the request log. The org's data (users, groups, apps,
// assignments, keys) stays as it is, and so does the clock: see
// ResetClock.
func (s *Server) Reset() {
	s.op.DisarmFaults()
	s.op.ClearLogins()
	s.op.ClearErrors()
	s.op.ResetRequests()
}

// Now returns the server's clock: the injected clock moved on by every
// FastForward.
func (s *Server) Now() time.Time { return s.now() }
