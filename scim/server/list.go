package server

import (
	"errors"
	"net/http"
	"net/url"
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
}

// list handles GET /Users and /Groups (RFC 7644 §3.4.2).
func (s *Server) list(k *kind, w http.ResponseWriter, r *request) error {
	q := r.URL.Query()
	start, err := intParam(q, "startIndex", 1)
	if err != nil {
		return err
	}
	count, err := intParam(q, "count", DefaultCount)
	if err != nil {
		return err
	}
	return s.serveList(k, w, r, query{startIndex: start, count: count, filter: q.Get("filter"),
		attributes: q.Get("attributes"), excluded: q.Get("excludedAttributes")})
}

// search handles POST /Users/.search and /Groups/.search (RFC 7644 §3.4.3).
func (s *Server) search(k *kind, w http.ResponseWriter, r *request) error {
	var body struct {
		Schemas            []string `json:"schemas"`
		Attributes         []string `json:"attributes"`
		ExcludedAttributes []string `json:"excludedAttributes"`
		Filter             string   `json:"filter"`
		StartIndex         *int     `json:"startIndex"`
		Count              *int     `json:"count"`
	}
	if err := readBody(r, &body); err != nil {
		return err
	}
	q := query{startIndex: 1, count: DefaultCount, filter: body.Filter,
		attributes: strings.Join(body.Attributes, ","), excluded: strings.Join(body.ExcludedAttributes, ",")}
	if body.StartIndex != nil {
		q.startIndex = *body.StartIndex
	}
	if body.Count != nil {
		q.count = *body.Count
	}
	return s.serveList(k, w, r, q)
}

// serveList filters, then pages, then projects: startIndex is 1-based and
// below 1 reads as 1; count is clamped to [0, MaxCount]; Resources is
// always an array.
func (s *Server) serveList(k *kind, w http.ResponseWriter, r *request, qr query) error {
	start := max(qr.startIndex, 1)
	count := min(max(qr.count, 0), MaxCount)

	var expr filter.Expr
	var sq store.Query
	if f := strings.TrimSpace(qr.filter); f != "" {
		var err error
		if expr, err = parseFilter(f, k); err != nil {
			return err
		}
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
	matched := make([]scim.Resource, 0, len(recs))
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
		matched = append(matched, res)
	}
	total := len(matched)
	from := min(start-1, total)
	to := min(from+count, total)
	page := make([]scim.Resource, 0, to-from)
	for _, res := range matched[from:to] {
		page = append(page, project(res, k.rt, qr.attributes, qr.excluded))
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

// parseFilter parses a filter and checks that every attribute it names
// exists (an unknown one is 400 invalidFilter), so a bad filter never
// yields an unfiltered or empty list.
func parseFilter(f string, k *kind) (filter.Expr, error) {
	expr, err := filter.Parse(f)
	if err != nil {
		return nil, filterError(err)
	}
	if err := filter.Validate(expr, k.rt); err != nil {
		return nil, filterError(err)
	}
	return expr, nil
}

// filterError makes any filter failure a 400 invalidFilter.
func filterError(err error) error {
	var se *scim.Error
	if errors.As(err, &se) && se.ScimType == scim.TypeInvalidFilter {
		return se
	}
	return scim.Errorf(http.StatusBadRequest, scim.TypeInvalidFilter, "%s", strings.TrimPrefix(err.Error(), "scim: 400 invalidValue: "))
}

// intParam reads an integer query parameter; a value that is not a number
// is 400 invalidValue.
func intParam(q url.Values, name string, def int) (int, error) {
	v := strings.TrimSpace(q.Get(name))
	if v == "" {
		return def, nil
	}
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
	return n, nil
}

// projectRequest applies the request's attributes and excludedAttributes
// (RFC 7644 §3.9) to res.
func projectRequest(r *request, k *kind, res scim.Resource) scim.Resource {
	q := r.URL.Query()
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

// project keeps only the attributes listed in attrs (when not empty) and
// then removes those in excluded. id, schemas and meta always stay.
func project(res scim.Resource, rt *schema.ResourceType, attrs, excluded string) scim.Resource {
	if strings.TrimSpace(attrs) != "" {
		sp := parseSpec(attrs, rt)
		out := scim.Resource{}
		for key, v := range res {
			if always(key) {
				out[key] = v
				continue
			}
			subs, ok := sp.lookup(key)
			if !ok {
				continue
			}
			if subs == nil {
				out[key] = v
				continue
			}
			if kept := keepSubs(v, subs); kept != nil {
				out[key] = kept
			}
		}
		res = out
	}
	if strings.TrimSpace(excluded) != "" {
		sp := parseSpec(excluded, rt)
		out := scim.Resource{}
		for key, v := range res {
			subs, ok := sp.lookup(key)
			switch {
			case always(key) || !ok:
				out[key] = v
			case subs == nil:
				// excluded whole
			default:
				if kept := dropSubs(v, subs); kept != nil {
					out[key] = kept
				}
			}
		}
		res = out
	}
	return res
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

// searchAll handles POST /.search at the service root (RFC 7644 §3.4.3).
func (s *Server) searchAll(w http.ResponseWriter, r *request) error {
	return scim.Errorf(http.StatusNotImplemented, "", "search at the root is not supported")
}
