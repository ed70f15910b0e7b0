package provision

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/client"
)

// memberValue is one entry of a members add, as Okta sends it.
type memberValue struct {
	Value   string `json:"value"`
	Display string `json:"display"`
}

// groupBody is the POST /Groups body.
type groupBody struct {
	Schemas     []string      `json:"schemas"`
	DisplayName string        `json:"displayName"`
	Members     []memberValue `json:"members"`
}

// PushGroup is Group Push of a new group: POST /Groups with the name (201
// with the group's id required). For the Test App and catalogue apps the
// POST has no members; when there are members, the rename request Okta
// sends with every membership update (see UpdateGroup) follows, then PATCH
// /Groups/{id} requests adding the members in batches of at most
// BatchSize. Custom apps get every member in the POST and nothing more.
// It returns the group's id in the app, also when a later request failed.
func (e *Engine) PushGroup(ctx context.Context, t Target, name string, members []Member) (string, error) {
	action := "push group " + name
	if name == "" {
		return "", fail(action, errors.New("empty group name"))
	}
	c := e.scim(t)
	body := groupBody{Schemas: []string{scim.SchemaGroup}, DisplayName: name, Members: []memberValue{}}
	if t.Kind == KindCustom {
		body.Members = memberValues(members)
	}
	var created scim.Resource
	resp, err := e.send(ctx, c, "POST", "/Groups", body, &created)
	if err != nil {
		return "", fail(action, err)
	}
	if err := wantStatus("POST", "/Groups", resp, 201); err != nil {
		return "", fail(action, err)
	}
	if created == nil {
		return "", fail(action, fmt.Errorf("POST /Groups: %w", client.ErrEmptyBody))
	}
	id := idOf(created)
	if id == "" {
		return "", fail(action, errors.New("POST /Groups: the created group has no id"))
	}
	if t.Kind == KindCustom {
		e.logger().DebugContext(ctx, "provision: pushed group", "name", name, "id", id, "members", len(members))
		return id, nil
	}
	if len(members) > 0 {
		// Adding the members is a membership update, so the rename goes first.
		if err := e.patchGroup(ctx, c, id, []scim.PatchOperation{renameOp(id, name)}); err != nil {
			return id, fail(action, err)
		}
	}
	for batch := range slices.Chunk(members, BatchSize) {
		if err := e.patchGroup(ctx, c, id, []scim.PatchOperation{addOp(batch)}); err != nil {
			return id, fail(action, err)
		}
	}
	e.logger().DebugContext(ctx, "provision: pushed group", "name", name, "id", id, "members", len(members))
	return id, nil
}

// ReplaceGroup is a Group Push update as custom apps get it: PUT
// /Groups/{id} with the whole group, its name and every member Okta
// pushes (200 expected). It serves renames and membership changes alike.
func (e *Engine) ReplaceGroup(ctx context.Context, t Target, scimGroupID, name string, members []Member) error {
	action := "update group " + scimGroupID
	if scimGroupID == "" {
		return fail(action, errors.New("empty id"))
	}
	if name == "" {
		return fail(action, errors.New("empty group name"))
	}
	path := "/Groups/" + url.PathEscape(scimGroupID)
	body := struct {
		Schemas     []string      `json:"schemas"`
		ID          string        `json:"id"`
		DisplayName string        `json:"displayName"`
		Members     []memberValue `json:"members"`
	}{[]string{scim.SchemaGroup}, scimGroupID, name, memberValues(members)}
	resp, err := e.send(ctx, e.scim(t), "PUT", path, body, nil)
	if err != nil {
		return fail(action, err)
	}
	if err := wantStatus("PUT", path, resp, 200); err != nil {
		return fail(action, err)
	}
	e.logger().DebugContext(ctx, "provision: replaced group", "id", scimGroupID, "members", len(members))
	return nil
}

// UpdateGroup is a Group Push update. Okta sends the group name update on
// every membership update, as a request of its own: first PATCH
// /Groups/{id} with the single path-less op {"op":"replace","value":{"id":
// "<id>","displayName":"<name>"}}, then the membership changes in PATCH
// requests of at most BatchSize member changes each, every request holding
// one remove op per removed member (path members[value eq "<id>"]) followed
// by one add op with the added members. With no member changes only the
// rename is sent; with no name there is no rename; with neither, nothing is
// sent. The first failing request stops the update. Custom apps take the
// whole group instead (ReplaceGroup); UpdateGroup refuses them.
func (e *Engine) UpdateGroup(ctx context.Context, t Target, scimGroupID, name string, add, remove []Member) error {
	action := "update group " + scimGroupID
	if scimGroupID == "" {
		return fail(action, errors.New("empty id"))
	}
	if t.Kind == KindCustom {
		return fail(action, errors.New("custom apps get the whole group with PUT; use ReplaceGroup"))
	}
	type change struct {
		m   Member
		add bool
	}
	changes := make([]change, 0, len(add)+len(remove))
	for _, m := range remove {
		changes = append(changes, change{m, false})
	}
	for _, m := range add {
		changes = append(changes, change{m, true})
	}
	if len(changes) == 0 && name == "" {
		return nil
	}
	c := e.scim(t)
	if name != "" {
		if err := e.patchGroup(ctx, c, scimGroupID, []scim.PatchOperation{renameOp(scimGroupID, name)}); err != nil {
			return fail(action, err)
		}
	}
	for batch := range slices.Chunk(changes, BatchSize) {
		var ops []scim.PatchOperation
		var adds []Member
		for _, ch := range batch {
			if ch.add {
				adds = append(adds, ch.m)
				continue
			}
			ops = append(ops, scim.PatchOperation{Op: "remove", Path: "members[value eq " + client.FilterString(ch.m.SCIMID) + "]"})
		}
		if len(adds) > 0 {
			ops = append(ops, addOp(adds))
		}
		if err := e.patchGroup(ctx, c, scimGroupID, ops); err != nil {
			return fail(action, err)
		}
	}
	e.logger().DebugContext(ctx, "provision: updated group", "id", scimGroupID, "added", len(add), "removed", len(remove))
	return nil
}

// DeleteGroup is unlinking a pushed group with "delete the group in the
// target app": DELETE /Groups/{id}, 204 (or 200) expected.
func (e *Engine) DeleteGroup(ctx context.Context, t Target, scimGroupID string) error {
	action := "delete group " + scimGroupID
	if scimGroupID == "" {
		return fail(action, errors.New("empty id"))
	}
	path := "/Groups/" + url.PathEscape(scimGroupID)
	resp, err := e.send(ctx, e.scim(t), "DELETE", path, nil, nil)
	if err != nil {
		return fail(action, err)
	}
	if err := wantStatus("DELETE", path, resp, 204, 200); err != nil {
		return fail(action, err)
	}
	e.logger().DebugContext(ctx, "provision: deleted group", "id", scimGroupID)
	return nil
}

func (e *Engine) patchGroup(ctx context.Context, c *client.Client, id string, ops []scim.PatchOperation) error {
	path := "/Groups/" + url.PathEscape(id)
	resp, err := e.send(ctx, c, "PATCH", path, scim.PatchRequest{Schemas: []string{scim.SchemaPatchOp}, Operations: ops}, nil)
	if err != nil {
		return err
	}
	return wantStatus("PATCH", path, resp, 200, 204)
}

// renameOp is Okta's group name update: a path-less replace whose value
// repeats the group's id.
func renameOp(id, name string) scim.PatchOperation {
	return scim.PatchOperation{Op: "replace", Value: rawJSON(map[string]string{"id": id, "displayName": name})}
}

// addOp is {"op":"add","path":"members","value":[{"value":id,"display":login},…]}.
func addOp(ms []Member) scim.PatchOperation {
	return scim.PatchOperation{Op: "add", Path: "members", Value: rawJSON(memberValues(ms))}
}

// memberValues is ms as Okta sends members: value and display.
func memberValues(ms []Member) []memberValue {
	vs := make([]memberValue, len(ms))
	for i, m := range ms {
		vs[i] = memberValue{Value: m.SCIMID, Display: m.Login}
	}
	return vs
}
