package mgmt

import (
	"context"
	"errors"
	"iter"
	"net/http"

	"github.com/idpkit/idpkit/mockidp/directory"
	"github.com/idpkit/idpkit/mockidp/provision"
	"github.com/idpkit/idpkit/scim"
)

// The Go API below is what the HTTP handlers do, for seeds and tests: each
// call changes the org and then runs, synchronously and only for the
// features the app has on, the provisioning Okta would run. Provisioning
// failures do not fail the call; they go to the System Log.

func target(p *directory.Provisioning) provision.Target {
	return provision.Target{BaseURL: p.BaseURL, Token: p.Token, Kind: p.Kind}
}

func provisionUser(u directory.User, au directory.AppUser) provision.User {
	login := au.UserName
	if login == "" {
		login = u.Profile.Login
	}
	return provision.User{
		ID: u.ID, Login: login, Email: u.Profile.Email, FirstName: u.Profile.FirstName, LastName: u.Profile.LastName,
		DisplayName: u.Profile.DisplayName, Locale: u.Profile.Locale, Title: u.Profile.Title, Department: u.Profile.Department,
	}
}

func (h *Handler) record(ev directory.Event, err error) {
	ev.Outcome = directory.Outcome{Result: "SUCCESS"}
	if err != nil {
		ev.Outcome = directory.Outcome{Result: "FAILURE", Reason: err.Error()}
		h.log.Warn("mgmt: provisioning failed", "eventType", ev.EventType, "err", err)
	}
	h.dir.Log(ev)
}

// logSuccess writes a successful admin action to the System Log: its
// event type, legacy event type ("" for none), message and targets.
func (h *Handler) logSuccess(eventType, legacyEventType, message string, targets ...directory.Target) {
	h.dir.Log(directory.Event{EventType: eventType, LegacyEventType: legacyEventType, DisplayMessage: message, Outcome: directory.Outcome{Result: "SUCCESS"}, Target: targets})
}

// scimApp returns the app's provisioning settings when requests may be sent.
func scimApp(app directory.App) (*directory.Provisioning, bool) {
	p := app.Provisioning
	return p, p != nil && p.Active()
}

// scimAppFor is scimApp for an admin action, with a debug line when a SCIM
// app sends nothing because its connection is not enabled (a common
// surprise in tests that skip Test API Credentials).
func (h *Handler) scimAppFor(app directory.App, action string) (*directory.Provisioning, bool) {
	p, ok := scimApp(app)
	if !ok && p != nil {
		h.log.Debug("mgmt: provisioning skipped: the connection is not enabled (run Test API Credentials)", "app", app.ID, "action", action, "connection", p.Status)
	}
	return p, ok
}

// Each provisioning step below checks, when the admin action happens,
// whether the app wants it (its features), and then runs it as a task
// (runTask). The task's function reads the app, and where it matters the
// user or group, again when it runs, so that RetryTask uses the corrected
// connection; a failure leaves the assignment as it is, with the app
// user's syncState ERROR, as in Okta.

// pushUser is "Push new user" (or reactivate): Create Users must be on.
func (h *Handler) pushUser(ctx context.Context, app directory.App, userID string) {
	p, ok := h.scimAppFor(app, "pushUser")
	if !ok || !p.Create {
		return
	}
	u, err := h.dir.User(userID)
	if err != nil || u.Status == directory.StatusDeprovisioned {
		return
	}
	au, err := h.dir.AppUser(app.ID, u.ID)
	if err != nil {
		return
	}
	action := ActionUserCreate
	if au.Status == "INACTIVE" {
		action = ActionUserReactivate
	}
	h.runTask(ctx, app, action, u.ID, func(ctx context.Context, app directory.App, p *directory.Provisioning) error {
		u, err := h.dir.User(userID)
		if err != nil {
			return err
		}
		au, err := h.dir.AppUser(app.ID, u.ID)
		if err != nil {
			return err
		}
		reactivate := au.Status == "INACTIVE"
		pu := provisionUser(u, au)
		if p.Password {
			pu.Password = h.password(u.ID)
		}
		scimID, err := h.prov.CreateUser(ctx, target(p), pu)
		h.dir.UpdateAppUser(app.ID, u.ID, func(a *directory.AppUser) {
			a.LastSync = h.dir.Now()
			if err != nil {
				a.SyncState = directory.SyncError
				return
			}
			a.ExternalID, a.Status, a.SyncState = scimID, "PROVISIONED", directory.SyncSynchronized
		})
		ev := directory.Event{EventType: "application.provision.user.push", LegacyEventType: "app.user_management.push_new_user", DisplayMessage: "Push new user to external application"}
		if reactivate {
			ev = directory.Event{EventType: "application.provision.user.reactivate", LegacyEventType: "app.user_management.reactivate_user", DisplayMessage: "Reactivate user in external application"}
		}
		ev.Target = []directory.Target{directory.UserTarget(u), directory.AppTarget(app)}
		h.record(ev, err)
		return err
	})
}

// reactivateInApp is "Reactivate user in external application" (the
// REACTIVATE_USERS feature, which comes with Deactivate Users): an app user
// Okta deactivated in the app, whose id there it knows, gets active true
// (the path-less PATCH, or GET and PUT for custom apps) and nothing else.
// An app user without an id in the app is provisioned as a new assignment
// is (pushUser).
func (h *Handler) reactivateInApp(ctx context.Context, app directory.App, au directory.AppUser) {
	if au.ExternalID == "" {
		h.pushUser(ctx, app, au.UserID)
		return
	}
	p, ok := h.scimAppFor(app, "reactivateInApp")
	if !ok || !p.Deactivate || au.Status != "INACTIVE" {
		return
	}
	u, err := h.dir.User(au.UserID)
	if err != nil || u.Status == directory.StatusDeprovisioned || u.Status == directory.StatusSuspended {
		return
	}
	h.runTask(ctx, app, ActionUserReactivate, u.ID, func(ctx context.Context, app directory.App, p *directory.Provisioning) error {
		err := h.prov.SetActive(ctx, target(p), au.ExternalID, true)
		h.syncResult(app.ID, u.ID, err, "PROVISIONED")
		h.record(directory.Event{
			EventType: "application.provision.user.reactivate", LegacyEventType: "app.user_management.reactivate_user",
			DisplayMessage: "Reactivate user in external application",
			Target:         []directory.Target{directory.UserTarget(u), directory.AppTarget(app)},
		}, err)
		return err
	})
}

// pushProfile is "Push user profile update": Update User Attributes on.
// Catalogue apps get a PATCH of what changed between before and after;
// the others GET and PUT the user.
func (h *Handler) pushProfile(ctx context.Context, app directory.App, before, after directory.User, au directory.AppUser) {
	p, ok := h.scimAppFor(app, "pushProfile")
	if !ok || !p.Update || au.ExternalID == "" || au.Status == "INACTIVE" || after.Status == directory.StatusDeprovisioned {
		return
	}
	h.runTask(ctx, app, ActionUserUpdate, after.ID, func(ctx context.Context, app directory.App, p *directory.Provisioning) error {
		var err error
		if p.Kind == directory.KindCatalogue {
			// The app username follows the login unless it was set
			// apart (directory.ReplaceProfile), so the app had before's
			// login, or the username it still has.
			prev := au
			prev.UserName = before.Profile.Login
			if au.UserName != after.Profile.Login {
				prev.UserName = au.UserName
			}
			err = h.prov.PatchUser(ctx, target(p), au.ExternalID, provisionUser(before, prev), provisionUser(after, au))
		} else {
			err = h.prov.UpdateUser(ctx, target(p), au.ExternalID, provisionUser(after, au))
		}
		h.syncResult(app.ID, after.ID, err, "")
		h.record(directory.Event{
			EventType: "application.provision.user.push_profile", LegacyEventType: "app.user_management.push_profile_success",
			DisplayMessage: "Push user profile update to external application",
			Target:         []directory.Target{directory.UserTarget(after), directory.AppTarget(app)},
		}, err)
		return err
	})
}

// pushPassword is "Push user's password" with Sync Password on: the
// user's new Okta password goes to an app that has the user.
func (h *Handler) pushPassword(ctx context.Context, app directory.App, u directory.User, au directory.AppUser, password string) {
	p, ok := h.scimAppFor(app, "pushPassword")
	if !ok || !p.Password || au.ExternalID == "" || au.Status == "INACTIVE" || u.Status == directory.StatusDeprovisioned {
		return
	}
	h.runTask(ctx, app, ActionUserPassword, u.ID, func(ctx context.Context, app directory.App, p *directory.Provisioning) error {
		err := h.prov.SetPassword(ctx, target(p), au.ExternalID, password)
		h.syncResult(app.ID, u.ID, err, "")
		h.record(directory.Event{
			EventType: "application.provision.user.push_password", LegacyEventType: "app.user_management.push_password_update",
			DisplayMessage: "Push user's password to external application",
			Target:         []directory.Target{directory.UserTarget(u), directory.AppTarget(app)},
		}, err)
		return err
	})
}

func (h *Handler) syncResult(appID, userID string, err error, status string) {
	h.dir.UpdateAppUser(appID, userID, func(a *directory.AppUser) {
		a.LastSync = h.dir.Now()
		if err != nil {
			a.SyncState = directory.SyncError
			return
		}
		a.SyncState = directory.SyncSynchronized
		if status != "" {
			a.Status = status
		}
	})
}

// deactivateInApp is "Deactivate user in external application": Deactivate
// Users on. au is the assignment as it was (it may be gone by now).
func (h *Handler) deactivateInApp(ctx context.Context, app directory.App, au directory.AppUser) {
	p, ok := h.scimAppFor(app, "deactivateInApp")
	if !ok || !p.Deactivate || au.ExternalID == "" || au.Status == "INACTIVE" {
		return
	}
	h.runTask(ctx, app, ActionUserDeactivate, au.UserID, func(ctx context.Context, app directory.App, p *directory.Provisioning) error {
		err := h.prov.SetActive(ctx, target(p), au.ExternalID, false)
		h.syncResult(app.ID, au.UserID, err, "INACTIVE")
		t := directory.Target{ID: au.UserID, Type: "User", AlternateID: au.UserName}
		if u, err := h.dir.User(au.UserID); err == nil {
			t = directory.UserTarget(u)
		}
		h.record(directory.Event{
			EventType: "application.provision.user.deactivate", LegacyEventType: "app.user_management.deactivate_user_success",
			DisplayMessage: "Deactivate user in external application",
			Target:         []directory.Target{t, directory.AppTarget(app)},
		}, err)
		return err
	})
}

// members returns the pushed-group members of a group in an app: those
// with an id in the app and not deactivated.
func (h *Handler) members(appID string, g directory.Group) []provision.Member {
	var out []provision.Member
	for _, uid := range g.Members {
		au, err := h.dir.AppUser(appID, uid)
		if err != nil || au.ExternalID == "" || au.Status == "INACTIVE" {
			continue
		}
		out = append(out, provision.Member{SCIMID: au.ExternalID, Login: au.UserName})
	}
	return out
}

// pushGroup is Group Push of a new group. The group's id in the app is
// kept as soon as the app created it, also when adding the members then
// failed; a retry of such a task pushes the members to that group instead
// of creating another.
func (h *Handler) pushGroup(ctx context.Context, app directory.App, g directory.Group) {
	p, ok := h.scimAppFor(app, "pushGroup")
	if !ok || !p.Push() {
		return
	}
	h.runTask(ctx, app, ActionGroupPush, g.ID, func(ctx context.Context, app directory.App, p *directory.Provisioning) error {
		g, err := h.dir.Group(g.ID)
		if err != nil {
			return err
		}
		ag, err := h.dir.AppGroup(app.ID, g.ID)
		if err != nil {
			return err
		}
		members := h.members(app.ID, g)
		switch {
		case ag.PushedID == "":
			var id string
			id, err = h.prov.PushGroup(ctx, target(p), g.Name, members)
			if id != "" {
				h.dir.SetPushedID(app.ID, g.ID, id)
			}
		case p.Kind == directory.KindCustom:
			err = h.prov.ReplaceGroup(ctx, target(p), ag.PushedID, g.Name, members)
		default:
			err = h.prov.UpdateGroup(ctx, target(p), ag.PushedID, g.Name, members, nil)
		}
		h.record(directory.Event{
			EventType: "application.provision.group.push", LegacyEventType: "app.user_management.push_new_group",
			DisplayMessage: "Push new group to external application",
			Target:         []directory.Target{directory.GroupTarget(g), directory.AppTarget(app)},
		}, err)
		return err
	})
}

// updatePushedGroup pushes a pushed group's membership changes and name:
// PATCH requests (UpdateGroup), or for custom apps the whole group as it
// is now (ReplaceGroup).
func (h *Handler) updatePushedGroup(ctx context.Context, app directory.App, g directory.Group, pushedID string, add, remove []provision.Member) {
	p, ok := h.scimAppFor(app, "updatePushedGroup")
	if !ok || !p.Push() || pushedID == "" || (len(add) == 0 && len(remove) == 0 && g.Name == "") {
		return
	}
	action := ActionGroupMembers
	if len(add) == 0 && len(remove) == 0 {
		action = ActionGroupRename
	}
	h.runTask(ctx, app, action, g.ID, func(ctx context.Context, app directory.App, p *directory.Provisioning) error {
		var err error
		if p.Kind == directory.KindCustom {
			cur, gerr := h.dir.Group(g.ID)
			if gerr != nil {
				return gerr
			}
			err = h.prov.ReplaceGroup(ctx, target(p), pushedID, cur.Name, h.members(app.ID, cur))
		} else {
			err = h.prov.UpdateGroup(ctx, target(p), pushedID, g.Name, add, remove)
		}
		h.record(directory.Event{
			EventType: "application.provision.group.update", LegacyEventType: "app.user_management.push_group_update",
			DisplayMessage: "Push group update to external application",
			Target:         []directory.Target{directory.GroupTarget(g), directory.AppTarget(app)},
		}, err)
		return err
	})
}

func (h *Handler) deletePushedGroup(ctx context.Context, app directory.App, g directory.Group, pushedID string) {
	if _, ok := h.scimAppFor(app, "deletePushedGroup"); !ok || pushedID == "" {
		return
	}
	h.runTask(ctx, app, ActionGroupDelete, g.ID, func(ctx context.Context, app directory.App, p *directory.Provisioning) error {
		err := h.prov.DeleteGroup(ctx, target(p), pushedID)
		h.record(directory.Event{
			EventType: "application.provision.group.delete", LegacyEventType: "app.user_management.delete_group",
			DisplayMessage: "Delete group in external application",
			Target:         []directory.Target{directory.GroupTarget(g), directory.AppTarget(app)},
		}, err)
		return err
	})
}

// AssignUser assigns a user to an app directly (scope USER) with the app
// username userName ("" = the login) and, with Create Users on, provisions
// the user (a reassigned, deactivated app user is reactivated).
func (h *Handler) AssignUser(ctx context.Context, appID, userID, userName string) (directory.AppUser, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	app, err := h.dir.App(appID)
	if err != nil {
		return directory.AppUser{}, err
	}
	au, isNew, err := h.dir.AssignUser(appID, userID, userName, "")
	if err != nil {
		return directory.AppUser{}, err
	}
	u, _ := h.dir.User(au.UserID)
	if isNew {
		h.logSuccess("application.user_membership.add", "app.generic.provision.assign_user_to_app", "Add user to application membership", directory.UserTarget(u), directory.AppTarget(app))
	}
	if isNew || au.ExternalID == "" || au.Status == "INACTIVE" {
		h.pushUser(ctx, app, au.UserID)
	}
	return h.dir.AppUser(appID, au.UserID)
}

// ErrAssignedViaGroup is returned by UnassignUser for a user who is assigned
// to the app only through a group.
var ErrAssignedViaGroup = apiError(http.StatusBadRequest, "E0000001", "Api validation failed: scope", "scope: the user is assigned to this app through a group; remove the group's assignment or the user's membership instead")

// UnassignUser removes a direct assignment. When no group keeps the user
// assigned, the user is deactivated in the app (Deactivate Users on).
func (h *Handler) UnassignUser(ctx context.Context, appID, userID string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	app, err := h.dir.App(appID)
	if err != nil {
		return err
	}
	cur, err := h.dir.AppUser(appID, userID)
	if err != nil {
		return err
	}
	if !cur.Direct {
		return ErrAssignedViaGroup
	}
	before, removed, err := h.dir.UnassignUser(appID, cur.UserID, "")
	if err != nil {
		return err
	}
	if removed {
		h.unassigned(ctx, app, before)
	}
	return nil
}

func (h *Handler) unassigned(ctx context.Context, app directory.App, before directory.AppUser) {
	t := directory.Target{ID: before.UserID, Type: "User", AlternateID: before.UserName}
	if u, err := h.dir.User(before.UserID); err == nil {
		t = directory.UserTarget(u)
	}
	h.logSuccess("application.user_membership.remove", "app.generic.unprovision.unassign_user_from_app", "Remove user from application membership", t, directory.AppTarget(app))
	h.deactivateInApp(ctx, app, before)
}

// AssignGroup assigns a group to an app: each member is assigned (scope
// GROUP) and provisioned, then, with push on, the group is pushed with its
// members. Assigning again retries a push that has not succeeded.
func (h *Handler) AssignGroup(ctx context.Context, appID, groupID string) (directory.AppGroup, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	app, err := h.dir.App(appID)
	if err != nil {
		return directory.AppGroup{}, err
	}
	ag, isNew, err := h.dir.AssignGroup(appID, groupID)
	if err != nil {
		return directory.AppGroup{}, err
	}
	g, err := h.dir.Group(groupID)
	if err != nil {
		return directory.AppGroup{}, err
	}
	if isNew {
		h.logSuccess("application.user_membership.add", "", "Add group to application", directory.GroupTarget(g), directory.AppTarget(app))
	}
	for _, uid := range g.Members {
		h.assignMember(ctx, app, uid, groupID)
	}
	if ag.PushedID == "" {
		h.pushGroup(ctx, app, g)
	}
	return h.dir.AppGroup(appID, groupID)
}

// assignMember assigns a member of group groupID to app (scope GROUP) and
// provisions the user unless the app has them active already; false when
// the assignment failed.
func (h *Handler) assignMember(ctx context.Context, app directory.App, userID, groupID string) bool {
	au, isNew, err := h.dir.AssignUser(app.ID, userID, "", groupID)
	if err != nil {
		return false
	}
	if isNew || au.ExternalID == "" || au.Status == "INACTIVE" {
		h.pushUser(ctx, app, userID)
	}
	return true
}

// appAndGroup returns the app and the group of an assignment.
func (h *Handler) appAndGroup(appID, groupID string) (directory.App, directory.Group, error) {
	app, err := h.dir.App(appID)
	if err != nil {
		return directory.App{}, directory.Group{}, err
	}
	g, err := h.dir.Group(groupID)
	return app, g, err
}

// groupApps yields every assignment of the group with its app, leaving out
// an app that no longer exists.
func (h *Handler) groupApps(groupID string) iter.Seq2[directory.AppGroup, directory.App] {
	return func(yield func(directory.AppGroup, directory.App) bool) {
		for _, ag := range h.dir.GroupAppGroups(groupID) {
			if app, err := h.dir.App(ag.AppID); err == nil && !yield(ag, app) {
				return
			}
		}
	}
}

// UnassignGroup removes a group's assignment: members left without any
// assignment are deactivated in the app, and a pushed group is deleted in
// the app.
func (h *Handler) UnassignGroup(ctx context.Context, appID, groupID string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.unassignGroupLocked(ctx, appID, groupID)
}

func (h *Handler) unassignGroupLocked(ctx context.Context, appID, groupID string) error {
	app, g, err := h.appAndGroup(appID, groupID)
	if err != nil {
		return err
	}
	ag, err := h.dir.UnassignGroup(appID, groupID)
	if err != nil {
		return err
	}
	for _, uid := range g.Members {
		before, removed, err := h.dir.UnassignUser(appID, uid, groupID)
		if err == nil && removed {
			h.unassigned(ctx, app, before)
		}
	}
	h.deletePushedGroup(ctx, app, g, ag.PushedID)
	return nil
}

// UnlinkGroup is "Unlink pushed group" on the app's Push Groups tab: the
// group stays assigned but Okta stops pushing it. With deleteInApp ("Delete
// the group in the target app") the app gets DELETE /Groups/{id}; without
// it the group stays in the app. Assigning the group again (AssignGroup)
// pushes it as a new group. ErrNotFound when the group is not assigned.
func (h *Handler) UnlinkGroup(ctx context.Context, appID, groupID string, deleteInApp bool) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	app, g, err := h.appAndGroup(appID, groupID)
	if err != nil {
		return err
	}
	ag, err := h.dir.AppGroup(appID, groupID)
	if err != nil {
		return err
	}
	if ag.PushedID == "" {
		return nil
	}
	if _, err := h.dir.SetPushedID(appID, groupID, ""); err != nil {
		return err
	}
	if deleteInApp {
		h.deletePushedGroup(ctx, app, g, ag.PushedID)
	}
	return nil
}

// AddMember adds a user to a group. For every app the group is assigned
// to, the user is assigned and provisioned, and a pushed group gets the
// new member.
func (h *Handler) AddMember(ctx context.Context, groupID, userID string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	added, err := h.dir.AddMember(groupID, userID)
	if err != nil || !added {
		return err
	}
	g, u := h.logMembership(groupID, userID, "group.user_membership.add", "core.user_group_member.user_add", "Add user to group membership")
	for ag, app := range h.groupApps(groupID) {
		if !h.assignMember(ctx, app, u.ID, groupID) {
			continue
		}
		if au, err := h.dir.AppUser(app.ID, u.ID); err == nil && au.ExternalID != "" && au.Status != "INACTIVE" {
			h.updatePushedGroup(ctx, app, g, ag.PushedID, []provision.Member{{SCIMID: au.ExternalID, Login: au.UserName}}, nil)
		}
	}
	return nil
}

// logMembership logs a change of the user's membership in the group and
// returns both.
func (h *Handler) logMembership(groupID, userID, eventType, legacyEventType, message string) (directory.Group, directory.User) {
	g, _ := h.dir.Group(groupID)
	u, _ := h.dir.User(userID)
	h.logSuccess(eventType, legacyEventType, message, directory.UserTarget(u), directory.GroupTarget(g))
	return g, u
}

// RemoveMember removes a user from a group. For every app the group is
// assigned to, a pushed group loses the member, and a user left without
// any assignment is deactivated in the app.
func (h *Handler) RemoveMember(ctx context.Context, groupID, userID string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	removed, err := h.dir.RemoveMember(groupID, userID)
	if err != nil || !removed {
		return err
	}
	g, u := h.logMembership(groupID, userID, "group.user_membership.remove", "core.user_group_member.user_remove", "Remove user from group membership")
	for ag, app := range h.groupApps(groupID) {
		au, err := h.dir.AppUser(app.ID, u.ID)
		if err != nil {
			continue
		}
		if au.ExternalID != "" {
			h.updatePushedGroup(ctx, app, g, ag.PushedID, nil, []provision.Member{{SCIMID: au.ExternalID, Login: au.UserName}})
		}
		if before, gone, err := h.dir.UnassignUser(app.ID, u.ID, groupID); err == nil && gone {
			h.unassigned(ctx, app, before)
		}
	}
	return nil
}

// UpdateProfile replaces a user's profile and pushes it to every app the
// user is assigned to (Update User Attributes on).
func (h *Handler) UpdateProfile(ctx context.Context, userID string, p directory.Profile) (directory.User, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	before, after, err := h.dir.ReplaceProfile(userID, p)
	if err != nil {
		return directory.User{}, err
	}
	h.logSuccess("user.account.update_profile", "core.user.config.profile_update.success", "Update user profile for Okta", directory.UserTarget(after))
	for _, au := range h.dir.UserAppUsers(after.ID) {
		if app, err := h.dir.App(au.AppID); err == nil {
			h.pushProfile(ctx, app, before, after, au)
		}
	}
	return after, nil
}

// UpdateGroupProfile renames a group and pushes the new name to the apps
// where it is pushed.
func (h *Handler) UpdateGroupProfile(ctx context.Context, groupID, name, description string) (directory.Group, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	before, after, err := h.dir.UpdateGroup(groupID, name, description)
	if err != nil {
		return directory.Group{}, err
	}
	if before.Name != after.Name {
		for ag, app := range h.groupApps(groupID) {
			h.updatePushedGroup(ctx, app, after, ag.PushedID, nil, nil)
		}
	}
	return after, nil
}

// DeleteGroup removes a group after removing its app assignments (see
// UnassignGroup).
func (h *Handler) DeleteGroup(ctx context.Context, groupID string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	g, err := h.dir.Group(groupID)
	if err != nil {
		return err
	}
	if g.IsBuiltIn() {
		return &directory.FieldError{Field: "type", Message: "the " + directory.EveryoneName + " group is built in and cannot be deleted", Kind: directory.ErrInvalid}
	}
	for _, ag := range h.dir.GroupAppGroups(groupID) {
		h.unassignGroupLocked(ctx, ag.AppID, groupID)
	}
	return h.dir.DeleteGroup(groupID)
}

// Lifecycle operations accepted by Lifecycle.
const (
	OpActivate   = "activate"
	OpDeactivate = "deactivate"
	OpSuspend    = "suspend"
	OpUnsuspend  = "unsuspend"
)

// ErrUnknownOperation is returned by Lifecycle for an unknown operation.
var ErrUnknownOperation = errors.New("mgmt: unknown lifecycle operation")

// Lifecycle runs a user lifecycle operation. Deactivating or suspending
// deactivates the user in every app (Deactivate Users on: PATCH active
// false); activating a deactivated user or unsuspending a suspended one
// reactivates it there (PATCH active true, with the id Okta kept), and a
// user who never reached an app is provisioned (Create Users on).
func (h *Handler) Lifecycle(ctx context.Context, userID, op string) (directory.User, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lifecycleLocked(ctx, userID, op)
}

func (h *Handler) lifecycleLocked(ctx context.Context, userID, op string) (directory.User, error) {
	before, err := h.dir.User(userID)
	if err != nil {
		return directory.User{}, err
	}
	var u directory.User
	switch op {
	case OpActivate:
		u, err = h.dir.Activate(before.ID)
	case OpDeactivate:
		u, err = h.dir.Deactivate(before.ID)
	case OpSuspend:
		u, err = h.dir.Suspend(before.ID)
	case OpUnsuspend:
		u, err = h.dir.Unsuspend(before.ID)
	default:
		return directory.User{}, ErrUnknownOperation
	}
	if err != nil {
		return directory.User{}, err
	}
	if u.Status == before.Status {
		return u, nil
	}
	h.logSuccess("user.lifecycle."+op, lifecycleLegacy[op], lifecycleMessage[op], directory.UserTarget(u))
	off := func(s directory.Status) bool {
		return s == directory.StatusDeprovisioned || s == directory.StatusSuspended
	}
	switch {
	case off(u.Status) && !off(before.Status):
		// Okta sets active false in the app when a user is deactivated
		// or suspended.
		for _, au := range h.dir.UserAppUsers(u.ID) {
			if app, err := h.dir.App(au.AppID); err == nil {
				h.deactivateInApp(ctx, app, au)
			}
		}
	case off(before.Status) && !off(u.Status):
		for _, au := range h.dir.UserAppUsers(u.ID) {
			if app, err := h.dir.App(au.AppID); err == nil {
				h.reactivateInApp(ctx, app, au)
			}
		}
	}
	return u, nil
}

var lifecycleLegacy = map[string]string{
	OpActivate: "core.user.config.user_activated", OpDeactivate: "core.user.config.user_deactivated",
	OpSuspend: "core.user.config.user_suspended", OpUnsuspend: "core.user.config.user_unsuspended",
}

var lifecycleMessage = map[string]string{
	OpActivate: "Activate Okta user", OpDeactivate: "Deactivate Okta user",
	OpSuspend: "Suspend Okta user", OpUnsuspend: "Unsuspend Okta user",
}

// DeleteUser deletes a DEPROVISIONED user; any other user is deactivated
// instead (deleted reports which), as Okta's DELETE does.
func (h *Handler) DeleteUser(ctx context.Context, userID string) (deleted bool, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	u, err := h.dir.User(userID)
	if err != nil {
		return false, err
	}
	if u.Status != directory.StatusDeprovisioned {
		_, err := h.lifecycleLocked(ctx, u.ID, OpDeactivate)
		return false, err
	}
	if err := h.dir.DeleteUser(u.ID); err != nil {
		return false, err
	}
	h.RememberPassword(u.ID, "")
	h.logSuccess("user.lifecycle.delete.initiated", "core.user.config.user_deleted", "Delete Okta user", directory.UserTarget(u))
	return true, nil
}

// SetPassword sets a user's Okta password and, for every app with Sync
// Password on that has the user, pushes it (provision.Engine.SetPassword).
func (h *Handler) SetPassword(ctx context.Context, userID, password string) (directory.User, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	u, err := h.dir.SetPassword(userID, password)
	if err != nil {
		return directory.User{}, err
	}
	h.RememberPassword(u.ID, password)
	h.logSuccess("user.account.update_password", "core.user.config.password_update.success", "Update password for Okta", directory.UserTarget(u))
	for _, au := range h.dir.UserAppUsers(u.ID) {
		if app, err := h.dir.App(au.AppID); err == nil {
			h.pushPassword(ctx, app, u, au, password)
		}
	}
	return u, nil
}

// TestConnection is "Test API Credentials": it sends the app's SCIM server
// Okta's test request and enables the connection on success, disables it on
// failure. The error (400 E0000001) says in its errorSummary, in one
// sentence, what the SCIM server answered.
func (h *Handler) TestConnection(ctx context.Context, appID string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	app, err := h.dir.App(appID)
	if err != nil {
		return err
	}
	p := app.Provisioning
	if p == nil {
		return &directory.NotFoundError{Kind: "ProvisioningConnection", ID: "default"}
	}
	if p.BaseURL == "" {
		return &directory.FieldError{Field: "baseUrl", Message: "The SCIM connector base URL is not set", Kind: directory.ErrInvalid}
	}
	if p.Token == "" {
		return &directory.FieldError{Field: "token", Message: "The API token is not set", Kind: directory.ErrInvalid}
	}
	var uerr error // the directory's, not the SCIM server's
	terr := h.startTask(ctx, app, ActionTest, "", true, func(ctx context.Context, app directory.App, p *directory.Provisioning) error {
		terr := h.prov.TestCredentials(ctx, target(p))
		status := directory.ConnectionEnabled
		if terr != nil {
			status = directory.ConnectionDisabled
		}
		if _, uerr = h.dir.UpdateApp(app.ID, func(a *directory.App) error { a.Provisioning.Status = status; return nil }); uerr != nil {
			return uerr
		}
		h.record(directory.Event{EventType: "application.provision.connection.test", DisplayMessage: "Test API credentials", Target: []directory.Target{directory.AppTarget(app)}}, terr)
		return terr
	})
	if uerr != nil {
		return uerr
	}
	if terr != nil {
		// One sentence, as the admin console shows it: what the SCIM
		// server answered, not the engine's chain of errors.
		return apiError(http.StatusBadRequest, "E0000001", "Api validation failed: Error authenticating: "+provision.Explain(terr))
	}
	return nil
}

// SaveToAppSettings is what Okta does on Save of the app's "To App"
// provisioning settings (PUT /api/v1/apps/{id}/features/USER_PROVISIONING)
// once the connection is enabled: it reads the app's groups (GET
// /Groups?startIndex=1&count=100). A failure goes to the System Log and
// does not fail the save.
func (h *Handler) SaveToAppSettings(ctx context.Context, appID string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	app, err := h.dir.App(appID)
	if err != nil {
		return err
	}
	if _, ok := scimApp(app); !ok {
		return nil
	}
	h.runTask(ctx, app, ActionSettings, "", func(ctx context.Context, app directory.App, p *directory.Provisioning) error {
		err := h.prov.SaveToAppSettings(ctx, target(p))
		h.record(directory.Event{
			EventType: "application.provision.group.list", DisplayMessage: "Read the groups of the external application",
			Target: []directory.Target{directory.AppTarget(app)},
		}, err)
		return err
	})
	return nil
}

// Imported is what an import read from a SCIM app.
type Imported struct {
	Users  []scim.Resource // the app's users, in the server's order
	Groups []scim.Resource // the app's groups, in the server's order
}

// Import is "Import Now" on the SCIM app's Import tab: GET
// /Users?startIndex=1&count=100, startIndex += 100 until totalResults,
// then the same for /Groups. It needs an enabled connection and changes
// nothing in the org (Okta queues imported users for an admin to confirm);
// the System Log gets system.import.start and system.import.complete, or
// a FAILURE outcome, and the error (E0000001, as a failed Test API
// Credentials) says what the SCIM server answered.
func (h *Handler) Import(ctx context.Context, appID string) (Imported, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	app, err := h.dir.App(appID)
	if err != nil {
		return Imported{}, err
	}
	if app.Provisioning == nil {
		return Imported{}, &directory.NotFoundError{Kind: "ProvisioningConnection", ID: "default"}
	}
	if _, ok := scimApp(app); !ok {
		return Imported{}, apiError(http.StatusBadRequest, "E0000001", "Api validation failed: connection", "connection: the app's provisioning connection is not enabled; run Test API Credentials first")
	}
	var out Imported
	err = h.runTask(ctx, app, ActionImport, "", func(ctx context.Context, app directory.App, p *directory.Provisioning) error {
		targets := []directory.Target{directory.AppTarget(app)}
		h.logSuccess("system.import.start", "", "Import started", targets...)
		var err error
		out = Imported{}
		out.Users, err = h.prov.ImportUsers(ctx, target(p))
		if err == nil {
			out.Groups, err = h.prov.ImportGroups(ctx, target(p))
		}
		h.record(directory.Event{EventType: "system.import.complete", DisplayMessage: "Import completed", Target: targets}, err)
		return err
	})
	if err != nil {
		return out, apiError(http.StatusBadRequest, "E0000001", "Api validation failed: import: "+err.Error(), "import: "+err.Error())
	}
	return out, nil
}

// UpdateApp changes an app under the org lock (for seeds and the
// connection and feature endpoints).
func (h *Handler) UpdateApp(appID string, update func(*directory.App) error) (directory.App, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.dir.UpdateApp(appID, update)
}
