package server

import (
	"net/http"
	"slices"
	"strings"

	"github.com/idpkit/idpkit/scim"
)

// The order of a bulk request's operations (RFC 7644 §3.7.2): bulkId
// references, the dependencies they make, and cycles among them.

// collectRefs adds to refs the bulkId of every string in v that is a
// bulkId reference, at any depth.
func collectRefs(v any, refs map[string]bool) {
	switch x := v.(type) {
	case string:
		if id, ok := strings.CutPrefix(x, bulkRef); ok {
			refs[id] = true
		}
	case map[string]any:
		for _, e := range x {
			collectRefs(e, refs)
		}
	case []any:
		for _, e := range x {
			collectRefs(e, refs)
		}
	}
}

// substitute replaces, in place, every bulkId reference in v by the id
// in ids, and returns the new value.
func substitute(v any, ids map[string]string) any {
	switch x := v.(type) {
	case string:
		if id, ok := strings.CutPrefix(x, bulkRef); ok {
			return ids[id]
		}
	case map[string]any:
		for k, e := range x {
			x[k] = substitute(e, ids)
		}
	case []any:
		for i, e := range x {
			x[i] = substitute(e, ids)
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
