package filter

import (
	"strings"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/schema"
)

func invalid(format string, args ...any) *scim.Error {
	return scim.Errorf(400, scim.TypeInvalidFilter, "filter: "+format, args...)
}

// scope is where attribute names resolve: the resource (rt) or one value of
// a complex attribute (elem, its sub-attributes).
type scope struct {
	rt   *schema.ResourceType
	elem *schema.Attribute
}

// resolve finds the attribute a comparison or presence test reads.
func (s scope) resolve(p AttrPath) (schema.Resolved, error) {
	if s.elem != nil {
		if p.URN != "" || p.Sub != "" {
			return schema.Resolved{}, invalid("%q is not a sub-attribute of %q", p.String(), s.elem.Name)
		}
		sub := s.elem.Sub(p.Name)
		if sub == nil {
			return schema.Resolved{}, invalid("unknown attribute %q", s.elem.Name+"."+p.Name)
		}
		return schema.Resolved{Attr: sub}, nil
	}
	res, err := s.rt.Resolve(p.URN, p.Name, p.Sub)
	if err != nil {
		return schema.Resolved{}, invalid("unknown attribute %q", p.String())
	}
	return res, nil
}

// compared returns the attribute whose values a comparison reads: the leaf,
// or the "value" sub-attribute of a multi-valued complex attribute named
// without a sub-attribute (emails co "@example.com").
func compared(res schema.Resolved) *schema.Attribute {
	leaf := res.Leaf()
	if leaf.Type == schema.TypeComplex && res.Sub == nil {
		if v := leaf.Sub("value"); v != nil && leaf.MultiValued {
			return v
		}
		return nil
	}
	return leaf
}

// Validate checks e against rt without a resource: every attribute must be
// known and every comparison must fit its attribute's type. Eval calls it;
// a server can call it once before scanning many resources. Errors are
// *scim.Error 400 invalidFilter.
func Validate(e Expr, rt *schema.ResourceType) error {
	if rt == nil {
		return invalid("no resource type to evaluate against")
	}
	return validate(e, scope{rt: rt})
}

// ValidateValue checks e as a value filter on the complex attribute attr
// (the filter of a PATCH path such as members[value eq "…"]): its names are
// attr's sub-attributes. Errors are *scim.Error 400 invalidFilter.
func ValidateValue(e Expr, attr *schema.Attribute) error {
	if attr == nil || attr.Type != schema.TypeComplex {
		return invalid("a value filter needs a complex attribute")
	}
	return validate(e, scope{elem: attr})
}

func validate(e Expr, s scope) error {
	switch x := e.(type) {
	case *And:
		if err := validate(x.Left, s); err != nil {
			return err
		}
		return validate(x.Right, s)
	case *Or:
		if err := validate(x.Left, s); err != nil {
			return err
		}
		return validate(x.Right, s)
	case *Not:
		return validate(x.X, s)
	case *Present:
		_, err := s.resolve(x.Attr)
		return err
	case *Compare:
		res, err := s.resolve(x.Attr)
		if err != nil {
			return err
		}
		a := compared(res)
		if a == nil {
			return invalid("%q is complex; compare one of its sub-attributes", x.Attr.String())
		}
		return checkCompare(x, a)
	case *ValuePath:
		if s.elem != nil {
			return invalid("value filters cannot be nested")
		}
		res, err := s.resolve(x.Attr)
		if err != nil {
			return err
		}
		if res.Sub != nil || res.Attr.Type != schema.TypeComplex {
			return invalid("%q is not a complex attribute and takes no value filter", x.Attr.String())
		}
		return validate(x.Filter, scope{elem: res.Attr})
	}
	return invalid("empty expression")
}

func checkCompare(c *Compare, a *schema.Attribute) error {
	ordered := c.Op == "gt" || c.Op == "ge" || c.Op == "lt" || c.Op == "le"
	substr := c.Op == "co" || c.Op == "sw" || c.Op == "ew"
	if c.Value == nil {
		if c.Op != "eq" && c.Op != "ne" {
			return invalid("%q %s null: only eq and ne take null", c.Attr.String(), c.Op)
		}
		return nil
	}
	switch a.Type {
	case schema.TypeBoolean:
		if _, ok := c.Value.(bool); !ok || ordered || substr {
			return invalid("%q is boolean: use eq or ne with true or false", c.Attr.String())
		}
	case schema.TypeDecimal, schema.TypeInteger:
		if _, ok := c.Value.(float64); !ok || substr {
			return invalid("%q is a number: compare it with a number using eq, ne, gt, ge, lt or le", c.Attr.String())
		}
	case schema.TypeDateTime:
		s, ok := c.Value.(string)
		if !ok {
			return invalid("%q is a dateTime: compare it with a quoted date such as \"2011-05-13T04:42:34Z\"", c.Attr.String())
		}
		if !substr {
			if _, err := schema.ParseDateTime(s); err != nil {
				return invalid("%q is a dateTime and %s is not one", c.Attr.String(), literal(s))
			}
		}
	case schema.TypeBinary:
		if _, ok := c.Value.(string); !ok || ordered || substr {
			return invalid("%q is binary: use eq or ne with a quoted string", c.Attr.String())
		}
	default: // string, reference
		if _, ok := c.Value.(string); !ok {
			return invalid("%q is a string: compare it with a quoted string", c.Attr.String())
		}
	}
	return nil
}

// Eval reports whether r matches e (RFC 7644 §3.4.2.2). Attribute names
// resolve case-insensitively against rt and r's keys; extension attributes
// are read under r's key of their schema URN. Strings compare
// case-insensitively unless the attribute is caseExact; dateTime values
// compare as instants; a multi-valued attribute matches if any value does,
// and one named without a sub-attribute compares its "value" sub-attribute.
//
// A multi-valued attribute, or a sub-attribute reached through one, matches
// if any of its values satisfies the comparison, for every operator
// (RFC 7644 §3.4.2.2): emails.value ne "x" matches a user with any email
// other than "x", exactly as emails[value ne "x"] does, while
// not (emails.value eq "x") matches one with no email "x". An attribute with
// no value satisfies ne and no other operator (nickName ne "x" matches a
// user without a nickName); a multi-valued attribute with no values has no
// value to satisfy anything, so emails.value ne "x" does not match a user
// without emails, again as emails[value ne "x"]. "pr" is true for a value
// that is not null, "", [] or {}; "eq null" is true when the attribute has
// no such value (absent included) and "ne null" is its negation.
// dateTime literals and values may use a lowercase "t" and "z" (RFC 3339
// §5.6). A filter that does not fit rt (see Validate) is a *scim.Error 400
// invalidFilter.
func Eval(e Expr, r scim.Resource, rt *schema.ResourceType) (bool, error) {
	if err := Validate(e, rt); err != nil {
		return false, err
	}
	return eval(e, r, scope{rt: rt}), nil
}

// Match reports whether elem, one value of the complex attribute attr,
// matches the value filter e (as in a PATCH path members[value eq "…"]).
// Errors are those of ValidateValue.
func Match(e Expr, elem map[string]any, attr *schema.Attribute) (bool, error) {
	if err := ValidateValue(e, attr); err != nil {
		return false, err
	}
	return eval(e, elem, scope{elem: attr}), nil
}

func eval(e Expr, obj map[string]any, s scope) bool {
	switch x := e.(type) {
	case *And:
		return eval(x.Left, obj, s) && eval(x.Right, obj, s)
	case *Or:
		return eval(x.Left, obj, s) || eval(x.Right, obj, s)
	case *Not:
		return !eval(x.X, obj, s)
	case *Present:
		res, err := s.resolve(x.Attr)
		if err != nil {
			return false
		}
		for _, v := range values(obj, res, s) {
			if !schema.Empty(v) {
				return true
			}
		}
		return false
	case *Compare:
		res, err := s.resolve(x.Attr)
		if err != nil {
			return false
		}
		a := compared(res)
		if a == nil {
			return false
		}
		if x.Value == nil {
			// eq null and ne null test the attribute as a whole: eq null
			// holds when it has no value that is not empty.
			none := true
			for _, c := range candidates(obj, res, a, s) {
				for _, v := range c {
					if !schema.Empty(v) {
						none = false
					}
				}
			}
			return none == (x.Op == "eq")
		}
		// RFC 7644 §3.4.2.2: a multi-valued attribute matches if any of its
		// values matches, for every operator, ne included; so emails.value
		// ne "x" means the same as emails[value ne "x"].
		for _, c := range candidates(obj, res, a, s) {
			if satisfies(a, x.Op, x.Value, c) {
				return true
			}
		}
		return false
	case *ValuePath:
		res, err := s.resolve(x.Attr)
		if err != nil {
			return false
		}
		for _, v := range values(obj, res, s) {
			if m, ok := v.(map[string]any); ok && eval(x.Filter, m, scope{elem: res.Attr}) {
				return true
			}
		}
		return false
	}
	return false
}

// candidates returns what a comparison on res (reading attribute a) is
// tried against: one entry per value of a multi-valued attribute on the
// way (emails, or emails for emails.value), holding the compared value of
// that element (none when the element lacks the sub-attribute); for a
// single-valued path one entry holding its value, or nothing when absent.
// A multi-valued attribute with no values gives no entry at all.
func candidates(obj map[string]any, res schema.Resolved, a *schema.Attribute, s scope) [][]any {
	if !res.Attr.MultiValued {
		return [][]any{values(obj, res, s)}
	}
	top := res
	top.Sub = nil
	var out [][]any
	for _, e := range values(obj, top, s) {
		if e == nil {
			continue
		}
		if a == res.Attr { // a multi-valued simple attribute: the value itself
			out = append(out, []any{e})
			continue
		}
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		var c []any
		if sv, ok := schema.Get(m, a.Name); ok && sv != nil {
			c = flatten(sv)
		}
		out = append(out, c)
	}
	return out
}

// satisfies reports whether one candidate (the values of one element, or
// of a single-valued attribute) satisfies "op want". ne holds when some
// value differs from want, or when there is no value at all: an absent
// attribute differs from every value (nickName ne "x" matches a user with
// no nickName). Every other operator needs a value that satisfies it.
func satisfies(a *schema.Attribute, op string, want any, c []any) bool {
	if op == "ne" {
		if len(c) == 0 {
			return true
		}
		for _, v := range c {
			if !compare(a, "eq", want, v) {
				return true
			}
		}
		return false
	}
	for _, v := range c {
		if compare(a, op, want, v) {
			return true
		}
	}
	return false
}

// values returns the values an attribute has in obj, flattening
// multi-valued attributes and sub-attributes of multi-valued complex ones.
func values(obj map[string]any, res schema.Resolved, s scope) []any {
	if res.Extension(s.rt) {
		ext, _ := schema.Get(obj, res.Schema.ID)
		obj, _ = ext.(map[string]any)
	}
	if obj == nil {
		return nil
	}
	v, ok := schema.Get(obj, res.Attr.Name)
	if !ok || v == nil {
		return nil
	}
	list := flatten(v)
	if res.Sub == nil {
		return list
	}
	var out []any
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			if sv, ok := schema.Get(m, res.Sub.Name); ok {
				out = append(out, flatten(sv)...)
			}
		}
	}
	return out
}

func flatten(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// compare applies op (never "ne") to want (from the filter) and got (from
// the resource) as attribute a's type says.
func compare(a *schema.Attribute, op string, want, got any) bool {
	switch a.Type {
	case schema.TypeBoolean:
		w, _ := want.(bool)
		g, ok := schema.ParseBool(got)
		return ok && op == "eq" && g == w
	case schema.TypeDecimal, schema.TypeInteger:
		w, _ := want.(float64)
		g, ok := schema.Number(got)
		if !ok {
			return false
		}
		return order(op, cmpFloat(g, w))
	case schema.TypeDateTime:
		w, _ := want.(string)
		g, ok := got.(string)
		if !ok {
			return false
		}
		if op == "co" || op == "sw" || op == "ew" {
			return substring(op, w, g)
		}
		wt, err1 := schema.ParseDateTime(w)
		gt, err2 := schema.ParseDateTime(g)
		if err1 != nil || err2 != nil {
			return false
		}
		return order(op, gt.Compare(wt))
	default:
		w, _ := want.(string)
		g, ok := got.(string)
		if !ok {
			return false
		}
		if !a.CaseExact {
			w, g = strings.ToLower(w), strings.ToLower(g)
		}
		if op == "co" || op == "sw" || op == "ew" {
			return substring(op, w, g)
		}
		return order(op, strings.Compare(g, w))
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// order applies eq, gt, ge, lt or le to c = compare(got, want).
func order(op string, c int) bool {
	switch op {
	case "eq":
		return c == 0
	case "gt":
		return c > 0
	case "ge":
		return c >= 0
	case "lt":
		return c < 0
	case "le":
		return c <= 0
	}
	return false
}

func substring(op, want, got string) bool {
	switch op {
	case "co":
		return strings.Contains(got, want)
	case "sw":
		return strings.HasPrefix(got, want)
	case "ew":
		return strings.HasSuffix(got, want)
	}
	return false
}

// indexed returns the canonical name of an attribute a store indexes
// (store.Query), given its name in any case.
func indexed(name string) (string, bool) {
	for _, n := range []string{"id", "userName", "externalId", "displayName"} {
		if strings.EqualFold(n, name) {
			return n, true
		}
	}
	return "", false
}

// Equalities returns the comparisons "attr eq "string"" that are AND-ed at
// the top of e on the attributes id, userName, externalId and displayName
// (unqualified or qualified with a core schema URN), keyed by those
// canonical names, so a server can narrow a store query. Anything else is
// ignored; the filter must still be evaluated in full. When an attribute
// appears twice, the first comparison is kept.
//
// userName and displayName are not caseExact (RFC 7643 §4.1, §4.2): a store
// narrowing on them must compare case-insensitively.
func Equalities(e Expr) map[string]string {
	out := map[string]string{}
	var walk func(Expr)
	walk = func(e Expr) {
		switch x := e.(type) {
		case *And:
			walk(x.Left)
			walk(x.Right)
		case *Compare:
			s, ok := x.Value.(string)
			if !ok || x.Op != "eq" || x.Attr.Sub != "" {
				return
			}
			if x.Attr.URN != "" && !strings.EqualFold(x.Attr.URN, scim.SchemaUser) && !strings.EqualFold(x.Attr.URN, scim.SchemaGroup) {
				return
			}
			name, ok := indexed(x.Attr.Name)
			if !ok {
				return
			}
			if _, seen := out[name]; !seen {
				out[name] = s
			}
		}
	}
	walk(e)
	return out
}
