package check

// This file drives the mock Okta over its HTTP test controls (/__mock/):
// reset, faults, queued logins and errors, and the request log.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// rpMockRequest is one entry of the mock's request log (GET /__mock/requests).
type rpMockRequest struct {
	Time       time.Time         `json:"time"`
	Endpoint   string            `json:"endpoint"`
	AuthServer string            `json:"authServer"`
	Method     string            `json:"method"`
	ClientID   string            `json:"clientId"`
	Params     map[string]string `json:"params"`
	Status     int               `json:"status"`
}

// rpMockError is an error of the mock's test controls, with the control's
// answer.
type rpMockError struct {
	method, path string
	status       int
	body         string
	err          error
}

func (e *rpMockError) Error() string {
	switch {
	case e.err != nil:
		return fmt.Sprintf("the mock's test control %s %s failed: %v", e.method, e.path, e.err)
	case e.status == http.StatusNotFound && e.path == "/__mock/reset":
		return fmt.Sprintf("the mock has no test controls (%s %s answered 404 %s): --mock-url must be an idpkit mock Okta", e.method, e.path, e.body)
	case e.status == http.StatusUnauthorized || e.status == http.StatusForbidden:
		return fmt.Sprintf("the mock refused its API token (%s %s answered %d %s)", e.method, e.path, e.status, e.body)
	}
	return fmt.Sprintf("the mock's test control %s %s answered %d %s", e.method, e.path, e.status, e.body)
}

func (e *rpMockError) Unwrap() error { return e.err }

// mock calls one of the mock's test controls; out, when not nil, receives
// the JSON answer. Any status of 300 and above is an error.
func (t *RPTarget) mock(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return &rpMockError{method: method, path: path, err: err}
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(t.MockURL, "/")+path, body)
	if err != nil {
		return &rpMockError{method: method, path: path, err: err}
	}
	req.Header.Set("Authorization", "SSWS "+t.MockToken)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := t.transport().Do(req)
	if err != nil {
		return &rpMockError{method: method, path: path, err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return &rpMockError{method: method, path: path, err: err}
	}
	if resp.StatusCode >= 300 {
		return &rpMockError{method: method, path: path, status: resp.StatusCode, body: excerpt(data, 300)}
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return &rpMockError{method: method, path: path, err: fmt.Errorf("decode the answer: %w", err)}
		}
	}
	return nil
}

// reset disarms the mock's faults and empties its queues and request log.
func (t *RPTarget) reset(ctx context.Context) error {
	return t.mock(ctx, "POST", "/__mock/reset", nil, nil)
}

// queueLogin makes the mock sign Login in at the next authorize request.
func (t *RPTarget) queueLogin(ctx context.Context) error {
	in := map[string]any{"login": t.Login}
	if strings.HasPrefix(t.Login, "00u") && !strings.Contains(t.Login, "@") {
		in = map[string]any{"userId": t.Login}
	}
	if t.ClientID != "" {
		in["clientId"] = t.ClientID
	}
	return t.mock(ctx, "POST", "/__mock/login", in, nil)
}

// advance moves the mock's clock and, with RPTarget.Advance, the RP's on
// by d; without RPTarget.Advance (or for d ≤ 0) it does nothing.
func (t *RPTarget) advance(ctx context.Context, d time.Duration) error {
	if t.Advance == nil || d <= 0 {
		return nil
	}
	if err := t.mock(ctx, "POST", "/__mock/clock", map[string]any{"advance": d.String()}, nil); err != nil {
		return err
	}
	t.Advance(d)
	return nil
}

// pause lets d pass for the RP: with RPTarget.Advance it moves both
// clocks on; without, it waits d of real time (or until ctx is done).
func (t *RPTarget) pause(ctx context.Context, d time.Duration) error {
	if t.Advance != nil {
		return t.advance(ctx, d)
	}
	if t.wait != nil {
		return t.wait(ctx, d)
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// arm arms a one-shot fault.
func (t *RPTarget) arm(ctx context.Context, name string) error {
	return t.mock(ctx, "POST", "/__mock/faults", map[string]any{"name": name}, nil)
}

// requests reads the mock's request log.
func (t *RPTarget) requests(ctx context.Context) ([]rpMockRequest, error) {
	var out struct {
		Requests []rpMockRequest `json:"requests"`
	}
	err := t.mock(ctx, "GET", "/__mock/requests", nil, &out)
	return out.Requests, err
}

// availableFaults is the mock's fault list, read once per run.
func (t *RPTarget) availableFaults(ctx context.Context) ([]RPFaultInfo, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.read {
		return t.faults, nil
	}
	var out struct {
		Available []RPFaultInfo `json:"available"`
	}
	if err := t.mock(ctx, "GET", "/__mock/faults", nil, &out); err != nil {
		return nil, err
	}
	t.faults, t.read = out.Available, true
	return t.faults, nil
}

// rpCount counts the log's requests to endpoint.
func rpCount(reqs []rpMockRequest, endpoint string) int {
	n := 0
	for _, r := range reqs {
		if r.Endpoint == endpoint {
			n++
		}
	}
	return n
}

// rpTokensOK counts the log's token requests answered 200.
func rpTokensOK(reqs []rpMockRequest) int {
	n := 0
	for _, r := range reqs {
		if r.Endpoint == "token" && r.Status == 200 {
			n++
		}
	}
	return n
}

// rpAfter returns the requests logged after the last one to endpoint (all
// of them when there is none); ok is false when there is none.
func rpAfter(reqs []rpMockRequest, endpoint string) (rest []rpMockRequest, ok bool) {
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Endpoint == endpoint {
			return reqs[i+1:], true
		}
	}
	return reqs, false
}

// rpLogLine is the request log on one line: "authorize 302, token 200, …".
func rpLogLine(reqs []rpMockRequest) string {
	if len(reqs) == 0 {
		return "(none)"
	}
	parts := make([]string, len(reqs))
	for i, r := range reqs {
		parts[i] = fmt.Sprintf("%s %d", r.Endpoint, r.Status)
	}
	return strings.Join(parts, ", ")
}
