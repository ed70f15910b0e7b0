package check

import (
	"context"
	"slices"
	"strings"
)

// patchChecks returns the checks labelled "patch": the PATCH rules of
// RFC 7644 §3.5.2 (add §3.5.2.1, remove §3.5.2.2, replace §3.5.2.3),
// exercised on users the checks create.
func patchChecks() []Check {
	l := []string{"patch", "rfc7644", "writes"}
	return []Check{
		{ID: "patch-add-path", Title: "add with a path sets a simple attribute, a sub-attribute (name.givenName) and appends a value to a multi-valued attribute (emails)", Ref: "RFC 7644 §3.5.2.1", Labels: l, Run: patchAddPath},
		{ID: "patch-replace-path", Title: "replace with a path replaces a simple attribute (displayName), one sub-attribute (others kept) and every value of a multi-valued attribute", Ref: "RFC 7644 §3.5.2.3", Labels: l, Run: patchReplacePath},
		{ID: "patch-remove-path", Title: "remove with a path removes a simple attribute (externalId), one sub-attribute (others kept) and a whole multi-valued attribute", Ref: "RFC 7644 §3.5.2.2", Labels: l, Run: patchRemovePath},
		{ID: "patch-remove-no-path", Title: "remove without a path is 400 noTarget, and nothing changes", Ref: "RFC 7644 §3.5.2.2", Labels: l, Run: patchRemoveNoPath},
		{ID: "patch-pathless", Title: "add and replace without a path take a value object (externalId; displayName and name.givenName); sub-attributes of a complex attribute that the value leaves out are kept (name.familyName)", Ref: "RFC 7644 §3.5.2.1, §3.5.2.3", Labels: l, Run: patchPathless},
		{ID: "patch-pathless-attribute-paths", Title: "a path-less value's keys may be attribute paths: dotted (name.givenName) and URN-qualified extension attributes, which add the extension to schemas", Ref: "RFC 7644 §3.5.2, §3.10; RFC 7643 §3; Entra ID", Labels: append(slices.Clone(l), "entra"), Run: patchPathlessAttributePaths},
		{ID: "patch-value-path-sub", Title: `replace on emails[type eq "work"].value changes only that sub-attribute of only the matching value`, Ref: "RFC 7644 §3.5.2.3", Labels: l, Run: patchValuePathSub},
		{ID: "patch-value-path-whole", Title: `replace on emails[type eq "work"] replaces the whole matching value; the other values stay`, Ref: "RFC 7644 §3.5.2.3", Labels: l, Run: patchValuePathWhole},
		{ID: "entra-value-path-add-creates", Title: `add on a value path that matches nothing (emails[type eq "home"].value) creates the value {type: home, value}: Entra ID sends it to add an address (RFC 7644 Table 9 also lets a server answer 400 noTarget)`, Ref: "Entra ID; RFC 7644 §3.5.2.1, §3.12 Table 9", Labels: []string{"entra", "writes"}, Run: patchValuePathAddCreates},
		{ID: "patch-value-path-replace-notarget", Title: "replace on a value path that matches nothing is 400 noTarget, and nothing changes", Ref: "RFC 7644 §3.5.2.3, §3.12", Labels: l, Run: patchReplaceNoTarget},
		{ID: "patch-value-path-remove-nomatch", Title: "remove on a value path that matches nothing changes nothing: 200/204, or 400 noTarget (§3.12 allows it; §3.5.2.2 does not require it)", Ref: "RFC 7644 §3.5.2.2, §3.12", Labels: l, Run: patchRemoveNoMatch},
		{ID: "patch-primary-unique", Title: "adding an email with primary true makes the former primary email non-primary: at most one primary value", Ref: "RFC 7644 §3.5.2; RFC 7643 §2.4", Labels: l, Run: patchPrimaryUnique},
		{ID: "patch-ordered", Title: "operations apply in order: add then replace of one attribute keeps the replace; add then remove leaves it absent", Ref: "RFC 7644 §3.5.2", Labels: l, Run: patchOrdered},
		{ID: "patch-atomic", Title: "a PATCH whose last operation fails is 400 and leaves the earlier ones unapplied, meta.version unchanged", Ref: "RFC 7644 §3.5.2 (a PATCH request is atomic)", Labels: l, Run: patchAtomic},
		{ID: "patch-invalid-path", Title: "a path that does not parse is 400 invalidPath; a path naming an unknown attribute is 400 invalidPath or noTarget", Ref: "RFC 7644 §3.5.2, §3.12", Labels: l, Run: patchInvalidPath},
		{ID: "patch-readonly", Title: "writing a readOnly attribute (id to another value, meta.created, a user's groups) is 400 mutability and changes nothing", Ref: "RFC 7644 §3.5.2, §3.12; RFC 7643 §2.2, §3.1, §4.1.2", Labels: l, Run: patchReadOnly},
		{ID: "patch-wrong-type", Title: "a value of the wrong type (a number for active, a boolean for userName, a string for name) is 400 invalidValue", Ref: "RFC 7644 §3.5.2, §3.12; RFC 7643 §2.3", Labels: l, Run: patchWrongType},
		{ID: "patch-unknown-op", Title: "an op other than add, remove or replace, or a missing op, is 400 invalidSyntax or invalidValue", Ref: "RFC 7644 §3.5.2, §3.12", Labels: l, Run: patchUnknownOp},
		{ID: "patch-empty-operations", Title: "a PatchOp with an empty or missing Operations array is 400", Ref: "RFC 7644 §3.5.2 (one or more operations)", Labels: l, Run: patchEmptyOps},
		{ID: "patch-response", Title: "a successful PATCH answers 200 with the whole updated resource, or 204 with no body", Ref: "RFC 7644 §3.5.2", Labels: l, Run: patchResponseCheck},
	}
}

// patchFixture is the user a patch check works on.
type patchFixture struct {
	path     string // /Users/{id}
	userName string // also its primary work address
	home     string // its home address, when asked for
}

// patchUser creates a user with a work (primary) email, and with a home
// email when withHome is set. It uses only core attributes (RFC 7643
// §4.1), so that no patch check depends on an optional one.
func (t *Target) patchUser(ctx context.Context, p *probe, withHome bool) (patchFixture, error) {
	u := patchFixture{userName: t.userName("patch")}
	body := oktaUser(u.userName, "Alice", "Example")
	if withHome {
		u.home = "home." + unique() + "@example.net"
		body["emails"] = []any{
			map[string]any{"primary": true, "value": u.userName, "type": "work"},
			map[string]any{"value": u.home, "type": "home"},
		}
	}
	id, _, err := t.createUserWith(ctx, p, body)
	if err != nil {
		return u, err
	}
	u.path = "/Users/" + id
	return u, nil
}

// patchedUser creates a patchUser, sends each of ops in its own PATCH
// (checked as patchOK checks it), and reads the user back. The error is
// the probe's when the user could not be created or read back, so that
// the check can return it as it is; with no ops, the read-back is the
// user as created.
func (t *Target) patchedUser(ctx context.Context, p *probe, withHome bool, ops ...map[string]any) (*Exchange, patchFixture, error) {
	u, err := t.patchUser(ctx, p, withHome)
	if err != nil {
		return nil, u, err
	}
	for _, op := range ops {
		if _, _, err := t.patchOK(ctx, p, u.path, op); err != nil {
			return nil, u, err
		}
	}
	g, ok, err := t.fetch(ctx, p, u.path)
	if err != nil || !ok {
		return nil, u, firstErr(err, p)
	}
	return g, u, nil
}

// emailsAre checks the emails of the read-back g (as emailsOf renders
// them); why follows the failure's "emails are …, want …".
func (p *probe) emailsAre(g *Exchange, why string, want ...string) {
	if got := emailsOf(g.JSON); !slices.Equal(got, want) {
		p.failf(g, "emails are %v, want %v"+why, got, want)
	}
}

// refusesEach sends each of ops in its own PATCH to path; each must be
// refused with 400 and one of scimTypes (see patchFails), and why(op)
// names it in the failure.
func (t *Target) refusesEach(ctx context.Context, p *probe, path string, scimTypes []string, why func(op map[string]any) string, ops ...map[string]any) error {
	for _, op := range ops {
		if err := t.patchFails(ctx, p, path, why(op), scimTypes, op); err != nil {
			return err
		}
	}
	return nil
}

func patchAddPath(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	other := "other." + unique() + "@example.net"
	g, u, err := t.patchedUser(ctx, p, false,
		map[string]any{"op": "add", "path": "displayName", "value": "Alice Added"},
		map[string]any{"op": "add", "path": "name.givenName", "value": "Bea"},
		map[string]any{"op": "add", "path": "emails", "value": []any{map[string]any{"type": "other", "value": other}}},
	)
	if err != nil {
		return err
	}
	p.equal(g, "displayName", "Alice Added")
	p.equal(g, "name.givenName", "Bea")
	p.equal(g, "name.familyName", "Example")
	p.emailsAre(g, ": add to a multi-valued attribute appends (RFC 7644 §3.5.2.1)", "other="+other, "work="+u.userName+"*")
	return p.err()
}

func patchReplacePath(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	other := "other." + unique() + "@example.net"
	g, _, err := t.patchedUser(ctx, p, true,
		map[string]any{"op": "replace", "path": "displayName", "value": "Cleo Replaced"},
		map[string]any{"op": "replace", "path": "name.givenName", "value": "Cleo"},
		map[string]any{"op": "replace", "path": "emails", "value": []any{map[string]any{"type": "other", "value": other, "primary": true}}},
	)
	if err != nil {
		return err
	}
	p.equal(g, "displayName", "Cleo Replaced")
	p.equal(g, "name.givenName", "Cleo")
	p.equal(g, "name.familyName", "Example")
	p.emailsAre(g, ": replace without a filter replaces every value (RFC 7644 §3.5.2.3)", "other="+other+"*")
	return p.err()
}

func patchRemovePath(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	g, _, err := t.patchedUser(ctx, p, true,
		map[string]any{"op": "remove", "path": "externalId"},
		map[string]any{"op": "remove", "path": "name.givenName"},
		map[string]any{"op": "remove", "path": "emails"},
	)
	if err != nil {
		return err
	}
	for _, a := range []string{"externalId", "name.givenName"} {
		if v := get(g.JSON, a); v != nil {
			p.failf(g, "%s is %s after remove, want it absent", a, show(v))
		}
	}
	p.equal(g, "name.familyName", "Example")
	if l, _ := get(g.JSON, "emails").([]any); len(l) > 0 || (get(g.JSON, "emails") != nil && l == nil) {
		p.failf(g, "emails is %s after remove, want it unassigned (RFC 7644 §3.5.2.2)", show(get(g.JSON, "emails")))
	}
	return p.err()
}

func patchRemoveNoPath(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	before, u, err := t.patchedUser(ctx, p, false)
	if err != nil || before == nil {
		return firstErr(err, p)
	}
	if err := t.patchFails(ctx, p, u.path, "remove without a path", []string{"noTarget"}, map[string]any{"op": "remove"}); err != nil {
		return err
	}
	return firstErr(t.unchanged(ctx, p, u.path, before, "after a refused remove without a path", "userName", "displayName", "name.givenName", "emails", "meta.version"), p)
}

func patchPathless(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	ext := "pathless-" + unique()
	g, _, err := t.patchedUser(ctx, p, false,
		map[string]any{"op": "add", "value": map[string]any{"externalId": ext}},
		map[string]any{"op": "replace", "value": map[string]any{"displayName": "Alicia Replaced", "name": map[string]any{"givenName": "Alicia"}}},
	)
	if err != nil {
		return err
	}
	p.equal(g, "externalId", ext)
	p.equal(g, "displayName", "Alicia Replaced")
	p.equal(g, "name.givenName", "Alicia")
	if got := get(g.JSON, "name.familyName"); got != "Example" {
		p.failf(g, "name.familyName is %s, want \"Example\": sub-attributes the value leaves out are unchanged (RFC 7644 §3.5.2.3)", show(got))
	}
	return p.err()
}

func patchPathlessAttributePaths(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	number := "E-" + unique()
	g, _, err := t.patchedUser(ctx, p, false, map[string]any{"op": "replace", "value": map[string]any{
		"name.givenName":                     "Dotty",
		schemaEnterprise + ":employeeNumber": number,
		schemaEnterprise + ":department":     "R&D",
	}})
	if err != nil {
		return err
	}
	p.equal(g, "name.givenName", "Dotty")
	p.equal(g, "name.familyName", "Example")
	if v := ext(g.JSON, schemaEnterprise, "employeeNumber"); v != number {
		p.failf(g, "%s.employeeNumber is %s, want %q", schemaEnterprise, show(v), number)
	}
	if v := ext(g.JSON, schemaEnterprise, "department"); v != "R&D" {
		p.failf(g, "%s.department is %s, want \"R&D\"", schemaEnterprise, show(v))
	}
	if !hasSchema(g.JSON, schemaEnterprise) {
		p.failf(g, "schemas lacks %s although the user now has its attributes (RFC 7643 §3)", schemaEnterprise)
	}
	for k := range asMap(g.JSON) {
		if strings.Contains(k, ".") && !strings.HasPrefix(strings.ToLower(k), "urn:") {
			p.failf(g, "the resource has a key %q: a dotted key is a path, not an attribute name", k)
		}
	}
	return p.err()
}

func patchValuePathSub(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	work := "new.work." + unique() + "@example.com"
	g, u, err := t.patchedUser(ctx, p, true, map[string]any{"op": "replace", "path": `emails[type eq "work"].value`, "value": work})
	if err != nil {
		return err
	}
	p.emailsAre(g, ": only the work value's value changes, primary kept", "home="+u.home, "work="+work+"*")
	return p.err()
}

func patchValuePathWhole(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	work := "whole.work." + unique() + "@example.com"
	g, u, err := t.patchedUser(ctx, p, true, map[string]any{"op": "replace", "path": `emails[type eq "work"]`, "value": map[string]any{"type": "work", "value": work}})
	if err != nil {
		return err
	}
	p.emailsAre(g, ": the matching value is replaced as a whole (its primary goes with it), the home value stays", "home="+u.home, "work="+work)
	return p.err()
}

func patchValuePathAddCreates(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	home := "created.home." + unique() + "@example.net"
	g, u, err := t.patchedUser(ctx, p, false, map[string]any{"op": "add", "path": `emails[type eq "home"].value`, "value": home})
	if err != nil {
		return err
	}
	p.emailsAre(g, "", "home="+home, "work="+u.userName+"*")
	return p.err()
}

func patchReplaceNoTarget(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	before, u, err := t.patchedUser(ctx, p, false)
	if err != nil {
		return err
	}
	if err := t.patchFails(ctx, p, u.path, "replace on a value path that matches nothing", []string{"noTarget"},
		map[string]any{"op": "replace", "path": `emails[type eq "home"].value`, "value": "nobody." + unique() + "@example.net"}); err != nil {
		return err
	}
	return firstErr(t.unchanged(ctx, p, u.path, before, "after a refused replace", "emails", "meta.version"), p)
}

func patchRemoveNoMatch(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	before, u, err := t.patchedUser(ctx, p, true)
	if err != nil {
		return err
	}
	x, err := t.patch(ctx, u.path, map[string]any{"op": "remove", "path": `emails[type eq "other"]`})
	if err != nil {
		return err
	}
	switch x.Status {
	case 200, 204:
		p.patchResponse(x, u.path)
	case 400:
		p.errorResponse(x, "noTarget")
	default:
		p.failf(x, "status %d, want 200, 204 or 400 noTarget", x.Status)
	}
	return firstErr(t.unchanged(ctx, p, u.path, before, "a remove that matches nothing", "emails"), p)
}

func patchPrimaryUnique(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	home := "primary.home." + unique() + "@example.net"
	g, u, err := t.patchedUser(ctx, p, false, map[string]any{"op": "add", "path": "emails", "value": []any{map[string]any{"type": "home", "value": home, "primary": true}}})
	if err != nil {
		return err
	}
	p.emailsAre(g, " (* marks primary): the new primary value takes over", "home="+home+"*", "work="+u.userName)
	return p.err()
}

func patchOrdered(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	u, err := t.patchUser(ctx, p, false)
	if err != nil {
		return err
	}
	// displayName and name.givenName are core attributes every server
	// has, so the check tests the order, not optional attributes.
	if _, _, err := t.patchOK(ctx, p, u.path,
		map[string]any{"op": "add", "path": "displayName", "value": "First"},
		map[string]any{"op": "replace", "path": "displayName", "value": "Second"},
		map[string]any{"op": "add", "path": "name.givenName", "value": "Temporary"},
		map[string]any{"op": "remove", "path": "name.givenName"},
	); err != nil {
		return err
	}
	g, ok, err := t.fetch(ctx, p, u.path)
	if err != nil || !ok {
		return firstErr(err, p)
	}
	p.equal(g, "displayName", "Second")
	if v := get(g.JSON, "name.givenName"); v != nil {
		p.failf(g, "name.givenName is %s, want it absent: the remove came after the add", show(v))
	}
	return p.err()
}

func patchAtomic(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	before, u, err := t.patchedUser(ctx, p, false)
	if err != nil {
		return err
	}
	for _, bad := range []map[string]any{
		{"op": "replace", "path": "active", "value": 42},
		{"op": "replace", "path": `emails[type eq "nowhere"].value`, "value": "x@example.com"},
	} {
		if err := t.patchFails(ctx, p, u.path, "the second operation is invalid", nil,
			map[string]any{"op": "replace", "path": "displayName", "value": "Atomic " + unique()},
			map[string]any{"op": "add", "path": "externalId", "value": "changed-" + unique()},
			bad); err != nil {
			return err
		}
		if err := t.unchanged(ctx, p, u.path, before, "a failed PATCH must change nothing (RFC 7644 §3.5.2)", "displayName", "externalId", "meta.version"); err != nil {
			return err
		}
	}
	return p.err()
}

func patchInvalidPath(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	u, err := t.patchUser(ctx, p, false)
	if err != nil {
		return err
	}
	replace := func(paths ...string) []map[string]any {
		var ops []map[string]any
		for _, path := range paths {
			ops = append(ops, map[string]any{"op": "replace", "path": path, "value": "x"})
		}
		return ops
	}
	why := func(op map[string]any) string { return "path " + str(op["path"]) }
	if err := t.refusesEach(ctx, p, u.path, []string{"invalidPath"}, why, replace(`emails[type eq "work"`, `emails[type eq]`, `name..givenName`)...); err != nil {
		return err
	}
	return firstErr(t.refusesEach(ctx, p, u.path, []string{"invalidPath", "noTarget"}, why, replace(`noSuchAttribute`, `name.noSuchSubAttribute`)...), p)
}

func patchReadOnly(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	before, u, err := t.patchedUser(ctx, p, false)
	if err != nil {
		return err
	}
	other := "00000000-0000-4000-8000-" + unique() + "00"
	for _, c := range []struct {
		why string
		op  map[string]any
	}{
		{"replace id", map[string]any{"op": "replace", "path": "id", "value": other}},
		{"path-less replace of id", map[string]any{"op": "replace", "value": map[string]any{"id": other}}},
		{"replace meta.created", map[string]any{"op": "replace", "path": "meta.created", "value": "2001-01-01T00:00:00Z"}},
		{"add groups", map[string]any{"op": "add", "path": "groups", "value": []any{map[string]any{"value": other}}}},
	} {
		if err := t.patchFails(ctx, p, u.path, c.why, []string{"mutability"}, c.op); err != nil {
			return err
		}
	}
	return firstErr(t.unchanged(ctx, p, u.path, before, "after refused writes of readOnly attributes", "id", "meta.created", "groups", "meta.version"), p)
}

func patchWrongType(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	u, err := t.patchUser(ctx, p, false)
	if err != nil {
		return err
	}
	return firstErr(t.refusesEach(ctx, p, u.path, []string{"invalidValue"},
		func(op map[string]any) string { return "a value of the wrong type " + jsonString(op) },
		map[string]any{"op": "replace", "path": "active", "value": 42},
		map[string]any{"op": "replace", "path": "userName", "value": true},
		map[string]any{"op": "replace", "path": "name", "value": "Alice Example"},
		map[string]any{"op": "replace", "value": map[string]any{"active": []any{"yes"}}},
	), p)
}

func patchUnknownOp(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	u, err := t.patchUser(ctx, p, false)
	if err != nil {
		return err
	}
	return firstErr(t.refusesEach(ctx, p, u.path, []string{"invalidSyntax", "invalidValue"},
		func(op map[string]any) string { return "op " + show(op["op"]) },
		map[string]any{"op": "frobnicate", "path": "displayName", "value": "x"},
		map[string]any{"op": "move", "path": "displayName", "value": "x"},
		map[string]any{"path": "displayName", "value": "x"},
	), p)
}

func patchEmptyOps(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	u, err := t.patchUser(ctx, p, false)
	if err != nil {
		return err
	}
	for _, body := range []map[string]any{
		{"schemas": []string{schemaPatchOp}, "Operations": []any{}},
		{"schemas": []string{schemaPatchOp}},
	} {
		x, err := t.send(ctx, "PATCH", u.path, body)
		if err != nil {
			return err
		}
		if p.status(x, 400) {
			p.errorResponse(x, "")
		}
	}
	return p.err()
}

func patchResponseCheck(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	u, err := t.patchUser(ctx, p, false)
	if err != nil {
		return err
	}
	name := "Response " + unique()
	x, ok, err := t.patchOK(ctx, p, u.path, map[string]any{"op": "replace", "path": "displayName", "value": name})
	if err != nil {
		return err
	}
	if ok && x.Status == 200 {
		p.equal(x, "displayName", name)
		p.equal(x, "userName", u.userName)
		p.equal(x, "name.familyName", "Example")
	}
	return p.err()
}
