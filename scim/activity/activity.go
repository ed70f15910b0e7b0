// Package activity keeps the latest SCIM requests of each tenant in memory
// for the Connect Okta dialog (GET /t/{tenant}/admin/api/activity), and
// names what Okta was doing with each one (its provisioning actions: Test
// API Credentials, import, create, update, deactivate, Group Push).
//
// The names follow the requests Okta's SCIM client sends (testdata/okta):
// RFC 7644 §3.4.2 searches with a userName filter to look a user up and
// paged lists (startIndex, count) to import, §3.3 POST to create, §3.5.1
// PUT and §3.5.2 PATCH to update, deactivate and push group changes, §3.6
// DELETE, and a 401 (RFC 6750 §3.1) for a wrong or missing secret.
package activity

import (
	"container/list"
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

// MaxTenants is how many tenants a Log holds at most; writing to one more
// drops the tenant written to least recently. The SCIM server clips what
// it records (path 512 bytes, detail 300, User-Agent 200), so a Log never
// holds more than about MaxTenants × perTenant × 1.1 KB, and only tenants
// that exist are written to.
const MaxTenants = 10000

// Log is a bounded in-memory log of SCIM requests per tenant. The zero
// value is not usable; create one with New. It is safe for concurrent use.
type Log struct {
	mu         sync.Mutex
	perTenant  int
	maxTenants int
	tenants    map[string]*list.Element // of *ring, in lru
	lru        *list.List               // least recently written first
}

// ring is one tenant's last requests.
type ring struct {
	tenant string
	buf    []adminapi.Request // grows to perTenant, then wraps
	next   int                // where the next request goes once buf is full
}

// New returns a Log that keeps the last perTenant requests of each tenant
// (adminapi.MaxRequests when perTenant ≤ 0), for at most MaxTenants
// tenants.
func New(perTenant int) *Log {
	if perTenant <= 0 {
		perTenant = adminapi.MaxRequests
	}
	return &Log{perTenant: perTenant, maxTenants: MaxTenants, tenants: map[string]*list.Element{}, lru: list.New()}
}

// Add records r for tenant. The caller records only tenants that exist,
// so that requests to made-up tenant names take no memory.
func (l *Log) Add(tenant string, r adminapi.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.tenants[tenant]
	if ok {
		l.lru.MoveToBack(e)
	} else {
		for l.lru.Len() >= l.maxTenants {
			old := l.lru.Front()
			delete(l.tenants, l.lru.Remove(old).(*ring).tenant)
		}
		e = l.lru.PushBack(&ring{tenant: tenant, buf: make([]adminapi.Request, 0, min(l.perTenant, 4))})
		l.tenants[tenant] = e
	}
	rg := e.Value.(*ring)
	if len(rg.buf) < l.perTenant {
		rg.buf = append(rg.buf, r)
		return
	}
	rg.buf[rg.next] = r
	rg.next = (rg.next + 1) % len(rg.buf)
}

// Recent returns tenant's latest requests, newest first, at most n; an
// empty, non-nil slice when there are none.
func (l *Log) Recent(tenant string, n int) []adminapi.Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.tenants[tenant]
	if !ok || n <= 0 {
		return []adminapi.Request{}
	}
	rg := e.Value.(*ring)
	n = min(n, len(rg.buf))
	out := make([]adminapi.Request, 0, n)
	// The newest is just before next (next stays 0 until the ring is
	// full, and index -1 is then the end of buf).
	last := rg.next - 1
	for i := range n {
		out = append(out, rg.buf[(last-i+len(rg.buf))%len(rg.buf)])
	}
	return out
}

// Forget drops what the log holds for tenant (a deleted tenant).
func (l *Log) Forget(tenant string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.tenants[tenant]; ok {
		l.lru.Remove(e)
		delete(l.tenants, tenant)
	}
}
