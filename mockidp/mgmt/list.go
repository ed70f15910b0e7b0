package mgmt

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// page cuts items after the "after" cursor (an id) to "limit" items and
// sets the Link headers: rel="self" for this page and rel="next" when more
// follow. A bad limit gives an Okta error.
func page[T any](h *Handler, w http.ResponseWriter, r *http.Request, items []T, id func(T) string, defLimit, maxLimit int) ([]T, bool) {
	q := r.URL.Query()
	limit := defLimit
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			h.validation(w, "limit", "limit: must be a positive integer")
			return nil, false
		}
		limit = min(n, maxLimit)
	}
	start := 0
	if after := q.Get("after"); after != "" {
		start = len(items)
		for i, it := range items {
			if id(it) == after {
				start = i + 1
				break
			}
		}
	}
	end := min(start+limit, len(items))
	out := items[start:end]
	base := h.base(r) + r.URL.Path
	self := url.Values{}
	for k, v := range q {
		self[k] = v
	}
	self.Set("limit", strconv.Itoa(limit))
	w.Header().Add("Link", "<"+base+"?"+self.Encode()+">; rel=\"self\"")
	if end < len(items) && len(out) > 0 {
		next := url.Values{}
		for k, v := range self {
			next[k] = v
		}
		next.Set("after", id(out[len(out)-1]))
		w.Header().Add("Link", "<"+base+"?"+next.Encode()+">; rel=\"next\"")
	}
	return out, true
}

// cond is one "attr op value" of a filter or search expression.
type cond struct {
	attr, op, value string
}

// parseFilter parses the subset of Okta's filter and search syntax the mock
// supports: comparisons `attr eq "value"` (also sw, co) joined by "and" or
// "or" (and binds tighter), without parentheses. The result is a
// disjunction of conjunctions.
func parseFilter(s string) ([][]cond, bool) {
	var (
		out []([]cond)
		cur []cond
	)
	rest := strings.TrimSpace(s)
	if rest == "" {
		return nil, false
	}
	for {
		attr, after, ok := strings.Cut(rest, " ")
		if !ok || attr == "" {
			return nil, false
		}
		after = strings.TrimLeft(after, " ")
		op, after, ok := strings.Cut(after, " ")
		if !ok {
			return nil, false
		}
		op = strings.ToLower(op)
		if op != "eq" && op != "sw" && op != "co" {
			return nil, false
		}
		after = strings.TrimLeft(after, " ")
		var value string
		switch {
		case strings.HasPrefix(after, `"`):
			end := -1
			for i := 1; i < len(after); i++ {
				if after[i] == '\\' {
					i++
					continue
				}
				if after[i] == '"' {
					end = i
					break
				}
			}
			if end < 0 {
				return nil, false
			}
			v, err := strconv.Unquote(after[:end+1])
			if err != nil {
				return nil, false
			}
			value, after = v, after[end+1:]
		default: // true, false, numbers
			tok, tail, _ := strings.Cut(after, " ")
			if tok == "" {
				return nil, false
			}
			value, after = tok, " "+tail
		}
		cur = append(cur, cond{attr: attr, op: op, value: value})
		after = strings.TrimSpace(after)
		if after == "" {
			return append(out, cur), true
		}
		word, tail, ok := strings.Cut(after, " ")
		if !ok {
			return nil, false
		}
		switch strings.ToLower(word) {
		case "and":
		case "or":
			out, cur = append(out, cur), nil
		default:
			return nil, false
		}
		rest = strings.TrimSpace(tail)
	}
}

// match evaluates a parsed filter; get returns an attribute's value and
// whether the attribute is known.
func match(f [][]cond, get func(attr string) (string, bool)) (bool, bool) {
	for _, and := range f {
		all := true
		for _, c := range and {
			v, known := get(c.attr)
			if !known {
				return false, false
			}
			var ok bool
			switch c.op {
			case "eq":
				ok = strings.EqualFold(v, c.value)
			case "sw":
				ok = strings.HasPrefix(strings.ToLower(v), strings.ToLower(c.value))
			case "co":
				ok = strings.Contains(strings.ToLower(v), strings.ToLower(c.value))
			}
			if !ok {
				all = false
			}
		}
		if all {
			return true, true
		}
	}
	return false, true
}

// filterItems applies the filter or search parameter; a malformed one
// gives Okta's E0000031.
func filterItems[T any](h *Handler, w http.ResponseWriter, r *http.Request, items []T, get func(T, string) (string, bool)) ([]T, bool) {
	q := r.URL.Query()
	expr := q.Get("filter")
	if s := q.Get("search"); s != "" {
		expr = s
	}
	if expr == "" {
		return items, true
	}
	f, ok := parseFilter(expr)
	if !ok {
		h.writeError(w, http.StatusBadRequest, "E0000031", "Invalid search criteria.", []string{"filter: unsupported expression " + strconv.Quote(expr)})
		return nil, false
	}
	var out []T
	for _, it := range items {
		m, known := match(f, func(attr string) (string, bool) { return get(it, attr) })
		if !known {
			h.writeError(w, http.StatusBadRequest, "E0000031", "Invalid search criteria.", []string{"filter: unsupported attribute in " + strconv.Quote(expr)})
			return nil, false
		}
		if m {
			out = append(out, it)
		}
	}
	return out, true
}

// startsWith reports whether any of vals starts with q, case-insensitively
// (Okta's q parameter).
func startsWith(q string, vals ...string) bool {
	q = strings.ToLower(q)
	for _, v := range vals {
		if strings.HasPrefix(strings.ToLower(v), q) {
			return true
		}
	}
	return false
}

// writePage pages items as page does and writes the page as a JSON array,
// each item rendered by render.
func writePage[T, J any](h *Handler, w http.ResponseWriter, r *http.Request, items []T, id func(T) string, defLimit, maxLimit int, render func(T) J) {
	items, ok := page(h, w, r, items, id, defLimit, maxLimit)
	if !ok {
		return
	}
	out := make([]J, 0, len(items))
	for _, it := range items {
		out = append(out, render(it))
	}
	writeJSON(w, http.StatusOK, out)
}
