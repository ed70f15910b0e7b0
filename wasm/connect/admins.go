package connect

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// Sentences of the Admins panel.
const (
	AdminSignInNeedsSettings = "Not yet: save the sign-in settings above first; until then, admins use one-time admin links."
	AdminSignInNeedsGroup    = "Not yet: set an admin group first; until then, admins use one-time admin links."
	AdminSignInReady         = "Ready: members of the admin group can sign in here with Okta."
)

// AdminSignInURL is the URL where admins sign in with Okta
// (/t/{tenant}/admin/signin), on the public URL the server builds the
// redirect URI from.
func AdminSignInURL(s Settings) string {
	if base, ok := strings.CutSuffix(s.RedirectURI, "/oidc/callback"); ok {
		return base + "/admin/signin"
	}
	if base, ok := strings.CutSuffix(s.SCIMBaseURL, "/scim/v2"); ok {
		return base + "/admin/signin"
	}
	return ""
}

// adminSignInState says whether the admin sign-in URL works yet, as far
// as settings tell.
func adminSignInState(s Settings) string {
	switch {
	case !canTest(s):
		return AdminSignInNeedsSettings
	case s.AdminGroup == "":
		return AdminSignInNeedsGroup
	}
	return AdminSignInReady
}

// adminSets fills the Admins panel from settings; the group field only
// when group is true, so that what a person is typing is kept.
func adminSets(s Settings, group bool) []Set {
	sets := []Set{
		{IDSaveAdminGroup, PropDisabled, false},
		{IDSignOut, PropDisabled, false},
		{IDAdminSignInURL, PropValue, signInURL(s)},
		{IDAdminSignInState, PropText, adminSignInState(s)},
	}
	if group {
		sets = append(sets, Set{IDAdminGroup, PropValue, s.AdminGroup})
	}
	return sets
}

// GroupState is what the dialog knows about the saved admin group.
type GroupState struct {
	Known   bool // false: nothing is known yet (no list, no answer)
	Found   bool // a provisioned group has exactly that displayName
	Members int  // in the group(s) of that name
	// Suggestion is a provisioned group whose displayName differs only
	// in case or spacing, when Found is false.
	Suggestion string
}

// LookupGroup says what is known about the group name: from the
// activity's provisioned groups (the live list; nil when none was read),
// else, when the list may leave it out (more groups than it shows), from
// the answer of the last save of that group (nil when none).
func LookupGroup(name string, groups *ResourceList, saved *AdminGroupSaved) GroupState {
	if name == "" {
		return GroupState{}
	}
	var st GroupState
	if groups != nil {
		for _, g := range groups.Recent {
			switch {
			case g.Name == name:
				st.Found = true
				st.Members += g.Members
			case st.Suggestion == "" && sameName(g.Name, name):
				st.Suggestion = g.Name
			}
		}
		if st.Found {
			return GroupState{Known: true, Found: true, Members: st.Members}
		}
		if groups.Total <= len(groups.Recent) {
			st.Known = true
			if st.Suggestion == "" && saved != nil && saved.AdminGroup == name {
				st.Suggestion = saved.GroupSuggestion
			}
			return st
		}
	}
	if saved != nil && saved.AdminGroup == name {
		sug := saved.GroupSuggestion
		if sug == "" {
			sug = st.Suggestion
		}
		if saved.GroupFound {
			sug = ""
		}
		return GroupState{Known: true, Found: saved.GroupFound, Members: saved.GroupMembers, Suggestion: sug}
	}
	return GroupState{Suggestion: st.Suggestion}
}

// sameName: a and b differ only in case or spacing.
func sameName(a, b string) bool {
	return strings.EqualFold(strings.Join(strings.Fields(a), " "), strings.Join(strings.Fields(b), " "))
}

// Sentences of the Admins panel's sign-in state when the group does not
// let anyone in yet.
const (
	AdminSignInGroupMissing = "Not yet: Okta has not pushed the admin group, so nobody can sign in here with Okta (see above)."
	AdminSignInGroupEmpty   = "Not yet: the admin group has no members, so nobody can sign in here with Okta (see above)."
)

// GroupWarning is the warning under the admin group name, for what is
// known about it; "" when there is none.
func GroupWarning(name string, st GroupState) string {
	switch {
	case name == "" || !st.Known:
		return ""
	case !st.Found && st.Suggestion != "":
		return "Okta has not pushed a group named " + quote(name) + " to this tenant; did you mean " + quote(st.Suggestion) + "? The name must match exactly, or nobody can sign in as an admin with Okta."
	case !st.Found:
		return "Okta has not pushed a group named " + quote(name) + " to this tenant: push it from the SCIM app's Push Groups tab, or check the spelling (it must match exactly), or nobody can sign in as an admin with Okta."
	case st.Members == 0:
		return "The group " + quote(name) + " has no members yet: assign the admins to it in Okta."
	}
	return ""
}

// UseSuggestionText is the label of the button that fills in a suggested
// group.
func UseSuggestionText(group string) string { return "Use " + quote(group) }

// AdminView is the Admins panel's warning, its "did you mean" button and
// the sign-in state, for the saved settings and what is known about the
// group (see LookupGroup): never "Ready" while the warning says that
// nobody can sign in.
func AdminView(s Settings, st GroupState) []Set {
	warn := GroupWarning(s.AdminGroup, st)
	state := adminSignInState(s)
	if state == AdminSignInReady && st.Known {
		switch {
		case !st.Found:
			state = AdminSignInGroupMissing
		case st.Members == 0:
			state = AdminSignInGroupEmpty
		}
	}
	sug := ""
	if st.Known && !st.Found {
		sug = st.Suggestion
	}
	return []Set{
		{IDAdminGroupWarning, PropText, warn},
		{IDAdminGroupWarning, PropHidden, warn == ""},
		{IDUseSuggestion, PropText, UseSuggestionText(sug)},
		{IDUseSuggestion, PropHidden, sug == ""},
		{IDAdminSignInState, PropText, state},
	}
}

// adminView is AdminView for the dialog's state.
func adminView(s Settings, groups *ResourceList, saved *AdminGroupSaved) []Set {
	return AdminView(s, LookupGroup(s.AdminGroup, groups, saved))
}

// UseSuggestion fills the admin group field with the group the warning
// suggests and moves the focus to "Set admin group"; nothing is saved
// until it is pressed.
func (d *Dialog) UseSuggestion() {
	d.mu.Lock()
	st := LookupGroup(d.settings.AdminGroup, d.groups, d.groupSaved)
	d.mu.Unlock()
	if st.Found || st.Suggestion == "" {
		return
	}
	d.apply([]Set{{IDAdminGroup, PropValue, st.Suggestion}, {IDSaveAdminGroup, PropFocus, true}})
}

// SavingAdminGroup shows that the admin group is being saved.
func SavingAdminGroup() []Set {
	return []Set{
		{IDAdminGroupStatus, PropText, "Saving the admin group…"},
		{IDAdminGroupStatus, PropClass, ClassBusy},
		{IDAdminGroupStatus, PropBusy, "true"},
		{IDAdminGroupStatus, PropHidden, false},
		{IDAdminGroupWarning, PropHidden, true},
	}
}

// AdminGroupSentence is the ✓ text after the admin group was saved.
func AdminGroupSentence(out AdminGroupSaved) string {
	if out.AdminGroup == "" {
		return "Saved: no admin group, so admins sign in with one-time admin links only."
	}
	members := "members"
	if out.GroupMembers == 1 {
		members = "member"
	}
	if !out.GroupFound {
		return "Saved: admin group " + quote(out.AdminGroup) + "."
	}
	return "Saved: admin group " + quote(out.AdminGroup) + ", " + strconv.Itoa(out.GroupMembers) + " " + members + "."
}

// AdminGroupWarning is the warning under a saved admin group that nobody
// could sign in with yet, from the server's answer alone; "" when there
// is none.
func AdminGroupWarning(out AdminGroupSaved) string {
	return GroupWarning(out.AdminGroup, LookupGroup(out.AdminGroup, nil, &out))
}

// AdminGroupSavedSets shows ✓ with what was saved, and a warning when the
// group is not provisioned or empty (from the answer alone; the dialog
// adds what the activity's groups say).
func AdminGroupSavedSets(out AdminGroupSaved) []Set {
	sets := []Set{
		{IDAdminGroupStatus, PropText, "✓ " + AdminGroupSentence(out)},
		{IDAdminGroupStatus, PropClass, ClassOK},
		{IDAdminGroupStatus, PropBusy, "false"},
		{IDAdminGroupStatus, PropHidden, false},
	}
	sets = append(sets, adminSets(out.Settings, true)...)
	return append(sets, AdminView(out.Settings, LookupGroup(out.AdminGroup, nil, &out))...)
}

// AdminGroupFailed shows ✗ with the reason; the field keeps what was
// typed.
func AdminGroupFailed(err error) []Set {
	return []Set{
		{IDAdminGroupStatus, PropText, "✗ " + Sentence(err)},
		{IDAdminGroupStatus, PropClass, ClassError},
		{IDAdminGroupStatus, PropBusy, "false"},
		{IDAdminGroupStatus, PropHidden, false},
	}
}

// SaveAdminGroup saves the admin group field and shows ✓ (with a warning
// when the group is not provisioned) or ✗.
func (d *Dialog) SaveAdminGroup(ctx context.Context) {
	s, ok := d.current()
	if !ok || d.leaving() || !d.start("admin-group") {
		return
	}
	defer d.done("admin-group")
	group := trim(d.Page.Value(IDAdminGroup))
	d.apply(SavingAdminGroup())
	ctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	out, err := d.API.SaveAdminGroup(ctx, s.CSRF, group)
	if d.endSession(err) {
		return
	}
	if err != nil {
		// ErrWouldLockOut among others: ✗ with the server's words; the
		// saved group, its warning and the state stay as they were.
		d.apply(AdminGroupFailed(err))
		d.mu.Lock()
		view := adminView(d.settings, d.groups, d.groupSaved)
		d.mu.Unlock()
		d.apply(view)
		return
	}
	if out.CSRF == "" {
		out.CSRF = s.CSRF
	}
	if out.Session.Via == "" {
		out.Session = s.Session
	}
	d.mu.Lock()
	d.settings = out.Settings
	d.groupSaved = &out
	view := adminView(d.settings, d.groups, d.groupSaved)
	d.mu.Unlock()
	d.apply(append(AdminGroupSavedSets(out), view...))
	d.auditSoon()
}

// leaving reports whether the admin signs out or has signed out: nothing
// more is read from the API.
func (d *Dialog) leaving() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.signingOut || d.signedOut
}

// isSignedOut reports whether the session ended.
func (d *Dialog) isSignedOut() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.signedOut
}

// SigningOut shows that the sign-out runs.
func SigningOut() []Set {
	return []Set{
		{IDSignOutStatus, PropText, "Signing out…"},
		{IDSignOutStatus, PropClass, ClassBusy},
		{IDSignOutStatus, PropBusy, "true"},
		{IDSignOutStatus, PropHidden, false},
	}
}

// SignOutFailed says why the sign-out did not happen; the dialog stays.
func SignOutFailed(err error) []Set {
	text := "✗ Not signed out: " + Sentence(err)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusForbidden {
		text = "✗ Not signed out: the server refused the request; reload the page and try again."
	}
	return []Set{
		{IDSignOutStatus, PropText, text},
		{IDSignOutStatus, PropClass, ClassError},
		{IDSignOutStatus, PropBusy, "false"},
		{IDSignOutStatus, PropHidden, false},
	}
}

// SignOut ends the admin session on the server (POST …/admin/logout with
// the CSRF header) and shows the signed-out state: no more polling, and a
// line saying how to come back. On failure the dialog stays as it was.
func (d *Dialog) SignOut(ctx context.Context) {
	s, ok := d.current()
	if !ok || !d.start("sign-out") {
		return
	}
	defer d.done("sign-out")
	d.mu.Lock()
	if d.signedOut {
		d.mu.Unlock()
		return
	}
	d.signingOut = true
	d.mu.Unlock()
	d.apply(SigningOut())
	ctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	if err := d.API.SignOut(ctx, s.CSRF); err != nil {
		d.mu.Lock()
		d.signingOut = false
		d.mu.Unlock()
		if d.endSession(err) {
			return
		}
		d.apply(SignOutFailed(err))
		return
	}
	d.stopTest()
	d.mu.Lock()
	d.signedOut, d.signingOut = true, false
	d.settings.CSRF = ""
	d.mu.Unlock()
	d.apply(SignedOut(s))
}

func quote(s string) string { return "“" + s + "”" }
