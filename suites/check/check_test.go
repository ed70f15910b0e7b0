package check

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// sloppy is a SCIM server with the faults real servers have; each check
// below must notice the one it is about.
type sloppy struct {
	numericStatus bool          // error status as a JSON number
	ignoreFilter  bool          // lists everything, whatever the filter
	noChallenge   bool          // 401 without WWW-Authenticate
	slowGroups    time.Duration // how long GET /Groups takes, on clock
	clock         *fakeClock
}

// fakeClock is a Target.Now that the test server moves forward, so that a
// slow response takes no real time.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func (s sloppy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/scim+json")
	fail := func(code int) {
		var status any = strconv.Itoa(code)
		if s.numericStatus {
			status = code
		}
		if code == 401 && !s.noChallenge {
			w.Header().Set("WWW-Authenticate", "Bearer")
		}
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:Error"}, "status": status, "detail": "no"})
	}
	if r.Header.Get("Authorization") != "Bearer good" {
		fail(401)
		return
	}
	list := func(rs ...any) {
		json.NewEncoder(w).Encode(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:ListResponse"}, "totalResults": len(rs), "startIndex": 1, "itemsPerPage": len(rs), "Resources": rs})
	}
	switch {
	case r.URL.Path == "/Groups":
		s.clock.Add(s.slowGroups)
		list()
	case r.URL.Path == "/Users" && r.Method == "GET":
		if s.ignoreFilter || r.URL.Query().Get("filter") == "" {
			list(map[string]any{"id": "1", "userName": "someone@example.com"})
			return
		}
		list()
	default:
		fail(404)
	}
}

func byID(t *testing.T, id string) Check {
	t.Helper()
	for _, c := range SCIM() {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no check %s", id)
	return Check{}
}

func TestChecksNoticeFaults(t *testing.T) {
	tests := []struct {
		name   string
		server sloppy
		check  string
		want   string // a phrase of the failure; "" means the check passes
	}{
		{"unknown id passes", sloppy{}, "okta-spec-04-unknown-id", ""},
		{"status must be a string", sloppy{numericStatus: true}, "okta-spec-04-unknown-id", `want the string "404"`},
		{"filter honoured passes", sloppy{}, "okta-spec-03-filter-unknown", ""},
		{"unfiltered list", sloppy{ignoreFilter: true}, "okta-spec-03-filter-unknown", "unfiltered list"},
		{"wrong token passes", sloppy{}, "okta-spec-11-wrong-token", ""},
		{"okta's step 11 does not ask for a challenge", sloppy{noChallenge: true}, "okta-spec-11-wrong-token", ""},
		{"challenge passes", sloppy{}, "media-bearer-challenge", ""},
		{"401 needs a challenge", sloppy{noChallenge: true}, "media-bearer-challenge", "WWW-Authenticate"},
		{"groups fast passes", sloppy{}, "okta-spec-10-groups-fast", ""},
		{"groups too slow", sloppy{slowGroups: 700 * time.Millisecond}, "okta-spec-10-groups-fast", "Okta allows 600ms"},
		{"create needs a server that stores", sloppy{}, "okta-spec-06-create-user", "status 404, want 201"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{now: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
			tt.server.clock = clock
			srv := httptest.NewServer(tt.server)
			defer srv.Close()
			r := RunOne(context.Background(), byID(t, tt.check), &Target{BaseURL: srv.URL, Token: "good", Client: srv.Client(), Now: clock.Now})
			if tt.want == "" {
				if !r.Passed {
					t.Fatalf("want pass, got: %s", r.Error)
				}
				return
			}
			if r.Passed || !strings.Contains(r.Error, tt.want) {
				t.Fatalf("want a failure containing %q, got passed=%v: %s", tt.want, r.Passed, r.Error)
			}
			if !strings.Contains(r.Error, "request:") || !strings.Contains(r.Error, "response:") {
				t.Errorf("a failure must show the request and the response: %s", r.Error)
			}
		})
	}
}

func TestUnreachableTarget(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	r := RunOne(context.Background(), byID(t, "okta-test-credentials"), &Target{BaseURL: srv.URL, Token: "x"})
	if r.Passed || !strings.Contains(r.Error, "GET /Users?startIndex=1&count=2") {
		t.Fatalf("want a failure naming the request, got %+v", r)
	}
}

func TestCatalogue(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range SCIM() {
		if c.ID == "" || c.Title == "" || c.Ref == "" || len(c.Labels) == 0 || c.Run == nil {
			t.Errorf("check %q lacks an ID, title, ref, label or Run", c.ID)
		}
		if seen[c.ID] {
			t.Errorf("duplicate check ID %s", c.ID)
		}
		seen[c.ID] = true
	}
	var unknown []string
	for id := range needs() {
		if !seen[id] {
			unknown = append(unknown, id)
		}
	}
	if diff := cmp.Diff([]string(nil), unknown); diff != "" {
		t.Errorf("needs() names checks that do not exist (-want +got):\n%s", diff)
	}
	var spec []string
	for _, c := range Select(SCIM(), []string{"okta-spec"}, []string{"okta-spec-10-groups-fast"}) {
		spec = append(spec, c.ID)
	}
	want := []string{"okta-spec-01-list-users", "okta-spec-02-get-user", "okta-spec-03-filter-unknown", "okta-spec-04-unknown-id",
		"okta-spec-06-create-user", "okta-spec-08-duplicate", "okta-spec-09-filter-case", "okta-spec-11-wrong-token"}
	if diff := cmp.Diff(want, spec); diff != "" {
		t.Errorf("Select(okta-spec) minus groups (-want +got):\n%s", diff)
	}
}

func TestSelectStrict(t *testing.T) {
	run := func(context.Context, *Target) error { return nil }
	all := []Check{
		{ID: "a", Labels: []string{"okta-spec"}, Run: run},
		{ID: "b", Labels: []string{"okta-spec", "strict"}, Run: run},
		{ID: "c", Labels: []string{"media", "strict"}, Run: run},
		{ID: "d", Labels: []string{"media"}, Run: run},
	}
	tests := []struct {
		name         string
		labels, skip []string
		strict       bool // SelectStrict rather than Select
		want         []string
	}{
		{"no labels leaves the strict checks out", nil, nil, false, []string{"a", "d"}},
		{"a label leaves them out too", []string{"okta-spec"}, nil, false, []string{"a"}},
		{"strict among the labels selects them", []string{"okta-spec", "strict"}, nil, false, []string{"a", "b", "c"}},
		{"strict alone selects only them", []string{"strict"}, nil, false, []string{"b", "c"}},
		{"skip still applies", []string{"strict"}, []string{"c"}, false, []string{"b"}},
		{"SelectStrict with no labels selects everything", nil, nil, true, []string{"a", "b", "c", "d"}},
		{"SelectStrict with a label selects by label only", []string{"media"}, nil, true, []string{"c", "d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel := Select
			if tt.strict {
				sel = SelectStrict
			}
			var got []string
			for _, c := range sel(all, tt.labels, tt.skip) {
				got = append(got, c.ID)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("selected (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFailureShowsEachExchangeOnceAndTheWrite(t *testing.T) {
	// A group whose PATCH is answered 204 but never applied: the read
	// back shows the state, and the failure shows the PATCH behind it.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/scim+json")
		switch r.Method {
		case "PATCH":
			w.WriteHeader(204)
		default:
			w.Write([]byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g1","displayName":"G","members":[]}`))
		}
	}))
	defer srv.Close()
	c := Check{ID: "x", Run: func(ctx context.Context, t *Target) error {
		p := newProbe(ctx)
		if _, err := t.patch(ctx, "/Groups/g1", map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": "a"}}}); err != nil {
			return err
		}
		g, _, err := t.fetch(ctx, p, "/Groups/g1")
		if err != nil {
			return err
		}
		p.failf(g, "members are %v, want [a]", memberValues(g.JSON))
		p.failf(within(g, g.JSON), "and a second problem with the same read")
		return nil // forgets p.err(): RunOne must fail the check anyway
	}}
	r := RunOne(context.Background(), c, &Target{BaseURL: srv.URL, Token: "t", Client: srv.Client()})
	got := []any{r.Passed, strings.Count(r.Error, "request:  PATCH /Groups/g1"), strings.Count(r.Error, "request:  GET /Groups/g1"),
		strings.Contains(r.Error, "(the GET /Groups/g1 exchange shown above)"), strings.Index(r.Error, "PATCH") < strings.Index(r.Error, "request:  GET")}
	if diff := cmp.Diff([]any{false, 1, 1, true, true}, got); diff != "" {
		t.Errorf("passed, PATCHes shown, GETs shown, repeat named, write first (-want +got):\n%s\n%s", diff, r.Error)
	}
}

func TestReports(t *testing.T) {
	results := []Result{
		{ID: "a", Title: "A", Ref: "RFC 7644 §3.4", Labels: []string{"rfc7644"}, Passed: true, Duration: time.Millisecond},
		{ID: "b", Title: "B", Ref: "Okta", Labels: []string{"okta"}, Error: "status 500, want 200\n  request: GET /Users", Duration: 2 * time.Millisecond},
	}
	started := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	var js bytes.Buffer
	if err := WriteJSON(&js, "http://x", started, results); err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(js.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Summary{Total: 2, Passed: 1, Failed: 1}, rep.Summary); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	var x bytes.Buffer
	if err := WriteJUnit(&x, "idpkit", started, results); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(x.Bytes(), &doc); err != nil {
		t.Fatalf("junit is not XML: %v\n%s", err, x.String())
	}
	if doc.Tests != 2 || doc.Failures != 1 || doc.Suites[0].Cases[1].Failure == nil || doc.Suites[0].Cases[1].Failure.Message != "status 500, want 200" {
		t.Errorf("junit = %+v", doc)
	}
}

func TestPanickingCheckIsAFailure(t *testing.T) {
	c := Check{ID: "p", Run: func(context.Context, *Target) error { panic(errors.New("boom")) }}
	if r := RunOne(context.Background(), c, &Target{}); r.Passed || !strings.Contains(r.Error, "boom") {
		t.Fatalf("got %+v", r)
	}
}

func TestExcerpt(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"short", "a  b\n c", 10, "a b c"},
		{"cut", "abcdef", 3, "abc…"},
		{"cut inside a character", "aé", 2, "a…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, excerpt([]byte(tt.in), tt.n)); diff != "" {
				t.Errorf("excerpt(%q, %d) (-want +got):\n%s", tt.in, tt.n, diff)
			}
		})
	}
}

// TestDuplicateNamesTheUserName: okta-spec-08's failure names the userName
// it posted twice, so that the line says which user the server took twice.
func TestDuplicateNamesTheUserName(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/scim+json")
		if r.Method != "POST" {
			w.WriteHeader(404)
			return
		}
		w.WriteHeader(201)
		w.Write([]byte(`{"schemas":["` + schemaUser + `"],"id":"u` + unique() + `"}`))
	}))
	defer srv.Close()
	r := RunOne(context.Background(), byID(t, "okta-spec-08-duplicate"), &Target{BaseURL: srv.URL, Token: "t", Client: srv.Client()})
	got := regexp.MustCompile(`a second POST of userName "dup\.[0-9a-f]+@example\.com" \(the user just created\): status 201, want 409`).MatchString(r.Error)
	if diff := cmp.Diff([]bool{false, true}, []bool{r.Passed, got}); diff != "" {
		t.Errorf("passed, and the failure names the userName (-want +got):\n%s\n%s", diff, r.Error)
	}
}
