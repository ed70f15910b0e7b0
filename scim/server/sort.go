package server

import (
	"cmp"
	"net/http"
	"strings"
	"time"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/schema"
)

// sortOrder parses sortOrder (RFC 7644 §3.4.2.3): "ascending" (the
// default) or "descending", case-insensitively. It reports descending.
func sortOrder(s string) (bool, error) {
	switch s = strings.TrimSpace(s); {
	case s == "" || strings.EqualFold(s, "ascending"):
		return false, nil
	case strings.EqualFold(s, "descending"):
		return true, nil
	}
	return false, scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "sortOrder must be \"ascending\" or \"descending\", not %q", s)
}

// sorter reads the sort key of sortBy from resources of one type.
type sorter struct {
	res  schema.Resolved
	leaf *schema.Attribute // the attribute whose values are compared
	sub  string            // the sub-attribute read from a complex value, or ""
	rt   *schema.ResourceType
}

// resolveSort resolves sortBy against rt. A complex attribute sorts by
// its "value" sub-attribute when it is multi-valued (emails); a singular
// complex attribute (name) must be named with a sub-attribute. Unknown
// attributes and attributes never returned (password) are 400
// invalidValue.
func resolveSort(sortBy string, rt *schema.ResourceType) (*sorter, error) {
	p := strings.TrimSpace(sortBy)
	if rt.IsSchemaURN(p) {
		return nil, scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "sortBy %q names a schema, not an attribute", p)
	}
	urn, name, sub := schema.SplitPath(p)
	res, err := rt.Resolve(urn, name, sub)
	if err != nil {
		return nil, scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "sortBy %q is not an attribute of %s", p, rt.Name)
	}
	s := &sorter{res: res, leaf: res.Leaf(), rt: rt}
	if res.Sub != nil {
		s.sub = res.Sub.Name
	}
	if res.Sub == nil && res.Attr.Type == schema.TypeComplex {
		v := res.Attr.Sub("value")
		if !res.Attr.MultiValued || v == nil {
			return nil, scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "sortBy %q is complex; sort by one of its sub-attributes, such as %s.%s", p, res.Attr.Name, firstSub(res.Attr))
		}
		s.leaf, s.sub = v, v.Name
	}
	if hidden(res.Attr) || hidden(s.leaf) {
		return nil, scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "sortBy %q: %s is never returned and cannot be sorted by", p, res.Attr.Name)
	}
	return s, nil
}

func firstSub(a *schema.Attribute) string {
	if len(a.SubAttributes) == 0 {
		return "value"
	}
	return a.SubAttributes[0].Name
}

// hidden reports whether an attribute is never returned (RFC 7643 §7):
// such attributes are neither filtered nor sorted on.
func hidden(a *schema.Attribute) bool {
	return a != nil && (a.Returned == schema.ReturnedNever || a.Mutability == schema.WriteOnly)
}

// sortKey is a comparable form of one resource's sort value; kind 0 is
// null (unassigned, RFC 7643 §2.5).
type sortKey struct {
	kind int // 0 null, 1 boolean, 2 number, 3 dateTime, 4 string
	b    bool
	f    float64
	t    time.Time
	s    string
}

// key returns the sort key of res. For a multi-valued attribute the
// primary value is used, else the first.
func (s *sorter) key(res scim.Resource) sortKey {
	if s == nil {
		return sortKey{}
	}
	container := res
	if s.res.Extension(s.rt) {
		container, _ = getFold(res, s.res.Schema.ID).(map[string]any)
	}
	v := getFold(container, s.res.Attr.Name)
	if s.res.Attr.MultiValued {
		v = primaryOrFirst(v)
	}
	if s.sub != "" {
		m, _ := v.(map[string]any)
		v = getFold(m, s.sub)
	}
	if schema.Empty(v) {
		return sortKey{}
	}
	switch s.leaf.Type {
	case schema.TypeBoolean:
		if b, ok := schema.ParseBool(v); ok {
			return sortKey{kind: 1, b: b}
		}
	case schema.TypeInteger, schema.TypeDecimal:
		if f, ok := schema.Number(v); ok {
			return sortKey{kind: 2, f: f}
		}
	case schema.TypeDateTime:
		if str, ok := v.(string); ok {
			if t, err := time.Parse(time.RFC3339Nano, str); err == nil {
				return sortKey{kind: 3, t: t}
			}
		}
	default:
		if str, ok := v.(string); ok {
			if !s.leaf.CaseExact {
				str = strings.ToLower(str)
			}
			return sortKey{kind: 4, s: str}
		}
	}
	return sortKey{} // a value that does not fit its type sorts as null
}

// compareKeys orders keys ascending with nulls last.
func compareKeys(a, b sortKey) int {
	switch {
	case a.kind == 0 && b.kind == 0:
		return 0
	case a.kind == 0:
		return 1
	case b.kind == 0:
		return -1
	case a.kind != b.kind:
		return cmp.Compare(a.kind, b.kind)
	}
	switch a.kind {
	case 1:
		return cmp.Compare(btoi(a.b), btoi(b.b))
	case 2:
		return cmp.Compare(a.f, b.f)
	case 3:
		return a.t.Compare(b.t)
	}
	return strings.Compare(a.s, b.s)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// primaryOrFirst picks the value of a multi-valued attribute that sorts:
// the one with "primary": true, else the first.
func primaryOrFirst(v any) any {
	list, ok := v.([]any)
	if !ok {
		return v
	}
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			if p, ok := schema.ParseBool(getFold(m, "primary")); ok && p {
				return e
			}
		}
	}
	if len(list) == 0 {
		return nil
	}
	return list[0]
}

// getFold is schema.Get without the found flag.
func getFold(m map[string]any, name string) any {
	v, _ := schema.Get(m, name)
	return v
}
