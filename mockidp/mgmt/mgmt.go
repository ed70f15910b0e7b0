// Package mgmt serves the mock Okta org's management API under /api/v1 in
// the shapes of Okta's own API (Users, Groups, Apps, Application Users and
// Groups, Provisioning Connections, Features, System Log), so that scripts
// written for Okta work against it, and it runs Okta's SCIM provisioning
// (RFC 7644) as a side effect of the admin actions.
//
// Requests authenticate with "Authorization: SSWS <api token>" (compared in
// constant time). Errors are Okta's error objects {errorCode, errorSummary,
// errorLink, errorId, errorCauses}; lists page with a Link header
// (rel="self" and rel="next", the after cursor and limit) in the manner of
// RFC 8288; every response carries X-Rate-Limit-Limit, -Remaining and
// -Reset, and a client over the limit gets 429 E0000047.
//
// Differences from Okta, on purpose:
//   - Provisioning runs synchronously inside the management call that
//     causes it, so tests are deterministic; real Okta queues it. As in
//     Okta, a provisioning failure does not fail the call: it is recorded
//     in the System Log (GET /api/v1/logs) and in the app user's syncState.
//   - Group Push follows "Create Users": assigning a group to a SCIM app
//     provisions each member and pushes the group with its members, then
//     keeps the pushed group's membership in step. Removing the group's
//     assignment deactivates members who have no other assignment and
//     deletes the pushed group in the app ("unlink, delete in app").
//   - Provisioning runs only while the app's connection is ENABLED, that is
//     after a successful "Test API Credentials"; until then admin actions
//     send nothing (a debug line in the log says so).
//   - "Import Now" has no public Okta API; Handler.Import runs it from Go
//     and returns what it read, without staging anything in the org.
//   - Every provisioning action is a Task (Tasks, ServeTasks) with each
//     HTTP attempt, so a test can assert on retries; Okta shows only
//     failed tasks, on Dashboard > Tasks. RetryTask is the admin's Retry.
//   - Sync Password pushes the passwords set through this API (or
//     RememberPassword); for other users it sends a random one, as with
//     Sync Password off.
//
// What Okta sends, and when, follows Okta's SCIM 2.0 reference: saving the
// connection runs Test API Credentials; saving the To App settings reads
// GET /Groups?startIndex=1&count=100; deactivating or suspending a user
// sets active false in its apps and activating or unsuspending sets it
// back with one PATCH (no lookup, no POST); reassigning a user the app has
// as inactive looks it up by userName and reactivates it; a 404 on the GET
// before a profile push stops that push, without retry or re-create; every
// Group Push membership update is preceded by the group name update.
// The app's kind (directory.Provisioning.Kind, settings.app.provisioningKind
// in the app JSON) picks the requests: catalogue apps get profile changes
// as a PATCH of the changed attributes; custom (App Integration Wizard)
// apps get GET and PUT for every user change and whole groups with PUT.
package mgmt

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/idpkit/idpkit/mockidp/directory"
	"github.com/idpkit/idpkit/mockidp/provision"
	"github.com/idpkit/idpkit/scim"
)

// Provisioner sends Okta's SCIM requests to an app. *provision.Engine
// implements it. The Handler reports every request through the context
// (provision.WithTrace) to record tasks; a Provisioner that does not
// report them leaves tasks without attempts.
type Provisioner interface {
	TestCredentials(ctx context.Context, t provision.Target) error
	CreateUser(ctx context.Context, t provision.Target, u provision.User) (scimID string, err error)
	UpdateUser(ctx context.Context, t provision.Target, scimID string, u provision.User) error
	PatchUser(ctx context.Context, t provision.Target, scimID string, before, after provision.User) error
	SetActive(ctx context.Context, t provision.Target, scimID string, active bool) error
	SetPassword(ctx context.Context, t provision.Target, scimID, password string) error
	PushGroup(ctx context.Context, t provision.Target, name string, members []provision.Member) (scimGroupID string, err error)
	UpdateGroup(ctx context.Context, t provision.Target, scimGroupID, name string, add, remove []provision.Member) error
	ReplaceGroup(ctx context.Context, t provision.Target, scimGroupID, name string, members []provision.Member) error
	DeleteGroup(ctx context.Context, t provision.Target, scimGroupID string) error
	SaveToAppSettings(ctx context.Context, t provision.Target) error
	ImportUsers(ctx context.Context, t provision.Target) ([]scim.Resource, error)
	ImportGroups(ctx context.Context, t provision.Target) ([]scim.Resource, error)
}

var _ Provisioner = (*provision.Engine)(nil)

// DefaultRateLimit is the number of requests per minute allowed when
// Config.RateLimit is zero.
const DefaultRateLimit = 1200

// MaxBodyBytes bounds request bodies.
const MaxBodyBytes = 1 << 20

// ProvisionTimeout bounds one provisioning action, all its requests,
// retries and waits included (each request is bounded by the engine, see
// provision.DefaultTimeout).
const ProvisionTimeout = 30 * time.Minute

// Config configures a Handler.
type Config struct {
	// Directory is the org; required.
	Directory *directory.Directory
	// APIToken is the SSWS token every request must carry; required.
	APIToken string
	// BaseURL returns the org's public URL (no trailing slash) for links;
	// nil means the scheme and Host of each request.
	BaseURL func() string
	// Provisioner sends SCIM requests; nil means a *provision.Engine with
	// http.DefaultClient.
	Provisioner Provisioner
	// RateLimit is requests per minute; 0 means DefaultRateLimit, negative
	// means unlimited (the headers still say DefaultRateLimit).
	RateLimit int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives request and provisioning logs; nil discards them.
	Logger *slog.Logger
}

// Handler is the management API. Create it with New.
type Handler struct {
	dir     *directory.Directory
	token   [32]byte
	baseURL func() string
	prov    Provisioner
	now     func() time.Time
	log     *slog.Logger
	mux     *http.ServeMux
	limit   int

	// mu serialises every change to the org, with its provisioning, so
	// that concurrent admin actions reach the SCIM app in a sane order.
	mu sync.Mutex

	rlMu     sync.Mutex
	rlWindow time.Time
	rlUsed   int

	tasks taskLog

	// passwords are the users' Okta passwords in clear, for Sync Password
	// (the directory keeps only hashes). A mock's test data, nothing more.
	pwMu      sync.Mutex
	passwords map[string]string
}

// New returns a Handler for cfg.
func New(cfg Config) (*Handler, error) {
	if cfg.Directory == nil {
		return nil, errors.New("mgmt: Config.Directory is required")
	}
	if cfg.APIToken == "" {
		return nil, errors.New("mgmt: Config.APIToken is required")
	}
	h := &Handler{
		dir:     cfg.Directory,
		token:   sha256.Sum256([]byte(cfg.APIToken)),
		baseURL: cfg.BaseURL,
		prov:    cfg.Provisioner,
		now:     cfg.Now,
		log:     cfg.Logger,
		limit:   cfg.RateLimit,
	}
	if h.prov == nil {
		h.prov = &provision.Engine{Logger: cfg.Logger}
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.limit == 0 {
		h.limit = DefaultRateLimit
	}
	h.routes()
	return h, nil
}

// RememberPassword tells the Handler a user's Okta password, for apps
// with Sync Password on (seeds call it for users they create directly in
// the directory). The API's own user creation and password changes
// remember passwords themselves.
func (h *Handler) RememberPassword(userID, password string) {
	h.pwMu.Lock()
	defer h.pwMu.Unlock()
	if h.passwords == nil {
		h.passwords = map[string]string{}
	}
	if password == "" {
		delete(h.passwords, userID)
		return
	}
	h.passwords[userID] = password
}

// password returns the user's Okta password if it is known.
func (h *Handler) password(userID string) string {
	h.pwMu.Lock()
	defer h.pwMu.Unlock()
	return h.passwords[userID]
}

// Register mounts the API on mux at /api/v1/.
func (h *Handler) Register(mux *http.ServeMux) { mux.Handle("/api/v1/", h) }

func (h *Handler) routes() {
	m := http.NewServeMux()
	// users
	m.HandleFunc("POST /api/v1/users", h.createUser)
	m.HandleFunc("GET /api/v1/users", h.listUsers)
	m.HandleFunc("GET /api/v1/users/{id}", h.getUser)
	m.HandleFunc("POST /api/v1/users/{id}", h.updateUser(true))
	m.HandleFunc("PUT /api/v1/users/{id}", h.updateUser(false))
	m.HandleFunc("DELETE /api/v1/users/{id}", h.deleteUser)
	m.HandleFunc("POST /api/v1/users/{id}/lifecycle/{op}", h.lifecycle)
	m.HandleFunc("GET /api/v1/users/{id}/groups", h.userGroups)
	// groups
	m.HandleFunc("POST /api/v1/groups", h.createGroup)
	m.HandleFunc("GET /api/v1/groups", h.listGroups)
	m.HandleFunc("GET /api/v1/groups/{gid}", h.getGroup)
	m.HandleFunc("PUT /api/v1/groups/{gid}", h.updateGroup)
	m.HandleFunc("DELETE /api/v1/groups/{gid}", h.deleteGroup)
	m.HandleFunc("GET /api/v1/groups/{gid}/users", h.groupUsers)
	m.HandleFunc("PUT /api/v1/groups/{gid}/users/{uid}", h.addMember)
	m.HandleFunc("DELETE /api/v1/groups/{gid}/users/{uid}", h.removeMember)
	// apps
	m.HandleFunc("POST /api/v1/apps", h.createApp)
	m.HandleFunc("GET /api/v1/apps", h.listApps)
	m.HandleFunc("GET /api/v1/apps/{id}", h.getApp)
	m.HandleFunc("POST /api/v1/apps/{id}/lifecycle/{op}", h.appLifecycle)
	m.HandleFunc("GET /api/v1/apps/{id}/connections/default", h.getConnection)
	m.HandleFunc("POST /api/v1/apps/{id}/connections/default", h.setConnection)
	m.HandleFunc("POST /api/v1/apps/{id}/connections/default/lifecycle/{op}", h.connectionLifecycle)
	m.HandleFunc("GET /api/v1/apps/{id}/features", h.listFeatures)
	m.HandleFunc("GET /api/v1/apps/{id}/features/{name}", h.getFeature)
	m.HandleFunc("PUT /api/v1/apps/{id}/features/{name}", h.putFeature)
	m.HandleFunc("POST /api/v1/apps/{id}/users", h.assignUser)
	m.HandleFunc("GET /api/v1/apps/{id}/users", h.listAppUsers)
	m.HandleFunc("GET /api/v1/apps/{id}/users/{uid}", h.getAppUser)
	m.HandleFunc("DELETE /api/v1/apps/{id}/users/{uid}", h.unassignUser)
	m.HandleFunc("PUT /api/v1/apps/{id}/groups/{gid}", h.assignGroup)
	m.HandleFunc("GET /api/v1/apps/{id}/groups", h.listAppGroups)
	m.HandleFunc("GET /api/v1/apps/{id}/groups/{gid}", h.getAppGroup)
	m.HandleFunc("DELETE /api/v1/apps/{id}/groups/{gid}", h.unassignGroup)
	// system log
	m.HandleFunc("GET /api/v1/logs", h.listLogs)
	h.mux = m
}

// ServeHTTP authenticates, rate-limits and routes one request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.serve(w, r, true)
}

// ServeInternal serves r as ServeHTTP does, for the mock's own in-process
// reads (the test controls answer with the object they created this way):
// it needs no token and is not counted against the rate limit, so a test
// that used up the minute's requests still gets Okta's JSON back. Never
// mount it.
func (h *Handler) ServeInternal(w http.ResponseWriter, r *http.Request) {
	h.serve(w, r, false)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, external bool) {
	defer func() {
		if v := recover(); v != nil {
			h.log.Error("mgmt: panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v))
			h.writeError(w, http.StatusInternalServerError, "E0000009", "Internal Server Error", nil)
		}
	}()
	w.Header().Set("Content-Type", "application/json")
	if external && !h.rateLimit(w) {
		h.writeError(w, http.StatusTooManyRequests, "E0000047", "API call exceeded rate limit due to too many requests.", nil)
		return
	}
	if external && !h.authorized(r) {
		h.writeError(w, http.StatusUnauthorized, "E0000011", "Invalid token provided", nil)
		return
	}
	if _, pattern := h.mux.Handler(r); pattern == "" {
		// ServeMux would answer 404 or 405 in plain text; answer as Okta does.
		probe := r.Clone(r.Context())
		allowed := false
		for _, m := range []string{"GET", "POST", "PUT", "DELETE"} {
			probe.Method = m
			if _, p := h.mux.Handler(probe); p != "" {
				allowed = true
			}
		}
		if allowed {
			h.writeError(w, http.StatusMethodNotAllowed, "E0000022", "The endpoint does not support the provided HTTP method", nil)
			return
		}
		h.writeError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+r.URL.Path+" (Endpoint)", nil)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	h.log.Debug("mgmt: request", "method", r.Method, "path", r.URL.Path)
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) authorized(r *http.Request) bool {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "SSWS") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	return subtle.ConstantTimeCompare(got[:], h.token[:]) == 1
}

// rateLimit counts the request in the current minute and sets the headers.
func (h *Handler) rateLimit(w http.ResponseWriter) bool {
	h.rlMu.Lock()
	defer h.rlMu.Unlock()
	now := h.now()
	window := now.Truncate(time.Minute)
	if !window.Equal(h.rlWindow) {
		h.rlWindow, h.rlUsed = window, 0
	}
	limit := h.limit
	if limit < 0 {
		limit = DefaultRateLimit
	}
	allowed := h.limit < 0 || h.rlUsed < limit
	if allowed {
		h.rlUsed++
	}
	remaining := max(limit-h.rlUsed, 0)
	w.Header().Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
	w.Header().Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
	w.Header().Set("X-Rate-Limit-Reset", strconv.FormatInt(window.Add(time.Minute).Unix(), 10))
	return allowed
}

// base returns the org URL for links.
func (h *Handler) base(r *http.Request) string {
	if h.baseURL != nil {
		if b := h.baseURL(); b != "" {
			return strings.TrimSuffix(b, "/")
		}
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// decode reads a JSON body into v; an empty body leaves v as it is.
func (h *Handler) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.writeError(w, http.StatusRequestEntityTooLarge, "E0000003", "The request body was not well-formed: it is larger than 1 MiB.", nil)
			return false
		}
		h.writeError(w, http.StatusBadRequest, "E0000003", "The request body was not well-formed.", nil)
		return false
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return true
	}
	if err := json.Unmarshal(b, v); err != nil {
		h.writeError(w, http.StatusBadRequest, "E0000003", "The request body was not well-formed.", nil)
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"errorCode":"E0000009","errorSummary":"Internal Server Error","errorLink":"E0000009","errorId":"oae0","errorCauses":[]}`))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// provisionContext detaches provisioning from the admin's connection: a
// client that hangs up does not cut a push in half.
func provisionContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), ProvisionTimeout)
}

func boolQuery(r *http.Request, name string, def bool) bool {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return def
	}
	return b
}
