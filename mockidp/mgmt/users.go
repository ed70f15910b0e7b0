package mgmt

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/idpkit/idpkit/mockidp/directory"
)

type userBody struct {
	Profile     map[string]json.RawMessage `json:"profile"`
	Credentials *struct {
		Password *struct {
			Value *string `json:"value"`
		} `json:"password"`
	} `json:"credentials"`
}

func (b userBody) password() (string, bool) {
	if b.Credentials == nil || b.Credentials.Password == nil || b.Credentials.Password.Value == nil {
		return "", false
	}
	return *b.Credentials.Password.Value, true
}

// POST /api/v1/users?activate=true|false
func (h *Handler) createUser(w http.ResponseWriter, r *http.Request) {
	var body userBody
	if !h.decode(w, r, &body) {
		return
	}
	if body.Profile == nil {
		h.validation(w, "profile", "profile: The field cannot be left blank")
		return
	}
	p, err := mergeProfile(directory.Profile{}, body.Profile)
	if err != nil {
		h.fail(w, err)
		return
	}
	pw, hasPW := body.password()
	if hasPW && pw == "" {
		h.validation(w, "password", "password: The field cannot be left blank")
		return
	}
	activate := boolQuery(r, "activate", true)
	h.mu.Lock()
	u, err := h.dir.CreateUser(p, pw, activate)
	if err == nil && hasPW {
		h.RememberPassword(u.ID, pw)
	}
	if err == nil {
		h.dir.Log(directory.Event{EventType: "user.lifecycle.create", LegacyEventType: "core.user.config.user_creation.success", DisplayMessage: "Create Okta user", Outcome: directory.Outcome{Result: "SUCCESS"}, Target: []directory.Target{directory.UserTarget(u)}})
		if activate {
			h.dir.Log(directory.Event{EventType: "user.lifecycle.activate", LegacyEventType: "core.user.config.user_activated", DisplayMessage: lifecycleMessage[OpActivate], Outcome: directory.Outcome{Result: "SUCCESS"}, Target: []directory.Target{directory.UserTarget(u)}})
		}
	}
	h.mu.Unlock()
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, userJSON(h.base(r), u))
}

func userAttr(u directory.User, attr string) (string, bool) {
	switch attr {
	case "id":
		return u.ID, true
	case "status":
		return string(u.Status), true
	}
	name, ok := strings.CutPrefix(attr, "profile.")
	if !ok {
		return "", false
	}
	switch name {
	case "login":
		return u.Profile.Login, true
	case "email":
		return u.Profile.Email, true
	case "firstName":
		return u.Profile.FirstName, true
	case "lastName":
		return u.Profile.LastName, true
	case "displayName":
		return u.Profile.DisplayName, true
	case "locale":
		return u.Profile.Locale, true
	case "title":
		return u.Profile.Title, true
	case "department":
		return u.Profile.Department, true
	}
	if v, ok := u.Profile.Extra[name].(string); ok {
		return v, true
	}
	return "", true
}

func userID(u directory.User) string { return u.ID }

func (h *Handler) writeUsers(w http.ResponseWriter, r *http.Request, users []directory.User) {
	if q := r.URL.Query().Get("q"); q != "" {
		var out []directory.User
		for _, u := range users {
			if startsWith(q, u.Profile.FirstName, u.Profile.LastName, u.Profile.Email, u.Profile.Login) {
				out = append(out, u)
			}
		}
		users = out
	}
	users, ok := filterItems(h, w, r, users, userAttr)
	if !ok {
		return
	}
	writePage(h, w, r, users, userID, 200, 200, func(x directory.User) UserJSON { return userJSON(h.base(r), x) })
}

// GET /api/v1/users?q=&filter=&search=&limit=&after=. As in Okta, a list
// without filter or search leaves out DEPROVISIONED users; ask for them
// with filter=status eq "DEPROVISIONED".
func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request) {
	users := h.dir.Users()
	if q := r.URL.Query(); q.Get("filter") == "" && q.Get("search") == "" {
		users = slices.DeleteFunc(users, func(u directory.User) bool { return u.Status == directory.StatusDeprovisioned })
	}
	h.writeUsers(w, r, users)
}

// GET /api/v1/users/{id or login}
func (h *Handler) getUser(w http.ResponseWriter, r *http.Request) {
	u, err := h.dir.User(r.PathValue("id"))
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, userJSON(h.base(r), u))
}

// POST /api/v1/users/{id} (partial) and PUT (full).
func (h *Handler) updateUser(partial bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body userBody
		if !h.decode(w, r, &body) {
			return
		}
		cur, err := h.dir.User(r.PathValue("id"))
		if err != nil {
			h.fail(w, err)
			return
		}
		u := cur
		if body.Profile != nil || !partial {
			base := cur.Profile
			if !partial {
				base = directory.Profile{}
			}
			p, err := mergeProfile(base, body.Profile)
			if err != nil {
				h.fail(w, err)
				return
			}
			if u, err = h.UpdateProfile(r.Context(), cur.ID, p); err != nil {
				h.fail(w, err)
				return
			}
		}
		if pw, ok := body.password(); ok {
			if u, err = h.SetPassword(r.Context(), cur.ID, pw); err != nil {
				h.fail(w, err)
				return
			}
		}
		writeJSON(w, http.StatusOK, userJSON(h.base(r), u))
	}
}

// DELETE /api/v1/users/{id}: deactivates first, deletes a deactivated user.
func (h *Handler) deleteUser(w http.ResponseWriter, r *http.Request) {
	if _, err := h.DeleteUser(r.Context(), r.PathValue("id")); err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// POST /api/v1/users/{id}/lifecycle/{activate,deactivate,suspend,unsuspend}
func (h *Handler) lifecycle(w http.ResponseWriter, r *http.Request) {
	op := r.PathValue("op")
	if op == "reactivate" {
		op = OpActivate
	}
	if _, ok := lifecycleMessage[op]; !ok {
		h.notFound(w, r.URL.Path, "Endpoint")
		return
	}
	if _, err := h.Lifecycle(r.Context(), r.PathValue("id"), op); err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}

// GET /api/v1/users/{id}/groups
func (h *Handler) userGroups(w http.ResponseWriter, r *http.Request) {
	gs, err := h.dir.UserGroups(r.PathValue("id"))
	if err != nil {
		h.fail(w, err)
		return
	}
	h.writeGroups(w, r, gs)
}
