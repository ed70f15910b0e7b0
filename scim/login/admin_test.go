package login

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/idpkit/idpkit/scim/adminapi"
	"github.com/idpkit/idpkit/scim/secret"
)

// adminBrowser signs a browser in with the tenant's admin link and
// returns it with the csrf token from the settings.
func adminBrowser(t *testing.T, e *env) (*browser, Settings) {
	t.Helper()
	b := newBrowser(t)
	r := b.get(e.created.AdminURL)
	if r.status != http.StatusOK {
		t.Fatalf("admin link = %d %s", r.status, r.body)
	}
	r = b.get(e.app.URL + "/t/acme/admin/api/settings")
	var s Settings
	if err := json.Unmarshal([]byte(r.body), &s); err != nil || r.status != http.StatusOK {
		t.Fatalf("settings = %d %q: %v", r.status, r.body, err)
	}
	return b, s
}

func TestAdminLink(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t)
	r := b.get(e.created.AdminURL)
	if r.status != http.StatusOK {
		t.Fatalf("admin link = %d %s", r.status, r.body)
	}
	c := setCookieFor(r, AdminCookie)
	if c == nil {
		t.Fatal("no admin cookie")
	}
	// A page that moves on by itself, not a redirect, so that a link opened
	// from another site still gets its SameSite=Strict cookie sent.
	if diff := cmp.Diff([]any{true, "", "/t/acme/admin", true, http.SameSiteStrictMode, 3600},
		[]any{strings.Contains(r.body, `<meta http-equiv="refresh" content="0;url=/t/acme/admin/connect-okta">`), r.header.Get("Location"), c.Path, c.HttpOnly, c.SameSite, c.MaxAge}); diff != "" {
		t.Errorf("page and cookie (-want +got):\n%s", diff)
	}
	page := b.get(e.app.URL + "/t/acme/admin/connect-okta")
	if page.status != http.StatusOK || !strings.Contains(page.body, "Connect Okta") || page.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("connect-okta = %d %q %q", page.status, page.header.Get("Content-Type"), page.body)
	}

	t.Run("works once", func(t *testing.T) {
		r := newBrowser(t).get(e.created.AdminURL)
		if r.status != http.StatusForbidden || setCookieFor(r, AdminCookie) != nil || !strings.Contains(r.body, "already used") ||
			!strings.Contains(r.body, "Ask your idpkit operator for a new one-time admin link (idpkit tenant admin-link acme)") {
			t.Errorf("second use = %d %s", r.status, r.body)
		}
	})
	t.Run("other tenant's link", func(t *testing.T) {
		other, err := e.tenants.Create(context.Background(), "other")
		if err != nil {
			t.Fatal(err)
		}
		u := strings.Replace(other.AdminURL, "/t/other/", "/t/acme/", 1)
		if r := newBrowser(t).get(u); r.status != http.StatusForbidden {
			t.Errorf("other tenant's link = %d", r.status)
		}
	})
	t.Run("no session", func(t *testing.T) {
		nb := newBrowser(t)
		if r := nb.get(e.app.URL + "/t/acme/admin/connect-okta"); r.status != http.StatusUnauthorized || !strings.Contains(r.body, "admin link") {
			t.Errorf("connect-okta without session = %d %s", r.status, r.body)
		}
		r := nb.get(e.app.URL + "/t/acme/admin/api/settings")
		if r.status != http.StatusUnauthorized || !strings.Contains(r.body, `"error":"login_required"`) {
			t.Errorf("settings without session = %d %s", r.status, r.body)
		}
	})
	t.Run("session of another tenant", func(t *testing.T) {
		link, err := e.tenants.AdminLink(context.Background(), "other")
		if err != nil {
			t.Fatal(err)
		}
		nb := newBrowser(t)
		if r := nb.get(link); r.status != http.StatusOK {
			t.Fatalf("other link = %d", r.status)
		}
		// Replay the other tenant's cookie against acme.
		cookie := nb.cookie(e.app.URL+"/t/other/admin/", AdminCookie)
		r := nb.do(http.MethodGet, e.app.URL+"/t/acme/admin/api/settings", map[string]string{"Cookie": AdminCookie + "=" + cookie.Value}, "")
		if r.status != http.StatusUnauthorized {
			t.Errorf("settings with other tenant's session = %d", r.status)
		}
	})
	t.Run("session expires", func(t *testing.T) {
		e.now = e.now.Add(time.Hour)
		if r := b.get(e.app.URL + "/t/acme/admin/api/settings"); r.status != http.StatusUnauthorized {
			t.Errorf("settings after 1h = %d", r.status)
		}
	})
}

func TestAdminSettings(t *testing.T) {
	e := newEnv(t)
	e.addUser("u1", "alice@example.com", "00ualice", true)
	e.addUser("u2", "bob@example.com", "00ubob", false)
	_, got := adminBrowser(t, e)
	want := Settings{
		Tenant: "acme", SCIMBaseURL: e.app.URL + "/t/acme/scim/v2", RedirectURI: e.app.URL + "/t/acme/oidc/callback",
		OktaDomain: e.op.srv.URL, Issuer: e.op.srv.URL, ClientID: "0oaclient", ClientSecretSet: true,
		Users: 2, Groups: 0, CSRF: got.CSRF,
		AdminSignInURL: e.app.URL + "/t/acme/admin/signin",
		Session:        adminapi.AdminSession{Via: adminapi.SessionLink, Expires: e.now.Add(AdminSessionTTL).UTC()},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
	if len(got.CSRF) < 40 {
		t.Errorf("csrf %q too short", got.CSRF)
	}
}

func TestAdminPosts(t *testing.T) {
	good := `{"oktaDomain":"` + "%s" + `","clientId":"0oanew","clientSecret":"new-secret","authServer":""}`
	tests := []struct {
		name    string
		path    string
		csrf    func(s Settings) string
		body    func(e *env) string
		status  int
		bodyHas []string
	}{
		{"rotate without csrf", "/secret", func(Settings) string { return "" }, nil, http.StatusForbidden, []string{`"error":"access_denied"`, CSRFHeader}},
		{"rotate wrong csrf", "/secret", func(s Settings) string { return s.CSRF + "x" }, nil, http.StatusForbidden, []string{"access_denied"}},
		{"rotate", "/secret", func(s Settings) string { return s.CSRF }, nil, http.StatusOK, []string{`"token":"`}},
		{"oidc without csrf", "/oidc", func(Settings) string { return "" }, func(e *env) string { return "{}" }, http.StatusForbidden, nil},
		{"oidc bad JSON", "/oidc", func(s Settings) string { return s.CSRF }, func(e *env) string { return "{" }, http.StatusBadRequest, []string{`"error":"invalid_request"`}},
		{"oidc http domain", "/oidc", func(s Settings) string { return s.CSRF },
			func(e *env) string { return strings.Replace(good, "%s", "http://example.okta.com", 1) },
			http.StatusBadRequest, []string{`"error":"invalid_request"`, "http is allowed only for loopback hosts; Okta domains use https"}},
		{"oidc discovery 404", "/oidc", func(s Settings) string { return s.CSRF },
			func(e *env) string {
				return `{"oktaDomain":"` + e.op.srv.URL + `","clientId":"a","clientSecret":"b","authServer":"nope"}`
			},
			http.StatusBadRequest, []string{"invalid_request", "HTTP 404"}},
		{"oidc body too large", "/oidc", func(s Settings) string { return s.CSRF },
			func(e *env) string { return `{"oktaDomain":"` + strings.Repeat("a", 70<<10) + `"}` },
			http.StatusRequestEntityTooLarge, []string{"invalid_request"}},
		{"oidc saved", "/oidc", func(s Settings) string { return s.CSRF },
			func(e *env) string {
				// The new client, as Okta knows it: the check sends its credentials.
				e.op.set(func(op *testOP) { op.clientID, op.clientSecret = "0oanew", "new-secret" })
				return strings.Replace(good, "%s", e.op.srv.URL+"/", 1)
			},
			http.StatusOK, []string{`"clientId":"0oanew"`, `"clientSecretSet":true`, `"checks":[`}},
		{"oidc client refused", "/oidc", func(s Settings) string { return s.CSRF },
			func(e *env) string { return strings.Replace(good, "%s", e.op.srv.URL+"/", 1) },
			http.StatusBadRequest, []string{"invalid_request", "(invalid_client)", `"checks":[`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			b, s := adminBrowser(t, e)
			hdr := map[string]string{"Content-Type": "application/json"}
			if c := tt.csrf(s); c != "" {
				hdr[CSRFHeader] = c
			}
			body := ""
			if tt.body != nil {
				body = tt.body(e)
			}
			r := b.do(http.MethodPost, e.app.URL+"/t/acme/admin/api"+tt.path, hdr, body)
			if r.status != tt.status {
				t.Fatalf("POST %s = %d, want %d: %s", tt.path, r.status, tt.status, r.body)
			}
			for _, h := range tt.bodyHas {
				if !strings.Contains(r.body, h) {
					t.Errorf("body %s does not contain %q", r.body, h)
				}
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			tn, _ := e.store.GetTenant(context.Background(), "acme")
			rotated := !secret.Equal(tn.TokenHash, e.created.Token)
			if want := tt.name == "rotate"; rotated != want {
				t.Errorf("token rotated = %v, want %v", rotated, want)
			}
			if tt.name == "rotate" {
				var got struct{ Token string }
				json.Unmarshal([]byte(r.body), &got)
				if !secret.Equal(tn.TokenHash, got.Token) {
					t.Error("returned token is not the stored one")
				}
			}
			saved := tn.ClientID == "0oanew"
			if want := tt.name == "oidc saved"; saved != want {
				t.Errorf("settings saved = %v, want %v (%+v)", saved, want, tn)
			}
		})
	}
}

func TestAssets(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t)
	tests := []struct {
		file   string
		status int
		ctype  string
	}{
		{"dialog.wasm", http.StatusOK, "application/wasm"},
		{"wasm_exec.js", http.StatusOK, "text/javascript; charset=utf-8"},
		{"dialog.css", http.StatusNotFound, ""},
		{"connect-okta.html", http.StatusNotFound, ""},
		{"..%2Fsecret.js", http.StatusNotFound, ""},
		{"x.exe", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r := b.get(e.app.URL + "/t/acme/admin/assets/" + tt.file)
			if r.status != tt.status {
				t.Fatalf("status = %d, want %d", r.status, tt.status)
			}
			if tt.ctype != "" && r.header.Get("Content-Type") != tt.ctype {
				t.Errorf("Content-Type = %q, want %q", r.header.Get("Content-Type"), tt.ctype)
			}
		})
	}
}

func TestUnroutedRequests(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		method, path string
		status       int
		contentType  string
		allow        string
	}{
		{"GET", "/t/acme/admin/api/nope", 404, "application/json", ""},
		{"GET", "/t/acme/admin/api/secret", 405, "application/json", "POST"},
		{"DELETE", "/t/acme/admin/api/settings", 405, "application/json", "GET"},
		{"POST", "/t/acme/login", 405, "text/html", "GET"},
		{"GET", "/t/acme/nope", 404, "text/html", ""},
		{"GET", "/t/acme/admin/nope", 404, "text/html", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, e.app.URL+tt.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.contentType) || resp.Header.Get("Allow") != tt.allow {
				t.Errorf("= %d %q Allow %q, want %d %q Allow %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Allow"), tt.status, tt.contentType, tt.allow)
			}
		})
	}
}
