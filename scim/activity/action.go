package activity

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/idpkit/idpkit/scim"
)

// The actions a request is named with (adminapi.Request.Action).
const (
	ActionTestCredentials = "Test API Credentials"
	ActionLookUpUser      = "Look up user"
	ActionImportUsers     = "Import users"
	ActionListUsers       = "List users"
	ActionSearchUsers     = "Search users"
	ActionCreateUser      = "Create user"
	ActionReadUser        = "Read user"
	ActionUpdateUser      = "Update user"
	ActionDeactivateUser  = "Deactivate user"
	ActionReactivateUser  = "Reactivate user"
	ActionDeleteUser      = "Delete user"

	ActionLookUpGroup        = "Look up group"
	ActionImportGroups       = "Import groups"
	ActionListGroups         = "List groups"
	ActionSearchGroups       = "Search groups"
	ActionCreateGroup        = "Create group"
	ActionReadGroup          = "Read group"
	ActionUpdateGroup        = "Update group"
	ActionUpdateGroupMembers = "Update group members"
	ActionRenameGroup        = "Rename group"
	ActionDeleteGroup        = "Delete group"

	ActionSearch                    = "Search"
	ActionBulk                      = "Bulk request"
	ActionReadServiceProviderConfig = "Read ServiceProviderConfig"
	ActionReadResourceTypes         = "Read ResourceTypes"
	ActionReadSchemas               = "Read Schemas"
	ActionUnsupported               = "Unsupported request"

	ActionWrongSecret = "Wrong secret"
	ActionNoSecret    = "No secret"
)

// Action names what a SCIM request was from its shape: method, path below
// the tenant's SCIM base URL ("/Users/{id}", without the query), query and
// response status. A 401 is ActionWrongSecret (the server says
// ActionNoSecret when the request had no Authorization header). What only
// the body or the stored resource tells (a deactivation, a rename) the
// server refines with UserChange and GroupPatch.
//
// Okta's requests (testdata/okta): Test API Credentials is GET
// /Users?startIndex=1&count=2; a lookup before an assignment is GET
// /Users?filter=userName eq "…"; Import Now and the group list read when
// the To App settings are saved are paged GET /Users or /Groups with
// startIndex and count=100.
func Action(method, path string, query url.Values, status int) string {
	if status == http.StatusUnauthorized {
		return ActionWrongSecret
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if strings.HasSuffix(path, "/") && path != "/" {
		return ActionUnsupported // "/Users/" is not "/Users"
	}
	switch {
	case len(segs) == 1 && (segs[0] == "Users" || segs[0] == "Groups"):
		users := segs[0] == "Users"
		switch method {
		case http.MethodGet:
			switch {
			case query.Has("filter"):
				return pick(users, ActionLookUpUser, ActionLookUpGroup)
			case users && query.Get("startIndex") == "1" && query.Get("count") == "2" && len(query) == 2:
				return ActionTestCredentials
			case query.Has("startIndex") || query.Has("count"):
				return pick(users, ActionImportUsers, ActionImportGroups)
			}
			return pick(users, ActionListUsers, ActionListGroups)
		case http.MethodPost:
			return pick(users, ActionCreateUser, ActionCreateGroup)
		}
	case len(segs) == 2 && (segs[0] == "Users" || segs[0] == "Groups") && segs[1] == ".search":
		if method == http.MethodPost {
			return pick(segs[0] == "Users", ActionSearchUsers, ActionSearchGroups)
		}
	case len(segs) == 2 && (segs[0] == "Users" || segs[0] == "Groups") && segs[1] != "":
		users := segs[0] == "Users"
		switch method {
		case http.MethodGet:
			return pick(users, ActionReadUser, ActionReadGroup)
		case http.MethodPut, http.MethodPatch:
			return pick(users, ActionUpdateUser, ActionUpdateGroup)
		case http.MethodDelete:
			return pick(users, ActionDeleteUser, ActionDeleteGroup)
		}
	case len(segs) == 1 && segs[0] == ".search":
		if method == http.MethodPost {
			return ActionSearch
		}
	case len(segs) == 1 && segs[0] == "Bulk":
		if method == http.MethodPost {
			return ActionBulk
		}
	case method == http.MethodGet && (len(segs) == 1 || len(segs) == 2 && segs[1] != ""):
		switch segs[0] {
		case "ServiceProviderConfig":
			if len(segs) == 1 {
				return ActionReadServiceProviderConfig
			}
		case "ResourceTypes":
			return ActionReadResourceTypes
		case "Schemas":
			return ActionReadSchemas
		}
	}
	return ActionUnsupported
}

// pick returns user when users is true, else group.
func pick(users bool, user, group string) string {
	if users {
		return user
	}
	return group
}

// UserChange names a PUT or PATCH of a user that succeeded, from whether
// the user was active before and is after (RFC 7643 §4.1.1 active; an
// absent value counts as active): ActionDeactivateUser,
// ActionReactivateUser or ActionUpdateUser.
func UserChange(wasActive, isActive bool) string {
	switch {
	case wasActive && !isActive:
		return ActionDeactivateUser
	case !wasActive && isActive:
		return ActionReactivateUser
	}
	return ActionUpdateUser
}

// GroupPatch names a PATCH of a group from its operations (RFC 7644
// §3.5.2): ActionUpdateGroupMembers when every operation is on members
// (Group Push's add and remove), ActionRenameGroup when every operation
// sets only displayName (Okta's path-less replace, which repeats the
// group's id), else ActionUpdateGroup.
func GroupPatch(ops []scim.PatchOperation) string {
	var members, name, other bool
	for _, op := range ops {
		path := strings.ToLower(strings.TrimSpace(op.Path))
		if i := strings.LastIndex(path, ":"); i >= 0 && strings.HasPrefix(path, "urn:") {
			path = path[i+1:] // urn:…:Group:displayName
		}
		switch {
		case path == "":
			var v map[string]json.RawMessage
			if json.Unmarshal(op.Value, &v) != nil {
				other = true
				continue
			}
			for k := range v {
				switch strings.ToLower(k) {
				case "members":
					members = true
				case "displayname":
					name = true
				case "id", "schemas":
					// Okta repeats the group's id; neither changes anything.
				default:
					other = true
				}
			}
		case path == "members" || strings.HasPrefix(path, "members[") || strings.HasPrefix(path, "members."):
			members = true
		case path == "displayname":
			name = true
		default:
			other = true
		}
	}
	switch {
	case members && !name && !other:
		return ActionUpdateGroupMembers
	case name && !members && !other:
		return ActionRenameGroup
	}
	return ActionUpdateGroup
}
