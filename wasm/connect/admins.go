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

// adminSignInState says whether the admin sign-in URL works yet.
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
		{IDAdminSignInURL, PropValue, AdminSignInURL(s)},
		{IDAdminSignInState, PropText, adminSignInState(s)},
	}
	if group {
		sets = append(sets, Set{IDAdminGroup, PropValue, s.AdminGroup})
	}
	return sets
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
// could sign in with yet; "" when there is none.
func AdminGroupWarning(out AdminGroupSaved) string {
	switch {
	case out.AdminGroup == "":
		return ""
	case !out.GroupFound:
		return "Okta has not pushed a group named " + quote(out.AdminGroup) + " to this tenant: push it from the SCIM app's Push Groups tab, or check the spelling (it must match exactly), or nobody can sign in as an admin with Okta."
	case out.GroupMembers == 0:
		return "The group " + quote(out.AdminGroup) + " has no members yet: assign the admins to it in Okta."
	}
	return ""
}

// AdminGroupSavedSets shows ✓ with what was saved, and a warning when the
// group is not provisioned or empty.
func AdminGroupSavedSets(out AdminGroupSaved) []Set {
	warn := AdminGroupWarning(out)
	sets := []Set{
		{IDAdminGroupStatus, PropText, "✓ " + AdminGroupSentence(out)},
		{IDAdminGroupStatus, PropClass, ClassOK},
		{IDAdminGroupStatus, PropBusy, "false"},
		{IDAdminGroupStatus, PropHidden, false},
		{IDAdminGroupWarning, PropText, warn},
		{IDAdminGroupWarning, PropHidden, warn == ""},
	}
	return append(sets, adminSets(out.Settings, true)...)
}

// AdminGroupFailed shows ✗ with the reason; the field keeps what was
// typed.
func AdminGroupFailed(err error) []Set {
	return []Set{
		{IDAdminGroupStatus, PropText, "✗ " + Sentence(err)},
		{IDAdminGroupStatus, PropClass, ClassError},
		{IDAdminGroupStatus, PropBusy, "false"},
		{IDAdminGroupStatus, PropHidden, false},
		{IDAdminGroupWarning, PropHidden, true},
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
	if err != nil {
		d.apply(AdminGroupFailed(err))
		return
	}
	if out.CSRF == "" {
		out.CSRF = s.CSRF
	}
	d.mu.Lock()
	d.settings = out.Settings
	d.mu.Unlock()
	d.apply(AdminGroupSavedSets(out))
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

// SignedOutText is how to come back after signing out.
func SignedOutText(s Settings) string {
	text := "You are signed out of this tenant's admin pages, on the server too. To come back, open a new one-time admin link (your idpkit operator makes one with idpkit tenant admin-link " + s.Tenant + ")"
	url := AdminSignInURL(s)
	switch {
	case url == "":
		return text + "."
	case adminSignInState(s) == AdminSignInReady:
		return text + ", or sign in with Okta at " + url + "."
	}
	return text + "; once sign-in and an admin group are saved, admins can also sign in with Okta at " + url + "."
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

// SignedOut replaces the panels with the signed-out box, which says how to
// come back, and moves the focus to it.
func SignedOut(s Settings) []Set {
	return []Set{
		{IDSignOutStatus, PropHidden, true},
		{IDSignOutStatus, PropBusy, "false"},
		{IDSignOut, PropHidden, true},
		{IDPageStatus, PropHidden, true},
		{IDSCIMPanel, PropHidden, true},
		{IDSignInPanel, PropHidden, true},
		{IDAdminsPanel, PropHidden, true},
		{IDAuditPanel, PropHidden, true},
		{IDCopyStatus, PropText, ""},
		{IDSecret, PropValue, ""},
		{IDSignedOutText, PropText, SignedOutText(s)},
		{IDSignedOut, PropHidden, false},
		{IDSignedOut, PropFocus, true},
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
