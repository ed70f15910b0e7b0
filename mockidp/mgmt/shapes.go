package mgmt

import (
	"encoding/json"
	"time"

	"github.com/idpkit/idpkit/mockidp/directory"
)

// TimeFormat is Okta's timestamp layout (UTC, milliseconds).
const TimeFormat = "2006-01-02T15:04:05.000Z"

func ts(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(TimeFormat)
	return &s
}

type link struct {
	Href   string `json:"href"`
	Method string `json:"method,omitempty"`
}

type links map[string]link

// profileJSON renders a profile: Okta's base attributes plus the extras.
func profileJSON(p directory.Profile) map[string]any {
	m := map[string]any{}
	for k, v := range p.Extra {
		m[k] = v
	}
	for k, v := range map[string]string{
		"login": p.Login, "email": p.Email, "firstName": p.FirstName, "lastName": p.LastName,
		"displayName": p.DisplayName, "locale": p.Locale, "title": p.Title, "department": p.Department,
	} {
		if v != "" {
			m[k] = v
		} else if k == "login" || k == "email" || k == "firstName" || k == "lastName" {
			m[k] = nil
		}
	}
	for _, k := range []string{"mobilePhone", "secondEmail"} {
		if _, ok := m[k]; !ok {
			m[k] = nil
		}
	}
	return m
}

// mergeProfile applies the attributes in raw to p: strings for Okta's base
// attributes, anything for the others; null clears.
func mergeProfile(p directory.Profile, raw map[string]json.RawMessage) (directory.Profile, error) {
	fields := map[string]*string{
		"login": &p.Login, "email": &p.Email, "firstName": &p.FirstName, "lastName": &p.LastName,
		"displayName": &p.DisplayName, "locale": &p.Locale, "title": &p.Title, "department": &p.Department,
	}
	extra := map[string]any{}
	for k, v := range p.Extra {
		extra[k] = v
	}
	for k, v := range raw {
		if f, ok := fields[k]; ok {
			if string(v) == "null" {
				*f = ""
				continue
			}
			if err := json.Unmarshal(v, f); err != nil {
				return p, &directory.FieldError{Field: k, Message: "Does not match required pattern", Kind: directory.ErrInvalid}
			}
			continue
		}
		var x any
		if err := json.Unmarshal(v, &x); err != nil {
			return p, &directory.FieldError{Field: k, Message: "Does not match required pattern", Kind: directory.ErrInvalid}
		}
		if x == nil {
			delete(extra, k)
		} else {
			extra[k] = x
		}
	}
	p.Extra = nil
	if len(extra) > 0 {
		p.Extra = extra
	}
	return p, nil
}

// UserJSON is an Okta User object.
type UserJSON struct {
	ID              string         `json:"id"`
	Status          string         `json:"status"`
	Created         *string        `json:"created"`
	Activated       *string        `json:"activated"`
	StatusChanged   *string        `json:"statusChanged"`
	LastLogin       *string        `json:"lastLogin"`
	LastUpdated     *string        `json:"lastUpdated"`
	PasswordChanged *string        `json:"passwordChanged"`
	Type            map[string]any `json:"type"`
	Profile         map[string]any `json:"profile"`
	Credentials     map[string]any `json:"credentials"`
	Links           links          `json:"_links"`
}

func userJSON(base string, u directory.User) UserJSON {
	self := base + "/api/v1/users/" + u.ID
	creds := map[string]any{
		"emails":   []map[string]string{{"value": u.Profile.Email, "status": "VERIFIED", "type": "PRIMARY"}},
		"provider": map[string]string{"type": "OKTA", "name": "OKTA"},
	}
	if u.HasPassword {
		creds["password"] = map[string]any{}
	}
	l := links{"self": {Href: self}}
	lc := func(op string) { l[op] = link{Href: self + "/lifecycle/" + op, Method: "POST"} }
	switch u.Status {
	case directory.StatusStaged, directory.StatusDeprovisioned:
		lc("activate")
	case directory.StatusProvisioned:
		l["reactivate"] = link{Href: self + "/lifecycle/reactivate", Method: "POST"}
	case directory.StatusActive:
		lc("suspend")
		l["changePassword"] = link{Href: self + "/credentials/change_password", Method: "POST"}
	case directory.StatusSuspended:
		lc("unsuspend")
	}
	if u.Status != directory.StatusDeprovisioned {
		lc("deactivate")
	}
	return UserJSON{
		ID: u.ID, Status: string(u.Status),
		Created: ts(u.Created), Activated: ts(u.Activated), StatusChanged: ts(u.StatusChanged),
		LastLogin: ts(u.LastLogin), LastUpdated: ts(u.LastUpdated), PasswordChanged: ts(u.PasswordChanged),
		Type:        map[string]any{"id": "oty" + u.ID[3:min(len(u.ID), 20)]},
		Profile:     profileJSON(u.Profile),
		Credentials: creds,
		Links:       l,
	}
}

// GroupJSON is an Okta Group object.
type GroupJSON struct {
	ID                    string            `json:"id"`
	Created               *string           `json:"created"`
	LastUpdated           *string           `json:"lastUpdated"`
	LastMembershipUpdated *string           `json:"lastMembershipUpdated"`
	ObjectClass           []string          `json:"objectClass"`
	Type                  string            `json:"type"`
	Profile               map[string]string `json:"profile"`
	Links                 links             `json:"_links"`
}

func groupJSON(base string, g directory.Group) GroupJSON {
	self := base + "/api/v1/groups/" + g.ID
	return GroupJSON{
		ID: g.ID, Created: ts(g.Created), LastUpdated: ts(g.LastUpdated), LastMembershipUpdated: ts(g.LastMembershipUpdated),
		ObjectClass: []string{"okta:user_group"}, Type: groupType(g),
		Profile: map[string]string{"name": g.Name, "description": g.Description},
		Links:   links{"self": {Href: self}, "users": {Href: self + "/users"}, "apps": {Href: self + "/apps"}},
	}
}

// groupType is a group's Okta type: OKTA_GROUP, or BUILT_IN for Everyone.
func groupType(g directory.Group) string {
	if g.Type == "" {
		return directory.GroupTypeOkta
	}
	return g.Type
}

func enabled(b bool) map[string]string {
	if b {
		return map[string]string{"status": "ENABLED"}
	}
	return map[string]string{"status": "DISABLED"}
}

// appJSON renders an app in Okta's Application shape.
func appJSON(base string, a directory.App) map[string]any {
	self := base + "/api/v1/apps/" + a.ID
	m := map[string]any{
		"id": a.ID, "name": a.Name, "label": a.Label, "status": a.Status,
		"created": ts(a.Created), "lastUpdated": ts(a.LastUpdated), "signOnMode": a.SignOnMode,
		"accessibility": map[string]any{"selfService": false, "errorRedirectUrl": nil, "loginRedirectUrl": nil},
		"visibility":    map[string]any{"autoSubmitToolbar": false, "hide": map[string]bool{"iOS": false, "web": false}},
	}
	l := links{
		"self":   {Href: self},
		"users":  {Href: self + "/users"},
		"groups": {Href: self + "/groups"},
	}
	if a.Status == "ACTIVE" {
		l["deactivate"] = link{Href: self + "/lifecycle/deactivate", Method: "POST"}
	} else {
		l["activate"] = link{Href: self + "/lifecycle/activate", Method: "POST"}
	}
	userNameTemplate := map[string]any{"template": "${source.login}", "type": "BUILT_IN"}
	switch {
	case a.OAuthClient != nil:
		c := a.OAuthClient
		oc := map[string]any{"autoKeyRotation": true, "client_id": c.ClientID, "token_endpoint_auth_method": c.TokenEndpointAuthMethod}
		if c.ClientSecret != "" {
			oc["client_secret"] = c.ClientSecret
		}
		m["credentials"] = map[string]any{"userNameTemplate": userNameTemplate, "signing": map[string]any{}, "oauthClient": oc}
		post := c.PostLogoutRedirectURIs
		if post == nil {
			post = []string{}
		}
		m["settings"] = map[string]any{
			"app": map[string]any{},
			"oauthClient": map[string]any{
				"client_uri": nil, "logo_uri": nil,
				"redirect_uris": c.RedirectURIs, "post_logout_redirect_uris": post,
				"response_types": c.ResponseTypes, "grant_types": c.GrantTypes,
				"application_type": c.ApplicationType, "consent_method": "REQUIRED", "issuer_mode": "ORG_URL",
			},
		}
		m["features"] = []string{}
	case a.Provisioning != nil:
		p := a.Provisioning
		var features []string
		if p.Create {
			features = append(features, "PUSH_NEW_USERS", "GROUP_PUSH")
		}
		if p.Update {
			features = append(features, "PUSH_PROFILE_UPDATES")
		}
		if p.Deactivate {
			features = append(features, "PUSH_USER_DEACTIVATION", "REACTIVATE_USERS")
		}
		if p.Password {
			features = append(features, "PUSH_PASSWORD_UPDATES")
		}
		if features == nil {
			features = []string{}
		}
		m["features"] = features
		m["credentials"] = map[string]any{"scheme": "EDIT_USERNAME_AND_PASSWORD", "userNameTemplate": userNameTemplate, "signing": map[string]any{}}
		var baseURL any
		if p.BaseURL != "" {
			baseURL = p.BaseURL
		}
		m["settings"] = map[string]any{"app": map[string]any{"baseUrl": baseURL, "provisioningKind": kindJSON(p.Kind)}}
		l["connections"] = link{Href: self + "/connections/default"}
		l["features"] = link{Href: self + "/features"}
	}
	m["_links"] = l
	return m
}

func connectionJSON(base string, a directory.App) map[string]any {
	p := a.Provisioning
	self := base + "/api/v1/apps/" + a.ID + "/connections/default"
	l := links{"self": {Href: self}}
	if p.Status == directory.ConnectionEnabled {
		l["deactivate"] = link{Href: self + "/lifecycle/deactivate", Method: "POST"}
	} else {
		l["activate"] = link{Href: self + "/lifecycle/activate", Method: "POST"}
	}
	var baseURL any
	if p.BaseURL != "" {
		baseURL = p.BaseURL
	}
	return map[string]any{"authScheme": p.AuthScheme, "status": p.Status, "baseUrl": baseURL, "profile": map[string]string{"authScheme": p.AuthScheme}, "_links": l}
}

func featureJSON(base string, a directory.App) map[string]any {
	p := a.Provisioning
	status := "DISABLED"
	if p.Status == directory.ConnectionEnabled {
		status = "ENABLED"
	}
	pw := enabled(p.Password)
	pwm := map[string]string{"status": pw["status"], "seed": "RANDOM", "change": "KEEP_EXISTING"}
	self := base + "/api/v1/apps/" + a.ID + "/features/USER_PROVISIONING"
	return map[string]any{
		"name": "USER_PROVISIONING", "status": status,
		"description": "User provisioning settings from Okta to a downstream application",
		"capabilities": map[string]any{
			"create": map[string]any{"lifecycleCreate": enabled(p.Create)},
			"update": map[string]any{"profile": enabled(p.Update), "lifecycleDeactivate": enabled(p.Deactivate), "password": pwm},
		},
		"_links": links{"self": {Href: self, Method: "GET"}, "update": {Href: self, Method: "PUT"}},
	}
}

func appUserJSON(base string, au directory.AppUser) map[string]any {
	var ext any
	if au.ExternalID != "" {
		ext = au.ExternalID
	}
	return map[string]any{
		"id": au.UserID, "externalId": ext, "created": ts(au.Created), "lastUpdated": ts(au.LastUpdated),
		"scope": au.Scope(), "status": au.Status, "statusChanged": ts(au.LastUpdated), "passwordChanged": nil,
		"syncState": au.SyncState, "lastSync": ts(au.LastSync),
		"credentials": map[string]string{"userName": au.UserName},
		"profile":     map[string]any{},
		"_links": links{
			"app":  {Href: base + "/api/v1/apps/" + au.AppID},
			"user": {Href: base + "/api/v1/users/" + au.UserID},
		},
	}
}

func appGroupJSON(base string, ag directory.AppGroup) map[string]any {
	return map[string]any{
		"id": ag.GroupID, "lastUpdated": ts(ag.LastUpdated), "priority": ag.Priority, "profile": map[string]any{},
		"_links": links{
			"app":   {Href: base + "/api/v1/apps/" + ag.AppID},
			"group": {Href: base + "/api/v1/groups/" + ag.GroupID},
		},
	}
}

// EventJSON is an Okta System Log event.
type EventJSON struct {
	UUID            string         `json:"uuid"`
	Published       *string        `json:"published"`
	EventType       string         `json:"eventType"`
	Version         string         `json:"version"`
	Severity        string         `json:"severity"`
	LegacyEventType *string        `json:"legacyEventType"`
	DisplayMessage  string         `json:"displayMessage"`
	Actor           map[string]any `json:"actor"`
	Outcome         map[string]any `json:"outcome"`
	Target          []TargetJSON   `json:"target"`
}

// TargetJSON is one target of an EventJSON.
type TargetJSON struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	AlternateID string `json:"alternateId"`
	DisplayName string `json:"displayName"`
}

func eventJSON(e directory.Event) EventJSON {
	var legacy *string
	if e.LegacyEventType != "" {
		legacy = &e.LegacyEventType
	}
	var reason any
	if e.Outcome.Reason != "" {
		reason = e.Outcome.Reason
	}
	out := EventJSON{
		UUID: e.UUID, Published: ts(e.Published), EventType: e.EventType, Version: "0", Severity: e.Severity,
		LegacyEventType: legacy, DisplayMessage: e.DisplayMessage,
		Actor:   map[string]any{"id": "0oa00000000000000000", "type": "SystemPrincipal", "alternateId": "system@okta.com", "displayName": "Okta System"},
		Outcome: map[string]any{"result": e.Outcome.Result, "reason": reason},
		Target:  []TargetJSON{},
	}
	for _, t := range e.Target {
		out.Target = append(out.Target, TargetJSON(t))
	}
	return out
}
