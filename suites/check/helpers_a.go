package check

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Helpers of the filter, paging, etag and schema checks (schemaEnterprise
// and ext live in helpers_b.go).

const (
	schemaSearchRequest = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
)

// headerTransport adds fixed request headers to every request it carries.
type headerTransport struct {
	base   http.RoundTripper
	header http.Header
}

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, vs := range h.header {
		r.Header[k] = vs
	}
	return h.base.RoundTrip(r)
}

// sendHeader is send with extra request headers (If-Match, If-None-Match):
// it sends through a client that adds them, and keeps what the request
// created on t for cleaning up.
func (t *Target) sendHeader(ctx context.Context, method, path string, body any, h http.Header, opts ...reqOption) (*Exchange, error) {
	c := t.Client
	if c == nil {
		c = http.DefaultClient
	}
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	tmp := &Target{BaseURL: t.BaseURL, Token: t.Token, UserDomain: t.UserDomain, Now: t.Now,
		Client: &http.Client{Transport: headerTransport{base: base, header: h}, Timeout: c.Timeout, Jar: c.Jar, CheckRedirect: c.CheckRedirect}}
	x, err := tmp.send(ctx, method, path, body, opts...)
	for _, p := range tmp.created {
		t.remember(p)
	}
	return x, err
}

// keep registers a resource created by a request whose path send does not
// recognise (a query string, .search), so that it is deleted afterwards.
func (t *Target) keep(x *Exchange, endpoint string) {
	if x != nil && x.Status == http.StatusCreated {
		if id := str(get(x.JSON, "id")); id != "" {
			t.remember(endpoint + "/" + url.PathEscape(id))
		}
	}
}

// supports reports whether a ServiceProviderConfig declares feature
// ("sort", "etag", "filter", …) supported. A check that depends on a
// feature asks Target.featureOff instead, which counts an undeclared
// feature as supported.
func supports(spc any, feature string) bool {
	b, _ := get(spc, feature+".supported").(bool)
	return b
}

// within returns an exchange that shows v, one resource of x's body, in a
// failure report.
func within(x *Exchange, v any) *Exchange {
	y := *x
	y.JSON = v
	return &y
}

// has reports whether resource v carries the top-level attribute name
// (matched case-insensitively), whatever its value.
func has(v any, name string) bool {
	m, _ := v.(map[string]any)
	for k := range m {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// idsOf returns the ids of resources, in order.
func idsOf(rs []any) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, str(get(r, "id")))
	}
	return out
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// list sends a GET that must answer a ListResponse and returns its
// totalResults and resources; ok is false when the status was not 200.
func (t *Target) list(ctx context.Context, p *probe, path string) (x *Exchange, total int, rs []any, ok bool, err error) {
	x, err = t.send(ctx, "GET", path, nil)
	if err != nil {
		return nil, 0, nil, false, err
	}
	if !p.status(x, 200) {
		return x, 0, nil, false, nil
	}
	total, rs = p.listResponse(x)
	return x, total, rs, true, nil
}

// expectIDs runs the list request path and reports unless it returns
// exactly the resources want (by id, in any order) with a matching
// totalResults; what names the rule in the failure.
func (t *Target) expectIDs(ctx context.Context, p *probe, what, path string, want []string) error {
	x, total, rs, ok, err := t.list(ctx, p, path)
	if err != nil || !ok {
		return err
	}
	if got := idsOf(rs); total != len(want) || !sameSet(want, got) {
		p.failf(x, "%s: got totalResults %d and ids %v, want %d: %v", what, total, got, len(want), want)
	}
	return nil
}

// createAll posts each body to endpoint and returns the ids in order; it
// stops at the first failure.
func (t *Target) createAll(ctx context.Context, p *probe, endpoint string, bodies []map[string]any) ([]string, error) {
	var ids []string
	for _, b := range bodies {
		x, err := t.send(ctx, "POST", endpoint, b)
		if err != nil {
			return nil, err
		}
		if !p.status(x, 201) {
			return nil, p.err()
		}
		id := str(get(x.JSON, "id"))
		if id == "" {
			p.failf(x, "the created resource has no id")
			return nil, p.err()
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// domain is the e-mail domain of the checks' users.
func (t *Target) domain() string {
	if t.UserDomain != "" {
		return t.UserDomain
	}
	return "example.com"
}

// prefix returns a fresh userName prefix such as "flt3fa9c01b2e.": every
// user a check names with it is the check's own, so a filter
// `userName sw "<prefix>"` scopes a query to them on a server with data.
func prefix(area string) string { return fmt.Sprintf("%s%s%s.", area, unique(), unique()[:4]) }

// queryPath is filterPath with the filter escaped for a query string:
// url.PathEscape, which filterPath uses, leaves "+" and "&" as they are,
// so a "+05:00" offset would arrive as " 05:00". Spaces become %20, as
// Okta sends them.
func queryPath(endpoint, filter, rest string) string {
	q := "?filter=" + strings.ReplaceAll(url.QueryEscape(filter), "+", "%20")
	if rest != "" {
		q += "&" + rest
	}
	return endpoint + q
}
