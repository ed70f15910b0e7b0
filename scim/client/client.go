// Package client is a typed SCIM 2.0 client: the HTTP methods of RFC 7644 §3
// (create §3.3, retrieve and query §3.4.1–§3.4.2, replace §3.5.1, PATCH
// §3.5.2, delete §3.6) over the media type of RFC 7644 §8.1, with bearer
// authentication (RFC 6750 §2.1) and error responses decoded into
// *scim.Error (RFC 7644 §3.12).
//
// Query strings are encoded the way Okta encodes them (RFC 3986 §2.3
// unreserved characters kept, everything else percent-encoded, spaces as
// %20), for example
//
//	GET /Users?filter=userName%20eq%20%22alice%40example.com%22&startIndex=1&count=100
//
// The package uses only net/http and encoding/json so that it builds for
// GOOS=js GOARCH=wasm.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/idpkit/idpkit/scim"
)

// maxBody caps how much of a response body is read.
const maxBody = 16 << 20

// ErrEmptyBody is returned (wrapped) when a server answers a create or
// replace with a success status but no resource, which RFC 7644 §3.3 and
// §3.5.1 forbid and Okta treats as a failure.
var ErrEmptyBody = errors.New("client: response has no body")

// Client talks to one SCIM service. The zero value is not usable: BaseURL
// must be set. A Client is safe for concurrent use if its fields are not
// changed while requests run.
type Client struct {
	// BaseURL is the SCIM base URL, such as https://app.example/t/acme/scim/v2;
	// request paths are appended to it.
	BaseURL string
	// Token is sent as "Authorization: Bearer <Token>"; empty sends no
	// Authorization header.
	Token string
	// HTTP sends the requests; nil means http.DefaultClient.
	HTTP *http.Client
	// UserAgent, when set, is sent as the User-Agent header.
	UserAgent string
	// Header holds extra headers sent on every request (for example
	// Accept-Charset). They are added after the standard ones and replace
	// them when they have the same name.
	Header http.Header
}

// New returns a Client for the SCIM service at baseURL with a bearer token.
func New(baseURL, token string) *Client {
	return &Client{BaseURL: baseURL, Token: token}
}

// Response is a raw SCIM response.
type Response struct {
	Status int         // HTTP status code
	Header http.Header // response headers
	Body   []byte      // the body as received (at most 16 MiB)
}

// Do sends one request. path is relative to BaseURL and may carry a query
// string that is already encoded (see ListQuery.Encode). A non-nil body is
// encoded as JSON ([]byte and json.RawMessage are sent as they are) with
// Content-Type: application/scim+json; charset=utf-8. Every request carries
// Accept: application/scim+json.
//
// On a 2xx status with a non-empty body, the body is decoded into out when
// out is not nil (numbers as json.Number when out holds interfaces). On any
// other status, Do returns the Response together with an error that names
// the method, path and status and wraps the decoded *scim.Error, so
// errors.Is(err, scim.ErrUniqueness) works; a body that is not SCIM error
// JSON becomes an *scim.Error with that status and the text as detail.
func (c *Client) Do(ctx context.Context, method, path string, body any, out any) (*Response, error) {
	if c.BaseURL == "" {
		return nil, errors.New("client: no base URL")
	}
	var rd io.Reader
	if body != nil {
		var b []byte
		switch v := body.(type) {
		case []byte:
			b = v
		case json.RawMessage:
			b = v
		default:
			var err error
			if b, err = json.Marshal(body); err != nil {
				return nil, fmt.Errorf("client: %s %s: encode body: %w", method, path, err)
			}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url(path), rd)
	if err != nil {
		return nil, fmt.Errorf("client: %s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", scim.MediaType)
	if body != nil {
		req.Header.Set("Content-Type", scim.MediaType+"; charset=utf-8")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	for k, vs := range c.Header {
		req.Header.Del(k)
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	hresp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("client: %s %s: %w", method, path, err)
	}
	defer hresp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(hresp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("client: %s %s: read response: %w", method, path, err)
	}
	resp := &Response{Status: hresp.StatusCode, Header: hresp.Header, Body: raw}
	if resp.Status < 200 || resp.Status > 299 {
		return resp, fmt.Errorf("client: %s %s: %s: %w", method, path, statusText(resp.Status), decodeError(resp.Status, raw))
	}
	if out != nil && len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(out); err != nil {
			return resp, fmt.Errorf("client: %s %s: %s: decode response: %w", method, path, statusText(resp.Status), err)
		}
	}
	return resp, nil
}

// url joins BaseURL and path with exactly one slash.
func (c *Client) url(path string) string {
	return strings.TrimRight(c.BaseURL, "/") + "/" + strings.TrimLeft(path, "/")
}

// statusText renders 404 as "404 Not Found".
func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return strconv.Itoa(code) + " " + t
	}
	return strconv.Itoa(code)
}

// decodeError turns an error response body into an *scim.Error.
func decodeError(status int, body []byte) *scim.Error {
	var e scim.Error
	if err := json.Unmarshal(body, &e); err == nil && (e.Status != 0 || e.Detail != "" || e.ScimType != "") {
		if e.Status == 0 {
			e.Status = status
		}
		return &e
	}
	detail := strings.TrimSpace(string(body))
	if n := 200; len(detail) > n {
		// Cut at a character boundary; trimming until the text is valid
		// UTF-8 would eat everything after an invalid byte early on.
		for n > 0 && !utf8.RuneStart(detail[n]) {
			n--
		}
		detail = detail[:n] + "…"
	}
	return &scim.Error{Status: status, Detail: detail}
}

// ListQuery holds the query parameters of RFC 7644 §3.4.2. Zero fields are
// not sent.
type ListQuery struct {
	Filter             string   // §3.4.2.2, such as userName eq "alice@example.com"
	StartIndex         int      // §3.4.2.4, 1-based
	Count              int      // §3.4.2.4
	Attributes         []string // §3.4.2.5
	ExcludedAttributes []string // §3.4.2.5
}

// Encode returns the query string (without "?") in Okta's order and
// encoding: filter, startIndex, count, attributes, excludedAttributes, with
// every byte outside RFC 3986's unreserved set percent-encoded (a space is
// %20, a quote %22).
func (q ListQuery) Encode() string {
	var parts []string
	if q.Filter != "" {
		parts = append(parts, "filter="+Escape(q.Filter))
	}
	if q.StartIndex != 0 {
		parts = append(parts, "startIndex="+strconv.Itoa(q.StartIndex))
	}
	if q.Count != 0 {
		parts = append(parts, "count="+strconv.Itoa(q.Count))
	}
	if len(q.Attributes) > 0 {
		parts = append(parts, "attributes="+Escape(strings.Join(q.Attributes, ",")))
	}
	if len(q.ExcludedAttributes) > 0 {
		parts = append(parts, "excludedAttributes="+Escape(strings.Join(q.ExcludedAttributes, ",")))
	}
	return strings.Join(parts, "&")
}

// Escape percent-encodes s for a query value the way Okta does: RFC 3986
// unreserved characters stay, a space becomes %20 (not "+"), everything
// else becomes %XX.
func Escape(s string) string {
	// QueryEscape encodes a literal '+' as %2B, so every '+' left is a space.
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// FilterString quotes s as a JSON string for use as a filter value
// (RFC 7644 §3.4.2.2), so that quotes and backslashes survive.
func FilterString(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // a login with & < > stays as typed, as Okta sends it
	enc.Encode(s)            // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}
