package check

import (
	"context"
	"net/url"
	"slices"
)

// The attributes and excludedAttributes checks of pagingChecks (RFC 7644
// §3.4.2.5, §3.9).

// lacks reports each of attrs that resource r (one of x's) carries.
func (p *probe) lacks(x *Exchange, r any, why string, attrs ...string) {
	for _, a := range attrs {
		if get(r, a) != nil {
			p.failf(within(x, r), "%s, but the resource carries %s", why, a)
		}
	}
}

// carries reports each of attrs that resource r (one of x's) lacks.
func (p *probe) carries(x *Exchange, r any, why string, attrs ...string) {
	for _, a := range attrs {
		if v := get(r, a); v == nil || v == "" {
			p.failf(within(x, r), "%s, but %s is missing", why, a)
		}
	}
}

func pagingAttributesGet(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	id, _, err := t.createUser(ctx, p, "attr")
	if err != nil {
		return err
	}
	x, ok, err := t.fetch(ctx, p, "/Users/"+id+"?attributes=userName")
	if err != nil {
		return err
	}
	if ok {
		p.carries(x, x.JSON, "attributes=userName", "id", "userName", "schemas")
		p.lacks(x, x.JSON, "attributes=userName", "displayName", "name", "emails", "active", "externalId")
	}
	return p.err()
}

func pagingAttributesList(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	fx, err := t.newPageFixture(ctx, p)
	if err != nil {
		return err
	}
	// userName eq, the lookup Okta itself sends, finds the list's users:
	// the rule is the projection, not the filter.
	for _, l := range []string{"a", "b"} {
		userName := fx.pfx + l + "@" + t.domain()
		x, _, rs, ok, err := t.list(ctx, p, filterPath("/Users", `userName eq "`+userName+`"`, "attributes=userName,name.familyName"))
		if err != nil || !ok {
			return firstErr(err, p)
		}
		if len(rs) != 1 {
			p.failf(x, "want the one user %s, got %d", userName, len(rs))
		}
		for _, r := range rs {
			const why = "attributes=userName,name.familyName"
			p.carries(x, r, why, "id", "userName", "name.familyName")
			p.lacks(x, r, why, "name.givenName", "emails", "displayName", "active")
		}
	}
	return p.err()
}

func pagingExcluded(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	id, _, err := t.createUser(ctx, p, "excl")
	if err != nil {
		return err
	}
	gname := "Excl " + unique()
	g, err := t.createGroup(ctx, p, gname, id)
	if err != nil {
		return err
	}
	x, ok, err := t.fetch(ctx, p, "/Users/"+id+"?excludedAttributes=emails,name,id")
	if err != nil {
		return err
	}
	if ok {
		const why = "excludedAttributes=emails,name,id (id is returned always)"
		p.carries(x, x.JSON, why, "id", "userName", "displayName")
		p.lacks(x, x.JSON, why, "emails", "name")
	}
	x, err = t.send(ctx, "GET", "/Groups/"+g+"?excludedAttributes=members", nil)
	if err != nil {
		return err
	}
	if p.status(x, 200) {
		p.carries(x, x.JSON, "excludedAttributes=members", "id", "displayName")
		p.lacks(x, x.JSON, "excludedAttributes=members", "members")
	}
	// displayName eq is the lookup Okta's Group Push itself sends.
	x, _, rs, ok, err := t.list(ctx, p, filterPath("/Groups", `displayName eq "`+gname+`"`, "excludedAttributes=members"))
	if err != nil {
		return err
	}
	if ok {
		if !slices.Equal(idsOf(rs), []string{g}) {
			p.failf(x, "want the group %s alone, got %v", g, idsOf(rs))
		}
		for _, r := range rs {
			p.lacks(x, r, "excludedAttributes=members", "members")
		}
	}
	return p.err()
}

func pagingAttributesURN(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	body := oktaUser(t.userName("urn"), "Ur", "N")
	body["schemas"] = []string{schemaUser, schemaEnterprise}
	body[schemaEnterprise] = map[string]any{"department": "Sales", "employeeNumber": "E-" + unique()}
	ids, err := t.createAll(ctx, p, "/Users", []map[string]any{body})
	if err != nil {
		return err
	}
	id := ids[0]
	x, ok, err := t.fetch(ctx, p, "/Users/"+id+"?attributes="+url.QueryEscape(schemaUser+":userName,"+schemaEnterprise+":department"))
	if err != nil {
		return err
	}
	if ok {
		const why = "attributes=<core>:userName,<enterprise>:department"
		p.carries(x, x.JSON, why, "id", "userName")
		p.lacks(x, x.JSON, why, "displayName", "emails")
		if got := ext(x.JSON, schemaEnterprise, "department"); got != "Sales" {
			p.failf(x, "%s, but the enterprise department is %s, want \"Sales\"", why, show(got))
		}
		if got := ext(x.JSON, schemaEnterprise, "employeeNumber"); got != nil {
			p.failf(x, "%s, but the enterprise employeeNumber is returned", why)
		}
	}
	x, err = t.send(ctx, "GET", "/Users/"+id+"?excludedAttributes="+url.QueryEscape(schemaEnterprise+":employeeNumber,"+schemaUser+":displayName"), nil)
	if err != nil {
		return err
	}
	if p.status(x, 200) {
		const why = "excludedAttributes=<enterprise>:employeeNumber,<core>:displayName"
		p.carries(x, x.JSON, why, "id", "userName", "emails")
		p.lacks(x, x.JSON, why, "displayName")
		if got := ext(x.JSON, schemaEnterprise, "department"); got != "Sales" {
			p.failf(x, "%s, but the enterprise department is %s, want \"Sales\"", why, show(got))
		}
		if got := ext(x.JSON, schemaEnterprise, "employeeNumber"); got != nil {
			p.failf(x, "%s, but the enterprise employeeNumber is returned", why)
		}
	}
	return p.err()
}

func pagingAttributesWrite(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	userName := t.userName("attrw")
	body := oktaUser(userName, "Wr", "Ite")
	x, err := t.send(ctx, "POST", "/Users?attributes=userName", body)
	if err != nil {
		return err
	}
	t.keep(x, "/Users")
	if !p.status(x, 201) {
		return p.err()
	}
	p.carries(x, x.JSON, "POST ?attributes=userName", "id", "userName")
	p.lacks(x, x.JSON, "POST ?attributes=userName", "displayName", "name", "emails")
	id := str(get(x.JSON, "id"))
	if id == "" {
		return p.err()
	}
	body["displayName"] = "Wr Itten"
	x, err = t.send(ctx, "PUT", "/Users/"+id+"?attributes=displayName", body)
	if err != nil {
		return err
	}
	if p.status(x, 200) {
		p.carries(x, x.JSON, "PUT ?attributes=displayName", "id", "displayName")
		p.lacks(x, x.JSON, "PUT ?attributes=displayName", "userName", "name", "emails")
	}
	// With attributes, a PATCH answers 200 with the resource, projected
	// (RFC 7644 §3.5.2); 204 is not enough.
	x, err = t.send(ctx, "PATCH", "/Users/"+id+"?attributes=displayName", patchRequest(map[string]any{"op": "replace", "path": "displayName", "value": "Wr Patched"}))
	if err != nil {
		return err
	}
	const why = "PATCH ?attributes=displayName"
	if x.Status == 204 {
		p.failf(x, "%s: status 204, want 200 with the resource (RFC 7644 §3.5.2: with attributes the server returns it)", why)
	} else if p.status(x, 200) {
		p.carries(x, x.JSON, why, "id", "displayName")
		p.lacks(x, x.JSON, why, "userName", "name", "emails")
		p.equal(x, "displayName", "Wr Patched")
	}
	return p.err()
}
