package login

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/adminapi"
	"github.com/idpkit/idpkit/scim/store"
)

// recAuditor keeps what it is given.
type recAuditor struct {
	mu   sync.Mutex
	recs []store.AuditRecord
}

func (a *recAuditor) Add(tenant string, rec store.AuditRecord) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	rec.Tenant = tenant
	a.recs = append(a.recs, rec)
	return true
}

// rows are the records without At, as "tenant kind actor source action target detail outcome".
func (a *recAuditor) rows() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, r := range a.recs {
		out = append(out, strings.Join([]string{r.Tenant, r.Kind, r.Actor, r.Source, r.Action, r.Target, string(r.Detail), r.Outcome}, " "))
	}
	a.recs = nil
	return out
}

func TestAuditSignIn(t *testing.T) {
	aud := &recAuditor{}
	e := newEnv(t, func(c *Config) { c.Audit = aud })
	e.op.setUser(opUser{sub: "00ualice", login: "alice@example.com", email: "alice@example.com"})
	sub := e.op.user.sub
	tests := []struct {
		name  string
		setup func(e *env)
		want  []string
	}{
		{"not provisioned", func(e *env) {}, []string{"acme signin " + sub + " 127.0.0.1 not-provisioned  {\"reason\":\"not-provisioned\"} refused"}},
		{"signed in", func(e *env) { e.addUser("u1", e.op.user.login, sub, true) }, []string{"acme signin " + sub + " 127.0.0.1 signed-in User/u1  ok"}},
		{"deactivated", func(e *env) { e.setActive("u1", false) }, []string{"acme signin " + sub + " 127.0.0.1 deactivated User/u1 {\"reason\":\"deactivated\"} refused"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.setup(e)
			e.signInOnce()
			if diff := cmp.Diff(tc.want, aud.rows()); diff != "" {
				t.Errorf("audit (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("state refused", func(t *testing.T) {
		newBrowser(t).get(e.app.URL + "/t/acme/oidc/callback?state=forged&code=x")
		if diff := cmp.Diff([]string{"acme signin  127.0.0.1 state-refused  {\"reason\":\"unknown-state\"} refused"}, aud.rows()); diff != "" {
			t.Errorf("audit (-want +got):\n%s", diff)
		}
	})
	t.Run("no personal data", func(t *testing.T) {
		e.setActive("u1", true)
		e.signInOnce()
		raw, _ := json.Marshal(aud.recs)
		for _, v := range []string{e.op.user.login, e.op.user.email, "@"} {
			if v != "" && strings.Contains(string(raw), v) {
				t.Errorf("audit holds %q: %s", v, raw)
			}
		}
	})
}

func TestAuditAdmin(t *testing.T) {
	aud := &recAuditor{}
	e := newEnv(t, func(c *Config) { c.Audit = aud })
	b, s := adminBrowser(t, e)
	newBrowser(t).get(e.created.AdminURL) // used already
	r := b.do("POST", e.app.URL+"/t/acme/admin/api/secret", map[string]string{adminapi.CSRFHeader: s.CSRF, "Content-Type": "application/json"}, `{"graceSeconds":600}`)
	if r.status != http.StatusOK {
		t.Fatalf("rotate = %d %s", r.status, r.body)
	}
	want := []string{
		"acme admin admin-link 127.0.0.1 admin-link   ok",
		"acme admin admin-link 127.0.0.1 admin-link  {\"reason\":\"invalid-link\"} refused",
		"acme admin admin-link 127.0.0.1 secret-rotated  {\"grace\":\"10m0s\"} ok",
	}
	got := aud.rows()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
	for _, g := range got {
		if strings.Contains(g, strings.TrimPrefix(e.created.AdminURL, e.app.URL)) {
			t.Errorf("audit holds the admin link: %s", g)
		}
	}
}

// TestAuditRecordShape: a test sign-in is marked, the reason is clipped,
// the source is the host of RemoteAddr, and no auditor records nothing.
func TestAuditRecordShape(t *testing.T) {
	aud := &recAuditor{}
	h := New(Config{Audit: aud, Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }})
	r := httptest.NewRequest("GET", "/t/acme/oidc/callback", nil)
	r.RemoteAddr = "[2001:db8::1]:4444"
	h.auditSignIn(r, "acme", auditSignedIn, "00usub", "User/u1", "", true)
	h.auditSignIn(r, "acme", auditProviderRefusd, "", "", strings.Repeat("x", 100), false)
	want := []string{
		`acme signin 00usub 2001:db8::1 signed-in User/u1 {"test":true} ok`,
		`acme signin  2001:db8::1 provider-refused  {"reason":"` + clip(strings.Repeat("x", 100), 64) + `"} refused`,
	}
	if diff := cmp.Diff(want, aud.rows()); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
	New(Config{}).auditSignIn(r, "acme", auditSignedIn, "", "", "", false) // no Audit: no panic
}

// sumAuditor is a recAuditor that is also a Summarizer, marking what it
// is given to summarise.
type sumAuditor struct{ recAuditor }

func (a *sumAuditor) Summarize(tenant string, rec store.AuditRecord) {
	rec.Outcome += " (summarised)"
	a.Add(tenant, rec)
}

// TestAuditAdminRefused: every refusal of the admin API is recorded with
// its reason, no actor, the route as target; through the Summarizer when
// the auditor is one, else through Add.
func TestAuditAdminRefused(t *testing.T) {
	for _, summarizer := range []bool{true, false} {
		t.Run(fmt.Sprintf("summarizer=%v", summarizer), func(t *testing.T) {
			sum := &sumAuditor{}
			var aud interface {
				Auditor
				rows() []string
			} = &sum.recAuditor
			if summarizer {
				aud = sum
			}
			e := newEnv(t, func(c *Config) { c.Audit = aud })
			b, s := adminBrowser(t, e)
			aud.rows() // the admin link
			suffix := ""
			if summarizer {
				suffix = " (summarised)"
			}
			plain := map[string]string{"Content-Type": "application/json"}
			with := func(kv ...string) map[string]string {
				h := map[string]string{"Content-Type": "application/json"}
				for i := 0; i < len(kv); i += 2 {
					h[kv[i]] = kv[i+1]
				}
				return h
			}
			tests := []struct {
				name     string
				b        *browser
				method   string
				path     string
				hdr      map[string]string
				status   int
				wantRows []string
			}{
				{"no csrf", b, "POST", "/t/acme/admin/api/secret", plain, http.StatusForbidden,
					[]string{`acme admin  127.0.0.1 admin-refused admin/api/secret {"method":"POST","reason":"csrf"} 403` + suffix}},
				{"wrong csrf", b, "POST", "/t/acme/admin/api/oidc", with(adminapi.CSRFHeader, s.CSRF+"x"), http.StatusForbidden,
					[]string{`acme admin  127.0.0.1 admin-refused admin/api/oidc {"method":"POST","reason":"csrf"} 403` + suffix}},
				{"cross-site", b, "POST", "/t/acme/admin/api/secret", with(adminapi.CSRFHeader, s.CSRF, "Origin", "https://evil.example"), http.StatusForbidden,
					[]string{`acme admin  127.0.0.1 admin-refused admin/api/secret {"method":"POST","reason":"cross-site"} 403` + suffix}},
				{"no session, GET", newBrowser(t), "GET", "/t/acme/admin/api/settings", nil, http.StatusUnauthorized,
					[]string{`acme admin  127.0.0.1 admin-refused admin/api/settings {"method":"GET","reason":"no-session"} 401` + suffix}},
				{"no session, POST", newBrowser(t), "POST", "/t/acme/admin/api/secret", with(adminapi.CSRFHeader, s.CSRF), http.StatusUnauthorized,
					[]string{`acme admin  127.0.0.1 admin-refused admin/api/secret {"method":"POST","reason":"no-session"} 401` + suffix}},
				{"unknown tenant", newBrowser(t), "GET", "/t/nope/admin/api/settings", nil, http.StatusNotFound, nil},
				{"the right csrf", b, "GET", "/t/acme/admin/api/settings", nil, http.StatusOK, nil},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					r := tc.b.do(tc.method, e.app.URL+tc.path, tc.hdr, "{}")
					if r.status != tc.status {
						t.Fatalf("%s %s = %d, want %d: %s", tc.method, tc.path, r.status, tc.status, r.body)
					}
					if diff := cmp.Diff(tc.wantRows, aud.rows()); diff != "" {
						t.Errorf("audit (-want +got):\n%s", diff)
					}
				})
			}
		})
	}
}

// TestAuditRateLimited: a 429 of the limiter is a summarised
// rate-limited record, of kind admin under /admin/, else signin.
func TestAuditRateLimited(t *testing.T) {
	aud := &sumAuditor{}
	h := New(Config{Audit: aud})
	for _, p := range []string{"/t/acme/admin/login", "/t/acme/oidc/callback"} {
		r := httptest.NewRequest("GET", p+"?token=secret", nil)
		r.SetPathValue("tenant", "acme")
		r.RemoteAddr = "198.51.100.7:1234"
		h.auditRateLimited(r)
	}
	want := []string{
		`acme admin  198.51.100.7 rate-limited admin/login {"method":"GET"} 429 (summarised)`,
		`acme signin  198.51.100.7 rate-limited oidc/callback {"method":"GET"} 429 (summarised)`,
	}
	if diff := cmp.Diff(want, aud.rows()); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
}
