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
	IDSecret         = "secret"
	IDCopySecret     = "copy-secret"
	IDSecretStatus   = "secret-status"
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
)

// CopyButtons lists the ids of the copy buttons, in page order.
func CopyButtons() []string { return []string{IDCopySCIMURL, IDCopySecret, IDCopyRedirect} }

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
<h1>Connect Okta</h1>
<p class="lead">Tenant <strong id="tenant-name">{{tenant}}</strong>. Okta needs two app integrations: a SCIM app that provisions users and an OIDC app that signs them in. Create the SCIM app first.</p>
<p id="page-status" class="status" role="alert" hidden></p>
</header>
<section class="panel" aria-labelledby="scim-title">
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
<p id="secret-status" class="status" role="status" aria-live="polite" hidden></p>
</div>
<div class="field" id="secret-box" hidden>
<label for="secret">New secret</label>
<div class="copyrow"><input id="secret" type="text" readonly spellcheck="false" autocomplete="off" aria-describedby="secret-warning"><button type="button" id="copy-secret" aria-label="Copy new secret">Copy</button></div>
<p class="warning" id="secret-warning">This secret is shown only once: copy it into Okta now. The previous secret stopped working.</p>
</div>
<dl class="counts">
<div><dt>Provisioned users</dt><dd id="user-count">–</dd></div>
<div><dt>Provisioned groups</dt><dd id="group-count">–</dd></div>
</dl>
<p class="help">Assign users or a group to the SCIM app in Okta; they appear here.</p>
</section>
<section class="panel" aria-labelledby="signin-title">
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
</form>
</section>
<p id="copy-status" class="copy-status" role="status" aria-live="polite"></p>
`
