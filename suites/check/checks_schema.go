package check

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// schemaChecks returns the checks labelled "schema": the discovery
// endpoints (RFC 7644 §4, RFC 7643 §5–§7), attribute characteristics
// (required, mutability, returned, uniqueness, canonical values,
// multi-valued; RFC 7643 §2, §7), meta (RFC 7643 §3.1), and, from
// mediaChecks, the media-type and body rules. Checks labelled "strict" test
// limits RFC 7643/7644 allow but do not require; idpkit applies them, many
// real servers do not.
func schemaChecks() []Check {
	l := []string{"schema", "rfc7643"}
	w := []string{"schema", "rfc7643", "writes"}
	return append([]Check{
		{ID: "schema-discovery-config", Title: "/ServiceProviderConfig declares patch, bulk, filter, changePassword, sort and etag with a boolean supported, and its authentication schemes", Ref: "RFC 7643 §5; RFC 7644 §4", Labels: l, Run: schemaConfig},
		{ID: "schema-discovery-schemas", Title: "/Schemas serves the User schema with userName, and the Group schema with displayName and members when the server has groups; every attribute it declares carries name, type, mutability and returned (no optional attribute is demanded)", Ref: "RFC 7643 §7, §8.7.1; RFC 7644 §4", Labels: l, Run: schemaSchemas},
		{ID: "schema-discovery-resource-types", Title: "/ResourceTypes lists User (at /Users; the Enterprise User extension, when listed, with a boolean required) and Group (at /Groups)", Ref: "RFC 7643 §6; RFC 7644 §4", Labels: l, Run: schemaResourceTypes},
		{ID: "schema-required", Title: "a POST without a required attribute (userName of a user, displayName of a group) is 400 invalidValue, with nothing stored", Ref: "RFC 7643 §2.2, §4.1.1, §4.2; RFC 7644 §3.12", Labels: w, Run: schemaRequired},
		{ID: "schema-readonly-ignored", Title: "id and meta in a POST body are readOnly: the server ignores them and assigns its own", Ref: "RFC 7643 §2.2, §3.1; RFC 7644 §3.3", Labels: w, Run: schemaReadOnly},
		{ID: "schema-mutability-id", Title: "a PATCH that replaces id with another value is 400 mutability and changes nothing", Ref: "RFC 7643 §2.2, §3.1; RFC 7644 §3.5.2, §3.12", Labels: w, Run: schemaMutabilityID},
		{ID: "schema-returned-never", Title: "password (returned never) is in no response: not POST, PUT, GET, a list, .search, nor when asked for with attributes; filtering on it finds nothing", Ref: "RFC 7643 §2.2, §4.1.1; RFC 7644 §3.4.2.2", Labels: w, Run: schemaReturnedNever},
		{ID: "schema-uniqueness-case", Title: "a userName that differs from an existing one only in case is 409 uniqueness (userName is unique per server and caseExact false)", Ref: "RFC 7643 §2.2, §4.1.1; RFC 7644 §3.3, §3.12", Labels: w, Run: schemaUniquenessCase},
		{ID: "schema-uniqueness-concurrent", Title: "two concurrent POSTs of the same new userName give exactly one 201 and one 409, and one stored user", Ref: "RFC 7643 §2.2; RFC 7644 §3.3", Labels: w, Run: schemaUniquenessConcurrent},
		{ID: "schema-canonical-accepted", Title: "the canonical e-mail types work, home and other are accepted and stored", Ref: "RFC 7643 §2.4, §4.1.2", Labels: w, Run: schemaCanonicalAccepted},
		{ID: "schema-canonical-strict", Title: `an e-mail type outside the canonical values ("bogus-type") is 400 invalidValue (strict: RFC 7643 §7 lets a server accept or ignore other values; idpkit rejects them)`, Ref: "RFC 7643 §2.4, §7; RFC 7644 §3.12", Labels: slices.Concat(w, []string{"strict"}), Run: schemaCanonicalStrict},
		{ID: "schema-multi-valued-scalar", Title: `a multi-valued attribute given a single value ("emails": "x") is 400 invalidValue or invalidSyntax, with nothing stored`, Ref: "RFC 7643 §2.4; RFC 7644 §3.12", Labels: w, Run: schemaMultiScalar},
		{ID: "schema-meta", Title: "every user and group, in POST, GET and list responses, carries meta with resourceType, created, lastModified, a location that GETs it, and version when etag is supported", Ref: "RFC 7643 §3.1", Labels: w, Run: schemaMeta},
		{ID: "schema-location-header", Title: "a 201 carries a Location header equal to meta.location", Ref: "RFC 7644 §3.3; RFC 7643 §3.1", Labels: w, Run: schemaLocation},
		{ID: "schema-unknown-attributes", Title: "attributes the schema does not define in a POST body are ignored: 201, and the user is stored (strict: RFC 7644 §3.12 Table 8 lets a server refuse a request that violates the schema with 400; idpkit ignores them because IdPs send attributes a server may not know)", Ref: "RFC 7644 §3.3, §3.12; RFC 7643 §3", Labels: slices.Concat(w, []string{Strict}), Run: schemaUnknown},
	}, mediaChecks()...)
}

// noneStored checks that no user (or group, by endpoint) matches filter:
// a refused request stored nothing.
func (t *Target) noneStored(ctx context.Context, p *probe, endpoint, filter, why string) error {
	x, total, _, ok, err := t.list(ctx, p, filterPath(endpoint, filter, ""))
	if err != nil {
		return err
	}
	if ok && total != 0 {
		p.failf(x, "%s, yet %s was stored", why, filter)
	}
	return nil
}

// refused sends a POST that must be 400 with scimType (any when empty) and
// checks that nothing matching filter was stored.
func (t *Target) refused(ctx context.Context, p *probe, endpoint string, body any, scimType, filter, why string, opts ...reqOption) error {
	x, err := t.send(ctx, "POST", endpoint, body, opts...)
	if err != nil {
		return err
	}
	if x.Status == 201 {
		p.failf(x, "%s: accepted with 201, want 400 %s", why, strings.ReplaceAll(scimType, "|", " or "))
	} else if p.status(x, 400) {
		p.errorResponseOneOf(x, strings.Split(scimType, "|")...)
	}
	return t.noneStored(ctx, p, endpoint, filter, why)
}

func schemaRequired(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	extID := "00u" + unique() + unique()
	body := oktaUser(t.userName("req"), "Req", "Uired")
	delete(body, "userName")
	body["externalId"] = extID
	if err := t.refused(ctx, p, "/Users", body, "invalidValue", `externalId eq "`+extID+`"`, "a user without userName"); err != nil {
		return err
	}
	gext := "grp-" + unique()
	group := map[string]any{"schemas": []string{schemaGroup}, "externalId": gext, "members": []any{}}
	return firstErr(t.refused(ctx, p, "/Groups", group, "invalidValue", `externalId eq "`+gext+`"`, "a group without displayName"), p)
}

func schemaReadOnly(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	clientID := "client-chosen-" + unique()
	body := oktaUser(t.userName("ro"), "Read", "Only")
	body["id"] = clientID
	body["meta"] = map[string]any{"resourceType": "Bogus", "created": "2001-01-01T00:00:00Z", "lastModified": "2001-01-01T00:00:00Z",
		"location": "https://elsewhere.example/Users/" + clientID, "version": `W/"client"`}
	x, ok, err := t.post(ctx, p, "/Users", body)
	if err != nil || !ok {
		return firstErr(err, p)
	}
	id := str(get(x.JSON, "id"))
	if id == "" || id == clientID {
		p.failf(x, "id is %q: the server must assign it, ignoring the client's %q", id, clientID)
	}
	if got := str(get(x.JSON, "meta.resourceType")); got != "User" {
		p.failf(x, "meta.resourceType is %q, want User (the client's Bogus ignored)", got)
	}
	for _, k := range []string{"meta.created", "meta.lastModified"} {
		if strings.HasPrefix(str(get(x.JSON, k)), "2001-01-01") {
			p.failf(x, "%s kept the client's 2001 value", k)
		}
	}
	if strings.Contains(str(get(x.JSON, "meta.location")), "elsewhere.example") {
		p.failf(x, "meta.location kept the client's value")
	}
	if v := str(get(x.JSON, "meta.version")); v == `W/"client"` {
		p.failf(x, "meta.version kept the client's value")
	}
	if id != clientID {
		g, err := t.send(ctx, "GET", "/Users/"+clientID, nil)
		if err != nil {
			return err
		}
		if g.Status != 404 {
			p.failf(g, "the client's id names a resource: status %d, want 404", g.Status)
		}
	}
	return p.err()
}

func schemaMutabilityID(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	id, _, err := t.createUser(ctx, p, "mut")
	if err != nil {
		return err
	}
	other := "other-" + unique()
	x, err := t.patch(ctx, "/Users/"+id, map[string]any{"op": "replace", "path": "id", "value": other})
	if err != nil {
		return err
	}
	if x.Status == 200 || x.Status == 204 {
		p.failf(x, "replacing id with another value succeeded; want 400 mutability")
	} else if p.status(x, 400) {
		p.errorResponse(x, "mutability")
	}
	g, ok, err := t.fetch(ctx, p, "/Users/"+id)
	if err != nil {
		return err
	}
	if ok {
		p.equal(g, "id", id)
	}
	g, err = t.send(ctx, "GET", "/Users/"+other, nil)
	if err != nil {
		return err
	}
	if g.Status != 404 {
		t.remember("/Users/" + other)
		p.failf(g, "the refused PATCH created or renamed a user %s: status %d, want 404", other, g.Status)
	}
	return p.err()
}

// noPassword reports each resource in x (the body, or each of its
// Resources) that carries password.
func (p *probe) noPassword(x *Exchange, what string) {
	check := func(r any) {
		if has(r, "password") {
			p.failf(within(x, r), "%s returns password, which is returned never (RFC 7643 §4.1.1)", what)
		}
	}
	if rs, ok := get(x.JSON, "Resources").([]any); ok {
		for _, r := range rs {
			check(r)
		}
		return
	}
	check(x.JSON)
}

func schemaReturnedNever(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	userName := t.userName("pw")
	body := oktaUser(userName, "Pass", "Word")
	pw := "Secret-" + unique() + "-Pw1!"
	body["password"] = pw
	x, ok, err := t.post(ctx, p, "/Users", body)
	if err != nil || !ok {
		return firstErr(err, p)
	}
	p.noPassword(x, "POST")
	id := str(get(x.JSON, "id"))
	x, err = t.send(ctx, "PUT", "/Users/"+id, body)
	if err != nil {
		return err
	}
	if p.status(x, 200) {
		p.noPassword(x, "PUT")
	}
	for _, path := range []string{"/Users/" + id, "/Users/" + id + "?attributes=password", "/Users/" + id + "?attributes=userName,password",
		filterPath("/Users", `userName eq "`+userName+`"`, ""), filterPath("/Users", `userName eq "`+userName+`"`, "attributes=password")} {
		x, ok, err := t.fetch(ctx, p, path)
		if err != nil {
			return err
		}
		if ok {
			p.noPassword(x, "GET")
		}
	}
	x, _, _, ok, err = t.search(ctx, p, "/Users", map[string]any{"filter": `userName eq "` + userName + `"`, "attributes": []string{"userName", "password"}})
	if err != nil {
		return err
	}
	if ok {
		p.noPassword(x, "POST /Users/.search")
	}
	f := `password eq "` + pw + `"`
	x, err = t.send(ctx, "GET", filterPath("/Users", f, ""), nil)
	if err != nil {
		return err
	}
	switch x.Status {
	case 400:
		p.errorResponse(x, "invalidFilter")
	case 200:
		if total, _ := p.listResponse(x); total != 0 {
			p.failf(x, "filter %s found %d users: a filter on a returned-never attribute must not reveal it", f, total)
		}
		p.noPassword(x, "a filter on password")
	default:
		p.failf(x, "filter %s: status %d, want 400 invalidFilter or 200 with no match", f, x.Status)
	}
	return p.err()
}

func schemaUniquenessCase(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	userName := t.userName("Uniq")
	if _, err := t.createAll(ctx, p, "/Users", []map[string]any{oktaUser(userName, "Uni", "Que")}); err != nil {
		return err
	}
	for _, u := range []string{strings.ToUpper(userName), strings.ToLower(userName)} {
		x, err := t.send(ctx, "POST", "/Users", oktaUser(u, "Uni", "Que"))
		if err != nil {
			return err
		}
		if x.Status != 409 {
			p.failf(x, "userName %q differs from the existing %q only in case: status %d, want 409 uniqueness", u, userName, x.Status)
			continue
		}
		p.errorResponse(x, "uniqueness")
	}
	return p.err()
}

func schemaUniquenessConcurrent(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	for range 3 {
		userName := t.userName("race")
		var wg sync.WaitGroup
		xs := make([]*Exchange, 2)
		errs := make([]error, 2)
		for i := range xs {
			wg.Go(func() { xs[i], errs[i] = t.send(ctx, "POST", "/Users", oktaUser(userName, "Ra", "Ce")) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
		created := 0
		for _, x := range xs {
			switch x.Status {
			case 201:
				created++
			case 409:
				p.errorResponse(x, "uniqueness")
			default:
				p.failf(x, "concurrent POST of the same userName: status %d, want 201 or 409", x.Status)
			}
		}
		if created != 1 {
			p.failf(xs[0], "two concurrent POSTs of %s: %d answered 201, want exactly 1 (the other response: %d)", userName, created, xs[1].Status)
		}
		x, total, _, ok, err := t.list(ctx, p, filterPath("/Users", `userName eq "`+userName+`"`, ""))
		if err != nil {
			return err
		}
		if ok && total != 1 {
			p.failf(x, "after two concurrent POSTs of %s, %d users have it, want 1", userName, total)
		}
	}
	return p.err()
}

func schemaCanonicalAccepted(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	userName := t.userName("canon")
	body := oktaUser(userName, "Can", "On")
	body["emails"] = []any{
		map[string]any{"value": userName, "type": "work", "primary": true},
		map[string]any{"value": "home." + userName, "type": "home"},
		map[string]any{"value": "other." + userName, "type": "other"},
	}
	id, _, err := t.createUserWith(ctx, p, body)
	if err != nil {
		return err
	}
	return t.readBack(ctx, p, "/Users/"+id, func(g *Exchange) {
		got := strings.Join(emailsOf(g.JSON), " ")
		for _, typ := range []string{"work", "home", "other"} {
			if !strings.Contains(got, typ+"=") {
				p.failf(g, "the %s e-mail was not stored (emails: %s)", typ, got)
			}
		}
	})
}

func schemaCanonicalStrict(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	userName := t.userName("canon")
	body := oktaUser(userName, "Can", "On")
	body["emails"] = []any{map[string]any{"value": userName, "type": "bogus-type", "primary": true}}
	return firstErr(t.refused(ctx, p, "/Users", body, "invalidValue", `userName eq "`+userName+`"`, `an e-mail of type "bogus-type"`), p)
}

func schemaMultiScalar(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	userName := t.userName("scalar")
	body := oktaUser(userName, "Sca", "Lar")
	body["emails"] = "x"
	// RFC 7644 §3.12 fits both: the value is not compatible with the
	// attribute (invalidValue), or the body does not follow the schema
	// (invalidSyntax).
	return firstErr(t.refused(ctx, p, "/Users", body, "invalidValue|invalidSyntax", `userName eq "`+userName+`"`, `"emails": "x"`), p)
}

// meta checks the meta attribute of resource r (one of x's): resourceType
// rt, created and lastModified date-times in order, an absolute location
// ending in /{endpoint}/{id}, and a version when versioned.
func (p *probe) meta(x *Exchange, r any, rt, endpoint string, versioned bool) {
	id := str(get(r, "id"))
	if got := str(get(r, "meta.resourceType")); got != rt {
		p.failf(within(x, r), "meta.resourceType is %s, want %q", show(get(r, "meta.resourceType")), rt)
	}
	var times []time.Time
	for _, k := range []string{"meta.created", "meta.lastModified"} {
		v, err := time.Parse(time.RFC3339Nano, str(get(r, k)))
		if err != nil {
			p.failf(within(x, r), "%s is %s, want an xsd:dateTime (RFC 7643 §2.3.5)", k, show(get(r, k)))
			continue
		}
		times = append(times, v)
	}
	if len(times) == 2 && times[1].Before(times[0]) {
		p.failf(within(x, r), "meta.lastModified is before meta.created")
	}
	loc := str(get(r, "meta.location"))
	if !strings.HasPrefix(loc, "http://") && !strings.HasPrefix(loc, "https://") || !strings.HasSuffix(loc, endpoint+"/"+id) {
		p.failf(within(x, r), "meta.location is %s, want the absolute URI …%s/%s", show(get(r, "meta.location")), endpoint, id)
	}
	if versioned && str(get(r, "meta.version")) == "" {
		p.failf(within(x, r), "etag is supported, but meta.version is missing")
	}
}

func schemaMeta(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	versioned := !t.featureOff(ctx, "etag")
	userName := t.userName("meta")
	x, ok, err := t.post(ctx, p, "/Users", oktaUser(userName, "Me", "Ta"))
	if err != nil || !ok {
		return firstErr(err, p)
	}
	uid := str(get(x.JSON, "id"))
	p.meta(x, x.JSON, "User", "/Users", versioned)
	y, ok, err := t.post(ctx, p, "/Groups", map[string]any{"schemas": []string{schemaGroup}, "displayName": "Meta " + unique(), "members": []any{map[string]any{"value": uid}}})
	if err != nil || !ok {
		return firstErr(err, p)
	}
	gid := str(get(y.JSON, "id"))
	p.meta(y, y.JSON, "Group", "/Groups", versioned)
	gname := str(get(y.JSON, "displayName"))
	// The lists are found by userName and displayName eq, the lookups Okta
	// itself sends, not by id eq.
	for _, c := range []struct{ endpoint, rt, id, filter string }{
		{"/Users", "User", uid, `userName eq "` + userName + `"`},
		{"/Groups", "Group", gid, `displayName eq "` + gname + `"`},
	} {
		g, ok, err := t.fetch(ctx, p, c.endpoint+"/"+c.id)
		if err != nil {
			return err
		}
		if ok {
			p.meta(g, g.JSON, c.rt, c.endpoint, versioned)
			// location must GET the same resource.
			if loc := str(get(g.JSON, "meta.location")); strings.HasSuffix(loc, c.endpoint+"/"+c.id) {
				if rel := t.relPath(loc); rel != loc {
					h, ok, err := t.fetch(ctx, p, rel)
					if err != nil {
						return err
					}
					if ok && str(get(h.JSON, "id")) != c.id {
						p.failf(h, "meta.location %s does not GET the resource %s", loc, c.id)
					}
				} else {
					p.failf(g, "meta.location %s is not under the base URL %s", loc, t.BaseURL)
				}
			}
		}
		l, _, rs, ok, err := t.list(ctx, p, filterPath(c.endpoint, c.filter, ""))
		if err != nil {
			return err
		}
		if ok {
			if !slices.Equal(idsOf(rs), []string{c.id}) {
				p.failf(l, "filter %s: want the one resource %s, got %v", c.filter, c.id, idsOf(rs))
			}
			for _, r := range rs {
				p.meta(l, r, c.rt, c.endpoint, versioned)
			}
		}
	}
	return p.err()
}

func schemaLocation(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	for _, c := range []struct {
		endpoint string
		body     any
	}{
		{"/Users", oktaUser(t.userName("loc"), "Lo", "Cation")},
		{"/Groups", map[string]any{"schemas": []string{schemaGroup}, "displayName": "Loc " + unique()}},
	} {
		x, err := t.send(ctx, "POST", c.endpoint, c.body)
		if err != nil {
			return err
		}
		if !p.status(x, 201) {
			continue
		}
		if h, m := x.Header.Get("Location"), str(get(x.JSON, "meta.location")); h == "" || h != m {
			p.failf(x, "Location header %q, want meta.location %q", h, m)
		}
	}
	return p.err()
}

func schemaUnknown(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	userName := t.userName("unk")
	body := oktaUser(userName, "Un", "Known")
	body["favouriteColour"] = "teal"
	body["nickname2"] = map[string]any{"deep": []any{1, 2, 3}}
	id, _, err := t.createUserWith(ctx, p, body)
	if err != nil {
		return err
	}
	return t.readBack(ctx, p, "/Users/"+id, func(g *Exchange) {
		p.equal(g, "userName", userName)
	})
}
