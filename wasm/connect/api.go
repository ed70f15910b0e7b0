// Package connect is the logic of the "Connect Okta" dialog: the client of
// the tenant's admin API (GET …/admin/api/settings, POST …/admin/api/secret,
// POST …/admin/api/oidc), the sentences the dialog shows for each outcome, and
// the dialog's state as a list of page updates. It also reads the tenant's
// activity (GET …/admin/api/activity, polled while the page is visible),
// the audit trail for its Recent activity (GET …/admin/api/audit, polled
// less often and right after the admin's own changes), and the outcome of
// a test sign-in (GET …/admin/api/test-sign-in?id=…); it sets the admin
// group (POST …/admin/api/admin-group) and signs the admin out (POST
// …/admin/logout), after which it reads nothing more.
//
// It builds natively and for GOOS=js GOARCH=wasm; the syscall/js glue in
// wasm/dialog only applies the updates to the DOM. Saving sign-in settings
// reports whether the Okta domain's OpenID Provider Configuration (OpenID
// Connect Discovery 1.0 §4) could be read; API errors arrive in the OAuth 2.0
// error shape of RFC 6749 §5.2 ({"error", "error_description"}).
package connect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/idpkit/idpkit/scim/adminapi"
)

// CSRFHeader is the header every admin API POST carries (see package adminapi).
const CSRFHeader = adminapi.CSRFHeader

// maxBody bounds what the dialog reads from one API answer.
const maxBody = 1 << 20

// Settings is the admin API's settings JSON (see package adminapi).
type Settings = adminapi.Settings

// SignIn is the body of POST …/api/oidc (see package adminapi).
type SignIn = adminapi.SignIn

// Activity is the JSON of GET …/api/activity (see package adminapi).
type Activity = adminapi.Activity

// Request, ResourceList and Provisioned are the parts of an Activity (see
// package adminapi).
type (
	Request      = adminapi.Request
	ResourceList = adminapi.ResourceList
	Provisioned  = adminapi.Provisioned
)

// Audit and AuditEntry are the JSON of GET …/api/audit (see package
// adminapi).
type (
	Audit      = adminapi.Audit
	AuditEntry = adminapi.AuditEntry
)

// AdminGroupSaved is the answer of POST …/api/admin-group (see package
// adminapi).
type AdminGroupSaved = adminapi.AdminGroupSaved

// TestSignInResult is the JSON of GET …/api/test-sign-in (see package adminapi).
type TestSignInResult = adminapi.TestSignIn

// Check is one step of the sign-in check (see package adminapi).
type Check = adminapi.Check

// APIError is an error answer of the admin API: the HTTP status and, when
// the body is in the OAuth error shape (adminapi.Error), its error code,
// description and the sign-in check's steps.
type APIError struct {
	Status      int
	Code        string // "error", e.g. "invalid_request"
	Description string // "error_description", a sentence a person can act on
	// Checks are the steps of the sign-in check that ran, the last one
	// failed; only a refused POST …/api/oidc carries them.
	Checks []Check
}

// Error returns "connect: HTTP <status> <code>: <description>".
func (e *APIError) Error() string {
	s := fmt.Sprintf("connect: HTTP %d", e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

// ErrBadAnswer is wrapped by errors for answers the dialog cannot decode.
var ErrBadAnswer = errors.New("connect: unreadable answer from the server")

// API is a client of one tenant's admin API.
type API struct {
	// Base is the absolute URL of the API, e.g.
	// "http://127.0.0.1:8080/t/acme/admin/api" (see BaseURL).
	Base string
	// Client sends the requests; nil means http.DefaultClient (the
	// browser's fetch under js/wasm, which sends the admin cookie).
	Client *http.Client
}

// TenantFromPath returns the tenant of a dialog path such as
// "/t/acme/admin/connect-okta", unescaped.
func TenantFromPath(p string) (string, error) {
	rest, ok := strings.CutPrefix(p, "/t/")
	if !ok {
		return "", fmt.Errorf("connect: path %q is not under /t/{tenant}/", p)
	}
	seg, _, _ := strings.Cut(rest, "/")
	name, err := url.PathUnescape(seg)
	if err != nil {
		return "", fmt.Errorf("connect: tenant in path %q: %w", p, err)
	}
	if name == "" {
		return "", fmt.Errorf("connect: path %q names no tenant", p)
	}
	return name, nil
}

// BaseURL returns the admin API URL of tenant on the server at origin
// (scheme://host[:port]).
func BaseURL(origin, tenant string) string {
	return strings.TrimRight(origin, "/") + "/t/" + url.PathEscape(tenant) + "/admin/api"
}

// Settings reads the tenant's settings, including the CSRF value for POSTs.
func (a *API) Settings(ctx context.Context) (Settings, error) {
	var s Settings
	err := a.do(ctx, http.MethodGet, "/settings", "", nil, &s)
	return s, err
}

// RotateSecret generates a new SCIM secret and returns it; the previous
// secret keeps working for grace (whole seconds; 0 ends it at once).
func (a *API) RotateSecret(ctx context.Context, csrf string, grace time.Duration) (string, error) {
	var out adminapi.Secret
	in := adminapi.SecretRequest{GraceSeconds: int(grace / time.Second)}
	if err := a.do(ctx, http.MethodPost, "/secret", csrf, in, &out); err != nil {
		return "", err
	}
	if out.Token == "" {
		return "", fmt.Errorf("%w: no token in the answer", ErrBadAnswer)
	}
	return out.Token, nil
}

// SaveSignIn saves the sign-in settings; the server checks them against
// Okta first (domain, discovery document, signing keys, client
// credentials) and answers the new settings with the checks. A refusal is
// an *APIError whose Checks say which step failed.
func (a *API) SaveSignIn(ctx context.Context, csrf string, in SignIn) (Settings, error) {
	var s Settings
	err := a.do(ctx, http.MethodPost, "/oidc", csrf, in, &s)
	return s, err
}

// Activity reads what Okta has sent to the tenant: the connection, the
// latest requests and the provisioned users and groups.
func (a *API) Activity(ctx context.Context) (Activity, error) {
	var out Activity
	err := a.do(ctx, http.MethodGet, "/activity", "", nil, &out)
	return out, err
}

// Audit reads the tenant's audit trail: the most recent records, newest
// first.
func (a *API) Audit(ctx context.Context) (Audit, error) {
	var out Audit
	err := a.do(ctx, http.MethodGet, "/audit", "", nil, &out)
	return out, err
}

// SaveAdminGroup names the SCIM group whose members may sign in as admins
// with Okta ("" turns it off); the answer says whether that group is
// provisioned.
func (a *API) SaveAdminGroup(ctx context.Context, csrf, group string) (AdminGroupSaved, error) {
	var out AdminGroupSaved
	err := a.do(ctx, http.MethodPost, "/admin-group", csrf, adminapi.AdminGroup{Group: group}, &out)
	return out, err
}

// SignOut ends the admin session on the server (POST …/admin/logout, next
// to the API) and clears its cookie. The server answers a page, which is
// not read; a refusal is an *APIError with its status.
func (a *API) SignOut(ctx context.Context, csrf string) error {
	u := strings.TrimSuffix(a.Base, "/api") + "/logout"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return fmt.Errorf("connect: POST /logout: %w", err)
	}
	req.Header.Set(CSRFHeader, csrf)
	c := a.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("connect: POST /logout: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &APIError{Status: resp.StatusCode}
	}
	return nil
}

// TestSignIn reads the outcome of the test sign-in id; Done is false while
// it has not come back. Reading does not consume it.
func (a *API) TestSignIn(ctx context.Context, id string) (TestSignInResult, error) {
	var out TestSignInResult
	err := a.do(ctx, http.MethodGet, "/test-sign-in?id="+url.QueryEscape(id), "", nil, &out)
	return out, err
}

func (a *API) do(ctx context.Context, method, path, csrf string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("connect: encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.Base+path, body)
	if err != nil {
		return fmt.Errorf("connect: %s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if csrf != "" {
		req.Header.Set(CSRFHeader, csrf)
	}
	c := a.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("connect: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("connect: %s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &APIError{Status: resp.StatusCode}
		var oe adminapi.Error
		if json.Unmarshal(b, &oe) == nil {
			e.Code, e.Description, e.Checks = oe.Error, oe.Description, oe.Checks
		}
		return e
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%w: %s %s: %w", ErrBadAnswer, method, path, err)
	}
	return nil
}
