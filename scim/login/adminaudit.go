package login

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/idpkit/idpkit/scim/adminapi"
	"github.com/idpkit/idpkit/scim/store"
)

// handleAudit answers GET …/admin/api/audit[?since=RFC3339]
// (adminapi.Audit): the tenant's most recent audit records, newest first,
// at most adminapi.MaxAudit, read from the store, so that every instance
// answers the same. The dialog polls it for its Recent activity.
func (h *Handler) handleAudit(w http.ResponseWriter, r *http.Request) {
	t, _, ok := h.requireAdminAPI(w, r)
	if !ok {
		return
	}
	var since time.Time
	if v := r.URL.Query().Get("since"); v != "" {
		var err error
		if since, err = time.Parse(time.RFC3339, v); err != nil {
			writeJSONError(w, http.StatusBadRequest, "invalid_request", "since must be an RFC 3339 time, such as 2026-12-01T00:00:00Z")
			return
		}
	}
	recs, err := h.store.LatestAudit(r.Context(), t.Name, since, adminapi.MaxAudit)
	if err != nil {
		h.log.ErrorContext(r.Context(), "read audit", "tenant", t.Name, "err", err)
		writeJSONError(w, http.StatusInternalServerError, "server_error", "the server could not read the tenant's audit trail; try again")
		return
	}
	out := adminapi.Audit{Records: make([]adminapi.AuditEntry, 0, len(recs))}
	for _, rec := range recs {
		out.Records = append(out.Records, auditEntry(rec))
	}
	writeJSON(w, http.StatusOK, out)
}

// auditEntry is a store record as the dialog reads it: the detail JSON's
// known fields taken out (an array of attribute names, or an object with
// reason, test, grace, key and count), and the JSON as stored.
func auditEntry(r store.AuditRecord) adminapi.AuditEntry {
	e := adminapi.AuditEntry{
		At: r.At, Kind: r.Kind, Actor: r.Actor, Source: r.Source, Action: r.Action,
		Target: r.Target, Detail: string(r.Detail), Outcome: r.Outcome,
	}
	if len(r.Detail) == 0 {
		return e
	}
	var names []string
	if json.Unmarshal(r.Detail, &names) == nil {
		e.Attributes = names
		return e
	}
	var d struct {
		Reason string `json:"reason"`
		Test   bool   `json:"test"`
		Grace  string `json:"grace"`
		Key    string `json:"key"`   // of idpkit tenant rotate-key's record
		Count  int    `json:"count"` // of a summary of refusals
	}
	if json.Unmarshal(r.Detail, &d) == nil {
		e.Reason, e.Test, e.Grace, e.Key, e.Count = d.Reason, d.Test, d.Grace, d.Key, d.Count
	}
	return e
}
