// Package httpx holds the app server's transport middleware: trusting a
// reverse proxy's X-Forwarded-* headers (TrustedProxies), HSTS (HSTS,
// RFC 6797) and a cap on concurrent requests per tenant (LimitTenants).
//
// # Proxies
//
// RFC 7239 §8 lists what forwarding headers cost: they are written by
// whoever sends the request, so any client can claim any scheme, host
// or address (§8.1 header validity and integrity), a chain of proxies
// appends to them so only the hops the server trusts can be believed
// (§8.2, §5.2), and they reveal the client's address (§8.3). idpkit
// reads the de-facto X-Forwarded-Proto, X-Forwarded-For and
// X-Forwarded-Host (the forms proxies and load balancers send), not the
// Forwarded header itself, and believes them only when the direct peer
// (http.Request.RemoteAddr) is inside a trusted network. From any other
// peer they, Forwarded and X-Real-Ip are removed before the handlers see
// the request.
//
// The outcome is visible to handlers as:
//   - IsHTTPS(r) / Scheme(r): the scheme the client used: the trusted
//     proxy's X-Forwarded-Proto, else whether r.TLS is set. Packages that
//     decide on Secure cookies, HSTS or absolute URLs call IsHTTPS
//     instead of testing r.TLS.
//   - r.RemoteAddr: the client's address "IP:0" (port unknown) taken from
//     X-Forwarded-For; Peer(r) keeps the direct peer's address.
//   - r.Host: X-Forwarded-Host, when it is a plain host[:port].
package httpx

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

type ctxKey struct{}

// forwarded is what TrustedProxies.Handler learned about a request.
type forwarded struct {
	scheme string // "http" or "https"; "" means from r.TLS
	peer   string // the direct peer's RemoteAddr
}

func fromContext(r *http.Request) forwarded {
	f, _ := r.Context().Value(ctxKey{}).(forwarded)
	return f
}

// Scheme returns "https" or "http": the scheme a trusted proxy says the
// client used, else "https" exactly when r came over TLS.
func Scheme(r *http.Request) string {
	if s := fromContext(r).scheme; s != "" {
		return s
	}
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// IsHTTPS reports whether the client reached the server over HTTPS (see
// Scheme).
func IsHTTPS(r *http.Request) bool { return Scheme(r) == "https" }

// Peer returns the address of the direct peer of r's connection (a
// proxy's, when TrustedProxies.Handler replaced r.RemoteAddr with the
// client's).
func Peer(r *http.Request) string {
	if p := fromContext(r).peer; p != "" {
		return p
	}
	return r.RemoteAddr
}

// TrustedProxies is the set of networks whose X-Forwarded-* headers are
// believed. The zero value trusts no one.
type TrustedProxies []netip.Prefix

// ParseTrustedProxies parses a comma-separated list of CIDR prefixes
// ("10.0.0.0/8") and addresses ("127.0.0.1", meaning that one address).
// Empty items are skipped, so "" is the empty set.
func ParseTrustedProxies(s string) (TrustedProxies, error) {
	var t TrustedProxies
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if strings.Contains(item, "/") {
			p, err := netip.ParsePrefix(item)
			if err != nil {
				return nil, fmt.Errorf("httpx: %q is not a CIDR prefix such as 10.0.0.0/8: %w", item, err)
			}
			if p.Addr().Is4In6() {
				// ::ffff:a.b.c.d/N is the IPv4 prefix a.b.c.d/(N-96), which
				// needs N of 96 or more; a shorter one would reach beyond the
				// IPv4-mapped space, and as an IPv4 prefix trust nothing.
				if p.Bits() < 96 {
					return nil, fmt.Errorf("httpx: %q is an IPv4-mapped prefix shorter than /96; write the IPv4 prefix instead (::ffff:10.0.0.0/104 is 10.0.0.0/8)", item)
				}
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
			t = append(t, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("httpx: %q is not an IP address or CIDR prefix: %w", item, err)
		}
		a = a.Unmap().WithZone("")
		t = append(t, netip.PrefixFrom(a, a.BitLen()))
	}
	return t, nil
}

// Contains reports whether a is inside one of the trusted networks.
func (t TrustedProxies) Contains(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// strip are the forwarding headers removed from an untrusted peer's
// requests.
var strip = []string{"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Prefix", "X-Forwarded-Ssl", "Forwarded", "X-Real-Ip"}

// Handler returns next behind the proxy rules of the package doc: a
// request whose direct peer is trusted gets its scheme, client address
// and host from X-Forwarded-Proto (http or https; the last value when a
// chain appended several), X-Forwarded-For (the rightmost address that
// is not itself trusted; the leftmost when all are) and
// X-Forwarded-Host (the last value); any other request has those
// headers removed and keeps its own scheme, address and host.
func (t TrustedProxies) Handler(next http.Handler) http.Handler {
	return t.handler(next, nil)
}

// HandlerLogged is Handler, and logs at Warn, at most once an hour per
// peer and ForwardingWarnings times an hour in all, a request from an
// untrusted peer that carries X-Forwarded-For: a proxy left out of the
// trusted list (every client then seems to come from the proxy), or a
// client trying its luck.
func (t TrustedProxies) HandlerLogged(next http.Handler, log *slog.Logger, now func() time.Time) http.Handler {
	if now == nil {
		now = time.Now
	}
	w := &forwardWarner{log: log, now: now, seen: map[netip.Addr]time.Time{}}
	return t.handler(next, w.warn)
}

// ForwardingWarnings caps the warnings HandlerLogged logs per hour.
const ForwardingWarnings = 10

// forwardWarner rate-limits HandlerLogged's warnings.
type forwardWarner struct {
	log *slog.Logger
	now func() time.Time

	mu     sync.Mutex
	seen   map[netip.Addr]time.Time // peer → when last warned, this hour
	hour   time.Time                // when the current hour of warnings began
	logged int                      // warnings in it
}

func (f *forwardWarner) warn(peer netip.Addr) {
	now := f.now()
	f.mu.Lock()
	if now.Sub(f.hour) >= time.Hour {
		f.hour, f.logged = now, 0
		clear(f.seen)
	}
	if _, ok := f.seen[peer]; ok || f.logged >= ForwardingWarnings {
		f.mu.Unlock()
		return
	}
	f.seen[peer] = now
	f.logged++
	f.mu.Unlock()
	f.log.Warn("httpx: a request from a peer that is not a trusted proxy carries X-Forwarded-For; it was removed. If this peer is your proxy or load balancer, add it to --trust-proxy: until then every client seems to come from it",
		"peer", peer.String())
}

func (t TrustedProxies) handler(next http.Handler, untrustedForward func(netip.Addr)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer, ok := addrOf(r.RemoteAddr)
		if !ok || !t.Contains(peer) {
			if ok && untrustedForward != nil && r.Header.Get("X-Forwarded-For") != "" {
				untrustedForward(peer)
			}
			if hasAny(r.Header) {
				r = r.Clone(r.Context())
				for _, h := range strip {
					r.Header.Del(h)
				}
			}
			next.ServeHTTP(w, r)
			return
		}
		f := forwarded{peer: r.RemoteAddr}
		switch p := strings.ToLower(lastValue(r.Header.Values("X-Forwarded-Proto"))); p {
		case "http", "https":
			f.scheme = p
		}
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, f))
		if c, ok := t.client(peer, r.Header.Values("X-Forwarded-For")); ok {
			r.RemoteAddr = net.JoinHostPort(c.String(), "0")
		}
		if h := lastValue(r.Header.Values("X-Forwarded-Host")); validHost(h) {
			r.Host = h
		}
		next.ServeHTTP(w, r)
	})
}

// client walks X-Forwarded-For from the right: each hop was added by the
// one after it, so addresses are believed only while the adder is
// trusted. It stops at the first untrusted address (the client) or at a
// value that is no address.
func (t TrustedProxies) client(peer netip.Addr, values []string) (netip.Addr, bool) {
	var hops []string
	for _, v := range values {
		hops = append(hops, strings.Split(v, ",")...)
	}
	client, found := peer, false
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := addrOf(strings.TrimSpace(hops[i]))
		if !ok {
			break
		}
		client, found = a, true
		if !t.Contains(a) {
			break
		}
	}
	return client, found
}

// addrOf parses "IP", "IP:port" or "[IPv6]:port".
func addrOf(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	if h, _, err := net.SplitHostPort(s); err == nil {
		if a, err := netip.ParseAddr(h); err == nil {
			return a.Unmap().WithZone(""), true
		}
	}
	return netip.Addr{}, false
}

func hasAny(h http.Header) bool {
	for _, k := range strip {
		if _, ok := h[k]; ok {
			return true
		}
	}
	return false
}

// lastValue returns the last comma-separated item of the header's
// values, trimmed.
func lastValue(values []string) string {
	if len(values) == 0 {
		return ""
	}
	v := values[len(values)-1]
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return strings.TrimSpace(v)
}

// validHost accepts a host name or address with an optional port, and
// nothing that could smuggle a path, user info or a second header.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for _, c := range []byte(h) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '-', c == ':', c == '[', c == ']', c == '_':
		default:
			return false
		}
	}
	return true
}

// HSTSValue is the Strict-Transport-Security header HSTS sends: one year,
// without includeSubDomains (other hosts of the domain may not serve
// HTTPS) and without preload.
const HSTSValue = "max-age=31536000"

// HSTS returns next with Strict-Transport-Security (RFC 6797) on every
// answer to a request that came over HTTPS (IsHTTPS), and never on plain
// http, where RFC 6797 §7.2 forbids it.
func HSTS(next http.Handler) http.Handler {
	return HSTSUnder("", next)
}

// HSTSUnder is HSTS for a server whose public URL is publicURL: when that
// is an https URL, browsers reach the server over HTTPS whatever the last
// hop is (a TLS-terminating proxy that is not in TrustedProxies, say), so
// every answer carries the header; a user agent ignores it on an answer
// it got over plain http (RFC 6797 §8.1), and the proxy passes it on.
func HSTSUnder(publicURL string, next http.Handler) http.Handler {
	always := strings.HasPrefix(strings.ToLower(publicURL), "https://")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if always || IsHTTPS(r) {
			w.Header().Set("Strict-Transport-Security", HSTSValue)
		}
		next.ServeHTTP(w, r)
	})
}
