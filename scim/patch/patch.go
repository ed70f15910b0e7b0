// Package patch applies SCIM PATCH operations (RFC 7644 §3.5.2) to a
// resource: add (§3.5.2.1), remove (§3.5.2.2) and replace (§3.5.2.3), with
// paths parsed by scim/filter and attribute characteristics (mutability,
// types, case sensitivity; RFC 7643 §2, §7) taken from scim/schema.
//
// Apply is a pure function: it returns a new resource and never modifies
// its input. Beyond the RFC it accepts the request shapes Okta and
// Microsoft Entra ID send: capitalised op names, booleans as the strings
// "True"/"False", a path-less replace that repeats the resource's id, a
// remove of "members" with a list of the members to remove, and members
// given as bare id strings.
//
// In a path-less value (§3.5.2.1, §3.5.2.3) a key holding "[" is a PATCH
// path and is applied as if sent as "path"; a key that is no path is
// invalidPath, and an unknown attribute is ignored, as POST and PUT ignore
// it. An add on a value path that matches nothing creates a value only
// when the filter says what it is (eq, or an and of eq); any other filter
// is noTarget. Errors name the operation that failed ("operation 2
// (remove): …").
package patch

import (
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"strings"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/filter"
	"github.com/idpkit/idpkit/scim/schema"
)

func errf(scimType, format string, args ...any) *scim.Error {
	return scim.Errorf(400, scimType, "patch: "+format, args...)
}

// Apply applies ops to r in order and returns the result; r is never
// modified, and on any error the result is nil so the caller keeps r
// (all or nothing). Errors are *scim.Error with status 400 and scimType:
//
//   - invalidValue: no operations, a value of the wrong shape or type (a
//     boolean other than true/false/"true"/"false", a type outside the
//     attribute's canonical values, an array for a single-valued attribute,
//     a non-array for a multi-valued one in a path-less value), two values
//     with "primary": true, or a value missing a required sub-attribute (a
//     member without "value");
//   - invalidSyntax: an unknown op or a value that is not JSON;
//   - invalidPath: a path that does not parse or names an unknown attribute,
//     or a key of a path-less value that does not parse as a path;
//   - noTarget: remove without a path, replace on a value filter that
//     matches nothing, or add on one that matches nothing and whose filter
//     is not eq comparisons joined by and;
//   - mutability: writing a readOnly attribute (id, meta, groups), changing
//     an immutable one (a member's value), or removing or emptying a
//     required one (userName, displayName; RFC 7644 §3.5.2).
//
// The semantics follow RFC 7644 §3.5.2, with these choices:
//
//   - op names are case-insensitive;
//   - without a path the value's keys are attribute paths ("active",
//     "name.givenName", "urn:…:enterprise:2.0:User:employeeNumber") or an
//     extension URN holding an object; keys are matched case-insensitively,
//     unknown attributes (sub-attributes, URN-qualified attributes of a
//     known or unknown extension) are ignored as POST and PUT ignore them,
//     and "schemas" is ignored everywhere; a key with a value filter
//     (emails[type eq "work"].value) is applied exactly as if it were the
//     operation's path, and a key that does not parse as a path is
//     invalidPath naming it;
//   - an "id" equal to the resource's id is ignored; a different one is a
//     mutability error;
//   - with a path naming a multi-valued attribute, a value that is not an
//     array is one value (members given as one object or one id string);
//     in a path-less value a multi-valued attribute needs an array, as in a
//     resource body;
//   - add to a multi-valued attribute appends and de-duplicates (by the
//     "value" sub-attribute when there is one, merging the new sub-attributes
//     into the existing value); a value with primary true makes the others
//     primary false;
//   - add on a value filter that matches nothing creates a value holding the
//     filter's eq comparisons (emails[type eq "work"].value creates
//     {"type":"work","value":…}) when the filter is one eq comparison or an
//     and of them; any other filter (co, ne, or, not, pr, eq null) would
//     create a value the path does not select and is noTarget; an eq value
//     the attribute refuses (a type outside the canonical values) is
//     invalidValue;
//   - replace setting "primary" to true through a value filter that matches
//     more than one value is invalidValue;
//   - remove of a multi-valued complex attribute with a value removes only the
//     listed values (Entra's members remove); remove on a value filter that
//     matches nothing succeeds and changes nothing;
//   - an attribute left with no values is removed;
//   - every error names the failing operation ("patch: operation 2
//     (remove): …"), also a required attribute found missing after the
//     last operation (the operation that removed or blanked it).
func Apply(r scim.Resource, ops []scim.PatchOperation, rt *schema.ResourceType) (scim.Resource, error) {
	if rt == nil || rt.Schema == nil {
		return nil, scim.Errorf(500, "", "patch: no resource type")
	}
	if len(ops) == 0 {
		return nil, errf(scim.TypeInvalidSyntax, "the request has no Operations")
	}
	res, _ := deepCopy(r).(map[string]any)
	if res == nil {
		res = map[string]any{}
	}
	for i, op := range ops {
		if err := apply(res, op, rt); err != nil {
			var se *scim.Error
			if errors.As(err, &se) {
				d := strings.TrimPrefix(se.Detail, "patch: ")
				return nil, scim.Errorf(se.Status, se.ScimType, "patch: operation %d (%s): %s", i+1, op.Op, d)
			}
			return nil, err
		}
	}
	if err := checkRequired(r, res, rt); err != nil {
		var se *scim.Error
		if i := blame(r, ops, rt, err); i >= 0 && errors.As(err, &se) {
			d := strings.TrimPrefix(se.Detail, "patch: ")
			return nil, scim.Errorf(se.Status, se.ScimType, "patch: operation %d (%s): %s", i+1, ops[i].Op, d)
		}
		return nil, err
	}
	fixSchemas(res, rt)
	return res, nil
}

// checkRequired checks res, the result of patching before, for its
// required attributes: one that before had and res lacks is mutability
// (RFC 7644 §3.5.2: unassigning a required attribute), any other gap is
// schema.CheckRequired's invalidValue (a blank userName included).
func checkRequired(before, res map[string]any, rt *schema.ResourceType) error {
	for _, a := range rt.Schema.Attributes {
		if !a.Required || !schema.Empty(res[a.Name]) && !schema.Blank(res[a.Name]) {
			continue
		}
		if was, _ := schema.Get(before, a.Name); !schema.Empty(was) {
			return errf(scim.TypeMutability, "attribute %q is required and cannot be removed or emptied", a.Name)
		}
		return errf(scim.TypeInvalidValue, "attribute %q is required", a.Name)
	}
	if err := rt.CheckRequired(res); err != nil {
		var se *scim.Error
		if errors.As(err, &se) {
			return errf(se.ScimType, "%s", strings.TrimPrefix(se.Detail, "schema: "))
		}
		return err
	}
	return nil
}

// blame returns the index of the operation that left the resource failing
// checkRequired with err: the last one after which the check gives err
// while it did not just before. It replays ops on r, which costs only on
// this error path; -1 when no single operation is to blame (r failed the
// same way before any operation).
func blame(r scim.Resource, ops []scim.PatchOperation, rt *schema.ResourceType, err error) int {
	detail := func(e error) string {
		if e == nil {
			return ""
		}
		return e.Error()
	}
	want := detail(err)
	res, _ := deepCopy(r).(map[string]any)
	if res == nil {
		res = map[string]any{}
	}
	prev := detail(checkRequired(r, res, rt))
	at := -1
	for i, op := range ops {
		if apply(res, op, rt) != nil {
			return at
		}
		cur := detail(checkRequired(r, res, rt))
		if cur == want && prev != want {
			at = i
		}
		prev = cur
	}
	return at
}

func apply(res map[string]any, op scim.PatchOperation, rt *schema.ResourceType) error {
	kind := strings.ToLower(strings.TrimSpace(op.Op))
	if kind != "add" && kind != "replace" && kind != "remove" {
		return errf(scim.TypeInvalidSyntax, "unknown op %q (use add, replace or remove)", op.Op)
	}
	var value any
	if len(op.Value) > 0 {
		if err := json.Unmarshal(op.Value, &value); err != nil {
			return errf(scim.TypeInvalidSyntax, "value is not valid JSON")
		}
	}
	path := strings.TrimSpace(op.Path)
	if path == "" {
		if kind == "remove" {
			return errf(scim.TypeNoTarget, "remove needs a path")
		}
		m, ok := value.(map[string]any)
		if !ok {
			return errf(scim.TypeInvalidValue, "an operation without a path needs an object of attributes as its value")
		}
		return setObject(res, kind, "", m, rt)
	}
	p, err := filter.ParsePath(path)
	if err != nil {
		return err
	}
	return applyPath(res, kind, p, value, rt)
}

// applyPath applies an operation whose path is p: the operation's own
// path, or a value-path key of a path-less value (see setObject).
func applyPath(res map[string]any, kind string, p filter.Path, value any, rt *schema.ResourceType) error {
	if p.Attr.URN == "" && strings.EqualFold(p.Attr.Name, "schemas") {
		return nil // "schemas" is the server's to keep
	}
	if p.Filter == nil && p.Attr.Sub == "" && p.Attr.URN != "" {
		if s := rt.SchemaFor(p.Attr.URN + ":" + p.Attr.Name); s != nil && s != rt.Schema {
			return extensionObject(res, kind, s, value, rt)
		}
	}
	t, err := resolve(p, rt)
	if err != nil {
		return err
	}
	if kind == "remove" {
		return remove(res, t, value, rt)
	}
	if value == nil {
		return errf(scim.TypeInvalidValue, "%s needs a value", kind)
	}
	return set(res, kind, t, value, rt)
}

// target is a resolved PATCH path.
type target struct {
	schema.Resolved
	filter filter.Expr       // value filter, or nil
	after  *schema.Attribute // sub-attribute after the filter, or nil
	path   string            // as written, for messages
	whole  bool              // a key of a path-less value: the attribute's whole value
}

func resolve(p filter.Path, rt *schema.ResourceType) (target, error) {
	res, err := rt.Resolve(p.Attr.URN, p.Attr.Name, p.Attr.Sub)
	if err != nil {
		return target{}, errf(scim.TypeInvalidPath, "unknown attribute %q", p.Attr.String())
	}
	t := target{Resolved: res, filter: p.Filter, path: p.String()}
	if p.Filter != nil {
		if res.Attr.Type != schema.TypeComplex {
			return target{}, errf(scim.TypeInvalidPath, "%q is not a complex attribute and takes no value filter", p.Attr.String())
		}
		if err := filter.ValidateValue(p.Filter, res.Attr); err != nil {
			var se *scim.Error
			errors.As(err, &se)
			return target{}, errf(scim.TypeInvalidPath, "%s", strings.TrimPrefix(se.Detail, "filter: "))
		}
		if p.Sub != "" {
			if t.after = res.Attr.Sub(p.Sub); t.after == nil {
				return target{}, errf(scim.TypeInvalidPath, "unknown attribute %q", res.Attr.Name+"."+p.Sub)
			}
		}
	}
	return t, nil
}

// setObject applies a path-less add or replace (or one into an extension
// object when urn is set): each key names an attribute. Unknown keys are
// ignored.
func setObject(res map[string]any, kind, urn string, m map[string]any, rt *schema.ResourceType) error {
	for _, k := range sortedKeys(m) {
		v := m[k]
		if strings.EqualFold(k, "schemas") {
			continue
		}
		if urn == "" {
			if s := rt.SchemaFor(k); s != nil {
				if s == rt.Schema {
					obj, ok := v.(map[string]any)
					if !ok {
						return errf(scim.TypeInvalidValue, "%q must be an object", k)
					}
					if err := setObject(res, kind, "", obj, rt); err != nil {
						return err
					}
					continue
				}
				if err := extensionObject(res, kind, s, v, rt); err != nil {
					return err
				}
				continue
			}
		}
		full := k
		if urn != "" {
			full = urn + ":" + k
		}
		p, err := filter.ParsePath(full)
		if err != nil {
			var se *scim.Error
			d := err.Error()
			if errors.As(err, &se) {
				d = se.Detail
			}
			return errf(scim.TypeInvalidPath, "the key %q of the value is not an attribute path: %s", k, strings.TrimPrefix(d, "filter: "))
		}
		if p.Filter != nil {
			// A value-path key (emails[type eq "work"].value) is applied
			// exactly as if it were the operation's path.
			if err := applyPath(res, kind, p, v, rt); err != nil {
				return err
			}
			continue
		}
		r, err := rt.Resolve(p.Attr.URN, p.Attr.Name, p.Attr.Sub)
		if err != nil {
			// Unknown attributes, sub-attributes and extension attributes
			// are ignored, as POST and PUT ignore them: identity providers
			// send custom attributes a server may not know.
			continue
		}
		t := target{Resolved: r, path: k, whole: true}
		if v == nil {
			if kind == "replace" {
				if err := remove(res, t, nil, rt); err != nil {
					return err
				}
			}
			continue
		}
		if err := set(res, kind, t, v, rt); err != nil {
			return err
		}
	}
	return nil
}

// extensionObject handles a path (or value key) that is an extension's URN.
func extensionObject(res map[string]any, kind string, s *schema.Schema, v any, rt *schema.ResourceType) error {
	if kind == "remove" {
		deleteKey(res, s.ID)
		return nil
	}
	if v == nil {
		if kind == "replace" {
			deleteKey(res, s.ID)
		}
		return nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return errf(scim.TypeInvalidValue, "%q must be an object of that extension's attributes", s.ID)
	}
	return setObject(res, kind, s.ID, obj, rt)
}

// container returns the object holding t's attribute: res or the
// extension object (created when create is set; nil when absent otherwise).
func container(res map[string]any, t target, rt *schema.ResourceType, create bool) map[string]any {
	if !t.Extension(rt) {
		return res
	}
	k, v, ok := lookup(res, t.Schema.ID)
	m, _ := v.(map[string]any)
	if ok && k != t.Schema.ID {
		delete(res, k)
	}
	if m == nil {
		if !create {
			return nil
		}
		m = map[string]any{}
	}
	res[t.Schema.ID] = m
	return m
}

// lookup finds name in m case-insensitively (an exact match first) and
// returns the key as stored.
func lookup(m map[string]any, name string) (string, any, bool) {
	if v, ok := m[name]; ok {
		return name, v, true
	}
	for _, k := range sortedKeys(m) {
		if strings.EqualFold(k, name) {
			return k, m[k], true
		}
	}
	return "", nil, false
}

// put stores v under the canonical name, dropping a key that differs only
// in case.
func put(m map[string]any, name string, v any) {
	deleteKey(m, name)
	m[name] = v
}

func deleteKey(m map[string]any, name string) {
	for k := range m {
		if strings.EqualFold(k, name) {
			delete(m, k)
		}
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = deepCopy(e)
		}
		return l
	}
	return v
}

func equal(a, b any) bool { return reflect.DeepEqual(a, b) }

// fixSchemas drops empty extension objects and lists the extensions the
// resource holds in "schemas".
func fixSchemas(res map[string]any, rt *schema.ResourceType) {
	list, _ := res["schemas"].([]any)
	has := func(urn string) bool {
		for _, s := range list {
			if str, ok := s.(string); ok && strings.EqualFold(str, urn) {
				return true
			}
		}
		return false
	}
	changed := false
	if _, ok := res["schemas"]; !ok || !has(rt.Schema.ID) {
		list = append([]any{rt.Schema.ID}, list...)
		changed = true
	}
	for _, e := range rt.Extensions {
		_, v, ok := lookup(res, e.Schema.ID)
		if !ok {
			continue
		}
		if m, _ := v.(map[string]any); len(m) == 0 {
			deleteKey(res, e.Schema.ID)
			continue
		}
		if !has(e.Schema.ID) {
			list = append(list, e.Schema.ID)
			changed = true
		}
	}
	if changed {
		res["schemas"] = list
	}
}
