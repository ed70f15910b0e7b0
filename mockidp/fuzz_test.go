package mockidp

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/idpkit/idpkit/mockidp/mgmt"
)

// FuzzLoadSeed feeds arbitrary seed files, JSON and YAML, to the loader:
// it never panics, and a seed it accepts means the same thing once written
// back as JSON (the two formats describe one org).
func FuzzLoadSeed(f *testing.F) {
	for _, name := range []string{"seed.json", "seed.yaml"} {
		b, err := readTestdata(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{}`, `[]`, `null`, ``, "\xef\xbb\xbf{}", `{"users":[{"login":"a@example.com"}]} {}`,
		`{"users":[{"login":"a@example.com","nick":"x"}]}`, `{"apps":[{"label":"x","type":"oidc","clientId":"a/b"}]}`,
		"users:\n  - login: a@example.com\n    firstName: A\n    lastName: B\n",
		"users:\n  - &u {login: a@example.com}\n  - *u\n", "a: &a [*a]\n", "a: &a {<<: *a}\n", "a: &a {x: 1}\nb: &b {<<: [*a, *a]}\nc: {<<: [*b, *b]}\n", "---\n---\n", "users: !!binary aGVsbG8=\n",
		"apps:\n  - label: X\n    type: scim\n    kind: CUSTOM\n    baseUrl: http://127.0.0.1:1/scim/v2\n",
		"assignments:\n  - app: nope\n    users: [nobody]\n", "trustedOrigins: [\"null\", \"*\", \"http://a.com/path\"]\n",
		"authServers: [v1, \"..\", \"a/b\"]\n", "users:\n  - login: \"a\\0@example.com\"\n", "{\"users\":[{\"login\":\"\xff@x.y\"}]}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		seed, err := LoadSeed(bytes.NewReader(data))
		if err != nil {
			if seed != nil {
				t.Fatalf("LoadSeed returned a seed with the error %v", err)
			}
			if !strings.HasPrefix(err.Error(), "mockidp: seed: ") {
				t.Fatalf("error %q lacks the mockidp: seed: prefix", err)
			}
			return
		}
		b, err := json.Marshal(seed)
		if err != nil {
			t.Fatalf("an accepted seed does not encode: %v", err)
		}
		again, err := LoadSeed(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("an accepted seed, written as JSON, is refused: %v\n%s", err, b)
		}
		if diff := cmp.Diff(seed, again, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("the seed changed when written as JSON (-before +after):\n%s", diff)
		}
	})
}

// fuzzMethods are the methods FuzzControls picks from.
var fuzzMethods = []string{"GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS", "G E T", ""}

// fuzzRoutes are the paths FuzzControls picks from, under /__mock/.
var fuzzRoutes = []string{"", "users", "groups", "apps", "assignments", "login", "errors", "faults", "clock",
	"keys/rotate", "requests", "tasks", "tasks/TASK/retry", "trusted-origins", "reset", "nope"}

// FuzzControls sends arbitrary methods, paths, queries and bodies to the
// test controls: every answer is JSON (or an empty 204), below 500, an
// Okta error object when it is an error, and the org stays readable
// through the management API.
func FuzzControls(f *testing.F) {
	seeds := []struct {
		method, route       uint8
		suffix, query, body string
	}{
		{1, 1, "", "", `{"login":"fz@example.com","firstName":"F","lastName":"Z","password":"Correct-Horse-9"}`},
		{1, 1, "", "", `{"login":"a\u0000b@example.com","firstName":"A","lastName":"B"}`},
		{1, 2, "", "", `{"name":"G","members":["alice@example.com","nobody@example.com"]}`},
		{1, 3, "", "", `{"label":"CI","type":"oidc","clientId":"0oafz","redirectUris":["http://127.0.0.1:3000/cb"]}`},
		{1, 3, "", "", `{"label":"X","type":"oidc","clientId":"../../x","redirectUris":["javascript://x/%0a"]}`},
		{1, 3, "", "", `{"label":"S","type":"scim","baseUrl":"http://127.0.0.1:1/scim/v2","token":"t","create":true}`},
		{1, 4, "", "", `{"app":"S","users":["alice@example.com"],"groups":["G"]}`},
		{1, 5, "", "", `[{"login":"alice@example.com","claims":{"a":[1,{"b":null}]}},{"userId":"x"}]`},
		{2, 5, "", "", ``},
		{1, 6, "", "", `{"endpoint":"token","status":503,"headers":{"Retry-After":"1","X":"a\r\nb"},"delayMs":4611686018427387904}`},
		{1, 6, "", "", `{"endpoint":"authorize","status":302,"delay":"-5s","sticky":true}`},
		{1, 7, "", "", `{"name":"wrong-aud","sticky":true}`},
		{1, 7, "", "", `{"name":"nope"}`},
		{0, 7, "", "", ``},
		{1, 8, "", "", `{"advance":"2562047h"}`},
		{1, 8, "", "", `{"advanceMs":9223372036854775807}`},
		{1, 8, "", "", `{"advance":"1e9h"}`},
		{1, 9, "", "", ``},
		{0, 10, "", "endpoint=token&endpoint=keys", ``},
		{0, 11, "", "app=nope&status=BOGUS", ``},
		{1, 12, "", "", ``},
		{1, 13, "", "", `{"origin":"null"}`},
		{1, 13, "", "", `{"origin":"HTTP://A.COM:80"}`},
		{1, 14, "", "", `garbage`},
		{0, 0, "../api/v1/users", "", ``},
		{0, 0, "%2e%2e/api/v1/users", "", ``},
		{3, 1, "", "", `{}`},
		{1, 1, "", "", strings.Repeat("[", 100000)},
	}
	for _, s := range seeds {
		f.Add(s.method, s.route, s.suffix, s.query, s.body)
	}
	srv := fuzzServer(f)
	var taskID string
	if tasks := srv.Tasks(""); len(tasks) > 0 {
		taskID = tasks[0].ID
	}
	h := srv.Handler()
	f.Fuzz(func(t *testing.T, method, route uint8, suffix, query, body string) {
		m := fuzzMethods[int(method)%len(fuzzMethods)]
		path := ControlsPath + strings.ReplaceAll(fuzzRoutes[int(route)%len(fuzzRoutes)], "TASK", taskID) + suffix
		if !utf8Path(path) {
			return
		}
		req := &http.Request{
			Method: m, URL: &url.URL{Path: path, RawQuery: query}, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header:     http.Header{"Authorization": {"SSWS " + srv.APIToken}, "Content-Type": {"application/json"}},
			Body:       io.NopCloser(strings.NewReader(body)),
			Host:       "127.0.0.1",
			RequestURI: path,
		}
		req = req.WithContext(t.Context())
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s?%s %q: %d %s", m, path, query, body, rec.Code, rec.Body)
		}
		if rec.Code == http.StatusNoContent {
			return
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("%s %s: Content-Type %q: %s", m, path, ct, rec.Body)
		}
		if rec.Code >= 400 {
			var e mgmt.Error
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.ErrorCode == "" || e.ErrorCauses == nil {
				t.Fatalf("%s %s: %d is not an Okta error object (%v): %s", m, path, rec.Code, err, rec.Body)
			}
		} else if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s: %d with a body that is not JSON: %s", m, path, rec.Code, rec.Body)
		}
		// The org stays readable in Okta's shapes.
		for _, p := range []string{"/api/v1/users", "/api/v1/groups", "/api/v1/apps"} {
			r := httptest.NewRequest(http.MethodGet, p, nil)
			out := httptest.NewRecorder()
			srv.Management().ServeInternal(out, r)
			if out.Code != 200 || !json.Valid(out.Body.Bytes()) {
				t.Fatalf("after %s %s: GET %s: %d %s", m, path, p, out.Code, out.Body)
			}
		}
	})
}

// utf8Path reports whether a fuzzed path can be a request path at all.
func utf8Path(p string) bool {
	u, err := url.Parse(p)
	return err == nil && u.Path == p
}

// fuzzServer is a seeded org whose SCIM requests all fail at once (no
// network, no retries), so provisioning through the controls stays fast.
func fuzzServer(f *testing.F) *Server {
	f.Helper()
	b, err := readTestdata("seed.json")
	if err != nil {
		f.Fatal(err)
	}
	seed, err := LoadSeed(bytes.NewReader(b))
	if err != nil {
		f.Fatal(err)
	}
	fail := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusBadRequest, Header: http.Header{"Content-Type": {"application/scim+json"}},
			Body: io.NopCloser(strings.NewReader(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","detail":"fuzz"}`)), Request: r}, nil
	})}
	seed.Apps = append(seed.Apps, SeedApp{Label: "S", Type: SeedAppSCIM, BaseURL: "http://scim.invalid/scim/v2", Token: "t", Create: true, Update: true, Deactivate: true})
	seed.Assignments = append(seed.Assignments, SeedAssignment{App: "S", Users: []string{"alice@example.com"}})
	srv, err := New(Config{Seed: seed, HTTPClient: fail})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(srv.Close)
	if len(srv.Tasks("")) == 0 {
		f.Fatal(errors.New("the fuzz org has no provisioning task to retry"))
	}
	return srv
}

// readTestdata reads a file of testdata/mockokta.
func readTestdata(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join("..", "testdata", "mockokta", name))
}
