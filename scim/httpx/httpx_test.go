package httpx

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/tenant"
)

func TestParseTrustedProxies(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"", nil, false},
		{"10.0.0.0/8, 127.0.0.1,,::1", []string{"10.0.0.0/8", "127.0.0.1/32", "::1/128"}, false},
		{"10.1.2.3/8", []string{"10.0.0.0/8"}, false},
		{"::ffff:10.0.0.0/104", []string{"10.0.0.0/8"}, false},
		{"::ffff:10.0.0.0/96", []string{"0.0.0.0/0"}, false},
		{"::ffff:0:0/80", nil, true},
		{"::ffff:10.0.0.0/95", nil, true},
		{"10.0.0.0/33", nil, true},
		{"proxy.internal", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTrustedProxies(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			var s []string
			for _, p := range got {
				s = append(s, p.String())
			}
			if diff := cmp.Diff(tt.want, s); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// seen is what a handler behind TrustedProxies.Handler sees.
type seen struct {
	Scheme, Remote, Host, Peer string
	XFF                        []string
}

func TestTrustedProxies(t *testing.T) {
	trusted, err := ParseTrustedProxies("10.0.0.0/8,192.168.1.1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		remote string
		tls    bool
		header map[string][]string
		want   seen
	}{
		{"no headers, trusted peer", "10.0.0.5:4000", false, nil,
			seen{"http", "10.0.0.5:4000", "app.test", "10.0.0.5:4000", nil}},
		{"trusted https proxy", "10.0.0.5:4000", false, map[string][]string{"X-Forwarded-Proto": {"https"}, "X-Forwarded-For": {"203.0.113.7"}, "X-Forwarded-Host": {"idp.example.com"}},
			seen{"https", "203.0.113.7:0", "idp.example.com", "10.0.0.5:4000", []string{"203.0.113.7"}}},
		{"rightmost untrusted hop", "10.0.0.5:4000", false, map[string][]string{"X-Forwarded-For": {"6.6.6.6, 203.0.113.7", "10.9.9.9"}},
			seen{"http", "203.0.113.7:0", "app.test", "10.0.0.5:4000", []string{"6.6.6.6, 203.0.113.7", "10.9.9.9"}}},
		{"all hops trusted: leftmost", "192.168.1.1:1", false, map[string][]string{"X-Forwarded-For": {"10.1.1.1, 10.2.2.2"}},
			seen{"http", "10.1.1.1:0", "app.test", "192.168.1.1:1", []string{"10.1.1.1, 10.2.2.2"}}},
		{"garbage hop stops the walk", "10.0.0.5:4000", false, map[string][]string{"X-Forwarded-For": {"6.6.6.6, bogus, 10.3.3.3"}},
			seen{"http", "10.3.3.3:0", "app.test", "10.0.0.5:4000", []string{"6.6.6.6, bogus, 10.3.3.3"}}},
		{"ipv6 client with port", "10.0.0.5:4000", false, map[string][]string{"X-Forwarded-For": {"[2001:db8::1]:5555"}},
			seen{"http", "[2001:db8::1]:0", "app.test", "10.0.0.5:4000", []string{"[2001:db8::1]:5555"}}},
		{"proxy says http over direct TLS", "10.0.0.5:4000", true, map[string][]string{"X-Forwarded-Proto": {"http"}},
			seen{"http", "10.0.0.5:4000", "app.test", "10.0.0.5:4000", nil}},
		{"last proto wins, odd values ignored", "10.0.0.5:4000", false, map[string][]string{"X-Forwarded-Proto": {"http, https"}},
			seen{"https", "10.0.0.5:4000", "app.test", "10.0.0.5:4000", nil}},
		{"unknown proto ignored", "10.0.0.5:4000", true, map[string][]string{"X-Forwarded-Proto": {"gopher"}},
			seen{"https", "10.0.0.5:4000", "app.test", "10.0.0.5:4000", nil}},
		{"bad forwarded host ignored", "10.0.0.5:4000", false, map[string][]string{"X-Forwarded-Host": {"evil.test/path"}},
			seen{"http", "10.0.0.5:4000", "app.test", "10.0.0.5:4000", nil}},
		{"untrusted peer: ignored and stripped", "203.0.113.9:5000", false, map[string][]string{"X-Forwarded-Proto": {"https"}, "X-Forwarded-For": {"1.2.3.4"}, "X-Forwarded-Host": {"evil.test"}, "Forwarded": {"for=1.2.3.4;proto=https"}},
			seen{"http", "203.0.113.9:5000", "app.test", "203.0.113.9:5000", nil}},
		{"untrusted peer over TLS", "203.0.113.9:5000", true, map[string][]string{"X-Forwarded-Proto": {"http"}},
			seen{"https", "203.0.113.9:5000", "app.test", "203.0.113.9:5000", nil}},
		{"ipv4-mapped trusted peer", "[::ffff:10.0.0.5]:4000", false, map[string][]string{"X-Forwarded-Proto": {"https"}},
			seen{"https", "[::ffff:10.0.0.5]:4000", "app.test", "[::ffff:10.0.0.5]:4000", nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got seen
			var forwardedSeen bool
			h := trusted.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = seen{Scheme(r), r.RemoteAddr, r.Host, Peer(r), r.Header.Values("X-Forwarded-For")}
				forwardedSeen = r.Header.Get("Forwarded") != ""
			}))
			r := httptest.NewRequest("GET", "http://app.test/t/acme/me", nil)
			r.RemoteAddr = tt.remote
			if !tt.tls {
				r.TLS = nil
			} else {
				r.TLS = &tls.ConnectionState{}
			}
			for k, v := range tt.header {
				r.Header[k] = v
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			if forwardedSeen && tt.remote == "203.0.113.9:5000" {
				t.Error("Forwarded header reached the handler from an untrusted peer")
			}
		})
	}
}

func TestHSTS(t *testing.T) {
	trusted, _ := ParseTrustedProxies("10.0.0.0/8")
	tests := []struct {
		name   string
		public string // HSTSUnder's public URL; "" is HSTS
		remote string
		tls    bool
		proto  string
		want   string
	}{
		{"plain http", "", "203.0.113.9:1", false, "", ""},
		{"direct TLS", "", "203.0.113.9:1", true, "", HSTSValue},
		{"trusted proxy https", "", "10.0.0.1:1", false, "https", HSTSValue},
		{"untrusted proxy https", "", "203.0.113.9:1", false, "https", ""},
		{"trusted proxy http", "", "10.0.0.1:1", false, "http", ""},
		// Behind a proxy left out of --trust-proxy: the public URL says
		// browsers use https, so the header goes out (and is ignored by
		// anyone who really used http).
		{"https public URL, untrusted proxy", "https://app.example.com", "203.0.113.9:1", false, "", HSTSValue},
		{"HTTPS public URL in capitals", "HTTPS://app.example.com", "203.0.113.9:1", false, "", HSTSValue},
		{"http public URL", "http://127.0.0.1:8080", "203.0.113.9:1", false, "https", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := trusted.Handler(HSTSUnder(tt.public, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
			r := httptest.NewRequest("GET", "/healthz", nil)
			r.RemoteAddr = tt.remote
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if tt.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tt.proto)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if diff := cmp.Diff(tt.want, w.Header().Get("Strict-Transport-Security")); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLimitTenants: each case starts requests that block after their
// handler answered (as a client that never reads its answer makes them
// do), then sends one more. A tenant's SCIM cap and the cap of its
// other paths are separate; a request answered other than 2xx (a 401 for
// a wrong token, a 404, a redirect) holds no slot while it blocks; the
// dialog's assets, invalid tenant names and paths outside /t/ are not
// counted.
func TestLimitTenants(t *testing.T) {
	started := make(chan struct{}, 10)
	var release chan struct{}
	h := LimitTenants(2, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := http.StatusOK
		if s := r.URL.Query().Get("status"); s != "" {
			status, _ = strconv.Atoi(s)
		}
		w.WriteHeader(status)
		if r.URL.Query().Get("block") != "" {
			started <- struct{}{}
			<-release
		}
	}))
	do := func(target string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", target, nil))
		return w
	}
	type answer struct {
		Status                 int
		RetryAfter, Type, Body string
	}
	got := func(w *httptest.ResponseRecorder) answer {
		a := answer{Status: w.Code, RetryAfter: w.Header().Get("Retry-After"), Type: w.Header().Get("Content-Type")}
		var body map[string]any
		if json.Unmarshal(w.Body.Bytes(), &body) == nil {
			a.Body = body["status"].(string) + " " + body["schemas"].([]any)[0].(string)
		}
		return a
	}
	scimBusy := answer{503, "1", "application/scim+json; charset=utf-8", "503 urn:ietf:params:scim:api:messages:2.0:Error"}
	otherBusy := answer{503, "1", "text/plain; charset=utf-8", ""}
	served := answer{Status: 200}
	const users = "/t/acme/scim/v2/Users"
	tests := []struct {
		name    string
		holders []string
		target  string
		want    answer
	}{
		{"two SCIM requests fill the SCIM cap", []string{users + "?block=1", users + "?block=1"}, users, scimBusy},
		{"but not the other paths' cap", []string{users + "?block=1", users + "?block=1"}, "/t/acme/me", served},
		{"nor another tenant's", []string{users + "?block=1", users + "?block=1"}, "/t/other/scim/v2/Users", served},
		{"nor paths outside /t/", []string{users + "?block=1", users + "?block=1"}, "/healthz", served},
		{"two sign-in requests fill the other paths' cap", []string{"/t/acme/me?block=1", "/t/acme/oidc/callback?block=1"}, "/t/acme/login", otherBusy},
		{"and leave the SCIM cap to Okta", []string{"/t/acme/me?block=1", "/t/acme/oidc/callback?block=1"}, users, served},
		{"401 answers hold no slot while written", []string{users + "?block=1&status=401", users + "?block=1&status=401", users + "?block=1&status=401"}, users, served},
		{"nor do 404s and redirects", []string{"/t/acme/scim/x?block=1&status=404", "/t/acme/scim/v2//Users?block=1&status=307", "/t/acme/me?block=1&status=404", "/t/acme/me?block=1&status=302"}, "/t/acme/me", served},
		{"the dialog's assets are not counted", []string{"/t/acme/admin/assets/dialog.wasm?block=1", "/t/acme/admin/assets/dialog.wasm?block=1", "/t/acme/admin/assets/wasm_exec.js?block=1"}, "/t/acme/me", served},
		{"invalid tenant names are not counted", []string{"/t/Not_A_Name/scim/v2/Users?block=1", "/t/Not_A_Name/scim/v2/Users?block=1"}, "/t/Not_A_Name/scim/v2/Users", served},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release = make(chan struct{})
			var wg sync.WaitGroup
			for _, target := range tt.holders {
				wg.Go(func() {
					if w := do(target); w.Code == http.StatusServiceUnavailable {
						t.Errorf("holder %s: 503", target)
						started <- struct{}{} // it never reached the handler
					}
				})
			}
			for range tt.holders {
				<-started
			}
			answer := got(do(tt.target))
			close(release)
			wg.Wait()
			if diff := cmp.Diff(tt.want, answer); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			if w := do(tt.target); w.Code != 200 {
				t.Errorf("after the running requests finished: %d, want 200", w.Code)
			}
		})
	}
}

func TestTenantOf(t *testing.T) {
	long := strings.Repeat("a", MaxTenantName)
	for in, want := range map[string]string{
		"/t/acme/scim/v2/Users": "acme", "/t/acme": "acme", "/healthz": "", "/t/": "", "/conform/": "",
		"/t/" + long + "/scim/v2/Users": long, "/t/" + long + "a/scim/v2/Users": "",
		"/t/Acme/scim/": "", "/t/acme%2F/x": "", "/t/-acme/x": "", "/t/a.b/x": "", "/t/ac me/x": "", "/t/é/x": "",
	} {
		if got := TenantOf(in); got != want {
			t.Errorf("TenantOf(%.80q) = %q, want %q", in, got, want)
		}
	}
}

// TestValidTenant: the rule is scim/tenant.ValidateName's.
func TestValidTenant(t *testing.T) {
	for _, name := range []string{"acme", "a", "a-1", "0", strings.Repeat("z", 63), strings.Repeat("z", 64), "", "-a", "a-", "A", "a_b", "a.b", "a b", "é", "a\x00", "a/b", "%41"} {
		want := tenant.ValidateName(name) == nil
		if got := ValidTenant(name); got != want {
			t.Errorf("ValidTenant(%q) = %v, tenant.ValidateName says %v", name, got, want)
		}
	}
}

// TestHandlerLoggedWarnsForwarding: a request from an untrusted peer that
// carries X-Forwarded-For is warned about once an hour per peer, at most
// ForwardingWarnings times an hour in all; trusted peers and requests
// without the header are not.
func TestHandlerLoggedWarnsForwarding(t *testing.T) {
	trusted, _ := ParseTrustedProxies("10.0.0.0/8")
	var logs bytes.Buffer
	now := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	h := trusted.HandlerLogged(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), slog.New(slog.NewTextHandler(&logs, nil)), func() time.Time { return now })
	send := func(remote string, xff bool) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		if xff {
			r.Header.Set("X-Forwarded-For", "198.51.100.7")
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	count := func() int { return strings.Count(logs.String(), "carries X-Forwarded-For") }
	send("192.0.2.1:1", true)
	send("192.0.2.1:2", true) // same peer: no second warning
	send("192.0.2.2:1", false)
	send("10.0.0.1:1", true) // trusted
	if got := count(); got != 1 || !strings.Contains(logs.String(), "peer=192.0.2.1") {
		t.Fatalf("%d warnings, want 1 naming the peer:\n%s", got, logs.String())
	}
	for i := range 3 * ForwardingWarnings {
		send(fmt.Sprintf("192.0.2.%d:1", 10+i), true)
	}
	if got := count(); got != ForwardingWarnings {
		t.Errorf("%d warnings in an hour, want %d", got, ForwardingWarnings)
	}
	now = now.Add(time.Hour)
	send("192.0.2.1:1", true)
	if got := count(); got != ForwardingWarnings+1 {
		t.Errorf("%d warnings after an hour, want %d", got, ForwardingWarnings+1)
	}
}
