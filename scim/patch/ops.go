package patch

import (
	"strings"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/filter"
	"github.com/idpkit/idpkit/scim/schema"
)

// writable checks the mutability of the attribute t names (RFC 7643 §7).
// It reports done when the write is a no-op that must be skipped (an "id"
// equal to the current one).
func writable(res map[string]any, t target, value any) (done bool, err error) {
	a := t.Attr
	if a.Mutability == schema.ReadOnly {
		if a.Name == "id" && t.Sub == nil && t.filter == nil {
			if s, ok := value.(string); ok {
				if cur, _ := res["id"].(string); cur == s {
					return true, nil
				}
			}
		}
		return false, errf(scim.TypeMutability, "attribute %q is readOnly", a.Name)
	}
	for _, s := range []*schema.Attribute{t.Sub, t.after} {
		if s != nil && s.Mutability == schema.ReadOnly {
			return false, errf(scim.TypeMutability, "attribute %q is readOnly", a.Name+"."+s.Name)
		}
	}
	return false, nil
}

// immutableOK checks that a write of new over old respects an immutable
// attribute: it may be set when absent, never changed.
func immutableOK(a *schema.Attribute, name string, old, new any) error {
	if a.Mutability == schema.Immutable && !schema.Empty(old) && !equal(old, new) {
		return errf(scim.TypeMutability, "attribute %q is immutable", name)
	}
	return nil
}

// immutableSubsOK checks the immutable sub-attributes of a complex value
// being written over old.
func immutableSubsOK(a *schema.Attribute, old, new map[string]any) error {
	if old == nil {
		return nil
	}
	for _, s := range a.SubAttributes {
		if s.Mutability != schema.Immutable {
			continue
		}
		nv, ok := new[s.Name]
		if !ok {
			continue
		}
		if err := immutableOK(s, a.Name+"."+s.Name, old[s.Name], nv); err != nil {
			return err
		}
	}
	return nil
}

// set applies add or replace of value at t.
func set(res map[string]any, kind string, t target, value any, rt *schema.ResourceType) error {
	done, err := writable(res, t, value)
	if err != nil || done {
		return err
	}
	a := t.Attr
	if t.filter != nil || (t.Sub != nil && a.MultiValued) {
		return setValues(res, kind, t, value, rt)
	}
	cont := container(res, t, rt, true)
	_, old, _ := lookup(cont, a.Name)
	if t.Sub != nil { // name.givenName: a sub-attribute of a single complex attribute
		c, err := t.Sub.Value(value)
		if err != nil {
			return err
		}
		m, _ := deepCopy(old).(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		if err := immutableOK(t.Sub, a.Name+"."+t.Sub.Name, m[t.Sub.Name], c); err != nil {
			return err
		}
		if c == nil {
			delete(m, t.Sub.Name)
		} else {
			m[t.Sub.Name] = c
		}
		store(cont, a.Name, m)
		return nil
	}
	read := a.Values
	if t.whole {
		read = a.Value
	}
	c, err := read(value)
	if err != nil {
		return err
	}
	switch {
	case c == nil:
		if kind == "replace" {
			deleteKey(cont, a.Name)
		}
	case a.MultiValued:
		list, _ := c.([]any)
		if kind == "add" {
			oldList, _ := old.([]any)
			var changed []int
			list, changed = addValues(a, deepCopy(oldList).([]any), list)
			fixPrimary(list, changed)
		} else {
			fixPrimary(list, indexes(len(list)))
		}
		store(cont, a.Name, list)
	case a.Type == schema.TypeComplex:
		oldMap, _ := old.(map[string]any)
		newMap, _ := c.(map[string]any)
		if err := immutableSubsOK(a, oldMap, newMap); err != nil {
			return err
		}
		m, _ := deepCopy(oldMap).(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		for k, v := range newMap {
			m[k] = v
		}
		store(cont, a.Name, m)
	default:
		if err := immutableOK(a, a.Name, old, c); err != nil {
			return err
		}
		put(cont, a.Name, c)
	}
	return nil
}

// store puts v, or removes the attribute when v holds nothing.
func store(cont map[string]any, name string, v any) {
	if schema.Empty(v) {
		deleteKey(cont, name)
		return
	}
	put(cont, name, v)
}

func indexes(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// elements returns the values of a complex attribute as a list of objects
// (a single complex attribute gives a list of one).
func elements(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case map[string]any:
		return []any{x}
	}
	return nil
}

// matches returns the indexes of the elements the filter selects; with no
// filter every element is selected.
func matches(t target, list []any) ([]int, error) {
	var out []int
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		if t.filter == nil {
			out = append(out, i)
			continue
		}
		ok, err := filter.Match(t.filter, m, t.Attr)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, i)
		}
	}
	return out, nil
}

// setValues applies add or replace through a value filter (or to a
// sub-attribute of every value of a multi-valued attribute).
func setValues(res map[string]any, kind string, t target, value any, rt *schema.ResourceType) error {
	a := t.Attr
	sub := t.after
	if t.filter == nil {
		sub = t.Sub
	}
	var c any
	var err error
	if sub != nil {
		c, err = sub.Value(value)
	} else {
		c, err = a.Element(value)
	}
	if err != nil {
		return err
	}
	cont := container(res, t, rt, true)
	_, old, _ := lookup(cont, a.Name)
	list, _ := deepCopy(elements(old)).([]any)
	hit, err := matches(t, list)
	if err != nil {
		return err
	}
	if len(hit) == 0 {
		if kind == "replace" {
			return errf(scim.TypeNoTarget, "no value matches %q", t.path)
		}
		if c == nil {
			return nil
		}
		elem, err := defaults(t.filter, a, t.path)
		if err != nil {
			return err
		}
		if sub != nil {
			elem[sub.Name] = c
		} else if m, ok := c.(map[string]any); ok {
			for k, v := range m {
				elem[k] = v
			}
		}
		list = append(list, elem)
		hit = []int{len(list) - 1}
	} else {
		if sub != nil && sub.Name == "primary" && c == true && len(hit) > 1 {
			return errf(scim.TypeInvalidValue, "%q matches %d values; only one may be primary", t.path, len(hit))
		}
		for _, i := range hit {
			m := list[i].(map[string]any)
			if sub != nil {
				if err := immutableOK(sub, a.Name+"."+sub.Name, m[sub.Name], c); err != nil {
					return err
				}
				if c == nil {
					delete(m, sub.Name)
				} else {
					m[sub.Name] = c
				}
				continue
			}
			newMap, _ := c.(map[string]any)
			if err := immutableSubsOK(a, m, newMap); err != nil {
				return err
			}
			if kind == "replace" {
				m = map[string]any{}
				list[i] = m
			}
			for k, v := range newMap {
				m[k] = v
			}
		}
	}
	if a.MultiValued {
		fixPrimary(list, hit)
		store(cont, a.Name, dropEmpty(list))
	} else if len(list) > 0 {
		store(cont, a.Name, list[0])
	}
	return nil
}

// defaults returns the new value that add on a value filter matching
// nothing creates: one holding the filter's eq comparisons, so add on
// emails[type eq "work"] creates a work email. Only a filter that is one
// eq comparison with a value, or an and of them, says what such a value
// is; any other (co, ne, or, not, eq null…) would create a value the path
// does not select, so it is noTarget. The value of a readOnly
// sub-attribute is left to the server.
func defaults(f filter.Expr, a *schema.Attribute, path string) (map[string]any, error) {
	m := map[string]any{}
	var walk func(filter.Expr) error
	walk = func(e filter.Expr) error {
		switch x := e.(type) {
		case *filter.And:
			if err := walk(x.Left); err != nil {
				return err
			}
			return walk(x.Right)
		case *filter.Compare:
			s := a.Sub(x.Attr.Name)
			if x.Op != "eq" || x.Value == nil || x.Attr.URN != "" || x.Attr.Sub != "" || s == nil {
				break
			}
			if s.Mutability == schema.ReadOnly {
				return nil
			}
			v, err := s.Element(x.Value)
			if err != nil {
				return err
			}
			if v != nil {
				m[s.Name] = v
			}
			return nil
		}
		return errf(scim.TypeNoTarget, "no value matches %q, and add creates a value only for a filter of eq comparisons joined by and", path)
	}
	if f != nil {
		if err := walk(f); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// addValues appends the new values to list, merging a value into an
// existing one with the same "value" sub-attribute (or skipping an equal
// one), and returns the list and the indexes added or changed.
func addValues(a *schema.Attribute, list, add []any) ([]any, []int) {
	var changed []int
	// An index of the string "value"s keeps a batch of 256 members (Okta's
	// largest) from comparing every pair.
	vs := a.Sub("value")
	index := map[string]int{}
	key := func(e any) (string, bool) {
		m, _ := e.(map[string]any)
		v, ok := m["value"].(string)
		if !ok || vs == nil {
			return "", false
		}
		if !vs.CaseExact {
			v = strings.ToLower(v)
		}
		return v, true
	}
	for i, e := range list {
		if k, ok := key(e); ok {
			if _, dup := index[k]; !dup {
				index[k] = i
			}
		}
	}
	for _, n := range add {
		i := -1
		if k, ok := key(n); ok {
			if j, hit := index[k]; hit {
				i = j
			}
		} else {
			i = find(a, list, n)
		}
		if i < 0 {
			list = append(list, n)
			changed = append(changed, len(list)-1)
			if k, ok := key(n); ok {
				index[k] = len(list) - 1
			}
			continue
		}
		om, ok1 := list[i].(map[string]any)
		nm, ok2 := n.(map[string]any)
		if ok1 && ok2 {
			for k, v := range nm {
				if k != "value" { // the stored spelling of the identity stays
					om[k] = v
				}
			}
		}
		changed = append(changed, i)
	}
	return list, changed
}

// find returns the index of the element of list that n duplicates, or -1.
func find(a *schema.Attribute, list []any, n any) int {
	vs := a.Sub("value")
	nm, _ := n.(map[string]any)
	nv, hasValue := nm["value"]
	for i, e := range list {
		if vs != nil && hasValue {
			if em, ok := e.(map[string]any); ok && sameValue(vs, em["value"], nv) {
				return i
			}
			continue
		}
		if equal(e, n) {
			return i
		}
	}
	return -1
}

func sameValue(a *schema.Attribute, x, y any) bool {
	xs, ok1 := x.(string)
	ys, ok2 := y.(string)
	if ok1 && ok2 && !a.CaseExact {
		return strings.EqualFold(xs, ys)
	}
	return equal(x, y)
}

// fixPrimary keeps "primary" unique (RFC 7643 §2.4): when one of the
// changed values has primary true, every other value's primary becomes
// false.
func fixPrimary(list []any, changed []int) {
	keep := -1
	for _, i := range changed {
		if i < len(list) {
			if m, ok := list[i].(map[string]any); ok && m["primary"] == true {
				keep = i
				break
			}
		}
	}
	if keep < 0 {
		return
	}
	for i, e := range list {
		if m, ok := e.(map[string]any); ok && i != keep && m["primary"] == true {
			m["primary"] = false
		}
	}
}

func dropEmpty(list []any) []any {
	out := list[:0]
	for _, e := range list {
		if !schema.Empty(e) {
			out = append(out, e)
		}
	}
	return out
}

// remove applies a remove operation at t. value, when given for a
// multi-valued complex attribute without a filter, lists the values to
// remove (Entra's members remove).
func remove(res map[string]any, t target, value any, rt *schema.ResourceType) error {
	a := t.Attr
	if a.Mutability == schema.ReadOnly {
		return errf(scim.TypeMutability, "attribute %q is readOnly", a.Name)
	}
	if _, err := writable(res, t, nil); err != nil {
		return err
	}
	for _, s := range []*schema.Attribute{t.Sub, t.after} {
		if s != nil && s.Mutability == schema.Immutable {
			return errf(scim.TypeMutability, "attribute %q is immutable", a.Name+"."+s.Name)
		}
	}
	cont := container(res, t, rt, false)
	if cont == nil {
		return nil
	}
	_, old, ok := lookup(cont, a.Name)
	if !ok {
		return nil
	}
	switch {
	case t.filter == nil && t.Sub == nil && a.MultiValued && value != nil:
		drop, err := a.Values(value)
		if err != nil {
			return err
		}
		list, _ := deepCopy(old).([]any)
		dl, _ := drop.([]any)
		for _, d := range dl {
			if i := find(a, list, d); i >= 0 {
				list = append(list[:i], list[i+1:]...)
			}
		}
		store(cont, a.Name, list)
	case t.filter == nil && t.Sub == nil:
		deleteKey(cont, a.Name)
	case t.filter == nil && !a.MultiValued: // name.givenName
		m, _ := deepCopy(old).(map[string]any)
		delete(m, t.Sub.Name)
		store(cont, a.Name, m)
	default: // a value filter, or emails.value on every value
		sub := t.after
		if t.filter == nil {
			sub = t.Sub
		}
		list, _ := deepCopy(elements(old)).([]any)
		hit, err := matches(t, list)
		if err != nil {
			return err
		}
		drop := map[int]bool{}
		for _, i := range hit {
			if sub == nil {
				drop[i] = true
				continue
			}
			delete(list[i].(map[string]any), sub.Name)
		}
		var out []any
		for i, e := range list {
			if !drop[i] && !schema.Empty(e) {
				out = append(out, e)
			}
		}
		if a.MultiValued {
			store(cont, a.Name, out)
		} else if len(out) == 0 {
			deleteKey(cont, a.Name)
		} else {
			store(cont, a.Name, out[0])
		}
	}
	return nil
}
