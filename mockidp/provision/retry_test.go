package provision

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim"
)

// noSleep is an Engine.Sleep that returns at once.
func noSleep(context.Context, time.Duration) error { return nil }

var t1 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestRetries(t *testing.T) {
	// The SCIM server's clock agrees with the engine's (t1), unless a row
	// says otherwise with datedTooMany.
	datedTooMany := func(retryAfter string, date time.Time) response {
		r := response{Status: 429, Body: scimError(429, "", "slow down"), Header: map[string]string{"Date": date.Format(http.TimeFormat)}}
		if retryAfter != "" {
			r.Header["Retry-After"] = retryAfter
		}
		return r
	}
	tooMany := func(retryAfter string) response { return datedTooMany(retryAfter, t1) }
	unavailable := response{Status: 503, Body: scimError(503, "", "down")}
	deactivate := func(ctx context.Context, e *Engine, t Target) error { return e.SetActive(ctx, t, aliceID, false) }
	tests := []struct {
		name     string
		engine   Engine
		answers  []response
		run      func(ctx context.Context, e *Engine, t Target) error
		statuses []int           // the status of every answer the engine got
		waits    []time.Duration // exact waits; nil with jitter set
		jitter   [][2]time.Duration
		err      string // part of the error; "" = success
		is       error
	}{
		{
			name:     "429 with Retry-After in seconds",
			answers:  []response{tooMany("7"), {Status: 204}},
			run:      deactivate,
			statuses: []int{429, 204},
			waits:    []time.Duration{7 * time.Second},
		},
		{
			name:     "429 with Retry-After as an HTTP date",
			answers:  []response{tooMany(t1.Add(90 * time.Second).Format(http.TimeFormat)), {Status: 204}},
			run:      deactivate,
			statuses: []int{429, 204},
			waits:    []time.Duration{90 * time.Second},
		},
		{
			name:     "a Retry-After date in the past means at once",
			answers:  []response{tooMany(t1.Add(-time.Hour).Format(http.TimeFormat)), {Status: 204}},
			run:      deactivate,
			statuses: []int{429, 204},
			waits:    []time.Duration{0},
		},
		{
			name:     "a Retry-After of an hour is capped at five minutes",
			answers:  []response{tooMany("3600"), {Status: 204}},
			run:      deactivate,
			statuses: []int{429, 204},
			waits:    []time.Duration{MaxWait},
		},
		{
			name:     "a Retry-After date a day away is capped too",
			answers:  []response{tooMany(t1.Add(24 * time.Hour).Format(http.TimeFormat)), {Status: 204}},
			run:      deactivate,
			statuses: []int{429, 204},
			waits:    []time.Duration{MaxWait},
		},
		{
			// The mock's clock is a year behind the server's (a test fixed
			// it, or never moved it as far): the date counts from the
			// server's Date, not from the mock's clock, which made it a
			// year away and the wait the longest.
			name:     "a Retry-After date counts from the answer's Date",
			answers:  []response{datedTooMany(t1.AddDate(1, 0, 0).Add(30*time.Second).Format(http.TimeFormat), t1.AddDate(1, 0, 0)), {Status: 204}},
			run:      deactivate,
			statuses: []int{429, 204},
			waits:    []time.Duration{30 * time.Second},
		},
		{
			name:     "a Retry-After date counts from the answer's Date, mock clock ahead",
			answers:  []response{datedTooMany(t1.AddDate(0, 0, -1).Add(20*time.Second).Format(http.TimeFormat), t1.AddDate(0, 0, -1)), {Status: 204}},
			run:      deactivate,
			statuses: []int{429, 204},
			waits:    []time.Duration{20 * time.Second},
		},
		{
			name:     "delay-seconds ignores the Date",
			answers:  []response{datedTooMany("4", t1.AddDate(5, 0, 0)), {Status: 204}},
			run:      deactivate,
			statuses: []int{429, 204},
			waits:    []time.Duration{4 * time.Second},
		},
		{
			name:     "an unreadable Retry-After falls back to backoff",
			answers:  []response{tooMany("soon"), {Status: 204}},
			run:      deactivate,
			statuses: []int{429, 204},
			jitter:   [][2]time.Duration{{500 * time.Millisecond, time.Second}},
		},
		{
			name:     "5xx back off exponentially with jitter",
			answers:  []response{unavailable, {Status: 500, Body: scimError(500, "", "boom")}, {Status: 502}, {Status: 200, Body: userJSON(false, nil)}},
			run:      deactivate,
			statuses: []int{503, 500, 502, 200},
			jitter:   [][2]time.Duration{{500 * time.Millisecond, time.Second}, {time.Second, 2 * time.Second}, {2 * time.Second, 4 * time.Second}},
		},
		{
			name:     "a configured backoff",
			engine:   Engine{Backoff: 10 * time.Second},
			answers:  []response{unavailable, {Status: 204}},
			run:      deactivate,
			statuses: []int{503, 204},
			jitter:   [][2]time.Duration{{5 * time.Second, 10 * time.Second}},
		},
		{
			name:     "gives up after four attempts",
			answers:  []response{unavailable, unavailable, unavailable, unavailable, {Status: 204}},
			run:      deactivate,
			statuses: []int{503, 503, 503, 503},
			jitter:   [][2]time.Duration{{500 * time.Millisecond, time.Second}, {time.Second, 2 * time.Second}, {2 * time.Second, 4 * time.Second}},
			err:      "503 Service Unavailable",
		},
		{
			name:     "MaxAttempts 1 sends once",
			engine:   Engine{MaxAttempts: 1},
			answers:  []response{unavailable, {Status: 204}},
			run:      deactivate,
			statuses: []int{503},
			err:      "503 Service Unavailable",
		},
		{
			name:     "MaxAttempts 2 with Retry-After",
			engine:   Engine{MaxAttempts: 2},
			answers:  []response{tooMany("1"), tooMany("1"), {Status: 204}},
			run:      deactivate,
			statuses: []int{429, 429},
			waits:    []time.Duration{time.Second},
			err:      "429 Too Many Requests",
		},
		{
			name:     "4xx other than 429 is final",
			answers:  []response{{Status: 409, Body: scimError(409, "uniqueness", "taken")}, {Status: 204}},
			run:      deactivate,
			statuses: []int{409},
			err:      "409 Conflict",
			is:       scim.ErrUniqueness,
		},
		{
			name:     "a 404 on the GET before a push stops it",
			answers:  []response{{Status: 404, Body: scimError(404, "", "gone")}, {Status: 201, Body: userJSON(true, nil)}},
			run:      func(ctx context.Context, e *Engine, t Target) error { return e.UpdateUser(ctx, t, aliceID, alice) },
			statuses: []int{404},
			err:      "404 Not Found",
			is:       ErrStopped,
		},
		{
			name: "a retried GET then PUT",
			answers: []response{unavailable, {Status: 200, Body: userJSON(true, nil)},
				tooMany("2"), {Status: 200, Body: userJSON(true, nil)}},
			run:      func(ctx context.Context, e *Engine, t Target) error { return e.UpdateUser(ctx, t, aliceID, alice) },
			statuses: []int{503, 200, 429, 200},
			jitter:   [][2]time.Duration{{500 * time.Millisecond, time.Second}, {2 * time.Second, 2 * time.Second}},
		},
		{
			name:     "Test API Credentials is not retried",
			answers:  []response{unavailable, {Status: 200, Body: listJSON()}},
			run:      func(ctx context.Context, e *Engine, t Target) error { return e.TestCredentials(ctx, t) },
			statuses: []int{503},
			err:      "503",
		},
		{
			name:     "the group list read on Save is not retried",
			answers:  []response{tooMany("1"), {Status: 200, Body: listJSON()}},
			run:      func(ctx context.Context, e *Engine, t Target) error { return e.SaveToAppSettings(ctx, t) },
			statuses: []int{429},
			err:      "429",
		},
		{
			name:     "an import page is retried",
			answers:  []response{{Status: 200, Body: pageJSON(101, 1, userJSON(true, nil))}, tooMany("3"), {Status: 200, Body: pageJSON(101, 101, userJSON(true, map[string]any{"id": "b"}))}},
			run:      func(ctx context.Context, e *Engine, t Target) error { _, err := e.ImportUsers(ctx, t); return err },
			statuses: []int{200, 429, 200},
			waits:    []time.Duration{3 * time.Second},
		},
		{
			name:    "a group push member batch is retried",
			answers: []response{{Status: 201, Body: groupJSON("Eng")}, {Status: 204}, tooMany("1"), {Status: 204}},
			run: func(ctx context.Context, e *Engine, t Target) error {
				_, err := e.PushGroup(ctx, t, "Eng", []Member{bob})
				return err
			},
			statuses: []int{201, 204, 429, 204},
			waits:    []time.Duration{time.Second},
		},
		{
			name:    "a lookup answered 404 means no such user",
			answers: []response{{Status: 404, Body: scimError(404, "", "User not found")}, {Status: 201, Body: userJSON(true, nil)}},
			run: func(ctx context.Context, e *Engine, t Target) error {
				_, err := e.CreateUser(ctx, t, alice)
				return err
			},
			statuses: []int{404, 201},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t, tt.answers)
			var waits []time.Duration
			var attempts []Attempt
			e := tt.engine
			e.Client, e.Now = rec.srv.Client(), func() time.Time { return t1 }
			e.Sleep = func(_ context.Context, d time.Duration) error {
				waits = append(waits, d)
				return nil
			}
			ctx := WithTrace(context.Background(), &Trace{Attempt: func(a Attempt) { attempts = append(attempts, a) }})
			err := tt.run(ctx, &e, rec.target())
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("engine: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("err = %v, want one containing %q", err, tt.err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
			var statuses []int
			for _, x := range rec.exchanges(t) {
				statuses = append(statuses, x.Response.Status)
			}
			if diff := cmp.Diff(tt.statuses, statuses); diff != "" {
				t.Errorf("answers (-want +got):\n%s", diff)
			}
			if tt.jitter == nil {
				if diff := cmp.Diff(tt.waits, waits); diff != "" {
					t.Errorf("waits (-want +got):\n%s", diff)
				}
			} else {
				if len(waits) != len(tt.jitter) {
					t.Fatalf("waits %v, want %d", waits, len(tt.jitter))
				}
				for i, w := range waits {
					if w < tt.jitter[i][0] || w > tt.jitter[i][1] {
						t.Errorf("wait %d = %v, want within %v", i, w, tt.jitter[i])
					}
				}
			}
			// The trace saw every attempt, with the wait that followed it.
			if len(attempts) != len(statuses) {
				t.Fatalf("trace saw %d attempts, the server %d", len(attempts), len(statuses))
			}
			var traced []time.Duration
			for i, a := range attempts {
				if a.Status != statuses[i] {
					t.Errorf("attempt %d status %d, want %d", i, a.Status, statuses[i])
				}
				if a.Wait > 0 || (i < len(attempts)-1 && attempts[i+1].Method == a.Method && attempts[i+1].Path == a.Path && retryableStatus(a.Status)) {
					traced = append(traced, a.Wait)
				}
			}
			if diff := cmp.Diff(waits, traced); diff != "" {
				t.Errorf("traced waits (-slept +traced):\n%s", diff)
			}
		})
	}
}

func retryableStatus(s int) bool { return s == 429 || s >= 500 }

func TestTraceShape(t *testing.T) {
	rec := newRecorder(t, []response{{Status: 429, Body: scimError(429, "", "x"), Header: map[string]string{"Retry-After": "5"}}, {Status: 204}})
	var got []Attempt
	ctx := WithTrace(context.Background(), &Trace{Attempt: func(a Attempt) { got = append(got, a) }})
	e := &Engine{Client: rec.srv.Client(), Sleep: noSleep}
	if err := e.SetActive(ctx, rec.target(), "a b", true); err != nil {
		t.Fatal(err)
	}
	want := []Attempt{
		{Method: "PATCH", Path: "/Users/a%20b", Status: 429, RetryAfter: "5", Wait: 5 * time.Second},
		{Method: "PATCH", Path: "/Users/a%20b", Status: 204},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
}

// A server that drops the connection is retried; the trace shows the
// transport error.
func TestTransportErrorIsRetried(t *testing.T) {
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		if first {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	var got []Attempt
	ctx := WithTrace(context.Background(), &Trace{Attempt: func(a Attempt) { got = append(got, a) }})
	e := &Engine{Client: srv.Client(), Sleep: noSleep}
	if err := e.SetActive(ctx, Target{BaseURL: srv.URL, Token: "t"}, "u1", false); err != nil {
		t.Fatalf("SetActive: %v", err)
	}
	if len(got) != 2 || got[0].Err == nil || got[0].Status != 0 || got[0].Wait == 0 || got[1].Status != 204 {
		t.Errorf("attempts %+v, want a transport error then 204", got)
	}
}

// A context that ends while the engine waits ends the action with the
// last answer's error; no further request is sent.
func TestCancelDuringWait(t *testing.T) {
	rec := newRecorder(t, []response{{Status: 503}, {Status: 204}})
	ctx, cancel := context.WithCancel(context.Background())
	e := &Engine{Client: rec.srv.Client(), Sleep: func(ctx context.Context, _ time.Duration) error {
		cancel()
		return ctx.Err()
	}}
	err := e.SetActive(ctx, rec.target(), aliceID, false)
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("err = %v, want the 503", err)
	}
	if n := len(rec.exchanges(t)); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

// The default Sleep is a timer that a done context interrupts.
func TestDefaultSleepHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e := &Engine{}
	if err := e.sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleep = %v, want context.Canceled", err)
	}
	if err := e.sleep(context.Background(), 0); err != nil {
		t.Errorf("sleep(0) = %v", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{" 12 ", 12 * time.Second, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"99999999999999999999", MaxWait, true}, // past int64: still a long wait, not the short backoff
		{"00000000000000000000012", 12 * time.Second, true},
		{"+5", 0, false},
		{"-0", 0, false},
		{"5 s", 0, false},
		{"٥", 0, false}, // an Arabic-Indic digit five
		{"86400", MaxWait, true},
		{t1.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, true},
		{"Fri, 02 Jan 2026 03:04:35 GMT", 30 * time.Second, true},
		{"Friday, 02-Jan-26 03:04:35 GMT", 30 * time.Second, true}, // RFC 850, which RFC 9110 still accepts
		{t1.Add(-30 * time.Second).Format(http.TimeFormat), 0, true},
		{"tomorrow", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parseRetryAfter(tt.in, t1)
			if got != tt.want || ok != tt.ok {
				t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestBackoffIsCapped(t *testing.T) {
	e := &Engine{Backoff: time.Minute}
	for n := 1; n <= 40; n++ {
		if d := e.wait(n, ""); d > MaxWait || d < 0 {
			t.Fatalf("wait(%d) = %v, beyond [0, %v]", n, d, MaxWait)
		}
	}
	if d := e.wait(10, ""); d < MaxWait/2 {
		t.Errorf("wait(10) = %v, want at least %v", d, MaxWait/2)
	}
}
