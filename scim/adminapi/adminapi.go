// Package adminapi is the wire contract of the Connect Okta dialog's API
// under /t/{tenant}/admin/api/: the JSON the server (scim/login) sends and
// the dialog (wasm/connect, compiled to WebAssembly) reads. It holds types
// only, so both sides build for every platform.
package adminapi

import "time"

// CSRFHeader is the header every admin API POST carries, equal to
// Settings.CSRF of the admin session.
const CSRFHeader = "X-Idpkit-Csrf"

// Settings is the JSON of GET /t/{tenant}/admin/api/settings and of a
// successful POST …/api/oidc: what the dialog shows.
type Settings struct {
	Tenant          string `json:"tenant"`
	SCIMBaseURL     string `json:"scimBaseUrl"`
	RedirectURI     string `json:"redirectUri"`
	OktaDomain      string `json:"oktaDomain"`
	AuthServer      string `json:"authServer"`
	Issuer          string `json:"issuer"`
	ClientID        string `json:"clientId"`
	ClientSecretSet bool   `json:"clientSecretSet"`
	Users           int    `json:"users"`
	Groups          int    `json:"groups"`
	// AdminGroup is the displayName of the SCIM group whose members may
	// sign in as admins with Okta (GET …/admin/signin); "" for none.
	AdminGroup string `json:"adminGroup"`
	// AdminSignInURL is where the admin group's members sign in with
	// Okta (absolute, from the public URL); it works once sign-in is
	// saved and AdminGroup is set.
	AdminSignInURL string `json:"adminSignInUrl"`
	// Session is whose admin session this is, and until when.
	Session AdminSession `json:"session"`
	CSRF    string       `json:"csrf"`
	// Checks are the steps of the sign-in check, in the order they ran;
	// only the answer of POST …/api/oidc carries them.
	Checks []Check `json:"checks,omitempty"`
}

// AdminSession says whose admin session the dialog runs in.
type AdminSession struct {
	// Via is SessionOkta (signed in with Okta at …/admin/signin) or
	// SessionLink (a one-time admin link).
	Via string `json:"via"`
	// Sub and UserName name the Okta user of a SessionOkta session: the
	// Okta user id and the SCIM user's userName.
	Sub      string `json:"sub,omitempty"`
	UserName string `json:"userName,omitempty"`
	// Expires is when the session ends at the latest.
	Expires time.Time `json:"expires"`
}

// AdminSession.Via values.
const (
	SessionOkta = "okta"
	SessionLink = "admin-link"
)

// Error codes (Error.Error) of the admin API that the dialog acts on.
const (
	// ErrLoginRequired: no admin session, or it has expired or ended.
	ErrLoginRequired = "login_required"
	// ErrAdminRemoved: the session ended because Okta no longer lists its
	// user as an active member of the tenant's admin group (or the group
	// changed); the description says which.
	ErrAdminRemoved = "admin_removed"
	// ErrWouldLockOut: POST …/api/admin-group refused, because the admin
	// who signed in with Okta is not an active member of the group named
	// and would lose access at once; the description says what to do.
	ErrWouldLockOut = "would_lock_out"
)

// Check names of the sign-in check, in the order they run.
const (
	CheckDomain      = "Okta domain"
	CheckDiscovery   = "Discovery document"
	CheckKeys        = "Signing keys"
	CheckCredentials = "Client credentials"
)

// Check is one step of the sign-in check that POST …/api/oidc runs
// before it saves anything.
type Check struct {
	Name   string `json:"name"` // one of the Check* names
	OK     bool   `json:"ok"`
	Detail string `json:"detail"` // a sentence: what was found, or what is wrong and what to do
}

// Error is the body of every admin API error: the OAuth 2.0 error shape
// (RFC 6749 §5.2). A refused POST …/api/oidc adds the checks that ran,
// the last of them the one that failed.
type Error struct {
	Error       string  `json:"error"`
	Description string  `json:"error_description"`
	Checks      []Check `json:"checks,omitempty"`
}

// Activity is the JSON of GET /t/{tenant}/admin/api/activity: what the
// dialog shows while Okta provisions.
type Activity struct {
	// Connected is the first SCIM request authenticated with the current
	// secret (Okta's Test API Credentials, normally); null until one
	// arrives, and again after the secret is rotated. It is kept in the
	// database, so every instance of the server sees it.
	Connected *Request `json:"connected"`
	// Requests are the latest SCIM requests to the tenant, newest first,
	// at most MaxRequests, including those refused for a wrong secret.
	// They are kept in the memory of the instance that served them.
	Requests []Request `json:"requests"`
	// Users and Groups are the provisioned resources, the most recently
	// modified first.
	Users  ResourceList `json:"users"`
	Groups ResourceList `json:"groups"`
	// PreviousSecretUntil is when the SCIM secret before the current one
	// stops working, while a rotation's grace period runs (from the
	// dialog or from idpkit tenant rotate-token --grace); absent else.
	PreviousSecretUntil *time.Time `json:"previousSecretUntil,omitempty"`
}

// MaxRequests and MaxRecent bound the lists of Activity.
const (
	MaxRequests = 20
	MaxRecent   = 10
)

// Request is one SCIM request as the dialog lists it.
type Request struct {
	At     time.Time `json:"at"`
	Method string    `json:"method"`
	// Path is below the tenant URL, with its query: "/Users?startIndex=1&count=2".
	Path   string `json:"path"`
	Status int    `json:"status"`
	// Action is what Okta was doing, in words: "Test API Credentials",
	// "Import users", "Look up user", "Create user", "Update user",
	// "Deactivate user", "Create group", "Update group", "Delete group",
	// "Wrong secret", ….
	Action string `json:"action"`
	// Detail is the SCIM error's detail (with its scimType) when Status
	// is 400 or more.
	Detail    string `json:"detail,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
}

// ResourceList is a count and the most recent of one resource type.
type ResourceList struct {
	Total  int           `json:"total"`
	Recent []Provisioned `json:"recent"` // at most MaxRecent
}

// Provisioned is a user or group that Okta pushed.
type Provisioned struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`                  // a user's userName, a group's displayName
	DisplayName string    `json:"displayName,omitempty"` // a user's displayName or formatted name
	Active      bool      `json:"active"`                // always true for groups
	Members     int       `json:"members,omitempty"`     // groups only
	Modified    time.Time `json:"modified"`
}

// TestSignIn is the JSON of GET /t/{tenant}/admin/api/test-sign-in?id=ID:
// the outcome of the test sign-in the dialog opened in a popup at
// GET /t/{tenant}/admin/test-sign-in?id=ID.
type TestSignIn struct {
	// Done is false while the sign-in has not come back.
	Done bool `json:"done"`
	// OK: the person would have been signed in (a provisioned, active
	// user). A test sign-in never starts a session.
	OK bool `json:"ok"`
	// Message is one sentence: "Signed in as alice@example.com." or why
	// not, as the sign-in page says it.
	Message string `json:"message"`
	// UserName is the SCIM user found, when one was.
	UserName string `json:"userName,omitempty"`
	// Claims are the verified ID token's claims, when the token verified.
	Claims map[string]any `json:"claims,omitempty"`
}

// SignIn is the body of POST /t/{tenant}/admin/api/oidc. An empty
// ClientSecret keeps the saved one; an empty AuthServer means Okta's org
// authorization server.
type SignIn struct {
	OktaDomain   string `json:"oktaDomain"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
	AuthServer   string `json:"authServer"`
}

// Secret is the answer of POST /t/{tenant}/admin/api/secret: the new SCIM
// secret, shown once.
type Secret struct {
	Token string `json:"token"`
}

// SecretRequest is the optional JSON body of POST
// /t/{tenant}/admin/api/secret. GraceSeconds, 0 to MaxGraceSeconds, is how
// long the previous secret keeps working, so the Okta admin has time to
// paste the new one; 0 (or no body) ends it at once.
type SecretRequest struct {
	GraceSeconds int `json:"graceSeconds,omitempty"`
}

// MaxGraceSeconds is the largest SecretRequest.GraceSeconds (a day).
const MaxGraceSeconds = 86400

// AdminGroup is the body of POST /t/{tenant}/admin/api/admin-group: the
// displayName of the SCIM group whose active members may sign in to the
// admin pages with Okta; "" clears it. The answer is the new Settings.
type AdminGroup struct {
	Group string `json:"group"`
}

// AdminGroupSaved is the answer of POST /t/{tenant}/admin/api/admin-group:
// the new Settings (its fields at the top level of the JSON) and whether
// the named group is among the tenant's provisioned groups, so that the
// dialog can warn before anyone tries to sign in.
type AdminGroupSaved struct {
	Settings
	// GroupFound: a provisioned group has exactly this displayName. False
	// for an empty Group (admin sign-in with Okta is off).
	GroupFound bool `json:"groupFound"`
	// GroupMembers is the number of users in the group(s) of that
	// displayName, active or not; 0 when GroupFound is false.
	GroupMembers int `json:"groupMembers"`
	// GroupSuggestion is the displayName of a provisioned group that
	// differs from Group only in case or spacing, when GroupFound is
	// false ("did you mean …?").
	GroupSuggestion string `json:"groupSuggestion,omitempty"`
}

// Audit kinds (AuditEntry.Kind), as the store keeps them.
const (
	AuditSCIM   = "scim"   // a SCIM write, or a refused one
	AuditSignIn = "signin" // a sign-in outcome
	AuditAdmin  = "admin"  // an admin change
)

// MaxAudit bounds Audit.Records.
const MaxAudit = 50

// Audit is the JSON of GET /t/{tenant}/admin/api/audit[?since=RFC3339]:
// the tenant's audit trail as the dialog's Recent activity lists it. It
// is read from the database, so every instance of the server answers the
// same.
type Audit struct {
	// Records are the most recent records (at or after since, when
	// given), newest first, at most MaxAudit.
	Records []AuditEntry `json:"records"`
}

// AuditEntry is one record of the audit trail. It carries identifiers
// only (resource ids, token ids, Okta subs), never a userName, an email,
// a password or a token.
type AuditEntry struct {
	At   time.Time `json:"at"`
	Kind string    `json:"kind"` // one of the Audit* kinds
	// Actor is who: "current:0123abcd" or "previous:0123abcd" (the SCIM
	// token's id), an Okta sub, "admin" (the admin API) or "cli" (an
	// idpkit tenant command, whose Source is the host name); may be empty.
	Actor  string `json:"actor,omitempty"`
	Source string `json:"source,omitempty"` // the client address
	// Action is what: create, replace, patch, delete, bulk (SCIM);
	// signed-in, not-provisioned, deactivated, token-refused,
	// state-refused, provider-refused (sign-in); admin-link,
	// secret-rotated, sign-in-saved, admin-signin, admin-signout,
	// admin-group-saved, and from the command line tenant-created,
	// admin-link-issued, key-rotated (admin); auth-refused, rate-limited,
	// admin-refused, signout-refused (refusals of requests that proved
	// nothing, with Count); other codes may be added.
	Action string `json:"action"`
	Target string `json:"target,omitempty"` // "User/<id>", "Group/<id>", "User"; may be empty
	// Attributes are the attribute names a SCIM write changed (for a
	// PATCH, its paths without filter values).
	Attributes []string `json:"attributes,omitempty"`
	// Reason is a short code: why a sign-in or an admin change was
	// refused, e.g. "not-provisioned", "invalid-link", "check-failed".
	Reason string `json:"reason,omitempty"`
	// Test marks the outcome of a test sign-in of the dialog.
	Test bool `json:"test,omitempty"`
	// Grace is how long the previous SCIM secret kept working after a
	// rotation, as a Go duration ("10m0s", "0s").
	Grace string `json:"grace,omitempty"`
	// Key is the id of the secret key a record names (key-rotated).
	Key string `json:"key,omitempty"`
	// Count is how many refusals of one kind a summary record stands for
	// (a refusal repeated at will is written once a minute with its
	// count); 0 for other records.
	Count int `json:"count,omitempty"`
	// Detail is the record's detail JSON as stored (Attributes, Reason,
	// Test, Grace, Key and Count are read from it); "" when there is none.
	Detail string `json:"detail,omitempty"`
	// Outcome is the HTTP status of a SCIM write ("201", "409"), else
	// "ok" or "refused".
	Outcome string `json:"outcome"`
}
