package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/idpkit/idpkit/scim"
)

// Bulk limits advertised in /ServiceProviderConfig and enforced by POST
// /Bulk (RFC 7644 §3.7.4): more operations, or a larger body, is 413.
const (
	MaxBulkOperations = 1000
	MaxBulkPayload    = 4 << 20
)

// Message URNs of RFC 7644 §3.7.
const (
	schemaBulkRequest  = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	schemaBulkResponse = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
)

// bulkPattern is the route of POST /Bulk; handle gives it the body limit
// MaxBulkPayload instead of MaxBody.
const bulkPattern = "POST " + Prefix + "/Bulk"

// bulkRef starts a string that stands for the id of the resource created
// by the POST operation with that bulkId (RFC 7644 §3.7.2).
const bulkRef = "bulkId:"

// bulkRequest is the body of POST /Bulk. Operations are decoded one by
// one, so that a malformed operation fails alone.
type bulkRequest struct {
	Schemas      []string          `json:"schemas"`
	FailOnErrors json.RawMessage   `json:"failOnErrors"`
	Operations   []json.RawMessage `json:"Operations"`
}

// bulkOpWire is one operation as sent; each field is checked on its own.
type bulkOpWire struct {
	Method  json.RawMessage `json:"method"`
	BulkID  json.RawMessage `json:"bulkId"`
	Version json.RawMessage `json:"version"`
	Path    json.RawMessage `json:"path"`
	Data    json.RawMessage `json:"data"`
}

// bulkResult is one entry of the BulkResponse (RFC 7644 §3.7).
type bulkResult struct {
	Location string          `json:"location,omitempty"`
	Method   string          `json:"method"`
	BulkID   string          `json:"bulkId,omitempty"`
	Version  string          `json:"version,omitempty"`
	Status   string          `json:"status"`
	Response json.RawMessage `json:"response,omitempty"`
}

// bulkResponse is the answer to POST /Bulk.
type bulkResponse struct {
	Schemas    []string     `json:"schemas"`
	Operations []bulkResult `json:"Operations"`
}

// bulkOp is one parsed operation.
type bulkOp struct {
	method  string // upper case when valid, else as sent
	bulkID  string
	version string
	k       *kind
	id      string          // target of PUT, PATCH and DELETE; may be "bulkId:…"
	data    json.RawMessage // body of the internal request
	value   any             // data decoded, when it holds references
	refs    []string        // bulkIds referenced by id or data, sorted, distinct
	err     *scim.Error     // why the operation cannot run, found while parsing
	cyclic  bool            // on a cycle of bulkId references

	// Filled when the operation has run.
	ran     bool
	result  bulkResult
	created string // id of the resource a successful POST created
}

// bulk handles POST /Bulk (RFC 7644 §3.7). Operations run one at a time
// through the same handlers as the single endpoints; the bulk is not a
// transaction, so operations that succeeded stay when a later one fails.
// The answer is 200 with one entry per executed operation, in request
// order.
func (s *Server) bulk(w http.ResponseWriter, r *request) error {
	var br bulkRequest // up to MaxBulkPayload bytes (see handle)
	if err := readBody(r, &br); err != nil {
		return err
	}
	if !containsFold(br.Schemas, schemaBulkRequest) {
		return scim.Errorf(http.StatusBadRequest, scim.TypeInvalidSyntax, "a bulk request must list the schema %q", schemaBulkRequest)
	}
	if len(br.Operations) > MaxBulkOperations {
		return scim.Errorf(http.StatusRequestEntityTooLarge, "", "the bulk request has %d operations; the maximum (maxOperations) is %d", len(br.Operations), MaxBulkOperations)
	}
	if len(br.Operations) == 0 {
		return scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "a bulk request needs at least one entry in \"Operations\"")
	}
	failOnErrors, err := parseFailOnErrors(br.FailOnErrors)
	if err != nil {
		return err
	}

	ops := make([]*bulkOp, len(br.Operations))
	for i, raw := range br.Operations {
		ops[i] = s.parseBulkOp(raw)
	}
	defs := defineBulkIDs(ops)
	deps := bulkDeps(ops, defs)
	markCycles(ops, deps)

	errs := 0
	for i := range bulkOrder(ops, deps) {
		if err := r.Context().Err(); err != nil {
			return fmt.Errorf("scim/server: bulk request cancelled: %w", err)
		}
		op := ops[i]
		s.runBulkOp(r, op, ops, defs)
		if op.result.Status[0] >= '4' {
			errs++
			if failOnErrors > 0 && errs >= failOnErrors {
				break
			}
		}
	}

	resp := bulkResponse{Schemas: []string{schemaBulkResponse}, Operations: []bulkResult{}}
	for _, op := range ops {
		if op.ran {
			resp.Operations = append(resp.Operations, op.result)
		}
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// parseFailOnErrors returns failOnErrors (RFC 7644 §3.7.3), 0 when absent.
// A value that does not fit an int means no limit.
func parseFailOnErrors(raw json.RawMessage) (int, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	bad := scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "failOnErrors must be an integer of at least 1, not %s", clip(string(raw)))
	var n json.Number
	if raw[0] == '"' || json.Unmarshal(raw, &n) != nil { // a JSON string decodes into a json.Number too
		return 0, bad
	}
	v, err := strconv.ParseInt(string(n), 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(string(n), "-"):
		return 0, nil
	case err != nil, v < 1:
		return 0, bad
	case v > MaxBulkOperations:
		return 0, nil // more errors than operations: no limit
	}
	return int(v), nil
}

// parseBulkOp checks one operation. Problems are kept in op.err and
// reported as that operation's result.
func (s *Server) parseBulkOp(raw json.RawMessage) *bulkOp {
	op := &bulkOp{}
	var wire bulkOpWire
	if err := json.Unmarshal(raw, &wire); err != nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		op.err = scim.Errorf(http.StatusBadRequest, scim.TypeInvalidSyntax, "each entry of \"Operations\" must be a JSON object with method, path and data")
		return op
	}
	var path string
	for _, f := range []struct {
		name string
		raw  json.RawMessage
		dst  *string
	}{{"method", wire.Method, &op.method}, {"bulkId", wire.BulkID, &op.bulkID}, {"version", wire.Version, &op.version}, {"path", wire.Path, &path}} {
		if len(f.raw) == 0 || string(f.raw) == "null" {
			continue
		}
		if err := json.Unmarshal(f.raw, f.dst); err != nil && op.err == nil {
			op.err = scim.Errorf(http.StatusBadRequest, scim.TypeInvalidSyntax, "the operation's %q must be a string, not %s", f.name, clip(string(f.raw)))
		}
	}
	if op.err != nil {
		return op
	}
	switch m := strings.ToUpper(op.method); m {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		op.method = m
	case "":
		op.err = scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "the operation has no \"method\"; use POST, PUT, PATCH or DELETE")
		return op
	default:
		op.err = scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "method %q is not supported in a bulk request; use POST, PUT, PATCH or DELETE", clip(op.method))
		return op
	}
	if op.method == http.MethodPost && op.bulkID == "" {
		op.err = scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "a POST operation needs a \"bulkId\"")
		return op
	}
	if op.k, op.id, op.err = s.parseBulkPath(op.method, path); op.err != nil {
		return op
	}
	if op.method != http.MethodDelete {
		op.data = wire.Data
	}
	refs := map[string]bool{}
	if len(op.data) > 0 {
		dec := json.NewDecoder(bytes.NewReader(op.data))
		dec.UseNumber()
		if dec.Decode(&op.value) == nil {
			collectRefs(op.k, op.method, op.value, refs)
		}
		if len(refs) == 0 {
			op.value = nil // sent as is
		}
	}
	if id, ok := strings.CutPrefix(op.id, bulkRef); ok {
		refs[id] = true
	}
	for id := range refs {
		op.refs = append(op.refs, id)
	}
	slices.Sort(op.refs)
	return op
}

// parseBulkPath checks an operation's path: /Users or /Groups for POST,
// /Users/{id} or /Groups/{id} otherwise.
func (s *Server) parseBulkPath(method, path string) (*kind, string, *scim.Error) {
	bad := func() (*kind, string, *scim.Error) {
		want := "/Users or /Groups"
		if method != http.MethodPost {
			want = "/Users/{id} or /Groups/{id}"
		}
		return nil, "", scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "path %q is not valid for %s in a bulk request; use %s", clip(path), method, want)
	}
	if path == "" {
		return bad()
	}
	endpoint, escaped, hasID := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	var k *kind
	switch endpoint {
	case s.users.endpoint:
		k = s.users
	case s.groups.endpoint:
		k = s.groups
	default:
		return bad()
	}
	if method == http.MethodPost {
		if hasID {
			return bad()
		}
		return k, "", nil
	}
	if strings.ContainsAny(escaped, "/?#") {
		return bad()
	}
	id, err := url.PathUnescape(escaped)
	if err != nil || id == "" {
		return bad()
	}
	return k, id, nil
}

// runBulkOp runs one operation and records its result.
func (s *Server) runBulkOp(r *request, op *bulkOp, ops []*bulkOp, defs map[string]int) {
	op.ran = true
	op.result = bulkResult{Method: op.method, BulkID: op.bulkID}
	fail := func(err *scim.Error) {
		op.result.Status = strconv.Itoa(err.Status)
		op.result.Response, _ = json.Marshal(err)
	}
	switch {
	case op.err != nil:
		fail(op.err)
		return
	case op.cyclic:
		var refs []string
		for _, ref := range op.refs[:min(len(op.refs), 5)] {
			refs = append(refs, clip(ref))
		}
		fail(scim.Errorf(http.StatusConflict, scim.TypeInvalidValue, "the operation is part of a circular chain of bulkId references (it references %s%s)", bulkRef, strings.Join(refs, ", "+bulkRef)))
		return
	}
	ids := map[string]string{}
	for _, ref := range op.refs {
		j, ok := defs[ref]
		switch {
		case !ok:
			fail(scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "%s%s is not the bulkId of a POST operation of this bulk request", bulkRef, clip(ref)))
			return
		case ops[j].created == "":
			fail(scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "%s%s cannot be resolved: the POST operation with that bulkId failed", bulkRef, clip(ref)))
			return
		}
		ids[ref] = ops[j].created
	}
	id := op.id
	if ref, ok := strings.CutPrefix(id, bulkRef); ok {
		id = ids[ref]
	}
	data := op.data
	if op.value != nil {
		var err error
		if data, err = json.Marshal(substitute(op.k, op.method, op.value, ids)); err != nil {
			fail(scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "cannot encode the operation's data: %v", err))
			return
		}
	}
	if id != "" {
		op.result.Location = location(r.base, op.k, id)
	}

	rec := s.serveBulkOp(r, op, id, data)
	op.result.Status = strconv.Itoa(rec.status)
	op.result.Version = rec.header.Get("ETag")
	if rec.status >= 400 {
		body := bytes.TrimSpace(rec.body.Bytes())
		if !json.Valid(body) {
			body, _ = json.Marshal(scim.Errorf(rec.status, "", "%s", http.StatusText(rec.status)))
		}
		op.result.Response = body
		return
	}
	if op.method == http.MethodPost {
		var created struct {
			ID string `json:"id"`
		}
		json.Unmarshal(rec.body.Bytes(), &created)
		op.created = created.ID
		op.result.Location = rec.header.Get("Location")
	}
}

// serveBulkOp runs an operation through the handler of the single
// endpoint, as an internal request of the same tenant and context, with
// the operation's version as If-Match.
func (s *Server) serveBulkOp(r *request, op *bulkOp, id string, data []byte) (rec *bulkRecorder) {
	rec = &bulkRecorder{header: http.Header{}}
	p := "/t/" + r.tenant + "/scim/v2/" + op.k.endpoint
	if id != "" {
		p += "/" + id
	}
	hr, err := http.NewRequestWithContext(r.Context(), op.method, "/", bytes.NewReader(data))
	if err != nil {
		s.writeError(rec, r.Request, fmt.Errorf("scim/server: bulk operation request: %w", err))
		return rec
	}
	hr.URL = &url.URL{Path: p}
	hr.Host, hr.RemoteAddr, hr.TLS = r.Host, r.RemoteAddr, r.TLS
	hr.Header.Set("Content-Type", scim.MediaType)
	hr.Header.Set("Accept", scim.MediaType)
	if op.version != "" && op.method != http.MethodPost {
		hr.Header.Set("If-Match", op.version)
	}
	hr.SetPathValue("tenant", r.tenant)
	if id != "" {
		hr.SetPathValue("id", id)
	}
	hr.Body = http.MaxBytesReader(rec, hr.Body, MaxBody)
	inner := *r
	inner.Request, inner.query = hr, url.Values{} // an operation has no query string

	var f func(*kind, http.ResponseWriter, *request) error
	switch op.method {
	case http.MethodPost:
		f = s.create
	case http.MethodPut:
		f = s.replace
	case http.MethodPatch:
		f = s.modify
	default:
		f = s.remove
	}
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("scim/server: panic serving bulk operation", "method", op.method, "path", p, "panic", fmt.Sprint(v))
			rec = &bulkRecorder{header: http.Header{}}
			s.writeError(rec, hr, scim.Errorf(http.StatusInternalServerError, "", "internal error"))
		}
	}()
	if err := f(op.k, rec, &inner); err != nil {
		s.writeError(rec, hr, err)
	}
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	s.log.Debug("scim/server: bulk operation", "method", op.method, "path", p, "status", rec.status)
	return rec
}

// bulkRecorder is the in-memory http.ResponseWriter of a bulk operation.
type bulkRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

// Header returns the response headers.
func (w *bulkRecorder) Header() http.Header { return w.header }

// WriteHeader records the first status written.
func (w *bulkRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

// Write records the body.
func (w *bulkRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}

// clip shortens a value quoted in an error detail to at most 64 bytes.
func clip(s string) string {
	if len(s) <= 64 {
		return s
	}
	cut := 64
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
