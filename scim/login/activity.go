package login

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/idpkit/idpkit/scim/activity"
	"github.com/idpkit/idpkit/scim/adminapi"
	"github.com/idpkit/idpkit/scim/store"
)

// handleActivity answers GET …/admin/api/activity (adminapi.Activity):
// the connected mark of the current secret, the SCIM requests this
// instance served the tenant, and the users and groups Okta provisioned.
// The dialog polls it while Okta provisions.
func (h *Handler) handleActivity(w http.ResponseWriter, r *http.Request) {
	t, _, ok := h.requireAdminAPI(w, r)
	if !ok {
		return
	}
	a, err := h.activityOf(r.Context(), t)
	if err != nil {
		h.log.ErrorContext(r.Context(), "read activity", "tenant", t.Name, "err", err)
		writeJSONError(w, http.StatusInternalServerError, "server_error", "the server could not read the tenant's activity; try again")
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// activityOf gathers the tenant's adminapi.Activity.
func (h *Handler) activityOf(ctx context.Context, t store.Tenant) (adminapi.Activity, error) {
	a := adminapi.Activity{Requests: []adminapi.Request{}}
	var err error
	if a.Connected, err = h.connected(ctx, t); err != nil {
		return adminapi.Activity{}, err
	}
	if h.activity != nil {
		a.Requests = h.activity.Recent(t.Name, adminapi.MaxRequests)
	}
	if a.Users, err = h.recent(ctx, t.Name, store.TypeUser); err != nil {
		return adminapi.Activity{}, err
	}
	if a.Groups, err = h.recent(ctx, t.Name, store.TypeGroup); err != nil {
		return adminapi.Activity{}, err
	}
	if len(t.PrevTokenHash) > 0 && h.now().Before(t.PrevTokenExpires) {
		until := t.PrevTokenExpires.UTC()
		a.PreviousSecretUntil = &until
	}
	return a, nil
}

// connected returns the tenant's connected mark (activity.KindConnected)
// when it was made with the current secret; nil when there is none or it
// was made with a secret since rotated.
func (h *Handler) connected(ctx context.Context, t store.Tenant) (*adminapi.Request, error) {
	tok, err := h.store.GetToken(ctx, activity.KindConnected, t.Name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var c activity.Connected
	if err := json.Unmarshal(tok.Value, &c); err != nil {
		h.log.WarnContext(ctx, "connected mark is not JSON", "tenant", t.Name, "err", err)
		return nil, nil
	}
	if len(t.TokenHash) == 0 || c.TokenHash != hex.EncodeToString(t.TokenHash) {
		return nil, nil
	}
	return &c.Request, nil
}

// recent counts the tenant's resources of typ and lists the
// adminapi.MaxRecent most recently modified.
func (h *Handler) recent(ctx context.Context, tenant, typ string) (adminapi.ResourceList, error) {
	total, err := h.store.CountResources(ctx, tenant, typ, nil)
	if err != nil {
		return adminapi.ResourceList{}, err
	}
	recs, err := h.store.ListResources(ctx, tenant, typ, store.Query{Sort: store.FieldModified, Desc: true, Limit: adminapi.MaxRecent})
	if err != nil {
		return adminapi.ResourceList{}, err
	}
	l := adminapi.ResourceList{Total: total, Recent: make([]adminapi.Provisioned, 0, len(recs))}
	for _, rec := range recs {
		p := adminapi.Provisioned{ID: rec.ID, Modified: rec.Modified}
		if typ == store.TypeUser {
			u := parseUser(rec) // active as sign-in reads it
			p.Name, p.DisplayName, p.Active = rec.UserName, userDisplayName(rec), u.active
		} else {
			// Members are Users of the tenant (the store checks it), so
			// counting the users in the group counts its members, in SQL,
			// without reading a large group's member list.
			n, err := h.store.CountResources(ctx, tenant, store.TypeUser, store.Eq(store.FieldGroup, rec.ID))
			if err != nil {
				return adminapi.ResourceList{}, err
			}
			p.Name, p.Active, p.Members = rec.DisplayName, true, n
		}
		l.Recent = append(l.Recent, p)
	}
	return l, nil
}

// userDisplayName is how the dialog names a user besides its userName:
// displayName, else name.formatted, else givenName and familyName (RFC
// 7643 §4.1.1).
func userDisplayName(rec store.Record) string {
	if rec.DisplayName != "" {
		return rec.DisplayName
	}
	var data struct {
		DisplayName string `json:"displayName"`
		Name        struct {
			Formatted  string `json:"formatted"`
			GivenName  string `json:"givenName"`
			FamilyName string `json:"familyName"`
		} `json:"name"`
	}
	if json.Unmarshal(rec.Data, &data) != nil {
		return ""
	}
	switch {
	case data.DisplayName != "":
		return data.DisplayName
	case data.Name.Formatted != "":
		return data.Name.Formatted
	}
	return strings.TrimSpace(data.Name.GivenName + " " + data.Name.FamilyName)
}
