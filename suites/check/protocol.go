package check

import (
	"context"
	"fmt"
	"net/url"
)

// protocol returns checks of RFC 7644 rules that IdPs rely on: paging,
// filtering, error shapes and the discovery endpoints.
func protocol() []Check {
	l := []string{"rfc7644"}
	w := []string{"rfc7644", "writes"}
	return []Check{
		{ID: "rfc-discovery", Title: "/ServiceProviderConfig, /ResourceTypes and /Schemas answer with their schemas", Ref: "RFC 7644 §4; RFC 7643 §5–§7", Labels: l, Run: rfcDiscovery},
		{ID: "rfc-content-type", Title: "responses are application/scim+json, and requests in application/scim+json and application/json are accepted", Ref: "RFC 7644 §3.1, §8.1", Labels: w, Run: rfcContentType},
		{ID: "rfc-bad-json", Title: "a body that is not JSON is 400 invalidSyntax, with nothing stored", Ref: "RFC 7644 §3.12", Labels: l, Run: rfcBadJSON},
		{ID: "rfc-invalid-filter", Title: "a filter that does not parse, or names an unknown attribute, is 400 invalidFilter, never an unfiltered list", Ref: "RFC 7644 §3.4.2.2, §3.12; case S10", Labels: l, Run: rfcInvalidFilter},
		{ID: "rfc-filter-precedence", Title: "filters follow the precedence grouping, not, and, or", Ref: "RFC 7644 §3.4.2.2; case S10", Labels: w, Run: rfcPrecedence},
		{ID: "rfc-paging", Title: "startIndex is 1-based (below 1 reads as 1), pages are disjoint, count=0 gives only totalResults, a bad count is 400", Ref: "RFC 7644 §3.4.2.4; cases S11, S12", Labels: w, Run: rfcPaging},
	}
}

func rfcDiscovery(ctx context.Context, t *Target) error {
	p := &probe{}
	x, err := t.send(ctx, "GET", "/ServiceProviderConfig", nil)
	if err != nil {
		return err
	}
	if p.status(x, 200) {
		p.scimJSON(x)
		if !hasSchema(x.JSON, "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig") {
			p.failf(x, "schemas does not contain the ServiceProviderConfig URN")
		}
		if _, ok := get(x.JSON, "patch.supported").(bool); !ok {
			p.failf(x, "patch.supported is missing")
		}
	}
	for _, path := range []string{"/ResourceTypes", "/Schemas"} {
		x, err := t.send(ctx, "GET", path, nil)
		if err != nil {
			return err
		}
		if p.status(x, 200) {
			_, rs := p.listResponse(x)
			if len(rs) < 2 {
				p.failf(x, "want at least User and Group, got %d entries", len(rs))
			}
		}
	}
	return p.err()
}

func rfcContentType(ctx context.Context, t *Target) error {
	p := &probe{}
	for _, ct := range []string{"application/scim+json", "application/json", "application/scim+json; charset=utf-8"} {
		x, err := t.send(ctx, "POST", "/Users", oktaUser(t.userName("ct"), "Alice", "Example"), withContentType(ct))
		if err != nil {
			return err
		}
		if p.status(x, 201) {
			p.scimJSON(x)
		}
	}
	return p.err()
}

func rfcBadJSON(ctx context.Context, t *Target) error {
	p := &probe{}
	userName := t.userName("bad")
	for _, raw := range []string{`{"userName": "` + userName + `",`, `not json`, `["array"]`} {
		x, err := t.send(ctx, "POST", "/Users", nil, withRaw([]byte(raw)))
		if err != nil {
			return err
		}
		if p.status(x, 400) {
			p.errorResponse(x, "")
		}
	}
	x, err := t.send(ctx, "GET", filterPath("/Users", `userName eq "`+userName+`"`, ""), nil)
	if err != nil {
		return err
	}
	if p.status(x, 200) {
		if total, _ := p.listResponse(x); total != 0 {
			p.failf(x, "a rejected request stored a user")
		}
	}
	return p.err()
}

func rfcInvalidFilter(ctx context.Context, t *Target) error {
	p := &probe{}
	for _, f := range []string{`userName eq "p1" and (`, `userName eq`, `noSuchAttribute eq "x"`, `userName zz "x"`, `members[display eq x,value eq y]`} {
		x, err := t.send(ctx, "GET", "/Users?filter="+url.QueryEscape(f), nil)
		if err != nil {
			return err
		}
		if p.status(x, 400) {
			p.errorResponse(x, "invalidFilter")
		}
	}
	return p.err()
}

func rfcPrecedence(ctx context.Context, t *Target) error {
	p := &probe{}
	tag := unique()
	var ids []string
	for i, active := range []bool{true, false, true} {
		body := oktaUser(fmt.Sprintf("p%d.%s@example.com", i+1, tag), "Alice", "Example")
		body["active"] = active
		x, err := t.send(ctx, "POST", "/Users", body)
		if err != nil {
			return err
		}
		if !p.status(x, 201) {
			return p.err()
		}
		ids = append(ids, str(get(x.JSON, "id")))
	}
	u := func(i int) string { return fmt.Sprintf(`userName eq "p%d.%s@example.com"`, i, tag) }
	cases := []struct {
		filter string
		want   int
	}{
		{"(" + u(1) + " or " + u(2) + ") and active eq true", 1},
		{u(1) + " or " + u(2) + " or " + u(3), 3},
		{u(2) + " or " + u(3) + " and active eq false", 1},
		{`userName sw "p" and userName ew ".` + tag + `@example.com" and not (active eq false)`, 2},
	}
	for _, c := range cases {
		x, err := t.send(ctx, "GET", filterPath("/Users", c.filter, ""), nil)
		if err != nil {
			return err
		}
		if p.status(x, 200) {
			if total, _ := p.listResponse(x); total != c.want {
				p.failf(x, "filter %s matched %d users, want %d", c.filter, total, c.want)
			}
		}
	}
	return p.err()
}

func rfcPaging(ctx context.Context, t *Target) error {
	p := &probe{}
	tag := unique()
	for i := 1; i <= 3; i++ {
		x, err := t.send(ctx, "POST", "/Users", oktaUser(fmt.Sprintf("q%d.%s@example.com", i, tag), "Alice", "Example"))
		if err != nil {
			return err
		}
		if !p.status(x, 201) {
			return p.err()
		}
	}
	f := `userName sw "q" and userName ew "` + tag + `@example.com"`
	seen := map[string]bool{}
	for _, pg := range []struct{ start, wantStart, wantItems int }{{0, 1, 2}, {3, 3, 1}} {
		x, err := t.send(ctx, "GET", filterPath("/Users", f, fmt.Sprintf("startIndex=%d&count=2", pg.start)), nil)
		if err != nil {
			return err
		}
		if !p.status(x, 200) {
			continue
		}
		total, rs := p.listResponse(x)
		p.equal(x, "startIndex", pg.wantStart)
		p.equal(x, "itemsPerPage", pg.wantItems)
		if total != 3 || len(rs) != pg.wantItems {
			p.failf(x, "totalResults %d with %d resources, want 3 with %d", total, len(rs), pg.wantItems)
		}
		for _, r := range rs {
			id := str(get(r, "id"))
			if seen[id] {
				p.failf(x, "user %s appears on two pages", id)
			}
			seen[id] = true
		}
	}
	x, err := t.send(ctx, "GET", filterPath("/Users", f, "count=0"), nil)
	if err != nil {
		return err
	}
	if p.status(x, 200) {
		p.equal(x, "totalResults", 3)
		p.equal(x, "itemsPerPage", 0)
	}
	x, err = t.send(ctx, "GET", "/Users?count=abc", nil)
	if err != nil {
		return err
	}
	if p.status(x, 400) {
		p.errorResponse(x, "invalidValue")
	}
	return p.err()
}
