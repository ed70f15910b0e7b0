package check

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
)

// runKey is the context key of the *runState of the running check.
type runKey struct{}

// runState is what RunOne knows of the check it runs: every probe the
// check made, the writes it sent, and the exchanges its failures have
// already shown. It makes a check that forgets to return its probe's
// problems fail anyway, prints each exchange once, and shows the write
// behind a state that a later read got wrong.
type runState struct {
	mu     sync.Mutex
	seq    int
	probes []*probe
	writes map[string][]*Exchange // resource path → the writes to it, in order
	shown  map[string]bool        // rendered exchanges already in a problem
	hinted bool                   // the refused-lookup sentence was said
}

// firstHint reports whether the sentence explaining a refused lookup
// filter (see lookupHint) has not been said yet in this check, and marks
// it said: it appears once per check, not once per request.
func (rs *runState) firstHint() bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	first := !rs.hinted
	rs.hinted = true
	return first
}

func runOf(ctx context.Context) *runState {
	rs, _ := ctx.Value(runKey{}).(*runState)
	return rs
}

// newProbe returns a probe whose problems RunOne collects even when the
// check returns nil: a check cannot pass once it has recorded a failure.
func newProbe(ctx context.Context) *probe {
	p := &probe{}
	if rs := runOf(ctx); rs != nil {
		p.run = rs
		rs.mu.Lock()
		rs.probes = append(rs.probes, p)
		rs.mu.Unlock()
	}
	return p
}

// sent numbers x and records it when it wrote a resource (POST, PUT,
// PATCH), under the resource's path.
func (rs *runState) sent(x *Exchange) {
	if rs == nil {
		return
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.seq++
	x.seq = rs.seq
	path := strings.SplitN(x.Path, "?", 2)[0]
	switch x.Method {
	case "PUT", "PATCH":
	case "POST":
		id := str(get(x.JSON, "id"))
		if x.Status != http.StatusCreated || id == "" || strings.Count(path, "/") != 1 {
			return
		}
		path += "/" + id
	default:
		return
	}
	if rs.writes == nil {
		rs.writes = map[string][]*Exchange{}
	}
	rs.writes[path] = append(rs.writes[path], x)
}

// writeBefore returns the last write to the resource that the read x
// shows, sent before x; nil when x is not a GET of a written resource.
func (rs *runState) writeBefore(x *Exchange) *Exchange {
	if rs == nil || x.Method != "GET" {
		return nil
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	ws := rs.writes[strings.SplitN(x.Path, "?", 2)[0]]
	for i := len(ws) - 1; i >= 0; i-- {
		if ws[i].seq < x.seq {
			return ws[i]
		}
	}
	return nil
}

// firstShow reports whether the rendering s has not been shown yet in this
// check's problems, and marks it shown.
func (rs *runState) firstShow(s string) bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.shown == nil {
		rs.shown = map[string]bool{}
	}
	if rs.shown[s] {
		return false
	}
	rs.shown[s] = true
	return true
}

// leftover returns the problems the check's probes recorded, or nil.
func (rs *runState) leftover() error {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	var all []string
	for _, p := range rs.probes {
		all = append(all, p.problems...)
	}
	if len(all) == 0 {
		return nil
	}
	return &Failure{Problems: all}
}

// render is how a problem shows exchange x: x itself, preceded by the
// write that produced the state x read back; an exchange already shown by
// an earlier problem of the same check is named, not repeated.
func (p *probe) render(x *Exchange) string {
	if p.run == nil {
		return "\n" + x.String()
	}
	var b strings.Builder
	if w := p.run.writeBefore(x); w != nil {
		if s := w.String(); p.run.firstShow(s) {
			b.WriteString("\n  the write:\n" + s + "\n  then the read:")
		}
	}
	if s := x.String(); p.run.firstShow(s) {
		b.WriteString("\n" + s)
	} else {
		fmt.Fprintf(&b, "\n  (the %s %s exchange shown above)", x.Method, x.Path)
	}
	return b.String()
}

// declarations caches what the target says of itself for one run:
// /ServiceProviderConfig, /Schemas and /ResourceTypes, each read once.
type declarations struct {
	mu   sync.Mutex
	read map[string]any // path → decoded body; nil when it was not 200 JSON
}

// declared returns the decoded body of GET path when it answered 200 with
// JSON, and nil otherwise; the answer is cached for the run.
func (t *Target) declared(ctx context.Context, path string) any {
	t.decl.mu.Lock()
	defer t.decl.mu.Unlock()
	if v, ok := t.decl.read[path]; ok {
		return v
	}
	// The declarations are not the check's own exchanges: no probe sees
	// them, and they are read outside the check's run state.
	x, err := t.send(context.WithValue(ctx, runKey{}, (*runState)(nil)), "GET", path, nil)
	if err != nil {
		return nil // not cached: the next check tries again
	}
	var v any
	if x.Status == http.StatusOK {
		v = x.JSON
	}
	if t.decl.read == nil {
		t.decl.read = map[string]any{}
	}
	t.decl.read[path] = v
	return v
}

// forgetDeclarations drops the cached declarations: RunAll starts each run
// with a fresh read.
func (t *Target) forgetDeclarations() {
	t.decl.mu.Lock()
	t.decl.read = nil
	t.decl.mu.Unlock()
}

// featureOff reports whether /ServiceProviderConfig declares feature
// ("etag", "sort", "bulk", …) unsupported. A configuration that cannot be
// read declares nothing: the feature then counts as supported, so that its
// checks run (and fail) rather than pass or skip unseen.
func (t *Target) featureOff(ctx context.Context, feature string) bool {
	b, ok := get(t.declared(ctx, "/ServiceProviderConfig"), feature+".supported").(bool)
	return ok && !b
}

// gate is a precondition of a check; a non-nil error (a Skip) stops it.
type gate func(ctx context.Context, t *Target) error

// gated runs run only when every gate lets it.
func gated(run func(context.Context, *Target) error, gates ...gate) func(context.Context, *Target) error {
	return func(ctx context.Context, t *Target) error {
		for _, g := range gates {
			if err := g(ctx, t); err != nil {
				return err
			}
		}
		return run(ctx, t)
	}
}

// needFeature skips a check when /ServiceProviderConfig declares feature
// unsupported.
func needFeature(feature string) gate {
	return func(ctx context.Context, t *Target) error {
		if t.featureOff(ctx, feature) {
			return Skip(fmt.Sprintf("/ServiceProviderConfig declares %s unsupported", feature))
		}
		return nil
	}
}

// schemaList returns the schema resources of /Schemas (a ListResponse, or
// a bare array), and whether /Schemas could be read at all.
func (t *Target) schemaList(ctx context.Context) ([]any, bool) {
	v := t.declared(ctx, "/Schemas")
	if list, ok := v.([]any); ok {
		return list, true
	}
	list, ok := get(v, "Resources").([]any)
	return list, ok
}

// needAttrs skips a check when /Schemas declares the schema urn without
// one of attrs (top-level names, or dotted sub-attributes). A /Schemas that
// cannot be read, or that leaves the schema out, declares nothing, and the
// check runs.
func needAttrs(urn string, attrs ...string) gate {
	return func(ctx context.Context, t *Target) error {
		list, ok := t.schemaList(ctx)
		if !ok {
			return nil
		}
		for _, s := range list {
			if !strings.EqualFold(str(get(s, "id")), urn) {
				continue
			}
			for _, a := range attrs {
				top, _, sub := strings.Cut(a, ".")
				ta := schemaAttr(s, top)
				if ta == nil || sub && get(ta, "subAttributes") != nil && schemaAttr(s, a) == nil {
					return Skip(fmt.Sprintf("/Schemas does not declare %s in %s; the check needs it (an optional attribute)", a, urn))
				}
			}
		}
		return nil
	}
}

// needEnterprise skips a check when the target does not declare the
// enterprise User extension (RFC 7643 §4.3, optional): /Schemas readable
// without it, or /ResourceTypes' User without it in schemaExtensions.
func needEnterprise(attrs ...string) gate {
	return func(ctx context.Context, t *Target) error {
		const why = "the check needs the enterprise User extension (optional, RFC 7643 §4.3)"
		if list, ok := t.schemaList(ctx); ok && len(list) > 0 {
			found := false
			for _, s := range list {
				found = found || strings.EqualFold(str(get(s, "id")), schemaEnterprise)
			}
			if !found {
				return Skip("/Schemas does not declare " + schemaEnterprise + "; " + why)
			}
		}
		v := t.declared(ctx, "/ResourceTypes")
		rts, _ := v.([]any)
		if rts == nil {
			rts, _ = get(v, "Resources").([]any)
		}
		for _, rt := range rts {
			if str(get(rt, "name")) != "User" && str(get(rt, "id")) != "User" {
				continue
			}
			exts, _ := get(rt, "schemaExtensions").([]any)
			listed := false
			for _, e := range exts {
				listed = listed || strings.EqualFold(str(get(e, "schema")), schemaEnterprise)
			}
			if !listed {
				return Skip("/ResourceTypes does not list " + schemaEnterprise + " for User; " + why)
			}
		}
		return needAttrs(schemaEnterprise, attrs...)(ctx, t)
	}
}
