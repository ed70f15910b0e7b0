package check

import (
	"context"
	"fmt"
	"slices"
)

// oktaProvisioning returns checks for the requests Okta's provisioning
// sends when an admin uses a "SCIM 2.0 (OAuth Bearer Token)" app: Test API
// Credentials, assignment, profile push, deactivation and Group Push.
func oktaProvisioning() []Check {
	l := []string{"okta", "writes"}
	return []Check{
		{ID: "okta-test-credentials", Title: "Test API Credentials: GET /Users?startIndex=1&count=2 returns a ListResponse", Ref: "Okta provisioning: Test API Credentials", Labels: []string{"okta"}, Run: oktaTestCredentials},
		{ID: "okta-assign-lookup", Title: "assigning a user: the userName filter Okta sends finds a created user and returns it", Ref: "Okta provisioning: assign user; RFC 7644 §3.4.2.2", Labels: l, Run: oktaAssignLookup},
		{ID: "okta-deactivate", Title: "deactivation by a path-less PATCH replace {active:false} is stored, the user stays readable, and reactivation works", Ref: "Okta provisioning: deactivate; RFC 7644 §3.5.2.3; case S01", Labels: l, Run: oktaDeactivate},
		{ID: "okta-profile-put", Title: "profile push: GET then PUT of the modified body returns the whole updated user; omitted attributes are cleared", Ref: "Okta provisioning: Update User Attributes; RFC 7644 §3.5.1; case S03", Labels: l, Run: oktaProfilePut},
		{ID: "okta-group-push", Title: "Group Push: POST /Groups, PATCH members add and members[value eq] remove, rename with the id repeated, DELETE", Ref: "Okta Group Push; RFC 7644 §3.5.2; cases S02, S09", Labels: l, Run: oktaGroupPush},
		{ID: "okta-create-user-body", Title: "POST /Users with the body Okta sends (enterprise extension, password, groups: [], locale, externalId 00u…) answers 201 with the whole user and never the password", Ref: "Okta provisioning: assign user (Create Users); RFC 7644 §3.3; RFC 7643 §4.1.1", Labels: l, Run: oktaCreateUserBody},
		{ID: "okta-reassign-inactive", Title: "reassigning an inactive user: Okta's userName filter finds the deactivated user, and PATCH active true reactivates it without a second user", Ref: "Okta provisioning: reassign a deactivated user", Labels: l, Run: oktaReassignInactive},
		{ID: "okta-group-push-batch", Title: "Group Push in batches: one PATCH adds 20 members at once (Okta sends up to 256; 20 keeps remote runs quick), then a replace of members leaves exactly the new list", Ref: "Okta Group Push; RFC 7644 §3.5.2.1, §3.5.2.3", Labels: l, Run: oktaGroupPushBatch},
		{ID: "okta-rename-keeps-members", Title: "Okta's rename, a path-less replace {id, displayName} with the group's own id, renames the group and leaves its members alone", Ref: "Okta Group Push: rename; RFC 7644 §3.5.2.3", Labels: l, Run: oktaRenameKeepsMembers},
		{ID: "okta-import-paging", Title: "import: GET /Users and /Groups?startIndex=1&count=100, then startIndex += 100 until totalResults, yields every resource once, in a stable order, with numbers as JSON numbers", Ref: "Okta provisioning: Import Users and Groups; RFC 7644 §3.4.2.4", Labels: l, Run: oktaImportPaging},
	}
}

func oktaTestCredentials(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	x, ok, err := t.fetch(ctx, p, "/Users?startIndex=1&count=2")
	if err != nil {
		return err
	}
	if ok {
		_, rs := p.listResponse(x)
		if len(rs) > 2 {
			p.failf(x, "count=2 returned %d resources", len(rs))
		}
	}
	return p.err()
}

func oktaAssignLookup(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	id, userName, err := t.createUser(ctx, p, "assign")
	if err != nil {
		return err
	}
	x, ok, err := t.fetch(ctx, p, filterPath("/Users", `userName eq "`+userName+`"`, "startIndex=1&count=100"))
	if err != nil {
		return err
	}
	if ok {
		total, rs := p.listResponse(x)
		if total != 1 || len(rs) != 1 || str(get(rs[0], "id")) != id {
			p.failf(x, "want exactly the user %s", id)
		}
	}
	return p.err()
}

func oktaDeactivate(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	id, _, err := t.createUser(ctx, p, "deact")
	if err != nil {
		return err
	}
	for _, active := range []bool{false, true} {
		x, err := t.patch(ctx, "/Users/"+id, map[string]any{"op": "replace", "value": map[string]any{"active": active}})
		if err != nil {
			return err
		}
		if !p.status(x, 200, 204) {
			return p.err()
		}
		g, ok, err := t.fetch(ctx, p, "/Users/"+id)
		if err != nil {
			return err
		}
		if ok {
			p.equal(g, "active", active)
		}
	}
	return p.err()
}

func oktaProfilePut(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	userName := t.userName("put")
	body := oktaUser(userName, "Alice", "Example")
	body["title"] = "Engineer"
	x, ok, err := t.post(ctx, p, "/Users", body)
	if err != nil || !ok {
		return firstErr(err, p)
	}
	id := str(get(x.JSON, "id"))
	g, ok, err := t.fetch(ctx, p, "/Users/"+id)
	if err != nil {
		return err
	}
	if !ok {
		return p.err()
	}
	// Okta carries back everything it read and changes what the admin changed.
	got, _ := g.JSON.(map[string]any)
	if got == nil {
		p.failf(g, "the user is not a JSON object")
		return p.err()
	}
	got["name"] = map[string]any{"givenName": "Alicia", "familyName": "Example"}
	got["displayName"] = "Alicia Example"
	delete(got, "title")
	x, err = t.send(ctx, "PUT", "/Users/"+id, got)
	if err != nil {
		return err
	}
	if p.status(x, 200) {
		p.equal(x, "id", id)
		p.equal(x, "name.givenName", "Alicia")
		p.equal(x, "displayName", "Alicia Example")
		p.equal(x, "userName", userName)
		if get(x.JSON, "title") != nil {
			p.failf(x, "title was omitted from the PUT and must be cleared (RFC 7644 §3.5.1)")
		}
	}
	g, err = t.send(ctx, "GET", "/Users/"+id, nil)
	if err != nil {
		return err
	}
	if p.status(g, 200) {
		p.equal(g, "name.givenName", "Alicia")
	}
	return p.err()
}

func oktaGroupPush(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	a, userA, err := t.createUser(ctx, p, "gp")
	if err != nil {
		return err
	}
	b, userB, err := t.createUser(ctx, p, "gp")
	if err != nil {
		return err
	}
	name := "Okta Push " + unique()
	gid, err := t.createGroup(ctx, p, name)
	if err != nil {
		return err
	}
	x, err := t.patch(ctx, "/Groups/"+gid,
		map[string]any{"op": "add", "path": "members", "value": []any{
			map[string]any{"value": a, "display": userA}, map[string]any{"value": b, "display": userB}}},
		map[string]any{"op": "replace", "value": map[string]any{"id": gid, "displayName": name}})
	if err != nil {
		return err
	}
	if !p.status(x, 200, 204) {
		return p.err()
	}
	p.groupMembers(ctx, t, gid, name, a, b)
	x, err = t.patch(ctx, "/Groups/"+gid,
		map[string]any{"op": "remove", "path": `members[value eq "` + a + `"]`},
		map[string]any{"op": "replace", "value": map[string]any{"id": gid, "displayName": name + " renamed"}})
	if err != nil {
		return err
	}
	if !p.status(x, 200, 204) {
		return p.err()
	}
	p.groupMembers(ctx, t, gid, name+" renamed", b)
	x, err = t.send(ctx, "DELETE", "/Groups/"+gid, nil)
	if err != nil {
		return err
	}
	if p.status(x, 204) {
		g, err := t.send(ctx, "GET", "/Groups/"+gid, nil)
		if err != nil {
			return err
		}
		p.status(g, 404)
	}
	return p.err()
}

// groupMembers checks that the group has exactly the given name and members.
func (p *probe) groupMembers(ctx context.Context, t *Target, gid, name string, members ...string) {
	g, err := t.send(ctx, "GET", "/Groups/"+gid, nil)
	if err != nil {
		p.failf(nil, "%v", err)
		return
	}
	if !p.status(g, 200) {
		return
	}
	p.equal(g, "displayName", name)
	if got, want := sorted(memberValues(g.JSON)), sorted(members); !slices.Equal(got, want) {
		p.failf(g, "members are %v, want %v", got, want)
	}
}

func oktaCreateUserBody(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	userName := t.userName("okta")
	body := oktaUser(userName, "Olga", "Example")
	body["schemas"] = []string{schemaUser, schemaEnterprise}
	body["title"] = "Engineer"
	body[schemaEnterprise] = map[string]any{"department": "Engineering", "employeeNumber": "1042"}
	x, ok, err := t.post(ctx, p, "/Users", body)
	if err != nil || !ok {
		return firstErr(err, p)
	}
	id, err := p.scimID(x, "the created user has no id (an empty or partial body makes Okta fail the task)")
	if err != nil {
		return err
	}
	check := func(y *Exchange) {
		p.equal(y, "userName", userName)
		p.equal(y, "name.givenName", "Olga")
		p.equal(y, "name.familyName", "Example")
		p.equal(y, "displayName", "Olga Example")
		p.equal(y, "emails.0.value", userName)
		p.equal(y, "locale", "en-US")
		p.equal(y, "externalId", body["externalId"])
		p.equal(y, "title", "Engineer")
		p.equal(y, "active", true)
		if v := ext(y.JSON, schemaEnterprise, "department"); v != "Engineering" {
			p.failf(y, "%s.department is %s, want \"Engineering\"", schemaEnterprise, show(v))
		}
		if get(y.JSON, "password") != nil {
			p.failf(y, "the password came back: it is writeOnly and returned never (RFC 7643 §4.1.1)")
		}
	}
	check(x)
	return t.readBack(ctx, p, "/Users/"+id, check)
}

func oktaReassignInactive(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	id, userName, err := t.createUser(ctx, p, "reassign")
	if err != nil {
		return err
	}
	path := "/Users/" + id
	if _, ok, err := t.patchOK(ctx, p, path, map[string]any{"op": "replace", "value": map[string]any{"active": false}}); err != nil || !ok {
		return firstErr(err, p)
	}
	x, ok, err := t.fetch(ctx, p, filterPath("/Users", `userName eq "`+userName+`"`, "startIndex=1&count=100"))
	if err != nil || !ok {
		return firstErr(err, p)
	}
	total, rs := p.listResponse(x)
	if total != 1 || len(rs) != 1 || str(get(rs[0], "id")) != id {
		p.failf(x, "the filter must find the deactivated user %s, or Okta creates a second one", id)
		return p.err()
	}
	if v, _ := get(rs[0], "active").(bool); v {
		p.failf(x, "the deactivated user reads as active")
	}
	if _, ok, err := t.patchOK(ctx, p, path, map[string]any{"op": "replace", "value": map[string]any{"active": true}}); err != nil || !ok {
		return firstErr(err, p)
	}
	g, ok, err := t.fetch(ctx, p, path)
	if err != nil {
		return err
	}
	if ok {
		p.equal(g, "active", true)
		p.equal(g, "userName", userName)
	}
	return p.err()
}

// batchSize is how many members okta-group-push-batch adds in one PATCH.
const batchSize = 20

func oktaGroupPushBatch(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	ids := make([]string, batchSize)
	var value []any
	for i := range ids {
		id, userName, err := t.createUser(ctx, p, "batch")
		if err != nil {
			return err
		}
		ids[i] = id
		value = append(value, map[string]any{"value": id, "display": userName})
	}
	name := "Okta Batch " + unique()
	gid, err := t.createGroup(ctx, p, name)
	if err != nil {
		return err
	}
	path := "/Groups/" + gid
	if _, ok, err := t.patchOK(ctx, p, path,
		map[string]any{"op": "add", "path": "members", "value": value},
		map[string]any{"op": "replace", "value": map[string]any{"id": gid, "displayName": name}}); err != nil || !ok {
		return firstErr(err, p)
	}
	p.groupMembers(ctx, t, gid, name, ids...)
	keep := ids[batchSize/2:]
	var repl []any
	for _, id := range keep {
		repl = append(repl, map[string]any{"value": id})
	}
	if _, ok, err := t.patchOK(ctx, p, path, map[string]any{"op": "replace", "path": "members", "value": repl}); err != nil || !ok {
		return firstErr(err, p)
	}
	p.groupMembers(ctx, t, gid, name, keep...)
	return p.err()
}

func oktaRenameKeepsMembers(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	name := "Okta Rename " + unique()
	ids, gid, err := t.createTeam(ctx, p, "rename", 2, name)
	if err != nil {
		return err
	}
	if _, ok, err := t.patchOK(ctx, p, "/Groups/"+gid, map[string]any{"op": "replace", "value": map[string]any{"id": gid, "displayName": name + " renamed"}}); err != nil || !ok {
		return firstErr(err, p)
	}
	p.groupMembers(ctx, t, gid, name+" renamed", ids...)
	return p.err()
}

// importPages is how many pages of 100 okta-import-paging reads at most,
// so that a large directory stays within a check's 30 seconds; beyond it
// the check concludes nothing about order and completeness.
const importPages = 10

func oktaImportPaging(ctx context.Context, t *Target) error {
	p := newProbe(ctx)
	u, _, err := t.createUser(ctx, p, "import")
	if err != nil {
		return err
	}
	gid, err := t.createGroup(ctx, p, "Okta Import "+unique(), u)
	if err != nil {
		return err
	}
	for _, c := range []struct{ endpoint, mine string }{{"/Users", u}, {"/Groups", gid}} {
		first, _, err := t.importAll(ctx, p, c.endpoint, c.mine)
		if err != nil {
			return err
		}
		again, x, err := t.importAll(ctx, p, c.endpoint, "")
		if err != nil {
			return err
		}
		if first != nil && again != nil && !slices.Equal(first, again) {
			p.failf(x, "%s: two imports in a row listed the resources in different orders (%v, then %v); Okta needs a stable order across pages", c.endpoint, first, again)
		}
	}
	return p.err()
}

// importAll pages through endpoint as Okta's import does and returns the
// ids in order and the last page's exchange; mine must be among them. The
// ids are nil when the listing is larger than importPages pages, or
// changed while it was read.
func (t *Target) importAll(ctx context.Context, p *probe, endpoint, mine string) ([]string, *Exchange, error) {
	var ids []string
	seen := map[string]bool{}
	total := -1
	for page := 0; page < importPages; page++ {
		start := 1 + 100*page
		x, ok, err := t.fetch(ctx, p, fmt.Sprintf("%s?startIndex=%d&count=100", endpoint, start))
		if err != nil || !ok {
			return nil, x, err
		}
		n, rs := p.listResponse(x)
		if total >= 0 && n != total {
			// Another client changed the data between pages; nothing to conclude.
			return nil, x, nil
		}
		total = n
		p.equal(x, "startIndex", start)
		if got := intOf(get(x.JSON, "itemsPerPage")); got != len(rs) {
			p.failf(x, "itemsPerPage is %d with %d resources", got, len(rs))
		}
		for _, r := range rs {
			id := str(get(r, "id"))
			if seen[id] {
				p.failf(x, "%s appears on two pages", id)
			}
			seen[id] = true
			ids = append(ids, id)
		}
		if start+100 > total || len(rs) == 0 {
			if len(ids) != total {
				p.failf(x, "the pages held %d resources, totalResults is %d", len(ids), total)
			}
			if mine != "" && !seen[mine] {
				p.failf(x, "the import never listed %s, which this check created", mine)
			}
			return ids, x, nil
		}
	}
	return nil, nil, nil
}
