package server

import (
	"net/http"
	"slices"
	"strings"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/store"
)

// The order of a bulk request's operations (RFC 7644 §3.7.2): bulkId
// references, the dependencies they make, and cycles among them.

// RFC 7644 §3.7.2 lets an operation name a resource that an earlier POST
// of the same bulk request creates, by "bulkId:<id>", where the id of a
// resource is expected: the operation's path, a Group's members[].value
// and an enterprise User's manager.value. Only those places are read as
// references; "bulkId:…" anywhere else (a password, a title) is data and
// stays as sent.

// collectRefs adds to refs the bulkId of every reference in v, the data
// of an operation with method on k.
func collectRefs(k *kind, method string, v any, refs map[string]bool) {
	eachRef(k, method, v, func(s string) string {
		if id, ok := strings.CutPrefix(s, bulkRef); ok {
			refs[id] = true
		}
		return s
	})
}

// substitute replaces, in place, every reference in v (the data of an
// operation with method on k) by the id in ids, and returns v.
func substitute(k *kind, method string, v any, ids map[string]string) any {
	eachRef(k, method, v, func(s string) string {
		if id, ok := strings.CutPrefix(s, bulkRef); ok {
			return ids[id]
		}
		return s
	})
	return v
}

// eachRef calls f on every string of v that holds a resource id and may
// thus be a bulkId reference, and stores what f returns in its place. v is
// a resource (POST, PUT) or a PatchRequest (PATCH); keys are compared
// case-insensitively, as attribute names are.
func eachRef(k *kind, method string, v any, f func(string) string) {
	m, _ := v.(map[string]any)
	if method != http.MethodPatch {
		refsInResource(k, m, f)
		return
	}
	for key, ops := range m {
		if !strings.EqualFold(key, "Operations") {
			continue
		}
		list, _ := ops.([]any)
		for _, op := range list {
			om, _ := op.(map[string]any)
			path := ""
			for key, e := range om {
				if strings.EqualFold(key, "path") {
					path, _ = e.(string)
					path = refsInPath(k, path, f)
					om[key] = path
				}
			}
			for key, e := range om {
				if !strings.EqualFold(key, "value") {
					continue
				}
				if strings.TrimSpace(path) == "" {
					vm, _ := e.(map[string]any)
					refsInResource(k, vm, f)
					continue
				}
				om[key] = refsAt(k, path, e, f)
			}
		}
	}
}

// refsInResource applies f to the references of a resource, or of the
// value of a path-less PATCH operation, whose keys may be attribute paths
// ("manager.value", URN-qualified ones).
func refsInResource(k *kind, m map[string]any, f func(string) string) {
	for key, e := range m {
		if strings.EqualFold(key, k.rt.Schema.ID) || k.typ == store.TypeUser && strings.EqualFold(key, scim.SchemaEnterpriseUser) {
			// The core schema or the extension as an object of its own.
			sub, _ := e.(map[string]any)
			refsInResource(k, sub, f)
			continue
		}
		m[key] = refsAt(k, key, e, f)
	}
}

// refsInPath applies f to the quoted values of a members value filter in
// a PATCH path, such as members[value eq "bulkId:u1"] (Okta's removal of
// one member), and returns the path with what f returned.
func refsInPath(k *kind, path string, f func(string) string) string {
	if k.typ != store.TypeGroup || !strings.HasPrefix(strings.ToLower(trimSchema(k, path)), "members[") {
		return path
	}
	var b strings.Builder
	rest := path
	for {
		i := strings.Index(rest, `"`+bulkRef)
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i+1:], '"')
		if j < 0 {
			break
		}
		b.WriteString(rest[:i+1])
		b.WriteString(f(rest[i+1 : i+1+j]))
		rest = rest[i+1+j:]
	}
	b.WriteString(rest)
	return b.String()
}

// trimSchema removes a leading URN of k's core schema (or, for a User, of
// the enterprise extension) and its colon from an attribute path.
func trimSchema(k *kind, path string) string {
	p := strings.TrimSpace(path)
	for _, urn := range []string{k.rt.Schema.ID, scim.SchemaEnterpriseUser} {
		if len(p) > len(urn) && strings.EqualFold(p[:len(urn)], urn) && p[len(urn)] == ':' {
			return p[len(urn)+1:]
		}
	}
	return p
}

// refsAt applies f to the references in v, the value of the attribute
// path (URN-qualified or not): members of a Group (objects with a value,
// or bare ids), manager of a User (an object with a value, or a bare id),
// manager.value, and a whole schema's object holding those.
func refsAt(k *kind, path string, v any, f func(string) string) any {
	p := strings.ToLower(trimSchema(k, path))
	switch {
	case strings.EqualFold(strings.TrimSpace(path), k.rt.Schema.ID) || k.typ == store.TypeUser && strings.EqualFold(strings.TrimSpace(path), scim.SchemaEnterpriseUser):
		// A path naming a whole schema: its value is an object of attributes.
		if m, ok := v.(map[string]any); ok {
			refsInResource(k, m, f)
		}
		return v
	case k.typ == store.TypeGroup && p == "members":
		if list, ok := v.([]any); ok {
			for i, e := range list {
				list[i] = refValue(e, f)
			}
			return list
		}
		return refValue(v, f)
	case k.typ == store.TypeUser && p == "manager":
		return refValue(v, f) // an object with a value, or a bare id
	case k.typ == store.TypeUser && p == "manager.value":
		if s, ok := v.(string); ok {
			return f(s)
		}
	}
	return v
}

// refValue applies f to a bare id or to the "value" of an object.
func refValue(v any, f func(string) string) any {
	switch x := v.(type) {
	case string:
		return f(x)
	case map[string]any:
		for key, e := range x {
			if s, ok := e.(string); ok && strings.EqualFold(key, "value") {
				x[key] = f(s)
			}
		}
	}
	return v
}

// defineBulkIDs maps each bulkId to the POST operation that defines it.
// A bulkId used by an earlier POST makes the later one fail.
func defineBulkIDs(ops []*bulkOp) map[string]int {
	defs := map[string]int{}
	for i, op := range ops {
		if op.method != http.MethodPost || op.bulkID == "" {
			continue
		}
		if j, dup := defs[op.bulkID]; dup {
			if op.err == nil {
				op.err = scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "bulkId %q is already used by operation %d of this bulk request", clip(op.bulkID), j+1)
			}
			continue
		}
		defs[op.bulkID] = i
	}
	return defs
}

// bulkDeps lists, for each operation, the operations whose bulkIds it
// references (itself included, for a self-reference).
func bulkDeps(ops []*bulkOp, defs map[string]int) [][]int {
	deps := make([][]int, len(ops))
	for i, op := range ops {
		for _, ref := range op.refs {
			if j, ok := defs[ref]; ok { // distinct bulkIds name distinct POSTs
				deps[i] = append(deps[i], j)
			}
		}
	}
	return deps
}

// markCycles sets cyclic on every operation that lies on a cycle of
// references: a strongly connected component (Tarjan) of more than one
// operation, or one that references itself.
func markCycles(ops []*bulkOp, deps [][]int) {
	n := len(ops)
	index, low := make([]int, n), make([]int, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	var stack []int
	next := 0
	var visit func(v int)
	visit = func(v int) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range deps[v] {
			switch {
			case index[w] < 0:
				visit(w)
				low[v] = min(low[v], low[w])
			case onStack[w]:
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] != index[v] {
			return
		}
		var comp []int
		for {
			w := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			onStack[w] = false
			comp = append(comp, w)
			if w == v {
				break
			}
		}
		if len(comp) > 1 || slices.Contains(deps[v], v) {
			for _, w := range comp {
				ops[w].cyclic = true
			}
		}
	}
	for v := range n {
		if index[v] < 0 {
			visit(v)
		}
	}
}

// bulkOrder yields the operations in the order they run: each after the
// POSTs whose bulkIds it references, and otherwise in request order (the
// earliest ready operation first). Operations on a cycle wait for nothing;
// they fail when their turn comes.
func bulkOrder(ops []*bulkOp, deps [][]int) func(yield func(int) bool) {
	return func(yield func(int) bool) {
		waiting := make([]int, len(ops))
		dependents := make([][]int, len(ops))
		var ready []int
		for i, op := range ops {
			if !op.cyclic {
				for _, j := range deps[i] {
					waiting[i]++
					dependents[j] = append(dependents[j], i)
				}
			}
			if waiting[i] == 0 {
				ready = append(ready, i)
			}
		}
		for len(ready) > 0 {
			i := ready[0]
			ready = ready[1:]
			if !yield(i) {
				return
			}
			for _, d := range dependents[i] {
				if waiting[d]--; waiting[d] == 0 {
					at, _ := slices.BinarySearch(ready, d)
					ready = slices.Insert(ready, at, d)
				}
			}
		}
	}
}
