package directory

import (
	"slices"
	"sort"
	"time"
)

// App user sync states, as Okta reports them on an app user.
const (
	SyncDisabled     = "DISABLED"     // no provisioning for this app
	SyncSynchronized = "SYNCHRONIZED" // the last push succeeded
	SyncError        = "ERROR"        // the last push failed (see the System Log)
)

// AppUser is a user's assignment to an app. A user is assigned directly
// (Direct, Okta scope "USER") and/or through assigned groups (Groups, scope
// "GROUP"); the assignment lasts while any reason remains.
type AppUser struct {
	AppID       string
	UserID      string
	UserName    string   // the app username (credentials.userName), by default the login
	Direct      bool     // assigned to the app directly
	Groups      []string // ids of assigned groups that bring the user in
	ExternalID  string   // the id the SCIM app returned for the user
	Status      string   // "PROVISIONED" once pushed, "INACTIVE" when deactivated in the app, else "ACTIVE"
	SyncState   string   // SyncDisabled, SyncSynchronized or SyncError
	Created     time.Time
	LastUpdated time.Time
	LastSync    time.Time
	seq         int
}

// Scope returns Okta's assignment scope: "USER" for a direct assignment,
// else "GROUP".
func (a AppUser) Scope() string {
	if a.Direct {
		return "USER"
	}
	return "GROUP"
}

func (a AppUser) clone() AppUser {
	a.Groups = cloneStrings(a.Groups)
	return a
}

// AppGroup is a group's assignment to an app. For a SCIM app with push on,
// PushedID is the id the SCIM app gave the pushed group.
type AppGroup struct {
	AppID       string
	GroupID     string
	Priority    int
	PushedID    string
	Created     time.Time
	LastUpdated time.Time
	seq         int
}

// seqBump returns a strictly increasing counter; callers hold d.mu.
func (d *Directory) seqBump() int { d.seq++; return d.seq }

// AssignUser assigns a user to an app, directly when viaGroup is empty and
// otherwise on behalf of that group. userName is the app username; empty
// means the user's login (and it only replaces an existing one when
// assigning directly). isNew reports whether the user was not assigned
// before. ErrNotFound for an unknown app, user or group.
func (d *Directory) AssignUser(appID, userID, userName, viaGroup string) (au AppUser, isNew bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.apps[appID]; !ok {
		return AppUser{}, false, notFound("AppInstance", appID)
	}
	u := d.findUserLocked(userID)
	if u == nil {
		return AppUser{}, false, notFound("User", userID)
	}
	if viaGroup != "" && d.findGroupLocked(viaGroup) == nil {
		return AppUser{}, false, notFound("UserGroup", viaGroup)
	}
	now := d.Now()
	k := assignKey{appID, u.ID}
	a, ok := d.appUsers[k]
	if !ok {
		a = &AppUser{AppID: appID, UserID: u.ID, UserName: u.Profile.Login, Status: "ACTIVE", SyncState: SyncDisabled, Created: now, seq: d.seqBump()}
		d.appUsers[k] = a
	}
	if viaGroup == "" {
		a.Direct = true
		if userName != "" {
			a.UserName = userName
		}
	} else if !slices.Contains(a.Groups, viaGroup) {
		a.Groups = append(a.Groups, viaGroup)
	}
	a.LastUpdated = now
	return a.clone(), !ok, nil
}

// UnassignUser removes one reason for an assignment: the direct one when
// viaGroup is empty, else that group's. removed reports whether no reason
// is left and the assignment is gone; au is the assignment as it was.
// ErrNotFound when the user is not assigned.
func (d *Directory) UnassignUser(appID, userID, viaGroup string) (au AppUser, removed bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	u := d.findUserLocked(userID)
	if u == nil {
		return AppUser{}, false, notFound("User", userID)
	}
	k := assignKey{appID, u.ID}
	a, ok := d.appUsers[k]
	if !ok {
		return AppUser{}, false, notFound("AppUser", userID)
	}
	if viaGroup == "" {
		a.Direct = false
	} else {
		a.Groups = remove(a.Groups, viaGroup)
	}
	au = a.clone()
	if !a.Direct && len(a.Groups) == 0 {
		delete(d.appUsers, k)
		return au, true, nil
	}
	a.LastUpdated = d.Now()
	return au, false, nil
}

// Assigned reports whether a user (id or login) is assigned to an app,
// directly or through a group (the Everyone group included): what Okta
// requires before it signs the user in to the app.
func (d *Directory) Assigned(appID, userID string) bool {
	_, err := d.AppUser(appID, userID)
	return err == nil
}

// AppUser returns one assignment; ErrNotFound when the user is not assigned.
func (d *Directory) AppUser(appID, userID string) (AppUser, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if u := d.findUserLocked(userID); u != nil {
		userID = u.ID
	}
	a, ok := d.appUsers[assignKey{appID, userID}]
	if !ok {
		return AppUser{}, notFound("AppUser", userID)
	}
	return a.clone(), nil
}

// UpdateAppUser calls update on an assignment (to record the SCIM id and
// sync state). App, user and reasons cannot change.
func (d *Directory) UpdateAppUser(appID, userID string, update func(*AppUser)) (AppUser, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a, ok := d.appUsers[assignKey{appID, userID}]
	if !ok {
		return AppUser{}, notFound("AppUser", userID)
	}
	c := a.clone()
	update(&c)
	a.UserName, a.ExternalID, a.Status, a.SyncState, a.LastSync = c.UserName, c.ExternalID, c.Status, c.SyncState, c.LastSync
	a.LastUpdated = d.Now()
	return a.clone(), nil
}

// AppUsers returns an app's assignments in assignment order.
func (d *Directory) AppUsers(appID string) []AppUser {
	return d.listAppUsers(func(k assignKey) bool { return k.app == appID })
}

// UserAppUsers returns a user's assignments across apps in assignment order.
func (d *Directory) UserAppUsers(userID string) []AppUser {
	return d.listAppUsers(func(k assignKey) bool { return k.member == userID })
}

func (d *Directory) listAppUsers(match func(assignKey) bool) []AppUser {
	d.mu.RLock()
	defer d.mu.RUnlock()
	var out []AppUser
	for k, a := range d.appUsers {
		if match(k) {
			out = append(out, a.clone())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// AssignGroup assigns a group to an app; isNew reports whether it was not
// assigned before. It does not assign the members: mgmt does that, so it
// can provision each (users created later join the apps the Everyone group
// is assigned to by themselves). ErrNotFound for an unknown app or group;
// ErrInvalid for the Everyone group and a SCIM app, which the mock does
// not provision.
func (d *Directory) AssignGroup(appID, groupID string) (ag AppGroup, isNew bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	app, ok := d.apps[appID]
	if !ok {
		return AppGroup{}, false, notFound("AppInstance", appID)
	}
	g := d.findGroupLocked(groupID)
	if g == nil {
		return AppGroup{}, false, notFound("UserGroup", groupID)
	}
	if g.Type == GroupTypeBuiltIn && app.Provisioning != nil {
		return AppGroup{}, false, invalid("groupId", "the mock assigns the "+EveryoneName+" group to OIDC apps only; assign a group of your own to a SCIM app")
	}
	k := assignKey{appID, groupID}
	if a, ok := d.appGroups[k]; ok {
		return *a, false, nil
	}
	now := d.Now()
	a := &AppGroup{AppID: appID, GroupID: groupID, Created: now, LastUpdated: now, seq: d.seqBump()}
	for _, o := range d.appGroups {
		if o.AppID == appID && o.Priority >= a.Priority {
			a.Priority = o.Priority + 1
		}
	}
	d.appGroups[k] = a
	return *a, true, nil
}

// UnassignGroup removes a group's assignment and returns it as it was.
// ErrNotFound when the group is not assigned.
func (d *Directory) UnassignGroup(appID, groupID string) (AppGroup, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := assignKey{appID, groupID}
	a, ok := d.appGroups[k]
	if !ok {
		return AppGroup{}, notFound("AppGroup", groupID)
	}
	delete(d.appGroups, k)
	return *a, nil
}

// AppGroup returns one group assignment; ErrNotFound when absent.
func (d *Directory) AppGroup(appID, groupID string) (AppGroup, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	a, ok := d.appGroups[assignKey{appID, groupID}]
	if !ok {
		return AppGroup{}, notFound("AppGroup", groupID)
	}
	return *a, nil
}

// SetPushedID records the SCIM id of a pushed group.
func (d *Directory) SetPushedID(appID, groupID, pushedID string) (AppGroup, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a, ok := d.appGroups[assignKey{appID, groupID}]
	if !ok {
		return AppGroup{}, notFound("AppGroup", groupID)
	}
	a.PushedID, a.LastUpdated = pushedID, d.Now()
	return *a, nil
}

// AppGroups returns an app's group assignments in assignment order.
func (d *Directory) AppGroups(appID string) []AppGroup {
	return d.listAppGroups(func(k assignKey) bool { return k.app == appID })
}

// GroupAppGroups returns a group's assignments across apps in assignment order.
func (d *Directory) GroupAppGroups(groupID string) []AppGroup {
	return d.listAppGroups(func(k assignKey) bool { return k.member == groupID })
}

func (d *Directory) listAppGroups(match func(assignKey) bool) []AppGroup {
	d.mu.RLock()
	defer d.mu.RUnlock()
	var out []AppGroup
	for k, a := range d.appGroups {
		if match(k) {
			out = append(out, *a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}
