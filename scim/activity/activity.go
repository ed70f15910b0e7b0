// Package activity keeps the latest SCIM requests of each tenant in memory
// for the Connect Okta dialog (GET /t/{tenant}/admin/api/activity), and
// names what Okta was doing with each one (its provisioning actions: Test
// API Credentials, import, create, update, deactivate, Group Push).
package activity

import (
	"sync"

	"github.com/idpkit/idpkit/scim/adminapi"
)

// KindConnected is the store.Token kind under which the SCIM server keeps,
// per tenant (Key = tenant name), the first request authenticated with the
// tenant's current secret: a JSON Connected.
const KindConnected = "scim-connected"

// Connected is the value of a KindConnected token.
type Connected struct {
	// TokenHash is the hex of the tenant's TokenHash when the request
	// arrived: the mark counts only while it equals the current one.
	TokenHash string           `json:"tokenHash"`
	Request   adminapi.Request `json:"request"`
}

// Log is a bounded in-memory log of SCIM requests per tenant. The zero
// value is not usable; create one with New. It is safe for concurrent use.
type Log struct {
	mu sync.Mutex
	// TODO(helper A): ring buffers per tenant.
}

// New returns a Log that keeps the last perTenant requests of each tenant
// (adminapi.MaxRequests when perTenant ≤ 0).
func New(perTenant int) *Log { return &Log{} }

// Add records r for tenant.
func (l *Log) Add(tenant string, r adminapi.Request) {}

// Recent returns tenant's latest requests, newest first, at most n.
func (l *Log) Recent(tenant string, n int) []adminapi.Request { return nil }

// Forget drops what the log holds for tenant (a deleted tenant).
func (l *Log) Forget(tenant string) {}
