package login

import (
	"context"
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
	recs, err := h.latestAudit(r.Context(), t.Name, since, adminapi.MaxAudit)
	if err != nil {
		h.log.ErrorContext(r.Context(), "read audit", "tenant", t.Name, "err", err)
		writeJSONError(w, http.StatusInternalServerError, "server_error", "the server could not read the tenant's audit trail; try again")
		return
	}
	out := adminapi.Audit{Records: make([]adminapi.AuditEntry, 0, len(recs))}
	for i := len(recs) - 1; i >= 0; i-- {
		out.Records = append(out.Records, auditEntry(recs[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

// How many records one read of latestAudit returns at most: auditScan
// for each probe; auditInstant for the last read, of the records that
// share one microsecond (each record of a Bulk request has its time, and
// a Bulk request has at most 1,000 operations).
const (
	auditScan    = 500
	auditInstant = 20000
)

// latestAudit returns the tenant's last n (at most auditScan) audit
// records at or after since, oldest first. store.Store.ListAudit reads
// oldest first from a start time, so this looks for a start after which
// at least n but fewer than auditScan records lie: one read for a tenant
// with fewer than auditScan records since since; otherwise starts back
// from now by windows that double (1 minute, 2, 4, …) until one holds too
// many, then halve between the last two starts. Each read returns at most
// auditScan records; a typical busy tenant needs a few reads, the worst
// case (records packed into a microsecond, since at the zero time) about
// 30 doublings and 56 halvings. Records of one microsecond (a large Bulk
// request) keep the order they were appended in; of more than
// auditInstant in one microsecond, only the first auditInstant are seen.
func (h *Handler) latestAudit(ctx context.Context, tenant string, since time.Time, n int) ([]store.AuditRecord, error) {
	last := func(recs []store.AuditRecord) []store.AuditRecord {
		if len(recs) > n {
			return recs[len(recs)-n:]
		}
		return recs
	}
	recs, err := h.store.ListAudit(ctx, tenant, since, auditScan)
	if err != nil || len(recs) < auditScan {
		return last(recs), err
	}
	// In microseconds, the store's precision: early is a start with
	// auditScan or more records after it, late one with fewer than n
	// (lateRecs, once read).
	early, late := since.UnixMicro(), h.now().UnixMicro()
	var lateRecs []store.AuditRecord
	lateRead, growing := false, true
	window := time.Minute.Microseconds()
	for late-early > 1 {
		start := early + (late-early)/2
		if growing {
			if start = late - window; start <= early {
				growing = false
				continue
			}
			window *= 2
		}
		recs, err := h.store.ListAudit(ctx, tenant, time.UnixMicro(start).UTC(), auditScan)
		if err != nil {
			return nil, err
		}
		switch {
		case len(recs) >= auditScan:
			early, growing = start, false
		case len(recs) >= n:
			return last(recs), nil
		default:
			late, lateRecs, lateRead = start, recs, true
		}
	}
	// The records before late are all of the instant early.
	if !lateRead {
		if lateRecs, err = h.store.ListAudit(ctx, tenant, time.UnixMicro(late).UTC(), auditScan); err != nil {
			return nil, err
		}
	}
	recs, err = h.store.ListAudit(ctx, tenant, time.UnixMicro(early).UTC(), auditInstant)
	if err != nil {
		return nil, err
	}
	var at []store.AuditRecord
	for _, r := range recs {
		if r.At.Before(time.UnixMicro(late)) {
			at = append(at, r)
		}
	}
	return last(append(at, lateRecs...)), nil
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
