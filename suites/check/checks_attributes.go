package check

import (
	"context"
	"net/url"
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
	x, _, rs, ok, err := t.list(ctx, p, fx.path("attributes=userName,name.familyName"))
	if err != nil || !ok {
		return firstErr(err, p)
	}
	if len(rs) != 5 {
		p.failf(x, "want the 5 users, got %d", len(rs))
	}
	for _, r := range rs {
		const why = "attributes=userName,name.familyName"
		p.carries(x, r, why, "id", "userName", "name.familyName")
		p.lacks(x, r, why, "name.givenName", "emails", "displayName", "active")
	}
	return p.err()
}

func pagingExcluded(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	id, _, err := t.createUser(ctx, p, "excl")
	if err != nil {
		return err
	}
	g, err := t.createGroup(ctx, p, "Excl "+unique(), id)
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
	x, _, rs, ok, err := t.list(ctx, p, filterPath("/Groups", `id eq "`+g+`"`, "excludedAttributes=members"))
	if err != nil {
		return err
	}
	if ok {
		if len(rs) != 1 {
			p.failf(x, "want the group %s, got %d resources", g, len(rs))
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
	return p.err()
}
