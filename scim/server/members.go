package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/store"
)

// lookupChunk is how many ids one userName lookup asks the store for.
const lookupChunk = 256

// takeMembers removes "members" from a normalised group resource and
// returns them as store members: in order, duplicates merged (the first
// one stays), each checked to be a User with a value. Whether each value
// names a user of the tenant is the store's to check.
func takeMembers(res scim.Resource) ([]store.Member, error) {
	raw, ok := res["members"]
	delete(res, "members")
	if !ok || raw == nil {
		return []store.Member{}, nil // not nil: the group has no members
	}
	list, _ := raw.([]any)
	out := make([]store.Member, 0, len(list))
	seen := make(map[string]bool, len(list))
	for _, e := range list {
		m, err := memberOf(e)
		if err != nil {
			return nil, err
		}
		if seen[m.Value] {
			continue
		}
		seen[m.Value] = true
		out = append(out, m)
	}
	return out, nil
}

// memberOf reads one member value of a normalised resource or of a PATCH:
// an object with "value" and optional "display" and "type" (which must be
// User), or a bare id string.
func memberOf(e any) (store.Member, error) {
	if id, ok := e.(string); ok && id != "" {
		return store.Member{Value: id}, nil
	}
	mm, _ := e.(map[string]any)
	v, _ := getFold(mm, "value").(string)
	if v == "" {
		return store.Member{}, scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "every member needs a \"value\" with the id of a User")
	}
	if t, ok := getFold(mm, "type").(string); ok && !strings.EqualFold(t, "User") {
		return store.Member{}, scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "members must be Users, not %q", t)
	}
	d, _ := getFold(mm, "display").(string)
	return store.Member{Value: v, Display: d}, nil
}

// completeDisplays gives every member of ms that has no display, and is
// not in known (members already stored, whose display the store keeps),
// the userName of its user. The userNames are read with one query per
// lookupChunk ids; an id that names no user is left for the store to
// refuse.
func (s *Server) completeDisplays(ctx context.Context, tenant string, ms []store.Member, known map[string]bool) error {
	var need []string
	seen := map[string]bool{}
	for _, m := range ms {
		if m.Display == "" && !known[m.Value] && !seen[m.Value] {
			seen[m.Value] = true
			need = append(need, m.Value)
		}
	}
	if len(need) == 0 {
		return nil
	}
	names, err := s.userNames(ctx, tenant, need)
	if err != nil {
		return err
	}
	for i := range ms {
		if ms[i].Display == "" && !known[ms[i].Value] {
			ms[i].Display = names[ms[i].Value]
		}
	}
	return nil
}

// userNames returns the userName of each of ids that is a user of tenant.
func (s *Server) userNames(ctx context.Context, tenant string, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	for from := 0; from < len(ids); from += lookupChunk {
		chunk := ids[from:min(from+lookupChunk, len(ids))]
		or := make([]store.Cond, len(chunk))
		for i, id := range chunk {
			or[i] = *store.Eq(store.FieldID, id)
		}
		recs, err := s.store.ListResources(ctx, tenant, store.TypeUser, store.Query{Where: &store.Cond{Or: or}})
		if err != nil {
			return nil, fmt.Errorf("scim/server: look up members: %w", err)
		}
		for _, r := range recs {
			out[r.ID] = r.UserName
		}
	}
	return out, nil
}

// notAUser is the error for a member id that is not a user of the tenant.
func notAUser(id string) error {
	return scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "member %q is not a User of this tenant", id)
}

// probeMembers is a group with one member, projected to learn whether a
// response shows members.
var probeMembers = scim.Resource{"members": []any{map[string]any{"value": "v", "display": "d", "$ref": "r", "type": "User"}}}

// showsMembers reports whether a group rendered with the projection
// attrs and excluded (RFC 7644 §3.9) shows any of its members' values.
func (s *Server) showsMembers(attrs, excluded string) bool {
	_, ok := project(probeMembers, s.groups.rt, attrs, excluded)["members"]
	return ok
}

// groupsOf returns the groups of user id (nil for a Group).
func (s *Server) groupsOf(r *request, k *kind, id string) ([]store.GroupRef, error) {
	if k.typ != store.TypeUser {
		return nil, nil
	}
	m, err := s.store.GroupsOf(r.Context(), r.tenant, []string{id})
	if err != nil {
		return nil, err
	}
	return m[id], nil
}
