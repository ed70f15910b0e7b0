// Package provision is the mock Okta's provisioning engine: it sends to an
// app's SCIM 2.0 service exactly the requests Okta's SCIM client sends for
// each admin action (test credentials, saving the To App settings, assign,
// profile update, deactivate, reactivate, password push, group push,
// rename, delete, import), with Okta's headers and bodies.
//
// Three kinds of app send different requests (Target.Kind): the SCIM 2.0
// Test App (KindTestApp) and OIN catalogue apps (KindCatalogue) change
// active and passwords with path-less PATCH requests and push groups with
// PATCH; apps made with the App Integration Wizard (KindCustom) read the
// user and PUT it back for every change, create groups with their members
// and PUT whole groups. Catalogue apps send profile changes as a PATCH of
// the changed attributes (PatchUser); the others GET and PUT (UpdateUser).
//
// Requests answered 429 or 5xx, and requests that fail in transport, are
// sent again after a wait (exponential backoff with jitter, or the
// server's Retry-After, RFC 9110 §10.2.3), up to Engine.MaxAttempts in
// all; other 4xx answers are final. A 404 on the GET that starts a push
// stops that push (ErrStopped). WithTrace reports every attempt.
//
// The protocol is RFC 7644: query with a filter (§3.4.2.2) before create
// (§3.3), paged listing with startIndex and count (§3.4.2.4) for imports,
// replace with PUT (§3.5.1), path-less and filtered-path PATCH (§3.5.2) for
// activation, group names and group membership, DELETE of groups (§3.6);
// resources are the User, EnterpriseUser and Group of RFC 7643 §4.1, §4.3
// and §4.2. Errors keep the server's *scim.Error (RFC 7644 §3.12) reachable
// with errors.Is.
package provision

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/client"
)

// DefaultUserAgent is the User-Agent Okta's SCIM client sends.
const DefaultUserAgent = "Okta SCIM Client 1.0.0"

// BatchSize is the most member changes Okta puts in one group PATCH.
const BatchSize = 256

// App kinds (Target.Kind); the values are those of directory.Provisioning.Kind.
const (
	KindTestApp   = ""          // "SCIM 2.0 Test App (OAuth Bearer Token)"
	KindCatalogue = "catalogue" // an OIN catalogue app: PATCH for profile, active and password
	KindCustom    = "custom"    // an App Integration Wizard app: PUT for every update
)

// Target is an app's SCIM connection as entered in Okta.
type Target struct {
	BaseURL string // SCIM connector base URL, such as https://app.example/t/acme/scim/v2
	Token   string // the pasted bearer secret
	Kind    string // KindTestApp, KindCatalogue or KindCustom
}

// User is the part of an Okta user's profile that the SCIM app's default
// attribute mappings send.
type User struct {
	ID          string // Okta user id (00u…), sent as externalId
	Login       string // Okta login, sent as userName
	Email       string // primary work email
	FirstName   string // name.givenName
	LastName    string // name.familyName
	DisplayName string // displayName; empty means "FirstName LastName"
	Locale      string // locale; empty means "en-US"
	Title       string // title, sent only when set
	Department  string // enterprise extension department, sent only when set
	// Password is the user's Okta password, sent on create when the app
	// has Sync Password on; empty means a random one (Okta sends one even
	// when password sync is off).
	Password string
}

// Member is a group member as Okta pushes it.
type Member struct {
	SCIMID string // the user's id in the app (value)
	Login  string // the user's Okta login (display)
}

// Engine sends Okta's SCIM requests. The zero value is ready to use.
type Engine struct {
	// Client sends the requests; nil means http.DefaultClient.
	Client *http.Client
	// Logger receives one debug line per action; nil discards.
	Logger *slog.Logger
	// UserAgent is sent on every request; empty means DefaultUserAgent.
	UserAgent string
	// Password returns the random password sent with every new user whose
	// User.Password is empty (Okta sends one even when password sync is
	// off); nil means 26 characters from crypto/rand.
	Password func() string

	// MaxAttempts bounds how often one request is sent when it is answered
	// 429 or 5xx or fails in transport; 0 means DefaultMaxAttempts, 1 means
	// no retry. Test API Credentials and the group list read on Save are
	// interactive in Okta and are sent once.
	MaxAttempts int
	// Backoff is the wait before the first retry when the server sends no
	// Retry-After; it doubles with every retry, up to MaxWait, and is
	// jittered (between half and all of it). 0 means DefaultBackoff.
	Backoff time.Duration
	// Timeout bounds each request; 0 means DefaultTimeout.
	Timeout time.Duration
	// Sleep waits between attempts; it must return early with ctx's error
	// when ctx is done. nil means a timer that honours ctx. Tests inject a
	// Sleep that returns at once.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock for Retry-After dates; nil means time.Now.
	Now func() time.Time
}

// Retry defaults.
const (
	// DefaultMaxAttempts is the first request and three retries.
	DefaultMaxAttempts = 4
	// DefaultBackoff is the first wait when the server sends no Retry-After.
	DefaultBackoff = time.Second
	// MaxWait caps every wait, Retry-After included.
	MaxWait = 5 * time.Minute
	// DefaultTimeout is how long Okta waits for a SCIM server to answer
	// (60 seconds, Okta's SCIM FAQ).
	DefaultTimeout = 60 * time.Second
)

// scim returns a SCIM client for t with Okta's headers.
func (e *Engine) scim(t Target) *client.Client {
	ua := e.UserAgent
	if ua == "" {
		ua = DefaultUserAgent
	}
	return &client.Client{
		BaseURL:   t.BaseURL,
		Token:     t.Token,
		HTTP:      e.Client,
		UserAgent: ua,
		Header:    http.Header{"Accept-Charset": {"utf-8"}},
	}
}

func (e *Engine) logger() *slog.Logger {
	if e.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Logger
}

func (e *Engine) password() string {
	if e.Password != nil {
		return e.Password()
	}
	return rand.Text()
}

// fail wraps err as "provision: <action>: err".
func fail(action string, err error) error {
	return fmt.Errorf("provision: %s: %w", action, err)
}

// wantStatus checks that a response's status is one of want.
func wantStatus(method, path string, got *client.Response, want ...int) error {
	if slices.Contains(want, got.Status) {
		return nil
	}
	ws := make([]string, len(want))
	for i, w := range want {
		ws[i] = fmt.Sprint(w)
	}
	return fmt.Errorf("%s %s answered %d, want %s", method, path, got.Status, strings.Join(ws, " or "))
}

// rawJSON encodes v for a PatchOperation value.
func rawJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil { // only maps, slices and strings go in here
		return json.RawMessage("null")
	}
	return b
}

// idOf returns r["id"] when it is a non-empty string.
func idOf(r scim.Resource) string {
	id, _ := r["id"].(string)
	return id
}
