package schema

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/idpkit/idpkit/scim"
)

// Value checks and converts v, a decoded JSON value, to the full value of
// attribute a (RFC 7643 §2.3, §2.4) as a resource body carries it, and
// returns it in canonical form:
//
//   - nil means unassigned and gives nil;
//   - a multi-valued attribute takes a JSON array and gives []any; any other
//     value (a string, or a single object) is 400 invalidValue; null
//     elements are dropped and an empty list gives nil; at most one element
//     may have "primary": true (RFC 7643 §2.4);
//   - a single-valued attribute given an array is 400 invalidValue;
//   - booleans accept the strings "true" and "false" in any letter case;
//   - a string attribute with canonical values (emails.type, members.type…)
//     accepts them in any letter case, gives them in the canonical case and
//     rejects any other string;
//   - binary values must be base64 (RFC 7643 §2.3.6);
//   - a complex value's sub-attribute names are put in canonical case, unknown
//     and readOnly sub-attributes and null sub-values are dropped; a bare
//     string for a complex attribute with a "value" sub-attribute (Okta's and
//     Entra's members) becomes {"value": s};
//   - a value of the wrong type is a *scim.Error 400 invalidValue naming the
//     attribute.
//
// Required sub-attributes are checked by ResourceType.CheckRequired, not
// here, so that a PATCH can build a value in steps.
func (a *Attribute) Value(v any) (any, error) { return a.value(v, a.Name) }

// Values is Value for a PATCH operation whose path names a (multi-valued)
// attribute: there a single value that is not an array is read as a list
// of that one value (RFC 7644 §3.5.2.1, "a new value is added").
func (a *Attribute) Values(v any) (any, error) {
	if _, isList := v.([]any); a.MultiValued && v != nil && !isList {
		v = []any{v}
	}
	return a.value(v, a.Name)
}

// Element checks and converts one value of a (one element when a is
// multi-valued) as Value does.
func (a *Attribute) Element(v any) (any, error) { return a.element(v, a.Name) }

func (a *Attribute) value(v any, path string) (any, error) {
	if v == nil {
		return nil, nil
	}
	list, isList := v.([]any)
	if !a.MultiValued {
		if isList {
			return nil, invalidValue("attribute %q is single-valued and cannot take an array", path)
		}
		return a.element(v, path)
	}
	if !isList {
		return nil, invalidValue("attribute %q is multi-valued and needs a JSON array", path)
	}
	out := make([]any, 0, len(list))
	primaries := 0
	for _, e := range list {
		c, err := a.element(e, path)
		if err != nil {
			return nil, err
		}
		if c == nil {
			continue
		}
		if m, ok := c.(map[string]any); ok && m["primary"] == true {
			primaries++
		}
		out = append(out, c)
	}
	if primaries > 1 {
		return nil, invalidValue("attribute %q has %d values with \"primary\": true; at most one may be primary", path, primaries)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func (a *Attribute) element(v any, path string) (any, error) {
	if v == nil {
		return nil, nil
	}
	if _, ok := v.([]any); ok {
		return nil, invalidValue("attribute %q takes a single value here, not a list", path)
	}
	switch a.Type {
	case TypeString, TypeReference:
		s, ok := v.(string)
		if !ok {
			return nil, invalidValue("attribute %q must be a string", path)
		}
		if len(a.CanonicalValues) > 0 {
			return a.canonicalValue(s, path)
		}
		return s, nil
	case TypeBinary:
		s, ok := v.(string)
		if !ok {
			return nil, invalidValue("attribute %q must be a base64 string", path)
		}
		if _, err := base64.StdEncoding.DecodeString(stripSpace(s)); err != nil {
			return nil, invalidValue("attribute %q must be base64-encoded binary", path)
		}
		return s, nil
	case TypeDateTime:
		s, ok := v.(string)
		if !ok {
			return nil, invalidValue("attribute %q must be a dateTime string", path)
		}
		if _, err := ParseDateTime(s); err != nil {
			return nil, invalidValue("attribute %q must be an xsd:dateTime such as 2008-01-23T04:56:22Z", path)
		}
		return strings.ToUpper(s), nil
	case TypeBoolean:
		b, ok := ParseBool(v)
		if !ok {
			return nil, invalidValue("attribute %q must be true or false", path)
		}
		return b, nil
	case TypeDecimal:
		f, ok := number(v)
		if !ok {
			return nil, invalidValue("attribute %q must be a number", path)
		}
		return f, nil
	case TypeInteger:
		f, ok := number(v)
		if !ok || f != math.Trunc(f) {
			return nil, invalidValue("attribute %q must be an integer", path)
		}
		return f, nil
	case TypeComplex:
		if s, ok := v.(string); ok && a.Sub("value") != nil {
			v = map[string]any{"value": s}
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, invalidValue("attribute %q must be an object", path)
		}
		out := map[string]any{}
		for _, k := range sortedKeys(m) {
			sub := a.Sub(k)
			if sub == nil || sub.Mutability == ReadOnly {
				continue
			}
			c, err := sub.value(m[k], path+"."+sub.Name)
			if err != nil {
				return nil, err
			}
			if c != nil {
				out[sub.Name] = c
			}
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	}
	return nil, invalidValue("attribute %q has unsupported type %q", path, a.Type)
}

// canonicalValue returns the canonical spelling of s, compared
// case-insensitively with a's canonical values, or 400 invalidValue.
func (a *Attribute) canonicalValue(s, path string) (any, error) {
	for _, c := range a.CanonicalValues {
		if strings.EqualFold(c, s) {
			return c, nil
		}
	}
	return nil, invalidValue("attribute %q must be one of %s, not %q", path, strings.Join(a.CanonicalValues, ", "), s)
}

func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
}

// ParseDateTime parses an xsd:dateTime (RFC 7643 §2.3.5) written as an
// RFC 3339 date-time, whose "T" and "Z" may be lowercase (RFC 3339 §5.6):
// the string is put in upper case before it is parsed.
func ParseDateTime(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, strings.ToUpper(s))
}

// ParseBool reads a boolean given as JSON true/false or as the strings
// "true"/"false" in any letter case (Entra sends "False").
func ParseBool(v any) (bool, bool) {
	switch b := v.(type) {
	case bool:
		return b, true
	case string:
		switch {
		case strings.EqualFold(b, "true"):
			return true, true
		case strings.EqualFold(b, "false"):
			return false, true
		}
	}
	return false, false
}

// number reads a JSON number decoded as float64 or json.Number (or a Go
// integer), rejecting NaN and infinities.
func number(v any) (float64, bool) {
	var f float64
	switch n := v.(type) {
	case float64:
		f = n
	case json.Number:
		x, err := n.Float64()
		if err != nil {
			return 0, false
		}
		f = x
	case int:
		f = float64(n)
	case int64:
		f = float64(n)
	default:
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// Number reads a decoded JSON number (float64, json.Number or a Go integer).
func Number(v any) (float64, bool) { return number(v) }

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Get returns the value under the key of m equal to name, compared
// case-insensitively; an exact match wins.
func Get(m map[string]any, name string) (any, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	for _, k := range sortedKeys(m) {
		if strings.EqualFold(k, name) {
			return m[k], true
		}
	}
	return nil, false
}

// Normalize checks a resource sent with POST or PUT (RFC 7644 §3.3, §3.5.1)
// against rt and returns a new resource in canonical form; r is not
// modified. Attribute names are put in canonical case, extension data is
// keyed by its schema URN (a URN-qualified key such as
// "urn:…:enterprise:2.0:User:employeeNumber" is accepted too), values are
// checked and converted as Attribute.Value does, unknown and readOnly
// attributes (id, meta, groups) are dropped, and required attributes and
// sub-attributes must be present (400 invalidValue otherwise, see
// CheckRequired). "schemas", when sent, must be a list
// of strings that includes the core schema URN; the result lists the core
// URN and every extension the resource holds or that was listed.
func (rt *ResourceType) Normalize(r scim.Resource) (scim.Resource, error) {
	if rt == nil || rt.Schema == nil {
		return nil, scim.Errorf(500, "", "schema: no resource type")
	}
	out := scim.Resource{}
	var listed []string
	for _, k := range sortedKeys(r) {
		v := r[k]
		if strings.EqualFold(k, "schemas") {
			l, err := schemaList(v, rt)
			if err != nil {
				return nil, err
			}
			listed = l
			continue
		}
		if s := rt.SchemaFor(k); s != nil {
			m, ok := v.(map[string]any)
			if v == nil {
				continue
			}
			if !ok {
				return nil, invalidValue("%q must be an object of that schema's attributes", k)
			}
			for _, sk := range sortedKeys(m) {
				name, sub, _ := strings.Cut(sk, ".")
				if err := rt.normalizeOne(out, s.ID, name, sub, m[sk]); err != nil {
					return nil, err
				}
			}
			continue
		}
		urn, name, sub := SplitPath(k)
		if err := rt.normalizeOne(out, urn, name, sub, v); err != nil {
			return nil, err
		}
	}
	if err := rt.CheckRequired(out); err != nil {
		return nil, err
	}
	schemas := []any{rt.Schema.ID}
	for _, e := range rt.Extensions {
		_, has := out[e.Schema.ID]
		if e.Required && !has {
			return nil, invalidValue("extension %q is required", e.Schema.ID)
		}
		if has || slices.ContainsFunc(listed, func(s string) bool { return strings.EqualFold(s, e.Schema.ID) }) {
			schemas = append(schemas, e.Schema.ID)
		}
	}
	out["schemas"] = schemas
	return out, nil
}

// normalizeOne puts one attribute, name or name.sub within the schema urn
// ("" = resolve), into out.
func (rt *ResourceType) normalizeOne(out scim.Resource, urn, name, sub string, v any) error {
	res, err := rt.Resolve(urn, name, sub)
	if err != nil || res.Attr.Mutability == ReadOnly || (res.Sub != nil && res.Sub.Mutability == ReadOnly) {
		return nil // unknown or readOnly: dropped
	}
	target := out
	if res.Extension(rt) {
		m, _ := out[res.Schema.ID].(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		target = m
		defer func() {
			if len(m) > 0 {
				out[res.Schema.ID] = m
			}
		}()
	}
	if res.Sub == nil {
		c, err := res.Attr.Value(v)
		if err != nil {
			return err
		}
		if c == nil {
			return nil
		}
		if old, ok := target[res.Attr.Name].(map[string]any); ok && res.Attr.Type == TypeComplex && !res.Attr.MultiValued {
			for k, x := range c.(map[string]any) {
				old[k] = x
			}
			return nil
		}
		target[res.Attr.Name] = c
		return nil
	}
	if res.Attr.MultiValued {
		return nil // "emails.value" as a key names no single place: dropped
	}
	c, err := res.Sub.value(v, res.Attr.Name+"."+res.Sub.Name)
	if err != nil || c == nil {
		return err
	}
	m, _ := target[res.Attr.Name].(map[string]any)
	if m == nil {
		m = map[string]any{}
		target[res.Attr.Name] = m
	}
	m[res.Sub.Name] = c
	return nil
}

func schemaList(v any, rt *ResourceType) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, invalidValue("\"schemas\" must be a list of schema URNs")
	}
	var out []string
	core := false
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, invalidValue("\"schemas\" must be a list of schema URNs")
		}
		if strings.EqualFold(s, rt.Schema.ID) {
			core = true
		}
		out = append(out, s)
	}
	if !core {
		return nil, invalidValue("\"schemas\" must include %q", rt.Schema.ID)
	}
	return out, nil
}

// empty reports whether v is unassigned in the sense of RFC 7643 §2.5:
// null, an empty string, an empty list or an empty object.
func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// Empty reports whether v counts as unassigned (RFC 7643 §2.5): null, "",
// [] or {}.
func Empty(v any) bool { return empty(v) }
