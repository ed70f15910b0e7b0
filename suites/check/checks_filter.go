package check

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// filterChecks returns the checks labelled "filter": the operators,
// grouping and attribute paths of RFC 7644 §3.4.2.2, and the filters Entra
// ID sends. Each check sends the filter under test alone and judges the
// answer by its own users only (see expectOwn), so the checks hold on a
// server with data and need no lookup filter besides the one they test.
func filterChecks() []Check {
	l := []string{"filter", "rfc7644"}
	w := []string{"filter", "rfc7644", "writes"}
	fc := func(id, title, ref string, labels []string, cases ...filterCase) Check {
		return Check{ID: id, Title: title, Ref: ref, Labels: labels, Run: func(ctx context.Context, t *Target) error { return runFilterCases(ctx, t, cases) }}
	}
	const op = "RFC 7644 §3.4.2.2"
	return []Check{
		fc("filter-eq", "eq matches users whose attribute equals the value (userName, displayName, name.familyName)", op, w,
			filterCase{`userName eq "{u1}"`, []int{1}},
			filterCase{`displayName eq "Bob Beta"`, []int{1}},
			filterCase{`name.familyName eq "Zeta"`, []int{0}}),
		fc("filter-ne", "ne matches users whose attribute differs from the value", op, w,
			filterCase{`displayName ne "Ann Alpha"`, []int{1, 2}}),
		fc("filter-co", "co matches users whose attribute contains the value", op, w,
			filterCase{`displayName co "Bet"`, []int{1}},
			filterCase{`name.familyName co "et"`, []int{0}}),
		fc("filter-sw", "sw matches users whose attribute starts with the value", op, w,
			filterCase{`userName sw "{pfx}"`, []int{0, 1, 2}},
			filterCase{`displayName sw "Ann"`, []int{0}}),
		fc("filter-ew", "ew matches users whose attribute ends with the value", op, w,
			filterCase{`userName ew "b@{dom}"`, []int{1}},
			filterCase{`displayName ew "Gamma"`, []int{2}}),
		fc("filter-pr", "pr matches users that have a non-empty value for the attribute (externalId), and no others", op, w,
			filterCase{`externalId pr`, []int{0, 1}}),
		fc("filter-gt", "gt on a string compares lexically: it matches values after the operand", op, w,
			filterCase{`userName gt "{u0}"`, []int{1, 2}},
			filterCase{`name.familyName gt "N"`, []int{0}}),
		fc("filter-ge", "ge on a string matches values equal to or after the operand", op, w,
			filterCase{`userName ge "{u1}"`, []int{1, 2}}),
		fc("filter-lt", "lt on a string matches values before the operand", op, w,
			filterCase{`userName lt "{u1}"`, []int{0}}),
		fc("filter-le", "le on a string matches values equal to or before the operand", op, w,
			filterCase{`userName le "{u1}"`, []int{0, 1}}),
		fc("filter-precedence", "filters follow the precedence grouping, not, and, or: and binds tighter than or, parentheses group, not negates its group", op+"; case S10", w,
			filterCase{`(name.familyName eq "Zeta" or name.familyName eq "Alpha") and active eq true`, []int{0}},
			filterCase{`name.familyName eq "Zeta" or name.familyName eq "Alpha" and active eq false`, []int{0, 1}},
			filterCase{`userName eq "{u0}" or userName eq "{u1}" and active eq false`, []int{0, 1}},
			filterCase{`not (active eq false)`, []int{0, 2}},
			filterCase{`not (name.familyName eq "Zeta" or active eq false)`, []int{2}}),
		fc("filter-value-path", `a value path emails[type eq "work" and value co "…"] matches only when one e-mail satisfies the whole inner filter`, op, w,
			filterCase{`emails[type eq "work" and value co "{pfx}a@"]`, []int{0}},
			filterCase{`emails[type eq "home"]`, []int{0}},
			filterCase{`emails[type eq "work" and value sw "h0."]`, nil}),
		fc("filter-value-path-subattr", `the filter Entra ID sends, emails[type eq "work"].value eq "…", matches the user with that work e-mail`, op+"; Entra ID", w,
			filterCase{`emails[type eq "work"].value eq "{u1}"`, []int{1}},
			filterCase{`emails[type eq "home"].value eq "{u1}"`, nil}),
		fc("filter-sub-attribute", "a sub-attribute path such as name.familyName filters on the sub-attribute", op+"; RFC 7644 §3.10", w,
			filterCase{`name.familyName eq "Alpha"`, []int{1}},
			filterCase{`name.givenName eq "Ann"`, []int{0}}),
		fc("filter-urn-attribute", "a URN-qualified attribute filters on the extension (enterprise department) or the core schema (name.familyName)", op+"; RFC 7644 §3.10", w,
			filterCase{schemaEnterprise + `:department eq "Sales"`, []int{0}},
			filterCase{schemaUser + `:name.familyName eq "Alpha"`, []int{1}}),
		{ID: "filter-meta-dates", Title: "meta.created and meta.lastModified compare as date-times (whatever the offset written), not as text", Ref: op + "; RFC 7643 §2.3.5, §3.1", Labels: w, Run: filterMetaDates},
		fc("filter-boolean", "active eq false and active eq true compare JSON booleans", op+"; RFC 7643 §2.3.2", w,
			filterCase{`active eq false`, []int{1}},
			filterCase{`active eq true`, []int{0, 2}}),
		fc("filter-case-insensitive", "attribute names and operators are case-insensitive, and so are values of caseExact=false attributes (userName, displayName, name.familyName)", op+"; RFC 7643 §2.1, §4.1.1", w,
			filterCase{`USERNAME eq "{U1}"`, []int{1}},
			filterCase{`userName EQ "{u0}"`, []int{0}},
			filterCase{`DisplayName Co "bEtA"`, []int{1}},
			filterCase{`name.FamilyName eq "ZETA"`, []int{0}}),
		fc("filter-escapes", `filter values are JSON strings: \" and \u00e9 escapes and raw UTF-8 (é) match the stored displayName`, op+"; RFC 7159 §7", w,
			filterCase{`displayName eq "Cé \"Q\" Gamma"`, []int{2}},
			filterCase{`displayName eq "C\u00e9 \"Q\" Gamma"`, []int{2}}),
		fc("filter-external-id", "externalId eq matches exactly, and case-sensitively (externalId is caseExact)", op+"; RFC 7643 §3.1; Entra ID", w,
			filterCase{`externalId eq "{extB}"`, []int{1}},
			filterCase{`externalId eq "{extBlower}"`, nil}),
		{ID: "filter-group-display-name", Title: `GET /Groups?filter=displayName eq "…" finds exactly the group with that name`, Ref: op + "; Entra ID", Labels: w, Run: filterGroupName},
		{ID: "filter-group-membership", Title: `id eq "<group>" and members[value eq "<user>"] with excludedAttributes=members finds the group only when the user is a member, without members`, Ref: op + ", §3.4.2.5; Entra ID", Labels: w, Run: filterMembership},
		{ID: "filter-invalid-syntax", Title: "a filter that does not parse is 400 invalidFilter, never an unfiltered list", Ref: op + ", §3.12; case S10", Labels: l, Run: invalidFilters(`userName eq "p1" and (`, `userName eq`, `members[display eq x,value eq y]`, `userName eq "unterminated`, `(userName eq "x"`)},
		{ID: "filter-invalid-operator", Title: "a filter with an unknown operator is 400 invalidFilter", Ref: op + ", §3.12", Labels: l, Run: invalidFilters(`userName zz "x"`, `userName like "x%"`, `userName == "x"`)},
		{ID: "filter-invalid-attribute", Title: "a filter naming an attribute the resource type does not define is 400 invalidFilter, never an unfiltered list", Ref: op + ", §3.12", Labels: l, Run: invalidFilters(`noSuchAttribute eq "x"`, `name.noSuch eq "x"`)},
	}
}

// filterCase is one filter and the fixture users (by index) it must find.
// In the filter, {pfx} stands for the fixture's userName prefix, {u0}…
// for the userNames, {U1} for userName 1 upper-cased, {dom} for the
// e-mail domain and {extB} for user 1's externalId.
type filterCase struct {
	filter string
	want   []int
}

// filterFixture is the three users each filter check creates.
type filterFixture struct {
	pfx     string
	ids     []string
	names   []string
	created []string // meta.created as the server returned it
	vars    *strings.Replacer
}

// newFilterFixture creates three users that differ in every attribute the
// filter checks use:
//
//	0  <pfx>a@…  "Ann Alpha"      externalId  family Zeta   active   department Sales  a home e-mail too
//	1  <pfx>b@…  "Bob Beta"       externalId  family Alpha  inactive department Support
//	2  <pfx>c@…  `Cé "Q" Gamma`   none        family Mu     active   no department
//
// Only core attributes are used (RFC 7643 §4.1), so that no filter check
// depends on an optional one.
//
// Only when enterprise is set do users 0 and 1 carry the Enterprise User
// extension, so that a server without it fails only the check about it.
func (t *Target) newFilterFixture(ctx context.Context, p *probe, enterprise bool) (*filterFixture, error) {
	tag := unique()
	fx := &filterFixture{pfx: prefix("flt")}
	type u struct{ display, given, family, dept string }
	users := []u{{"Ann Alpha", "Ann", "Zeta", "Sales"}, {"Bob Beta", "Bob", "Alpha", "Support"}, {`Cé "Q" Gamma`, "Cé", "Mu", ""}}
	for i, us := range users {
		name := fmt.Sprintf("%s%c@%s", fx.pfx, 'a'+i, t.domain())
		body := oktaUser(name, us.given, us.family)
		body["displayName"] = us.display
		body["externalId"] = fmt.Sprintf("Ext%s%c", tag, 'A'+i)
		if i == 2 {
			delete(body, "externalId")
		}
		body["active"] = i != 1
		if i == 0 {
			body["emails"] = []any{
				map[string]any{"primary": true, "value": name, "type": "work"},
				map[string]any{"value": "h0." + fx.pfx + "@home.example", "type": "home"},
			}
		}
		if enterprise && us.dept != "" {
			body["schemas"] = []string{schemaUser, schemaEnterprise}
			body[schemaEnterprise] = map[string]any{"department": us.dept}
		}
		x, err := t.send(ctx, "POST", "/Users", body)
		if err != nil {
			return nil, err
		}
		if !p.status(x, 201) {
			return nil, p.err()
		}
		fx.ids = append(fx.ids, str(get(x.JSON, "id")))
		fx.names = append(fx.names, name)
		fx.created = append(fx.created, str(get(x.JSON, "meta.created")))
	}
	fx.vars = strings.NewReplacer(
		"{pfx}", fx.pfx, "{dom}", t.domain(),
		"{u0}", fx.names[0], "{u1}", fx.names[1], "{u2}", fx.names[2], "{U1}", strings.ToUpper(fx.names[1]),
		"{extB}", "Ext"+tag+"B", "{extBlower}", strings.ToLower("Ext"+tag+"B"))
	return fx, nil
}

// name is the userName of the fixture user id, for messages.
func (fx *filterFixture) name(id string) string {
	if i := slices.Index(fx.ids, id); i >= 0 {
		return fx.names[i]
	}
	return id
}

// run checks that each filter finds exactly its users among the
// fixture's.
func (fx *filterFixture) run(ctx context.Context, t *Target, p *probe, cases []filterCase) error {
	for _, c := range cases {
		f := fx.vars.Replace(c.filter)
		want := []string{}
		for _, i := range c.want {
			want = append(want, fx.ids[i])
		}
		if err := t.expectOwn(ctx, p, "/Users", f, fx.ids, want, fx.name); err != nil {
			return err
		}
	}
	return nil
}

func runFilterCases(ctx context.Context, t *Target, cases []filterCase) error {
	p := newProbe(ctx)
	enterprise := slices.ContainsFunc(cases, func(c filterCase) bool { return strings.Contains(c.filter, schemaEnterprise) })
	fx, err := t.newFilterFixture(ctx, p, enterprise)
	if err != nil {
		return err
	}
	if err := fx.run(ctx, t, p, cases); err != nil {
		return err
	}
	return p.err()
}

func filterMetaDates(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	fx, err := t.newFilterFixture(ctx, p, false)
	if err != nil {
		return err
	}
	created, err := time.Parse(time.RFC3339Nano, fx.created[0])
	if err != nil {
		p.failf(nil, "meta.created of a new user is %q, want an xsd:dateTime (RFC 7643 §2.3.5)", fx.created[0])
		return p.err()
	}
	// The same instants written with offsets: compared as text, these
	// would give the opposite answers.
	before := created.Add(-time.Hour).In(time.FixedZone("", 5*3600)).Format(time.RFC3339)
	after := created.Add(time.Hour).In(time.FixedZone("", -5*3600)).Format(time.RFC3339)
	all := []int{0, 1, 2}
	cases := []filterCase{
		{`meta.created gt "` + before + `"`, all},
		{`meta.created lt "` + after + `"`, all},
		{`meta.created lt "` + before + `"`, nil},
		{`meta.lastModified ge "2000-01-01T00:00:00Z"`, all},
		{`meta.lastModified lt "2000-01-01T00:00:00Z"`, nil},
	}
	if err := fx.run(ctx, t, p, cases); err != nil {
		return err
	}
	return p.err()
}

func filterGroupName(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	tag := unique()
	ids, err := t.createAll(ctx, p, "/Groups", []map[string]any{
		{"schemas": []string{schemaGroup}, "displayName": "Grp " + tag + " Ops"},
		{"schemas": []string{schemaGroup}, "displayName": "Grp " + tag + " Ops Two"},
	})
	if err != nil {
		return err
	}
	f := `displayName eq "Grp ` + tag + ` Ops"`
	if err := t.expectIDs(ctx, p, "filter "+f, filterPath("/Groups", f, ""), ids[:1]); err != nil {
		return err
	}
	return p.err()
}

func filterMembership(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	member, _, err := t.createUser(ctx, p, "mbr")
	if err != nil {
		return err
	}
	other, _, err := t.createUser(ctx, p, "mbr")
	if err != nil {
		return err
	}
	g, err := t.createGroup(ctx, p, "Members "+unique(), member)
	if err != nil {
		return err
	}
	for _, c := range []struct {
		user string
		want []string
	}{{member, []string{g}}, {other, []string{}}} {
		f := `id eq "` + g + `" and members[value eq "` + c.user + `"]`
		x, total, rs, ok, err := t.list(ctx, p, filterPath("/Groups", f, "excludedAttributes=members"))
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if got := idsOf(rs); total != len(c.want) || !sameSet(c.want, got) {
			p.failf(x, "filter %s: got totalResults %d and ids %v, want %v", f, total, got, c.want)
		}
		for _, r := range rs {
			if has(r, "members") {
				p.failf(within(x, r), "excludedAttributes=members, but the group carries members (RFC 7644 §3.4.2.5)")
			}
		}
	}
	return p.err()
}

// invalidFilters returns a check that each filter is refused with 400
// invalidFilter.
func invalidFilters(filters ...string) func(context.Context, *Target) error {
	return func(ctx context.Context, t *Target) error {
		p := newProbe(ctx)
		for _, f := range filters {
			x, err := t.send(ctx, "GET", "/Users?filter="+url.QueryEscape(f), nil)
			if err != nil {
				return err
			}
			if x.Status == 200 {
				p.failf(x, "filter %s was answered with a list; want 400 invalidFilter (an unfiltered list would expose every user)", f)
				continue
			}
			if p.status(x, 400) {
				p.errorResponse(x, "invalidFilter")
			}
		}
		return p.err()
	}
}
