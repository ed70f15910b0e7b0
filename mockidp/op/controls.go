package op

import (
	"net/http"
	"time"
)

// This file holds the provider's test controls other than faults
// (faults.go): queued logins, queued endpoint errors and delays, and the
// request log. STUB: the owner of this file replaces the bodies.

// Endpoint names, as used by QueuedError.Endpoint and Request.Endpoint.
const (
	EndpointDiscovery  = "discovery" // both .well-known documents
	EndpointAuthorize  = "authorize"
	EndpointToken      = "token"
	EndpointKeys       = "keys"
	EndpointUserinfo   = "userinfo"
	EndpointIntrospect = "introspect"
	EndpointRevoke     = "revoke"
	EndpointLogout     = "logout"
)

// QueuedLogin is the user the next authorization request signs in
// without showing the login form (and without asking for a password).
type QueuedLogin struct {
	// UserID (00u…) or Login names the user; the user must be ACTIVE.
	UserID string
	Login  string
	// ClientID, when set, limits the queued login to that client's
	// authorization requests.
	ClientID string
	// Claims are merged into the ID token (and UserInfo) of the tokens
	// issued from this login; a nil value removes a claim.
	Claims map[string]any
}

// QueueLogin queues a login; logins queued earlier are used first.
func (p *Provider) QueueLogin(l QueuedLogin) error { return nil }

// QueuedError makes an endpoint answer with an error (or just late).
type QueuedError struct {
	// Endpoint is one of the Endpoint* names. Required.
	Endpoint string
	// AuthServer limits it to one authorization server ("" = any; use
	// "org" for the org server only).
	AuthServer string
	// Status is the HTTP status; 0 with Delay set means "answer normally,
	// but late".
	Status int
	// Error and Description fill an RFC 6749 §5.2 body (an HTML page on
	// authorize and logout).
	Error, Description string
	// Body, when set, is sent as is instead (Content-Type from Header, else
	// application/json).
	Body   string
	Header http.Header
	// Delay is waited before answering (or before the normal answer).
	Delay time.Duration
	// Sticky keeps it until ClearErrors; otherwise it applies once.
	Sticky bool
}

// QueueError queues an endpoint error or delay.
func (p *Provider) QueueError(e QueuedError) error { return nil }

// ClearErrors drops every queued error and delay; ClearLogins every
// queued login.
func (p *Provider) ClearErrors() {}

// ClearLogins drops every queued login.
func (p *Provider) ClearLogins() {}

// Request is one request an endpoint of the provider answered.
type Request struct {
	Time       time.Time         `json:"time"`
	Endpoint   string            `json:"endpoint"`
	AuthServer string            `json:"authServer"` // "" for the org server
	Method     string            `json:"method"`
	ClientID   string            `json:"clientId,omitempty"`
	Params     map[string]string `json:"params,omitempty"` // non-secret parameters only
	Status     int               `json:"status"`
	Origin     string            `json:"origin,omitempty"`
}

// Requests returns the request log, oldest first (at most the last 10,000).
func (p *Provider) Requests() []Request { return nil }

// ResetRequests empties the request log.
func (p *Provider) ResetRequests() {}

// AddTrustedOrigin lets a browser page on origin (scheme://host[:port])
// read discovery, keys and token responses (CORS), as Okta's Trusted
// Origins do.
func (p *Provider) AddTrustedOrigin(origin string) error { return nil }
