package check

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Exchange is one request to the target and what came back.
type Exchange struct {
	Method string // the request's method
	Path   string // relative to the base URL, with the query
	// ReqHeader holds the request headers the check set (Accept,
	// Content-Type, If-Match, …); never Authorization, so that a report
	// cannot show a token.
	ReqHeader http.Header
	ReqBody   []byte        // the request's body, nil when it had none
	Status    int           // the response's status code
	Header    http.Header   // the response's headers
	Body      []byte        // the response's body (at most 8 MiB)
	JSON      any           // the decoded body, nil when it is not JSON
	Duration  time.Duration // from sending the request to the end of the body

	seq    int  // the order of the exchange in its check (see runState)
	tested bool // its filter is the rule under test, not a lookup (see lookupHint)
}

// shownHeaders are the request headers String shows: the ones a failure
// about media types or preconditions is about.
var shownHeaders = []string{"Content-Type", "If-Match", "If-None-Match"}

// String renders the exchange compactly for a failure report: the method,
// path and request body (cut after about 300 bytes) followed by the
// request's Content-Type, If-Match and If-None-Match when set, then the
// status, Content-Type and response body (cut after about 500 bytes).
func (x *Exchange) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "  request:  %s %s", x.Method, x.Path)
	if len(x.ReqBody) > 0 {
		fmt.Fprintf(&b, " %s", excerpt(x.ReqBody, 300))
	}
	var hs []string
	for _, k := range shownHeaders {
		for _, v := range x.ReqHeader.Values(k) {
			hs = append(hs, k+": "+v)
		}
	}
	if len(hs) > 0 {
		fmt.Fprintf(&b, " [%s]", strings.Join(hs, "; "))
	}
	ct := x.Header.Get("Content-Type")
	if ct == "" {
		ct = "(no Content-Type)"
	}
	body := excerpt(x.Body, 500)
	if body == "" {
		body = "(empty body)"
	}
	fmt.Fprintf(&b, "\n  response: %d %s %s", x.Status, ct, body)
	return b.String()
}

// excerpt is b with its white space collapsed, cut after about n bytes
// at a character boundary.
func excerpt(b []byte, n int) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > n {
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n] + "…"
	}
	return s
}

type reqOptions struct {
	token       *string
	auth        *string
	contentType string
	raw         []byte
	header      http.Header
}

type reqOption func(*reqOptions)

func withToken(tok string) reqOption       { return func(o *reqOptions) { o.token = &tok } }
func withAuthorization(h string) reqOption { return func(o *reqOptions) { o.auth = &h } }
func withContentType(ct string) reqOption  { return func(o *reqOptions) { o.contentType = ct } }
func withRaw(b []byte) reqOption           { return func(o *reqOptions) { o.raw = b } }

// withHeader adds request headers (If-Match, If-None-Match) to a request.
func withHeader(h http.Header) reqOption { return func(o *reqOptions) { o.header = h } }

// send performs one request the way Okta's SCIM client does.
func (t *Target) send(ctx context.Context, method, path string, body any, opts ...reqOption) (*Exchange, error) {
	var o reqOptions
	for _, f := range opts {
		f(&o)
	}
	x := &Exchange{Method: method, Path: path}
	var rd io.Reader
	switch {
	case o.raw != nil:
		x.ReqBody = o.raw
	case body != nil:
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("check: encode request: %w", err)
		}
		x.ReqBody = b
	}
	if x.ReqBody != nil {
		rd = bytes.NewReader(x.ReqBody)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(t.BaseURL, "/")+path, rd)
	if err != nil {
		return nil, fmt.Errorf("check: %s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/scim+json")
	req.Header.Set("User-Agent", "idpkit-conform (Okta SCIM Client 1.0.0 compatible)")
	if x.ReqBody != nil {
		ct := o.contentType
		if ct == "" {
			ct = "application/scim+json; charset=utf-8"
		}
		req.Header.Set("Content-Type", ct)
	}
	for k, vs := range o.header {
		req.Header[k] = vs
	}
	x.ReqHeader = req.Header.Clone()
	x.ReqHeader.Del("Authorization") // a report never shows a token
	tok := t.Token
	if o.token != nil {
		tok = *o.token
	}
	switch {
	case o.auth != nil:
		req.Header.Set("Authorization", *o.auth)
	case tok != "":
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	client := t.Client
	if client == nil {
		client = http.DefaultClient
	}
	start := t.now()
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("check: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	x.Body, err = io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	x.Duration = t.now().Sub(start)
	if err != nil {
		return nil, fmt.Errorf("check: %s %s: reading the response: %w", method, path, err)
	}
	x.Status, x.Header = resp.StatusCode, resp.Header
	if len(bytes.TrimSpace(x.Body)) > 0 {
		var v any
		d := json.NewDecoder(bytes.NewReader(x.Body))
		d.UseNumber()
		if d.Decode(&v) == nil {
			x.JSON = v
		}
	}
	runOf(ctx).sent(x)
	if method == "POST" && x.Status == http.StatusCreated && (path == "/Users" || path == "/Groups") {
		if id := str(get(x.JSON, "id")); id != "" {
			t.remember(path + "/" + url.PathEscape(id))
		}
	}
	return x, nil
}

// probe gathers the problems of one check.
type probe struct {
	problems []string
	run      *runState // the running check's state; nil outside RunOne
}

// Failure is the error a check returns: every problem it saw.
type Failure struct {
	Problems []string // one sentence each, followed by the exchanges it is about
}

// Error lists the problems, one per line.
func (f *Failure) Error() string { return strings.Join(f.Problems, "\n") }

func (p *probe) failf(x *Exchange, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if x != nil {
		msg += p.render(x)
	}
	p.problems = append(p.problems, msg)
}

// err returns nil when nothing went wrong.
func (p *probe) err() error {
	if len(p.problems) == 0 {
		return nil
	}
	return &Failure{Problems: p.problems}
}

// status checks the status code and reports whether it was one of want.
func (p *probe) status(x *Exchange, want ...int) bool {
	for _, w := range want {
		if x.Status == w {
			return true
		}
	}
	hint := lookupHint(x, want)
	if hint != "" && p.run != nil && !p.run.firstHint() {
		hint = "; the check's own lookup filter was refused (said above)"
	}
	p.failf(x, "status %d, want %s%s", x.Status, joinInts(want), hint)
	return false
}

// lookupHint explains a refused filter that a check sent to find its own
// data (userName sw "<prefix>", id eq, userName eq): the check cannot test
// its rule on a server that refuses the filter, and the failure must say
// so rather than look like a failure of the rule itself.
func lookupHint(x *Exchange, want []int) string {
	if x.tested || x.Method != "GET" || !slices.Contains(want, http.StatusOK) ||
		x.Status != http.StatusBadRequest && x.Status != http.StatusNotFound && x.Status != http.StatusNotImplemented {
		return ""
	}
	_, q, _ := strings.Cut(x.Path, "?")
	v, err := url.ParseQuery(q)
	f := v.Get("filter")
	if err != nil || f == "" {
		return ""
	}
	what := "this check finds its own users and groups with the filter " + f
	if strings.Contains(f, ` sw "`) {
		what = "this check finds its own users with the filter " + f + ` (userName sw "<the check's prefix>" keeps other users out)`
	}
	return "; " + what + ", and the server refused it: the check needs that filter support (RFC 7644 §3.4.2.2) before it can test its rule"
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, " or ")
}

// scimJSON checks that the response says it is SCIM JSON.
func (p *probe) scimJSON(x *Exchange) {
	ct := strings.ToLower(x.Header.Get("Content-Type"))
	if !strings.HasPrefix(ct, "application/scim+json") && !strings.HasPrefix(ct, "application/json") {
		p.failf(x, "Content-Type %q, want application/scim+json (RFC 7644 §3.1)", x.Header.Get("Content-Type"))
	}
	if x.JSON == nil {
		p.failf(x, "the body is not JSON")
	}
}

// listResponse checks the ListResponse shape (RFC 7644 §3.4.2) and returns
// totalResults and the resources.
func (p *probe) listResponse(x *Exchange) (total int, resources []any) {
	p.scimJSON(x)
	if !hasSchema(x.JSON, "urn:ietf:params:scim:api:messages:2.0:ListResponse") {
		p.failf(x, "schemas does not contain the ListResponse URN")
	}
	for _, k := range []string{"totalResults", "itemsPerPage", "startIndex"} {
		if _, ok := get(x.JSON, k).(json.Number); !ok && !(k != "totalResults" && get(x.JSON, k) == nil) {
			p.failf(x, "%s is %v, want a JSON number", k, get(x.JSON, k))
		}
	}
	total = intOf(get(x.JSON, "totalResults"))
	rs := get(x.JSON, "Resources")
	switch v := rs.(type) {
	case []any:
		resources = v
	case nil:
		if total > 0 {
			p.failf(x, "Resources is missing but totalResults is %d", total)
		}
	default:
		p.failf(x, "Resources is %T, want an array", rs)
	}
	return total, resources
}

// errorResponse checks the SCIM error shape (RFC 7644 §3.12): the Error
// schema, status as a string equal to the HTTP status, and a detail.
func (p *probe) errorResponse(x *Exchange, scimType string) {
	p.scimJSON(x)
	if !hasSchema(x.JSON, "urn:ietf:params:scim:api:messages:2.0:Error") {
		p.failf(x, "schemas does not contain the Error URN (RFC 7644 §3.12)")
	}
	if s, ok := get(x.JSON, "status").(string); !ok || s != strconv.Itoa(x.Status) {
		p.failf(x, "status is %#v, want the string %q (RFC 7644 §3.12; Okta asserts a string)", get(x.JSON, "status"), strconv.Itoa(x.Status))
	}
	if d, _ := get(x.JSON, "detail").(string); d == "" {
		p.failf(x, "detail is missing")
	}
	if scimType != "" && !strings.EqualFold(str(get(x.JSON, "scimType")), scimType) {
		p.failf(x, "scimType is %q, want %q", str(get(x.JSON, "scimType")), scimType)
	}
}

// equal checks that the value at path equals want (compared as text).
func (p *probe) equal(x *Exchange, path string, want any) {
	got := get(x.JSON, path)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		p.failf(x, "%s is %s, want %s", path, show(got), show(want))
	}
}

// present checks that the value at path is present and not empty.
func (p *probe) present(x *Exchange, paths ...string) {
	for _, path := range paths {
		if v := get(x.JSON, path); v == nil || v == "" {
			p.failf(x, "%s is missing", path)
		}
	}
}
