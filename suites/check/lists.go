package check

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// filterPath builds a list path with a filter (RFC 7644 §3.4.2.2) encoded
// as Okta encodes it: escaped for a query string, so that "+", "&", "="
// and "%" in a value arrive as themselves, with spaces as %20 and quotes
// as %22 (Okta sends filter=userName%20eq%20%22…%22). rest, when not
// empty, is appended as further query parameters.
func filterPath(endpoint, filter, rest string) string {
	q := "?filter=" + strings.ReplaceAll(url.QueryEscape(filter), "+", "%20")
	if rest != "" {
		q += "&" + rest
	}
	return endpoint + q
}

// list sends a GET that must answer a ListResponse and returns its
// totalResults and resources; ok is false when the status was not 200.
func (t *Target) list(ctx context.Context, p *probe, path string) (x *Exchange, total int, rs []any, ok bool, err error) {
	x, err = t.send(ctx, "GET", path, nil)
	return t.listed(p, x, err)
}

// listTested is list for a filter that is the rule under test rather
// than the check's lookup: a refusal is a failure of the rule, and the
// failure does not say that the check needs the filter to find its data.
func (t *Target) listTested(ctx context.Context, p *probe, path string) (*Exchange, int, []any, bool, error) {
	x, err := t.send(ctx, "GET", path, nil)
	if x != nil {
		x.tested = true
	}
	return t.listed(p, x, err)
}

// search POSTs a SearchRequest to endpoint + "/.search" (RFC 7644
// §3.4.3); it answers as list does.
func (t *Target) search(ctx context.Context, p *probe, endpoint string, req map[string]any) (x *Exchange, total int, rs []any, ok bool, err error) {
	req["schemas"] = []string{schemaSearchRequest}
	x, err = t.send(ctx, "POST", endpoint+"/.search", req)
	return t.listed(p, x, err)
}

// listed is the reading of a list or search answer that list and search
// share.
func (t *Target) listed(p *probe, x *Exchange, err error) (*Exchange, int, []any, bool, error) {
	if err != nil {
		return nil, 0, nil, false, err
	}
	if !p.status(x, 200) {
		return x, 0, nil, false, nil
	}
	total, rs := p.listResponse(x)
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

// listIDs GETs a filtered list and returns the ids it holds.
func (t *Target) listIDs(ctx context.Context, p *probe, endpoint, filter, rest string) ([]string, *Exchange, error) {
	x, ok, err := t.fetch(ctx, p, filterPath(endpoint, filter, rest))
	if err != nil || !ok {
		return nil, x, err
	}
	_, rs := p.listResponse(x)
	return idsOf(rs), x, nil
}

// groupIDsWithout is listIDs for a /Groups path that excludes members
// (RFC 7644 §3.9): it reports each group that carries them anyway. ok is
// false when the list did not answer 200.
func (t *Target) groupIDsWithout(ctx context.Context, p *probe, path string) (ids []string, x *Exchange, ok bool, err error) {
	x, ok, err = t.fetch(ctx, p, path)
	if err != nil || !ok {
		return nil, x, ok, err
	}
	_, rs := p.listResponse(x)
	for _, r := range rs {
		ids = append(ids, str(get(r, "id")))
		if get(r, "members") != nil {
			p.failf(x, "members came back although excludedAttributes=members (RFC 7644 §3.9)")
		}
	}
	return ids, x, true, nil
}

// findUsers returns the ids of the users whose userName is userName
// (compared case-insensitively), for clean-up: a server that ignores the
// filter must not make a check delete somebody else's data.
func (t *Target) findUsers(ctx context.Context, userName string) []string {
	return t.findBy(ctx, "/Users", "userName", userName, "")
}

// findGroups is findUsers for groups, by displayName.
func (t *Target) findGroups(ctx context.Context, name string) []string {
	return t.findBy(ctx, "/Groups", "displayName", name, "excludedAttributes=members")
}

func (t *Target) findBy(ctx context.Context, endpoint, attr, value, rest string) []string {
	x, err := t.send(ctx, "GET", filterPath(endpoint, attr+` eq "`+value+`"`, rest), nil)
	if err != nil || x.Status != 200 {
		return nil
	}
	rs, _ := get(x.JSON, "Resources").([]any)
	var ids []string
	for _, r := range rs {
		if strings.EqualFold(str(get(r, attr)), value) {
			ids = append(ids, str(get(r, "id")))
		}
	}
	return ids
}

// idsOf returns the ids of resources, in order.
func idsOf(rs []any) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, str(get(r, "id")))
	}
	return out
}

// sorted returns a sorted copy of s.
func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool { return slices.Equal(sorted(a), sorted(b)) }

// exactly checks that ids is exactly want, in any order.
func (p *probe) exactly(x *Exchange, what string, ids []string, want ...string) {
	if got, w := sorted(ids), sorted(want); !slices.Equal(got, w) {
		p.failf(x, "%s: got %v, want %v", what, got, w)
	}
}

// maxOwnPages bounds how many pages expectOwn reads of one filter.
const maxOwnPages = 50

// expectOwn runs filter, the filter under test, on endpoint without any
// isolation of its own, and judges the answer only by the check's own
// resources: each id of want must be in the result and every other id of
// own must not; resources that are not the check's are ignored, so the
// check holds on a server with other data and needs no lookup filter
// (userName sw, id eq) besides the one it tests. When the first page does
// not hold the whole result, it reads the next pages with count up to the
// server's filter.maxResults. name, when not nil, names an own id in a
// failure.
func (t *Target) expectOwn(ctx context.Context, p *probe, endpoint, filter string, own, want []string, name func(id string) string) error {
	first, total, rs, ok, err := t.listTested(ctx, p, filterPath(endpoint, filter, ""))
	if err != nil || !ok {
		return err
	}
	seen := map[string]bool{}
	for _, id := range idsOf(rs) {
		seen[id] = true
	}
	size := intOf(get(t.declared(ctx, "/ServiceProviderConfig"), "filter.maxResults"))
	if size < 1 || size > 1000 {
		size = 100
	}
	next, read := 1+len(rs), len(rs)
	for pages := 1; read < total && len(rs) > 0 && pages < maxOwnPages && !allSeen(seen, own); pages++ {
		var x *Exchange
		x, _, rs, ok, err = t.listTested(ctx, p, filterPath(endpoint, filter, fmt.Sprintf("startIndex=%d&count=%d", next, size)))
		if err != nil || !ok {
			return err
		}
		for _, id := range idsOf(rs) {
			if seen[id] && slices.Contains(own, id) {
				p.failf(x, "filter %s: %s came back on two pages", filter, nameOf(name, id))
			}
			seen[id] = true
		}
		next, read = next+len(rs), read+len(rs)
	}
	var missing, extra []string
	for _, id := range own {
		switch in := seen[id]; {
		case slices.Contains(want, id) && !in:
			missing = append(missing, nameOf(name, id))
		case !slices.Contains(want, id) && in:
			extra = append(extra, nameOf(name, id))
		}
	}
	if len(missing) > 0 || len(extra) > 0 {
		var parts []string
		if len(missing) > 0 {
			parts = append(parts, fmt.Sprintf("it leaves out %v, which match", missing))
		}
		if len(extra) > 0 {
			parts = append(parts, fmt.Sprintf("it returns %v, which do not match", extra))
		}
		p.failf(first, "filter %s, judged by the check's own users only (others on the server are ignored): %s", filter, strings.Join(parts, "; "))
	}
	if len(seen) > total && total >= 0 {
		p.failf(first, "filter %s: totalResults is %d, yet %d resources came back", filter, total, len(seen))
	}
	return nil
}

// allSeen reports whether every id of ids is in seen.
func allSeen(seen map[string]bool, ids []string) bool {
	for _, id := range ids {
		if !seen[id] {
			return false
		}
	}
	return true
}

func nameOf(name func(string) string, id string) string {
	if name == nil {
		return id
	}
	return name(id)
}
