package mgmt

import (
	"net/http"

	"github.com/idpkit/idpkit/mockidp/directory"
)

type groupBody struct {
	Profile *struct {
		Name        *string `json:"name"`
		Description *string `json:"description"`
	} `json:"profile"`
}

func (b groupBody) values() (name, desc string) {
	if b.Profile == nil {
		return "", ""
	}
	if b.Profile.Name != nil {
		name = *b.Profile.Name
	}
	if b.Profile.Description != nil {
		desc = *b.Profile.Description
	}
	return name, desc
}

// POST /api/v1/groups {profile:{name, description}}
func (h *Handler) createGroup(w http.ResponseWriter, r *http.Request) {
	var body groupBody
	if !h.decode(w, r, &body) {
		return
	}
	name, desc := body.values()
	h.mu.Lock()
	g, err := h.dir.CreateGroup(name, desc)
	if err == nil {
		h.dir.Log(directory.Event{EventType: "group.lifecycle.create", DisplayMessage: "Create Okta group", Outcome: directory.Outcome{Result: "SUCCESS"}, Target: []directory.Target{directory.GroupTarget(g)}})
	}
	h.mu.Unlock()
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, groupJSON(h.base(r), g))
}

func groupAttr(g directory.Group, attr string) (string, bool) {
	switch attr {
	case "id":
		return g.ID, true
	case "type":
		return groupType(g), true
	case "profile.name":
		return g.Name, true
	case "profile.description":
		return g.Description, true
	}
	return "", false
}

func (h *Handler) writeGroups(w http.ResponseWriter, r *http.Request, groups []directory.Group) {
	if q := r.URL.Query().Get("q"); q != "" {
		var out []directory.Group
		for _, g := range groups {
			if startsWith(q, g.Name) {
				out = append(out, g)
			}
		}
		groups = out
	}
	groups, ok := filterItems(h, w, r, groups, groupAttr)
	if !ok {
		return
	}
	writePage(h, w, r, groups, func(g directory.Group) string { return g.ID }, 200, 10000, func(x directory.Group) GroupJSON { return groupJSON(h.base(r), x) })
}

// GET /api/v1/groups?q=&filter=&limit=&after=
func (h *Handler) listGroups(w http.ResponseWriter, r *http.Request) {
	h.writeGroups(w, r, h.dir.Groups())
}

// GET /api/v1/groups/{gid}
func (h *Handler) getGroup(w http.ResponseWriter, r *http.Request) {
	g, err := h.dir.Group(r.PathValue("gid"))
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, groupJSON(h.base(r), g))
}

// PUT /api/v1/groups/{gid} {profile:{name, description}}
func (h *Handler) updateGroup(w http.ResponseWriter, r *http.Request) {
	var body groupBody
	if !h.decode(w, r, &body) {
		return
	}
	name, desc := body.values()
	g, err := h.UpdateGroupProfile(r.Context(), r.PathValue("gid"), name, desc)
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, groupJSON(h.base(r), g))
}

// DELETE /api/v1/groups/{gid}
func (h *Handler) deleteGroup(w http.ResponseWriter, r *http.Request) {
	if err := h.DeleteGroup(r.Context(), r.PathValue("gid")); err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// GET /api/v1/groups/{gid}/users
func (h *Handler) groupUsers(w http.ResponseWriter, r *http.Request) {
	g, err := h.dir.Group(r.PathValue("gid"))
	if err != nil {
		h.fail(w, err)
		return
	}
	users := make([]directory.User, 0, len(g.Members))
	for _, id := range g.Members {
		if u, err := h.dir.User(id); err == nil {
			users = append(users, u)
		}
	}
	writePage(h, w, r, users, userID, 1000, 1000, func(x directory.User) UserJSON { return userJSON(h.base(r), x) })
}

// PUT /api/v1/groups/{gid}/users/{uid}
func (h *Handler) addMember(w http.ResponseWriter, r *http.Request) {
	if err := h.AddMember(r.Context(), r.PathValue("gid"), r.PathValue("uid")); err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// DELETE /api/v1/groups/{gid}/users/{uid}
func (h *Handler) removeMember(w http.ResponseWriter, r *http.Request) {
	if err := h.RemoveMember(r.Context(), r.PathValue("gid"), r.PathValue("uid")); err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
