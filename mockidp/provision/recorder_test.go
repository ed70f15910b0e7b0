package provision

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// basePath is where the recorder serves SCIM; recorded paths are relative
// to it, as in okta-traffic.md.
const basePath = "/t/acme/scim/v2"

// testToken is the bearer secret the tests paste; goldens show it as <token>.
const testToken = "s3cret-scim-token"

// exchange is one request the engine sent and the canned answer it got.
type exchange struct {
	Method   string            `json:"method"`
	Path     string            `json:"path"`
	Headers  map[string]string `json:"headers"`
	Body     any               `json:"body,omitempty"`
	Response response          `json:"response"`
}

// response is a canned answer.
type response struct {
	Status int               `json:"status"`
	Body   any               `json:"body,omitempty"`
	Header map[string]string `json:"headers,omitempty"` // such as Retry-After
}

// recordedHeaders are the request headers a golden keeps.
var recordedHeaders = []string{"Accept", "Accept-Charset", "Authorization", "Content-Type", "User-Agent"}

// recorder is an httptest SCIM server that answers with canned responses in
// order and records every request.
type recorder struct {
	srv       *httptest.Server
	mu        sync.Mutex
	answers   []response
	got       []exchange
	passwords []string
}

func newRecorder(t *testing.T, answers []response) *recorder {
	t.Helper()
	rec := &recorder{answers: answers}
	rec.srv = httptest.NewServer(http.HandlerFunc(rec.serve))
	t.Cleanup(rec.srv.Close)
	return rec
}

func (rec *recorder) target() Target {
	return Target{BaseURL: rec.srv.URL + basePath, Token: testToken}
}

func (rec *recorder) serve(w http.ResponseWriter, r *http.Request) {
	x := exchange{Method: r.Method, Path: strings.TrimPrefix(r.RequestURI, basePath), Headers: map[string]string{}}
	for _, k := range recordedHeaders {
		v := r.Header.Get(k)
		if v == "" {
			continue
		}
		if k == "Authorization" && v == "Bearer "+testToken {
			v = "Bearer <token>"
		}
		x.Headers[k] = v
	}
	b, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(b) > 0 {
		if err := json.Unmarshal(b, &x.Body); err != nil {
			x.Body = "not JSON: " + string(b)
		}
		if m, ok := x.Body.(map[string]any); ok {
			rec.maskPassword(m)
			ops, _ := m["Operations"].([]any)
			for _, op := range ops {
				if o, ok := op.(map[string]any); ok {
					if v, ok := o["value"].(map[string]any); ok {
						rec.maskPassword(v)
					}
				}
			}
		}
	}
	if len(rec.got) < len(rec.answers) {
		x.Response = rec.answers[len(rec.got)]
	} else {
		x.Response = response{Status: 500, Body: map[string]any{
			"schemas": []any{"urn:ietf:params:scim:api:messages:2.0:Error"}, "status": "500", "detail": "recorder: unexpected request"}}
	}
	rec.got = append(rec.got, x)
	for k, v := range x.Response.Header {
		w.Header().Set(k, v)
	}
	if x.Response.Body != nil {
		w.Header().Set("Content-Type", "application/scim+json")
	}
	w.WriteHeader(x.Response.Status)
	if x.Response.Body != nil {
		json.NewEncoder(w).Encode(x.Response.Body)
	}
}

// maskPassword records m's password and shows it as <password>.
func (rec *recorder) maskPassword(m map[string]any) {
	if p, ok := m["password"].(string); ok {
		rec.passwords = append(rec.passwords, p)
		m["password"] = "<password>"
	}
}

// exchanges returns what was recorded, passed through JSON so that it
// compares with a decoded golden.
func (rec *recorder) exchanges(t *testing.T) []exchange {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return roundTrip(t, rec.got)
}

func roundTrip(t *testing.T, xs []exchange) []exchange {
	t.Helper()
	b, err := json.Marshal(xs)
	if err != nil {
		t.Fatal(err)
	}
	var out []exchange
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// okta is the set of headers Okta sends on every request; okta(true) adds
// the body's Content-Type.
func okta(body bool) map[string]string {
	h := map[string]string{
		"Accept":         "application/scim+json",
		"Accept-Charset": "utf-8",
		"Authorization":  "Bearer <token>",
		"User-Agent":     "Okta SCIM Client 1.0.0",
	}
	if body {
		h["Content-Type"] = "application/scim+json; charset=utf-8"
	}
	return h
}
