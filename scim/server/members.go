package server

import (
	"errors"
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
func (s *Server) resolveMembers(r *request, res scim.Resource) error {
	users := map[string]string{}
	for range 2 {
		need := fixMembers(res, r.base, nil, users)
		if len(need) == 0 {
			return nil
		}
		if err := s.lookupUsers(r, need, users); err != nil {
			return err
		}
	}
	return nil
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
	for _, id := range ids {
		switch {
		case id == "":
			return scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "every member needs a \"value\" with the id of a User")
		case strings.HasPrefix(id, "\x00"):
			return scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "members must be Users, not %q", id[1:])
		}
		if _, ok := users[id]; ok {
			continue
		}
		rec, err := s.store.GetResource(r.Context(), r.tenant, store.TypeUser, id)
		if errors.Is(err, store.ErrNotFound) {
			return scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "member %q is not a User of this tenant", id)
		}
		if err != nil {
			return err
		}
		users[id] = rec.UserName
	}
	return nil
}
