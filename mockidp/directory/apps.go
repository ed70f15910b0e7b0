package directory

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Sign-on modes of Okta apps the mock accepts.
const (
	SignOnOpenIDConnect = "OPENID_CONNECT" // an OIDC app
	SignOnAutoLogin     = "AUTO_LOGIN"     // Secure Web Authentication (custom)
	SignOnBrowserPlugin = "BROWSER_PLUGIN" // Secure Web Authentication (catalogue)
	SignOnBookmark      = "BOOKMARK"
)

// App names (Okta's "name", the catalogue key) the mock knows.
const (
	AppNameOIDC = "oidc_client"  // "OIDC - OpenID Connect" web app
	AppNameSCIM = "scim2testapp" // "SCIM 2.0 Test App (OAuth Bearer Token)"
)

// Connection statuses of a provisioning connection.
const (
	ConnectionEnabled  = "ENABLED"
	ConnectionDisabled = "DISABLED"
)

// App is an Okta app instance ("0oa…"). Exactly one of OAuthClient (an
// OIDC app) and Provisioning (a SCIM app) is set.
type App struct {
	ID           string
	Name         string // AppNameOIDC or AppNameSCIM
	Label        string
	SignOnMode   string
	Status       string // "ACTIVE" or "INACTIVE"
	Created      time.Time
	LastUpdated  time.Time
	OAuthClient  *OAuthClient
	Provisioning *Provisioning
}

// OAuthClient is an OIDC app's client registration (OpenID Connect Dynamic
// Client Registration 1.0 §2 metadata names).
type OAuthClient struct {
	ClientID                string // equals the app id, as in Okta
	ClientSecret            string // 40 random characters
	TokenEndpointAuthMethod string // client_secret_basic (default), client_secret_post, none, …
	ApplicationType         string // "web"
	RedirectURIs            []string
	PostLogoutRedirectURIs  []string
	ResponseTypes           []string // ["code"]
	GrantTypes              []string // ["authorization_code"]
	// IDTokenSignedResponseAlg is the ID token's signing algorithm:
	// "RS256" (empty means RS256, Okta's only choice) or "ES256".
	IDTokenSignedResponseAlg string
}

// Provisioning is a SCIM app's connection and "To App" features.
type Provisioning struct {
	BaseURL    string // the SCIM base URL (…/scim/v2)
	AuthScheme string // "TOKEN" (HTTP bearer)
	Token      string // the bearer token the admin pasted
	Status     string // ConnectionEnabled after a successful Test API Credentials
	Create     bool   // Create Users (also turns Group Push on)
	Update     bool   // Update User Attributes
	Deactivate bool   // Deactivate Users
	Password   bool   // Sync Password (the mock never sends passwords it knows)
	// Kind is the app's integration kind, which decides some requests:
	// KindTestApp (empty; Okta's "SCIM 2.0 Test App"), KindCatalogue (an OIN
	// catalogue app) or KindCustom (an app made with the App Integration Wizard).
	Kind string
}

// Provisioning.Kind values. The kind decides how profile changes,
// deactivation, password pushes and Group Push reach the app (see package
// mockidp/provision).
const (
	KindTestApp   = ""          // SCIM 2.0 Test App (OAuth Bearer Token)
	KindCatalogue = "catalogue" // an OIN catalogue app
	KindCustom    = "custom"    // App Integration Wizard app
)

// Push reports whether Group Push is on; in the mock it follows Create.
func (p Provisioning) Push() bool { return p.Create }

// Active reports whether requests may be sent: the connection is enabled.
func (p Provisioning) Active() bool { return p.Status == ConnectionEnabled && p.BaseURL != "" }

func (a App) clone() App {
	if a.OAuthClient != nil {
		c := *a.OAuthClient
		c.RedirectURIs = cloneStrings(c.RedirectURIs)
		c.PostLogoutRedirectURIs = cloneStrings(c.PostLogoutRedirectURIs)
		c.ResponseTypes = cloneStrings(c.ResponseTypes)
		c.GrantTypes = cloneStrings(c.GrantTypes)
		a.OAuthClient = &c
	}
	if a.Provisioning != nil {
		p := *a.Provisioning
		a.Provisioning = &p
	}
	return a
}

var authMethods = []string{"client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"}
var grantTypes = []string{"authorization_code", "refresh_token", "implicit", "password", "client_credentials"}

func absoluteURL(field, s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return invalid(field, fmt.Sprintf("'%s' is not a valid absolute URI", s))
	}
	if u.Fragment != "" {
		return invalid(field, fmt.Sprintf("'%s' must not contain a fragment", s))
	}
	if slices.Contains(scriptSchemes, strings.ToLower(u.Scheme)) {
		return invalid(field, fmt.Sprintf("'%s' uses the scheme %s:, which a browser runs or reads locally instead of sending a request", s, strings.ToLower(u.Scheme)))
	}
	return nil
}

// scriptSchemes are URI schemes no redirect URI may use: a browser does not
// send a request for them but runs them (javascript:, vbscript:), renders
// them (data:) or reads local files (file:), so a provider redirecting or
// posting a form there would run the registrant's content on its origin.
var scriptSchemes = []string{"javascript", "vbscript", "data", "file", "blob"}

// MaxClientIDLength bounds a client id chosen by the caller.
const MaxClientIDLength = 100

// validClientID reports whether a client id chosen by the caller is usable
// as one path segment of /api/v1/apps/{id} and as a Basic auth user name:
// 1 to MaxClientIDLength characters of RFC 3986's unreserved set, and not
// "." or "..".
func validClientID(id string) bool {
	if id == "" || len(id) > MaxClientIDLength || id == "." || id == ".." {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

func validateApp(a *App) error {
	if a.Label == "" {
		return invalid("label", "The field cannot be left blank")
	}
	switch {
	case a.OAuthClient != nil && a.Provisioning != nil:
		return invalid("name", "an app is either an OIDC app or a SCIM app")
	case a.OAuthClient != nil:
		c := a.OAuthClient
		a.Name, a.SignOnMode = AppNameOIDC, SignOnOpenIDConnect
		if c.ClientID != "" && !validClientID(c.ClientID) {
			return invalid("client_id", fmt.Sprintf("'%s' is not a valid client id: use 1 to %d letters, digits, '-', '.', '_' or '~'", c.ClientID, MaxClientIDLength))
		}
		if c.TokenEndpointAuthMethod == "" {
			c.TokenEndpointAuthMethod = "client_secret_basic"
		}
		if !slices.Contains(authMethods, c.TokenEndpointAuthMethod) {
			return invalid("token_endpoint_auth_method", fmt.Sprintf("'%s' is not a supported value", c.TokenEndpointAuthMethod))
		}
		if c.ApplicationType == "" {
			c.ApplicationType = "web"
		}
		if c.ApplicationType != "web" && c.ApplicationType != "native" && c.ApplicationType != "browser" && c.ApplicationType != "service" {
			return invalid("application_type", fmt.Sprintf("'%s' is not a supported value", c.ApplicationType))
		}
		if len(c.GrantTypes) == 0 {
			c.GrantTypes = []string{"authorization_code"}
		}
		for _, g := range c.GrantTypes {
			if !slices.Contains(grantTypes, g) {
				return invalid("grant_types", fmt.Sprintf("'%s' is not a supported grant type", g))
			}
		}
		if len(c.ResponseTypes) == 0 {
			c.ResponseTypes = []string{"code"}
		}
		if slices.Contains(c.GrantTypes, "authorization_code") && len(c.RedirectURIs) == 0 {
			return invalid("redirect_uris", "At least one redirect URI is required for the authorization_code grant")
		}
		for _, u := range c.RedirectURIs {
			if err := absoluteURL("redirect_uris", u); err != nil {
				return err
			}
		}
		for _, u := range c.PostLogoutRedirectURIs {
			if err := absoluteURL("post_logout_redirect_uris", u); err != nil {
				return err
			}
		}
	case a.Provisioning != nil:
		a.Name = AppNameSCIM
		if a.SignOnMode == "" {
			a.SignOnMode = SignOnAutoLogin
		}
		if a.SignOnMode != SignOnAutoLogin && a.SignOnMode != SignOnBrowserPlugin && a.SignOnMode != SignOnBookmark {
			return invalid("signOnMode", fmt.Sprintf("'%s' is not supported by %s", a.SignOnMode, AppNameSCIM))
		}
		p := a.Provisioning
		if p.BaseURL != "" {
			if err := absoluteURL("baseUrl", p.BaseURL); err != nil {
				return err
			}
		}
		if p.AuthScheme == "" {
			p.AuthScheme = "TOKEN"
		}
		if p.Status == "" {
			p.Status = ConnectionDisabled
		}
		if p.Kind != KindTestApp && p.Kind != KindCatalogue && p.Kind != KindCustom {
			return invalid("kind", fmt.Sprintf("'%s' is not a provisioning kind; use %q, %q or %q (the SCIM 2.0 Test App)", p.Kind, KindCatalogue, KindCustom, KindTestApp))
		}
	default:
		return invalid("name", "an app needs settings.oauthClient (oidc_client) or a provisioning connection (scim2testapp)")
	}
	return nil
}

// CreateApp adds an app. For an OIDC app the client id (= app id) and a 40
// character secret are generated unless set (seeds may fix them), and
// Okta's defaults are filled in (client_secret_basic, web, code,
// authorization_code). ErrInvalid (a FieldError) on bad metadata, ErrExists
// when a fixed client id is taken.
func (d *Directory) CreateApp(a App) (App, error) {
	a = a.clone()
	if err := validateApp(&a); err != nil {
		return App{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if a.OAuthClient != nil {
		if a.OAuthClient.ClientID == "" {
			a.OAuthClient.ClientID = NewID("0oa")
		}
		if a.OAuthClient.ClientSecret == "" && a.OAuthClient.TokenEndpointAuthMethod != "none" {
			a.OAuthClient.ClientSecret = RandomString(40)
		}
		a.ID = a.OAuthClient.ClientID
	} else {
		a.ID = NewID("0oa")
	}
	if _, ok := d.apps[a.ID]; ok {
		return App{}, &FieldError{Field: "client_id", Message: "An object with this field already exists in the current organization", Kind: ErrExists}
	}
	now := d.Now()
	a.Status, a.Created, a.LastUpdated = "ACTIVE", now, now
	d.apps[a.ID] = &a
	d.appOrder = append(d.appOrder, a.ID)
	return a.clone(), nil
}

// App returns one app; ErrNotFound when absent.
func (d *Directory) App(id string) (App, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	a, ok := d.apps[id]
	if !ok {
		return App{}, notFound("AppInstance", id)
	}
	return a.clone(), nil
}

// Apps returns every app in creation order.
func (d *Directory) Apps() []App {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]App, 0, len(d.appOrder))
	for _, id := range d.appOrder {
		out = append(out, d.apps[id].clone())
	}
	return out
}

// UpdateApp calls update on a copy of the app and stores the result if it
// validates. Id, name and creation time cannot change.
func (d *Directory) UpdateApp(id string, update func(*App) error) (App, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	cur, ok := d.apps[id]
	if !ok {
		return App{}, notFound("AppInstance", id)
	}
	a := cur.clone()
	if err := update(&a); err != nil {
		return App{}, err
	}
	a.ID, a.Created = cur.ID, cur.Created
	if err := validateApp(&a); err != nil {
		return App{}, err
	}
	if a.OAuthClient != nil {
		a.OAuthClient.ClientID = a.ID
	}
	a.LastUpdated = d.Now()
	d.apps[id] = &a
	return a.clone(), nil
}

// Client returns the OIDC app whose client id is clientID, if it exists and
// is ACTIVE.
func (d *Directory) Client(clientID string) (App, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	a, ok := d.apps[clientID]
	if !ok || a.OAuthClient == nil || a.Status != "ACTIVE" {
		return App{}, false
	}
	return a.clone(), true
}
