// Package filter parses and evaluates SCIM filters (RFC 7644 §3.4.2.2) and
// PATCH paths (RFC 7644 §3.5.2, the PATH grammar of Figure 1), with one lexer
// and parser for both.
//
// Parse gives an AST (Expr); Eval matches it against a resource in memory,
// using the attribute definitions of scim/schema for case sensitivity and
// types (RFC 7643 §2.3, §7). Equalities extracts the simple equality
// constraints a store can index on. Errors are *scim.Error values: 400
// invalidFilter for filters and 400 invalidPath for PATCH paths.
//
// Type rules (Validate): a comparison value must fit the attribute's type.
// Booleans take only true or false with eq or ne (so active eq "true", a
// string, is invalidFilter rather than a silent non-match); numbers take
// numbers; dateTime attributes take a quoted xsd:dateTime and compare as
// instants, whatever the offset or number of fraction digits; binary takes
// eq and ne only; gt, ge, lt and le on a boolean or binary attribute, co, sw
// and ew on a number or boolean, a complex attribute compared as a whole,
// and an unknown attribute are all invalidFilter. Strings compare by the
// attribute's caseExact (userName and displayName case-insensitively; id,
// externalId and member values exactly).
//
// Evaluation: an operator on a multi-valued attribute, or on a
// sub-attribute reached through one, holds when any value satisfies it, ne
// included (§3.4.2.2); dateTime literals and values may write "t" and "z"
// in lower case (RFC 3339 §5.6).
package filter

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Expr is a filter expression: *And, *Or, *Not, *Compare, *Present or
// *ValuePath. String returns valid filter syntax that parses back to an
// equal expression.
type Expr interface {
	String() string
	expr()
}

// AttrPath is an attribute path (RFC 7644 §3.10): an optional schema URN,
// an attribute name and an optional sub-attribute name, as written.
type AttrPath struct {
	URN  string
	Name string
	Sub  string
}

// String returns the path in filter syntax, e.g. "name.givenName".
func (p AttrPath) String() string {
	s := p.Name
	if p.URN != "" {
		s = p.URN + ":" + s
	}
	if p.Sub != "" {
		s += "." + p.Sub
	}
	return s
}

// And is "Left and Right".
type And struct{ Left, Right Expr }

// Or is "Left or Right".
type Or struct{ Left, Right Expr }

// Not is "not (X)".
type Not struct{ X Expr }

// Compare is "Attr Op Value". Op is one of eq ne co sw ew gt ge lt le, in
// lower case; Value is a string, a float64, a bool or nil (null).
type Compare struct {
	Attr  AttrPath
	Op    string
	Value any
}

// Present is "Attr pr".
type Present struct{ Attr AttrPath }

// ValuePath is "Attr[Filter]": some value of the multi-valued (or complex)
// attribute Attr matches Filter, whose attribute names are sub-attributes of
// Attr. A filter "emails[type eq "work"].value eq "x"" (a sub-attribute
// after a value path) is parsed as the equivalent
// ValuePath{emails, type eq "work" and value eq "x"}.
type ValuePath struct {
	Attr   AttrPath
	Filter Expr
}

func (*And) expr()       {}
func (*Or) expr()        {}
func (*Not) expr()       {}
func (*Compare) expr()   {}
func (*Present) expr()   {}
func (*ValuePath) expr() {}

// precedence: or 1, and 2, everything else 3.
func prec(e Expr) int {
	switch e.(type) {
	case *Or:
		return 1
	case *And:
		return 2
	}
	return 3
}

// operand prints e as an operand of an operator of precedence p; a right
// operand of the same precedence is grouped so the tree shape survives.
func operand(e Expr, p int, right bool) string {
	if e == nil {
		return "()"
	}
	q := prec(e)
	if q < p || (right && q == p) {
		return "(" + e.String() + ")"
	}
	return e.String()
}

// String returns "Left and Right", grouping operands as needed.
func (e *And) String() string {
	return operand(e.Left, 2, false) + " and " + operand(e.Right, 2, true)
}

// String returns "Left or Right", grouping operands as needed.
func (e *Or) String() string {
	return operand(e.Left, 1, false) + " or " + operand(e.Right, 1, true)
}

// String returns "not (X)".
func (e *Not) String() string {
	if e.X == nil {
		return "not ()"
	}
	return "not (" + e.X.String() + ")"
}

// String returns "Attr op value" with the value in JSON syntax.
func (e *Compare) String() string {
	return e.Attr.String() + " " + e.Op + " " + literal(e.Value)
}

// String returns "Attr pr".
func (e *Present) String() string { return e.Attr.String() + " pr" }

// String returns "Attr[Filter]".
func (e *ValuePath) String() string {
	if e.Filter == nil {
		return e.Attr.String() + "[]"
	}
	return e.Attr.String() + "[" + e.Filter.String() + "]"
}

func literal(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(x); err != nil {
			return `""`
		}
		return strings.TrimSuffix(b.String(), "\n")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}

// Path is a PATCH operation path (RFC 7644 §3.5.2): an attribute path,
// optionally a value filter on it and a sub-attribute after the filter.
//
//	"name.givenName"                → Attr{Name: name, Sub: givenName}
//	"urn:…:User:manager"            → Attr{URN: urn:…:User, Name: manager}
//	"members[value eq "2819c223"]"  → Attr{Name: members}, Filter
//	"emails[type eq "work"].value"  → Attr{Name: emails}, Filter, Sub: value
//
// With a Filter, Attr.Sub is empty.
type Path struct {
	Attr   AttrPath
	Filter Expr // nil if none
	Sub    string
}

// String returns the path in PATCH path syntax.
func (p Path) String() string {
	s := p.Attr.String()
	if p.Filter != nil {
		s += "[" + p.Filter.String() + "]"
	}
	if p.Sub != "" {
		s += "." + p.Sub
	}
	return s
}
