package schema

import (
	"strings"

	"github.com/idpkit/idpkit/scim"
)

// schemaAttrs calls fn for every attribute of rt with the object that holds
// its value in r: r itself for the common and core attributes, r's object
// under the extension URN for extension attributes (nil when absent).
func (rt *ResourceType) schemaAttrs(r scim.Resource, fn func(holder map[string]any, a *Attribute) error) error {
	for _, a := range rt.commonAttrs() {
		if err := fn(r, a); err != nil {
			return err
		}
	}
	for _, a := range rt.Schema.Attributes {
		if err := fn(r, a); err != nil {
			return err
		}
	}
	for _, e := range rt.Extensions {
		v, _ := Get(r, e.Schema.ID)
		m, _ := v.(map[string]any)
		for _, a := range e.Schema.Attributes {
			if err := fn(m, a); err != nil {
				return err
			}
		}
	}
	return nil
}

func get(m map[string]any, name string) any {
	if m == nil {
		return nil
	}
	v, _ := Get(m, name)
	return v
}

// CheckRequired checks the required attributes of r (RFC 7643 §2.2,
// "required"): the core schema's (userName, a Group's displayName), those
// of an extension r holds, and the required sub-attributes of every complex
// value present (a Group member's "value"). A missing or empty one, or a
// string of white space only, is a *scim.Error 400 invalidValue naming it.
func (rt *ResourceType) CheckRequired(r scim.Resource) error {
	if rt == nil || rt.Schema == nil {
		return scim.Errorf(500, "", "schema: no resource type")
	}
	return rt.schemaAttrs(r, func(holder map[string]any, a *Attribute) error {
		if holder == nil {
			return nil // an extension the resource does not hold
		}
		v := get(holder, a.Name)
		if a.Required && empty(v) {
			return invalidValue("attribute %q is required", a.Name)
		}
		if a.Required && Blank(v) {
			return invalidValue("attribute %q is required and must not be blank", a.Name)
		}
		if a.Type != TypeComplex || empty(v) {
			return nil
		}
		for _, e := range asList(v) {
			m, ok := e.(map[string]any)
			if !ok {
				continue
			}
			for _, s := range a.SubAttributes {
				if s.Required && (empty(get(m, s.Name)) || Blank(get(m, s.Name))) {
					return invalidValue("every value of %q needs %q", a.Name, a.Name+"."+s.Name)
				}
			}
		}
		return nil
	})
}

// Blank reports whether v is a string of white space only, which does not
// count as a value of a required attribute ("   " is no userName).
func Blank(v any) bool {
	s, ok := v.(string)
	return ok && strings.TrimSpace(s) == ""
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// CheckImmutable checks a replacement (PUT, RFC 7644 §3.5.1) of prev, the
// resource as stored, by next, the normalised request, against the
// immutable attributes of rt (RFC 7643 §2.2, "immutable"): an immutable
// value already set must be sent again unchanged — left out or different is
// a *scim.Error 400 mutability. Values of a multi-valued complex attribute
// may be added and removed; a value kept (the same "value" sub-attribute)
// must keep its immutable sub-attributes when it sends them. Reference
// sub-attributes ($ref) are left out of that comparison: the server derives
// them from "value" and the base URL.
func (rt *ResourceType) CheckImmutable(prev, next scim.Resource) error {
	if rt == nil || rt.Schema == nil {
		return scim.Errorf(500, "", "schema: no resource type")
	}
	nextHolders := map[*Attribute]map[string]any{}
	_ = rt.schemaAttrs(next, func(h map[string]any, a *Attribute) error {
		nextHolders[a] = h
		return nil
	})
	return rt.schemaAttrs(prev, func(h map[string]any, a *Attribute) error {
		if h == nil {
			return nil
		}
		return checkImmutable(a, a.Name, get(h, a.Name), get(nextHolders[a], a.Name))
	})
}

func checkImmutable(a *Attribute, path string, old, new any) error {
	if empty(old) {
		return nil
	}
	if a.Mutability == Immutable {
		if !same(a, old, new) {
			return mutability("attribute %q is immutable: send its current value unchanged", path)
		}
		return nil
	}
	if a.Type != TypeComplex || a.Mutability == ReadOnly {
		return nil
	}
	if !a.MultiValued {
		om, _ := old.(map[string]any)
		nm, _ := new.(map[string]any)
		for _, s := range a.SubAttributes {
			if err := checkImmutable(s, path+"."+s.Name, get(om, s.Name), get(nm, s.Name)); err != nil {
				return err
			}
		}
		return nil
	}
	vs := a.Sub("value")
	if vs == nil {
		return nil
	}
	for _, n := range asList(new) {
		nm, _ := n.(map[string]any)
		for _, o := range asList(old) {
			om, _ := o.(map[string]any)
			if om == nil || nm == nil || empty(get(nm, "value")) || !same(vs, get(om, "value"), get(nm, "value")) {
				continue
			}
			for _, s := range a.SubAttributes {
				if s == vs || s.Type == TypeReference || s.Mutability != Immutable {
					continue
				}
				ov, nv := get(om, s.Name), get(nm, s.Name)
				if !empty(ov) && !empty(nv) && !same(s, ov, nv) {
					return mutability("attribute %q is immutable: %q cannot change for the value %v", path+"."+s.Name, s.Name, get(om, "value"))
				}
			}
		}
	}
	return nil
}

// same reports whether two values of a are equal under a's type: strings
// by caseExact, dateTimes as instants, booleans and numbers by value,
// complex values sub-attribute by sub-attribute, lists element by element.
func same(a *Attribute, x, y any) bool {
	if empty(x) || empty(y) {
		return empty(x) && empty(y)
	}
	if a.MultiValued {
		xl, yl := asList(x), asList(y)
		if len(xl) != len(yl) {
			return false
		}
		one := *a
		one.MultiValued = false
		for i := range xl {
			if !same(&one, xl[i], yl[i]) {
				return false
			}
		}
		return true
	}
	switch a.Type {
	case TypeComplex:
		xm, ok1 := x.(map[string]any)
		ym, ok2 := y.(map[string]any)
		if !ok1 || !ok2 {
			return false
		}
		for _, s := range a.SubAttributes {
			if !same(s, get(xm, s.Name), get(ym, s.Name)) {
				return false
			}
		}
		return true
	case TypeBoolean:
		xb, ok1 := ParseBool(x)
		yb, ok2 := ParseBool(y)
		return ok1 && ok2 && xb == yb
	case TypeDecimal, TypeInteger:
		xf, ok1 := number(x)
		yf, ok2 := number(y)
		return ok1 && ok2 && xf == yf
	case TypeDateTime:
		xs, _ := x.(string)
		ys, _ := y.(string)
		xt, err1 := ParseDateTime(xs)
		yt, err2 := ParseDateTime(ys)
		if err1 != nil || err2 != nil {
			return xs == ys
		}
		return xt.Equal(yt)
	}
	xs, ok1 := x.(string)
	ys, ok2 := y.(string)
	if !ok1 || !ok2 {
		return false
	}
	if a.CaseExact {
		return xs == ys
	}
	return strings.EqualFold(xs, ys)
}

func mutability(format string, args ...any) *scim.Error {
	return scim.Errorf(400, scim.TypeMutability, "schema: "+format, args...)
}

// StripNever returns a shallow copy of r without the attributes whose
// returned characteristic is "never" (the User's password), in the core
// schema and in extension objects, for responses (RFC 7643 §7). Attribute
// names are matched case-insensitively.
func (rt *ResourceType) StripNever(r scim.Resource) scim.Resource {
	out := make(scim.Resource, len(r))
	for k, v := range r {
		if a := rt.Schema.Attribute(k); a != nil && a.Returned == ReturnedNever {
			continue
		}
		if s := rt.SchemaFor(k); s != nil && s != rt.Schema {
			if m, ok := v.(map[string]any); ok {
				c := make(map[string]any, len(m))
				for ek, ev := range m {
					if a := s.Attribute(ek); a != nil && a.Returned == ReturnedNever {
						continue
					}
					c[ek] = ev
				}
				v = c
			}
		}
		out[k] = v
	}
	return out
}
