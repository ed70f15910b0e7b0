package load

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/app/apptest"
	"github.com/idpkit/idpkit/scim/client"
)

// target is a tenant of idpkit's own server.
type target struct {
	url, token string
	hc         *http.Client
}

// startIdpkit runs idpkit's app server on a temporary SQLite file, with
// wrap (when not nil) in front of it, and returns a new tenant of it.
func startIdpkit(t *testing.T, wrap func(http.Handler) http.Handler) target {
	t.Helper()
	srv := apptest.Start(t, wrap)
	created := srv.Tenant(t, "load")
	return target{created.SCIMBaseURL, created.Token, srv.Client}
}

// counts returns each operation's request and error count.
func counts(rep Report) map[string][2]int {
	m := map[string][2]int{}
	for _, o := range rep.Ops {
		m[o.Name] = [2]int{o.Count, o.Errors}
	}
	return m
}

func TestRunAgainstIdpkit(t *testing.T) {
	tg := startIdpkit(t, nil)
	ctx := context.Background()
	var snaps []Snapshot
	rep, err := Run(ctx, Config{
		BaseURL: tg.url, Token: tg.token, Client: tg.hc,
		Users: 30, Concurrency: 4, GroupSize: 20, BatchSize: 8,
		Progress: func(s Snapshot) { snaps = append(snaps, s) },
	})
	if err != nil {
		t.Fatal(err)
	}
	got := counts(rep)
	imports := got[OpImport]
	delete(got, OpImport)
	// 30 users; every second one deactivated; groups of 20 and 10 members
	// pushed in batches of 8: 3 + 2 PATCHes.
	want := map[string][2]int{
		OpFilter: {30, 0}, OpCreate: {30, 0}, OpGet: {30, 0}, OpReplace: {30, 0},
		OpDeactivate: {15, 0}, OpGroupCreate: {2, 0}, OpGroupPatch: {5, 0},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("operation counts (-want +got):\n%s", d)
	}
	if imports[0] < 1 || imports[1] != 0 || rep.Imported < 30 {
		t.Errorf("import: %d pages, %d errors, %d users read; want no errors and at least 30 users", imports[0], imports[1], rep.Imported)
	}
	if rep.Errors() != 0 || rep.TimedOut || rep.CleanedUp {
		t.Errorf("errors %d, timed out %v, cleaned up %v; want none", rep.Errors(), rep.TimedOut, rep.CleanedUp)
	}
	for _, o := range rep.Ops {
		if o.PerSecond <= 0 || o.P50 <= 0 || o.P50 > o.P95 || o.P95 > o.P99 || o.P99 > o.Max {
			t.Errorf("%s: rate %.1f/s, p50 %v p95 %v p99 %v max %v; want positive and ordered", o.Name, o.PerSecond, o.P50, o.P95, o.P99, o.Max)
		}
	}
	if len(snaps) == 0 || snaps[len(snaps)-1].Created != 30 || snaps[len(snaps)-1].Requests != rep.Op(OpImport).Count+142 {
		t.Errorf("last progress snapshot %+v of %d; want 30 created and every request", snaps[len(snaps)-1:], len(snaps))
	}

	// What the server holds afterwards.
	c := &client.Client{BaseURL: tg.url, Token: tg.token, HTTP: tg.hc}
	if len(rep.Users) != 30 {
		t.Fatalf("report lists %d users, want 30", len(rep.Users))
	}
	for i, u := range rep.Users {
		r, err := c.Get(ctx, "Users", u.ID)
		if err != nil {
			t.Fatalf("user %d: %v", i, err)
		}
		gotU := map[string]any{"userName": r["userName"], "active": r["active"], "title": r["title"]}
		wantU := map[string]any{"userName": u.UserName, "active": i%2 == 0, "title": "Load Tester"}
		if d := cmp.Diff(wantU, gotU); d != "" || u.Active != (i%2 == 0) || !strings.HasPrefix(u.UserName, rep.Prefix) {
			t.Errorf("user %d (-want +got):\n%s(report says active %v)", i, d, u.Active)
		}
	}
	if len(rep.Groups) != 2 {
		t.Fatalf("report lists %d groups, want 2", len(rep.Groups))
	}
	for g, grp := range rep.Groups {
		r, err := c.Get(ctx, "Groups", grp.ID)
		if err != nil {
			t.Fatalf("group %d: %v", g, err)
		}
		var members []string
		if ms, ok := r["members"].([]any); ok {
			for _, m := range ms {
				members = append(members, m.(map[string]any)["value"].(string))
			}
		}
		var want []string
		for _, u := range rep.Users[g*20 : min(g*20+20, 30)] {
			want = append(want, u.ID)
		}
		slices.Sort(members)
		slices.Sort(want)
		if d := cmp.Diff(want, members); d != "" || r["displayName"] != grp.DisplayName {
			t.Errorf("group %d %v members (-want +got):\n%s", g, r["displayName"], d)
		}
	}
}

func TestRunCountsErrors(t *testing.T) {
	// idpkit's server with PATCH broken: the deactivations and the member
	// pushes fail, everything else works.
	tg := startIdpkit(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == "PATCH" {
				w.Header().Set("Content-Type", "application/scim+json")
				w.WriteHeader(500)
				w.Write([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"500","detail":"patch is broken"}`))
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	rep, err := Run(context.Background(), Config{BaseURL: tg.url, Token: tg.token, Client: tg.hc, Users: 10, Concurrency: 3, GroupSize: 10, BatchSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	got := counts(rep)
	want := map[string][2]int{OpDeactivate: {5, 5}, OpGroupPatch: {3, 3}, OpCreate: {10, 0}, OpReplace: {10, 0}}
	for op := range got {
		if _, ok := want[op]; !ok {
			delete(got, op)
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("counts and errors (-want +got):\n%s", d)
	}
	if rep.Errors() != 8 {
		t.Errorf("Errors() = %d, want 8", rep.Errors())
	}
	for _, op := range []string{OpDeactivate, OpGroupPatch} {
		s := rep.Op(op).Samples
		if len(s) != maxSamples {
			t.Errorf("%s: %d samples, want %d", op, len(s), maxSamples)
		}
		for _, x := range s {
			if !strings.HasPrefix(x, "PATCH /") || !strings.Contains(x, "500") || !strings.Contains(x, "patch is broken") {
				t.Errorf("%s sample %q does not give the method, path, status and body", op, x)
			}
		}
	}
	for _, u := range rep.Users {
		if !u.Active {
			t.Errorf("user %s reported inactive though its PATCH failed", u.UserName)
		}
	}
	if len(rep.Groups) != 1 || len(rep.Groups[0].Members) != 0 {
		t.Errorf("groups %+v; want one group with no member added", rep.Groups)
	}
	var buf bytes.Buffer
	if err := rep.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"error deactivate: PATCH /Users/", "error group-patch: PATCH /Groups/"} {
		if !strings.Contains(buf.String(), line) {
			t.Errorf("table lacks %q:\n%s", line, buf.String())
		}
	}
}

func TestRunCleanup(t *testing.T) {
	tg := startIdpkit(t, nil)
	ctx := context.Background()
	rep, err := Run(ctx, Config{BaseURL: tg.url, Token: tg.token, Client: tg.hc, Users: 6, Concurrency: 2, Cleanup: true})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([2]int{7, 0}, counts(rep)[OpDelete]); d != "" || !rep.CleanedUp {
		t.Errorf("deletes (-want +got):\n%s(cleaned up %v)", d, rep.CleanedUp)
	}
	c := &client.Client{BaseURL: tg.url, Token: tg.token, HTTP: tg.hc}
	for _, ep := range []string{"Users", "Groups"} {
		lr, err := c.List(ctx, ep, client.ListQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if lr.TotalResults != 0 {
			t.Errorf("%s: %d left after cleanup, want 0", ep, lr.TotalResults)
		}
	}
}

// fakeClock advances by step on every reading.
type fakeClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

func TestRunDuration(t *testing.T) {
	tg := startIdpkit(t, nil)
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), step: time.Second}
	rep, err := Run(context.Background(), Config{BaseURL: tg.url, Token: tg.token, Client: tg.hc, Users: 1000, Concurrency: 1, Duration: 20 * time.Second, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.TimedOut || len(rep.Users) == 0 || len(rep.Users) > 10 || rep.Op(OpImport).Count != 0 {
		t.Errorf("timed out %v, %d users, %d import pages; want the limit to stop the run within the create phase", rep.TimedOut, len(rep.Users), rep.Op(OpImport).Count)
	}
	if p50 := rep.Op(OpCreate).P50; p50 != time.Second {
		t.Errorf("create p50 = %v, want the injected clock's 1s", p50)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no base URL", Config{Users: 1}, "load: no base URL"},
		{"no users", Config{BaseURL: "http://x"}, "load: users must be at least 1, got 0"},
		{"batch too large", Config{BaseURL: "http://x", Users: 1, BatchSize: 257}, "load: batch size 257 is more than Okta's 256"},
		{"negative", Config{BaseURL: "http://x", Users: 1, Concurrency: -1}, "load: concurrency, lookups, group size and batch size must not be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(context.Background(), tc.cfg)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("error (-want +got):\n%s", d)
			}
		})
	}
}

func TestQuantile(t *testing.T) {
	lat := make([]time.Duration, 100)
	for i := range lat {
		lat[i] = time.Duration(i+1) * time.Millisecond
	}
	for _, tc := range []struct {
		name string
		in   []time.Duration
		q    float64
		want time.Duration
	}{
		{"p50 of 100", lat, 0.50, 50 * time.Millisecond},
		{"p95 of 100", lat, 0.95, 95 * time.Millisecond},
		{"p99 of 100", lat, 0.99, 99 * time.Millisecond},
		{"p99 of one", lat[:1], 0.99, time.Millisecond},
		{"p50 of two", lat[:2], 0.50, time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, quantile(tc.in, tc.q)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestRunLookups(t *testing.T) {
	// emptyFilters answers every filtered GET /Users with an empty list:
	// the creates still happen (the filter finds nobody), but no lookup
	// finds its user.
	emptyFilters := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == "GET" && r.URL.Query().Get("filter") != "" {
				w.Header().Set("Content-Type", "application/scim+json")
				w.Write([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[]}`))
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	tests := []struct {
		name string
		wrap func(http.Handler) http.Handler
		want [2]int // lookups, failed lookups
	}{
		{"server finds each user", nil, [2]int{40, 0}},
		{"server finds nobody", emptyFilters, [2]int{40, 40}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg := startIdpkit(t, tc.wrap)
			rep, err := Run(context.Background(), Config{BaseURL: tg.url, Token: tg.token, Client: tg.hc, Users: 12, Lookups: 40, Concurrency: 4, GroupSize: 12})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, counts(rep)[OpLookup]); d != "" {
				t.Errorf("lookups and their errors (-want +got):\n%s", d)
			}
			if tc.want[1] > 0 {
				s := rep.Op(OpLookup).Samples
				if len(s) != maxSamples || !strings.Contains(s[0], "totalResults 0") {
					t.Errorf("samples %q; want %d naming the wrong totalResults", s, maxSamples)
				}
			}
		})
	}
}

func TestSpread(t *testing.T) {
	for _, n := range []int{1, 2, 12, 7919, 10000} {
		seen := map[int]bool{}
		for i := range n {
			j := spread(i, n)
			if j < 0 || j >= n {
				t.Fatalf("spread(%d, %d) = %d, out of range", i, n, j)
			}
			seen[j] = true
		}
		if len(seen) != n {
			t.Errorf("spread over %d users reaches %d of them, want all", n, len(seen))
		}
	}
}
