package login_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/adminapi"
	"github.com/idpkit/idpkit/scim/login"
)

// adminCookieValue returns the browser's admin cookie value, "" for none.
func (b *adminBrowser) adminCookieValue() string {
	u, _ := url.Parse(b.e.srv.URL + "/t/acme/admin/")
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == login.AdminCookie {
			return c.Value
		}
	}
	return ""
}

// do sends a request with the browser; header pairs are set on it.
func (b *adminBrowser) do(method, path, ctype, body string, header ...string) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequest(method, b.e.srv.URL+path, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	b2, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b2)
}

// settings reads the admin API's settings with the browser's cookie.
func (b *adminBrowser) settings() (int, adminapi.Settings) {
	b.t.Helper()
	code, body := b.do(http.MethodGet, "/t/acme/admin/api/settings", "", "")
	var s adminapi.Settings
	if code == http.StatusOK {
		if err := json.Unmarshal([]byte(body), &s); err != nil {
			b.t.Fatalf("settings %q: %v", body, err)
		}
	}
	return code, s
}

// signInAsAdmin opens /admin/signin in b and signs in at the mock's form
// as user; it returns the status and page it ended with.
func (b *adminBrowser) signInAsAdmin(user string) (int, string) {
	b.t.Helper()
	resp, body := b.get(b.e.srv.URL + "/t/acme/admin/signin")
	if resp.Request.URL.Host != strings.TrimPrefix(b.e.okta.URL, "http://") {
		return resp.StatusCode, body
	}
	r, page := resp, []byte(body)
	if strings.Contains(body, `name="password"`) {
		r, page = submitForm(b.t, b.c, resp.Request.URL, page, url.Values{"username": {user}, "password": {testPassword}})
	}
	if b.mode == login.ResponseModeFormPost && r.StatusCode == http.StatusOK && r.Request.URL.Path != "/t/acme/oidc/callback" {
		// The mock's auto-submitting form, posted as a browser would.
		r, page = submitForm(b.t, b.c, r.Request.URL, page, nil)
	}
	if r.Request.URL.Path != "/t/acme/oidc/callback" {
		b.t.Fatalf("the sign-in ended at %s, not the callback", r.Request.URL)
	}
	return r.StatusCode, string(page)
}

// newBrowser is a browser without any session.
func newBrowser(t *testing.T, e *testSignInEnv, mode string) *adminBrowser {
	jar, _ := cookiejar.New(nil)
	return &adminBrowser{t: t, c: &http.Client{Jar: jar}, e: e, mode: mode}
}

// TestAdminSignIn: admins sign in with Okta when the tenant names an
// admin group: an active member gets a new admin session that the
// dialog's API accepts; anyone else is refused and gets no admin cookie;
// sign-out ends the session on the server.
func TestAdminSignIn(t *testing.T) {
	for _, mode := range []string{"query", "form_post"} {
		t.Run(mode, func(t *testing.T) {
			testAdminSignIn(t, mode)
		})
	}
}

func testAdminSignIn(t *testing.T, mode string) {
	e := newTestSignInEnv(t, mode)
	// bob is provisioned too, but is not in the admin group.
	bobUser := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bob@example.com","externalId":"` + e.ids["bob@example.com"] + `","active":true}`
	if code := e.scim(t, http.MethodPost, "/Users", bobUser); code != http.StatusCreated {
		t.Fatalf("provision bob: %d", code)
	}
	group := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Idpkit Admins","members":[{"value":"` +
		e.userID(t, "alice@example.com") + `"},{"value":"` + e.userID(t, "carol@example.com") + `"}]}`
	if code := e.scim(t, http.MethodPost, "/Groups", group); code != http.StatusCreated {
		t.Fatalf("create group: %d", code)
	}

	t.Run("no admin group", func(t *testing.T) {
		code, page := newBrowser(t, e, mode).signInAsAdmin("alice@example.com")
		if code != http.StatusOK || !strings.Contains(page, "idpkit tenant admin-link acme") {
			t.Errorf("got %d, want a page that says to use an admin link:\n%s", code, page)
		}
	})

	// The admin of the one-time link names the group through the API.
	linked := e.admin(t, mode)
	code, st := linked.settings()
	if code != http.StatusOK {
		t.Fatalf("settings: %d", code)
	}
	if code, body := linked.do(http.MethodPost, "/t/acme/admin/api/admin-group", "application/json", `{"group":"Idpkit Admins"}`); code != http.StatusForbidden {
		t.Errorf("admin-group without csrf: %d %s, want 403", code, body)
	}
	code, body := linked.do(http.MethodPost, "/t/acme/admin/api/admin-group", "application/json", `{"group":"Idpkit Admins"}`, adminapi.CSRFHeader, st.CSRF)
	var saved adminapi.Settings
	if code != http.StatusOK || json.Unmarshal([]byte(body), &saved) != nil || saved.AdminGroup != "Idpkit Admins" {
		t.Fatalf("admin-group: %d %s", code, body)
	}

	for _, tt := range []struct {
		name, login string
		status      int
		want        string
	}{
		{"not a member", "bob@example.com", http.StatusForbidden, "You are signed in as bob@example.com, but only members of the group Idpkit Admins may manage this tenant."},
		{"deactivated member", "carol@example.com", http.StatusForbidden, "No access"},
		{"not provisioned", "dave@example.com", http.StatusForbidden, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := newBrowser(t, e, mode)
			code, page := b.signInAsAdmin(tt.login)
			if code != tt.status || !strings.Contains(page, tt.want) {
				t.Errorf("got %d, want %d with %q:\n%s", code, tt.status, tt.want, page)
			}
			if c := b.adminCookieValue(); c != "" {
				t.Errorf("a refused admin sign-in set the admin cookie")
			}
			if b.hasSession() {
				t.Error("an admin sign-in set the user session cookie")
			}
		})
	}

	t.Run("member", func(t *testing.T) {
		b := newBrowser(t, e, mode)
		// A session planted in the browser (here a real one) is not the
		// one after the sign-in, and ends.
		planted := linked.adminCookieValue()
		u, _ := url.Parse(e.srv.URL + "/t/acme/admin/")
		b.c.Jar.SetCookies(u, []*http.Cookie{{Name: login.AdminCookie, Value: planted, Path: "/t/acme/admin"}})
		code, page := b.signInAsAdmin("alice@example.com")
		if code != http.StatusOK || !strings.Contains(page, "You are signed in as alice@example.com, an admin of this tenant") || !strings.Contains(page, "/t/acme/admin/connect-okta") {
			t.Fatalf("got %d:\n%s", code, page)
		}
		sid := b.adminCookieValue()
		if sid == "" || sid == planted {
			t.Fatalf("admin cookie after sign-in: %q (planted %q)", sid, planted)
		}
		if b.hasSession() {
			t.Error("an admin sign-in set the user session cookie")
		}
		if code, _ := linked.settings(); code != http.StatusUnauthorized {
			t.Errorf("the planted session still works: %d", code)
		}
		code, st := b.settings()
		if diff := cmp.Diff([]any{http.StatusOK, "Idpkit Admins"}, []any{code, st.AdminGroup}); diff != "" {
			t.Fatalf("settings with the new session (-want +got):\n%s", diff)
		}
		// The dialog's API works: a POST with the CSRF header.
		if code, body := b.do(http.MethodPost, "/t/acme/admin/api/admin-group", "application/json", `{"group":"Idpkit Admins"}`, adminapi.CSRFHeader, st.CSRF); code != http.StatusOK {
			t.Errorf("admin-group: %d %s", code, body)
		}

		// Sign-out: refused without the CSRF value or from another site.
		for _, bad := range []struct {
			name   string
			ctype  string
			body   string
			header []string
		}{
			{"no csrf", "", "", nil},
			{"wrong csrf form", "application/x-www-form-urlencoded", "csrf=nope", nil},
			{"cross-site", "", "", []string{adminapi.CSRFHeader, st.CSRF, "Sec-Fetch-Site", "cross-site"}},
			{"other origin", "application/x-www-form-urlencoded", "csrf=" + url.QueryEscape(st.CSRF), []string{"Origin", "https://evil.example"}},
		} {
			t.Run("logout "+bad.name, func(t *testing.T) {
				if code, body := b.do(http.MethodPost, "/t/acme/admin/logout", bad.ctype, bad.body, bad.header...); code != http.StatusForbidden {
					t.Errorf("logout: %d, want 403:\n%s", code, body)
				}
				if code, _ := b.settings(); code != http.StatusOK {
					t.Errorf("after a refused logout the session answers %d", code)
				}
			})
		}
		code, page = b.do(http.MethodPost, "/t/acme/admin/logout", "application/x-www-form-urlencoded", "csrf="+url.QueryEscape(st.CSRF))
		if code != http.StatusOK || !strings.Contains(page, "Signed out") || !strings.Contains(page, "/t/acme/admin/signin") {
			t.Errorf("logout: %d:\n%s", code, page)
		}
		if b.adminCookieValue() != "" {
			t.Error("logout left the admin cookie")
		}
		// The old cookie value is dead on the server.
		old := newBrowser(t, e, mode)
		old.c.Jar.SetCookies(u, []*http.Cookie{{Name: login.AdminCookie, Value: sid, Path: "/t/acme/admin"}})
		if code, _ := old.settings(); code != http.StatusUnauthorized {
			t.Errorf("the signed-out session answers %d, want 401", code)
		}
	})

	t.Run("logout with the header", func(t *testing.T) {
		b := e.admin(t, mode)
		_, st := b.settings()
		sid := b.adminCookieValue()
		if code, body := b.do(http.MethodPost, "/t/acme/admin/logout", "", "", adminapi.CSRFHeader, st.CSRF); code != http.StatusOK {
			t.Fatalf("logout: %d %s", code, body)
		}
		old := newBrowser(t, e, mode)
		u, _ := url.Parse(e.srv.URL + "/t/acme/admin/")
		old.c.Jar.SetCookies(u, []*http.Cookie{{Name: login.AdminCookie, Value: sid, Path: "/t/acme/admin"}})
		if code, _ := old.settings(); code != http.StatusUnauthorized {
			t.Errorf("the signed-out session answers %d, want 401", code)
		}
	})
}
