package server

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/idpkit/idpkit/scim/store"
)

// How the AuditWriter batches: a flush every auditFlushEvery or when
// auditBatch records wait, whichever comes first; at most auditQueue
// records wait, and a record that finds the queue full is dropped
// (counted and logged), so that the audit never blocks or fails a
// request.
const (
	auditFlushEvery = 200 * time.Millisecond
	auditBatch      = 100
	auditQueue      = 4096
	auditTimeout    = 10 * time.Second
	// maxAuditCapture bounds the copy of a non-Bulk write's body the
	// audit reads attribute names from (a Bulk request's is bounded by
	// MaxBulkPayload, as its body is).
	maxAuditCapture = 256 << 10
)

// auditItem is one queued entry: a record, or a SCIM write whose records
// expand makes in the writer's goroutine (parsing the body off the
// request path). summary is the key of a summarised refusal's kind
// (Summarize), whose tenant is checked before it is written.
type auditItem struct {
	tenant  string
	rec     store.AuditRecord
	expand  func(store.AuditRecord) []store.AuditRecord
	summary string
}

// AuditConfig configures an AuditWriter.
type AuditConfig struct {
	// Store receives the records; required.
	Store store.Store
	// Logger receives the drops and failed writes; nil discards them.
	Logger *slog.Logger
	// Now is the clock of summarised refusals (Summarize); nil means
	// time.Now.
	Now func() time.Time
}

// AuditWriter appends audit records to the store asynchronously through a
// small bounded buffer (see auditBatch), and summarises refusals that
// come in floods (Summarize). Create it with NewAuditWriter and stop it
// with Close, which flushes. It is safe for concurrent use.
type AuditWriter struct {
	st  store.Store
	log *slog.Logger
	now func() time.Time
	sum *summaries

	q       chan auditItem
	flushes chan chan struct{}
	done    chan struct{}
	closed  chan struct{}
	once    sync.Once

	mu      sync.Mutex
	dropped int // since the last log line about drops
}

// NewAuditWriter starts a writer appending to st; a nil logger discards.
func NewAuditWriter(st store.Store, log *slog.Logger) *AuditWriter {
	return NewAuditWriterWith(AuditConfig{Store: st, Logger: log})
}

// NewAuditWriterWith starts a writer configured by cfg.
func NewAuditWriterWith(cfg AuditConfig) *AuditWriter {
	a := &AuditWriter{st: cfg.Store, log: cfg.Logger, now: cfg.Now, sum: newSummaries(),
		q: make(chan auditItem, auditQueue), flushes: make(chan chan struct{}), done: make(chan struct{}), closed: make(chan struct{})}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	go a.run()
	return a
}

// Add queues rec for tenant; it never blocks. It reports false when the
// record was dropped (the queue was full or the writer closed).
func (a *AuditWriter) Add(tenant string, rec store.AuditRecord) bool {
	return a.add(auditItem{tenant: tenant, rec: rec})
}

func (a *AuditWriter) add(it auditItem) bool {
	if a == nil {
		return false
	}
	select {
	case <-a.done:
		a.drop(1)
		return false
	default:
	}
	select {
	case a.q <- it:
		return true
	default:
		a.drop(1)
		return false
	}
}

func (a *AuditWriter) drop(n int) {
	a.mu.Lock()
	a.dropped += n
	a.mu.Unlock()
}

// Flush writes what is queued and the counts of summarised refusals now
// (not waiting for their minute), and returns when they are stored. It
// is for tests and shutdown; after Close it returns at once.
func (a *AuditWriter) Flush() {
	if a == nil {
		return
	}
	ack := make(chan struct{})
	select {
	case a.flushes <- ack:
		<-ack
	case <-a.closed:
	}
}

// Close stops the writer after writing what is queued and the counts of
// summarised refusals; it is idempotent.
func (a *AuditWriter) Close() {
	if a == nil {
		return
	}
	a.once.Do(func() { close(a.done) })
	<-a.closed
}

func (a *AuditWriter) run() {
	defer close(a.closed)
	tick := time.NewTicker(auditFlushEvery)
	defer tick.Stop()
	var batch []auditItem
	drain := func() {
		for {
			select {
			case it := <-a.q:
				batch = append(batch, it)
			default:
				return
			}
		}
	}
	for {
		select {
		case it := <-a.q:
			batch = append(batch, it)
			if len(batch) >= auditBatch {
				a.flush(batch)
				batch = batch[:0]
			}
		case <-tick.C:
			batch = append(batch, a.sum.due(a.now(), false)...)
			a.flush(batch)
			batch = batch[:0]
		case ack := <-a.flushes:
			drain()
			batch = append(batch, a.sum.due(a.now(), true)...)
			a.flush(batch)
			batch = batch[:0]
			close(ack)
		case <-a.done:
			drain()
			batch = append(batch, a.sum.due(a.now(), true)...)
			a.flush(batch)
			return
		}
	}
}

// flush appends batch, grouped by tenant in the order queued, and logs
// the records dropped since the last flush. A summarised refusal whose
// tenant does not exist is not written (see summaries.setChecked).
func (a *AuditWriter) flush(batch []auditItem) {
	a.mu.Lock()
	dropped := a.dropped
	a.dropped = 0
	a.mu.Unlock()
	if dropped > 0 {
		a.log.Warn("scim/server: audit records dropped (queue full)", "dropped", dropped)
	}
	if n := a.sum.takeDropped(); n > 0 {
		a.log.Warn("scim/server: refusals not summarised in the audit (too many kinds)", "dropped", n)
	}
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), auditTimeout)
	defer cancel()
	var tenants []string
	by := map[string][]store.AuditRecord{}
	exists := map[string]bool{}
	for _, it := range batch {
		if it.summary != "" && !a.tenantExists(ctx, it, exists) {
			continue
		}
		recs := []store.AuditRecord{it.rec}
		if it.expand != nil {
			recs = it.expand(it.rec)
		}
		if _, ok := by[it.tenant]; !ok {
			tenants = append(tenants, it.tenant)
		}
		by[it.tenant] = append(by[it.tenant], recs...)
	}
	for _, t := range tenants {
		if err := a.st.AppendAudit(ctx, t, by[t]); err != nil {
			a.log.Warn("scim/server: writing audit records failed", "tenant", t, "records", len(by[t]), "err", err)
		}
	}
}

// tenantExists tells whether the tenant of a summarised refusal exists,
// reading the store once per kind (and at most once per tenant a flush,
// through seen). When the store cannot tell, the record is kept.
func (a *AuditWriter) tenantExists(ctx context.Context, it auditItem, seen map[string]bool) bool {
	if checked, unknown := a.sum.state(it.summary); checked {
		return !unknown
	}
	ok, known := seen[it.tenant]
	if !known {
		_, err := a.st.GetTenant(ctx, it.tenant)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return true
		}
		ok = err == nil
		seen[it.tenant] = ok
	}
	a.sum.setChecked(it.summary, ok)
	return ok
}

// auditTap holds what the audit of a SCIM write reads after the handler:
// a copy of the request body (and, for Bulk, of the response body).
type auditTap struct {
	body bytes.Buffer
	resp *bytes.Buffer
}

// tapAudit returns nil for a request the audit does not record (reads
// and searches), else a tap with hr.Body (and w, for Bulk) wrapped to
// copy what passes.
func (s *Server) tapAudit(hr *http.Request, w *statusWriter) *auditTap {
	if s.audit == nil || !isWriteMethod(hr.Method) || strings.HasSuffix(hr.URL.Path, "/.search") {
		return nil
	}
	tap := &auditTap{}
	limit := maxAuditCapture
	if hr.Pattern == bulkPattern {
		limit = MaxBulkPayload
		tap.resp = &bytes.Buffer{}
		w.ResponseWriter = &teeWriter{ResponseWriter: w.ResponseWriter, buf: tap.resp, limit: 4 * MaxBulkPayload}
	}
	hr.Body = &teeBody{ReadCloser: hr.Body, buf: &tap.body, limit: limit}
	return tap
}

func isWriteMethod(m string) bool {
	return m == http.MethodPost || m == http.MethodPut || m == http.MethodPatch || m == http.MethodDelete
}

// teeBody copies what is read, up to limit bytes.
type teeBody struct {
	io.ReadCloser
	buf   *bytes.Buffer
	limit int
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if room := b.limit - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(n, room)])
	}
	return n, err
}

// teeWriter copies what is written, up to limit bytes.
type teeWriter struct {
	http.ResponseWriter
	buf   *bytes.Buffer
	limit int
}

func (w *teeWriter) Write(p []byte) (int, error) {
	if room := w.limit - w.buf.Len(); room > 0 {
		w.buf.Write(p[:min(len(p), room)])
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// auditActions names the audit action of each write method.
var auditActions = map[string]string{
	http.MethodPost:   "create",
	http.MethodPut:    "replace",
	http.MethodPatch:  "patch",
	http.MethodDelete: "delete",
}

// auditWrite queues the audit of a SCIM write (refused ones included),
// from record, and of any request to the tenant answered 401 (an
// auth-refused record, auditAuthRefused). A 429 is left to the
// rate-limited summary (auditTooMany). Authenticated reads are not
// recorded. The records of a write are made in the writer's goroutine.
func (s *Server) auditWrite(r *request, w *statusWriter, rest string, status int, at time.Time) {
	if s.audit == nil {
		return
	}
	switch status {
	case http.StatusUnauthorized: // any method (auditsummary.go)
		s.auditAuthRefused(r, rest, at)
		return
	case http.StatusTooManyRequests: // summarised by auditTooMany
		return
	}
	if r.audit == nil {
		return
	}
	rec := store.AuditRecord{
		At:      at,
		Kind:    store.AuditSCIM,
		Actor:   tokenActor(r.tokenHash, r.currentHash),
		Source:  clientHost(r.RemoteAddr),
		Action:  auditActions[r.Method],
		Outcome: strconv.Itoa(status),
	}
	tap := r.audit
	if rest == "/Bulk" {
		rec.Action = "bulk"
		s.audit.add(auditItem{tenant: r.tenant, rec: rec, expand: func(rec store.AuditRecord) []store.AuditRecord {
			return bulkAudit(rec, tap.body.Bytes(), tap.resp.Bytes())
		}})
		return
	}
	rec.Target = auditTarget(rest)
	if id := r.PathValue("id"); id != "" && rec.Target != "" {
		// The id as routed: it may hold an escaped "/" (%2F), which
		// the path split of auditTarget would cut at.
		typ, _, _ := strings.Cut(rec.Target, "/")
		rec.Target = typ + "/" + clipTo(escapeControls(id), 128)
	}
	if r.Method == http.MethodPost && status < 300 {
		rec.Target = auditTarget(locationPath(rest, w.Header().Get("Location")))
	}
	method := r.Method
	s.audit.add(auditItem{tenant: r.tenant, rec: rec, expand: func(rec store.AuditRecord) []store.AuditRecord {
		rec.Detail = attrDetail(method, tap.body.Bytes())
		return []store.AuditRecord{rec}
	}})
}

// tokenActor names the token a request authenticated with: "current:" or
// "previous:" and the first 8 hex digits of its hash; "" when none did.
func tokenActor(hash, current []byte) string {
	if len(hash) == 0 {
		return ""
	}
	slot := "previous"
	if bytes.Equal(hash, current) {
		slot = "current"
	}
	h := hex.EncodeToString(hash)
	return slot + ":" + h[:min(8, len(h))]
}

// clientHost is the host of a RemoteAddr (host:port).
func clientHost(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// auditTarget maps a path under the service ("/Users/<id>") to
// "User/<id>"; the endpoint alone ("/Users") to "User".
func auditTarget(rest string) string {
	parts := strings.SplitN(strings.TrimPrefix(rest, "/"), "/", 3)
	typ := ""
	switch parts[0] {
	case "Users":
		typ = store.TypeUser
	case "Groups":
		typ = store.TypeGroup
	default:
		return ""
	}
	if len(parts) < 2 || parts[1] == "" {
		return typ
	}
	return typ + "/" + clipTo(escapeControls(parts[1]), 128)
}

// escapeControls writes the control characters of s (C0, DEL) as %XX:
// an id is the sender's text, and a NUL would make the whole batch
// unstorable, a CR or LF break the lines of `idpkit audit`.
func escapeControls(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isControl(r) {
			fmt.Fprintf(&b, "%%%02X", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// locationPath is the path under the service of a Location header
// ("https://…/scim/v2/Users/<id>" → "/Users/<id>"), or rest without one.
func locationPath(rest, loc string) string {
	for _, ep := range []string{"/Users/", "/Groups/"} {
		if i := strings.LastIndex(loc, ep); i >= 0 {
			return loc[i:]
		}
	}
	return rest
}

// attrDetail is the JSON array of the attribute names a write changes:
// the top-level names of a POST or PUT body, the paths of a PATCH (the
// value's names for an operation without a path); nil for DELETE or a
// body that is not JSON. Values are never read into the detail.
func attrDetail(method string, body []byte) []byte {
	names := attrNames(method, body)
	if names == nil {
		return nil
	}
	b, _ := json.Marshal(names)
	return b
}

func attrNames(method string, body []byte) []string {
	if method == http.MethodDelete || len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	var names []string
	if method == http.MethodPatch {
		var p struct {
			Operations []struct {
				Op    string          `json:"op"`
				Path  string          `json:"path"`
				Value json.RawMessage `json:"value"`
			} `json:"Operations"`
		}
		if json.Unmarshal(body, &p) != nil {
			return nil
		}
		for _, op := range p.Operations {
			if op.Path != "" {
				names = append(names, clipTo(pathOnly(op.Path), 128))
				continue
			}
			names = append(names, objectKeys(op.Value)...)
		}
	} else {
		names = objectKeys(body)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// pathOnly keeps the attribute path of a PATCH path, without a value
// filter's comparison value (emails[value eq "x"].primary → emails.primary).
func pathOnly(p string) string {
	if i := strings.IndexByte(p, '['); i >= 0 {
		rest := ""
		if j := strings.LastIndexByte(p, ']'); j > i {
			rest = p[j+1:]
		}
		return p[:i] + rest
	}
	return p
}

// objectKeys returns the top-level names of a JSON object, except
// "schemas" (which names no attribute); nil for anything else.
func objectKeys(b []byte) []string {
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	var out []string
	for k := range m {
		if k == "schemas" {
			continue
		}
		out = append(out, clipTo(k, 128))
	}
	return out
}

// bulkAudit makes one record per operation of a Bulk request: the
// action, target and outcome from the response's entry, the attribute
// names from the request's operation. With no response (a refused Bulk
// request), it is the one record rec.
func bulkAudit(rec store.AuditRecord, body, resp []byte) []store.AuditRecord {
	var req struct {
		Operations []struct {
			Method string          `json:"method"`
			BulkID string          `json:"bulkId"`
			Path   string          `json:"path"`
			Data   json.RawMessage `json:"data"`
		} `json:"Operations"`
	}
	var res struct {
		Operations []bulkResult `json:"Operations"`
	}
	if json.Unmarshal(resp, &res) != nil || len(res.Operations) == 0 {
		return []store.AuditRecord{rec}
	}
	_ = json.Unmarshal(body, &req)
	var out []store.AuditRecord
	for _, ro := range res.Operations {
		r := rec
		method := strings.ToUpper(ro.Method)
		r.Action = auditActions[method]
		if r.Action == "" {
			r.Action = "bulk"
		}
		r.Outcome = ro.Status
		path := locationPath("", ro.Location)
		r.Target = auditTarget(path)
		for _, op := range req.Operations {
			if !strings.EqualFold(op.Method, method) {
				continue
			}
			if (ro.BulkID != "" && op.BulkID == ro.BulkID) || (ro.BulkID == "" && path != "" && op.Path == path) {
				if r.Target == "" {
					r.Target = auditTarget(op.Path)
				}
				r.Detail = attrDetail(method, op.Data)
				break
			}
		}
		out = append(out, r)
	}
	return out
}
