package login

import (
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/idpkit/idpkit/scim/store"
)

// Auditor receives audit records (server.AuditWriter is one). Add must
// never block; it reports whether the record was kept.
type Auditor interface {
	Add(tenant string, rec store.AuditRecord) bool
}

// Summarizer is an Auditor that also folds a refusal repeated at will
// into one record a minute with its count (server.AuditWriter.Summarize
// is one: the first refusal of a kind is written at once). Refusals an
// attacker can repeat without any credential (no session, no CSRF value,
// a 429) go through it when the Config.Audit implements it, else through
// Add one record each. Summarize must never block.
type Summarizer interface {
	Summarize(tenant string, rec store.AuditRecord)
}

// Sign-in outcomes, the Action of a store.AuditSignIn record.
const (
	auditSignedIn       = "signed-in"
	auditNotProvisioned = "not-provisioned"
	auditDeactivated    = "deactivated"
	auditTokenRefused   = "token-refused"
	auditStateRefused   = "state-refused"
	auditProviderRefusd = "provider-refused"
)

// auditDetail is the JSON detail of a sign-in or admin record.
type auditDetail struct {
	Reason string `json:"reason,omitempty"`
	Test   bool   `json:"test,omitempty"`
	Grace  string `json:"grace,omitempty"`
}

// auditSignIn records a sign-in outcome: actor is the Okta sub when known,
// target "User/<id>" when the user was found, reason a short code. It
// keeps identifiers only, never a userName or an email.
func (h *Handler) auditSignIn(r *http.Request, tenant, action, sub, target, reason string, test bool) {
	h.auditRecord(r, tenant, store.AuditSignIn, action, sub, target, auditDetail{Reason: reason, Test: test}, "")
}

// auditAdmin records an admin change (kind store.AuditAdmin) by actor:
// an admin session's actor (see adminSession.actor), or the Okta sub of
// an admin signing in.
func (h *Handler) auditAdmin(r *http.Request, tenant, actor, action, outcome string, d auditDetail) {
	h.auditRecord(r, tenant, store.AuditAdmin, action, actor, "", d, outcome)
}

func (h *Handler) auditRecord(r *http.Request, tenant, kind, action, actor, target string, d auditDetail, outcome string) {
	if h.audit == nil {
		return
	}
	d.Reason = clip(d.Reason, 64)
	var detail []byte
	if d != (auditDetail{}) {
		detail, _ = json.Marshal(d)
	}
	if outcome == "" {
		outcome = "ok"
		if action != auditSignedIn {
			outcome = "refused"
		}
	}
	h.audit.Add(tenant, store.AuditRecord{
		At: h.now(), Kind: kind, Actor: clip(actor, 255), Source: remoteHost(r.RemoteAddr),
		Action: action, Target: target, Detail: detail, Outcome: outcome,
	})
}

// Reason codes of refused admin API requests and sign-outs.
const (
	refusedNoSession = "no-session" // no admin session cookie, or one that is unknown, expired or another tenant's
	refusedCSRF      = "csrf"       // a POST without the X-Idpkit-Csrf header, or with a wrong one
	refusedCrossSite = "cross-site" // a POST sent by another site's page (Origin, Sec-Fetch-Site)
)

// auditRefused records a refused request of the admin API (action
// "admin-refused"), a refused sign-out ("signout-refused",
// "admin-signout") or a 429 ("rate-limited"): no actor (nothing proved
// who sent it), the source, the route under the tenant as target
// ("admin/api/secret"), the method and reason code as detail, and the
// HTTP status as outcome. Through a Summarizer: at most one record a
// minute per kind of refusal and source after the first.
func (h *Handler) auditRefused(r *http.Request, tenant, kind, action, reason string, status int) {
	if h.audit == nil {
		return
	}
	detail, _ := json.Marshal(refusedDetail{Method: auditMethod(r.Method), Reason: reason})
	rec := store.AuditRecord{
		At: h.now(), Kind: kind, Source: clip(remoteHost(r.RemoteAddr), 64), Action: action,
		Target: routeUnder(r.URL.Path, tenant), Detail: detail, Outcome: strconv.Itoa(status),
	}
	if sm, ok := h.audit.(Summarizer); ok {
		sm.Summarize(tenant, rec)
		return
	}
	h.audit.Add(tenant, rec)
}

// auditRateLimited records a request answered 429 by Config.Limiter
// (an admin link or sign-in callback from an address over its budget);
// summarised as auditRefused. The tenant is the path's, not yet read: a
// Summarizer checks it exists before writing.
func (h *Handler) auditRateLimited(r *http.Request) {
	tenant := r.PathValue("tenant")
	kind := store.AuditSignIn
	if strings.HasPrefix(routeUnder(r.URL.Path, tenant), "admin/") {
		kind = store.AuditAdmin
	}
	h.auditRefused(r, tenant, kind, "rate-limited", "", http.StatusTooManyRequests)
}

// refusedDetail is the detail of a refused request.
type refusedDetail struct {
	Method string `json:"method,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// auditMethod is r's method when it is a usual one, else "other".
func auditMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead:
		return m
	}
	return "other"
}

// routeUnder is the path under /t/{tenant}/ ("admin/api/secret"), at
// most 64 bytes; the routes that call it are fixed paths of this app.
func routeUnder(p, tenant string) string {
	return clip(strings.TrimPrefix(p, "/t/"+tenant+"/"), 64)
}

func remoteHost(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return strings.TrimSpace(addr)
}
