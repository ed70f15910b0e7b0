package check

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Reading decoded JSON: the resources, lists and errors the target answers
// with, as encoding/json decodes them with UseNumber.

// show renders v as JSON for a message, or "missing" when it is nil.
func show(v any) string {
	if v == nil {
		return "missing"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// get walks a dotted path through decoded JSON; object keys match
// case-insensitively (RFC 7643 §2.1) and numbers index arrays.
func get(v any, path string) any {
	if path == "" {
		return v
	}
	for _, part := range strings.Split(path, ".") {
		switch cur := v.(type) {
		case map[string]any:
			next, ok := cur[part]
			if !ok {
				for k, val := range cur {
					if strings.EqualFold(k, part) {
						next, ok = val, true
						break
					}
				}
			}
			if !ok {
				return nil
			}
			v = next
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(cur) {
				return nil
			}
			v = cur[i]
		default:
			return nil
		}
	}
	return v
}

// str is v when it is a string, else "".
func str(v any) string {
	s, _ := v.(string)
	return s
}

// intOf is v as an int when it is a number, else -1.
func intOf(v any) int {
	switch n := v.(type) {
	case json.Number:
		i, _ := n.Int64()
		return int(i)
	case float64:
		return int(n)
	}
	return -1
}

// hasSchema reports whether resource v lists urn in its schemas.
func hasSchema(v any, urn string) bool {
	list, _ := get(v, "schemas").([]any)
	for _, s := range list {
		if str(s) == urn {
			return true
		}
	}
	return false
}

// asMap is v when it is a JSON object, else nil.
func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// ext returns the value of an extension attribute: the object under the
// extension's URN, then the dotted path inside it. get cannot walk a URN
// key itself because URNs such as "…:2.0:User" contain a dot.
func ext(v any, urn, path string) any {
	for k, val := range asMap(v) {
		if strings.EqualFold(k, urn) {
			return get(val, path)
		}
	}
	return nil
}

// has reports whether resource v carries the top-level attribute name
// (matched case-insensitively), whatever its value.
func has(v any, name string) bool {
	for k := range asMap(v) {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// within returns an exchange that shows v, one resource of x's body, in a
// failure report.
func within(x *Exchange, v any) *Exchange {
	y := *x
	y.JSON = v
	return &y
}

// emailsOf returns the emails of a user as "type=value" strings, sorted,
// with a "*" after the primary one.
func emailsOf(v any) []string {
	var out []string
	list, _ := get(v, "emails").([]any)
	for _, e := range list {
		s := str(get(e, "type")) + "=" + str(get(e, "value"))
		if b, _ := get(e, "primary").(bool); b {
			s += "*"
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// memberValues returns the member ids of a group body.
func memberValues(v any) []string {
	var out []string
	list, _ := get(v, "members").([]any)
	for _, m := range list {
		out = append(out, str(get(m, "value")))
	}
	return out
}

// jsonString renders v as compact JSON, for messages.
func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
