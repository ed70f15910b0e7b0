package check

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

const (
	schemaEnterprise   = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	schemaBulkRequest  = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	schemaBulkResponse = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
)

// ext returns the value of an extension attribute: the object under the
// extension's URN, then the dotted path inside it. get cannot walk a URN
// key itself because URNs such as "…:2.0:User" contain a dot.
func ext(v any, urn, path string) any {
	m, _ := v.(map[string]any)
	for k, val := range m {
		if strings.EqualFold(k, urn) {
			return get(val, path)
		}
	}
	return nil
}

// fetch GETs path and reports whether it answered 200; problems go to p.
func (t *Target) fetch(ctx context.Context, p *probe, path string) (*Exchange, bool, error) {
	x, err := t.send(ctx, "GET", path, nil)
	if err != nil {
		return nil, false, err
	}
	return x, p.status(x, 200), nil
}

// createUserWith posts body as a new user and returns its id; the user is
// remembered for clean-up by send.
func (t *Target) createUserWith(ctx context.Context, p *probe, body map[string]any) (string, *Exchange, error) {
	x, err := t.send(ctx, "POST", "/Users", body)
	if err != nil {
		return "", nil, err
	}
	if !p.status(x, 201) {
		return "", x, p.err()
	}
	id := str(get(x.JSON, "id"))
	if id == "" {
		p.failf(x, "the created user has no id")
		return "", x, p.err()
	}
	return id, x, nil
}

// patchOK sends a PATCH and checks that it succeeded as RFC 7644 §3.5.2
// allows: 200 with the resource, or 204 with no body.
func (t *Target) patchOK(ctx context.Context, p *probe, path string, ops ...map[string]any) (*Exchange, bool, error) {
	x, err := t.patch(ctx, path, ops...)
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

// emailsOf returns the emails of a user as "type=value" strings, sorted,
// with a "*" after the primary one.
func emailsOf(v any) []string {
	var out []string
	list, _ := get(v, "emails").([]any)
	for _, e := range list {
		s := str(get(e, "type")) + "=" + str(get(e, "value"))
		if b, _ := get(e, "primary").(bool); b {
			s += "*"
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
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

// listIDs GETs a filtered list and returns the ids it holds.
func (t *Target) listIDs(ctx context.Context, p *probe, endpoint, filter, rest string) ([]string, *Exchange, error) {
	x, ok, err := t.fetch(ctx, p, filterPath(endpoint, filter, rest))
	if err != nil || !ok {
		return nil, x, err
	}
	_, rs := p.listResponse(x)
	var ids []string
	for _, r := range rs {
		ids = append(ids, str(get(r, "id")))
	}
	return ids, x, nil
}

// findUsers returns the ids of the users whose userName is userName
// (compared case-insensitively), for clean-up: a server that ignores the
// filter must not make a check delete somebody else's data.
func (t *Target) findUsers(ctx context.Context, userName string) []string {
	return t.findBy(ctx, "/Users", "userName", userName, "")
}

// findGroups is findUsers for groups, by displayName.
func (t *Target) findGroups(ctx context.Context, name string) []string {
	return t.findBy(ctx, "/Groups", "displayName", name, "excludedAttributes=members")
}

func (t *Target) findBy(ctx context.Context, endpoint, attr, value, rest string) []string {
	x, err := t.send(ctx, "GET", filterPath(endpoint, attr+` eq "`+value+`"`, rest), nil)
	if err != nil || x.Status != 200 {
		return nil
	}
	rs, _ := get(x.JSON, "Resources").([]any)
	var ids []string
	for _, r := range rs {
		if strings.EqualFold(str(get(r, attr)), value) {
			ids = append(ids, str(get(r, "id")))
		}
	}
	return ids
}

// exactly checks that ids is exactly want, in any order.
func (p *probe) exactly(x *Exchange, what string, ids []string, want ...string) {
	got, w := slices.Clone(ids), slices.Clone(want)
	slices.Sort(got)
	slices.Sort(w)
	if !slices.Equal(got, w) {
		p.failf(x, "%s: got %v, want %v", what, got, w)
	}
}

// spConfig reads /ServiceProviderConfig.
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

// jsonString renders v as compact JSON, for messages.
func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
