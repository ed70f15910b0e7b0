package casefile

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Lookup resolves a dotted path in a decoded JSON value. Object keys match
// case-insensitively (an exact match wins); a segment that is a number
// indexes an array; a key may itself contain dots (a schema URN such as
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.employeeNumber"),
// so the longest key that matches is tried first. The empty path is the
// value itself.
func Lookup(v any, path string) (any, bool) {
	if path == "" {
		return v, true
	}
	return lookup(v, strings.Split(path, "."))
}

func lookup(v any, segs []string) (any, bool) {
	if len(segs) == 0 {
		return v, true
	}
	switch x := v.(type) {
	case map[string]any:
		for j := len(segs); j > 0; j-- {
			el, ok := field(x, strings.Join(segs[:j], "."))
			if !ok {
				continue
			}
			if r, ok := lookup(el, segs[j:]); ok {
				return r, true
			}
		}
	case []any:
		i, err := strconv.Atoi(segs[0])
		if err == nil && i >= 0 && i < len(x) {
			return lookup(x[i], segs[1:])
		}
	}
	return nil, false
}

// field returns m[key], comparing keys case-insensitively.
func field(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// unassigned reports whether v counts as no value (RFC 7643 §2.5: null and
// an empty array are equivalent to an absent attribute).
func unassigned(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case []any:
		return len(x) == 0
	}
	return false
}

// number returns v as a float64 when it is a JSON number.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case int:
		return float64(x), true
	}
	return 0, false
}

// equal reports whether two decoded JSON values are the same, comparing
// numbers by value and object keys case-insensitively.
func equal(want, got any) bool {
	if wn, ok := number(want); ok {
		gn, ok := number(got)
		return ok && wn == gn
	}
	switch w := want.(type) {
	case nil:
		return got == nil
	case string:
		g, ok := got.(string)
		return ok && g == w
	case bool:
		g, ok := got.(bool)
		return ok && g == w
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !equal(w[i], g[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for k, wv := range w {
			gv, ok := field(g, k)
			if !ok || !equal(wv, gv) {
				return false
			}
		}
		return true
	}
	return false
}

// subset reports why got does not contain want, or "" when it does: every
// key of a want object must be in got (case-insensitively) with a matching
// value, every element of a want array must match some element of the got
// array, and scalars must be equal.
func subset(want, got any, at string) string {
	where := at
	if where == "" {
		where = "the body"
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s is %s, want an object", where, compact(got))
		}
		for _, k := range sortedKeys(w) {
			gv, ok := field(g, k)
			if !ok {
				return fmt.Sprintf("%s is absent", join(at, k))
			}
			if why := subset(w[k], gv, join(at, k)); why != "" {
				return why
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok {
			return fmt.Sprintf("%s is %s, want an array", where, compact(got))
		}
		for _, wel := range w {
			found := false
			for _, gel := range g {
				if subset(wel, gel, "") == "" {
					found = true
					break
				}
			}
			if !found {
				return fmt.Sprintf("no element of %s matches %s", where, compact(wel))
			}
		}
		return ""
	default:
		if !equal(want, got) {
			return fmt.Sprintf("%s is %s, want %s", where, compact(got), compact(want))
		}
		return ""
	}
}

func join(at, k string) string {
	if at == "" {
		return k
	}
	return at + "." + k
}
