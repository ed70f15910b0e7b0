// Package adminapi is the wire contract of the Connect Okta dialog's API
// under /t/{tenant}/admin/api/: the JSON the server (scim/login) sends and
// the dialog (wasm/connect, compiled to WebAssembly) reads. It holds types
// only, so both sides build for every platform.
package adminapi

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
	CSRF            string `json:"csrf"`
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
