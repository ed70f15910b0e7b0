package server

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/activity"
	"github.com/idpkit/idpkit/scim/adminapi"
	"github.com/idpkit/idpkit/scim/store"
)

// What a recorded request keeps at most, in bytes.
const (
	maxActivityPath      = 512
	maxActivityDetail    = 300
	maxActivityUserAgent = 200
)

// maxMarks bounds Server.marks; when it is full it starts over, which
// costs one store read per tenant in use, not a write.
const maxMarks = 10000

// connectedFor is how long a connected mark is kept: it counts only while
// the secret it was made with is the tenant's, so it may as well stay.
const connectedFor = 10 * 365 * 24 * time.Hour

// markTimeout bounds the store calls of a connected mark.
const markTimeout = 5 * time.Second

// record adds the request to Config.Activity, and marks the tenant
// connected when this is the first request this process sees with the
// tenant's current secret (markConnected). It runs after the handler has
// written its answer and never changes it. Only tenants that exist are
// recorded (r.found), so requests to made-up tenants take no memory. The
// query keeps no secret (activity.RedactQuery: access_token=…, a password
// compared in a filter), nor does the detail of a filter error. With
// Config.Audit, a SCIM write (refused ones too) is also queued for the
// audit trail (auditWrite).
func (s *Server) record(r *request, w *statusWriter, at time.Time) {
	status := w.status
	if !w.wrote {
		status = http.StatusOK
	}
	rest := strings.TrimPrefix(r.URL.Path, "/t/"+r.tenant+"/scim/v2")
	s.auditWrite(r, w, rest, status, at) // the audit trail (audit.go)
	if s.activity == nil {
		return
	}
	path := rest
	if r.URL.RawQuery != "" {
		// A secret in the query (access_token=…, a password in a
		// filter) is not kept; the rest stays readable.
		path += "?" + readableQuery(activity.RedactQuery(r.URL.RawQuery))
	}
	action := r.action
	switch {
	case status == http.StatusUnauthorized && len(r.Header.Values("Authorization")) == 0:
		action = activity.ActionNoSecret
	case action == "" || status >= 400:
		action = activity.Action(r.Method, rest, r.query, status)
	}
	req := adminapi.Request{
		At:        at,
		Method:    r.Method,
		Path:      clipTo(path, maxActivityPath),
		Status:    status,
		Action:    action,
		UserAgent: clipTo(r.UserAgent(), maxActivityUserAgent),
	}
	if status >= 400 && r.failure != nil {
		detail := errorDetail(r.failure)
		if r.failure.ScimType == scim.TypeInvalidFilter {
			detail = activity.RedactFilter(detail) // it quotes the filter
		}
		req.Detail = clipTo(detail, maxActivityDetail)
	}
	s.activity.Add(r.tenant, req)
	if r.tokenHash != nil {
		s.markConnected(r.Context(), r.tenant, r.tokenHash, req)
	}
}

// readableQuery percent-decodes each name and value of a query string
// for people to read in the dialog (filter=userName eq "alice@example.com"
// rather than filter=userName%20eq%20%22alice%40example.com%22), keeping
// the & and = between them; a part that does not decode stays as sent.
func readableQuery(q string) string {
	parts := strings.Split(q, "&")
	for i, p := range parts {
		name, value, hasValue := strings.Cut(p, "=")
		n, err1 := url.QueryUnescape(name)
		v, err2 := url.QueryUnescape(value)
		if err1 != nil || err2 != nil || !utf8.ValidString(n+v) {
			continue
		}
		parts[i] = n
		if hasValue {
			parts[i] += "=" + v
		}
	}
	return strings.Join(parts, "&")
}

// errorDetail is a SCIM error as the dialog shows it: "scimType: detail".
func errorDetail(se *scim.Error) string {
	if se.ScimType == "" {
		return se.Detail
	}
	return se.ScimType + ": " + se.Detail
}

// markConnected stores req as the tenant's connected mark
// (activity.KindConnected) unless the stored one was made with the same
// secret: so the first request with the current secret stays the mark,
// whichever instance served it. Each (tenant, secret) is checked once per
// process; a failure is logged and checked again on the next request. A
// secret that is no longer the tenant's (a request still in flight when
// the secret was rotated) writes nothing.
func (s *Server) markConnected(ctx context.Context, tenant string, tokenHash []byte, req adminapi.Request) {
	key := tenant + "\x00" + string(tokenHash)
	s.marksMu.Lock()
	if _, ok := s.marks[key]; ok {
		s.marksMu.Unlock()
		return
	}
	if len(s.marks) >= maxMarks {
		clear(s.marks)
	}
	s.marks[key] = struct{}{} // claimed: concurrent requests skip
	s.marksMu.Unlock()
	if err := s.writeMark(ctx, tenant, hex.EncodeToString(tokenHash), req); err != nil {
		s.log.Warn("scim/server: marking the tenant connected failed", "tenant", tenant, "err", err)
		s.marksMu.Lock()
		delete(s.marks, key)
		s.marksMu.Unlock()
	}
}

// writeMark is the store side of markConnected.
func (s *Server) writeMark(ctx context.Context, tenant, hash string, req adminapi.Request) error {
	// The client may have gone; the mark is still worth keeping.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
	defer cancel()
	tok, err := s.store.GetToken(ctx, activity.KindConnected, tenant)
	switch {
	case err == nil:
		var c activity.Connected
		if json.Unmarshal(tok.Value, &c) == nil && c.TokenHash == hash {
			return nil
		}
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	// A request authenticated just before a rotation may finish after
	// the new secret's first request was marked: a mark of a secret that
	// is no longer the tenant's would only replace the one that counts.
	t, err := s.store.GetTenant(ctx, tenant)
	if err != nil {
		return err
	}
	if hex.EncodeToString(t.TokenHash) != hash {
		return nil
	}
	value, err := json.Marshal(activity.Connected{TokenHash: hash, Request: req})
	if err != nil {
		return err
	}
	return s.store.PutToken(ctx, store.Token{Kind: activity.KindConnected, Key: tenant, Tenant: tenant, Value: value, Expires: s.now().Add(connectedFor)})
}

// clipTo returns s as valid UTF-8 of at most n bytes, ending in "…" when it
// was cut.
func clipTo(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	const ellipsis = "…"
	cut := n - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

// isActive reads a User's active attribute as sign-in does (scim/login):
// absent is active (RFC 7643 §4.1.1 leaves the default to the service),
// anything but true is inactive.
func isActive(res scim.Resource) bool {
	switch v := res["active"].(type) {
	case nil:
		return true
	case bool:
		return v
	case string:
		return strings.EqualFold(v, "true")
	}
	return false
}
