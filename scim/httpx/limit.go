package httpx

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"

	"github.com/idpkit/idpkit/scim"
)

// MaxTenantName is the longest tenant name TenantOf accepts (the rule of
// scim/tenant.ValidateName: a DNS label).
const MaxTenantName = 63

// ValidTenant reports whether name can be a tenant name, by the rule
// scim/tenant.ValidateName enforces when a tenant is created: 1 to 63
// lowercase letters, digits and hyphens, not starting or ending with a
// hyphen. The limiters track only such names, so that a request naming
// anything else (a megabyte of path, say) leaves nothing in memory; the
// app answers it 404 or 401 like any unknown tenant.
func ValidTenant(name string) bool {
	if name == "" || len(name) > MaxTenantName || name[0] == '-' || name[len(name)-1] == '-' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// TenantOf returns the tenant named by a path /t/{tenant}/…, or "" when
// there is none or the name is not a valid tenant name (ValidTenant).
// The name is a copy, never a slice of path, so that keeping it does not
// keep a long path in memory.
func TenantOf(path string) string {
	rest, ok := strings.CutPrefix(path, "/t/")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "/")
	if !ValidTenant(name) {
		return ""
	}
	return strings.Clone(name)
}

// isSCIMPath reports whether path, under /t/{name}/, is the tenant's
// SCIM service (/t/{name}/scim/…).
func isSCIMPath(path, name string) bool {
	return strings.HasPrefix(path, "/t/"+name+"/scim/")
}

// isAssetPath reports whether path, under /t/{name}/, is one of the
// dialog's static files (/t/{name}/admin/assets/…): the same for every
// tenant, served without credentials.
func isAssetPath(path, name string) bool {
	return strings.HasPrefix(path, "/t/"+name+"/admin/assets/")
}

// LimitTenants returns next with at most max requests per tenant (the
// {tenant} of /t/{tenant}/…) running at once, so that one tenant's
// burst cannot take every connection and goroutine from the others.
// A request beyond the cap is not queued: it gets 503 with
// Retry-After: 1, as a SCIM error (RFC 7644 §3.12) on the tenant's SCIM
// paths (/t/{tenant}/scim/…), which Okta retries, and as plain text
// elsewhere. Paths outside /t/ are never limited; max <= 0 means no cap.
//
// It is built so that nobody without credentials can hold a tenant's
// SCIM slots and lock its identity provider (Okta) out:
//
//   - Each tenant has two caps of max: one for its SCIM service and one
//     for everything else under /t/{tenant}/ (sign-in, admin), whose
//     pages anyone may load.
//   - A request stops counting as soon as its handler answers with a
//     status other than 2xx: a SCIM request without the right token is
//     answered 401 before its body is read, so however slowly its client
//     reads that answer, it holds no slot. Only a request that
//     authenticated can hold a SCIM slot while its answer is written.
//   - The dialog's static files (/t/{tenant}/admin/assets/…), which need
//     no credentials and are large, are not counted.
//
// Names that are no valid tenant name (ValidTenant) are not counted:
// the app answers them as unknown tenants.
func LimitTenants(max int, next http.Handler) http.Handler {
	if max <= 0 {
		return next
	}
	l := &tenantLimiter{max: max, running: map[slotKey]int{}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := TenantOf(r.URL.Path)
		if name == "" || isAssetPath(r.URL.Path, name) {
			next.ServeHTTP(w, r)
			return
		}
		key := slotKey{name, isSCIMPath(r.URL.Path, name)}
		if !l.acquire(key) {
			tooBusy(w, key.scim)
			return
		}
		rw := &releaseWriter{ResponseWriter: w, release: sync.OnceFunc(func() { l.release(key) })}
		defer rw.release()
		next.ServeHTTP(rw, r)
	})
}

// slotKey names one of a tenant's two caps.
type slotKey struct {
	tenant string
	scim   bool // its SCIM service, else its other paths
}

// tenantLimiter counts running requests per cap; a cap with none has no
// entry, so the map holds only tenants being served.
type tenantLimiter struct {
	mu      sync.Mutex
	max     int
	running map[slotKey]int
}

func (l *tenantLimiter) acquire(key slotKey) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.running[key] >= l.max {
		return false
	}
	l.running[key]++
	return true
}

func (l *tenantLimiter) release(key slotKey) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.running[key] <= 1 {
		delete(l.running, key)
		return
	}
	l.running[key]--
}

// releaseWriter frees a request's slot as soon as its handler answers
// with a final status other than 2xx (see LimitTenants); release runs
// once, at the latest when the handler returns.
type releaseWriter struct {
	http.ResponseWriter
	release func()
	wrote   bool
}

func (rw *releaseWriter) WriteHeader(code int) {
	// 1xx answers (103 Early Hints) are not the final status.
	if !rw.wrote && code >= 200 {
		rw.wrote = true
		if code >= 300 {
			rw.release()
		}
	}
	rw.ResponseWriter.WriteHeader(code)
}

func (rw *releaseWriter) Write(b []byte) (int, error) {
	rw.wrote = true // an implicit 200
	return rw.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (rw *releaseWriter) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

func tooBusy(w http.ResponseWriter, scimPath bool) {
	w.Header().Set("Retry-After", "1")
	const detail = "too many requests for this tenant at once; retry in a second"
	if scimPath {
		body, _ := json.Marshal(scim.Errorf(http.StatusServiceUnavailable, "", detail))
		w.Header().Set("Content-Type", scim.MediaType+"; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write(body)
		return
	}
	http.Error(w, detail, http.StatusServiceUnavailable)
}
