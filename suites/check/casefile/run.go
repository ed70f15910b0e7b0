package casefile

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// maxResponse bounds how much of a response body a step reads.
const maxResponse = 4 << 20

// RunError is what Run returns when a case fails: every failed step, each
// with its request, what did not match and an excerpt of the response.
type RunError struct {
	Case     string   // the case id
	Title    string   // the case title
	Failures []string // one block of text per failed step
}

// Error lists every failure, one step per block.
func (e *RunError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "casefile: %s (%s): %d step(s) failed", e.Case, e.Title, len(e.Failures))
	for _, f := range e.Failures {
		b.WriteString("\n")
		b.WriteString(f)
	}
	return b.String()
}

// Run plays the case against the SCIM service at baseURL (such as
// http://127.0.0.1:8080/t/acme/scim/v2), sending token as the bearer token
// unless a step says otherwise. A nil client means http.DefaultClient.
// It returns nil when every expectation held, else a *RunError listing all
// of them. A step whose request cannot be built (an unknown {{var}}) or
// sent ends the case, since later steps depend on it.
func (c Case) Run(ctx context.Context, baseURL, token string, client *http.Client) error {
	if client == nil {
		client = http.DefaultClient
	}
	vars := map[string]string{"rand": randSuffix()}
	base := strings.TrimRight(baseURL, "/")
	var failures []string
	for i, s := range c.Steps {
		problems, head, fatal := runStep(ctx, s, base, token, client, vars)
		if len(problems) > 0 {
			failures = append(failures, fmt.Sprintf("  step %d: %s\n    %s", i+1, head, strings.Join(problems, "\n    ")))
		}
		if fatal {
			if i+1 < len(c.Steps) {
				failures = append(failures, fmt.Sprintf("  steps %d-%d not run", i+2, len(c.Steps)))
			}
			break
		}
	}
	if len(failures) == 0 {
		return nil
	}
	return &RunError{Case: c.ID, Title: c.Title, Failures: failures}
}

func randSuffix() string {
	b := make([]byte, 5)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b)
}

// runStep sends one request and checks the response. head describes the
// request (and status); fatal reports that the case cannot go on.
func runStep(ctx context.Context, s Step, base, token string, client *http.Client, vars map[string]string) (problems []string, head string, fatal bool) {
	p, err := expand(s.Path, vars)
	if err != nil {
		return []string{err.Error()}, s.Method + " " + s.Path, true
	}
	head = s.Method + " " + p
	var body []byte
	switch {
	case s.RawBody != nil:
		raw, err := expand(*s.RawBody, vars)
		if err != nil {
			return []string{err.Error()}, head, true
		}
		body = []byte(raw)
	case len(s.Body) > 0:
		v, err := decode(s.Body)
		if err != nil {
			return []string{"bad body in case file: " + err.Error()}, head, true
		}
		if v, err = expandValue(v, vars); err != nil {
			return []string{err.Error()}, head, true
		}
		if body, err = json.Marshal(v); err != nil {
			return []string{"bad body in case file: " + err.Error()}, head, true
		}
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, s.Method, base+p, rd)
	if err != nil {
		return []string{"cannot build request: " + err.Error()}, head, true
	}
	req.Header.Set("Accept", "application/scim+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json; charset=utf-8")
	}
	switch {
	case s.NoAuth:
	case s.Token != nil:
		t, err := expand(*s.Token, vars)
		if err != nil {
			return []string{err.Error()}, head, true
		}
		req.Header.Set("Authorization", "Bearer "+t)
	default:
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range s.Headers {
		v, err := expand(v, vars)
		if err != nil {
			return []string{err.Error()}, head, true
		}
		if v == "" {
			req.Header.Del(k) // "" removes a default header, e.g. Content-Type
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return []string{"request failed: " + err.Error()}, head, true
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return []string{"reading the response: " + err.Error()}, head, true
	}
	head += " → " + strconv.Itoa(resp.StatusCode)
	problems = check(s, resp, data, vars)
	if len(problems) > 0 {
		problems = append(problems, "response: "+excerpt(data))
	}
	return problems, head, false
}

// check compares one response with the step's expectations and performs
// its captures; it returns what did not match.
func check(s Step, resp *http.Response, data []byte, vars map[string]string) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	e := s.Expect

	ok := false
	for _, st := range e.Status {
		ok = ok || st == resp.StatusCode
	}
	if !ok {
		add("status %d, want one of %v", resp.StatusCode, e.Status)
	}
	if e.ContentType != "" && !containsFold(resp.Header.Get("Content-Type"), e.ContentType) {
		add("Content-Type %q, want it to contain %q", resp.Header.Get("Content-Type"), e.ContentType)
	}
	for _, k := range sortedKeys(e.HeaderHas) {
		want, err := expand(e.HeaderHas[k], vars)
		if err != nil {
			add("%v", err)
			continue
		}
		if got := resp.Header.Get(k); !containsFold(got, want) {
			add("header %s %q, want it to contain %q", k, got, want)
		}
	}

	needJSON := e.Has != nil || len(e.Equals) > 0 || len(e.Absent) > 0 || len(e.Len) > 0 || len(e.None) > 0
	for _, p := range s.Capture {
		needJSON = needJSON || !strings.HasPrefix(p, "header:")
	}
	var doc any
	if needJSON {
		var err error
		if doc, err = decode(data); err != nil {
			add("body is not JSON: %v", err)
			// Header captures can still be made.
			for _, v := range sortedKeys(s.Capture) {
				if name, ok := strings.CutPrefix(s.Capture[v], "header:"); ok {
					captureHeader(resp, v, name, vars, add)
				}
			}
			return problems
		}
	}

	if e.Has != nil {
		want, err := expandValue(e.Has, vars)
		if err != nil {
			add("%v", err)
		} else if why := subset(want, doc, ""); why != "" {
			add("has: %s", why)
		}
	}
	for _, p := range sortedKeys(e.Equals) {
		want, err := expandValue(e.Equals[p], vars)
		if err != nil {
			add("%v", err)
			continue
		}
		got, found := Lookup(doc, p)
		switch {
		case !found:
			add("equals %s: absent, want %s", p, compact(want))
		case !equal(want, got):
			add("equals %s: got %s, want %s", p, compact(got), compact(want))
		}
	}
	for _, p := range e.Absent {
		if got, found := Lookup(doc, p); found && !unassigned(got) {
			add("absent %s: present as %s", p, compact(got))
		}
	}
	for _, p := range sortedKeys(e.Len) {
		want := e.Len[p]
		got, found := Lookup(doc, p)
		n := 0
		switch g := got.(type) {
		case []any:
			n = len(g)
		case map[string]any:
			n = len(g)
		case nil:
		default:
			add("len %s: %s is not an array", p, compact(got))
			continue
		}
		if n != want {
			if !found {
				add("len %s: absent, want %d", p, want)
			} else {
				add("len %s: got %d, want %d", p, n, want)
			}
		}
	}
	for _, p := range sortedKeys(e.None) {
		got, found := Lookup(doc, p)
		if !found || got == nil {
			continue
		}
		arr, isArr := got.([]any)
		if !isArr {
			add("none %s: %s is not an array", p, compact(got))
			continue
		}
		for _, forbidden := range e.None[p] {
			f, err := expandValue(forbidden, vars)
			if err != nil {
				add("%v", err)
				continue
			}
			for i, el := range arr {
				if subset(f, el, "") == "" {
					add("none %s: element %d %s matches %s", p, i, compact(el), compact(f))
				}
			}
		}
	}

	for _, v := range sortedKeys(s.Capture) {
		src := s.Capture[v]
		if name, ok := strings.CutPrefix(src, "header:"); ok {
			captureHeader(resp, v, name, vars, add)
			continue
		}
		got, found := Lookup(doc, src)
		if !found || got == nil {
			add("capture %s: %s is absent", v, src)
			continue
		}
		vars[v] = scalarString(got)
	}
	return problems
}

func captureHeader(resp *http.Response, v, name string, vars map[string]string, add func(string, ...any)) {
	h := resp.Header.Get(strings.TrimSpace(name))
	if h == "" {
		add("capture %s: no %s header", v, name)
		return
	}
	vars[v] = h
}

// expand replaces {{name}} in s with vars[name]; an unknown name is an error.
func expand(s string, vars map[string]string) (string, error) {
	if !strings.Contains(s, "{{") {
		return s, nil
	}
	var b strings.Builder
	rest := s
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			b.WriteString(rest)
			return b.String(), nil
		}
		j := strings.Index(rest[i+2:], "}}")
		if j < 0 {
			b.WriteString(rest)
			return b.String(), nil
		}
		name := strings.TrimSpace(rest[i+2 : i+2+j])
		v, ok := vars[name]
		if !ok {
			return "", fmt.Errorf("unknown variable {{%s}} (not captured by an earlier step)", name)
		}
		b.WriteString(rest[:i])
		b.WriteString(v)
		rest = rest[i+2+j+2:]
	}
}

// expandValue expands {{vars}} in every string and key of a decoded JSON value.
func expandValue(v any, vars map[string]string) (any, error) {
	switch x := v.(type) {
	case string:
		return expand(x, vars)
	case []any:
		out := make([]any, len(x))
		for i, el := range x {
			e, err := expandValue(el, vars)
			if err != nil {
				return nil, err
			}
			out[i] = e
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, el := range x {
			k2, err := expand(k, vars)
			if err != nil {
				return nil, err
			}
			e, err := expandValue(el, vars)
			if err != nil {
				return nil, err
			}
			out[k2] = e
		}
		return out, nil
	default:
		return v, nil
	}
}

// decode parses JSON keeping numbers as json.Number.
func decode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("data after the JSON value")
	}
	return v, nil
}

func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	default:
		return compact(v)
	}
}

func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// excerpt returns the start of a response body on one line.
func excerpt(data []byte) string {
	const n = 400
	var buf bytes.Buffer
	if json.Compact(&buf, data) == nil {
		data = buf.Bytes()
	}
	s := strings.Join(strings.Fields(string(data)), " ")
	if s == "" {
		return "(empty body)"
	}
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
