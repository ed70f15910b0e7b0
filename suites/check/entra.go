package check

import (
	"context"
	"encoding/json"
	"strings"
)

// entra returns checks for the SCIM dialect Microsoft Entra ID sends: a
// server that Okta and Entra can both use must accept it.
func entra() []Check {
	l := []string{"entra", "writes"}
	return []Check{
		{ID: "entra-capitalised-ops", Title: "PATCH op names are matched case-insensitively: Entra's Add, Replace (also of active with \"False\") and Remove on a user are applied", Ref: "RFC 7644 §3.5.2; Entra ID; case S06", Labels: l, Run: entraOps},
		{ID: "entra-string-boolean", Title: `"active": "False" as a string deactivates and is stored as JSON false; a non-boolean string is 400 invalidValue`, Ref: "Entra ID; RFC 7643 §2.3.2; case S07", Labels: l, Run: entraStringBoolean},
		{ID: "entra-remove-listed-members", Title: "remove on members with a value list removes only the listed members", Ref: "Entra ID; RFC 7644 §3.5.2.2; case S08", Labels: l, Run: entraRemoveMembers},
		{ID: "entra-capitalised-ops-groups", Title: "on groups too, Entra's Add and Remove of members (by value path and by value list) and Replace of displayName are accepted and applied", Ref: "RFC 7644 §3.5.2; Entra ID", Labels: l, Run: entraGroupOps},
		{ID: "entra-string-boolean-post", Title: `POST with "active": "True" stores JSON true; a path-less replace {"active": "False"} stores false; "True" for a string attribute stays the string "True"`, Ref: "Entra ID; RFC 7643 §2.3.2", Labels: l, Run: entraStringBooleanPost},
		{ID: "entra-pathless-replace", Title: "Entra's path-less Replace whose keys are displayName, name.givenName, name.familyName and enterprise URN-qualified attributes updates each of them", Ref: "Entra ID; RFC 7644 §3.5.2.3", Labels: l, Run: entraPathlessReplace},
		{ID: "entra-remove-members-value-list", Title: `{"op":"remove","path":"members","value":[{"value":…}]} removes only the listed members; naming a non-member removes nobody, and the group never empties (Entra's capitalised Remove is entra-capitalised-ops-groups')`, Ref: "Entra ID; RFC 7644 §3.5.2.2", Labels: l, Run: entraRemoveValueList},
		{ID: "entra-filter-externalid", Title: `GET /Users?filter=externalId eq "…" finds exactly the user with that externalId`, Ref: "Entra ID; RFC 7644 §3.4.2.2", Labels: l, Run: entraFilterExternalID},
		{ID: "entra-filter-work-email", Title: `GET /Users?filter=emails[type eq "work"].value eq "…" finds exactly the user with that work address`, Ref: "Entra ID; RFC 7644 §3.4.2.2", Labels: l, Run: entraFilterWorkEmail},
		{ID: "entra-filter-group-displayname", Title: `GET /Groups?excludedAttributes=members&filter=displayName eq "…" finds exactly the group, without its members`, Ref: "Entra ID; RFC 7644 §3.4.2.2, §3.9", Labels: l, Run: entraFilterGroupName},
		{ID: "entra-filter-group-member", Title: `GET /Groups?filter=id eq "<g>" and members[value eq "<u>"]&excludedAttributes=members finds the group for a member and nothing for a non-member`, Ref: "Entra ID; RFC 7644 §3.4.2.2, §3.9", Labels: l, Run: entraFilterGroupMember},
		{ID: "entra-group-patch-status", Title: "a group PATCH answers 204 No Content (what Entra expects) or 200 with the whole group", Ref: "Entra ID; RFC 7644 §3.5.2", Labels: l, Run: entraGroupPatchStatus},
		{ID: "entra-zero-results", Title: `a filter that matches nothing answers 200 application/scim+json {"totalResults":0,"Resources":[]} with Resources present and empty`, Ref: "Entra ID (stricter than RFC 7644 §3.4.2)", Labels: []string{"entra"}, Run: entraZeroResults},
		{ID: "entra-put-unknown-attributes", Title: "a PUT carrying attributes the server does not know answers 200 and ignores them", Ref: "Entra ID", Labels: l, Run: entraPutUnknown},
		{ID: "entra-members-bare-strings", Title: `members given as bare id strings (["<id>"]) in POST and PATCH are taken as {"value": "<id>"} (idpkit's tolerance, not RFC)`, Ref: "idpkit tolerance for Entra ID and hand-written clients; RFC 7643 §4.2 wants objects", Labels: []string{"entra", "writes", "strict"}, Run: entraBareMembers},
	}
}

func entraOps(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	id, _, err := t.createUser(ctx, p, "ops")
	if err != nil {
		return err
	}
	// Entra's capitalised shapes on core attributes; the other entra
	// checks send lowercase ops, so that a server failing only this rule
	// fails only the capitalised-ops checks.
	steps := []map[string]any{
		{"op": "Replace", "path": "displayName", "value": "Dave Example"},
		{"op": "Add", "path": "externalId", "value": "ops-" + id},
		{"op": "Replace", "path": "active", "value": "False"},
	}
	for _, op := range steps {
		x, err := t.patch(ctx, "/Users/"+id, op)
		if err != nil {
			return err
		}
		p.status(x, 200, 204)
	}
	g, ok, err := t.fetch(ctx, p, "/Users/"+id)
	if err != nil {
		return err
	}
	if ok {
		p.equal(g, "displayName", "Dave Example")
		p.equal(g, "externalId", "ops-"+id)
		if v, ok := get(g.JSON, "active").(bool); !ok || v {
			p.failf(g, `active is %s after {"op":"Replace","path":"active","value":"False"}, want false`, show(get(g.JSON, "active")))
		}
	}
	x, err := t.patch(ctx, "/Users/"+id, map[string]any{"op": "Remove", "path": "externalId"})
	if err != nil {
		return err
	}
	p.status(x, 200, 204)
	g, err = t.send(ctx, "GET", "/Users/"+id, nil)
	if err != nil {
		return err
	}
	if p.status(g, 200) && get(g.JSON, "externalId") != nil {
		p.failf(g, "externalId is still there after Remove")
	}
	return p.err()
}

func entraStringBoolean(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	id, _, err := t.createUser(ctx, p, "bool")
	if err != nil {
		return err
	}
	x, err := t.patch(ctx, "/Users/"+id, map[string]any{"op": "replace", "path": "active", "value": "False"})
	if err != nil {
		return err
	}
	p.status(x, 200, 204)
	g, ok, err := t.fetch(ctx, p, "/Users/"+id)
	if err != nil {
		return err
	}
	if ok {
		if v, ok := get(g.JSON, "active").(bool); !ok || v {
			p.failf(g, "active is %s, want the JSON boolean false", show(get(g.JSON, "active")))
		}
	}
	x, err = t.patch(ctx, "/Users/"+id, map[string]any{"op": "replace", "path": "active", "value": "nope"})
	if err != nil {
		return err
	}
	if p.status(x, 400) {
		// A value of the wrong type: invalidValue, or invalidSyntax for a
		// server that checks types while it parses (RFC 7644 §3.12).
		p.errorResponseOneOf(x, "invalidValue", "invalidSyntax")
	}
	return p.err()
}

func entraRemoveMembers(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	name := "Entra Team " + unique()
	ids, gid, err := t.createTeam(ctx, p, "mem", 3, name)
	if err != nil {
		return err
	}
	x, err := t.patch(ctx, "/Groups/"+gid, map[string]any{"op": "remove", "path": "members", "value": []any{map[string]any{"value": ids[1], "$ref": nil}}})
	if err != nil {
		return err
	}
	if p.status(x, 200, 204) {
		p.groupMembers(ctx, t, gid, name, ids[0], ids[2])
	}
	return p.err()
}

// entraPatch is patchOK with the Content-Type Entra sends.
func (t *Target) entraPatch(ctx context.Context, p *probe, path string, ops ...map[string]any) (*Exchange, bool, error) {
	return t.patchChecked(ctx, p, path, []reqOption{withContentType("application/scim+json")}, ops)
}

// entraID returns an id in the shape Entra uses for externalId (a GUID).
func entraID() string {
	u := unique() + unique() + unique() + "00"
	return u[:8] + "-" + u[8:12] + "-4" + u[13:16] + "-8" + u[17:20] + "-" + u[20:32]
}

// entraUser is the body Entra ID sends for a new user, with active as the
// string "True" as its default mapping sends it.
func entraUser(userName string) map[string]any {
	return map[string]any{
		"schemas":    []string{schemaUser, schemaEnterprise},
		"externalId": entraID(),
		"userName":   userName,
		"active":     "True",
		"emails":     []any{map[string]any{"primary": true, "type": "work", "value": userName}},
		"meta":       map[string]any{"resourceType": "User"},
		"name":       map[string]any{"formatted": "Erin Example", "familyName": "Example", "givenName": "Erin"},
		"roles":      []any{},
	}
}

func entraGroupOps(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	ids, err := t.createUsers(ctx, p, "egops", 3)
	if err != nil {
		return err
	}
	a, b, c := ids[0], ids[1], ids[2]
	name := "Entra Ops " + unique()
	gid, err := t.createGroup(ctx, p, name, a)
	if err != nil {
		return err
	}
	path := "/Groups/" + gid
	if _, ok, err := t.entraPatch(ctx, p, path, map[string]any{"op": "Add", "path": "members", "value": []any{map[string]any{"$ref": nil, "value": b}}}); err != nil || !ok {
		return firstErr(err, p)
	}
	p.groupMembers(ctx, t, gid, name, a, b)
	if _, ok, err := t.entraPatch(ctx, p, path, map[string]any{"op": "Remove", "path": `members[value eq "` + a + `"]`}); err != nil || !ok {
		return firstErr(err, p)
	}
	p.groupMembers(ctx, t, gid, name, b)
	if _, ok, err := t.entraPatch(ctx, p, path, map[string]any{"op": "Replace", "path": "displayName", "value": name + " renamed"}); err != nil || !ok {
		return firstErr(err, p)
	}
	p.groupMembers(ctx, t, gid, name+" renamed", b)
	if _, ok, err := t.entraPatch(ctx, p, path, map[string]any{"op": "Add", "path": "members", "value": []any{map[string]any{"$ref": nil, "value": c}}}); err != nil || !ok {
		return firstErr(err, p)
	}
	if _, ok, err := t.entraPatch(ctx, p, path, map[string]any{"op": "Remove", "path": "members", "value": []any{map[string]any{"value": b}}}); err != nil || !ok {
		return firstErr(err, p)
	}
	p.groupMembers(ctx, t, gid, name+" renamed", c)
	return p.err()
}

func entraStringBooleanPost(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	body := entraUser(t.userName("etrue"))
	body["displayName"] = "True"
	x, ok, err := t.post(ctx, p, "/Users", body, withContentType("application/scim+json"))
	if err != nil || !ok {
		return firstErr(err, p)
	}
	id := str(get(x.JSON, "id"))
	path := "/Users/" + id
	if v, ok := get(x.JSON, "active").(bool); !ok || !v {
		p.failf(x, `active is %s, want the JSON boolean true for "True"`, show(get(x.JSON, "active")))
	}
	g, ok, err := t.fetch(ctx, p, path)
	if err != nil || !ok {
		return firstErr(err, p)
	}
	if v, ok := get(g.JSON, "active").(bool); !ok || !v {
		p.failf(g, `active is %s, want the JSON boolean true for "True"`, show(get(g.JSON, "active")))
	}
	if v, ok := get(g.JSON, "displayName").(string); !ok || v != "True" {
		p.failf(g, `displayName is %s, want the string "True": only boolean attributes read "True" as true`, show(get(g.JSON, "displayName")))
	}
	if _, ok, err := t.entraPatch(ctx, p, path, map[string]any{"op": "replace", "value": map[string]any{"active": "False"}}); err != nil || !ok {
		return firstErr(err, p)
	}
	g, ok, err = t.fetch(ctx, p, path)
	if err != nil || !ok {
		return firstErr(err, p)
	}
	if v, ok := get(g.JSON, "active").(bool); !ok || v {
		p.failf(g, `active is %s after a path-less Replace {"active": "False"}, want the JSON boolean false`, show(get(g.JSON, "active")))
	}
	return p.err()
}

func entraPathlessReplace(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	id, _, err := t.createUser(ctx, p, "epath")
	if err != nil {
		return err
	}
	path := "/Users/" + id
	number := unique()
	if _, ok, err := t.entraPatch(ctx, p, path, map[string]any{"op": "replace", "value": map[string]any{
		"displayName":                        "Frida Updated",
		"name.givenName":                     "Frida",
		"name.familyName":                    "Updated",
		schemaEnterprise + ":employeeNumber": number,
		schemaEnterprise + ":department":     "Finance",
	}}); err != nil || !ok {
		return firstErr(err, p)
	}
	g, ok, err := t.fetch(ctx, p, path)
	if err != nil || !ok {
		return firstErr(err, p)
	}
	p.equal(g, "displayName", "Frida Updated")
	p.equal(g, "name.givenName", "Frida")
	p.equal(g, "name.familyName", "Updated")
	if v := ext(g.JSON, schemaEnterprise, "employeeNumber"); v != number {
		p.failf(g, "%s:employeeNumber is %s, want %q", schemaEnterprise, show(v), number)
	}
	if v := ext(g.JSON, schemaEnterprise, "department"); v != "Finance" {
		p.failf(g, "%s:department is %s, want \"Finance\"", schemaEnterprise, show(v))
	}
	return p.err()
}

func entraRemoveValueList(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	name := "Entra List " + unique()
	ids, gid, err := t.createTeam(ctx, p, "evl", 4, name)
	if err != nil {
		return err
	}
	path := "/Groups/" + gid
	if _, ok, err := t.entraPatch(ctx, p, path, map[string]any{"op": "remove", "path": "members", "value": []any{map[string]any{"value": ids[0]}, map[string]any{"value": ids[2]}}}); err != nil || !ok {
		return firstErr(err, p)
	}
	p.groupMembers(ctx, t, gid, name, ids[1], ids[3])
	// ids[0] is no longer a member: removing it again removes nobody.
	x, err := t.send(ctx, "PATCH", path, patchRequest(
		map[string]any{"op": "remove", "path": "members", "value": []any{map[string]any{"value": ids[0], "$ref": nil}}}), withContentType("application/scim+json"))
	if err != nil {
		return err
	}
	if x.Status != 400 {
		p.status(x, 200, 204)
	}
	p.groupMembers(ctx, t, gid, name, ids[1], ids[3])
	return p.err()
}

func entraFilterExternalID(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	if _, _, err := t.createUser(ctx, p, "edecoy"); err != nil {
		return err
	}
	body := entraUser(t.userName("eext"))
	body["active"] = true
	ext := str(body["externalId"])
	id, _, err := t.createUserWith(ctx, p, body)
	if err != nil {
		return err
	}
	ids, x, err := t.listIDs(ctx, p, "/Users", `externalId eq "`+ext+`"`, "")
	if err != nil || x == nil {
		return firstErr(err, p)
	}
	p.exactly(x, "externalId eq", ids, id)
	return p.err()
}

func entraFilterWorkEmail(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	id, userName, err := t.createUser(ctx, p, "ework")
	if err != nil {
		return err
	}
	// The decoy has the same address, but as its home email.
	decoy := oktaUser(t.userName("edecoy"), "Alice", "Example")
	decoy["emails"] = []any{map[string]any{"primary": true, "type": "work", "value": decoy["userName"]}, map[string]any{"type": "home", "value": userName}}
	if _, _, err := t.createUserWith(ctx, p, decoy); err != nil {
		return err
	}
	ids, x, err := t.listIDs(ctx, p, "/Users", `emails[type eq "work"].value eq "`+userName+`"`, "")
	if err != nil || x == nil {
		return firstErr(err, p)
	}
	p.exactly(x, `emails[type eq "work"].value eq`, ids, id)
	return p.err()
}

func entraFilterGroupName(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	u, _, err := t.createUser(ctx, p, "egname")
	if err != nil {
		return err
	}
	name := "Entra Name " + unique()
	gid, err := t.createGroup(ctx, p, name, u)
	if err != nil {
		return err
	}
	if _, err := t.createGroup(ctx, p, name+" Two", u); err != nil {
		return err
	}
	ids, x, ok, err := t.groupIDsWithout(ctx, p, "/Groups?excludedAttributes=members&"+filterPath("", `displayName eq "`+name+`"`, "")[1:])
	if err != nil || !ok {
		return firstErr(err, p)
	}
	p.exactly(x, "displayName eq", ids, gid)
	return p.err()
}

func entraFilterGroupMember(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	ids, err := t.createUsers(ctx, p, "egmem", 2)
	if err != nil {
		return err
	}
	a, b := ids[0], ids[1]
	gid, err := t.createGroup(ctx, p, "Entra Member "+unique(), a)
	if err != nil {
		return err
	}
	for _, c := range []struct {
		user string
		want []string
	}{{a, []string{gid}}, {b, nil}} {
		ids, x, ok, err := t.groupIDsWithout(ctx, p, filterPath("/Groups", `id eq "`+gid+`" and members[value eq "`+c.user+`"]`, "excludedAttributes=members"))
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		p.exactly(x, "id eq and members[value eq]", ids, c.want...)
	}
	return p.err()
}

func entraGroupPatchStatus(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	u, _, err := t.createUser(ctx, p, "egst")
	if err != nil {
		return err
	}
	name := "Entra Status " + unique()
	gid, err := t.createGroup(ctx, p, name)
	if err != nil {
		return err
	}
	path := "/Groups/" + gid
	for _, op := range []map[string]any{
		{"op": "replace", "path": "displayName", "value": name + " renamed"},
		{"op": "add", "path": "members", "value": []any{map[string]any{"$ref": nil, "value": u}}},
	} {
		x, ok, err := t.entraPatch(ctx, p, path, op)
		if err != nil {
			return err
		}
		if ok && x.Status == 200 {
			p.equal(x, "displayName", name+" renamed")
		}
	}
	p.groupMembers(ctx, t, gid, name+" renamed", u)
	return p.err()
}

func entraZeroResults(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	for _, path := range []string{
		filterPath("/Users", `externalId eq "`+entraID()+`"`, ""),
		filterPath("/Users", `userName eq "`+t.userName("enobody")+`"`, ""),
		filterPath("/Groups", `displayName eq "Nobody `+unique()+`"`, "excludedAttributes=members"),
	} {
		x, ok, err := t.fetch(ctx, p, path)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if ct := strings.ToLower(x.Header.Get("Content-Type")); !strings.HasPrefix(ct, "application/scim+json") {
			p.failf(x, "Content-Type %q, Entra wants application/scim+json on every response", x.Header.Get("Content-Type"))
		}
		if n, ok := get(x.JSON, "totalResults").(json.Number); !ok || n.String() != "0" {
			p.failf(x, "totalResults is %s, want the JSON number 0", show(get(x.JSON, "totalResults")))
		}
		if rs, ok := get(x.JSON, "Resources").([]any); !ok || len(rs) != 0 {
			p.failf(x, "Resources is %s, want an empty array: Entra reads a missing Resources as an error", show(get(x.JSON, "Resources")))
		}
	}
	return p.err()
}

func entraPutUnknown(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	id, _, err := t.createUser(ctx, p, "eput")
	if err != nil {
		return err
	}
	path := "/Users/" + id
	g, ok, err := t.fetch(ctx, p, path)
	if err != nil || !ok {
		return firstErr(err, p)
	}
	body := asMap(g.JSON)
	if body == nil {
		p.failf(g, "the user is not a JSON object")
		return p.err()
	}
	body["displayName"] = "Put Unknown"
	body["msUnknownAttribute"] = "ignored"
	x, err := t.send(ctx, "PUT", path, body, withContentType("application/scim+json"))
	if err != nil {
		return err
	}
	if !p.status(x, 200) {
		return p.err()
	}
	p.equal(x, "displayName", "Put Unknown")
	g, ok, err = t.fetch(ctx, p, path)
	if err != nil || !ok {
		return firstErr(err, p)
	}
	p.equal(g, "displayName", "Put Unknown")
	if v := get(g.JSON, "msUnknownAttribute"); v != nil {
		p.failf(g, "msUnknownAttribute is %s, want it ignored (not stored)", show(v))
	}
	return p.err()
}

func entraBareMembers(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	ids, err := t.createUsers(ctx, p, "ebare", 2)
	if err != nil {
		return err
	}
	a, b := ids[0], ids[1]
	name := "Entra Bare " + unique()
	x, ok, err := t.post(ctx, p, "/Groups", map[string]any{"schemas": []string{schemaGroup}, "displayName": name, "members": []any{a}})
	if err != nil || !ok {
		return firstErr(err, p)
	}
	gid := str(get(x.JSON, "id"))
	p.groupMembers(ctx, t, gid, name, a)
	if _, ok, err := t.entraPatch(ctx, p, "/Groups/"+gid, map[string]any{"op": "add", "path": "members", "value": []any{b}}); err != nil || !ok {
		return firstErr(err, p)
	}
	p.groupMembers(ctx, t, gid, name, a, b)
	return p.err()
}
