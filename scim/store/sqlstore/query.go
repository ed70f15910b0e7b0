package sqlstore

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/idpkit/idpkit/scim/store"
)

// maxCondDepth bounds the nesting of a store.Cond, so that a hostile
// filter cannot exhaust the stack or the database's parser.
const maxCondDepth = 64

// errCond is wrapped by every error about a Cond or a Query the store
// cannot translate.
var errCond = errors.New("sqlstore: unsupported query")

// Always-true and always-false SQL, valid on both backends.
const (
	sqlTrue  = "(1=1)"
	sqlFalse = "(1=0)"
)

// column is how a single-valued string field is stored.
type column struct {
	name   string // in resources, alias r
	folded bool   // compare store.Fold(Value)
}

// stringColumns are the single-valued string fields.
var stringColumns = map[store.Field]column{
	store.FieldID:          {"id", false},
	store.FieldUserName:    {"user_name_folded", true},
	store.FieldExternalID:  {"external_id", false},
	store.FieldDisplayName: {"display_name_folded", true},
}

// timeColumns are the time fields, stored as microseconds.
var timeColumns = map[store.Field]string{
	store.FieldCreated:  "created",
	store.FieldModified: "modified",
}

// sqlQuery accumulates a statement's parameters. $1 is always the tenant
// and $2 the resource type.
type sqlQuery struct {
	typ  string
	args []any
	// idList is set when the condition is an IN list of ids; with it as
	// the whole condition, SQLite is told to use the primary key, which
	// its planner, without statistics, passes over for the index that
	// gives the default order.
	idList bool
}

// arg adds a parameter and returns its placeholder.
func (b *sqlQuery) arg(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

// where renders c as an SQL boolean over the resources row r.
func (b *sqlQuery) where(c *store.Cond) (string, error) {
	if c == nil {
		return sqlTrue, nil
	}
	return b.cond(c, 1)
}

func (b *sqlQuery) cond(c *store.Cond, depth int) (string, error) {
	if depth > maxCondDepth {
		return "", fmt.Errorf("%w: condition nested deeper than %d", errCond, maxCondDepth)
	}
	switch {
	case c.And != nil, c.Or != nil:
		parts, join, empty := c.And, " AND ", sqlTrue
		if c.Or != nil {
			if c.And != nil {
				return "", fmt.Errorf("%w: condition has both And and Or", errCond)
			}
			parts, join, empty = c.Or, " OR ", sqlFalse
		}
		if len(parts) == 0 {
			return empty, nil
		}
		if c.Or != nil {
			if in, ok := b.inList(parts); ok {
				return in, nil
			}
		}
		out := make([]string, len(parts))
		for i := range parts {
			s, err := b.cond(&parts[i], depth+1)
			if err != nil {
				return "", err
			}
			out[i] = s
		}
		return balanced(out, join), nil
	case c.Not != nil:
		s, err := b.cond(c.Not, depth+1)
		if err != nil {
			return "", err
		}
		return "(NOT " + s + ")", nil
	}
	return b.compare(c)
}

// balanced joins parts with join ("AND" or "OR") as a balanced tree of
// parentheses: SQLite parses "a AND b AND c …" into a tree as deep as
// the list is long and refuses one deeper than 1,000, which a filter of
// many comparisons under the length limit reaches; balanced, a list of
// n parts is log2(n) deep.
func balanced(parts []string, join string) string {
	if len(parts) <= 8 {
		return "(" + strings.Join(parts, join) + ")"
	}
	mid := len(parts) / 2
	return "(" + balanced(parts[:mid], join) + join + balanced(parts[mid:], join) + ")"
}

// inList renders an Or whose parts are all "eq" on one string column
// (a batch of ids, as the server looks up the users of new members) as
// one IN list, which the databases answer from the column's index; an Or
// of equalities may otherwise be planned as a scan in the default order.
// ok is false for any other Or.
func (b *sqlQuery) inList(parts []store.Cond) (string, bool) {
	f := parts[0].Field
	col, ok := stringColumns[f]
	if !ok {
		return "", false
	}
	var vals []string
	for _, p := range parts {
		if p.Field != f || p.Op != store.OpEq || p.And != nil || p.Or != nil || p.Not != nil {
			return "", false
		}
		v := p.Value
		if col.folded {
			v = store.Fold(v)
		}
		if v != "" && storable(v) { // "" and unstorable values equal nothing
			vals = append(vals, v)
		}
	}
	if len(vals) == 0 {
		return sqlFalse, true
	}
	ph := make([]string, len(vals))
	for i, v := range vals {
		ph[i] = b.arg(v)
	}
	in := "r." + col.name + " IN (" + strings.Join(ph, ", ") + ")"
	if col.name == "user_name_folded" {
		in = "(" + in + " AND r.user_name_folded <> '')" // the partial index's condition
	}
	if f == store.FieldID {
		b.idList = true
	}
	return in, true
}

// compare renders one comparison.
func (b *sqlQuery) compare(c *store.Cond) (string, error) {
	if col, ok := stringColumns[c.Field]; ok {
		expr, err := b.stringOp("r."+col.name, c, col.folded)
		if err == nil && c.Field == store.FieldUserName && c.Op != store.OpNe && c.Op != store.OpPr && expr != sqlFalse {
			// Repeat the partial index's condition (true of every row these
			// operators select), or the index resources_user_name is not
			// used.
			expr = "(" + expr + " AND r.user_name_folded <> '')"
		}
		return expr, err
	}
	if col, ok := timeColumns[c.Field]; ok {
		op, ok := map[string]string{store.OpEq: "=", store.OpNe: "<>", store.OpGt: ">", store.OpGe: ">=", store.OpLt: "<", store.OpLe: "<="}[c.Op]
		switch {
		case c.Op == store.OpPr:
			return sqlTrue, nil
		case !ok:
			return "", fmt.Errorf("%w: operator %q on %s", errCond, c.Op, c.Field)
		}
		return "r." + col + " " + op + " " + b.arg(toDB(c.Time)), nil
	}
	switch c.Field {
	case store.FieldEmail:
		if c.Op == store.OpPr {
			if b.typ != store.TypeUser {
				return sqlFalse, nil
			}
			return `EXISTS (SELECT 1 FROM emails e WHERE e.tenant = $1 AND e.user_type = 'User' AND e.user_id = r.id AND e.value_folded <> '')`, nil
		}
		inner, err := b.stringOp("e.value_folded", c, true)
		if err != nil {
			return "", err
		}
		if b.typ != store.TypeUser {
			return sqlFalse, nil
		}
		// "e.value_folded <> ''": an empty value is no value, so even ne
		// is false on it.
		return `r.id IN (SELECT e.user_id FROM emails e WHERE e.tenant = $1 AND e.value_folded <> '' AND ` + inner + `)`, nil
	case store.FieldMember, store.FieldGroup:
		owner, other, want := "group_id", "user_id", store.TypeGroup
		if c.Field == store.FieldGroup {
			owner, other, want = "user_id", "group_id", store.TypeUser
		}
		switch c.Op {
		case store.OpPr, store.OpEq:
		default:
			return "", fmt.Errorf("%w: operator %q on %s (only eq and pr)", errCond, c.Op, c.Field)
		}
		if b.typ != want {
			return sqlFalse, nil
		}
		if c.Op == store.OpPr {
			return `EXISTS (SELECT 1 FROM members m WHERE m.tenant = $1 AND m.group_type = 'Group' AND m.user_type = 'User' AND m.` + owner + ` = r.id)`, nil
		}
		if c.Value == "" || !storable(c.Value) {
			return sqlFalse, nil
		}
		return `r.id IN (SELECT m.` + owner + ` FROM members m WHERE m.tenant = $1 AND m.group_type = 'Group' AND m.user_type = 'User' AND m.` + other + ` = ` + b.arg(c.Value) + `)`, nil
	}
	return "", fmt.Errorf("%w: field %q", errCond, c.Field)
}

// stringOp renders col Op Value for a string column where ” is unset.
func (b *sqlQuery) stringOp(col string, c *store.Cond, folded bool) (string, error) {
	v := c.Value
	if folded {
		v = store.Fold(v)
	}
	if c.Op == store.OpPr {
		return col + " <> ''", nil
	}
	if !storable(v) {
		// Equals no stored value: only ne holds, on every row.
		switch c.Op {
		case store.OpNe:
			return sqlTrue, nil
		case store.OpEq, store.OpCo, store.OpSw, store.OpEw, store.OpGt, store.OpGe, store.OpLt, store.OpLe:
			return sqlFalse, nil
		}
		return "", fmt.Errorf("%w: operator %q on %s", errCond, c.Op, c.Field)
	}
	set := col + " <> ''"
	switch c.Op {
	case store.OpEq:
		if v == "" {
			return sqlFalse, nil
		}
		return col + " = " + b.arg(v), nil
	case store.OpNe:
		return col + " <> " + b.arg(v), nil
	case store.OpCo:
		if v == "" {
			return set, nil
		}
		return "strpos(" + col + ", " + b.arg(v) + ") > 0", nil
	case store.OpSw:
		if v == "" {
			return set, nil
		}
		// A byte-order range, so the index on col serves it.
		lo := col + " >= " + b.arg(v)
		if hi, ok := prefixEnd(v); ok {
			return "(" + lo + " AND " + col + " < " + b.arg(hi) + ")", nil
		}
		return lo, nil
	case store.OpEw:
		if v == "" {
			return set, nil
		}
		n := b.arg(int64(utf8.RuneCountInString(v)))
		return "(length(" + col + ") >= " + n + " AND substr(" + col + ", length(" + col + ") - " + n + " + 1) = " + b.arg(v) + ")", nil
	case store.OpGt:
		return col + " > " + b.arg(v), nil // '' is never greater
	case store.OpGe:
		if v == "" {
			return set, nil
		}
		return col + " >= " + b.arg(v), nil
	case store.OpLt:
		return "(" + set + " AND " + col + " < " + b.arg(v) + ")", nil
	case store.OpLe:
		return "(" + set + " AND " + col + " <= " + b.arg(v) + ")", nil
	}
	return "", fmt.Errorf("%w: operator %q on %s", errCond, c.Op, c.Field)
}

// prefixEnd returns the least string greater than every string that
// starts with p, in byte order (which is code point order for UTF-8): p
// with its last code point incremented, after dropping trailing
// U+10FFFF. ok is false when there is none (p is all U+10FFFF).
func prefixEnd(p string) (string, bool) {
	rs := []rune(p)
	for len(rs) > 0 {
		last := rs[len(rs)-1]
		if last < utf8.MaxRune {
			last++
			if last == 0xD800 { // skip the surrogates, which UTF-8 cannot hold
				last = 0xE000
			}
			rs[len(rs)-1] = last
			return string(rs), true
		}
		rs = rs[:len(rs)-1]
	}
	return "", false
}

// orderBy renders q's order over the resources row alias a.
func orderBy(q store.Query, a string) (string, error) {
	dir := ""
	if q.Desc {
		dir = " DESC"
	}
	switch q.Sort {
	case "": // the default order; Desc alone does not reverse it
		return a + ".created, " + a + ".id", nil
	case store.FieldID:
		return a + ".id" + dir, nil
	case store.FieldCreated:
		return a + ".created" + dir + ", " + a + ".id", nil
	case store.FieldModified:
		return a + ".modified" + dir + ", " + a + ".created, " + a + ".id", nil
	}
	col, ok := stringColumns[q.Sort]
	if !ok {
		return "", fmt.Errorf("%w: cannot sort by %q", errCond, q.Sort)
	}
	c := a + "." + col.name
	if q.Desc {
		return "(" + c + " <> ''), " + c + " DESC, " + a + ".created, " + a + ".id", nil
	}
	return "(" + c + " = ''), " + c + ", " + a + ".created, " + a + ".id", nil
}
