package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

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
	res scim.Resource // as rendered for the filter and the sort key
	rec store.Record
	k   *kind
	key sortKey
}

// listPlan is how one kind's part of a list is read.
type listPlan struct {
	k      *kind
	expr   filter.Expr // nil: no filter
	cond   *store.Cond // what the store selects
	exact  bool        // cond selects exactly what expr accepts
	so     *sorter     // nil without sortBy (or when the kind lacks it)
	sort   store.Field // pushed sort field, when sortOK
	sortOK bool
	needs  bool // expr or the sort reads groups, members or meta.version
}

// scanBatch is how many scanned resources are rendered at once when a
// filter needs their groups or members.
const scanBatch = 200

// serveList filters, then sorts, then pages, then projects, over the
// resources of every kind in kinds (one for /Users and /Groups, both for
// the root search): startIndex is 1-based and below 1 reads as 1; count
// is clamped to [0, MaxCount]; Resources is always an array. Without
// sortBy, and between equal sort keys, resources keep the store's order
// (creation time, then id), Users before Groups, so pages never overlap.
//
// The store does the work where it can: when the filter translates
// exactly (pushdown) and the order is the store's, it counts and reads
// only the page. Otherwise the store's superset is scanned and the filter
// evaluated on each resource; with the store's order only the page is
// kept, else the matches are sorted in memory.
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
	var lps []listPlan
	for i, k := range kinds {
		if plans[i].none {
			continue
		}
		lp := listPlan{k: k, expr: plans[i].expr, exact: true}
		if lp.expr != nil {
			lp.cond, lp.exact = pushdown(lp.expr, k.rt)
			lp.needs = needsComputed(lp.expr)
		}
		if sorters != nil {
			lp.so = sorters[i]
			lp.sortOK = lp.so == nil
			if lp.so != nil {
				lp.sort, lp.sortOK = pushSort(lp.so)
				lp.needs = lp.needs || computedAttr(lp.so.res.Attr.Name)
			}
		}
		lps = append(lps, lp)
	}
	// The store's order is the list's when there is no sortBy, or one
	// kind whose sort the store can do.
	inOrder := sorters == nil || (len(lps) == 1 && lps[0].sortOK)
	exact := inOrder
	for _, lp := range lps {
		exact = exact && lp.exact
	}
	from := start - 1
	to := from + count
	var total int
	var page []item
	if exact {
		total, page, err = s.listExact(r, lps, desc, from, to)
	} else {
		total, page, err = s.listScan(r, lps, inOrder, sorters != nil, desc, from, to)
	}
	if err != nil {
		return err
	}
	out, err := s.renderPage(r, page, qr)
	if err != nil {
		return err
	}
	writeList(w, total, start, out)
	return nil
}

// writeList answers 200 with a ListResponse (RFC 7644 §3.4.2) of
// resources encoded by encodeResource, joined as they are: encoding them
// again through json.RawMessage would only validate and copy them.
func writeList(w http.ResponseWriter, total, start int, resources []json.RawMessage) {
	size := 128
	for _, r := range resources {
		size += len(r) + 1
	}
	buf := make([]byte, 0, size)
	buf = append(buf, `{"schemas":["`+scim.SchemaListResponse+`"],"totalResults":`...)
	buf = strconv.AppendInt(buf, int64(total), 10)
	buf = append(buf, `,"startIndex":`...)
	buf = strconv.AppendInt(buf, int64(start), 10)
	buf = append(buf, `,"itemsPerPage":`...)
	buf = strconv.AppendInt(buf, int64(len(resources)), 10)
	buf = append(buf, `,"Resources":[`...)
	for i, r := range resources {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, r...)
	}
	buf = append(buf, "]}\n"...)
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(buf)))
	w.WriteHeader(http.StatusOK)
	w.Write(buf)
}

// listExact counts each kind's matches in the store and reads only the
// window [from, to) of their concatenation.
func (s *Server) listExact(r *request, lps []listPlan, desc bool, from, to int) (int, []item, error) {
	ctx := r.Context()
	if len(lps) == 1 && from == 0 && to > 0 {
		// A first page that comes back short holds every match: its length
		// is totalResults, and the count query is not needed. That is the
		// shape of the lookups Okta and Entra send (filter=userName eq …).
		lp := lps[0]
		q := store.Query{Where: lp.cond, Limit: to}
		if lp.so != nil {
			q.Sort, q.Desc = lp.sort, desc
		}
		recs, err := s.store.ListResources(ctx, r.tenant, lp.k.typ, q)
		if err != nil {
			return 0, nil, err
		}
		if len(recs) < to {
			page := make([]item, len(recs))
			for i, rec := range recs {
				page[i] = item{rec: rec, k: lp.k}
			}
			return len(recs), page, nil
		}
	}
	total := 0
	var page []item
	for _, lp := range lps {
		n, err := s.store.CountResources(ctx, r.tenant, lp.k.typ, lp.cond)
		if err != nil {
			return 0, nil, err
		}
		lo, hi := max(from-total, 0), min(to-total, n)
		total += n
		if hi <= lo {
			continue
		}
		q := store.Query{Where: lp.cond, Offset: lo, Limit: hi - lo}
		if lp.so != nil {
			q.Sort, q.Desc = lp.sort, desc
		}
		recs, err := s.store.ListResources(ctx, r.tenant, lp.k.typ, q)
		if err != nil {
			return 0, nil, err
		}
		for _, rec := range recs {
			page = append(page, item{rec: rec, k: lp.k})
		}
	}
	return total, page, nil
}

// listScan reads each kind's superset from the store and evaluates the
// filter on every resource. With the store's order (inOrder) it keeps
// only the window [from, to) of the matches; else it keeps every match
// and sorts them.
func (s *Server) listScan(r *request, lps []listPlan, inOrder, sorted, desc bool, from, to int) (int, []item, error) {
	ctx := r.Context()
	matched := 0
	var keep []item
	for _, lp := range lps {
		q := store.Query{Where: lp.cond}
		if inOrder && lp.so != nil {
			q.Sort, q.Desc = lp.sort, desc
		}
		var batch []store.Record
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			var groups map[string][]store.GroupRef
			members := map[string][]store.Member{}
			if lp.needs {
				var err error
				if groups, members, err = s.computed(r, lp.k, batch, true); err != nil {
					return err
				}
			}
			for _, rec := range batch {
				res, err := s.render(r.base, lp.k, rec, groups[rec.ID], members[rec.ID])
				if err != nil {
					return err
				}
				if lp.expr != nil {
					ok, err := filter.Eval(lp.expr, res, lp.k.rt)
					if err != nil {
						return filterError(err)
					}
					if !ok {
						continue
					}
				}
				i := matched
				matched++
				switch {
				case inOrder && (i < from || i >= to):
				case inOrder:
					keep = append(keep, item{rec: rec, k: lp.k})
				default:
					it := item{res: res, rec: rec, k: lp.k}
					if lp.so != nil {
						it.key = lp.so.key(res)
					}
					keep = append(keep, it)
				}
			}
			batch = batch[:0]
			return nil
		}
		err := s.store.ScanResources(ctx, r.tenant, lp.k.typ, q, func(rec store.Record) error {
			batch = append(batch, rec)
			if len(batch) >= scanBatch {
				return flush()
			}
			return nil
		})
		if err == nil {
			err = flush()
		}
		if err != nil {
			return 0, nil, err
		}
	}
	if inOrder {
		return matched, keep, nil
	}
	sortItems(keep, sorted, desc)
	lo, hi := min(from, len(keep)), min(to, len(keep))
	return matched, keep[lo:hi], nil
}

// computed reads the groups of the users, or the members of the groups
// (only when withMembers), among recs: one GroupsOf call for the users,
// one ListMembers call per group.
func (s *Server) computed(r *request, k *kind, recs []store.Record, withMembers bool) (map[string][]store.GroupRef, map[string][]store.Member, error) {
	members := map[string][]store.Member{}
	if len(recs) == 0 {
		return nil, members, nil
	}
	if k.typ == store.TypeUser {
		ids := make([]string, len(recs))
		for i, rec := range recs {
			ids[i] = rec.ID
		}
		groups, err := s.store.GroupsOf(r.Context(), r.tenant, ids)
		return groups, members, err
	}
	if !withMembers {
		return nil, members, nil
	}
	for _, rec := range recs {
		ms, err := s.store.ListMembers(r.Context(), r.tenant, rec.ID, nil)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted since it was read
		}
		if err != nil {
			return nil, nil, err
		}
		members[rec.ID] = ms
	}
	return nil, members, nil
}

// renderPage renders the resources of a page as the response shows them:
// users with their groups (one GroupsOf call), groups with their members
// when the projection shows them; then projected.
func (s *Server) renderPage(r *request, page []item, qr query) ([]json.RawMessage, error) {
	withMembers := s.showsMembers(qr.attributes, qr.excluded)
	byKind := map[*kind][]store.Record{}
	for _, it := range page {
		byKind[it.k] = append(byKind[it.k], it.rec)
	}
	groups := map[string][]store.GroupRef{}
	members := map[string][]store.Member{}
	for k, recs := range byKind {
		g, m, err := s.computed(r, k, recs, withMembers)
		if err != nil {
			return nil, err
		}
		maps.Copy(groups, g)
		maps.Copy(members, m)
	}
	// Decoding, projecting and encoding each resource is most of a page's
	// cost (a page of 100 users is about 10 ms of it on one core), and
	// the resources are independent: a large page is split over the
	// processors, so a sequential import (Okta reads one page after the
	// other) is not held to one core.
	out := make([]json.RawMessage, len(page))
	errs := make([]error, len(page))
	one := func(i int) {
		it := page[i]
		var g []store.GroupRef
		var m []store.Member
		if it.k.typ == store.TypeUser {
			g = groups[it.rec.ID]
		} else {
			m = members[it.rec.ID]
		}
		res, err := s.render(r.base, it.k, it.rec, g, m)
		if err == nil {
			out[i], err = encodeResource(project(res, it.k.rt, qr.attributes, qr.excluded))
		}
		errs[i] = err
	}
	workers := min(runtime.GOMAXPROCS(0), len(page)/parallelPage)
	if workers < 2 {
		for i := range page {
			one(i)
		}
	} else {
		var wg sync.WaitGroup
		var next atomic.Int64
		for range workers {
			wg.Go(func() {
				for i := int(next.Add(1)) - 1; i < len(page); i = int(next.Add(1)) - 1 {
					one(i)
				}
			})
		}
		wg.Wait()
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// parallelPage is how many resources of a page each extra processor
// must have to be worth starting.
const parallelPage = 16

// encodeResource encodes one resource of a list as writeJSON would.
func encodeResource(res scim.Resource) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(res); err != nil {
		return nil, fmt.Errorf("scim/server: encode resource: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// needsComputed reports whether a filter reads what render computes
// rather than stores: groups, members, or meta.version (a User's tag
// reflects its groups).
func needsComputed(e filter.Expr) bool {
	for _, leaf := range leaves(e, nil) {
		p, _ := leafPath(leaf)
		if computedAttr(p.Name) || (strings.EqualFold(p.Name, "meta") && (p.Sub == "" || strings.EqualFold(p.Sub, "version"))) {
			return true
		}
	}
	return false
}

// computedAttr reports whether a top-level attribute is computed.
func computedAttr(name string) bool {
	return strings.EqualFold(name, "groups") || strings.EqualFold(name, "members")
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
