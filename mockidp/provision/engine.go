// Package provision is the mock Okta's provisioning engine: it sends to an
// app's SCIM 2.0 service exactly the requests Okta's SCIM client sends for
// each admin action (test credentials, saving the To App settings, assign,
// profile update, deactivate, reactivate, group push, rename, delete,
// import), with Okta's headers and bodies.
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
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/client"
)

// DefaultUserAgent is the User-Agent Okta's SCIM client sends.
const DefaultUserAgent = "Okta SCIM Client 1.0.0"

// BatchSize is the most member changes Okta puts in one group PATCH.
const BatchSize = 256

// Target is an app's SCIM connection as entered in Okta.
type Target struct {
	BaseURL string // SCIM connector base URL, such as https://app.example/t/acme/scim/v2
	Token   string // the pasted bearer secret
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
	// Password returns the random password sent with every new user (Okta
	// sends one even when password sync is off); nil means 26 characters
	// from crypto/rand.
	Password func() string
}

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
