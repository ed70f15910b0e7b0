package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/filter"
	"github.com/idpkit/idpkit/scim/schema"
)

// searchAll handles POST /.search at the service root (RFC 7644 §3.4.3):
// Users and Groups together, filtered, sorted and paged as one list.
// Each result carries its own schemas and meta.resourceType.
func (s *Server) searchAll(w http.ResponseWriter, r *request) error {
	q, err := readSearch(r)
	if err != nil {
		return err
	}
	return s.serveList([]*kind{s.users, s.groups}, w, r, q)
}

// filterPlan is how a filter applies to one resource kind: expr to
// evaluate (nil: every resource matches), or none when no resource of
// the kind can match.
type filterPlan struct {
	expr filter.Expr
	none bool
}

// planFilter parses f once and plans it for each kind. With one kind,
// every attribute the filter names must exist (400 invalidFilter), so a
// bad filter never yields an unfiltered or empty list. With several (the
// root search), each comparison must fit at least one kind; for a kind it
// does not fit, it reads as on an absent attribute (so "userName eq …"
// matches no Group, and "userName ne …" and "not (userName eq …)" every
// Group). A filter on an attribute that is
// never returned (password), or longer than MaxFilterLength, is 400
// invalidFilter.
func planFilter(f string, kinds []*kind) ([]filterPlan, error) {
	plans := make([]filterPlan, len(kinds))
	if len(f) > MaxFilterLength {
		return nil, scim.Errorf(http.StatusBadRequest, scim.TypeInvalidFilter, "filter is longer than %d bytes", MaxFilterLength)
	}
	f = strings.TrimSpace(f)
	if f == "" {
		return plans, nil
	}
	expr, err := filter.Parse(f)
	if err != nil {
		return nil, filterError(err)
	}
	for _, k := range kinds {
		if err := checkHidden(expr, k.rt); err != nil {
			return nil, err
		}
	}
	if len(kinds) == 1 {
		if err := filter.Validate(expr, kinds[0].rt); err != nil {
			return nil, filterError(err)
		}
		plans[0].expr = expr
		return plans, nil
	}
	for _, leaf := range leaves(expr, nil) {
		var first error
		for _, k := range kinds {
			if err := filter.Validate(leaf, k.rt); err == nil {
				first = nil
				break
			} else if first == nil {
				first = err
			}
		}
		if first != nil {
			return nil, filterError(first)
		}
	}
	for i, k := range kinds {
		e, c := restrict(expr, k.rt)
		plans[i] = filterPlan{expr: e, none: c == constFalse}
	}
	return plans, nil
}

// Truth values of a restricted filter.
const (
	notConst   = 0
	constTrue  = 1
	constFalse = -1
)

// restrict returns e for rt, with every comparison that does not fit rt
// replaced by its value on an absent attribute and the result simplified; when the whole filter
// becomes a constant, expr is nil and c says which.
func restrict(e filter.Expr, rt *schema.ResourceType) (expr filter.Expr, c int) {
	switch x := e.(type) {
	case *filter.And:
		l, lc := restrict(x.Left, rt)
		r, rc := restrict(x.Right, rt)
		switch {
		case lc == constFalse || rc == constFalse:
			return nil, constFalse
		case lc == constTrue:
			return r, rc
		case rc == constTrue:
			return l, lc
		}
		return &filter.And{Left: l, Right: r}, notConst
	case *filter.Or:
		l, lc := restrict(x.Left, rt)
		r, rc := restrict(x.Right, rt)
		switch {
		case lc == constTrue || rc == constTrue:
			return nil, constTrue
		case lc == constFalse:
			return r, rc
		case rc == constFalse:
			return l, lc
		}
		return &filter.Or{Left: l, Right: r}, notConst
	case *filter.Not:
		in, ic := restrict(x.X, rt)
		if ic != notConst {
			return nil, -ic
		}
		return &filter.Not{X: in}, notConst
	}
	if filter.Validate(e, rt) != nil {
		// The attribute does not exist on rt: compare as if it were
		// absent, the same answer a type that has it gives when it is
		// unset ("ne" a value and "eq null" hold, all else does not).
		if c, ok := e.(*filter.Compare); ok && (c.Op == "ne") != (c.Value == nil) {
			return nil, constTrue
		}
		return nil, constFalse
	}
	return e, notConst
}

// leaves appends the comparisons, presence tests and value paths of e.
func leaves(e filter.Expr, out []filter.Expr) []filter.Expr {
	switch x := e.(type) {
	case *filter.And:
		return leaves(x.Right, leaves(x.Left, out))
	case *filter.Or:
		return leaves(x.Right, leaves(x.Left, out))
	case *filter.Not:
		return leaves(x.X, out)
	}
	return append(out, e)
}

// leafPath returns the attribute a leaf of a filter names (a comparison,
// a presence test or a value path); ok is false for any other leaf.
func leafPath(leaf filter.Expr) (p filter.AttrPath, ok bool) {
	switch x := leaf.(type) {
	case *filter.Compare:
		return x.Attr, true
	case *filter.Present:
		return x.Attr, true
	case *filter.ValuePath:
		return x.Attr, true
	}
	return filter.AttrPath{}, false
}

// checkHidden refuses a filter that names an attribute never returned
// (RFC 7643 §7): matching on it would reveal it.
func checkHidden(e filter.Expr, rt *schema.ResourceType) error {
	for _, leaf := range leaves(e, nil) {
		p, ok := leafPath(leaf)
		if !ok {
			continue
		}
		res, err := rt.Resolve(p.URN, p.Name, p.Sub)
		if err != nil {
			continue // Validate reports it
		}
		if hidden(res.Attr) || hidden(res.Sub) {
			return scim.Errorf(http.StatusBadRequest, scim.TypeInvalidFilter, "filter: %q is never returned and cannot be filtered on", p.String())
		}
	}
	return nil
}

// filterError makes any filter failure a 400 invalidFilter.
func filterError(err error) error {
	var se *scim.Error
	if errors.As(err, &se) && se.ScimType == scim.TypeInvalidFilter {
		return se
	}
	return scim.Errorf(http.StatusBadRequest, scim.TypeInvalidFilter, "%s", strings.TrimPrefix(err.Error(), "scim: 400 invalidValue: "))
}
