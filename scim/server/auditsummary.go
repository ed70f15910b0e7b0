package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/idpkit/idpkit/scim/store"
)

// Refusals that an attacker can repeat at will (a 429 of the failure
// rate limiter, an admin API request without a session or CSRF value)
// are summarised rather than written one row each: the first refusal of
// a kind (tenant, kind, actor, source, action, target, outcome and
// detail alike) is written at once with "count":1 in its detail; further
// ones are counted, and once summaryEvery has passed since the last
// record of that kind one more record carries the count refused since
// then ("count":N, "since":the RFC 3339 time the count started). A kind
// that saw no refusal for summaryEvery is forgotten. At most maxSummaries
// kinds are remembered; a refusal of a new kind beyond that is dropped
// (and counted in the writer's log of drops).
const (
	summaryEvery = time.Minute
	maxSummaries = 4096
	// maxSummaryField bounds the tenant name (tenant names are at most
	// 63 bytes; longer ones cannot exist) and each field of a summarised
	// record, so that the remembered kinds stay small.
	maxSummaryField = 64
)

// summary is one kind of refusal being counted.
type summary struct {
	tenant string
	rec    store.AuditRecord // the first refusal (its At is not used again)
	since  time.Time         // when the current count started
	count  int               // refusals since then, not yet written
	// checked is set once the writer knows whether the tenant exists;
	// unknown when it does not: nothing more is counted or written.
	checked, unknown bool
}

// summaries are the kinds of refusal an AuditWriter is counting. It is
// safe for concurrent use.
type summaries struct {
	mu      sync.Mutex
	every   time.Duration
	max     int
	m       map[string]*summary
	dropped int // refusals of new kinds beyond max, since the last take
}

func newSummaries() *summaries {
	return &summaries{every: summaryEvery, max: maxSummaries, m: map[string]*summary{}}
}

// summaryKey is what makes two refusals the same kind.
func summaryKey(tenant string, r store.AuditRecord) string {
	return strings.Join([]string{tenant, r.Kind, r.Actor, r.Source, r.Action, r.Target, r.Outcome, string(r.Detail)}, "\x00")
}

// add counts a refusal at now. For the first refusal of its kind it
// returns the item to queue at once (ok); later ones are only counted.
func (s *summaries) add(tenant string, rec store.AuditRecord, now time.Time) (it auditItem, ok bool) {
	if len(tenant) > maxSummaryField {
		return auditItem{}, false // no tenant has such a name
	}
	rec.Actor, rec.Source = clipTo(rec.Actor, maxSummaryField), clipTo(rec.Source, maxSummaryField)
	rec.Action, rec.Target = clipTo(rec.Action, maxSummaryField), clipTo(rec.Target, maxSummaryField)
	rec.Outcome = clipTo(rec.Outcome, maxSummaryField)
	key := summaryKey(tenant, rec)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, found := s.m[key]; found {
		if !e.unknown {
			e.count++
		}
		return auditItem{}, false
	}
	if len(s.m) >= s.max {
		s.dropped++
		return auditItem{}, false
	}
	s.m[key] = &summary{tenant: tenant, rec: rec, since: now}
	out := rec
	out.At = now
	out.Detail = summaryDetail(rec.Detail, 1, time.Time{})
	return auditItem{tenant: tenant, rec: out, summary: key}, true
}

// due returns a record for each kind whose count has run for every (all
// kinds with a count when force), restarting their counts at now, and
// forgets the kinds with nothing counted for every.
func (s *summaries) due(now time.Time, force bool) []auditItem {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []auditItem
	for key, e := range s.m {
		if !force && now.Sub(e.since) < s.every {
			continue
		}
		if e.count == 0 || e.unknown {
			if !force {
				delete(s.m, key)
			}
			continue
		}
		rec := e.rec
		rec.At = now
		rec.Detail = summaryDetail(e.rec.Detail, e.count, e.since)
		out = append(out, auditItem{tenant: e.tenant, rec: rec, summary: key})
		e.since, e.count = now, 0
	}
	return out
}

// state tells whether the writer has checked the tenant of key's kind and
// whether it was unknown; a forgotten kind is not checked.
func (s *summaries) state(key string) (checked, unknown bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[key]; ok {
		return e.checked, e.unknown
	}
	return false, false
}

// setChecked records whether the tenant of key's kind exists.
func (s *summaries) setChecked(key string, exists bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[key]; ok {
		e.checked, e.unknown = true, !exists
		if !exists {
			e.count = 0
		}
	}
}

// takeDropped returns the refusals dropped since the last call.
func (s *summaries) takeDropped() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.dropped
	s.dropped = 0
	return n
}

// summaryDetail is detail (a JSON object, or empty) with "count" and,
// when since is set, "since" added.
func summaryDetail(detail []byte, count int, since time.Time) []byte {
	m := map[string]any{}
	if len(detail) > 0 {
		_ = json.Unmarshal(detail, &m)
	}
	m["count"] = count
	if !since.IsZero() {
		m["since"] = since.UTC().Format(time.RFC3339)
	}
	b, _ := json.Marshal(m)
	return b
}

// Summarize counts a refusal that may come in floods (see summaryEvery):
// the first of its kind is queued at once, like Add; the same refusal
// again is counted into one record per kind a minute. rec.Detail must be
// a JSON object or empty. The tenant is checked to exist before a record
// is written (a rate-limited request is refused before its tenant is
// read), once per kind. It never blocks.
func (a *AuditWriter) Summarize(tenant string, rec store.AuditRecord) {
	if a == nil {
		return
	}
	if it, ok := a.sum.add(tenant, rec, a.now()); ok {
		a.add(it)
	}
}

// Audit actions of refused SCIM requests.
const (
	auditAuthRefused = "auth-refused" // 401: a missing or wrong bearer token
	auditRateLimited = "rate-limited" // 429: over a budget of failed authentications
)

// scimEndpoints are the first path segments under a tenant's service that
// name an endpoint, for the target of a refused request.
var scimEndpoints = map[string]string{
	"Users": store.TypeUser, "Groups": store.TypeGroup, "Bulk": "Bulk", ".search": ".search",
	"ServiceProviderConfig": "ServiceProviderConfig", "ResourceTypes": "ResourceTypes", "Schemas": "Schemas", "Me": "Me",
}

// endpointKind names the endpoint a path under the service addresses
// (User, Group, Bulk, …), without an id: the id of an unauthenticated
// request is the sender's text, not an identifier of ours. "" for a path
// that is no endpoint.
func endpointKind(rest string) string {
	first, _, _ := strings.Cut(strings.TrimPrefix(rest, "/"), "/")
	return scimEndpoints[first]
}

// refusalDetail is the detail of a refused SCIM request.
type refusalDetail struct {
	Method string `json:"method,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// auditMethod is the request's method when it is one SCIM uses, else
// "other" (the method is the sender's text).
func auditMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead, http.MethodOptions:
		return m
	}
	return "other"
}

// authReason says why a request's token was refused: no-token (no
// Authorization header), several-tokens, not-bearer (another scheme or
// an empty token), or wrong-token (a bearer token that is neither the
// tenant's current nor, in a grace period, its previous one; another
// tenant's token is one).
func authReason(h http.Header) string {
	hs := h.Values("Authorization")
	switch {
	case len(hs) == 0:
		return "no-token"
	case len(hs) > 1:
		return "several-tokens"
	}
	if _, ok := bearer(hs[0]); !ok {
		return "not-bearer"
	}
	return "wrong-token"
}

// auditAuthRefused queues the record of a request to an existing tenant
// answered 401, whatever its method: no actor (no token matched), the
// endpoint's kind as target, the method and the reason as detail.
func (s *Server) auditAuthRefused(r *request, rest string, at time.Time) {
	// Summarised: anyone can send wrong tokens at will (within the
	// failure limits), and one row each would push every real event out
	// of the dialog's Recent activity.
	d, _ := json.Marshal(refusalDetail{Method: auditMethod(r.Method), Reason: authReason(r.Header)})
	s.audit.Summarize(r.tenant, store.AuditRecord{
		Kind: store.AuditSCIM, Source: clientHost(r.RemoteAddr),
		Action: auditAuthRefused, Target: endpointKind(rest), Detail: d, Outcome: "401",
	})
}

// auditTooMany counts a request answered 429 by the failure rate limiter
// into the tenant's rate-limited summary (AuditWriter.Summarize): one
// record at once, then at most one a minute per source and endpoint,
// with the count.
func (s *Server) auditTooMany(hr *http.Request) {
	if s.audit == nil {
		return
	}
	tenant := hr.PathValue("tenant")
	rest := strings.TrimPrefix(hr.URL.Path, "/t/"+tenant+"/scim/v2")
	s.audit.Summarize(tenant, store.AuditRecord{
		Kind: store.AuditSCIM, Source: clientHost(hr.RemoteAddr),
		Action: auditRateLimited, Target: endpointKind(rest), Outcome: "429",
	})
}
