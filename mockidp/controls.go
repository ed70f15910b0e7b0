package mockidp

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idpkit/idpkit/mockidp/directory"
	"github.com/idpkit/idpkit/mockidp/mgmt"
	"github.com/idpkit/idpkit/mockidp/op"
)

// ControlsPath is where the test controls are served: the Go controls of
// Server over HTTP, for tests written in any language. Every request needs
// "Authorization: SSWS <api token>", the management API's token. Bodies
// are JSON objects (at most ControlsMaxBody bytes) whose unknown fields
// are refused; errors are Okta error objects (401 E0000011 for a bad token,
// 400 E0000001 for bad input, 404 E0000007 for an unknown user, group, app
// or route). GET /__mock/ lists the routes.
const ControlsPath = "/__mock/"

// ControlsMaxBody bounds the body of a control request.
const ControlsMaxBody = 1 << 20

// Control describes one route of the test controls.
type Control struct {
	Method      string `json:"method"`
	Path        string `json:"path"`
	Description string `json:"description"`
}

// controls serves ControlsPath.
type controls struct {
	s     *Server
	token [32]byte
	mux   *http.ServeMux
	index []Control
}

func newControls(s *Server) *controls {
	c := &controls{s: s, token: sha256.Sum256([]byte(s.APIToken)), mux: http.NewServeMux()}
	c.route("GET", "", "this list of the controls", c.getIndex)
	c.route("POST", "users", `create a user: {"login","email?","firstName","lastName","password?","status?"} → 201 the Okta user (ACTIVE needs a password)`, c.postUser)
	c.route("POST", "groups", `create a group: {"name","description?","members?":[logins]} → 201 the Okta group`, c.postGroup)
	c.route("POST", "apps", `create an app as in a seed file: {"label","type":"oidc"|"scim",…} → 201 the Okta app (oidc: credentials.oauthClient.client_id and client_secret)`, c.postApp)
	c.route("POST", "assignments", `assign to an app (id or label): {"app","users?":[logins],"groups?":[names]} → 200 {"users":n,"groups":n}; SCIM apps are provisioned`, c.postAssignment)
	c.route("POST", "login", `queue the user the next authorize request signs in, without the form: {"login"|"userId","clientId?","claims?":{…}} (or an array of them) → 202 {"queued":n}; a user not assigned to the app gets access_denied there, as in Okta`, c.postLogin)
	c.route("DELETE", "login", "drop every queued login → 204", c.deleteLogins)
	c.route("POST", "errors", `queue an endpoint error or delay: {"endpoint","authServer?","status","error?","errorDescription?","body?","headers?":{k:v},"delayMs?"|"delay?","sticky?"} → 202`, c.postError)
	c.route("DELETE", "errors", "drop every queued error and delay → 204", c.deleteErrors)
	c.route("GET", "faults", `the armed and the available faults → {"armed":[{name,sticky}],"available":[{name,description,module,expect}]}`, c.getFaults)
	c.route("POST", "faults", `arm a fault, one-shot unless sticky: {"name","sticky?"} → 202 {"armed":[…]}`, c.postFault)
	c.route("DELETE", "faults", "disarm every fault → 204", c.deleteFaults)
	c.route("GET", "clock", `the server's clock → {"now":"RFC 3339"}`, c.getClock)
	c.route("POST", "clock", `move the clock on: {"advance":"90s"} or {"advanceMs":90000}, or back to the real time: {"reset":true} → 200 {"now":"RFC 3339"} (reset leaves it alone)`, c.postClock)
	c.route("POST", "keys/rotate", `rotate the signing keys → 200 {"kids":[published kids],"signing":"kid"}`, c.postRotate)
	c.route("GET", "requests", `the OIDC request log, oldest first, ?endpoint=token to filter → {"requests":[…]}`, c.getRequests)
	c.route("DELETE", "requests", "empty the request log → 204", c.deleteRequests)
	c.route("GET", "tasks", `provisioning tasks, oldest first, filtered by ?app=ID&status=FAILED&action=user.create → {"tasks":[…]}`, s.mgmt.ServeTasks)
	c.route("POST", "tasks/{id}/retry", "retry a FAILED or STOPPED provisioning task (the admin's Retry) → 200 the task", s.mgmt.ServeRetryTask)
	c.route("POST", "trusted-origins", `add a Trusted Origin (CORS): {"origin":"http://localhost:3000"} → 201 {"origin"}`, c.postTrustedOrigin)
	c.route("POST", "reset", "disarm faults, drop queued logins and errors, empty the request log (data and the clock stay) → 204", c.postReset)
	return c
}

func (c *controls) route(method, path, desc string, h http.HandlerFunc) {
	pattern := method + " " + ControlsPath + path
	if path == "" {
		pattern += "{$}"
	}
	c.mux.HandleFunc(pattern, h)
	c.index = append(c.index, Control{Method: method, Path: ControlsPath + path, Description: desc})
}

// ServeHTTP authenticates and routes one control request.
func (c *controls) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			c.s.log.Error("mockidp: controls: panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v))
			writeOktaError(w, http.StatusInternalServerError, "E0000009", "Internal Server Error")
		}
	}()
	w.Header().Set("Cache-Control", "no-store")
	if !c.authorized(r) {
		writeOktaError(w, http.StatusUnauthorized, "E0000011", "Invalid token provided",
			"send the mock's management API token: Authorization: SSWS <token>")
		return
	}
	if _, pattern := c.mux.Handler(r); pattern == "" {
		probe := r.Clone(r.Context())
		var allowed []string
		for _, m := range []string{"GET", "POST", "DELETE"} {
			probe.Method = m
			if _, p := c.mux.Handler(probe); p != "" {
				allowed = append(allowed, m)
			}
		}
		if len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			writeOktaError(w, http.StatusMethodNotAllowed, "E0000022", "The endpoint does not support the provided HTTP method",
				r.URL.Path+" takes "+strings.Join(allowed, ", "))
			return
		}
		writeOktaError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+r.URL.Path+" (Endpoint)",
			"GET "+ControlsPath+" lists the controls")
		return
	}
	c.s.log.Debug("mockidp: control", "method", r.Method, "path", r.URL.Path)
	c.mux.ServeHTTP(w, r)
}

func (c *controls) authorized(r *http.Request) bool {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "SSWS") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	return subtle.ConstantTimeCompare(got[:], c.token[:]) == 1
}

// writeOktaError writes an Okta error object.
func writeOktaError(w http.ResponseWriter, status int, code, summary string, causes ...string) {
	e := mgmt.Error{ErrorCode: code, ErrorSummary: summary, ErrorLink: code, ErrorID: "oae" + directory.RandomString(22), ErrorCauses: []mgmt.ErrorCause{}}
	for _, cause := range causes {
		e.ErrorCauses = append(e.ErrorCauses, mgmt.ErrorCause{ErrorSummary: cause})
	}
	writeJSON(w, status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"errorCode":"E0000009","errorSummary":"Internal Server Error","errorLink":"E0000009","errorId":"oae0","errorCauses":[]}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// invalid answers 400 E0000001 with one cause per line of why.
func invalid(w http.ResponseWriter, why string) {
	writeOktaError(w, http.StatusBadRequest, "E0000001", "Api validation failed: request", strings.Split(why, "\n")...)
}

// fail answers an error of the Server's methods, the directory or mgmt in
// Okta's shape.
func (c *controls) fail(w http.ResponseWriter, err error) {
	var (
		in *inputError
		fe *directory.FieldError
		nf *directory.NotFoundError
		oe *mgmt.Error
	)
	switch {
	case errors.As(err, &in):
		var causes []string
		if inner := errors.Unwrap(in.err); inner != nil {
			for _, e := range unjoin(inner) {
				causes = append(causes, e.Error())
			}
		}
		if len(causes) == 0 {
			causes = []string{in.Error()}
		}
		writeOktaError(w, http.StatusBadRequest, "E0000001", "Api validation failed: request", causes...)
	case errors.As(err, &oe):
		causes := make([]string, 0, len(oe.ErrorCauses))
		for _, cause := range oe.ErrorCauses {
			causes = append(causes, cause.ErrorSummary)
		}
		status := oe.Status
		if status == 0 {
			status = http.StatusBadRequest
		}
		writeOktaError(w, status, oe.ErrorCode, oe.ErrorSummary, causes...)
	case errors.As(err, &fe):
		writeOktaError(w, http.StatusBadRequest, "E0000001", "Api validation failed: "+fe.Field, fe.Field+": "+fe.Message)
	case errors.As(err, &nf):
		writeOktaError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+nf.ID+" ("+nf.Kind+")")
	case errors.Is(err, directory.ErrLifecycle):
		writeOktaError(w, http.StatusBadRequest, "E0000001", "Api validation failed: status", err.Error())
	default:
		// The provider's controls refuse bad input with plain errors.
		writeOktaError(w, http.StatusBadRequest, "E0000001", "Api validation failed: request", err.Error())
	}
}

// readBody reads a request body of at most ControlsMaxBody bytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, ControlsMaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeOktaError(w, http.StatusRequestEntityTooLarge, "E0000001", "Api validation failed: request",
				fmt.Sprintf("the request body is larger than %d bytes (1 MiB)", ControlsMaxBody))
			return nil, false
		}
		invalid(w, "the request body could not be read: "+err.Error())
		return nil, false
	}
	return b, true
}

// decode reads the JSON body into v: unknown fields, trailing data, an
// empty body and bodies over ControlsMaxBody are refused with a cause
// that says what to send.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	b, ok := readBody(w, r)
	return ok && decodeBytes(w, b, v)
}

func decodeBytes(w http.ResponseWriter, b []byte, v any) bool {
	if len(bytes.TrimSpace(b)) == 0 {
		invalid(w, "the request body is empty; send a JSON object with the fields "+strings.Join(jsonFields(v), ", "))
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		invalid(w, describeJSONError(err, v))
		return false
	}
	if dec.More() {
		invalid(w, "the request body holds more than one JSON value")
		return false
	}
	return true
}

// describeJSONError turns a decoding error into a cause a person can act on.
func describeJSONError(err error, v any) string {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("the request body is not valid JSON: %v (at byte %d)", syn, syn.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return fmt.Sprintf("the request body must be a JSON %s, not %s", jsonKind(typ.Type), typ.Value)
		}
		return fmt.Sprintf("field %q must be a JSON %s, not %s", typ.Field, jsonKind(typ.Type), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the request body is not valid JSON: it ends too early"
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		fields := jsonFields(v)
		if unq, err := strconv.Unquote(name); err == nil {
			if s := suggest(unq, fields); s != "" {
				return fmt.Sprintf("unknown field %s (did you mean %q?); the fields are %s", name, s, strings.Join(fields, ", "))
			}
		}
		return "unknown field " + name + "; the fields are " + strings.Join(fields, ", ")
	}
	return "the request body is not valid JSON: " + strings.TrimPrefix(err.Error(), "json: ")
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Float64:
		return "number"
	case reflect.Slice:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return t.String()
}

// jsonFields lists the JSON names of the struct v points at (or of the
// element of a slice).
func jsonFields(v any) []string {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// render answers with the management API's own JSON for an object (GET
// path), so the controls return exactly what /api/v1 returns.
func (c *controls) render(w http.ResponseWriter, status int, path, id string) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	rec := httptest.NewRecorder()
	c.s.mgmt.ServeInternal(rec, req)
	if rec.Code != http.StatusOK {
		c.s.log.Warn("mockidp: controls: could not read back a created object", "path", path, "status", rec.Code)
		writeJSON(w, status, map[string]string{"id": id})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(rec.Body.Bytes())
}

func (c *controls) getIndex(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"controls": c.index})
}

func (c *controls) postUser(w http.ResponseWriter, r *http.Request) {
	var u SeedUser
	if !decode(w, r, &u) {
		return
	}
	du, err := c.s.AddUser(u)
	if err != nil {
		c.fail(w, err)
		return
	}
	c.render(w, http.StatusCreated, "/api/v1/users/"+du.ID, du.ID)
}

func (c *controls) postGroup(w http.ResponseWriter, r *http.Request) {
	var g SeedGroup
	if !decode(w, r, &g) {
		return
	}
	dg, err := c.s.AddGroup(g)
	if err != nil {
		c.fail(w, err)
		return
	}
	c.render(w, http.StatusCreated, "/api/v1/groups/"+dg.ID, dg.ID)
}

func (c *controls) postApp(w http.ResponseWriter, r *http.Request) {
	var a SeedApp
	if !decode(w, r, &a) {
		return
	}
	app, err := c.s.AddApp(a)
	if err != nil {
		c.fail(w, err)
		return
	}
	c.render(w, http.StatusCreated, "/api/v1/apps/"+app.ID, app.ID)
}

func (c *controls) postAssignment(w http.ResponseWriter, r *http.Request) {
	var a SeedAssignment
	if !decode(w, r, &a) {
		return
	}
	if err := c.s.Assign(a); err != nil {
		c.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"users": len(a.Users), "groups": len(a.Groups)})
}

// loginBody is one queued login of POST /__mock/login.
type loginBody struct {
	Login    string         `json:"login,omitempty"`
	UserID   string         `json:"userId,omitempty"`
	ClientID string         `json:"clientId,omitempty"`
	Claims   map[string]any `json:"claims,omitempty"`
}

func (c *controls) postLogin(w http.ResponseWriter, r *http.Request) {
	b, ok := readBody(w, r)
	if !ok {
		return
	}
	var logins []loginBody
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '[' {
		if !decodeBytes(w, b, &logins) {
			return
		}
		if len(logins) == 0 {
			invalid(w, "the array of logins is empty")
			return
		}
	} else {
		var one loginBody
		if !decodeBytes(w, b, &one) {
			return
		}
		logins = []loginBody{one}
	}
	queued := make([]op.QueuedLogin, 0, len(logins))
	for i, l := range logins {
		where := ""
		if len(logins) > 1 {
			where = fmt.Sprintf("[%d]: ", i)
		}
		if (l.Login == "") == (l.UserID == "") {
			invalid(w, where+`name the user by "login" or by "userId" (one of them)`)
			return
		}
		u, err := c.s.dir.User(l.Login + l.UserID)
		if err != nil || (l.UserID != "" && u.ID != l.UserID) {
			writeOktaError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+l.Login+l.UserID+" (User)")
			return
		}
		if u.Status != directory.StatusActive {
			invalid(w, fmt.Sprintf("%suser %s is %s; only an ACTIVE user can sign in (create it with a password)", where, u.Profile.Login, u.Status))
			return
		}
		if l.ClientID != "" {
			if _, ok := c.s.dir.Client(l.ClientID); !ok {
				writeOktaError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+l.ClientID+" (AppInstance)",
					"clientId must be the client_id of an ACTIVE OIDC app")
				return
			}
		}
		queued = append(queued, op.QueuedLogin{UserID: l.UserID, Login: l.Login, ClientID: l.ClientID, Claims: l.Claims})
	}
	for i, l := range queued {
		if err := c.s.QueueLogin(l); err != nil {
			if i > 0 {
				err = fmt.Errorf("%w (the %d logins before it were queued)", err, i)
			}
			c.fail(w, err)
			return
		}
	}
	writeJSON(w, http.StatusAccepted, map[string]int{"queued": len(queued)})
}

func (c *controls) deleteLogins(w http.ResponseWriter, r *http.Request) {
	c.s.op.ClearLogins()
	w.WriteHeader(http.StatusNoContent)
}

// endpoints are the endpoint names of POST /__mock/errors.
var endpoints = []string{op.EndpointDiscovery, op.EndpointAuthorize, op.EndpointToken, op.EndpointKeys, op.EndpointUserinfo, op.EndpointIntrospect, op.EndpointRevoke, op.EndpointLogout}

// errorBody is POST /__mock/errors.
type errorBody struct {
	Endpoint         string            `json:"endpoint"`
	AuthServer       string            `json:"authServer,omitempty"`
	Status           int               `json:"status,omitempty"`
	Error            string            `json:"error,omitempty"`
	ErrorDescription string            `json:"errorDescription,omitempty"`
	Body             string            `json:"body,omitempty"`
	Headers          map[string]string `json:"headers,omitempty"`
	DelayMs          *int64            `json:"delayMs,omitempty"`
	Delay            string            `json:"delay,omitempty"`
	Sticky           bool              `json:"sticky,omitempty"`
}

func (c *controls) postError(w http.ResponseWriter, r *http.Request) {
	var b errorBody
	if !decode(w, r, &b) {
		return
	}
	if !slices.Contains(endpoints, b.Endpoint) {
		invalid(w, fmt.Sprintf("endpoint %q: use one of %s", b.Endpoint, strings.Join(endpoints, ", ")))
		return
	}
	var delay time.Duration
	switch {
	case b.DelayMs != nil && b.Delay != "":
		invalid(w, `give "delayMs" or "delay", not both`)
		return
	case b.DelayMs != nil:
		d, ok := millis(*b.DelayMs)
		if !ok {
			invalid(w, fmt.Sprintf("delayMs %d is out of range: at most %d milliseconds", *b.DelayMs, maxMillis))
			return
		}
		delay = d
	case b.Delay != "":
		d, err := time.ParseDuration(b.Delay)
		if err != nil {
			invalid(w, fmt.Sprintf(`delay %q is not a duration such as "1500ms" or "3s"`, b.Delay))
			return
		}
		delay = d
	}
	if delay < 0 {
		invalid(w, "the delay must not be negative")
		return
	}
	if b.Status == 0 && delay == 0 {
		invalid(w, `give "status" (an HTTP status, 200 to 599), "delayMs" (or "delay"), or both`)
		return
	}
	if b.Status != 0 && (b.Status < 200 || b.Status > 599) {
		invalid(w, fmt.Sprintf("status %d is not an HTTP status the provider can send: use 200 to 599", b.Status))
		return
	}
	e := op.QueuedError{Endpoint: b.Endpoint, AuthServer: b.AuthServer, Status: b.Status, Error: b.Error, Description: b.ErrorDescription, Body: b.Body, Delay: delay, Sticky: b.Sticky}
	if len(b.Headers) > 0 {
		e.Header = http.Header{}
		for k, v := range b.Headers {
			e.Header.Set(k, v)
		}
	}
	if err := c.s.QueueError(e); err != nil {
		c.fail(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]int{"queued": 1})
}

func (c *controls) deleteErrors(w http.ResponseWriter, r *http.Request) {
	c.s.op.ClearErrors()
	w.WriteHeader(http.StatusNoContent)
}

func (c *controls) armed() []op.Fault {
	armed := c.s.op.ArmedFaults()
	if armed == nil {
		armed = []op.Fault{}
	}
	return armed
}

func (c *controls) getFaults(w http.ResponseWriter, r *http.Request) {
	available := op.FaultNames()
	if available == nil {
		available = []op.FaultInfo{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"armed": c.armed(), "available": available})
}

func (c *controls) postFault(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Name   string `json:"name"`
		Sticky bool   `json:"sticky,omitempty"`
	}
	if !decode(w, r, &b) {
		return
	}
	if err := c.s.ArmFault(b.Name, b.Sticky); err != nil {
		if errors.Is(err, op.ErrUnknownFault) {
			var names []string
			for _, f := range op.FaultNames() {
				names = append(names, f.Name)
			}
			invalid(w, fmt.Sprintf("unknown fault %q; the faults are %s (GET %sfaults describes them)", b.Name, strings.Join(names, ", "), ControlsPath))
			return
		}
		c.fail(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"armed": c.armed()})
}

func (c *controls) deleteFaults(w http.ResponseWriter, r *http.Request) {
	c.s.DisarmFaults()
	w.WriteHeader(http.StatusNoContent)
}

func (c *controls) writeNow(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, map[string]string{"now": c.s.Now().UTC().Format(time.RFC3339Nano)})
}

func (c *controls) getClock(w http.ResponseWriter, r *http.Request) { c.writeNow(w) }

func (c *controls) postClock(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Advance   string `json:"advance,omitempty"`
		AdvanceMs *int64 `json:"advanceMs,omitempty"`
		Reset     *bool  `json:"reset,omitempty"`
	}
	if !decode(w, r, &b) {
		return
	}
	given := 0
	for _, set := range []bool{b.Advance != "", b.AdvanceMs != nil, b.Reset != nil} {
		if set {
			given++
		}
	}
	if given != 1 || b.Reset != nil && !*b.Reset {
		invalid(w, `give one of "advance" (a duration such as "90s" or "24h"), "advanceMs" (milliseconds) or "reset": true (back to the real time)`)
		return
	}
	if b.Reset != nil {
		c.s.ResetClock()
		c.writeNow(w)
		return
	}
	var d time.Duration
	switch {
	case b.AdvanceMs != nil:
		var ok bool
		if d, ok = millis(*b.AdvanceMs); !ok {
			invalid(w, fmt.Sprintf("advanceMs %d is out of range: at most %d milliseconds", *b.AdvanceMs, maxMillis))
			return
		}
	default:
		var err error
		if d, err = time.ParseDuration(b.Advance); err != nil {
			invalid(w, fmt.Sprintf(`advance %q is not a duration such as "90s" or "24h"`, b.Advance))
			return
		}
	}
	if d < 0 {
		invalid(w, `the clock only moves forward; advance must not be negative (send {"reset":true} to go back to the real time)`)
		return
	}
	if !c.s.advance(d) {
		invalid(w, "the clock cannot move that far: the mock's clock runs at most about 292 years ahead of the real one")
		return
	}
	c.writeNow(w)
}

// maxMillis is the largest millisecond count a time.Duration holds.
const maxMillis = math.MaxInt64 / int64(time.Millisecond)

// millis turns a …Ms field into a duration; ok is false when it does not
// fit one (it would wrap round, e.g. 2^62 ms to 0).
func millis(ms int64) (time.Duration, bool) {
	if ms > maxMillis || ms < -maxMillis {
		return 0, false
	}
	return time.Duration(ms) * time.Millisecond, true
}

func (c *controls) postRotate(w http.ResponseWriter, r *http.Request) {
	c.s.RotateKeys()
	kids, signing := c.s.op.KeyIDs()
	if kids == nil {
		kids = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"kids": kids, "signing": signing})
}

func (c *controls) getRequests(w http.ResponseWriter, r *http.Request) {
	want := r.URL.Query().Get("endpoint")
	if want != "" && !slices.Contains(endpoints, want) {
		invalid(w, fmt.Sprintf("endpoint %q: use one of %s", want, strings.Join(endpoints, ", ")))
		return
	}
	out := []op.Request{}
	for _, req := range c.s.Requests() {
		if want == "" || req.Endpoint == want {
			out = append(out, req)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"requests": out})
}

func (c *controls) deleteRequests(w http.ResponseWriter, r *http.Request) {
	c.s.ResetRequests()
	w.WriteHeader(http.StatusNoContent)
}

func (c *controls) postTrustedOrigin(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Origin string `json:"origin"`
	}
	if !decode(w, r, &b) {
		return
	}
	if err := checkOrigin(b.Origin); err != nil {
		invalid(w, "origin "+err.Error())
		return
	}
	origin := strings.TrimSuffix(b.Origin, "/")
	if err := c.s.op.AddTrustedOrigin(origin); err != nil {
		c.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"origin": origin})
}

func (c *controls) postReset(w http.ResponseWriter, r *http.Request) {
	c.s.Reset()
	w.WriteHeader(http.StatusNoContent)
}
