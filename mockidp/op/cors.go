package op

import (
	"net/http"
	"strconv"
	"time"
)

// CORS for Okta's Trusted Origins (Fetch standard §3.2, the CORS protocol).
//
// Okta lets a browser page on a trusted origin read its OAuth endpoints
// with XHR/fetch; a page on any other origin gets responses without
// Access-Control-Allow-Origin, which the browser then hides from it. Here:
//
//   - discovery, keys, token, userinfo, revoke and introspect answer a
//     trusted Origin with Access-Control-Allow-Origin: <that origin>,
//     Access-Control-Allow-Credentials: true and
//     Access-Control-Expose-Headers: WWW-Authenticate, on errors too;
//   - a preflight (OPTIONS with Origin and Access-Control-Request-Method)
//     from a trusted origin is 204 with the endpoint's methods, the
//     allowed request headers and a max-age; from any other origin it is
//     403 with no CORS headers at all;
//   - every response of those endpoints carries Vary: Origin, so a cache
//     never hands one origin's answer to another;
//   - authorize and logout are page navigations and get no CORS headers.

// corsMaxAge is how long a browser may cache a preflight answer.
const corsMaxAge = 2 * time.Hour

// corsAllowHeaders are the request headers a trusted page may send: those
// Okta's own browser SDKs send besides the CORS-safelisted ones.
const corsAllowHeaders = "Accept, Authorization, Content-Type, X-Okta-User-Agent-Extended, X-Requested-With"

// corsMethods returns an endpoint's methods for
// Access-Control-Allow-Methods, or false for endpoints without CORS.
func corsMethods(endpoint string) (string, bool) {
	switch endpoint {
	case EndpointDiscovery, EndpointKeys:
		return "GET, HEAD, OPTIONS", true
	case EndpointUserinfo:
		return "GET, POST, OPTIONS", true
	case EndpointToken, EndpointRevoke, EndpointIntrospect:
		return "POST, OPTIONS", true
	}
	return "", false
}

// cors adds the CORS headers of a request and reports whether it answered
// it (a preflight).
func (p *Provider) cors(w http.ResponseWriter, r *http.Request, endpoint string) bool {
	methods, ok := corsMethods(endpoint)
	if !ok {
		return false
	}
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	trusted := origin != "" && p.trustedOrigin(origin)
	if r.Method == http.MethodOptions && origin != "" && r.Header.Get("Access-Control-Request-Method") != "" {
		if !trusted {
			h.Set("Content-Type", "text/plain; charset=utf-8")
			h.Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte("The origin is not a trusted origin of this org.\n"))
			return true
		}
		h.Add("Vary", "Access-Control-Request-Method")
		h.Add("Vary", "Access-Control-Request-Headers")
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Access-Control-Allow-Methods", methods)
		h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
		h.Set("Access-Control-Max-Age", strconv.Itoa(int(corsMaxAge/time.Second)))
		w.WriteHeader(http.StatusNoContent)
		return true
	}
	if trusted {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Access-Control-Expose-Headers", "WWW-Authenticate")
	}
	return false
}
