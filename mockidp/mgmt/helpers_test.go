package mgmt

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idpkit/idpkit/mockidp/directory"
	"github.com/idpkit/idpkit/mockidp/provision"
)

const testToken = "00abcdefTESTtoken"

var t0 = time.Date(2024, 3, 21, 9, 0, 0, 0, time.UTC)

type env struct {
	t   *testing.T
	dir *directory.Directory
	h   *Handler
	srv *httptest.Server

	mu    sync.Mutex
	slept []time.Duration // what the engine waited between attempts
}

// sleep is the engine's Sleep: it notes the wait and returns at once.
func (e *env) sleep(_ context.Context, d time.Duration) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.slept = append(e.slept, d)
	return nil
}

// Slept returns and clears the engine's waits.
func (e *env) Slept() []time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.slept
	e.slept = nil
	return out
}

func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	now := func() time.Time { return t0 }
	e := &env{t: t, dir: directory.New(directory.Config{Now: now})}
	cfg.Directory, cfg.APIToken, cfg.Now = e.dir, testToken, now
	if cfg.Provisioner == nil {
		cfg.Provisioner = &provision.Engine{Sleep: e.sleep}
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.h = h
	mux := http.NewServeMux()
	h.Register(mux)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r resp) obj(t *testing.T) map[string]any {
	var m map[string]any
	r.json(t, &m)
	return m
}

func (e *env) do(method, path string, body any) resp {
	return e.doAuth("SSWS "+testToken, method, path, body)
}

func (e *env) doAuth(auth, method, path string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Accept", "application/json")
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

func (e *env) createUser(login string) string {
	e.t.Helper()
	first, _, _ := strings.Cut(login, "@")
	r := e.do("POST", "/api/v1/users?activate=true", map[string]any{
		"profile":     map[string]any{"login": login, "email": login, "firstName": strings.ToUpper(first[:1]) + first[1:], "lastName": "Example"},
		"credentials": map[string]any{"password": map[string]any{"value": "Correct-Horse-9"}},
	})
	if r.status != 200 {
		e.t.Fatalf("create user %s: %d %s", login, r.status, r.body)
	}
	return r.obj(e.t)["id"].(string)
}

func (e *env) createGroup(name string) string {
	e.t.Helper()
	r := e.do("POST", "/api/v1/groups", map[string]any{"profile": map[string]any{"name": name, "description": "d"}})
	if r.status != 200 {
		e.t.Fatalf("create group: %d %s", r.status, r.body)
	}
	return r.obj(e.t)["id"].(string)
}

// scimStub is a recording SCIM service that answers what Okta needs.
type scimStub struct {
	mu     sync.Mutex
	calls  []string // method and path of each request
	raw    []string // method and request URI (path and query) of each request
	users  map[string]map[string]any
	groups map[string]map[string]any
	n      int
	fail   bool // answer 500 to everything but the credential test
	// answer, when set, may answer a request itself (the stub's lock is
	// held): it returns the status (0 = not handled), headers and body.
	answer func(r *http.Request, body map[string]any) (int, map[string]string, any)
	bodies []map[string]any // the JSON body of each request (nil for none)
	srv    *httptest.Server
}

func newSCIMStub(t *testing.T) *scimStub {
	s := &scimStub{users: map[string]map[string]any{}, groups: map[string]map[string]any{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *scimStub) URL() string { return s.srv.URL + "/scim/v2" }

func (s *scimStub) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]string(nil), s.calls...)
	s.calls, s.raw, s.bodies = nil, nil, nil
	return out
}

// Bodies returns the JSON bodies of the requests since the last Calls.
func (s *scimStub) Bodies() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.bodies...)
}

// set changes the stub under its lock.
func (s *scimStub) set(f func(*scimStub)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// RawCalls is Calls with the query strings.
func (s *scimStub) RawCalls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]string(nil), s.raw...)
	s.calls, s.raw, s.bodies = nil, nil, nil
	return out
}

func (s *scimStub) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	path := strings.TrimPrefix(r.URL.Path, "/scim/v2")
	s.calls = append(s.calls, r.Method+" "+path)
	s.raw = append(s.raw, r.Method+" "+strings.TrimPrefix(r.URL.RequestURI(), "/scim/v2"))
	w.Header().Set("Content-Type", "application/scim+json")
	if r.Header.Get("Authorization") != "Bearer scim-secret" {
		s.bodies = append(s.bodies, nil)
		w.WriteHeader(401)
		io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"401","detail":"bad token"}`)
		return
	}
	write := func(status int, v any) {
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	list := func(rs []map[string]any) {
		if rs == nil {
			rs = []map[string]any{}
		}
		total, start := len(rs), 1
		if n, err := strconv.Atoi(r.URL.Query().Get("startIndex")); err == nil && n > 1 {
			start = n
		}
		rs = rs[min(start-1, len(rs)):]
		if n, err := strconv.Atoi(r.URL.Query().Get("count")); err == nil && n >= 0 && n < len(rs) {
			rs = rs[:n]
		}
		write(200, map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:ListResponse"}, "totalResults": total, "startIndex": start, "itemsPerPage": len(rs), "Resources": rs})
	}
	if s.fail && !(r.Method == "GET" && path == "/Users" && r.URL.Query().Get("filter") == "") {
		s.bodies = append(s.bodies, nil)
		write(500, map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:Error"}, "status": "500", "detail": "boom"})
		return
	}
	var body map[string]any
	json.NewDecoder(r.Body).Decode(&body)
	s.bodies = append(s.bodies, body)
	if s.answer != nil {
		if status, hdr, b := s.answer(r, body); status != 0 {
			for k, v := range hdr {
				w.Header().Set(k, v)
			}
			if b == nil {
				w.WriteHeader(status)
				return
			}
			write(status, b)
			return
		}
	}
	kind, id, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	store := s.users
	if kind == "Groups" {
		store = s.groups
	}
	switch {
	case r.Method == "GET" && id == "":
		var rs []map[string]any
		if f := r.URL.Query().Get("filter"); f != "" {
			for _, u := range store {
				if strings.Contains(strings.ToLower(f), strings.ToLower(`"`+u["userName"].(string)+`"`)) {
					rs = append(rs, u)
				}
			}
		} else {
			for _, k := range slices.Sorted(maps.Keys(store)) {
				rs = append(rs, store[k])
			}
		}
		list(rs)
	case r.Method == "POST" && id == "":
		s.n++
		body["id"] = kind[:1] + string(rune('0'+s.n))
		store[body["id"].(string)] = body
		write(201, body)
	case r.Method == "GET":
		if u, ok := store[id]; ok {
			write(200, u)
			return
		}
		write(404, map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:Error"}, "status": "404", "detail": "no"})
	case r.Method == "PUT":
		body["id"] = id
		store[id] = body
		write(200, body)
	case r.Method == "PATCH":
		if kind == "Users" {
			if ops, ok := body["Operations"].([]any); ok && len(ops) > 0 {
				if v, ok := ops[0].(map[string]any)["value"].(map[string]any); ok {
					if a, ok := v["active"]; ok && store[id] != nil {
						store[id]["active"] = a
					}
				}
			}
			write(200, store[id])
			return
		}
		w.WriteHeader(204)
	case r.Method == "DELETE":
		delete(store, id)
		w.WriteHeader(204)
	}
}
