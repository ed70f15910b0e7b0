package check

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// tinySCIM is a small in-memory SCIM server for users, enough for the
// sort, If-Match, uniqueness, count and returned-never checks, with one
// switch per fault a real server has.
type tinySCIM struct {
	sortUnsupported bool // ServiceProviderConfig says sort.supported false
	ignoreSort      bool // lists in creation order whatever sortBy says
	ignoreIfMatch   bool // never answers 412
	returnPassword  bool // echoes password back
	caseSensitive   bool // userName uniqueness compares case-sensitively
	negativeAll     bool // count=-1 means "no limit"
	ignoreNoneMatch bool // never answers 304

	mu    sync.Mutex
	users []map[string]any // in creation order
	next  int
}

var tinyFilter = regexp.MustCompile(`^userName (eq|sw) "([^"]*)"$`)

func (s *tinySCIM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Content-Type", "application/scim+json")
	fail := func(code int, scimType string) {
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:Error"}, "status": strconv.Itoa(code), "scimType": scimType, "detail": "no"})
	}
	reply := func(code int, u map[string]any) {
		out := map[string]any{}
		for k, v := range u {
			if k != "password" || s.returnPassword {
				out[k] = v
			}
		}
		w.Header().Set("ETag", str(get(u, "meta.version")))
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(out)
	}
	find := func(id string) (int, map[string]any) {
		for i, u := range s.users {
			if u["id"] == id {
				return i, u
			}
		}
		return -1, nil
	}
	var body map[string]any
	if r.Body != nil {
		json.NewDecoder(r.Body).Decode(&body)
	}
	path := r.URL.Path
	switch {
	case path == "/ServiceProviderConfig":
		json.NewEncoder(w).Encode(map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"},
			"sort": map[string]any{"supported": !s.sortUnsupported}, "etag": map[string]any{"supported": true}, "patch": map[string]any{"supported": true}})
	case path == "/Users" && r.Method == "POST":
		name := str(body["userName"])
		for _, u := range s.users {
			if u["userName"] == name || !s.caseSensitive && strings.EqualFold(str(u["userName"]), name) {
				fail(409, "uniqueness")
				return
			}
		}
		s.next++
		body["id"] = strconv.Itoa(s.next)
		body["meta"] = map[string]any{"resourceType": "User", "version": `W/"1"`}
		s.users = append(s.users, body)
		reply(201, body)
	case path == "/Users" && r.Method == "GET", path == "/Users/.search" && r.Method == "POST":
		q := r.URL.Query()
		f, count := q.Get("filter"), q.Get("count")
		if r.Method == "POST" {
			f, count = str(body["filter"]), ""
		}
		m := tinyFilter.FindStringSubmatch(f)
		if m == nil && f != "" {
			fail(400, "invalidFilter")
			return
		}
		if f == "" {
			m = []string{"", "sw", ""} // no filter lists every user
		}
		var rs []any
		for _, u := range s.users {
			n := strings.ToLower(str(u["userName"]))
			if m[1] == "eq" && n == strings.ToLower(m[2]) || m[1] == "sw" && strings.HasPrefix(n, strings.ToLower(m[2])) {
				out := map[string]any{}
				for k, v := range u {
					if k != "password" || s.returnPassword {
						out[k] = v
					}
				}
				rs = append(rs, out)
			}
		}
		if q.Get("sortBy") == "userName" && !s.ignoreSort {
			slices.SortFunc(rs, func(a, b any) int {
				return strings.Compare(strings.ToLower(str(get(a, "userName"))), strings.ToLower(str(get(b, "userName"))))
			})
			if q.Get("sortOrder") == "descending" {
				slices.Reverse(rs)
			}
		}
		total := len(rs)
		if n, err := strconv.Atoi(q.Get("startIndex")); err == nil && n > 1 {
			rs = rs[min(n-1, len(rs)):]
		}
		if n, err := strconv.Atoi(count); err == nil && (n >= 0 || !s.negativeAll) {
			rs = rs[:min(max(n, 0), len(rs))]
		}
		json.NewEncoder(w).Encode(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:ListResponse"},
			"totalResults": total, "startIndex": max(1, atoi(q.Get("startIndex"))), "itemsPerPage": len(rs), "Resources": append([]any{}, rs...)})
	case strings.HasPrefix(path, "/Users/"):
		i, u := find(strings.TrimPrefix(path, "/Users/"))
		if u == nil {
			fail(404, "")
			return
		}
		if im := r.Header.Get("If-Match"); im != "" && im != "*" && !s.ignoreIfMatch && !strings.Contains(im, str(get(u, "meta.version"))) {
			fail(412, "")
			return
		}
		bump := func() {
			n, _ := strconv.Atoi(strings.Trim(strings.TrimPrefix(str(get(u, "meta.version")), "W/"), `"`))
			u["meta"] = map[string]any{"resourceType": "User", "version": fmt.Sprintf(`W/"%d"`, n+1)}
		}
		switch r.Method {
		case "GET":
			if inm := r.Header.Get("If-None-Match"); inm != "" && !s.ignoreNoneMatch && strings.Contains(inm, str(get(u, "meta.version"))) {
				w.WriteHeader(304)
				return
			}
			reply(200, u)
		case "PUT":
			for k, v := range body {
				if k != "id" && k != "meta" {
					u[k] = v
				}
			}
			bump()
			reply(200, u)
		case "PATCH":
			ops, _ := body["Operations"].([]any)
			for _, op := range ops {
				u[str(get(op, "path"))] = get(op, "value")
			}
			bump()
			reply(200, u)
		case "DELETE":
			s.users = slices.Delete(s.users, i, i+1)
			w.WriteHeader(204)
		}
	default:
		fail(404, "")
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// TestAreaAChecksNoticeFaults runs checks against tinySCIM with and without
// the fault each is about: the faithful server passes, the faulty one
// fails with a message naming the fault, the request and the response.
func TestAreaAChecksNoticeFaults(t *testing.T) {
	tests := []struct {
		name   string
		server *tinySCIM
		check  string
		want   string // a phrase of the failure; "" means the check passes
	}{
		{"sort honoured", &tinySCIM{}, "paging-sort-ascending", ""},
		{"sort declared but ignored", &tinySCIM{ignoreSort: true}, "paging-sort-ascending", "sortBy=userName: order"},
		{"descending honoured", &tinySCIM{}, "paging-sort-descending", ""},
		{"descending ignored", &tinySCIM{ignoreSort: true}, "paging-sort-descending", "sortOrder=descending: order"},
		{"sort declared unsupported is skipped, not passed", &tinySCIM{sortUnsupported: true, ignoreSort: true}, "paging-sort-ascending", "skipped: /ServiceProviderConfig declares sort unsupported"},
		{"stale If-Match on PUT refused", &tinySCIM{}, "etag-if-match-stale-put", ""},
		{"stale If-Match on PUT accepted", &tinySCIM{ignoreIfMatch: true}, "etag-if-match-stale-put", "status 200, want 412"},
		{"stale If-Match on PATCH accepted", &tinySCIM{ignoreIfMatch: true}, "etag-if-match-stale-patch", "displayName changed"},
		{"stale If-Match on DELETE accepted", &tinySCIM{ignoreIfMatch: true}, "etag-if-match-stale-delete", "status 204, want 412"},
		{"If-None-Match honoured", &tinySCIM{}, "etag-if-none-match", ""},
		{"If-None-Match ignored", &tinySCIM{ignoreNoneMatch: true}, "etag-if-none-match", "status 200, want 304"},
		{"password hidden", &tinySCIM{}, "schema-returned-never", ""},
		{"password returned", &tinySCIM{returnPassword: true}, "schema-returned-never", "POST returns password"},
		{"userName unique ignoring case", &tinySCIM{}, "schema-uniqueness-case", ""},
		{"userName unique only by case", &tinySCIM{caseSensitive: true}, "schema-uniqueness-case", "status 201, want 409"},
		{"negative count as 0", &tinySCIM{}, "paging-count-negative", ""},
		{"negative count as no limit", &tinySCIM{negativeAll: true}, "paging-count-negative", "totalResults 5 with 5 resources, want at least the check's 5 users with no resources"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.server)
			defer srv.Close()
			r := RunOne(context.Background(), byID(t, tt.check), &Target{BaseURL: srv.URL, Token: "good", Client: srv.Client()})
			switch {
			case tt.want == "":
				if !r.Passed {
					t.Fatalf("want pass, got: %s", r.Error)
				}
			case strings.HasPrefix(tt.want, "skipped: "):
				if diff := cmp.Diff(Result{ID: tt.check, Skipped: true, Error: tt.want}, Result{ID: r.ID, Skipped: r.Skipped, Passed: r.Passed, Error: r.Error}); diff != "" {
					t.Fatalf("result (-want +got):\n%s", diff)
				}
			default:
				if r.Passed || !strings.Contains(r.Error, tt.want) {
					t.Fatalf("want a failure containing %q, got passed=%v: %s", tt.want, r.Passed, r.Error)
				}
				t.Logf("the failure reads:\n%s", r.Error)
				if !strings.Contains(r.Error, "request:") || !strings.Contains(r.Error, "response:") {
					t.Errorf("a failure must show the request and the response: %s", r.Error)
				}
			}
			tt.server.mu.Lock()
			defer tt.server.mu.Unlock()
			if len(tt.server.users) != 0 {
				t.Errorf("the check left %d users behind", len(tt.server.users))
			}
		})
	}
}

func TestFilterPath(t *testing.T) {
	tests := []struct {
		name, filter, rest, want string
	}{
		{"plus and ampersand", `meta.created gt "2026-01-01T00:00:00+05:00" and title eq "R&D"`, "", `/Users?filter=meta.created%20gt%20%222026-01-01T00%3A00%3A00%2B05%3A00%22%20and%20title%20eq%20%22R%26D%22`},
		{"with the rest", `userName eq "a"`, "count=1", `/Users?filter=userName%20eq%20%22a%22&count=1`},
		{"okta's wire form", `userName eq "alice+test@example.com"`, "startIndex=1&count=100", `/Users?filter=userName%20eq%20%22alice%2Btest%40example.com%22&startIndex=1&count=100`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, filterPath("/Users", tt.filter, tt.rest)); diff != "" {
				t.Errorf("filterPath (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFilterPathRoundTrip checks that a filter reaches a server as it was
// written, whatever its value holds, and that the rest of the query stays
// apart from it.
func TestFilterPathRoundTrip(t *testing.T) {
	var got url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.Query()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	target := &Target{BaseURL: srv.URL, Client: srv.Client()}
	tests := []struct {
		name, userName string
	}{
		{"plus", "alice+test@example.com"},
		{"ampersand", "r&d@example.com"},
		{"equals", "a=b@example.com"},
		{"percent", "100%real@example.com"},
		{"space", "alice example@example.com"},
		{"all of them", "a+b&c=d%25 e%@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			filter := `userName eq "` + tt.userName + `"`
			got = nil
			if _, err := target.send(context.Background(), "GET", filterPath("/Users", filter, "count=1"), nil); err != nil {
				t.Fatal(err)
			}
			want := url.Values{"filter": {filter}, "count": {"1"}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("the query the server reads (-want +got):\n%s", diff)
			}
		})
	}
}
