// Package admintest is a stand-in for one tenant's admin side of the app
// server, for tests of the Connect Okta dialog: it serves wasm.Assets at
// /t/{tenant}/admin/connect-okta and /t/{tenant}/admin/assets/{file}, the
// one-time link /t/{tenant}/admin/login?token=…, and the admin API of
// DEVELOPERS.md (settings, secret, oidc, activity, test-sign-in, audit,
// admin-group) and POST /t/{tenant}/admin/logout, with its session cookie
// and CSRF header. Saving sign-in settings reads the OpenID
// Provider Configuration (OpenID Connect Discovery 1.0 §4) like the real
// server and answers the steps of the sign-in check; errors are in the
// OAuth shape of RFC 6749 §5.2 (adminapi.Error).
//
// Tests set what the activity shows (SetActivity, AddRequest,
// SetConnected), whose session it is (SetSession: an admin signed in
// with Okta cannot save a group they are not in, adminapi.ErrWouldLockOut),
// when it ends (EndSession: adminapi.ErrLoginRequired or ErrAdminRemoved;
// APICalls counts what the dialog still sends), what the audit trail lists (AddAudit; saving the admin
// group adds its record, as the server does), which groups are
// provisioned (SetGroup), which step of the sign-in check fails (FailCheck), and
// what the test sign-in page at /t/{tenant}/admin/test-sign-in?id=… stores
// at once (SetTestSignIn; nil: a sign-in that never comes back).
package admintest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/idpkit/idpkit/scim/adminapi"
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
	graces    []int // graceSeconds of each rotation

	activity       adminapi.Activity
	activityStatus int // non-zero: GET api/activity fails with it
	activityReads  int
	failName       string // the step of the sign-in check that fails
	failDetail     string
	plainErrors    bool
	testOutcome    *adminapi.TestSignIn
	testIDs        []string
	tests          map[string]adminapi.TestSignIn // by session and id

	audit       []adminapi.AuditEntry // newest first
	auditStatus int                   // non-zero: GET api/audit fails with it
	auditReads  int
	groups      map[string]int // provisioned groups: displayName → members
	adminGroups []string       // every admin group saved, in order
	signOuts    int

	memberOf   map[string]bool // the groups the Okta-signed-in admin is an active member of
	endCode    string          // non-empty: the session has ended; every API call answers 401 with it
	endDesc    string
	apiCalls   int // requests to …/api/… and …/logout
	refusedAPI int // of them, answered 401
}

// DefaultTestSignIn is what the test sign-in page stores unless
// SetTestSignIn says otherwise.
var DefaultTestSignIn = adminapi.TestSignIn{
	Done: true, OK: true, Message: "Signed in as alice@example.com.", UserName: "alice@example.com",
	Claims: map[string]any{"sub": "00u1alice", "email": "alice@example.com", "name": "Alice Example", "iat": 1733250000.0, "email_verified": true, "amr": []any{"pwd"}},
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
			Tenant:         tenant,
			SCIMBaseURL:    publicURL + "/t/" + tenant + "/scim/v2",
			RedirectURI:    publicURL + "/t/" + tenant + "/oidc/callback",
			AdminSignInURL: publicURL + "/t/" + tenant + "/admin/signin",
			Session:        adminapi.AdminSession{Via: adminapi.SessionLink, Expires: time.Now().Add(8 * time.Hour).Truncate(time.Minute)},
			Users:          users,
			Groups:         groups,
			CSRF:           random(),
		},
		activity: adminapi.Activity{
			Requests: []adminapi.Request{},
			Users:    adminapi.ResourceList{Total: users, Recent: []adminapi.Provisioned{}},
			Groups:   adminapi.ResourceList{Total: groups, Recent: []adminapi.Provisioned{}},
		},
		testOutcome: &DefaultTestSignIn,
		tests:       map[string]adminapi.TestSignIn{},
		audit:       []adminapi.AuditEntry{},
		groups:      map[string]int{},
		memberOf:    map[string]bool{},
	}
}

// SetSession makes the settings name s as the admin session, e.g. one
// signed in with Okta (adminapi.SessionOkta) whose user is an active
// member of the groups memberOf: as the server, POST api/admin-group then
// refuses (409, adminapi.ErrWouldLockOut) a group that user is not in.
func (a *Admin) SetSession(s adminapi.AdminSession, memberOf ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.settings.Session = s
	a.memberOf = map[string]bool{}
	for _, g := range memberOf {
		a.memberOf[g] = true
	}
}

// EndSession ends the admin session as the server does when it expires
// (adminapi.ErrLoginRequired) or when Okta no longer lists the admin in
// the admin group (adminapi.ErrAdminRemoved): from then on every API
// request and the sign-out answer 401 with code and description.
func (a *Admin) EndSession(code, description string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.endCode, a.endDesc = code, description
}

// APICalls returns how many requests reached the API and the sign-out,
// and how many of them were answered 401.
func (a *Admin) APICalls() (total, refused int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.apiCalls, a.refusedAPI
}

// suggestion is a provisioned group whose name differs from group only in
// case or spacing; "" when there is none or group is provisioned.
func (a *Admin) suggestion(group string) string {
	if _, ok := a.groups[group]; ok || group == "" {
		return ""
	}
	norm := func(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }
	for name := range a.groups {
		if norm(name) == norm(group) {
			return name
		}
	}
	return ""
}

// AddAudit puts e first in what GET api/audit answers, keeping at most
// adminapi.MaxAudit records.
func (a *Admin) AddAudit(e adminapi.AuditEntry) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.addAudit(e)
}

func (a *Admin) addAudit(e adminapi.AuditEntry) {
	a.audit = append([]adminapi.AuditEntry{e}, a.audit...)
	if len(a.audit) > adminapi.MaxAudit {
		a.audit = a.audit[:adminapi.MaxAudit]
	}
}

// SetAuditStatus makes GET api/audit fail with status; 0 makes it answer
// again.
func (a *Admin) SetAuditStatus(status int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.auditStatus = status
}

// AuditReads returns how many times GET api/audit was answered.
func (a *Admin) AuditReads() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.auditReads
}

// SetGroup makes a group of that displayName provisioned, with members
// members; POST api/admin-group reports on it.
func (a *Admin) SetGroup(name string, members int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.groups[name] = members
}

// AdminGroups returns every admin group saved with POST api/admin-group,
// in order.
func (a *Admin) AdminGroups() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.adminGroups...)
}

// SignOuts returns how many times POST …/admin/logout ended the session.
func (a *Admin) SignOuts() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.signOuts
}

// SetActivity replaces what GET api/activity answers.
func (a *Admin) SetActivity(act adminapi.Activity) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if act.Requests == nil {
		act.Requests = []adminapi.Request{}
	}
	a.activity = act
}

// AddRequest puts r first in the activity's requests, keeping at most
// adminapi.MaxRequests.
func (a *Admin) AddRequest(r adminapi.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.activity.Requests = append([]adminapi.Request{r}, a.activity.Requests...)
	if len(a.activity.Requests) > adminapi.MaxRequests {
		a.activity.Requests = a.activity.Requests[:adminapi.MaxRequests]
	}
}

// SetConnected sets the activity's connection; nil: not connected.
func (a *Admin) SetConnected(r *adminapi.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.activity.Connected = r
}

// SetActivityStatus makes GET api/activity fail with status (an OAuth
// error body); 0 makes it answer again.
func (a *Admin) SetActivityStatus(status int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.activityStatus = status
}

// ActivityReads returns how many times GET api/activity was answered.
func (a *Admin) ActivityReads() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.activityReads
}

// FailCheck makes the sign-in check's step name (an adminapi.Check*
// constant) fail with detail; the steps before it pass. "" lets every
// step pass again.
func (a *Admin) FailCheck(name, detail string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.failName, a.failDetail = name, detail
}

// SetPlainErrors makes a refused POST api/oidc answer without checks, as
// a server that does not run them.
func (a *Admin) SetPlainErrors(plain bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.plainErrors = plain
}

// SetTestSignIn sets what the test sign-in page stores for its id as soon
// as it is opened; nil stores nothing (a sign-in still at Okta).
func (a *Admin) SetTestSignIn(out *adminapi.TestSignIn) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.testOutcome = out
}

// TestSignInIDs returns the ids the test sign-in page was opened with.
func (a *Admin) TestSignInIDs() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.testIDs...)
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

// Graces returns the graceSeconds of every rotation, in order.
func (a *Admin) Graces() []int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]int(nil), a.graces...)
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
	case rest == "test-sign-in" && r.Method == http.MethodGet:
		a.testSignInPage(w, r)
	case rest == "logout" && r.Method == http.MethodPost:
		a.logout(w, r)
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
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.authedLocked(r)
}

func (a *Admin) authedLocked(r *http.Request) bool {
	c, err := r.Cookie(CookieName)
	return err == nil && c.Value == a.session
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeError(w, status, adminapi.Error{Error: code, Description: desc})
}

func writeError(w http.ResponseWriter, status int, e adminapi.Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(e)
}

// logout ends the session, as the server's POST …/admin/logout: it needs
// the CSRF header, and answers a page.
func (a *Admin) logout(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.apiCalls++
	if a.endCode != "" {
		a.refusedAPI++
		oauthError(w, http.StatusUnauthorized, a.endCode, a.endDesc)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if a.authedLocked(r) && r.Header.Get(connect.CSRFHeader) != a.settings.CSRF {
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, "<!doctype html><title>Not signed out</title><p>This sign-out request does not carry the admin session's check value.")
		return
	}
	if a.authedLocked(r) {
		a.session = random() // the old cookie no longer works
		a.signOuts++
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/t/" + a.tenant + "/admin", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	io.WriteString(w, "<!doctype html><title>Signed out</title><p>You are signed out of this tenant's admin pages.")
}

// validID is the server's rule for test sign-in ids.
var validID = regexp.MustCompile(`^[A-Za-z0-9_-]{22,128}$`)

var testPage = template.Must(template.New("test").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title><link rel="icon" href="data:,"></head>
<body><main><h1>{{.Title}}</h1><p id="message">{{.Message}}</p>
{{if .Claims}}<dl>{{range $k, $v := .Claims}}<dt>{{$k}}</dt><dd>{{$v}}</dd>{{end}}</dl>{{end}}
<p>You can close this window.</p></main></body></html>
`))

// testSignInPage stands in for the whole sign-in at Okta: it stores the
// configured outcome at once and says so.
func (a *Admin) testSignInPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	page := func(status int, title, msg string, claims map[string]any) {
		w.WriteHeader(status)
		testPage.Execute(w, map[string]any{"Title": title, "Message": msg, "Claims": claims})
	}
	if !a.authed(r) {
		page(http.StatusUnauthorized, "Admin session needed", "Open a new admin link for this tenant, then try the test sign-in again.", nil)
		return
	}
	id := r.URL.Query().Get("id")
	if !validID.MatchString(id) {
		page(http.StatusBadRequest, "Test sign-in refused", "The test sign-in id is not valid; start it again from the Connect Okta dialog.", nil)
		return
	}
	a.mu.Lock()
	configured := a.settings.Issuer != "" && a.settings.ClientID != ""
	out := a.testOutcome
	a.testIDs = append(a.testIDs, id)
	if configured && out != nil {
		a.tests[a.session+":"+id] = *out
	}
	a.mu.Unlock()
	switch {
	case !configured:
		page(http.StatusConflict, "Sign-in is not set up", "Save the sign-in settings in the Connect Okta dialog first.", nil)
	case out == nil:
		page(http.StatusOK, "Signing in…", "Waiting for Okta.", nil)
	case out.OK:
		page(http.StatusOK, "Test sign-in worked", out.Message, out.Claims)
	default:
		page(http.StatusOK, "Test sign-in refused", out.Message, out.Claims)
	}
}

// checks runs the sign-in check's steps for in: the configured failure or
// discovery (Discover), the rest made up. It returns the steps that ran and
// the issuer, or the failing step's sentence.
func (a *Admin) checks(ctx context.Context, in connect.SignIn) ([]adminapi.Check, string, error) {
	a.mu.Lock()
	failName, failDetail := a.failName, a.failDetail
	a.mu.Unlock()
	var out []adminapi.Check
	step := func(name, detail string) bool {
		if name == failName {
			out = append(out, adminapi.Check{Name: name, Detail: failDetail})
			return false
		}
		out = append(out, adminapi.Check{Name: name, OK: true, Detail: detail})
		return true
	}
	base, note := normalize(in.OktaDomain)
	if !step(adminapi.CheckDomain, base+note) {
		return out, "", errors.New(failDetail)
	}
	discover := a.Discover
	if discover == nil {
		discover = a.discovery
	}
	issuer, err := discover(ctx, in)
	if err != nil {
		out = append(out, adminapi.Check{Name: adminapi.CheckDiscovery, Detail: err.Error()})
		return out, "", err
	}
	for _, c := range []struct{ name, detail string }{
		{adminapi.CheckDiscovery, "issuer " + issuer},
		{adminapi.CheckKeys, "2 keys (RS256)"},
		{adminapi.CheckCredentials, "Okta accepted the Client ID and secret"},
	} {
		if !step(c.name, c.detail) {
			return out, "", errors.New(failDetail)
		}
	}
	return out, issuer, nil
}

// normalize is the Okta domain as the server keeps it, and why it changed.
func normalize(domain string) (string, string) {
	base, note := strings.TrimSpace(domain), ""
	if strings.HasSuffix(base, "/") {
		base, note = strings.TrimRight(base, "/"), " (the trailing slash was dropped)"
	}
	if !strings.Contains(base, "://") {
		base, note = "https://"+base, " (https:// was added)"
	}
	return base, note
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (a *Admin) api(w http.ResponseWriter, r *http.Request, op string) {
	a.mu.Lock()
	a.apiCalls++
	authed, code, desc := a.authedLocked(r), a.endCode, a.endDesc
	if !authed || code != "" {
		a.refusedAPI++
	}
	a.mu.Unlock()
	if code != "" {
		oauthError(w, http.StatusUnauthorized, code, desc)
		return
	}
	if !authed {
		oauthError(w, http.StatusUnauthorized, adminapi.ErrLoginRequired, "Your admin session has ended; open a new admin link for this tenant.")
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
		var in adminapi.SecretRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<10)).Decode(&in); err != nil && !errors.Is(err, io.EOF) {
			oauthError(w, http.StatusBadRequest, "invalid_request", "The request body must be a JSON object with graceSeconds.")
			return
		}
		a.mu.Lock()
		a.secret = random()
		a.rotations++
		a.graces = append(a.graces, in.GraceSeconds)
		a.activity.Connected = nil // as the server: the connection was with the old secret
		tok := a.secret
		a.mu.Unlock()
		writeJSON(w, map[string]string{"token": tok})
	case op == "activity" && r.Method == http.MethodGet:
		a.mu.Lock()
		status, act := a.activityStatus, a.activity
		if status == 0 {
			a.activityReads++
		}
		a.mu.Unlock()
		if status != 0 {
			oauthError(w, status, "server_error", "The activity could not be read.")
			return
		}
		writeJSON(w, act)
	case op == "audit" && r.Method == http.MethodGet:
		a.mu.Lock()
		status, recs := a.auditStatus, append([]adminapi.AuditEntry{}, a.audit...)
		if status == 0 {
			a.auditReads++
		}
		a.mu.Unlock()
		if status != 0 {
			oauthError(w, status, "server_error", "The audit trail could not be read.")
			return
		}
		writeJSON(w, adminapi.Audit{Records: recs})
	case op == "admin-group" && r.Method == http.MethodPost:
		var in adminapi.AdminGroup
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&in); err != nil {
			oauthError(w, http.StatusBadRequest, "invalid_request", "the request body must be a JSON object such as {\"group\": \"Idpkit Admins\"}")
			return
		}
		group := strings.TrimSpace(in.Group)
		a.mu.Lock()
		if s := a.settings.Session; s.Via == adminapi.SessionOkta && !a.memberOf[group] {
			a.mu.Unlock()
			who := s.UserName
			if who == "" {
				who = s.Sub
			}
			oauthError(w, http.StatusConflict, adminapi.ErrWouldLockOut, fmt.Sprintf("not saved: you (%s) are not an active member of %q, so saving it would sign you out; add yourself to that group in Okta first, or check the spelling", who, group))
			return
		}
		a.settings.AdminGroup = group
		a.adminGroups = append(a.adminGroups, group)
		members, found := a.groups[group]
		out := adminapi.AdminGroupSaved{Settings: a.settings, GroupFound: found && group != "", GroupMembers: members, GroupSuggestion: a.suggestion(group)}
		a.addAudit(adminapi.AuditEntry{At: time.Now(), Kind: adminapi.AuditAdmin, Actor: "admin", Source: "127.0.0.1", Action: "admin-group-saved", Outcome: "ok"})
		a.mu.Unlock()
		writeJSON(w, out)
	case op == "test-sign-in" && r.Method == http.MethodGet:
		id := r.URL.Query().Get("id")
		if !validID.MatchString(id) {
			oauthError(w, http.StatusBadRequest, "invalid_request", "The test sign-in id must be 22 to 128 characters of A-Z, a-z, 0-9, _ and -.")
			return
		}
		a.mu.Lock()
		out := a.tests[a.session+":"+id]
		a.mu.Unlock()
		writeJSON(w, out)
	case op == "oidc" && r.Method == http.MethodPost:
		var in connect.SignIn
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil {
			oauthError(w, http.StatusBadRequest, "invalid_request", "The request body is not valid JSON.")
			return
		}
		checks, issuer, err := a.checks(r.Context(), in)
		if err != nil {
			e := adminapi.Error{Error: "invalid_request", Description: err.Error(), Checks: checks}
			a.mu.Lock()
			if a.plainErrors {
				e.Checks = nil
			}
			a.mu.Unlock()
			writeError(w, http.StatusBadRequest, e)
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
		s.Checks = checks
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
