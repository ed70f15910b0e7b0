package check

import "context"

// entra returns checks for the SCIM dialect Microsoft Entra ID sends: a
// server that Okta and Entra can both use must accept it.
func entra() []Check {
	l := []string{"entra", "writes"}
	return []Check{
		{ID: "entra-capitalised-ops", Title: "PATCH op names are matched case-insensitively (Entra sends Add, Replace, Remove)", Ref: "RFC 7644 §3.5.2; Entra ID; case S06", Labels: l, Run: entraOps},
		{ID: "entra-string-boolean", Title: `"active": "False" as a string deactivates and is stored as JSON false; a non-boolean string is 400 invalidValue`, Ref: "Entra ID; RFC 7643 §2.3.2; case S07", Labels: l, Run: entraStringBoolean},
		{ID: "entra-remove-listed-members", Title: "remove on members with a value list removes only the listed members", Ref: "Entra ID; RFC 7644 §3.5.2.2; case S08", Labels: l, Run: entraRemoveMembers},
	}
}

func entraOps(ctx context.Context, t *Target) error {
	p := &probe{}
	id, _, err := t.createUser(ctx, p, "ops")
	if err != nil {
		return err
	}
	steps := []map[string]any{
		{"op": "Replace", "path": "displayName", "value": "Dave Example"},
		{"op": "Add", "path": "title", "value": "Engineer"},
	}
	for _, op := range steps {
		x, err := t.patch(ctx, "/Users/"+id, op)
		if err != nil {
			return err
		}
		p.status(x, 200, 204)
	}
	g, err := t.send(ctx, "GET", "/Users/"+id, nil)
	if err != nil {
		return err
	}
	if p.status(g, 200) {
		p.equal(g, "displayName", "Dave Example")
		p.equal(g, "title", "Engineer")
	}
	x, err := t.patch(ctx, "/Users/"+id, map[string]any{"op": "Remove", "path": "title"})
	if err != nil {
		return err
	}
	p.status(x, 200, 204)
	g, err = t.send(ctx, "GET", "/Users/"+id, nil)
	if err != nil {
		return err
	}
	if p.status(g, 200) && get(g.JSON, "title") != nil {
		p.failf(g, "title is still there after Remove")
	}
	return p.err()
}

func entraStringBoolean(ctx context.Context, t *Target) error {
	p := &probe{}
	id, _, err := t.createUser(ctx, p, "bool")
	if err != nil {
		return err
	}
	x, err := t.patch(ctx, "/Users/"+id, map[string]any{"op": "Replace", "path": "active", "value": "False"})
	if err != nil {
		return err
	}
	p.status(x, 200, 204)
	g, err := t.send(ctx, "GET", "/Users/"+id, nil)
	if err != nil {
		return err
	}
	if p.status(g, 200) {
		if v, ok := get(g.JSON, "active").(bool); !ok || v {
			p.failf(g, "active is %s, want the JSON boolean false", show(get(g.JSON, "active")))
		}
	}
	x, err = t.patch(ctx, "/Users/"+id, map[string]any{"op": "replace", "path": "active", "value": "nope"})
	if err != nil {
		return err
	}
	if p.status(x, 400) {
		p.errorResponse(x, "invalidValue")
	}
	return p.err()
}

func entraRemoveMembers(ctx context.Context, t *Target) error {
	p := &probe{}
	var ids []string
	for range 3 {
		id, _, err := t.createUser(ctx, p, "mem")
		if err != nil {
			return err
		}
		ids = append(ids, id)
	}
	name := "Entra Team " + unique()
	gid, err := t.createGroup(ctx, p, name, ids...)
	if err != nil {
		return err
	}
	x, err := t.patch(ctx, "/Groups/"+gid, map[string]any{"op": "Remove", "path": "members", "value": []any{map[string]any{"value": ids[1], "$ref": nil}}})
	if err != nil {
		return err
	}
	if p.status(x, 200, 204) {
		p.groupMembers(ctx, t, gid, name, ids[0], ids[2])
	}
	return p.err()
}
