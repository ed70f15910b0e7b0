package mgmt

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/idpkit/idpkit/mockidp/directory"
)

type appBody struct {
	Name        string `json:"name"`
	Label       string `json:"label"`
	SignOnMode  string `json:"signOnMode"`
	Credentials *struct {
		OAuthClient *struct {
			TokenEndpointAuthMethod string `json:"token_endpoint_auth_method"`
			ClientID                string `json:"client_id"`
			ClientSecret            string `json:"client_secret"`
		} `json:"oauthClient"`
	} `json:"credentials"`
	Settings *struct {
		App *struct {
			BaseURL          string `json:"baseUrl"`
			ProvisioningKind string `json:"provisioningKind"`
		} `json:"app"`
		OAuthClient *struct {
			RedirectURIs           []string `json:"redirect_uris"`
			PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
			ResponseTypes          []string `json:"response_types"`
			GrantTypes             []string `json:"grant_types"`
			ApplicationType        string   `json:"application_type"`
		} `json:"oauthClient"`
	} `json:"settings"`
}

// Values of settings.app.provisioningKind, the mock's own setting for how
// a SCIM app (name scim2testapp) is provisioned (directory.Provisioning.Kind).
const (
	ProvisioningKindTestApp   = "test"      // the SCIM 2.0 Test App (the default)
	ProvisioningKindCatalogue = "catalogue" // an OIN catalogue app: profile changes as PATCH
	ProvisioningKindCustom    = "custom"    // an App Integration Wizard app: GET and PUT, whole groups
)

// ParseProvisioningKind maps a provisioningKind ("", "test", "catalogue"
// or "custom", in any case) to a directory.Provisioning.Kind; ok is false
// for anything else. Seeds use it for their "kind".
func ParseProvisioningKind(s string) (kind string, ok bool) {
	switch strings.ToLower(s) {
	case "", ProvisioningKindTestApp:
		return directory.KindTestApp, true
	case ProvisioningKindCatalogue:
		return directory.KindCatalogue, true
	case ProvisioningKindCustom:
		return directory.KindCustom, true
	}
	return "", false
}

// kindJSON is ParseProvisioningKind's inverse.
func kindJSON(kind string) string {
	if kind == directory.KindTestApp {
		return ProvisioningKindTestApp
	}
	return kind
}

// POST /api/v1/apps: an OIDC web app (name oidc_client) or a SCIM app
// (name scim2testapp). A SCIM app's settings.app.provisioningKind is
// "test" (default), "catalogue" or "custom".
func (h *Handler) createApp(w http.ResponseWriter, r *http.Request) {
	var b appBody
	if !h.decode(w, r, &b) {
		return
	}
	a := directory.App{Name: b.Name, Label: b.Label, SignOnMode: b.SignOnMode}
	switch b.Name {
	case directory.AppNameOIDC:
		if b.SignOnMode != "" && b.SignOnMode != directory.SignOnOpenIDConnect {
			h.validation(w, "signOnMode", "signOnMode: oidc_client apps use OPENID_CONNECT")
			return
		}
		if b.Settings == nil || b.Settings.OAuthClient == nil {
			h.validation(w, "settings.oauthClient", "settings.oauthClient: The field cannot be left blank")
			return
		}
		s := b.Settings.OAuthClient
		c := &directory.OAuthClient{
			RedirectURIs: s.RedirectURIs, PostLogoutRedirectURIs: s.PostLogoutRedirectURIs,
			ResponseTypes: s.ResponseTypes, GrantTypes: s.GrantTypes, ApplicationType: s.ApplicationType,
		}
		if b.Credentials != nil && b.Credentials.OAuthClient != nil {
			c.TokenEndpointAuthMethod = b.Credentials.OAuthClient.TokenEndpointAuthMethod
			c.ClientID = b.Credentials.OAuthClient.ClientID
			c.ClientSecret = b.Credentials.OAuthClient.ClientSecret
		}
		a.OAuthClient = c
	case directory.AppNameSCIM:
		p := &directory.Provisioning{}
		if b.Settings != nil && b.Settings.App != nil {
			p.BaseURL = b.Settings.App.BaseURL
			kind, ok := ParseProvisioningKind(b.Settings.App.ProvisioningKind)
			if !ok {
				h.validation(w, "settings.app.provisioningKind", "settings.app.provisioningKind: must be "+ProvisioningKindTestApp+", "+ProvisioningKindCatalogue+" or "+ProvisioningKindCustom)
				return
			}
			p.Kind = kind
		}
		a.Provisioning = p
	case "":
		h.validation(w, "name", "name: The field cannot be left blank")
		return
	default:
		h.validation(w, "name", "name: No app definition named '"+b.Name+"' in this org; use "+directory.AppNameOIDC+" or "+directory.AppNameSCIM)
		return
	}
	h.mu.Lock()
	app, err := h.dir.CreateApp(a)
	if err == nil {
		h.dir.Log(directory.Event{EventType: "application.lifecycle.create", DisplayMessage: "Create application", Outcome: directory.Outcome{Result: "SUCCESS"}, Target: []directory.Target{directory.AppTarget(app)}})
	}
	h.mu.Unlock()
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, appJSON(h.base(r), app))
}

func appAttr(a directory.App, attr string) (string, bool) {
	switch attr {
	case "id":
		return a.ID, true
	case "name":
		return a.Name, true
	case "status":
		return a.Status, true
	case "label":
		return a.Label, true
	case "credentials.oauthClient.client_id":
		if a.OAuthClient != nil {
			return a.OAuthClient.ClientID, true
		}
		return "", true
	}
	return "", false
}

// GET /api/v1/apps?q=&filter=&limit=&after=
func (h *Handler) listApps(w http.ResponseWriter, r *http.Request) {
	apps := h.dir.Apps()
	if q := r.URL.Query().Get("q"); q != "" {
		var out []directory.App
		for _, a := range apps {
			if startsWith(q, a.Label, a.Name) {
				out = append(out, a)
			}
		}
		apps = out
	}
	apps, ok := filterItems(h, w, r, apps, appAttr)
	if !ok {
		return
	}
	writePage(h, w, r, apps, func(a directory.App) string { return a.ID }, 20, 200, func(x directory.App) map[string]any { return appJSON(h.base(r), x) })
}

// GET /api/v1/apps/{id}
func (h *Handler) getApp(w http.ResponseWriter, r *http.Request) {
	a, err := h.dir.App(r.PathValue("id"))
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, appJSON(h.base(r), a))
}

// POST /api/v1/apps/{id}/lifecycle/{activate,deactivate}
func (h *Handler) appLifecycle(w http.ResponseWriter, r *http.Request) {
	status := map[string]string{"activate": "ACTIVE", "deactivate": "INACTIVE"}[r.PathValue("op")]
	if status == "" {
		h.notFound(w, r.URL.Path, "Endpoint")
		return
	}
	if _, err := h.UpdateApp(r.PathValue("id"), func(a *directory.App) error { a.Status = status; return nil }); err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}

// scimAppOf returns the SCIM app for a connection or feature request, or
// writes Okta's 404.
func (h *Handler) scimAppOf(w http.ResponseWriter, r *http.Request, kind, name string) (directory.App, bool) {
	a, err := h.dir.App(r.PathValue("id"))
	if err != nil {
		h.fail(w, err)
		return directory.App{}, false
	}
	if a.Provisioning == nil {
		h.notFound(w, name, kind)
		return directory.App{}, false
	}
	return a, true
}

// GET /api/v1/apps/{id}/connections/default
func (h *Handler) getConnection(w http.ResponseWriter, r *http.Request) {
	a, ok := h.scimAppOf(w, r, "ProvisioningConnection", "default")
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, connectionJSON(h.base(r), a))
}

// POST /api/v1/apps/{id}/connections/default?activate=true
// {profile:{authScheme:"TOKEN", token}, baseUrl}: saves the connection and,
// unless activate=false, runs Test API Credentials as Okta's Save does.
func (h *Handler) setConnection(w http.ResponseWriter, r *http.Request) {
	a, ok := h.scimAppOf(w, r, "ProvisioningConnection", "default")
	if !ok {
		return
	}
	var b struct {
		BaseURL *string `json:"baseUrl"`
		Profile *struct {
			AuthScheme string  `json:"authScheme"`
			Token      *string `json:"token"`
		} `json:"profile"`
	}
	if !h.decode(w, r, &b) {
		return
	}
	if b.Profile == nil {
		h.validation(w, "profile", "profile: The field cannot be left blank")
		return
	}
	if s := strings.ToUpper(b.Profile.AuthScheme); s != "" && s != "TOKEN" {
		h.validation(w, "profile.authScheme", "profile.authScheme: this app supports only TOKEN")
		return
	}
	_, err := h.UpdateApp(a.ID, func(a *directory.App) error {
		p := a.Provisioning
		p.AuthScheme = "TOKEN"
		if b.Profile.Token != nil {
			p.Token = *b.Profile.Token
		}
		if b.BaseURL != nil {
			p.BaseURL = strings.TrimRight(*b.BaseURL, "/")
		}
		p.Status = directory.ConnectionDisabled
		return nil
	})
	if err != nil {
		h.fail(w, err)
		return
	}
	if boolQuery(r, "activate", true) {
		if err := h.TestConnection(r.Context(), a.ID); err != nil {
			h.fail(w, err)
			return
		}
	}
	a, _ = h.dir.App(a.ID)
	writeJSON(w, http.StatusCreated, connectionJSON(h.base(r), a))
}

// POST /api/v1/apps/{id}/connections/default/lifecycle/{activate,deactivate}:
// activate is "Test API Credentials".
func (h *Handler) connectionLifecycle(w http.ResponseWriter, r *http.Request) {
	a, ok := h.scimAppOf(w, r, "ProvisioningConnection", "default")
	if !ok {
		return
	}
	switch r.PathValue("op") {
	case "activate":
		if err := h.TestConnection(r.Context(), a.ID); err != nil {
			h.fail(w, err)
			return
		}
	case "deactivate":
		if _, err := h.UpdateApp(a.ID, func(a *directory.App) error { a.Provisioning.Status = directory.ConnectionDisabled; return nil }); err != nil {
			h.fail(w, err)
			return
		}
	default:
		h.notFound(w, r.URL.Path, "Endpoint")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// GET /api/v1/apps/{id}/features
func (h *Handler) listFeatures(w http.ResponseWriter, r *http.Request) {
	a, ok := h.scimAppOf(w, r, "AppFeature", "USER_PROVISIONING")
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, []map[string]any{featureJSON(h.base(r), a)})
}

// GET /api/v1/apps/{id}/features/USER_PROVISIONING
func (h *Handler) getFeature(w http.ResponseWriter, r *http.Request) {
	a, ok := h.scimAppOf(w, r, "AppFeature", r.PathValue("name"))
	if !ok {
		return
	}
	if r.PathValue("name") != "USER_PROVISIONING" {
		h.notFound(w, r.PathValue("name"), "AppFeature")
		return
	}
	writeJSON(w, http.StatusOK, featureJSON(h.base(r), a))
}

type statusJSON struct {
	Status *string `json:"status"`
}

func (s *statusJSON) apply(dst *bool) bool {
	if s == nil || s.Status == nil {
		return true
	}
	switch strings.ToUpper(*s.Status) {
	case "ENABLED":
		*dst = true
	case "DISABLED":
		*dst = false
	default:
		return false
	}
	return true
}

type capabilities struct {
	Create *struct {
		LifecycleCreate *statusJSON `json:"lifecycleCreate"`
	} `json:"create"`
	Update *struct {
		Profile             *statusJSON `json:"profile"`
		LifecycleDeactivate *statusJSON `json:"lifecycleDeactivate"`
		Password            *statusJSON `json:"password"`
	} `json:"update"`
	Capabilities json.RawMessage `json:"capabilities"`
}

// PUT /api/v1/apps/{id}/features/USER_PROVISIONING with the capabilities
// object (Create Users, Update User Attributes, Deactivate Users, Sync
// Password). Capabilities left out keep their setting. Like Save in the
// admin console it then reads the app's groups (SaveToAppSettings).
func (h *Handler) putFeature(w http.ResponseWriter, r *http.Request) {
	a, ok := h.scimAppOf(w, r, "AppFeature", r.PathValue("name"))
	if !ok {
		return
	}
	if r.PathValue("name") != "USER_PROVISIONING" {
		h.notFound(w, r.PathValue("name"), "AppFeature")
		return
	}
	var c capabilities
	if !h.decode(w, r, &c) {
		return
	}
	if len(c.Capabilities) > 0 { // tolerate the feature object's shape
		if err := json.Unmarshal(c.Capabilities, &c); err != nil {
			h.writeError(w, http.StatusBadRequest, "E0000003", "The request body was not well-formed.", nil)
			return
		}
	}
	a, err := h.UpdateApp(a.ID, func(a *directory.App) error {
		p := a.Provisioning
		ok := true
		if c.Create != nil {
			ok = c.Create.LifecycleCreate.apply(&p.Create) && ok
		}
		if c.Update != nil {
			ok = c.Update.Profile.apply(&p.Update) && ok
			ok = c.Update.LifecycleDeactivate.apply(&p.Deactivate) && ok
			ok = c.Update.Password.apply(&p.Password) && ok
		}
		if !ok {
			return apiError(http.StatusBadRequest, "E0000001", "Api validation failed: status", "status: must be ENABLED or DISABLED")
		}
		return nil
	})
	if err != nil {
		h.fail(w, err)
		return
	}
	h.SaveToAppSettings(r.Context(), a.ID)
	writeJSON(w, http.StatusOK, featureJSON(h.base(r), a))
}

// POST /api/v1/apps/{id}/users {id, scope:"USER", credentials:{userName}}
func (h *Handler) assignUser(w http.ResponseWriter, r *http.Request) {
	var b struct {
		ID          string `json:"id"`
		Scope       string `json:"scope"`
		Credentials *struct {
			UserName string `json:"userName"`
		} `json:"credentials"`
	}
	if !h.decode(w, r, &b) {
		return
	}
	if b.ID == "" {
		h.validation(w, "id", "id: The field cannot be left blank")
		return
	}
	if b.Scope != "" && !strings.EqualFold(b.Scope, "USER") {
		h.validation(w, "scope", "scope: only USER can be assigned here; assign groups with PUT /api/v1/apps/{id}/groups/{groupId}")
		return
	}
	userName := ""
	if b.Credentials != nil {
		userName = b.Credentials.UserName
	}
	au, err := h.AssignUser(r.Context(), r.PathValue("id"), b.ID, userName)
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, appUserJSON(h.base(r), au))
}

// GET /api/v1/apps/{id}/users
func (h *Handler) listAppUsers(w http.ResponseWriter, r *http.Request) {
	if _, err := h.dir.App(r.PathValue("id")); err != nil {
		h.fail(w, err)
		return
	}
	writePage(h, w, r, h.dir.AppUsers(r.PathValue("id")), func(a directory.AppUser) string { return a.UserID }, 50, 500, func(x directory.AppUser) map[string]any { return appUserJSON(h.base(r), x) })
}

// GET /api/v1/apps/{id}/users/{uid}
func (h *Handler) getAppUser(w http.ResponseWriter, r *http.Request) {
	if _, err := h.dir.App(r.PathValue("id")); err != nil {
		h.fail(w, err)
		return
	}
	au, err := h.dir.AppUser(r.PathValue("id"), r.PathValue("uid"))
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, appUserJSON(h.base(r), au))
}

// DELETE /api/v1/apps/{id}/users/{uid}
func (h *Handler) unassignUser(w http.ResponseWriter, r *http.Request) {
	if err := h.UnassignUser(r.Context(), r.PathValue("id"), r.PathValue("uid")); err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// PUT /api/v1/apps/{id}/groups/{gid}
func (h *Handler) assignGroup(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Priority *int `json:"priority"`
	}
	if !h.decode(w, r, &b) {
		return
	}
	ag, err := h.AssignGroup(r.Context(), r.PathValue("id"), r.PathValue("gid"))
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, appGroupJSON(h.base(r), ag))
}

// GET /api/v1/apps/{id}/groups
func (h *Handler) listAppGroups(w http.ResponseWriter, r *http.Request) {
	if _, err := h.dir.App(r.PathValue("id")); err != nil {
		h.fail(w, err)
		return
	}
	writePage(h, w, r, h.dir.AppGroups(r.PathValue("id")), func(a directory.AppGroup) string { return a.GroupID }, 20, 200, func(x directory.AppGroup) map[string]any { return appGroupJSON(h.base(r), x) })
}

// GET /api/v1/apps/{id}/groups/{gid}
func (h *Handler) getAppGroup(w http.ResponseWriter, r *http.Request) {
	if _, err := h.dir.App(r.PathValue("id")); err != nil {
		h.fail(w, err)
		return
	}
	ag, err := h.dir.AppGroup(r.PathValue("id"), r.PathValue("gid"))
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, appGroupJSON(h.base(r), ag))
}

// DELETE /api/v1/apps/{id}/groups/{gid}
func (h *Handler) unassignGroup(w http.ResponseWriter, r *http.Request) {
	if err := h.UnassignGroup(r.Context(), r.PathValue("id"), r.PathValue("gid")); err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
