package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/store"
)

// members indexes a group's members by value.
func members(res scim.Resource) map[string]map[string]any {
	out := map[string]map[string]any{}
	list, _ := res["members"].([]any)
	for _, m := range list {
		if mm, ok := m.(map[string]any); ok {
			if v, ok := mm["value"].(string); ok {
				out[v] = mm
			}
		}
	}
	return out
}

// resolveMembers checks and completes the members of a group to be
// written with POST or PUT: every member must be a user of the tenant.
// A PUT may repeat a member that the stored group lists but whose user no
// longer exists (left dangling by a race with DELETE, see settleMembers):
// that member is dropped silently, because the dangling reference is the
// server's fault and not the client's.
func (s *Server) resolveMembers(r *request, res scim.Resource) error {
	users := map[string]string{}
	var stored map[string]map[string]any // the group as stored (PUT), read once
	for range 3 {
		need := fixMembers(res, r.base, nil, users)
		if len(need) == 0 {
			return nil
		}
		missing, err := s.findUsers(r, need, users)
		if err != nil {
			return err
		}
		if len(missing) == 0 {
			continue
		}
		if stored == nil {
			stored = map[string]map[string]any{}
			if id := r.PathValue("id"); id != "" {
				rec, err := s.store.GetResource(r.Context(), r.tenant, store.TypeGroup, id)
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
				if err == nil {
					cur, err := decodeData(rec)
					if err != nil {
						return err
					}
					stored = members(cur)
				}
			}
		}
		for _, id := range missing {
			if _, ok := stored[id]; !ok {
				return notAUser(id)
			}
		}
		dropMembers(res, missing)
	}
	return scim.Errorf(http.StatusInternalServerError, "", "scim/server: the members of the group could not be resolved")
}

// dropMembers removes the members with the given values from res.
func dropMembers(res scim.Resource, ids []string) bool {
	gone := map[string]bool{}
	for _, id := range ids {
		gone[id] = true
	}
	list, _ := res["members"].([]any)
	kept := make([]any, 0, len(list))
	for _, m := range list {
		if mm, ok := m.(map[string]any); ok {
			if v, ok := mm["value"].(string); ok && gone[v] {
				continue
			}
		}
		kept = append(kept, m)
	}
	if len(kept) == len(list) {
		return false
	}
	if len(kept) == 0 {
		delete(res, "members")
	} else {
		res["members"] = kept
	}
	return true
}

// settleMembers runs after a group write has committed rec. Every member
// of rec that prev (the group before the write; nil for POST and PUT,
// which re-check every member) did not list must still be a user of the
// tenant; members whose user has gone are removed from the group in a new
// update, and the record to answer with is returned. Users need no check.
//
// Why this closes the race with DELETE /Users/U, which commits the delete
// and only then scans the groups (dropMember): the write looked U up
// before its own transaction, so U may be deleted before the group commit
// lands. Either DELETE's commit comes before the GetResource here, and
// this check sees U gone and removes it; or it comes after that
// GetResource, hence after the group commit, and then dropMember's scan,
// which starts after DELETE's commit, reads the group with U in it and
// removes it. Both removals are store transactions, so neither loses a
// concurrent write, and in every order the group ends without U.
func (s *Server) settleMembers(r *request, k *kind, rec store.Record, prev map[string]map[string]any) (store.Record, error) {
	if k != s.groups {
		return rec, nil
	}
	res, err := decodeData(rec)
	if err != nil {
		return rec, err
	}
	var gone []string
	for id := range members(res) {
		if _, ok := prev[id]; ok {
			continue
		}
		_, err := s.store.GetResource(r.Context(), r.tenant, store.TypeUser, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			gone = append(gone, id)
		case err != nil:
			return rec, err
		}
	}
	if len(gone) == 0 {
		return rec, nil
	}
	now := s.now().UTC()
	var read store.Record
	got, err := s.store.UpdateResource(r.Context(), r.tenant, store.TypeGroup, rec.ID, func(g *store.Record) error {
		read = *g
		cur, err := decodeData(*g)
		if err != nil {
			return err
		}
		if !dropMembers(cur, gone) {
			return errUnchanged // dropMember was first
		}
		setMeta(cur, s.groups, r.base, g.ID, createdOf(g), now, g.Version+1)
		return fill(s.groups, g, cur, now)
	})
	switch {
	case errors.Is(err, errUnchanged):
		return read, nil
	case errors.Is(err, store.ErrNotFound):
		return rec, nil // the group itself was deleted since
	case err != nil:
		return rec, fmt.Errorf("scim/server: remove deleted users from group %s: %w", rec.ID, err)
	}
	return got, nil
}

// fixMembers completes res's members in place: duplicates are merged,
// each member gets $ref and type "User", and display defaults to the
// user's userName. Members in prev (the group as stored) are known to be
// valid; others must be in users (id → userName). It returns the ids that
// must be looked up first; res is then left partly fixed and must be
// fixed again. A member without a value, or that is not a User, leaves
// the "members" value as is and is reported by lookupUsers as invalid.
func fixMembers(res scim.Resource, base string, prev map[string]map[string]any, users map[string]string) (need []string) {
	list, _ := res["members"].([]any)
	if len(list) == 0 {
		delete(res, "members")
		return nil
	}
	seen := map[string]bool{}
	out := make([]any, 0, len(list))
	for _, m := range list {
		mm, _ := m.(map[string]any)
		v, _ := mm["value"].(string)
		if v == "" {
			need = append(need, "") // lookupUsers reports it
			continue
		}
		if t, ok := mm["type"].(string); ok && !strings.EqualFold(t, "User") {
			need = append(need, "\x00"+t) // lookupUsers reports it
			continue
		}
		if seen[v] {
			continue
		}
		seen[v] = true
		display, _ := mm["display"].(string)
		if display == "" {
			if p, ok := prev[v]; ok {
				display, _ = p["display"].(string)
			}
		}
		if _, known := prev[v]; !known {
			name, ok := users[v]
			if !ok {
				need = append(need, v)
				continue
			}
			if display == "" {
				display = name
			}
		}
		member := map[string]any{"value": v, "$ref": base + "/Users/" + v, "type": "User"}
		if display != "" {
			member["display"] = display
		}
		out = append(out, member)
	}
	if len(need) > 0 {
		return need
	}
	res["members"] = out
	return nil
}

// lookupUsers adds the userName of each id to users; an id that is not a
// user of the tenant is 400 invalidValue (no references across tenants or
// to missing users).
func (s *Server) lookupUsers(r *request, ids []string, users map[string]string) error {
	missing, err := s.findUsers(r, ids, users)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return notAUser(missing[0])
	}
	return nil
}

// findUsers adds the userName of each id to users and returns the ids
// that are not users of the tenant. A member without a value, or one that
// is not a User (the markers fixMembers reports), is 400 invalidValue.
func (s *Server) findUsers(r *request, ids []string, users map[string]string) (missing []string, err error) {
	for _, id := range ids {
		switch {
		case id == "":
			return nil, scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "every member needs a \"value\" with the id of a User")
		case strings.HasPrefix(id, "\x00"):
			return nil, scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "members must be Users, not %q", id[1:])
		}
		if _, ok := users[id]; ok {
			continue
		}
		rec, err := s.store.GetResource(r.Context(), r.tenant, store.TypeUser, id)
		if errors.Is(err, store.ErrNotFound) {
			missing = append(missing, id)
			continue
		}
		if err != nil {
			return nil, err
		}
		users[id] = rec.UserName
	}
	return missing, nil
}

// notAUser is the error for a member id that is not a user of the tenant.
func notAUser(id string) error {
	return scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "member %q is not a User of this tenant", id)
}

// dropMember removes user id from every group that lists it.
func (s *Server) dropMember(ctx context.Context, r *request, id string) error {
	groups, err := s.store.ListResources(ctx, r.tenant, store.TypeGroup, store.Query{})
	if err != nil {
		return err
	}
	now := s.now().UTC()
	for _, g := range groups {
		res, err := decodeData(g)
		if err != nil {
			return err
		}
		if _, ok := members(res)[id]; !ok {
			continue
		}
		_, err = s.store.UpdateResource(ctx, r.tenant, store.TypeGroup, g.ID, func(rec *store.Record) error {
			cur, err := decodeData(*rec)
			if err != nil {
				return err
			}
			list, _ := cur["members"].([]any)
			kept := make([]any, 0, len(list))
			for _, m := range list {
				if mm, ok := m.(map[string]any); ok && mm["value"] == id {
					continue
				}
				kept = append(kept, m)
			}
			if len(kept) == 0 {
				delete(cur, "members")
			} else {
				cur["members"] = kept
			}
			setMeta(cur, s.groups, r.base, rec.ID, createdOf(rec), now, rec.Version+1)
			return fill(s.groups, rec, cur, now)
		})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("scim/server: remove deleted user from group %s: %w", g.ID, err)
		}
	}
	return nil
}

// membership maps each user id of the tenant to its "groups" values
// (RFC 7643 §4.1.2), computed from the groups' members.
func (s *Server) membership(r *request) (map[string][]any, error) {
	groups, err := s.store.ListResources(r.Context(), r.tenant, store.TypeGroup, store.Query{})
	if err != nil {
		return nil, err
	}
	out := map[string][]any{}
	for _, g := range groups {
		res, err := decodeData(g)
		if err != nil {
			return nil, err
		}
		for uid := range members(res) {
			out[uid] = append(out[uid], map[string]any{
				"value":   g.ID,
				"display": g.DisplayName,
				"$ref":    location(r.base, s.groups, g.ID),
				"type":    "direct",
			})
		}
	}
	return out, nil
}
