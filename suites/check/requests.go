package check

import (
	"context"
	"net/url"
	"slices"
	"strings"
)

// fetch GETs path and reports whether it answered 200; problems go to p.
func (t *Target) fetch(ctx context.Context, p *probe, path string) (*Exchange, bool, error) {
	x, err := t.send(ctx, "GET", path, nil)
	if err != nil {
		return nil, false, err
	}
	return x, p.status(x, 200), nil
}

// post POSTs body to endpoint and reports whether it answered 201
// Created; problems go to p.
func (t *Target) post(ctx context.Context, p *probe, endpoint string, body any, opts ...reqOption) (*Exchange, bool, error) {
	x, err := t.send(ctx, "POST", endpoint, body, opts...)
	if err != nil {
		return nil, false, err
	}
	return x, p.status(x, 201), nil
}

// readBack GETs path and, when it answers 200, runs check on the answer;
// it returns the probe's problems.
func (t *Target) readBack(ctx context.Context, p *probe, path string, check func(g *Exchange)) error {
	g, ok, err := t.fetch(ctx, p, path)
	if err != nil {
		return err
	}
	if ok {
		check(g)
	}
	return p.err()
}

// spConfig reads /ServiceProviderConfig (RFC 7644 §4).
func (t *Target) spConfig(ctx context.Context, p *probe) (*Exchange, error) {
	x, ok, err := t.fetch(ctx, p, "/ServiceProviderConfig")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, p.err()
	}
	p.scimJSON(x)
	return x, nil
}

// supports reports whether a ServiceProviderConfig declares feature
// ("sort", "etag", "filter", …) supported. A check that depends on a
// feature asks Target.featureOff instead, which counts an undeclared
// feature as supported.
func supports(spc any, feature string) bool {
	b, _ := get(spc, feature+".supported").(bool)
	return b
}

// patchRequest is the PatchOp body that carries ops (RFC 7644 §3.5.2).
func patchRequest(ops ...map[string]any) map[string]any {
	return map[string]any{"schemas": []string{schemaPatchOp}, "Operations": ops}
}

// patch sends a PatchOp request with the given operations.
func (t *Target) patch(ctx context.Context, path string, ops ...map[string]any) (*Exchange, error) {
	return t.send(ctx, "PATCH", path, patchRequest(ops...))
}

// patchOK sends a PATCH and checks that it succeeded as RFC 7644 §3.5.2
// allows: 200 with the resource, or 204 with no body.
func (t *Target) patchOK(ctx context.Context, p *probe, path string, ops ...map[string]any) (*Exchange, bool, error) {
	return t.patchChecked(ctx, p, path, nil, ops)
}

// patchChecked is patchOK sending the request with opts.
func (t *Target) patchChecked(ctx context.Context, p *probe, path string, opts []reqOption, ops []map[string]any) (*Exchange, bool, error) {
	x, err := t.send(ctx, "PATCH", path, patchRequest(ops...), opts...)
	if err != nil {
		return nil, false, err
	}
	if !p.status(x, 200, 204) {
		return x, false, nil
	}
	p.patchResponse(x, path)
	return x, true, nil
}

// patchResponse checks a successful PATCH response (RFC 7644 §3.5.2): 204
// has no body; 200 carries the whole resource, with its id and schemas.
func (p *probe) patchResponse(x *Exchange, path string) {
	switch x.Status {
	case 204:
		if len(strings.TrimSpace(string(x.Body))) > 0 {
			p.failf(x, "204 No Content carries a body")
		}
	case 200:
		p.scimJSON(x)
		id := path[strings.LastIndex(path, "/")+1:]
		if got := str(get(x.JSON, "id")); got != id {
			p.failf(x, "a 200 answer to PATCH must carry the whole resource: id is %s, want %q (RFC 7644 §3.5.2)", show(get(x.JSON, "id")), id)
		}
		if get(x.JSON, "schemas") == nil {
			p.failf(x, "a 200 answer to PATCH must carry the whole resource: schemas is missing")
		}
	}
}

// patchFails sends a PATCH that must be refused with status 400 and one of
// the scimTypes (any when none are given).
func (t *Target) patchFails(ctx context.Context, p *probe, path string, why string, scimTypes []string, ops ...map[string]any) error {
	x, err := t.patch(ctx, path, ops...)
	if err != nil {
		return err
	}
	if x.Status != 400 {
		p.failf(x, "%s: status %d, want 400", why, x.Status)
		return nil
	}
	p.errorResponseOneOf(x, scimTypes...)
	return nil
}

// errorResponseOneOf is errorResponse accepting any of several scimTypes.
func (p *probe) errorResponseOneOf(x *Exchange, scimTypes ...string) {
	p.errorResponse(x, "")
	if len(scimTypes) == 0 {
		return
	}
	got := str(get(x.JSON, "scimType"))
	if !slices.ContainsFunc(scimTypes, func(s string) bool { return strings.EqualFold(s, got) }) {
		p.failf(x, "scimType is %q, want %s", got, strings.Join(scimTypes, " or "))
	}
}

// unchanged checks that the resource at path still reads as before in the
// attributes listed (a missing attribute must stay missing).
func (t *Target) unchanged(ctx context.Context, p *probe, path string, before *Exchange, why string, attrs ...string) error {
	g, ok, err := t.fetch(ctx, p, path)
	if err != nil || !ok {
		return err
	}
	for _, a := range attrs {
		if b, a2 := show(get(before.JSON, a)), show(get(g.JSON, a)); b != a2 {
			p.failf(g, "%s: %s changed from %s to %s", why, a, b, a2)
		}
	}
	return nil
}

// relPath turns a Location the server returned (absolute, or relative to
// the base URL) into a path relative to t.BaseURL, such as /Users/{id}.
func (t *Target) relPath(loc string) string {
	base := strings.TrimRight(t.BaseURL, "/")
	if strings.HasPrefix(loc, base+"/") {
		return loc[len(base):]
	}
	for _, ep := range []string{"/Users/", "/Groups/"} {
		if i := strings.LastIndex(loc, ep); i >= 0 {
			return loc[i:]
		}
	}
	if u, err := url.Parse(loc); err == nil && u.Path != "" {
		return u.Path
	}
	return loc
}

// firstErr returns err, or the probe's problems when err is nil.
func firstErr(err error, p *probe) error {
	if err != nil {
		return err
	}
	return p.err()
}
