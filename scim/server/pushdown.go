package server

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/filter"
	"github.com/idpkit/idpkit/scim/schema"
	"github.com/idpkit/idpkit/scim/store"
)

// This file translates SCIM filters (RFC 7644 §3.4.2.2) and sortBy
// (§3.4.2.3) into store conditions and sort fields, so that the database
// selects and orders resources. The translation is exact where the
// store's plain SQL semantics (store.Cond) agree with filter.Eval, and a
// superset elsewhere: a condition never drops a resource Eval accepts.
//
// Where the two disagree, and why the translation gives up there:
//   - Eval reads "" as a value of a string attribute (displayName lt "b"
//     holds for displayName ""), the store reads it as unset. Attributes
//     that can hold "" (not required: externalId, a User's displayName,
//     emails.value) are exact only for operators "" never satisfies.
//   - Eval's ne on a multi-valued attribute holds when some element lacks
//     the value; the store never sees such elements (emails ne …).
//   - "emails pr" holds for an element without a value; the store sees
//     only values.
//   - Inside a value path (emails[…]) one element must satisfy the whole
//     inner filter; "and" there only narrows to a superset, "not" and
//     "eq null" (an element without the value) are not expressible.

// pushed is a translated filter: a condition, or a constant (all or none
// of the resources), and whether it is exact.
type pushed struct {
	cond  *store.Cond // nil when the value is a constant
	all   bool        // with cond nil: true selects every resource, false none
	exact bool
}

var (
	// unpushable is a filter the store cannot evaluate: select every
	// resource and let Eval decide.
	unpushable = pushed{all: true}
	// pushAll and pushNone are exact constants.
	pushAll  = pushed{all: true, exact: true}
	pushNone = pushed{exact: true}
)

// pushdown translates the filter e (already validated against rt,
// restricted to rt; nil means no filter) into a store condition. cond ==
// nil selects every resource. When exact is true, cond selects exactly
// the resources filter.Eval(e, res, rt) accepts; otherwise cond selects a
// superset (every accepted resource and possibly more) and the caller
// evaluates e in memory on what the store returns. It never returns a
// cond that could drop a resource Eval would accept.
func pushdown(e filter.Expr, rt *schema.ResourceType) (cond *store.Cond, exact bool) {
	if e == nil {
		return nil, true
	}
	if rt == nil || rt.Schema == nil {
		return nil, false
	}
	p := push(e, rt, nil)
	if p.cond != nil {
		return p.cond, p.exact
	}
	if p.all {
		return nil, p.exact
	}
	return noneCond(), p.exact
}

// noneCond is a condition no resource satisfies (every resource has an
// id). It avoids an empty Or, whose zero value a backend could take for
// an empty And.
func noneCond() *store.Cond {
	return &store.Cond{Not: &store.Cond{Field: store.FieldID, Op: store.OpPr}}
}

// push translates e; elem is the attribute of the value path e is inside
// of (emails in emails[value eq "x"]), or nil at the top.
func push(e filter.Expr, rt *schema.ResourceType, elem *schema.Resolved) pushed {
	switch x := e.(type) {
	case *filter.And:
		p := and(push(x.Left, rt, elem), push(x.Right, rt, elem))
		if elem != nil && p.cond != nil {
			// One element must satisfy both sides; each side alone
			// selects a superset.
			p.exact = false
		}
		return p
	case *filter.Or:
		return or(push(x.Left, rt, elem), push(x.Right, rt, elem))
	case *filter.Not:
		if elem != nil {
			return unpushable // "some element does not…" includes elements lacking the value
		}
		return not(push(x.X, rt, elem))
	case *filter.ValuePath:
		if elem != nil || x.Filter == nil {
			return unpushable
		}
		res, err := rt.Resolve(x.Attr.URN, x.Attr.Name, x.Attr.Sub)
		if err != nil || res.Sub != nil || res.Attr.Type != schema.TypeComplex {
			return unpushable
		}
		p := push(x.Filter, rt, &res)
		if p.cond == nil && p.all {
			p.exact = false // every element matches, but there may be none
		}
		return p
	case *filter.Present:
		res, ok := resolveLeaf(x.Attr, rt, elem)
		if !ok {
			return unpushable
		}
		return present(res, rt)
	case *filter.Compare:
		res, ok := resolveLeaf(x.Attr, rt, elem)
		if !ok {
			return unpushable
		}
		if x.Value == nil && elem != nil {
			return unpushable // some element without the value
		}
		return compare(res, rt, x.Op, x.Value)
	}
	return unpushable
}

// resolveLeaf resolves the attribute of a comparison or presence test; in
// a value path, p names a sub-attribute of elem.
func resolveLeaf(p filter.AttrPath, rt *schema.ResourceType, elem *schema.Resolved) (schema.Resolved, bool) {
	if elem == nil {
		res, err := rt.Resolve(p.URN, p.Name, p.Sub)
		return res, err == nil
	}
	if p.URN != "" || p.Sub != "" {
		return schema.Resolved{}, false
	}
	sub := elem.Attr.Sub(p.Name)
	if sub == nil {
		return schema.Resolved{}, false
	}
	return schema.Resolved{Schema: elem.Schema, Attr: elem.Attr, Sub: sub}, true
}

// Kinds of indexed field.
const (
	kindString = iota + 1 // single-valued string
	kindMulti             // multi-valued string (emails.value)
	kindIDs               // multi-valued ids: eq and pr only (members.value, groups.value)
	kindTime              // dateTime
)

// indexedField is how the store holds the attribute a filter names.
type indexedField struct {
	field  store.Field
	kind   int
	folded bool // the store compares Fold(value)
	// mayBeEmpty: the resource may hold "" there, which Eval treats as a
	// value and the store as unset.
	mayBeEmpty bool
	// whole: the filter names the multi-valued attribute itself (emails,
	// members), not its "value" sub-attribute.
	whole bool
	leaf  *schema.Attribute // the attribute Eval compares
}

// field maps a resolved attribute onto the indexed field that holds
// exactly the values Eval reads, or ok=false.
func field(res schema.Resolved, rt *schema.ResourceType) (indexedField, bool) {
	user := strings.EqualFold(rt.Schema.ID, scim.SchemaUser)
	group := strings.EqualFold(rt.Schema.ID, scim.SchemaGroup)
	a := res.Attr
	switch {
	case res.Schema == nil: // the common attributes id, externalId, meta
		switch {
		case a.Name == "id" && res.Sub == nil:
			return indexedField{field: store.FieldID, kind: kindString, leaf: a}, true
		case a.Name == "externalId" && res.Sub == nil:
			return indexedField{field: store.FieldExternalID, kind: kindString, mayBeEmpty: true, leaf: a}, true
		case a.Name == "meta" && res.Sub != nil && res.Sub.Name == "created":
			return indexedField{field: store.FieldCreated, kind: kindTime, leaf: res.Sub}, true
		case a.Name == "meta" && res.Sub != nil && res.Sub.Name == "lastModified":
			return indexedField{field: store.FieldModified, kind: kindTime, leaf: res.Sub}, true
		}
	case res.Schema != rt.Schema:
		// an extension attribute
	case a.MultiValued && a.Type == schema.TypeComplex:
		value := a.Sub("value")
		if value == nil || (res.Sub != nil && res.Sub != value) {
			break
		}
		f := indexedField{whole: res.Sub == nil, leaf: value}
		switch {
		case user && a.Name == "emails":
			f.field, f.kind, f.folded, f.mayBeEmpty = store.FieldEmail, kindMulti, true, true
		case user && a.Name == "groups":
			f.field, f.kind = store.FieldGroup, kindIDs
		case group && a.Name == "members":
			f.field, f.kind = store.FieldMember, kindIDs
		default:
			return indexedField{}, false
		}
		return f, true
	case res.Sub != nil:
	case user && a.Name == "userName":
		return indexedField{field: store.FieldUserName, kind: kindString, folded: true, mayBeEmpty: !a.Required, leaf: a}, true
	case (user || group) && a.Name == "displayName":
		return indexedField{field: store.FieldDisplayName, kind: kindString, folded: true, mayBeEmpty: !a.Required, leaf: a}, true
	}
	return indexedField{}, false
}

// present translates "attr pr".
func present(res schema.Resolved, rt *schema.ResourceType) pushed {
	f, ok := field(res, rt)
	if !ok {
		return unpushable
	}
	if f.whole && f.kind == kindMulti {
		// emails pr holds for an element with a type and no value.
		return unpushable
	}
	// A member or a group the server renders always has its value.
	return exactCond(&store.Cond{Field: f.field, Op: store.OpPr})
}

// compare translates "attr op value".
func compare(res schema.Resolved, rt *schema.ResourceType, op string, value any) pushed {
	f, ok := field(res, rt)
	if !ok {
		return unpushable
	}
	pr := &store.Cond{Field: f.field, Op: store.OpPr}
	if value == nil {
		// eq null: no value that is not empty; the store's unset.
		switch op {
		case store.OpEq:
			return exactCond(&store.Cond{Not: pr})
		case store.OpNe:
			return exactCond(pr)
		}
		return unpushable
	}
	s, ok := value.(string)
	if !ok {
		return unpushable
	}
	if f.kind == kindTime {
		return compareTime(f.field, op, s)
	}
	if strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) {
		return unpushable // the store equals such a value to nothing
	}
	if f.folded != !f.leaf.CaseExact {
		// The store compares otherwise than Eval: folded for a caseExact
		// attribute still finds every exact match of eq, co, sw and ew.
		if f.folded && s != "" && (op == store.OpEq || op == store.OpCo || op == store.OpSw || op == store.OpEw) && f.kind != kindIDs {
			p := exactCond(&store.Cond{Field: f.field, Op: op, Value: s})
			p.exact = false
			return p
		}
		return unpushable
	}
	c := &store.Cond{Field: f.field, Op: op, Value: s}
	if f.kind == kindIDs {
		if op == store.OpEq && s != "" {
			return exactCond(c)
		}
		return unpushable
	}
	if s == "" {
		switch op {
		case store.OpGt: // every value but "" is greater
			return exactCond(pr)
		case store.OpLt: // nothing is less
			return pushNone
		}
		return unpushable // "" itself satisfies eq, ge, le, co, sw, ew and fails ne
	}
	switch op {
	case store.OpEq, store.OpCo, store.OpSw, store.OpEw, store.OpGt, store.OpGe:
		return exactCond(c) // never true of "" or of an absent value
	case store.OpNe:
		if f.kind == kindMulti {
			return unpushable // an element without a value satisfies ne
		}
		return exactCond(c) // absent and "" are ne s in both
	case store.OpLt, store.OpLe:
		if !f.mayBeEmpty {
			return exactCond(c)
		}
		if f.kind == kindMulti {
			return unpushable // an email "" is less, and the store cannot see it
		}
		// "" is less than s: add the unset values, which include it.
		return pushed{cond: &store.Cond{Or: []store.Cond{*c, {Not: pr}}}}
	}
	return unpushable
}

// compareTime translates a comparison of a dateTime attribute, an
// instant in Eval. The store compares whole microseconds: a literal
// finer than that equals no stored value and orders as the microsecond
// below it.
func compareTime(f store.Field, op, s string) pushed {
	t, err := schema.ParseDateTime(s)
	if err != nil {
		return unpushable
	}
	t = t.UTC()
	if y := t.Year(); y < 1 || y > 9999 {
		return unpushable
	}
	frac := time.Duration(t.Nanosecond() % 1000)
	floor := t.Add(-frac)
	c := func(op string, t time.Time) pushed { return exactCond(&store.Cond{Field: f, Op: op, Time: t}) }
	if frac == 0 {
		switch op {
		case store.OpEq, store.OpNe, store.OpGt, store.OpGe, store.OpLt, store.OpLe:
			return c(op, t)
		}
		return unpushable // co, sw, ew compare the text
	}
	switch op {
	case store.OpEq:
		return pushNone
	case store.OpNe:
		return pushAll
	case store.OpGt, store.OpGe: // s > t ⇔ s ≥ t ⇔ s > floor(t)
		return c(store.OpGt, floor)
	case store.OpLt, store.OpLe: // s < t ⇔ s ≤ t ⇔ s ≤ floor(t)
		return c(store.OpLe, floor)
	}
	return unpushable
}

func exactCond(c *store.Cond) pushed { return pushed{cond: c, exact: true} }

// and combines the sides of "and": a side the store cannot evaluate is
// dropped (selecting a superset).
func and(l, r pushed) pushed {
	exact := l.exact && r.exact
	if (l.cond == nil && !l.all) || (r.cond == nil && !r.all) {
		return pushNone // a side selects nothing, exactly
	}
	var parts []store.Cond
	for _, p := range []pushed{l, r} {
		switch {
		case p.cond == nil:
		case p.cond.And != nil:
			parts = append(parts, p.cond.And...)
		default:
			parts = append(parts, *p.cond)
		}
	}
	switch len(parts) {
	case 0:
		return pushed{all: true, exact: exact}
	case 1:
		return pushed{cond: &parts[0], exact: exact}
	}
	return pushed{cond: &store.Cond{And: parts}, exact: exact}
}

// or combines the sides of "or": both must be evaluated by the store.
func or(l, r pushed) pushed {
	exact := l.exact && r.exact
	if (l.cond == nil && l.all) || (r.cond == nil && r.all) {
		if (l.cond == nil && l.all && l.exact) || (r.cond == nil && r.all && r.exact) {
			return pushAll // a side selects everything, exactly
		}
		return unpushable
	}
	var parts []store.Cond
	for _, p := range []pushed{l, r} {
		switch {
		case p.cond == nil: // selects nothing
		case p.cond.Or != nil:
			parts = append(parts, p.cond.Or...)
		default:
			parts = append(parts, *p.cond)
		}
	}
	switch len(parts) {
	case 0:
		return pushed{exact: exact} // none
	case 1:
		return pushed{cond: &parts[0], exact: exact}
	}
	return pushed{cond: &store.Cond{Or: parts}, exact: exact}
}

// not negates an exact translation; a superset's negation is not one.
func not(p pushed) pushed {
	if !p.exact {
		return unpushable
	}
	if p.cond == nil {
		return pushed{all: !p.all, exact: true}
	}
	if p.cond.Not != nil {
		return exactCond(p.cond.Not)
	}
	return exactCond(&store.Cond{Not: p.cond})
}

// pushSort returns the store field that orders resources exactly as the
// in-memory sorter so does (sorter.key and compareKeys, stably, so that
// ties keep the store's default order), and ok=false when sorting must
// stay in memory.
//
// compareKeys puts null (unassigned, and "") last ascending and, since
// descending compares the keys the other way round, first descending;
// the store orders unset values the same way, and keeps ties in its
// default order in both directions, as the stable in-memory sort does.
func pushSort(so *sorter) (f store.Field, ok bool) {
	if so == nil || so.rt == nil || so.rt.Schema == nil || so.res.Attr.MultiValued {
		return "", false
	}
	idx, ok := field(so.res, so.rt)
	if !ok || idx.whole || so.leaf != idx.leaf {
		return "", false
	}
	switch idx.kind {
	case kindString:
		// sortKey folds a string that is not caseExact with
		// strings.ToLower, store.Fold.
		if idx.folded != !so.leaf.CaseExact || so.leaf.Type != schema.TypeString {
			return "", false
		}
	case kindTime:
		if so.leaf.Type != schema.TypeDateTime {
			return "", false
		}
	default:
		return "", false
	}
	return idx.field, true
}
