package connect

import (
	"html"
	"strings"
)

// Element ids of the dialog, stable for tests and for the glue.
const (
	IDPageStatus     = "page-status"
	IDSCIMURL        = "scim-url"
	IDCopySCIMURL    = "copy-scim-url"
	IDGenerateSecret = "generate-secret"
	IDSecretBox      = "secret-box"
	IDSecretWarning  = "secret-warning"
	IDSecret         = "secret"
	IDCopySecret     = "copy-secret"
	IDSecretStatus   = "secret-status"
	IDReplaceBox     = "replace-confirm" // the question before a secret Okta uses is replaced
	IDReplaceSecret  = "replace-secret"  // its "Replace secret" button
	IDCancelReplace  = "cancel-replace"  // its "Cancel" button
	IDUserCount      = "user-count"
	IDGroupCount     = "group-count"
	IDRedirectURI    = "redirect-uri"
	IDCopyRedirect   = "copy-redirect-uri"
	IDForm           = "signin-form"
	IDOktaDomain     = "okta-domain"
	IDClientID       = "client-id"
	IDClientSecret   = "client-secret"
	IDAuthServer     = "auth-server"
	IDSave           = "save"
	IDSaveStatus     = "save-status"
	IDCopyStatus     = "copy-status"

	// The SCIM panel's live part, filled from GET …/api/activity.
	IDConnection    = "connection-status" // "Waiting for Okta…", "✓ Okta has connected…", "✗ …"
	IDUserTable     = "user-table"
	IDUserWrap      = "user-table-wrap" // the scrolling container of IDUserTable, hidden when empty
	IDUserRows      = "user-rows"       // the <tbody> of IDUserTable
	IDUsersEmpty    = "users-empty"
	IDUsersMore     = "users-more"
	IDGroupTable    = "group-table"
	IDGroupWrap     = "group-table-wrap"
	IDGroupRows     = "group-rows"
	IDGroupsEmpty   = "groups-empty"
	IDGroupsMore    = "groups-more"
	IDRequestTable  = "request-table"
	IDRequestWrap   = "request-table-wrap"
	IDRequestRows   = "request-rows"
	IDRequestsEmpty = "requests-empty"

	// The sign-in panel's check list and test sign-in.
	IDChecks     = "signin-checks" // one <li> per adminapi.Check
	IDTestSignIn = "test-sign-in"  // the "Test sign-in" button
	IDTestStatus = "test-status"
	IDClaimsBox  = "claims-box"
	IDClaims     = "claims" // a <dl> of the ID token's claims

	// The header's Sign out and the signed-out state.
	IDSignOut        = "sign-out" // the "Sign out" button
	IDSignOutStatus  = "sign-out-status"
	IDSignedOut      = "signed-out"       // the box shown instead of the panels after sign-out
	IDSignedOutText  = "signed-out-text"  // how to come back
	IDSignedOutTitle = "signed-out-title" // "Signed out" or "Admin session ended"
	IDSessionInfo    = "session-info"     // who is signed in, and until when
	IDLeadFirst      = "lead-first"       // "Create the SCIM app first.", until Okta has connected

	// The panels, hidden after sign-out.
	IDSCIMPanel   = "scim-panel"
	IDSignInPanel = "signin-panel"
	IDAdminsPanel = "admins-panel"
	IDAuditPanel  = "audit-panel"

	// The Admins panel.
	IDAdminGroupForm    = "admin-group-form"
	IDAdminGroup        = "admin-group"      // the group's displayName
	IDSaveAdminGroup    = "save-admin-group" // its "Set admin group" button
	IDAdminGroupStatus  = "admin-group-status"
	IDAdminGroupWarning = "admin-group-warning"
	IDAdminSignInURL    = "admin-signin-url"
	IDCopyAdminSignIn   = "copy-admin-signin-url"
	IDAdminSignInState  = "admin-signin-state" // whether the URL works yet
	IDUseSuggestion     = "use-suggestion"     // fills the admin group field with the group Okta pushed

	// The Recent activity panel, filled from GET …/api/audit.
	IDAuditWrap   = "audit-table-wrap"
	IDAuditTable  = "audit-table"
	IDAuditRows   = "audit-rows"
	IDAuditEmpty  = "audit-empty"
	IDAuditStatus = "audit-status"

	// The time columns' headers, which name the time zone.
	IDRequestTimeHead = "request-time-head"
	IDAuditTimeHead   = "audit-time-head"
)

// CopyButtons lists the ids of the copy buttons, in page order.
func CopyButtons() []string {
	return []string{IDCopySCIMURL, IDCopySecret, IDCopyRedirect, IDCopyAdminSignIn}
}

// CopyTarget returns the id of the read-only field a copy button copies and
// the name of its value; ok is false for an unknown button.
func CopyTarget(button string) (field, name string, ok bool) {
	switch button {
	case IDCopySCIMURL:
		return IDSCIMURL, "Tenant URL", true
	case IDCopySecret:
		return IDSecret, "New secret", true
	case IDCopyRedirect:
		return IDRedirectURI, "Sign-in redirect URI", true
	case IDCopyAdminSignIn:
		return IDAdminSignInURL, "Admin sign-in URL", true
	}
	return "", "", false
}

// Markup returns the dialog's HTML for tenant, to be put inside the page's
// #app element. Values are filled in afterwards through Set updates; every
// form field has a visible <label for>, and every control is a native
// button or input so the page works by keyboard.
func Markup(tenant string) string {
	return strings.ReplaceAll(markup, "{{tenant}}", html.EscapeString(tenant))
}

const markup = `<header>
<div class="titlebar">
<h1>Connect Okta</h1>
<div class="session"><span id="session-info" hidden></span> <button type="button" id="sign-out" disabled>Sign out</button></div>
</div>
<p id="sign-out-status" class="status" role="status" aria-live="polite" hidden></p>
<p class="lead">Tenant <strong id="tenant-name">{{tenant}}</strong>. Okta needs two app integrations: a SCIM app that provisions users and an OIDC app that signs them in.<span id="lead-first"> Create the SCIM app first.</span></p>
<p id="page-status" class="status" role="alert" hidden></p>
</header>
<section id="signed-out" class="panel" aria-labelledby="signed-out-title" tabindex="-1" hidden>
<h2 id="signed-out-title">Signed out</h2>
<p id="signed-out-text"></p>
</section>
<section class="panel" id="scim-panel" aria-labelledby="scim-title">
<h2 id="scim-title">SCIM provisioning</h2>
<p class="explain">In Okta, add "SCIM 2.0 (OAuth Bearer Token)" from the App Catalog, enable API integration and paste these two values, then Test API Credentials.</p>
<div class="field">
<label for="scim-url">Tenant URL</label>
<div class="copyrow"><input id="scim-url" type="text" readonly spellcheck="false" aria-describedby="scim-url-help"><button type="button" id="copy-scim-url" aria-label="Copy Tenant URL">Copy</button></div>
<p class="help" id="scim-url-help">Okta's "SCIM 2.0 Base Url": where Okta sends users and groups.</p>
</div>
<div class="field">
<button type="button" id="generate-secret" disabled>Generate new secret</button>
<p class="help">Okta's "OAuth Bearer Token": the secret Okta sends with every SCIM request.</p>
<div id="replace-confirm" class="confirm" hidden>
<p class="warning" id="replace-warning">Okta is using the current secret: after you replace it, it keeps working for 10 minutes; paste the new one into Okta within that time, or provisioning stops.</p>
<div class="actions"><button type="button" id="replace-secret" aria-describedby="replace-warning">Replace secret</button><button type="button" id="cancel-replace" aria-keyshortcuts="Escape">Cancel</button></div>
</div>
<p id="secret-status" class="status" role="status" aria-live="polite" hidden></p>
</div>
<div class="field" id="secret-box" hidden>
<label for="secret">New secret</label>
<div class="copyrow"><input id="secret" type="text" readonly spellcheck="false" autocomplete="off" aria-describedby="secret-warning"><button type="button" id="copy-secret" aria-label="Copy new secret">Copy</button></div>
<p class="warning" id="secret-warning">This secret is shown only once: copy it into Okta now. The previous secret stopped working.</p>
</div>
<p id="connection-status" class="status busy" role="status" aria-live="polite" aria-describedby="connection-help">Checking whether Okta has connected…</p>
<p class="help" id="connection-help">Updates by itself when Okta's "Test API Credentials" request arrives with the current secret.</p>
<dl class="counts">
<div><dt>Provisioned users</dt><dd id="user-count">–</dd></div>
<div><dt>Provisioned groups</dt><dd id="group-count">–</dd></div>
</dl>
<p class="help">Assign users or a group to the SCIM app in Okta; they appear here.</p>
<h3 id="users-title">Users</h3>
<p class="help">The users Okta provisioned, the most recently changed first; "deactivated" users cannot sign in.</p>
<p id="users-empty" class="empty" hidden>No users yet: assign people or a group to the SCIM app in Okta.</p>
<div id="user-table-wrap" class="table-wrap" role="region" aria-labelledby="users-title" tabindex="0" hidden>
<table id="user-table" class="users" aria-labelledby="users-title">
<thead><tr><th scope="col">User name</th><th scope="col">Name</th><th scope="col">Status</th></tr></thead>
<tbody id="user-rows"></tbody>
</table>
</div>
<p id="users-more" class="help" hidden></p>
<h3 id="groups-title">Groups</h3>
<p class="help">Assign people, or a group, to the SCIM app in Okta (Assignments tab); pushed groups appear here too.</p>
<p id="groups-empty" class="empty" hidden>No groups yet: push a group from the SCIM app's Push Groups tab in Okta.</p>
<div id="group-table-wrap" class="table-wrap" role="region" aria-labelledby="groups-title" tabindex="0" hidden>
<table id="group-table" class="groups" aria-labelledby="groups-title">
<thead><tr><th scope="col">Group</th><th scope="col">Members</th></tr></thead>
<tbody id="group-rows"></tbody>
</table>
</div>
<p id="groups-more" class="help" hidden></p>
<h3 id="requests-title">Last provisioning requests</h3>
<p class="help">What Okta sent to the Tenant URL, the newest first, and what idpkit answered.</p>
<p id="requests-empty" class="empty" hidden>No requests yet: they appear here as soon as Okta sends one.</p>
<div id="request-table-wrap" class="table-wrap" role="region" aria-labelledby="requests-title" tabindex="0" hidden>
<table id="request-table" class="requests" aria-labelledby="requests-title">
<thead><tr><th scope="col" id="request-time-head">Time</th><th scope="col">What Okta did</th><th scope="col">Request</th><th scope="col">Outcome</th></tr></thead>
<tbody id="request-rows"></tbody>
</table>
</div>
</section>
<section class="panel" id="signin-panel" aria-labelledby="signin-title">
<h2 id="signin-title">Sign-in</h2>
<p class="explain">In Okta, create an app integration "OIDC - OpenID Connect", type Web Application, grant type Authorization Code, with this redirect URI; then enter its values below.</p>
<div class="field">
<label for="redirect-uri">Sign-in redirect URI</label>
<div class="copyrow"><input id="redirect-uri" type="text" readonly spellcheck="false" aria-describedby="redirect-uri-help"><button type="button" id="copy-redirect-uri" aria-label="Copy Sign-in redirect URI">Copy</button></div>
<p class="help" id="redirect-uri-help">Where Okta sends people back after they sign in.</p>
</div>
<form id="signin-form" novalidate>
<div class="field">
<label for="okta-domain">Okta domain</label>
<input id="okta-domain" name="oktaDomain" type="text" placeholder="example.okta.com" autocomplete="off" spellcheck="false" aria-describedby="okta-domain-help">
<p class="help" id="okta-domain-help">Your Okta org's domain, shown in the Okta admin console under your user name.</p>
</div>
<div class="field">
<label for="client-id">Client ID</label>
<input id="client-id" name="clientId" type="text" autocomplete="off" spellcheck="false" aria-describedby="client-id-help">
<p class="help" id="client-id-help">From the OIDC app's General tab, "Client Credentials".</p>
</div>
<div class="field">
<label for="client-secret">Client secret</label>
<input id="client-secret" name="clientSecret" type="password" autocomplete="new-password" aria-describedby="client-secret-help">
<p class="help" id="client-secret-help">From the same tab. Stored on the server and never shown again; leave empty to keep the saved one.</p>
</div>
<div class="field">
<label for="auth-server">Authorization server <span class="optional">(optional)</span></label>
<input id="auth-server" name="authServer" type="text" placeholder="org server" autocomplete="off" spellcheck="false" aria-describedby="auth-server-help">
<p class="help" id="auth-server-help">Leave empty for Okta's org authorization server; enter "default" for the default custom server.</p>
</div>
<div class="actions">
<button type="submit" id="save" disabled>Save</button>
<p id="save-status" class="status" role="status" aria-live="polite" hidden></p>
</div>
<p class="help">Save first checks the values against Okta, step by step; nothing is saved unless every step passes.</p>
<ul id="signin-checks" class="checks" aria-label="Sign-in checks" hidden></ul>
</form>
<div class="field">
<div class="actions">
<button type="button" id="test-sign-in" disabled aria-describedby="test-sign-in-help">Test sign-in</button>
<p id="test-status" class="status" role="status" aria-live="polite" hidden></p>
</div>
<p class="help" id="test-sign-in-help">Signs in through Okta in a popup, as a person would, without starting a session here; available once sign-in is saved.</p>
</div>
<div id="claims-box" hidden>
<h3 id="claims-title">ID token claims</h3>
<p class="help">What Okta's ID token said about the person, after idpkit verified it.</p>
<dl id="claims" class="claims"></dl>
</div>
</section>
<section class="panel" id="admins-panel" aria-labelledby="admins-title">
<h2 id="admins-title">Admins</h2>
<p class="explain">Besides one-time admin links, the members of one group that Okta pushes to this tenant can open this dialog by signing in with Okta.</p>
<form id="admin-group-form" novalidate>
<div class="field">
<label for="admin-group">Admin group</label>
<input id="admin-group" name="group" type="text" placeholder="Idpkit Admins" autocomplete="off" spellcheck="false" aria-describedby="admin-group-help">
<p class="help" id="admin-group-help">The name of a group pushed from the SCIM app's Push Groups tab, exactly as Okta shows it; its active members may sign in as admins. Leave empty to turn admin sign-in with Okta off.</p>
</div>
<div class="actions">
<button type="submit" id="save-admin-group" disabled>Set admin group</button>
<p id="admin-group-status" class="status" role="status" aria-live="polite" hidden></p>
</div>
<p id="admin-group-warning" class="warning" role="status" hidden></p>
<button type="button" id="use-suggestion" hidden></button>
</form>
<div class="field">
<label for="admin-signin-url">Admin sign-in URL</label>
<div class="copyrow"><input id="admin-signin-url" type="text" readonly spellcheck="false" aria-describedby="admin-signin-url-help admin-signin-state"><button type="button" id="copy-admin-signin-url" aria-label="Copy Admin sign-in URL">Copy</button></div>
<p class="help" id="admin-signin-url-help">Where admins sign in with Okta to reach this dialog. It works only once sign-in is saved (above) and an admin group is set.</p>
<p class="help" id="admin-signin-state"></p>
</div>
</section>
<section class="panel" id="audit-panel" aria-labelledby="audit-title">
<h2 id="audit-title">Recent activity</h2>
<p class="help">This tenant's audit trail, the newest first: what Okta provisioned, who signed in, and what admins changed. It keeps ids only, never names or e-mail addresses.</p>
<p id="audit-empty" class="empty" hidden>No activity yet: Okta's changes, sign-ins and admin changes appear here.</p>
<div id="audit-table-wrap" class="log-wrap" role="region" aria-labelledby="audit-title" tabindex="0" hidden>
<table id="audit-table" class="audit" aria-labelledby="audit-title">
<thead><tr><th scope="col" id="audit-time-head">Time</th><th scope="col">What happened</th><th scope="col">Details</th><th scope="col">Who</th></tr></thead>
<tbody id="audit-rows"></tbody>
</table>
</div>
<p id="audit-status" class="status" role="status" aria-live="polite" hidden></p>
</section>
<p id="copy-status" class="copy-status" role="status" aria-live="polite"></p>
`
