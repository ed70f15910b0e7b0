// Package server is idpkit's SCIM 2.0 HTTP service, one per tenant under
// /t/{tenant}/scim/v2. It implements RFC 7644 §3 for Users and Groups:
// creation (§3.3); retrieval (§3.4.1); listing with filter (§3.4.2.2),
// sortBy and sortOrder (§3.4.2.3) and paging (§3.4.2.4); search with POST,
// per type and at the service root /.search (§3.4.3); replacement with PUT
// (§3.5.1); modification with PATCH (§3.5.2); deletion (§3.6); bulk
// (§3.7); media types (§3.8); attribute projection with attributes and
// excludedAttributes (§3.9); the error response of §3.12 for every error
// (also 401, 404 and 405); versioning with weak ETags, If-Match and
// If-None-Match (§3.14); and the discovery endpoints
// /ServiceProviderConfig, /ResourceTypes and /Schemas (§4). Resources
// follow the RFC 7643 schemas of scim/schema: User (§4.1), Group (§4.2)
// and the Enterprise User extension (§4.3), with the common attributes id
// and meta (§3.1). Authentication is an OAuth bearer token (RFC 6750
// §2.1), compared, as a hash, in constant time.
//
// Media types (§3.8, §8.1): request bodies must be application/scim+json
// or application/json, with any parameters (charset=utf-8), compared
// case-insensitively; another Content-Type is 415. A body without a
// Content-Type is read as JSON, as some clients send none. Accept is not
// enforced; answers are always application/scim+json; charset=utf-8.
// Bodies nest at most MaxJSONDepth levels (400 invalidSyntax beyond) and
// must be UTF-8 without a \u escape of half a surrogate pair (400
// invalidSyntax, rather than encoding/json's silent U+FFFD).
//
// The query string is parsed once per request; one that is not valid URL
// encoding or not UTF-8 is 400 (invalidFilter when it mentions filter,
// else invalidValue), so no parameter is ever dropped. Filters are at
// most MaxFilterLength bytes, and error details at most MaxDetail.
//
// Versions: a Group's entity tag is W/"<version>"; a User's also reflects
// its computed groups (userTag), so joining, leaving or renaming a group
// changes it. If-Match and If-None-Match on PUT, PATCH and DELETE are
// checked against that tag (RFC 7232 §3.1, §3.2).
//
// Passwords: Okta sends a random "password" with every created user even
// when password sync is off. RFC 7643 §4.1.1 makes it writeOnly and never
// returned: by default the server accepts and drops it; with
// Config.KeepPasswordHashes it keeps only a PBKDF2-SHA-256 hash of it
// (secret.HashPassword). It is never returned and refused in filters and
// sortBy.
//
// Group membership is stored by the store in its own relation; a User's
// readOnly "groups" attribute (RFC 7643 §4.1.2) is computed when the user
// is read (store.GroupsOf). Members must be users of the same tenant,
// which the store checks in the write's transaction. Filters, sorting and
// paging run in the store where they can (pushdown), else over a scan.
//
// Bulk (§3.7) runs each operation through the handler of its single
// endpoint, after the POSTs whose bulkIds it references, and is not a
// transaction: operations that succeeded stay when another one fails.
//
// Activity (Config.Activity, for the Connect Okta dialog): every request
// to a tenant that exists, refused ones included, is recorded in memory
// with what Okta was doing (activity.Action, refined by the handlers:
// a PUT or PATCH that changes a user's active is a deactivation or
// reactivation, a group PATCH on members or only on displayName a
// membership update or a rename). Requests to tenants that do not exist
// are never recorded. The first request this process sees authenticated
// with a tenant's current secret reads the tenant's connected mark
// (activity.KindConnected) and writes it when it is missing or was made
// with another secret; later requests with that secret make no store
// call for it.
//
// Rate limits (Config.Limiter, an httpx.FailureLimiter): the token is
// always checked; a wrong one from an address that has spent its budget
// of failed authentications, or to a tenant that has spent its, gets 429
// with Retry-After and a SCIM error body rather than 401. The right
// token always passes, even from such an address (Okta's egress
// addresses are shared with every other Okta org).
package server

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/activity"
	"github.com/idpkit/idpkit/scim/httpx"
	"github.com/idpkit/idpkit/scim/schema"
	"github.com/idpkit/idpkit/scim/store"
)

// Config configures a Server.
type Config struct {
	// Store holds tenants and resources; required.
	Store store.Store
	// Logger receives request and failure logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock for meta.created and meta.lastModified; nil means time.Now.
	Now func() time.Time
	// PublicURL is the server's external base URL, such as
	// http://127.0.0.1:8080, used for meta.location, member $ref and the
	// Location header. Empty means the scheme and host of each request.
	PublicURL string
	// KeepPasswordHashes keeps a PBKDF2-SHA-256 hash of the password a
	// client pushes with a User (secret.HashPassword, ~24 ms of CPU per
	// write). When false, the default, a pushed password is accepted and
	// dropped, never stored in any form: idpkit signs users in with OIDC
	// and never checks these passwords, so a hash would only give an
	// attacker something to crack.
	KeepPasswordHashes bool

	// Activity, when set, receives every request to an existing tenant
	// (for the Connect Okta dialog), and the first request authenticated
	// with a tenant's current secret is marked in the store
	// (activity.KindConnected).
	Activity *activity.Log

	// Limiter, when set, limits failed bearer-token attempts per source
	// address and per tenant (see httpx.FailureLimiter): a wrong token
	// while its address or its tenant is over budget gets 429 instead of
	// 401, and the right token always passes. Nil means no limit.
	Limiter *httpx.FailureLimiter

	// Audit, when set, receives the audit trail of an existing tenant:
	// every SCIM write, refused ones included (see auditWrite), every
	// request refused for its token (auth-refused, reads too), and the
	// failure limiter's 429s as summaries (AuditWriter.Summarize).
	Audit *AuditWriter
}

// Server is the SCIM service. Create it with New and mount it with Register.
type Server struct {
	store      store.Store
	log        *slog.Logger
	now        func() time.Time
	publicURL  string
	keepHashes bool
	users      *kind
	groups     *kind
	activity   *activity.Log
	limiter    *httpx.FailureLimiter
	audit      *AuditWriter

	marksMu sync.Mutex
	// marks are the tenant + "\x00" + TokenHash pairs whose
	// connected mark this process has checked or written (or is writing),
	// so that only the first request with a secret reads the store for it.
	marks map[string]struct{}

	ids idSource
}

// kind is what differs between the User and Group endpoints.
type kind struct {
	rt       *schema.ResourceType
	typ      string // store.TypeUser or store.TypeGroup
	endpoint string // "Users" or "Groups"
}

// New returns a Server for cfg.
func New(cfg Config) *Server {
	s := &Server{
		store:      cfg.Store,
		log:        cfg.Logger,
		now:        cfg.Now,
		publicURL:  strings.TrimRight(cfg.PublicURL, "/"),
		keepHashes: cfg.KeepPasswordHashes,
		users:      &kind{rt: schema.UserType(), typ: store.TypeUser, endpoint: "Users"},
		groups:     &kind{rt: schema.GroupType(), typ: store.TypeGroup, endpoint: "Groups"},
		activity:   cfg.Activity,
		limiter:    cfg.Limiter,
		audit:      cfg.Audit,
		marks:      map[string]struct{}{},
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Prefix is the path pattern under which Register mounts the service.
const Prefix = "/t/{tenant}/scim/v2"

// Register mounts the service on mux under /t/{tenant}/scim/v2/. Every
// path under that prefix answers, and every error is SCIM error JSON: a
// path that is not an endpoint gets 404, a wrong method 405.
func (s *Server) Register(mux *http.ServeMux) {
	for _, k := range []*kind{s.users, s.groups} {
		base := Prefix + "/" + k.endpoint
		mux.Handle("GET "+base, s.handle(k.wrap(s.list)))
		mux.Handle("POST "+base, s.handle(k.wrap(s.create)))
		mux.Handle("POST "+base+"/.search", s.handle(k.wrap(s.search)))
		// Without these, "/.search" would be read as the id of a resource.
		for _, m := range []string{"GET", "PUT", "PATCH", "DELETE"} {
			mux.Handle(m+" "+base+"/.search", s.handle(s.fallback))
		}
		mux.Handle("GET "+base+"/{id}", s.handle(k.wrap(s.get)))
		mux.Handle("PUT "+base+"/{id}", s.handle(k.wrap(s.replace)))
		mux.Handle("PATCH "+base+"/{id}", s.handle(k.wrap(s.modify)))
		mux.Handle("DELETE "+base+"/{id}", s.handle(k.wrap(s.remove)))
	}
	mux.Handle("POST "+Prefix+"/.search", s.handle(s.searchAll))
	mux.Handle("POST "+Prefix+"/Bulk", s.handle(s.bulk))
	mux.Handle("GET "+Prefix+"/ServiceProviderConfig", s.handle(s.serviceProviderConfig))
	mux.Handle("GET "+Prefix+"/ResourceTypes", s.handle(s.resourceTypes))
	mux.Handle("GET "+Prefix+"/ResourceTypes/{name}", s.handle(s.resourceType))
	mux.Handle("GET "+Prefix+"/Schemas", s.handle(s.schemas))
	mux.Handle("GET "+Prefix+"/Schemas/{id}", s.handle(s.schema))
	mux.Handle(Prefix+"/", s.handle(s.fallback))
	mux.Handle(Prefix, s.handle(s.fallback))
}

// request is what every handler gets besides the writer: the request,
// the authenticated tenant and the service base URL of that tenant.
type request struct {
	*http.Request
	tenant string
	base   string     // e.g. http://127.0.0.1:8080/t/acme/scim/v2
	query  url.Values // the query string, parsed once by parseQuery

	// What handle records in Config.Activity:
	found     bool        // the tenant exists
	tokenHash []byte      // the tenant's TokenHash, when the token matched it
	failure   *scim.Error // the error answered, if any
	// action, when a handler sets it, names the request instead of
	// activity.Action ("Deactivate user", "Rename group", …).
	action string
	// For Config.Audit: the tenant's current TokenHash (to tell a
	// previous token's request), and the copy of the body (tapAudit).
	currentHash []byte
	audit       *auditTap
}

// handlerFunc is a SCIM handler; a returned error is rendered as SCIM
// error JSON by handle, which is the only place that renders errors.
type handlerFunc func(w http.ResponseWriter, r *request) error

// wrap adapts a handler that needs the resource kind.
func (k *kind) wrap(f func(k *kind, w http.ResponseWriter, r *request) error) handlerFunc {
	return func(w http.ResponseWriter, r *request) error { return f(k, w, r) }
}

// handle turns a handlerFunc into an http.Handler: it recovers panics,
// authenticates the tenant, limits the body and renders errors. With
// Config.Activity, it records the request of every tenant that exists
// (see record).
func (s *Server) handle(f handlerFunc) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, hr *http.Request) {
		start := s.now()
		w := &statusWriter{ResponseWriter: rw}
		r := &request{Request: hr, tenant: hr.PathValue("tenant")}
		defer func() {
			if v := recover(); v != nil {
				s.log.Error("scim/server: panic serving request", "method", hr.Method, "path", hr.URL.Path, "panic", fmt.Sprint(v))
				if !w.wrote {
					r.failure = s.writeError(w, hr, scim.Errorf(http.StatusInternalServerError, "", "internal error"))
				}
			}
			s.log.Debug("scim/server: request", "method", hr.Method, "path", hr.URL.Path, "status", w.status, "duration", s.now().Sub(start))
			if (s.activity != nil || s.audit != nil) && r.found {
				s.record(r, w, start)
			}
		}()
		limit := int64(MaxBody)
		if hr.Pattern == bulkPattern {
			limit = MaxBulkPayload // RFC 7644 §3.7.4: maxPayloadSize
		}
		hr.Body = http.MaxBytesReader(w, hr.Body, limit)
		r.audit = s.tapAudit(hr, w)
		r.base = s.origin(hr) + "/t/" + r.tenant + "/scim/v2"
		// Rate limits on failed authentication (Config.Limiter): the token
		// is always checked, so the right one passes even from an address
		// (or to a tenant) over its budget; a failure while either is
		// over budget is 429, not 401.
		t, found, err := s.authenticate(r) // sets r.tokenHash
		r.found, r.currentHash = found, t.TokenHash
		if err != nil {
			if errors.Is(err, scim.ErrUnauthorized) {
				name := ""
				if found {
					name = r.tenant // unknown tenants spend no tenant budget
				}
				if retry, limited := s.limiter.Failed(hr.RemoteAddr, name); limited {
					r.failure = s.tooManyFailures(w, hr, retry)
					return
				}
			}
			r.failure = s.writeError(w, hr, err)
			return
		}
		q, err := parseQuery(hr.URL.RawQuery)
		if err != nil {
			r.failure = s.writeError(w, hr, err)
			return
		}
		r.query = q
		if err := f(w, r); err != nil {
			r.failure = s.writeError(w, hr, err)
		}
	})
}

// tooManyFailures answers 429 with Retry-After (whole seconds, at least
// one) and a SCIM error body, for an address or tenant over its budget of
// failed authentications (Config.Limiter).
func (s *Server) tooManyFailures(w http.ResponseWriter, r *http.Request, retry time.Duration) *scim.Error {
	secs := httpx.RetryAfterSeconds(retry)
	s.log.Warn("scim/server: too many failed authentications", "path", r.URL.Path, "remote", r.RemoteAddr, "retryAfter", secs)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	return s.writeError(w, r, scim.Errorf(http.StatusTooManyRequests, "",
		"too many failed authentication attempts; wait %d %s before trying again", secs, plural(secs, "second", "seconds")))
}

// origin is the scheme and host that resource locations start with:
// the public URL, else the request's own (httpx.Scheme follows a
// trusted proxy's X-Forwarded-Proto, as r.Host its X-Forwarded-Host).
func (s *Server) origin(r *http.Request) string {
	if s.publicURL != "" {
		return s.publicURL
	}
	return httpx.Scheme(r) + "://" + r.Host
}

// fallback answers paths that are no endpoint (404) and endpoints called
// with a method they do not take (405, with Allow).
func (s *Server) fallback(w http.ResponseWriter, r *request) error {
	rest := strings.TrimPrefix(r.URL.Path, "/t/"+r.tenant+"/scim/v2")
	segs := strings.Split(strings.Trim(rest, "/"), "/")
	allow := ""
	switch {
	case strings.HasSuffix(rest, "/") && rest != "/":
		// "/Users/" is not "/Users".
	case len(segs) == 1 && (segs[0] == "Users" || segs[0] == "Groups"):
		allow = "GET, POST"
	case len(segs) == 2 && (segs[0] == "Users" || segs[0] == "Groups") && segs[1] == ".search",
		len(segs) == 1 && (segs[0] == ".search" || segs[0] == "Bulk"):
		allow = "POST"
	case len(segs) == 2 && (segs[0] == "Users" || segs[0] == "Groups") && segs[1] != "":
		allow = "GET, PUT, PATCH, DELETE"
	case len(segs) == 1 && (segs[0] == "ServiceProviderConfig" || segs[0] == "ResourceTypes" || segs[0] == "Schemas"),
		len(segs) == 2 && (segs[0] == "ResourceTypes" || segs[0] == "Schemas") && segs[1] != "":
		allow = "GET"
	}
	if allow != "" {
		w.Header().Set("Allow", allow)
		return scim.Errorf(http.StatusMethodNotAllowed, "", "%s is not supported on %s", r.Method, rest)
	}
	if rest == "" || rest == "/" {
		return scim.Errorf(http.StatusNotFound, "", "no endpoint at the service root; use /Users, /Groups, /ServiceProviderConfig, /ResourceTypes or /Schemas")
	}
	return scim.Errorf(http.StatusNotFound, "", "no endpoint %s", rest)
}

// statusWriter remembers whether and what a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

// WriteHeader records code and passes it on.
func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200 and passes b on.
func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// idSource makes the ids of new resources: UUIDs of version 7 (RFC 9562
// §5.7), the creation time in milliseconds, then 74 random bits. Ids so
// made sort by creation time, so a new resource's row goes to the end of
// the store's primary-key index instead of a random page of it, which
// keeps creates fast in a tenant of a million users. Within one process
// they are also monotonic (§6.2, Method 1): the 12 bits of rand_a count
// the ids of one millisecond from a random start below 2048, so
// resources created in the same millisecond list in the order they were
// created (lists sort by created, then id), and a clock that steps back
// does not make an id sort before an earlier one. The 62 bits of rand_b
// stay random, so ids are unguessable and unique; the time in them is no
// secret (meta.created shows it). The zero value is ready to use.
type idSource struct {
	mu     sync.Mutex
	lastMS uint64
	seq    uint16 // the 12-bit counter of lastMS
}

// next returns a new id for a resource created at now.
func (g *idSource) next(now time.Time) string {
	var b [16]byte
	rand.Read(b[6:]) // never fails (crypto/rand, Go 1.24+)
	ms := uint64(max(now.UnixMilli(), 0))
	g.mu.Lock()
	switch {
	case ms > g.lastMS:
		g.lastMS, g.seq = ms, (uint16(b[6])<<8|uint16(b[7]))&0x07ff
	case g.seq < 0x0fff:
		g.seq++
	default: // 4096 ids in one millisecond: borrow the next one
		g.lastMS, g.seq = g.lastMS+1, (uint16(b[6])<<8|uint16(b[7]))&0x07ff
	}
	ms, seq := g.lastMS, g.seq
	g.mu.Unlock()
	for i := range 6 {
		b[i] = byte(ms >> (40 - 8*i))
	}
	b[6], b[7] = 0x70|byte(seq>>8), byte(seq)
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// plural is one when n is 1, else many.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
