package server

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/filter"
	"github.com/idpkit/idpkit/scim/schema"
	"github.com/idpkit/idpkit/scim/store"
)

// Paging limits (RFC 7644 §3.4.2.4).
const (
	DefaultCount = 100
	MaxCount     = 1000
)

// query is a list request: from the query string of GET (RFC 7644
// §3.4.2) or the body of POST …/.search (§3.4.3).
type query struct {
	startIndex, count    int
	filter               string
	attributes, excluded string
	sortBy, sortOrder    string
}

// list handles GET /Users and /Groups (RFC 7644 §3.4.2).
func (s *Server) list(k *kind, w http.ResponseWriter, r *request) error {
	q := r.query
	start, err := intParam(q, "startIndex", 1)
	if err != nil {
		return err
	}
	count, err := intParam(q, "count", DefaultCount)
	if err != nil {
		return err
	}
	return s.serveList([]*kind{k}, w, r, query{startIndex: start, count: count, filter: q.Get("filter"),
		attributes: q.Get("attributes"), excluded: q.Get("excludedAttributes"),
		sortBy: q.Get("sortBy"), sortOrder: q.Get("sortOrder")})
}

// search handles POST /Users/.search and /Groups/.search (RFC 7644 §3.4.3).
func (s *Server) search(k *kind, w http.ResponseWriter, r *request) error {
	q, err := readSearch(r)
	if err != nil {
		return err
	}
	return s.serveList([]*kind{k}, w, r, q)
}

// readSearch reads a SearchRequest body (RFC 7644 §3.4.3). "schemas" may
// be left out, but when present it must list the SearchRequest URN
// (400 invalidSyntax). startIndex and count must be JSON numbers (400
// invalidValue otherwise); attributes and excludedAttributes are lists of
// strings, or, tolerated, one comma-separated string.
func readSearch(r *request) (query, error) {
	var body struct {
		Schemas            []string        `json:"schemas"`
		Attributes         json.RawMessage `json:"attributes"`
		ExcludedAttributes json.RawMessage `json:"excludedAttributes"`
		Filter             string          `json:"filter"`
		SortBy             string          `json:"sortBy"`
		SortOrder          string          `json:"sortOrder"`
		StartIndex         json.RawMessage `json:"startIndex"`
		Count              json.RawMessage `json:"count"`
	}
	if err := readBody(r, &body); err != nil {
		return query{}, err
	}
	if body.Schemas != nil && !containsFold(body.Schemas, scim.SchemaSearchRequest) {
		return query{}, scim.Errorf(http.StatusBadRequest, scim.TypeInvalidSyntax, "a search body must list the schema %q in \"schemas\"", scim.SchemaSearchRequest)
	}
	q := query{filter: body.Filter, sortBy: body.SortBy, sortOrder: body.SortOrder}
	var err error
	if q.startIndex, err = intField(body.StartIndex, "startIndex", 1); err != nil {
		return query{}, err
	}
	if q.count, err = intField(body.Count, "count", DefaultCount); err != nil {
		return query{}, err
	}
	if q.attributes, err = listField(body.Attributes, "attributes"); err != nil {
		return query{}, err
	}
	if q.excluded, err = listField(body.ExcludedAttributes, "excludedAttributes"); err != nil {
		return query{}, err
	}
	return q, nil
}

// intField reads an integer member of a search body; absent or null is
// def, anything but a JSON number is 400 invalidValue. An integral number
// written as 2.0 or 1e2 is accepted; out-of-range numbers are clamped as
// in the query string.
func intField(raw json.RawMessage, name string, def int) (int, error) {
	v := strings.TrimSpace(string(raw))
	if v == "" || v == "null" {
		return def, nil
	}
	if c := v[0]; c != '-' && (c < '0' || c > '9') {
		return 0, scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "%s must be a JSON number, not %s", name, excerptJSON(v))
	}
	if !strings.ContainsAny(v, ".eE") {
		return parseInt(name, v)
	}
	f, err := strconv.ParseFloat(v, 64)
	if (err != nil && !errors.Is(err, strconv.ErrRange)) || f != math.Trunc(f) {
		return 0, scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "%s must be an integer, not %s", name, excerptJSON(v))
	}
	return int(max(min(f, 1<<31), -1<<31)), nil
}

// excerptJSON shortens a JSON value for an error detail.
func excerptJSON(v string) string {
	if len(v) > 40 {
		return v[:40] + "…"
	}
	return v
}

// listField reads attributes or excludedAttributes of a search body.
func listField(raw json.RawMessage, name string) (string, error) {
	v := strings.TrimSpace(string(raw))
	if v == "" || v == "null" {
		return "", nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err == nil {
		return strings.Join(list, ","), nil
	}
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return one, nil
	}
	return "", scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "%s must be a list of attribute names", name)
}

// item is one resource of a list response being built.
type item struct {
	res scim.Resource
	k   *kind
	key sortKey
}

// serveList filters, then sorts, then pages, then projects, over the
// resources of every kind in kinds (one for /Users and /Groups, both for
// the root search): startIndex is 1-based and below 1 reads as 1; count
// is clamped to [0, MaxCount]; Resources is always an array. Without
// sortBy, and between equal sort keys, resources keep the store's order
// (creation time, then id), Users before Groups, so pages never overlap.
func (s *Server) serveList(kinds []*kind, w http.ResponseWriter, r *request, qr query) error {
	start := max(qr.startIndex, 1)
	count := min(max(qr.count, 0), MaxCount)
	desc, err := sortOrder(qr.sortOrder)
	if err != nil {
		return err
	}
	plans, err := planFilter(qr.filter, kinds)
	if err != nil {
		return err
	}
	sorters, err := planSort(qr.sortBy, kinds)
	if err != nil {
		return err
	}
	var items []item
	for i, k := range kinds {
		if plans[i].none {
			continue
		}
		expr := plans[i].expr
		var sq store.Query
		if expr != nil {
			// displayName is not pushed down: the store compares it exactly,
			// but it is not caseExact (RFC 7643 §4.1, §4.2).
			eq := filter.Equalities(expr)
			sq = store.Query{ID: eq["id"], UserName: eq["userName"], ExternalID: eq["externalId"]}
		}
		recs, err := s.store.ListResources(r.Context(), r.tenant, k.typ, sq)
		if err != nil {
			return err
		}
		var groupsOf map[string][]any
		if k == s.users {
			if groupsOf, err = s.membership(r); err != nil {
				return err
			}
		}
		for _, rec := range recs {
			res, err := s.render(r, k, rec, groupsOf)
			if err != nil {
				return err
			}
			if expr != nil {
				ok, err := filter.Eval(expr, res, k.rt)
				if err != nil {
					return filterError(err)
				}
				if !ok {
					continue
				}
			}
			it := item{res: res, k: k}
			if sorters != nil {
				it.key = sorters[i].key(res)
			}
			items = append(items, it)
		}
	}
	sortItems(items, sorters != nil, desc)
	total := len(items)
	from := min(start-1, total)
	to := min(from+count, total)
	page := make([]scim.Resource, 0, to-from)
	for _, it := range items[from:to] {
		page = append(page, project(it.res, it.k.rt, qr.attributes, qr.excluded))
	}
	writeJSON(w, http.StatusOK, scim.ListResponse{
		Schemas:      []string{scim.SchemaListResponse},
		TotalResults: total,
		StartIndex:   start,
		ItemsPerPage: len(page),
		Resources:    page,
	})
	return nil
}

// sortItems sorts items by their keys when sorted is set, stably, so
// equal keys keep the store's order in both directions.
func sortItems(items []item, sorted, desc bool) {
	if !sorted {
		return
	}
	slices.SortStableFunc(items, func(a, b item) int {
		if desc {
			return compareKeys(b.key, a.key)
		}
		return compareKeys(a.key, b.key)
	})
}

// planSort resolves sortBy for each kind; nil when there is no sortBy. An
// attribute that one kind lacks sorts that kind's resources as null; one
// that no kind has is 400 invalidValue.
func planSort(sortBy string, kinds []*kind) ([]*sorter, error) {
	if strings.TrimSpace(sortBy) == "" {
		return nil, nil
	}
	out := make([]*sorter, len(kinds))
	var first error
	found := false
	for i, k := range kinds {
		so, err := resolveSort(sortBy, k.rt)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		out[i], found = so, true
	}
	if !found {
		return nil, first
	}
	return out, nil
}

// intParam reads an integer query parameter; a value that is not a number
// is 400 invalidValue.
func intParam(q url.Values, name string, def int) (int, error) {
	v := strings.TrimSpace(q.Get(name))
	if v == "" {
		return def, nil
	}
	return parseInt(name, v)
}

// parseInt parses a decimal integer; one too large for int32 is clamped
// to ±2³¹ (a page that far is empty, a count that large is MaxCount).
func parseInt(name, v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			if strings.HasPrefix(v, "-") {
				return -1 << 31, nil
			}
			return 1 << 31, nil
		}
		return 0, scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "%s must be an integer, not %q", name, v)
	}
	return max(min(n, 1<<31), -1<<31), nil
}

// projectRequest applies the request's attributes and excludedAttributes
// (RFC 7644 §3.9) to res.
func projectRequest(r *request, k *kind, res scim.Resource) scim.Resource {
	q := r.query
	return project(res, k.rt, q.Get("attributes"), q.Get("excludedAttributes"))
}

// spec is a parsed attribute list: top-level key → sub-attribute names
// (nil for the whole attribute).
type spec map[string]map[string]bool

// parseSpec parses a comma-separated list of attribute paths against rt.
// Names that do not resolve are ignored.
func parseSpec(list string, rt *schema.ResourceType) spec {
	out := spec{}
	for p := range strings.SplitSeq(list, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if s := rt.SchemaFor(p); s != nil {
			if s != rt.Schema {
				out[s.ID] = nil
			}
			continue
		}
		urn, name, sub := schema.SplitPath(p)
		res, err := rt.Resolve(urn, name, sub)
		if err != nil {
			continue
		}
		top, inner := res.Attr.Name, ""
		if res.Sub != nil {
			inner = res.Sub.Name
		}
		if res.Extension(rt) {
			top, inner = res.Schema.ID, res.Attr.Name
		}
		if subs, ok := out[top]; ok && subs == nil {
			continue // already whole
		}
		if inner == "" {
			out[top] = nil
			continue
		}
		if out[top] == nil {
			out[top] = map[string]bool{}
		}
		out[top][inner] = true
	}
	return out
}

// lookup returns the spec entry for a key, case-insensitively.
func (sp spec) lookup(key string) (map[string]bool, bool) {
	for k, v := range sp {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// always are returned whatever the request asks (RFC 7643 §7 "always";
// meta by idpkit's choice, as Okta reads it).
func always(key string) bool {
	return strings.EqualFold(key, "id") || strings.EqualFold(key, "schemas") || strings.EqualFold(key, "meta")
}

// project applies attributes and excludedAttributes (RFC 7644 §3.9,
// RFC 7643 §7 "returned"): with attrs, only the attributes listed stay;
// without, attributes returned only on "request" are dropped; then those
// in excluded go. id, schemas and meta always stay, and attributes that
// are never returned (password) never appear.
func project(res scim.Resource, rt *schema.ResourceType, attrs, excluded string) scim.Resource {
	out := scim.Resource{}
	asked := strings.TrimSpace(attrs) != ""
	sp := parseSpec(attrs, rt)
	for key, v := range res {
		if always(key) {
			out[key] = v
			continue
		}
		if ext := rt.SchemaFor(key); ext != nil && ext != rt.Schema {
			if m, ok := v.(map[string]any); ok && !asked {
				if kept := dropReturned(m, ext, schema.ReturnedRequest); len(kept) > 0 {
					out[key] = kept
				}
				continue
			}
		}
		a := topAttr(key, rt)
		if hidden(a) {
			continue
		}
		if !asked {
			if a == nil || a.Returned != schema.ReturnedRequest {
				out[key] = v
			}
			continue
		}
		subs, ok := sp.lookup(key)
		switch {
		case !ok:
		case subs == nil:
			out[key] = v
		default:
			if kept := keepSubs(v, subs); kept != nil {
				out[key] = kept
			}
		}
	}
	if strings.TrimSpace(excluded) != "" {
		sp := parseSpec(excluded, rt)
		for key, v := range out {
			subs, ok := sp.lookup(key)
			switch {
			case always(key) || !ok:
			case subs == nil:
				delete(out, key) // excluded whole
			default:
				if kept := dropSubs(v, subs); kept != nil {
					out[key] = kept
				} else {
					delete(out, key)
				}
			}
		}
	}
	return out
}

// topAttr returns the definition of a top-level key of a resource, or nil.
func topAttr(key string, rt *schema.ResourceType) *schema.Attribute {
	if res, err := rt.Resolve("", key, ""); err == nil && !res.Extension(rt) {
		return res.Attr
	}
	return nil
}

// dropReturned copies an extension's attributes without those whose
// returned characteristic is ret, and without those never returned.
func dropReturned(m map[string]any, ext *schema.Schema, ret string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if a := ext.Attribute(k); a != nil && (a.Returned == ret || hidden(a)) {
			continue
		}
		out[k] = v
	}
	return out
}

// keepSubs keeps the listed sub-attributes of a complex value or of each
// element of a multi-valued one.
func keepSubs(v any, subs map[string]bool) any {
	return mapSubs(v, func(k string) bool { return hasFold(subs, k) })
}

// dropSubs removes the listed sub-attributes.
func dropSubs(v any, subs map[string]bool) any {
	return mapSubs(v, func(k string) bool { return !hasFold(subs, k) })
}

func mapSubs(v any, keep func(string) bool) any {
	switch x := v.(type) {
	case map[string]any:
		m := map[string]any{}
		for k, e := range x {
			if keep(k) {
				m[k] = e
			}
		}
		if len(m) == 0 {
			return nil
		}
		return m
	case []any:
		l := make([]any, 0, len(x))
		for _, e := range x {
			if m := mapSubs(e, keep); m != nil {
				l = append(l, m)
			}
		}
		if len(l) == 0 {
			return nil
		}
		return l
	}
	return v
}

func hasFold(set map[string]bool, k string) bool {
	for s := range set {
		if strings.EqualFold(s, k) {
			return true
		}
	}
	return false
}
