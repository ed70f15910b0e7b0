package login

import (
	"encoding/json"
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
		"acme admin admin 127.0.0.1 admin-link   ok",
		"acme admin admin 127.0.0.1 admin-link  {\"reason\":\"invalid-link\"} refused",
		"acme admin admin 127.0.0.1 secret-rotated  {\"grace\":\"10m0s\"} ok",
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
