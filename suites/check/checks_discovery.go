package check

import (
	"context"
	"strings"
)

// The discovery checks of schemaChecks: /ServiceProviderConfig,
// /Schemas and /ResourceTypes (RFC 7644 §4, RFC 7643 §5–§7).

func schemaConfig(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	x, ok, err := t.fetch(ctx, p, "/ServiceProviderConfig")
	if err != nil {
		return err
	}
	if !ok {
		return p.err()
	}
	p.scimJSON(x)
	if !hasSchema(x.JSON, "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig") {
		p.failf(x, "schemas does not contain the ServiceProviderConfig URN")
	}
	for _, f := range []string{"patch", "bulk", "filter", "changePassword", "sort", "etag"} {
		if _, ok := get(x.JSON, f+".supported").(bool); !ok {
			p.failf(x, "%s.supported is %s, want a JSON boolean", f, show(get(x.JSON, f+".supported")))
		}
	}
	if supports(x.JSON, "filter") && intOf(get(x.JSON, "filter.maxResults")) < 1 {
		p.failf(x, "filter is supported, but filter.maxResults is %s, want a positive number", show(get(x.JSON, "filter.maxResults")))
	}
	if supports(x.JSON, "bulk") {
		for _, k := range []string{"bulk.maxOperations", "bulk.maxPayloadSize"} {
			if intOf(get(x.JSON, k)) < 1 {
				p.failf(x, "bulk is supported, but %s is %s, want a positive number", k, show(get(x.JSON, k)))
			}
		}
	}
	schemes, _ := get(x.JSON, "authenticationSchemes").([]any)
	if len(schemes) == 0 {
		p.failf(x, "authenticationSchemes is %s, want a non-empty array", show(get(x.JSON, "authenticationSchemes")))
	}
	for _, s := range schemes {
		if str(get(s, "type")) == "" || str(get(s, "name")) == "" {
			p.failf(within(x, s), "an authentication scheme lacks type or name")
		}
	}
	return p.err()
}

// wantAttr is what /Schemas must say of one attribute.
type wantAttr struct {
	schema, path string
	required     bool // a missing attribute fails; otherwise only a declared one is checked
	fields       map[string]any
}

// hasGroups reports whether the target has groups: /ResourceTypes lists
// Group, or cannot be read (which counts as support, so the group checks
// run and fail rather than pass unseen).
func (t *Target) hasGroups(ctx context.Context) bool {
	v := t.declared(ctx, "/ResourceTypes")
	rts, ok := v.([]any)
	if !ok {
		rts, ok = get(v, "Resources").([]any)
	}
	if !ok {
		return true
	}
	for _, rt := range rts {
		if str(get(rt, "name")) == "Group" || str(get(rt, "id")) == "Group" {
			return true
		}
	}
	return false
}

func schemaSchemas(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	x, _, rs, ok, err := t.list(ctx, p, "/Schemas")
	if err != nil || !ok {
		return firstErr(err, p)
	}
	byID := map[string]any{}
	for _, r := range rs {
		byID[str(get(r, "id"))] = r
	}
	// Only what Okta and Entra ID need is demanded: the User schema with
	// userName, and, when the server has groups, the Group schema with
	// displayName and members. Every other attribute is optional (RFC 7643
	// §4): its characteristics are checked only when the server declares it.
	groups := t.hasGroups(ctx)
	for _, id := range []string{schemaUser, schemaGroup, schemaEnterprise} {
		s, ok := byID[id]
		if !ok {
			if id == schemaUser || id == schemaGroup && groups {
				p.failf(x, "/Schemas lacks %s", id)
			}
			continue
		}
		attrs, _ := get(s, "attributes").([]any)
		if len(attrs) == 0 {
			p.failf(within(x, s), "schema %s has no attributes", id)
		}
		var walk func(list []any, parent string)
		walk = func(list []any, parent string) {
			for _, a := range list {
				name := parent + str(get(a, "name"))
				for _, k := range []string{"name", "type", "mutability", "returned"} {
					if str(get(a, k)) == "" {
						p.failf(within(x, a), "schema %s: attribute %s lacks %s (RFC 7643 §7)", id, name, k)
					}
				}
				subs, _ := get(a, "subAttributes").([]any)
				walk(subs, name+".")
			}
		}
		walk(attrs, "")
	}
	wants := []wantAttr{
		{schemaUser, "userName", true, map[string]any{"type": "string", "required": true, "uniqueness": "server", "caseExact": false}},
		{schemaGroup, "displayName", true, map[string]any{"type": "string"}},
		{schemaGroup, "members", groups, map[string]any{"type": "complex", "multiValued": true}},
		// Optional: checked only when declared, so that a declaration
		// Okta or Entra would misread is still reported.
		{schemaUser, "password", false, map[string]any{"mutability": "writeOnly", "returned": "never"}},
		{schemaUser, "active", false, map[string]any{"type": "boolean"}},
		{schemaUser, "name", false, map[string]any{"type": "complex", "multiValued": false}},
		{schemaUser, "emails", false, map[string]any{"type": "complex", "multiValued": true}},
		{schemaUser, "groups", false, map[string]any{"mutability": "readOnly", "multiValued": true}},
	}
	for _, wa := range wants {
		s, ok := byID[wa.schema]
		if !ok {
			continue
		}
		a := schemaAttr(s, wa.path)
		if a == nil {
			if wa.required {
				p.failf(within(x, s), "schema %s does not define %s", wa.schema, wa.path)
			}
			continue
		}
		for k, v := range wa.fields {
			got := get(a, k)
			if gs, ok := got.(string); ok {
				got = strings.ToLower(gs)
				if vs, ok := v.(string); ok {
					v = strings.ToLower(vs)
				}
			}
			if got != v {
				p.failf(within(x, a), "schema %s: %s has %s %s, want %s", wa.schema, wa.path, k, show(get(a, k)), show(v))
			}
		}
	}
	ids := []string{schemaUser}
	if groups {
		ids = append(ids, schemaGroup)
	}
	for _, id := range ids {
		y, ok, err := t.fetch(ctx, p, "/Schemas/"+id)
		if err != nil {
			return err
		}
		if ok && str(get(y.JSON, "id")) != id {
			p.failf(y, "GET /Schemas/%s returned id %s", id, show(get(y.JSON, "id")))
		}
	}
	return p.err()
}

// schemaAttr finds an attribute ("emails.value") in a schema resource.
func schemaAttr(s any, path string) any {
	cur := s
	key := "attributes"
	for _, part := range strings.Split(path, ".") {
		list, _ := get(cur, key).([]any)
		var found any
		for _, a := range list {
			if strings.EqualFold(str(get(a, "name")), part) {
				found = a
			}
		}
		if found == nil {
			return nil
		}
		cur, key = found, "subAttributes"
	}
	return cur
}

func schemaResourceTypes(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	x, _, rs, ok, err := t.list(ctx, p, "/ResourceTypes")
	if err != nil || !ok {
		return firstErr(err, p)
	}
	want := map[string][2]string{"User": {"/Users", schemaUser}, "Group": {"/Groups", schemaGroup}}
	for name, w := range want {
		var rt any
		for _, r := range rs {
			if str(get(r, "name")) == name || str(get(r, "id")) == name {
				rt = r
			}
		}
		if rt == nil {
			p.failf(x, "/ResourceTypes lacks %s", name)
			continue
		}
		if got := str(get(rt, "endpoint")); got != w[0] && !strings.HasSuffix(got, w[0]) {
			p.failf(within(x, rt), "%s: endpoint is %q, want %q", name, got, w[0])
		}
		if got := str(get(rt, "schema")); got != w[1] {
			p.failf(within(x, rt), "%s: schema is %q, want %q", name, got, w[1])
		}
		if name != "User" {
			continue
		}
		// The enterprise extension is optional (RFC 7643 §4.3): when
		// listed, its required flag must be a boolean.
		exts, _ := get(rt, "schemaExtensions").([]any)
		for _, e := range exts {
			if str(get(e, "schema")) == schemaEnterprise {
				if _, ok := get(e, "required").(bool); !ok {
					p.failf(within(x, rt), "User: the enterprise extension's required is %s, want a boolean", show(get(e, "required")))
				}
			}
		}
	}
	y, ok, err := t.fetch(ctx, p, "/ResourceTypes/User")
	if err != nil {
		return err
	}
	if ok && str(get(y.JSON, "schema")) != schemaUser {
		p.failf(y, "GET /ResourceTypes/User: schema is %s", show(get(y.JSON, "schema")))
	}
	return p.err()
}
