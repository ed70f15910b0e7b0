package login

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"

	"github.com/idpkit/idpkit/scim/store"
)

// Auditor receives audit records (server.AuditWriter is one). Add must
// never block; it reports whether the record was kept.
type Auditor interface {
	Add(tenant string, rec store.AuditRecord) bool
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

// auditAdmin records an admin change (kind store.AuditAdmin).
func (h *Handler) auditAdmin(r *http.Request, tenant, action, outcome string, d auditDetail) {
	h.auditRecord(r, tenant, store.AuditAdmin, action, "admin", "", d, outcome)
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

func remoteHost(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return strings.TrimSpace(addr)
}
