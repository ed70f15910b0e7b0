package httpx

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"

	"github.com/idpkit/idpkit/scim"
)

// TenantOf returns the tenant named by a path /t/{tenant}/…, or "".
func TenantOf(path string) string {
	rest, ok := strings.CutPrefix(path, "/t/")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "/")
	return name
}

// LimitTenants returns next with at most max requests per tenant (the
// {tenant} of /t/{tenant}/…) running at once, so that one tenant's
// burst cannot take every connection and goroutine from the others.
// A request beyond the cap is not queued: it gets 503 with
// Retry-After: 1, as a SCIM error (RFC 7644 §3.12) on the tenant's SCIM
// paths (/t/{tenant}/scim/…), which Okta retries, and as plain text
// elsewhere. Paths outside /t/ are never limited; max <= 0 means no cap.
func LimitTenants(max int, next http.Handler) http.Handler {
	if max <= 0 {
		return next
	}
	l := &tenantLimiter{max: max, running: map[string]int{}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := TenantOf(r.URL.Path)
		if name == "" {
			next.ServeHTTP(w, r)
			return
		}
		if !l.acquire(name) {
			tooBusy(w, r, name)
			return
		}
		defer l.release(name)
		next.ServeHTTP(w, r)
	})
}

// tenantLimiter counts running requests per tenant; a tenant with none
// has no entry, so the map holds only tenants being served.
type tenantLimiter struct {
	mu      sync.Mutex
	max     int
	running map[string]int
}

func (l *tenantLimiter) acquire(name string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.running[name] >= l.max {
		return false
	}
	l.running[name]++
	return true
}

func (l *tenantLimiter) release(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.running[name] <= 1 {
		delete(l.running, name)
		return
	}
	l.running[name]--
}

func tooBusy(w http.ResponseWriter, r *http.Request, name string) {
	w.Header().Set("Retry-After", "1")
	const detail = "too many requests for this tenant at once; retry in a second"
	if strings.HasPrefix(r.URL.Path, "/t/"+name+"/scim/") {
		body, _ := json.Marshal(scim.Errorf(http.StatusServiceUnavailable, "", detail))
		w.Header().Set("Content-Type", scim.MediaType+"; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write(body)
		return
	}
	http.Error(w, detail, http.StatusServiceUnavailable)
}
