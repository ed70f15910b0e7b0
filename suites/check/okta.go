package check

import (
	"context"
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
	}
}

func oktaTestCredentials(ctx context.Context, t *Target) error {
	p := &probe{}
	x, err := t.send(ctx, "GET", "/Users?startIndex=1&count=2", nil)
	if err != nil {
		return err
	}
	if p.status(x, 200) {
		_, rs := p.listResponse(x)
		if len(rs) > 2 {
			p.failf(x, "count=2 returned %d resources", len(rs))
		}
	}
	return p.err()
}

func oktaAssignLookup(ctx context.Context, t *Target) error {
	p := &probe{}
	id, userName, err := t.createUser(ctx, p, "assign")
	if err != nil {
		return err
	}
	x, err := t.send(ctx, "GET", filterPath("/Users", `userName eq "`+userName+`"`, "startIndex=1&count=100"), nil)
	if err != nil {
		return err
	}
	if p.status(x, 200) {
		total, rs := p.listResponse(x)
		if total != 1 || len(rs) != 1 || str(get(rs[0], "id")) != id {
			p.failf(x, "want exactly the user %s", id)
		}
	}
	return p.err()
}

func oktaDeactivate(ctx context.Context, t *Target) error {
	p := &probe{}
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
		g, err := t.send(ctx, "GET", "/Users/"+id, nil)
		if err != nil {
			return err
		}
		if p.status(g, 200) {
			p.equal(g, "active", active)
		}
	}
	return p.err()
}

func oktaProfilePut(ctx context.Context, t *Target) error {
	p := &probe{}
	userName := t.userName("put")
	body := oktaUser(userName, "Alice", "Example")
	body["title"] = "Engineer"
	x, err := t.send(ctx, "POST", "/Users", body)
	if err != nil {
		return err
	}
	if !p.status(x, 201) {
		return p.err()
	}
	id := str(get(x.JSON, "id"))
	g, err := t.send(ctx, "GET", "/Users/"+id, nil)
	if err != nil {
		return err
	}
	if !p.status(g, 200) {
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
	p := &probe{}
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
	got := memberValues(g.JSON)
	slices.Sort(got)
	want := slices.Clone(members)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		p.failf(g, "members are %v, want %v", got, want)
	}
}
