package check

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// pagingChecks returns the checks labelled "paging": pagination (RFC 7644
// §3.4.2.4), sorting (§3.4.2.3), POST .search (§3.4.3) and the attributes
// and excludedAttributes parameters (§3.4.2.5, §3.9). Queries are scoped
// to the check's own users with a fresh userName prefix.
func pagingChecks() []Check {
	w := []string{"paging", "rfc7644", "writes"}
	l := []string{"paging", "rfc7644"}
	const pg = "RFC 7644 §3.4.2.4"
	const srt = "RFC 7644 §3.4.2.3"
	const attrs = "RFC 7644 §3.4.2.5, §3.9"
	return []Check{
		{ID: "paging-start-below-one", Title: "a startIndex below 1 is read as 1: the same first page, with startIndex 1", Ref: pg + "; case S11", Labels: w, Run: pagingStartBelowOne},
		{ID: "paging-count-zero", Title: "count=0 returns totalResults and no resources", Ref: pg, Labels: w, Run: pagingCount("0")},
		{ID: "paging-count-negative", Title: "a negative count is read as 0: totalResults and no resources", Ref: pg, Labels: w, Run: pagingCount("-1")},
		{ID: "paging-count-above-max", Title: "a count far above filter.maxResults is not an error: 200 with at most maxResults resources on the page", Ref: "RFC 7644 §3.4.2.4; RFC 7643 §5 (filter.maxResults)", Labels: w, Run: pagingCountAboveMax},
		{ID: "paging-count-invalid", Title: "a count or startIndex that is not a number is 400 invalidValue (strict: RFC 7644 §3.4.2.4 does not say what a non-number is; idpkit refuses it)", Ref: pg + ", §3.12; case S12", Labels: slices.Concat(l, []string{"strict"}), Run: pagingInvalid},
		{ID: "paging-disjoint", Title: "pages of a filtered set are disjoint and together hold every match exactly once", Ref: pg + "; case S11", Labels: w, Run: pagingDisjoint},
		{ID: "paging-numbers", Title: "totalResults, itemsPerPage and startIndex are JSON numbers, and itemsPerPage is the number of resources on the page (0 past the end)", Ref: pg + ", §3.4.2", Labels: w, Run: pagingNumbers},
		{ID: "paging-sort-ascending", Title: "sortBy=userName sorts ascending by default, case-insensitively, before paging; when /ServiceProviderConfig says sort is unsupported, sortBy may be ignored or refused with 400", Ref: srt, Labels: w, Run: pagingSort("sortBy=userName", userOrder, "C", "D")},
		{ID: "paging-sort-descending", Title: "sortBy=userName&sortOrder=descending sorts descending, before paging; when /ServiceProviderConfig says sort is unsupported, sortBy may be ignored or refused with 400", Ref: srt, Labels: w, Run: pagingSort("sortBy=userName&sortOrder=descending", reversed(userOrder), "C", "b")},
		{ID: "paging-sort-sub-attribute", Title: "sortBy=name.familyName sorts by the sub-attribute; when /ServiceProviderConfig says sort is unsupported, sortBy may be ignored or refused with 400", Ref: srt, Labels: w, Run: pagingSort("sortBy=name.familyName", familyOrder, "D", "a")},
		{ID: "paging-search-users", Title: "POST /Users/.search takes filter, startIndex, count and attributes in a SearchRequest and answers 200 with a ListResponse", Ref: "RFC 7644 §3.4.3", Labels: w, Run: pagingSearchUsers},
		{ID: "paging-search-groups", Title: "POST /Groups/.search takes filter, startIndex, count and excludedAttributes in a SearchRequest", Ref: "RFC 7644 §3.4.3", Labels: w, Run: pagingSearchGroups},
		{ID: "paging-search-root", Title: "POST /.search at the root searches users and groups together, each result carrying schemas and meta.resourceType", Ref: "RFC 7644 §3.4.3, §3.4.2.2", Labels: w, Run: pagingSearchRoot},
		{ID: "paging-attributes-get", Title: "attributes=userName on GET /Users/{id} returns userName, id and schemas only", Ref: attrs, Labels: w, Run: pagingAttributesGet},
		{ID: "paging-attributes-list", Title: "attributes on a list returns only the named attributes and sub-attributes of each resource, plus id", Ref: attrs, Labels: w, Run: pagingAttributesList},
		{ID: "paging-excluded-attributes", Title: "excludedAttributes drops the named attributes (members of a group, emails of a user) but never id", Ref: attrs, Labels: w, Run: pagingExcluded},
		{ID: "paging-attributes-urn", Title: "attributes and excludedAttributes accept URN-qualified names, core and enterprise extension", Ref: attrs + "; RFC 7644 §3.10", Labels: w, Run: pagingAttributesURN},
		{ID: "paging-attributes-write", Title: "attributes applies to the resource returned by POST, PUT and PATCH too; a PATCH with attributes answers 200 with the projected resource", Ref: "RFC 7644 §3.9, §3.5.2", Labels: w, Run: pagingAttributesWrite},
	}
}

// The paging fixture: five users created in this order, with letters of
// mixed case so that a case-sensitive sort gives a different order.
var (
	pageLetters = []string{"a", "C", "b", "e", "D"}
	pageFamily  = []string{"Mu", "Alpha", "Zeta", "Beta", "Kappa"}
	userOrder   = []string{"a", "b", "C", "D", "e"} // userName, case-insensitive
	familyOrder = []string{"C", "e", "D", "a", "b"} // name.familyName
)

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

// pageFixture is five users named <pfx><letter>@domain.
type pageFixture struct {
	pfx    string
	byName map[string]string // letter → id
	ids    []string
	filter string
}

func (t *Target) newPageFixture(ctx context.Context, p *probe) (*pageFixture, error) {
	fx := &pageFixture{pfx: prefix("pg"), byName: map[string]string{}}
	var bodies []map[string]any
	for i, l := range pageLetters {
		bodies = append(bodies, oktaUser(fx.pfx+l+"@"+t.domain(), "Pat", pageFamily[i]))
	}
	ids, err := t.createAll(ctx, p, "/Users", bodies)
	if err != nil {
		return nil, err
	}
	for i, l := range pageLetters {
		fx.byName[l] = ids[i]
	}
	fx.ids = ids
	fx.filter = `userName sw "` + fx.pfx + `"`
	return fx, nil
}

// path is a list of the fixture's users with the query rest.
func (fx *pageFixture) path(rest string) string { return filterPath("/Users", fx.filter, rest) }

// letters names the fixture users of ids by their letters, for messages.
func (fx *pageFixture) letters(ids []string) []string {
	var out []string
	for _, id := range ids {
		l := "?"
		for k, v := range fx.byName {
			if v == id {
				l = k
			}
		}
		out = append(out, l)
	}
	return out
}

func pagingStartBelowOne(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	if _, err := t.newPageFixture(ctx, p); err != nil {
		return err
	}
	// The pages are of the whole /Users list, unfiltered: the rule is
	// about startIndex, and needs no lookup filter.
	_, want, first, ok, err := t.list(ctx, p, "/Users?startIndex=1&count=2")
	if err != nil || !ok {
		return firstErr(err, p)
	}
	for _, s := range []string{"0", "-3"} {
		y, total, rs, ok, err := t.list(ctx, p, "/Users?startIndex="+s+"&count=2")
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		p.equal(y, "startIndex", 1)
		if total != want || !slices.Equal(idsOf(rs), idsOf(first)) {
			p.failf(y, "startIndex=%s: totalResults %d and users %v, want %d and the first page of startIndex=1, %v", s, total, idsOf(rs), want, idsOf(first))
		}
	}
	return p.err()
}

func pagingCount(count string) func(context.Context, *Target) error {
	return func(ctx context.Context, t *Target) error {
		p := newProbe(ctx)
		if _, err := t.newPageFixture(ctx, p); err != nil {
			return err
		}
		// The whole /Users list, unfiltered: it holds at least the
		// fixture's 5 users, and the rule needs no lookup filter.
		x, total, rs, ok, err := t.list(ctx, p, "/Users?count="+count)
		if err != nil || !ok {
			return firstErr(err, p)
		}
		if total < 5 || len(rs) != 0 {
			p.failf(x, "count=%s: totalResults %d with %d resources, want at least the check's 5 users with no resources", count, total, len(rs))
		}
		if n := get(x.JSON, "itemsPerPage"); n != nil && intOf(n) != 0 {
			p.failf(x, "count=%s: itemsPerPage is %s, want 0", count, show(n))
		}
		return p.err()
	}
}

func pagingCountAboveMax(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	if _, err := t.newPageFixture(ctx, p); err != nil {
		return err
	}
	max := intOf(get(t.declared(ctx, "/ServiceProviderConfig"), "filter.maxResults"))
	x, total, rs, ok, err := t.list(ctx, p, "/Users?startIndex=1&count=1000000")
	if err != nil || !ok {
		return firstErr(err, p)
	}
	if total < 5 || len(rs) == 0 {
		p.failf(x, "count=1000000: totalResults %d with %d resources, want at least the check's 5 users", total, len(rs))
	}
	if max > 0 && len(rs) > max {
		p.failf(x, "count=1000000: %d resources on one page, more than filter.maxResults %d", len(rs), max)
	}
	if n := get(x.JSON, "itemsPerPage"); n != nil && intOf(n) != len(rs) {
		p.failf(x, "itemsPerPage is %s for a page of %d resources", show(n), len(rs))
	}
	return p.err()
}

func pagingInvalid(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	for _, q := range []string{"count=abc", "startIndex=abc", "count=1e3x", "startIndex=1&count=" + url.QueryEscape("2 OR 1=1")} {
		x, err := t.send(ctx, "GET", "/Users?"+q, nil)
		if err != nil {
			return err
		}
		if p.status(x, 400) {
			p.errorResponse(x, "invalidValue")
		}
	}
	return p.err()
}

func pagingDisjoint(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	fx, err := t.newPageFixture(ctx, p)
	if err != nil {
		return err
	}
	var seen []string
	for _, pg := range []struct{ start, items int }{{1, 2}, {3, 2}, {5, 1}} {
		x, total, rs, ok, err := t.list(ctx, p, fx.path(fmt.Sprintf("startIndex=%d&count=2", pg.start)))
		if err != nil {
			return err
		}
		if !ok {
			return p.err()
		}
		p.equal(x, "startIndex", pg.start)
		if total != 5 || len(rs) != pg.items {
			p.failf(x, "startIndex=%d&count=2: totalResults %d with %d resources, want 5 with %d", pg.start, total, len(rs), pg.items)
		}
		for _, id := range idsOf(rs) {
			if slices.Contains(seen, id) {
				p.failf(x, "user %s is on two pages", id)
			}
			seen = append(seen, id)
		}
	}
	if !sameSet(seen, fx.ids) {
		p.failf(nil, "the three pages held %v, want each of the 5 users %v once", seen, fx.ids)
	}
	return p.err()
}

func pagingNumbers(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	fx, err := t.newPageFixture(ctx, p)
	if err != nil {
		return err
	}
	for _, q := range []struct {
		rest  string
		items int
	}{{"startIndex=2&count=3", 3}, {"startIndex=5&count=3", 1}, {"startIndex=10&count=3", 0}} {
		x, total, rs, ok, err := t.list(ctx, p, fx.path(q.rest))
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		for _, k := range []string{"itemsPerPage", "startIndex"} {
			if get(x.JSON, k) == nil {
				p.failf(x, "%s is missing", k)
			}
		}
		if n := get(x.JSON, "itemsPerPage"); n != nil && intOf(n) != len(rs) {
			p.failf(x, "itemsPerPage is %s but the page holds %d resources", show(n), len(rs))
		}
		if total != 5 || len(rs) != q.items {
			p.failf(x, "%s: totalResults %d with %d resources, want 5 with %d", q.rest, total, len(rs), q.items)
		}
	}
	return p.err()
}

// pagingSort checks a sorted list of the fixture: the whole order, then
// that startIndex=3&count=2 is the third and fourth of it.
func pagingSort(query string, order []string, third, fourth string) func(context.Context, *Target) error {
	return func(ctx context.Context, t *Target) error {
		p := newProbe(ctx)
		sortOK := !t.featureOff(ctx, "sort")
		fx, err := t.newPageFixture(ctx, p)
		if err != nil {
			return err
		}
		var want []string
		for _, l := range order {
			want = append(want, fx.byName[l])
		}
		x, err := t.send(ctx, "GET", fx.path(query), nil)
		if err != nil {
			return err
		}
		if !sortOK {
			// RFC 7644 §3.4.2.3: sorting is optional; a server that says
			// so may ignore sortBy, or refuse it.
			switch x.Status {
			case 400:
				p.errorResponse(x, "")
			case 200:
				if _, rs := p.listResponse(x); !sameSet(idsOf(rs), want) {
					p.failf(x, "with sortBy ignored the list must still hold the 5 users, got %v", fx.letters(idsOf(rs)))
				}
			default:
				p.failf(x, "sort is unsupported, so sortBy must be ignored (200) or refused (400), got %d", x.Status)
			}
			return p.err()
		}
		if !p.status(x, 200) {
			return p.err()
		}
		if _, rs := p.listResponse(x); !slices.Equal(idsOf(rs), want) {
			p.failf(x, "%s: order %v, want %v", query, fx.letters(idsOf(rs)), order)
		}
		y, _, rs, ok, err := t.list(ctx, p, fx.path(query+"&startIndex=3&count=2"))
		if err != nil || !ok {
			return firstErr(err, p)
		}
		if got := idsOf(rs); !slices.Equal(got, []string{fx.byName[third], fx.byName[fourth]}) {
			p.failf(y, "%s: page startIndex=3&count=2 is %v, want %v (sort, then page)", query, fx.letters(got), []string{third, fourth})
		}
		return p.err()
	}
}

func pagingSearchUsers(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	fx, err := t.newPageFixture(ctx, p)
	if err != nil {
		return err
	}
	x, total, rs, ok, err := t.search(ctx, p, "/Users", map[string]any{"filter": fx.filter, "startIndex": 2, "count": 2, "attributes": []string{"userName"}})
	if err != nil || !ok {
		return firstErr(err, p)
	}
	p.equal(x, "startIndex", 2)
	if total != 5 || len(rs) != 2 {
		p.failf(x, "totalResults %d with %d resources, want 5 with 2", total, len(rs))
	}
	for _, r := range rs {
		if !slices.Contains(fx.ids, str(get(r, "id"))) || !strings.HasPrefix(strings.ToLower(str(get(r, "userName"))), fx.pfx) {
			p.failf(within(x, r), "a result is not one of the check's users, or lacks id and userName")
		}
		for _, a := range []string{"name", "emails", "displayName", "active"} {
			if has(r, a) {
				p.failf(within(x, r), `attributes ["userName"], but the result carries %s`, a)
			}
		}
	}
	return p.err()
}

func pagingSearchGroups(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	u, _, err := t.createUser(ctx, p, "srch")
	if err != nil {
		return err
	}
	tag := unique()
	var gs []string
	for i := range 3 {
		g, err := t.createGroup(ctx, p, fmt.Sprintf("Srch %s %d", tag, i), u)
		if err != nil {
			return err
		}
		gs = append(gs, g)
	}
	x, total, rs, ok, err := t.search(ctx, p, "/Groups", map[string]any{"filter": `displayName sw "Srch ` + tag + `"`, "startIndex": 1, "count": 2, "excludedAttributes": []string{"members"}})
	if err != nil || !ok {
		return firstErr(err, p)
	}
	if total != 3 || len(rs) != 2 {
		p.failf(x, "totalResults %d with %d resources, want 3 with 2", total, len(rs))
	}
	for _, r := range rs {
		if !slices.Contains(gs, str(get(r, "id"))) || str(get(r, "displayName")) == "" {
			p.failf(within(x, r), "a result is not one of the check's groups, or lacks id and displayName")
		}
		if has(r, "members") {
			p.failf(within(x, r), `excludedAttributes ["members"], but the group carries members`)
		}
	}
	return p.err()
}

func pagingSearchRoot(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	pfx := prefix("root")
	users, err := t.createAll(ctx, p, "/Users", []map[string]any{
		oktaUser(pfx+"a@"+t.domain(), "Ro", "Ot"), oktaUser(pfx+"b@"+t.domain(), "Ro", "Ot")})
	if err != nil {
		return err
	}
	name := "Root " + unique()
	g, err := t.createGroup(ctx, p, name, users[0])
	if err != nil {
		return err
	}
	// userName is not a Group attribute: for groups it has no value
	// (RFC 7644 §3.4.2.2), and the or still finds the group.
	f := `userName sw "` + pfx + `" or displayName eq "` + name + `"`
	x, total, rs, ok, err := t.search(ctx, p, "", map[string]any{"filter": f})
	if err != nil || !ok {
		return firstErr(err, p)
	}
	want := map[string]string{users[0]: "User", users[1]: "User", g: "Group"}
	if got := idsOf(rs); total != 3 || !sameSet(got, []string{users[0], users[1], g}) {
		p.failf(x, "filter %s: totalResults %d and ids %v, want the 2 users and the group", f, total, got)
	}
	for _, r := range rs {
		rt := want[str(get(r, "id"))]
		if got := str(get(r, "meta.resourceType")); got != rt {
			p.failf(within(x, r), "meta.resourceType is %q, want %q", got, rt)
		}
		core := schemaUser
		if rt == "Group" {
			core = schemaGroup
		}
		if !hasSchema(r, core) {
			p.failf(within(x, r), "schemas lacks %s", core)
		}
	}
	return p.err()
}
