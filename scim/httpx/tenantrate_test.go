package httpx

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// okta is a handler that answers like an authenticating service: 401
// without "Bearer good", else the status in X-Status (200 by default).
var okta = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer good" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if s := r.Header.Get("X-Status"); s != "" {
		code, _ := strconv.Atoi(s)
		w.WriteHeader(code)
		return
	}
	w.Write([]byte("ok"))
})

func newTestRate(cfg TenantRateConfig, next http.Handler) (*TenantRate, http.Handler, *fakeClock) {
	c := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	cfg.Now = c.now
	l := NewTenantRate(cfg)
	return l, l.Handler(next), c
}

// answer is what the limiter's client saw.
type answer struct {
	Status      int
	RetryAfter  string
	ContentType string
	Body        string
}

func call(h http.Handler, path, token string, header ...string) answer {
	req := httptest.NewRequest("GET", path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return answer{w.Code, w.Header().Get("Retry-After"), w.Header().Get("Content-Type"), w.Body.String()}
}

// TestTenantRateFloodOfRefusals is the lockout the limiter must not
// allow: requests without the right token, however many, leave the
// tenant's budget whole for the client that has it.
func TestTenantRateFloodOfRefusals(t *testing.T) {
	l, h, _ := newTestRate(TenantRateConfig{Rate: 2, Burst: 4}, okta)
	statuses := map[int]int{}
	for i := range 1000 {
		token := ""
		if i%2 == 1 {
			token = "wrong"
		}
		statuses[call(h, "/t/acme/scim/v2/Users", token).Status]++
	}
	// A 403 and a 429 from the handler (the FailureLimiter's) cost
	// nothing either.
	for _, s := range []string{"403", "429"} {
		statuses[call(h, "/t/acme/scim/v2/Users", "good", "X-Status", s).Status]++
	}
	if diff := cmp.Diff(map[int]int{401: 1000, 403: 1, 429: 1}, statuses); diff != "" {
		t.Fatalf("the flood (-want +got):\n%s", diff)
	}
	if n := l.Budgets(); n != 0 {
		t.Errorf("after refusals only, %d budgets are remembered, want 0", n)
	}
	var got []int
	for range 5 {
		got = append(got, call(h, "/t/acme/scim/v2/Users", "good").Status)
	}
	if diff := cmp.Diff([]int{200, 200, 200, 200, 429}, got); diff != "" {
		t.Errorf("the right token after the flood: (-want +got):\n%s", diff)
	}
}

// TestTenantRate follows one budget through a sequence of requests on a
// fake clock: the burst, the refusal and its answer, other tenants and
// the other budget untouched, refill.
func TestTenantRate(t *testing.T) {
	_, h, clock := newTestRate(TenantRateConfig{Rate: 2}, okta) // burst 4
	const scimJSON = "application/scim+json; charset=utf-8"
	tooMany := func(secs string) answer {
		return answer{429, secs, scimJSON, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"429","detail":"too many requests for this tenant; wait ` + secs + ` second before trying again"}`}
	}
	ok := answer{Status: 200, ContentType: "text/plain; charset=utf-8", Body: "ok"}
	tests := []struct {
		name    string
		advance time.Duration
		path    string
		token   string
		status  string // X-Status
		want    answer
	}{
		{"1 of the burst", 0, "/t/acme/scim/v2/Users", "good", "", ok},
		// On the SCIM paths only 2xx answers are charged: they are the
		// ones a request without the right token cannot get.
		{"a 404 costs nothing", 0, "/t/acme/scim/v2/Users/x", "good", "404", answer{Status: 404}},
		{"2 of the burst, a 201", 0, "/t/acme/scim/v2/Users", "good", "201", answer{Status: 201}},
		{"a 500 costs nothing", 0, "/t/acme/scim/v2/Users", "good", "500", answer{Status: 500}},
		{"a 307 costs nothing", 0, "/t/acme/scim/v2//Users", "good", "307", answer{Status: 307}},
		{"3 of the burst, a 204", 0, "/t/acme/scim/v2/Users/x", "good", "204", answer{Status: 204}},
		{"4 of the burst", 0, "/t/acme/scim/v2/Users", "good", "", ok},
		{"the 5th is refused", 0, "/t/acme/scim/v2/Users", "good", "", tooMany("1")},
		{"refused before the token is looked at", 0, "/t/acme/scim/v2/Users", "wrong", "", tooMany("1")},
		{"another tenant is not limited", 0, "/t/other/scim/v2/Users", "good", "", ok},
		{"the tenant's sign-in budget is its own", 0, "/t/acme/login", "good", "", ok},
		{"paths outside /t/ are not limited", 0, "/healthz", "good", "", ok},
		{"still refused after 0.4s", 400 * time.Millisecond, "/t/acme/scim/v2/Groups", "good", "", tooMany("1")},
		{"one request back after 0.5s", 100 * time.Millisecond, "/t/acme/scim/v2/Groups", "good", "", ok},
		{"and it is spent", 0, "/t/acme/scim/v2/Groups", "good", "", tooMany("1")},
		{"full again after 2s", 2 * time.Second, "/t/acme/scim/v2/Groups", "good", "", ok},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock.advance(tt.advance)
			if diff := cmp.Diff(tt.want, call(h, tt.path, tt.token, "X-Status", tt.status)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("after 2s the whole burst is back", func(t *testing.T) {
		clock.advance(2 * time.Second)
		var got []int
		for range 5 {
			got = append(got, call(h, "/t/acme/scim/v2/Users", "good").Status)
		}
		if diff := cmp.Diff([]int{200, 200, 200, 200, 429}, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

// TestTenantRateAnswers: the 429's shape on each kind of path.
func TestTenantRateAnswers(t *testing.T) {
	tests := []struct {
		name string
		path string
		rate float64
		want answer
	}{
		{"SCIM", "/t/acme/scim/v2/Users", 0.1, answer{429, "10", "application/scim+json; charset=utf-8",
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"429","detail":"too many requests for this tenant; wait 10 seconds before trying again"}`}},
		{"admin API", "/t/acme/admin/api/activity", 0.1, answer{429, "10", "application/json",
			`{"error":"too_many_requests","error_description":"too many requests for this tenant; wait 10 seconds before trying again"}`}},
		{"sign-in", "/t/acme/login", 0.1, answer{429, "10", "text/plain; charset=utf-8",
			"too many requests for this tenant; wait 10 seconds before trying again\n"}},
		{"Retry-After rounds up", "/t/acme/login", 3, answer{429, "1", "text/plain; charset=utf-8",
			"too many requests for this tenant; wait 1 second before trying again\n"}},
		{"a tenant named scim", "/t/scim/login", 0.1, answer{429, "10", "text/plain; charset=utf-8",
			"too many requests for this tenant; wait 10 seconds before trying again\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, h, _ := newTestRate(TenantRateConfig{Rate: tt.rate, Burst: 1}, okta)
			if got := call(h, tt.path, "good"); got.Status != 200 {
				t.Fatalf("first request: %+v", got)
			}
			got := call(h, tt.path, "good")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if tt.want.ContentType != "text/plain; charset=utf-8" {
				var v map[string]any
				if err := json.Unmarshal([]byte(got.Body), &v); err != nil {
					t.Errorf("body is not JSON: %v", err)
				}
			}
		})
	}
}

// TestTenantRateConcurrent: requests that pass the check together are
// all charged, so the budget goes below zero and the rate holds on
// average; the debt stops at -Burst.
func TestTenantRateConcurrent(t *testing.T) {
	tests := []struct {
		name       string
		concurrent int
		want       answer // of the next request
	}{
		{"two at once leave none", 2, answer{429, "1", "", ""}},     // 0 tokens: 1 s at 1/s
		{"four at once leave -2", 4, answer{429, "3", "", ""}},      // -2: 3 s
		{"twenty at once stop at -2", 20, answer{429, "3", "", ""}}, // floor -Burst
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var arrived sync.WaitGroup
			arrived.Add(tt.concurrent)
			release := make(chan struct{})
			slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("X-Wait") != "" {
					arrived.Done()
					<-release
				}
				okta.ServeHTTP(w, r)
			})
			_, h, _ := newTestRate(TenantRateConfig{Rate: 1, Burst: 2}, slow)
			var done sync.WaitGroup
			for range tt.concurrent {
				done.Go(func() { call(h, "/t/acme/scim/v2/Users", "good", "X-Wait", "1") })
			}
			arrived.Wait() // all of them passed the check
			close(release)
			done.Wait()
			got := call(h, "/t/acme/scim/v2/Users", "good")
			got.ContentType, got.Body = "", ""
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestTenantRateMemory: at most MaxTenants budgets are kept, the least
// recently charged forgotten first; refused requests create none.
func TestTenantRateMemory(t *testing.T) {
	l, h, _ := newTestRate(TenantRateConfig{Rate: 1, Burst: 1, MaxTenants: 3}, okta)
	for i := range 1000 {
		call(h, fmt.Sprintf("/t/t%d/scim/v2/Users", i), "wrong")
	}
	if n := l.Budgets(); n != 0 {
		t.Fatalf("1000 tenants refused for their token: %d budgets, want 0", n)
	}
	for i := range 10 {
		call(h, fmt.Sprintf("/t/t%d/scim/v2/Users", i), "good")
	}
	if n := l.Budgets(); n != 3 {
		t.Fatalf("10 tenants charged: %d budgets, want 3", n)
	}
	tests := []struct {
		tenant string
		want   int
	}{
		{"t9", 429}, // remembered, spent
		{"t8", 429},
		{"t7", 429},
		{"t0", 200}, // forgotten: a full budget again
	}
	for _, tt := range tests {
		t.Run(tt.tenant, func(t *testing.T) {
			if got := call(h, "/t/"+tt.tenant+"/scim/v2/Users", "good").Status; got != tt.want {
				t.Errorf("status %d, want %d", got, tt.want)
			}
		})
	}
}

// uncredentialed answers like the app's: the SCIM server under
// /t/{tenant}/scim/v2 (okta), a catch-all 404 for other paths under
// /t/{tenant}/ (the login package's), and ServeMux's 307 for a path that
// is not clean.
func uncredentialed() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/t/{tenant}/scim/v2/", okta)
	mux.HandleFunc("/t/{tenant}/", http.NotFound)
	return mux
}

// TestTenantRateUncredentialedPaths: requests without a token to paths
// under /t/{tenant}/scim/ that are answered without any credential check
// (404, 3xx) spend nothing of the SCIM budget, so they cannot lock Okta
// out with 429 however many there are.
func TestTenantRateUncredentialedPaths(t *testing.T) {
	paths := []string{"/t/acme/scim/x", "/t/acme/scim/", "/t/acme/scim/v2%2FUsers", "/t/acme/scim/v2//Users", "/t/acme/scim/v2/./Users", "/t/acme/scim/x/../v2/Users"}
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			l, h, _ := newTestRate(TenantRateConfig{Rate: 1, Burst: 3}, uncredentialed())
			statuses := map[int]int{}
			for range 100 {
				req := httptest.NewRequest("GET", "http://idpkit.test/", nil)
				req.URL.Path, req.URL.RawPath = p, ""
				if strings.Contains(p, "%") {
					req.URL.RawPath = p
					req.URL.Path = strings.ReplaceAll(p, "%2F", "/")
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				statuses[w.Code]++
			}
			if _, ok := statuses[http.StatusTooManyRequests]; ok {
				t.Errorf("tokenless requests got 429: %v", statuses)
			}
			if n := l.Budgets(); n != 0 {
				t.Errorf("%d budgets after tokenless requests only, want 0 (%v)", n, statuses)
			}
			var got []int
			for range 4 {
				got = append(got, call(h, "/t/acme/scim/v2/Users", "good").Status)
			}
			if diff := cmp.Diff([]int{200, 200, 200, 429}, got); diff != "" {
				t.Errorf("the right token afterwards (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTenantRateInvalidNames: a path naming no valid tenant (a huge name,
// capitals, dots) is not limited and leaves no budget, on any kind of
// path and whatever its answer.
func TestTenantRateInvalidNames(t *testing.T) {
	l, h, _ := newTestRate(TenantRateConfig{Rate: 1, Burst: 1}, uncredentialed())
	huge := strings.Repeat("a", 100_000)
	for i := range 100 {
		for _, p := range []string{"/t/%d" + huge + "/scim/x", "/t/%d" + huge + "/login", "/t/Acme%d/login", "/t/a.%d/scim/v2/Users"} {
			if got := call(h, fmt.Sprintf(p, i), "good").Status; got == http.StatusTooManyRequests {
				t.Fatalf("%.40s: 429", p)
			}
		}
	}
	if n := l.Budgets(); n != 0 {
		t.Errorf("%d budgets, want 0", n)
	}
}

// TestTenantRateOff: a rate of zero or less (or not a number) builds no
// limiter, and a nil limiter's Handler is next itself.
func TestTenantRateOff(t *testing.T) {
	for _, rate := range []float64{0, -1} {
		if l := NewTenantRate(TenantRateConfig{Rate: rate}); l != nil {
			t.Errorf("rate %v: a limiter, want nil", rate)
		}
	}
	var l *TenantRate
	h := l.Handler(okta)
	for range 100 {
		if got := call(h, "/t/acme/scim/v2/Users", "good").Status; got != 200 {
			t.Fatalf("nil limiter: status %d", got)
		}
	}
	if l.Budgets() != 0 {
		t.Error("nil limiter remembers budgets")
	}
}

func TestDefaultBurst(t *testing.T) {
	got := map[float64]int{}
	for _, r := range []float64{0.1, 0.5, 1, 2, 2.2, 50} {
		got[r] = DefaultBurst(r)
	}
	want := map[float64]int{0.1: 1, 0.5: 1, 1: 2, 2: 4, 2.2: 5, 50: 100}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// discard is a ResponseWriter that keeps nothing, so the benchmarks
// measure the middleware rather than a recorder.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// BenchmarkTenantRate is the middleware's cost per request: an allowed
// SCIM request (check, status capture, charge) and a flood of 401s (check
// only), against the bare handler.
func BenchmarkTenantRate(b *testing.B) {
	noop := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	// A rate no benchmark reaches, so every request runs the handler.
	l := NewTenantRate(TenantRateConfig{Rate: 1e12, Burst: 1 << 30})
	cases := []struct {
		name  string
		h     http.Handler
		token bool
	}{
		{"bare handler", noop, true},
		{"charged", l.Handler(noop), true},
		{"refused by the handler (401)", l.Handler(noop), false},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/t/acme/scim/v2/Users", nil)
			if c.token {
				req.Header.Set("Authorization", "Bearer good")
			}
			w := &discard{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				c.h.ServeHTTP(w, req)
			}
		})
	}
	b.Run("charged, parallel, 100 tenants", func(b *testing.B) {
		h := l.Handler(noop)
		reqs := make([]*http.Request, 100)
		for i := range reqs {
			reqs[i] = httptest.NewRequest("GET", fmt.Sprintf("/t/t%d/scim/v2/Users", i), nil)
			reqs[i].Header.Set("Authorization", "Bearer good")
		}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			w := &discard{h: http.Header{}}
			i := 0
			for pb.Next() {
				h.ServeHTTP(w, reqs[i%len(reqs)])
				i++
			}
		})
	})
}
