// Package admintest is a stand-in for one tenant's admin side of the app
// server, for tests of the Connect Okta dialog: it serves wasm.Assets at
// /t/{tenant}/admin/connect-okta and /t/{tenant}/admin/assets/{file}, the
// one-time link /t/{tenant}/admin/login?token=…, and the admin API of
// DEVELOPERS.md (settings, secret, oidc) with its session cookie and CSRF
// header. Saving sign-in settings reads the OpenID Provider Configuration
// (OpenID Connect Discovery 1.0 §4) like the real server; errors are in the
// OAuth shape of RFC 6749 §5.2.
package admintest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"sync"

	"github.com/idpkit/idpkit/wasm"
	"github.com/idpkit/idpkit/wasm/connect"
)

// CookieName is the admin session cookie.
const CookieName = "idpkit_admin"

// Admin is the fake admin side of one tenant. Use New; the exported
// methods are safe for concurrent use.
type Admin struct {
	// Discover reads the discovery document for in and returns its issuer;
	// an error's text becomes the error_description, so, unlike other
	// errors, it is a capitalised sentence. nil means an HTTP GET
	// of the document with HTTPClient (see Discovery).
	Discover func(ctx context.Context, in connect.SignIn) (string, error)
	// HTTPClient is used by the default Discover; nil means http.DefaultClient.
	HTTPClient *http.Client

	tenant    string
	linkToken string

	mu        sync.Mutex
	settings  connect.Settings
	secret    string
	session   string
	saved     []connect.SignIn
	rotations int
}

// New returns an Admin for tenant whose settings carry URLs on publicURL
// and the given counts. The one-time admin link is AdminPath().
func New(tenant, publicURL string, users, groups int) *Admin {
	publicURL = strings.TrimRight(publicURL, "/")
	return &Admin{
		tenant:    tenant,
		linkToken: random(),
		session:   random(),
		secret:    random(),
		settings: connect.Settings{
			Tenant:      tenant,
			SCIMBaseURL: publicURL + "/t/" + tenant + "/scim/v2",
			RedirectURI: publicURL + "/t/" + tenant + "/oidc/callback",
			Users:       users,
			Groups:      groups,
			CSRF:        random(),
		},
	}
}

// AdminPath is the path of the one-time admin link (without the origin).
func (a *Admin) AdminPath() string {
	return "/t/" + a.tenant + "/admin/login?token=" + a.linkToken
}

// Secret returns the current SCIM secret.
func (a *Admin) Secret() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.secret
}

// Rotations returns how many times the secret was rotated.
func (a *Admin) Rotations() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.rotations
}

// Saved returns every sign-in body that was accepted, in order.
func (a *Admin) Saved() []connect.SignIn {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]connect.SignIn(nil), a.saved...)
}

// SetCounts changes the user and group counts the settings report.
func (a *Admin) SetCounts(users, groups int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.settings.Users, a.settings.Groups = users, groups
}

// ServeHTTP implements http.Handler.
func (a *Admin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	prefix := "/t/" + a.tenant + "/admin/"
	rest, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	switch {
	case rest == "login" && r.Method == http.MethodGet:
		if r.URL.Query().Get("token") != a.linkToken {
			http.Error(w, "This admin link is not valid.", http.StatusUnauthorized)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: CookieName, Value: a.session, Path: "/t/" + a.tenant + "/admin", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		http.Redirect(w, r, prefix+"connect-okta", http.StatusSeeOther)
	case rest == "connect-okta" && r.Method == http.MethodGet:
		if !a.authed(r) {
			http.Error(w, "Open the admin link first.", http.StatusUnauthorized)
			return
		}
		serveFile(w, r, wasm.Page)
	case strings.HasPrefix(rest, "assets/") && r.Method == http.MethodGet:
		serveFile(w, r, strings.TrimPrefix(rest, "assets/"))
	case strings.HasPrefix(rest, "api/"):
		a.api(w, r, strings.TrimPrefix(rest, "api/"))
	default:
		http.NotFound(w, r)
	}
}

func serveFile(w http.ResponseWriter, r *http.Request, name string) {
	if !fs.ValidPath(name) || strings.Contains(name, "/") {
		http.NotFound(w, r)
		return
	}
	b, err := fs.ReadFile(wasm.Assets, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	switch {
	case strings.HasSuffix(name, ".html"):
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
	case strings.HasSuffix(name, ".js"):
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case strings.HasSuffix(name, ".css"):
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case strings.HasSuffix(name, ".wasm"):
		w.Header().Set("Content-Type", "application/wasm")
	}
	w.Write(b)
}

func (a *Admin) authed(r *http.Request) bool {
	c, err := r.Cookie(CookieName)
	return err == nil && c.Value == a.session
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (a *Admin) api(w http.ResponseWriter, r *http.Request, op string) {
	if !a.authed(r) {
		oauthError(w, http.StatusUnauthorized, "unauthorized", "Your admin session has ended; open a new admin link for this tenant.")
		return
	}
	a.mu.Lock()
	csrf := a.settings.CSRF
	a.mu.Unlock()
	if r.Method == http.MethodPost && r.Header.Get(connect.CSRFHeader) != csrf {
		oauthError(w, http.StatusForbidden, "invalid_request", "The request is missing its CSRF header; reload the page.")
		return
	}
	switch {
	case op == "settings" && r.Method == http.MethodGet:
		a.mu.Lock()
		s := a.settings
		a.mu.Unlock()
		writeJSON(w, s)
	case op == "secret" && r.Method == http.MethodPost:
		a.mu.Lock()
		a.secret = random()
		a.rotations++
		tok := a.secret
		a.mu.Unlock()
		writeJSON(w, map[string]string{"token": tok})
	case op == "oidc" && r.Method == http.MethodPost:
		var in connect.SignIn
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil {
			oauthError(w, http.StatusBadRequest, "invalid_request", "The request body is not valid JSON.")
			return
		}
		discover := a.Discover
		if discover == nil {
			discover = a.discovery
		}
		issuer, err := discover(r.Context(), in)
		if err != nil {
			oauthError(w, http.StatusBadRequest, "invalid_request", err.Error())
			return
		}
		a.mu.Lock()
		a.settings.OktaDomain = strings.TrimRight(in.OktaDomain, "/")
		a.settings.AuthServer = in.AuthServer
		a.settings.Issuer = issuer
		a.settings.ClientID = in.ClientID
		if in.ClientSecret != "" {
			a.settings.ClientSecretSet = true
		}
		a.saved = append(a.saved, in)
		s := a.settings
		a.mu.Unlock()
		writeJSON(w, s)
	default:
		oauthError(w, http.StatusNotFound, "invalid_request", "No such admin API operation.")
	}
}

// discovery reads {domain}[/oauth2/{server}]/.well-known/openid-configuration
// and checks that its issuer is that URL.
func (a *Admin) discovery(ctx context.Context, in connect.SignIn) (string, error) {
	base := strings.TrimRight(in.OktaDomain, "/")
	if !strings.Contains(base, "://") {
		base = "https://" + base
	}
	if in.AuthServer != "" {
		base += "/oauth2/" + in.AuthServer
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/.well-known/openid-configuration", nil)
	if err != nil {
		return "", fmt.Errorf("The Okta domain %q is not a valid address.", in.OktaDomain)
	}
	c := a.HTTPClient
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("Okta's discovery document at %s could not be read; check the Okta domain.", req.URL)
	}
	defer resp.Body.Close()
	var doc struct {
		Issuer string `json:"issuer"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc) != nil {
		return "", fmt.Errorf("Okta's discovery document at %s could not be read (HTTP %d); check the Okta domain and the authorization server.", req.URL, resp.StatusCode)
	}
	if doc.Issuer != base {
		return "", errors.New("The discovery document names issuer " + doc.Issuer + ", not " + base + ".")
	}
	return doc.Issuer, nil
}

func random() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
