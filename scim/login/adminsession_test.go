package login_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/adminapi"
	"github.com/idpkit/idpkit/scim/login"
)

// TestAdminSessionFollowsOkta checks that an admin session opened by
// signing in with Okta lasts only while Okta keeps its user an active
// member of the admin group: removing the user from the group,
// deactivating or deleting the user, or the tenant naming another group
// ends it at its next request, on the server. A session of a one-time
// admin link is not tied to a user and goes on.
func TestAdminSessionFollowsOkta(t *testing.T) {
	const mode = "query"
	e := newTestSignInEnv(t, mode)
	alice := e.userID(t, "alice@example.com")
	group := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Idpkit Admins","members":[{"value":"` + alice + `"}]}`
	if code := e.scim(t, http.MethodPost, "/Groups", group); code != http.StatusCreated {
		t.Fatalf("create group: %d", code)
	}
	groupID := e.groupID(t, "Idpkit Admins")
	linked := e.admin(t, mode)
	_, st := linked.settings()
	setGroup := func(t *testing.T, name string) {
		t.Helper()
		if code, body := linked.do(http.MethodPost, "/t/acme/admin/api/admin-group", "application/json", `{"group":"`+name+`"}`, adminapi.CSRFHeader, st.CSRF); code != http.StatusOK {
			t.Fatalf("admin-group: %d %s", code, body)
		}
	}
	setGroup(t, "Idpkit Admins")
	patch := func(ops string) string {
		return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + ops + `]}`
	}

	for _, tc := range []struct {
		name         string
		change, undo func(t *testing.T)
	}{
		{"removed from the group", func(t *testing.T) {
			e.mustSCIM(t, http.MethodPatch, "/Groups/"+groupID, patch(`{"op":"remove","path":"members[value eq \"`+alice+`\"]"}`))
		}, func(t *testing.T) {
			e.mustSCIM(t, http.MethodPatch, "/Groups/"+groupID, patch(`{"op":"add","path":"members","value":[{"value":"`+alice+`"}]}`))
		}},
		{"deactivated", func(t *testing.T) {
			e.mustSCIM(t, http.MethodPatch, "/Users/"+alice, patch(`{"op":"replace","value":{"active":false}}`))
		}, func(t *testing.T) {
			e.mustSCIM(t, http.MethodPatch, "/Users/"+alice, patch(`{"op":"replace","value":{"active":true}}`))
		}},
		{"another admin group", func(t *testing.T) { setGroup(t, "Ops") }, func(t *testing.T) { setGroup(t, "Idpkit Admins") }},
		{"no admin group", func(t *testing.T) { setGroup(t, "") }, func(t *testing.T) { setGroup(t, "Idpkit Admins") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBrowser(t, e, mode)
			if code, page := b.signInAsAdmin("alice@example.com"); code != http.StatusOK {
				t.Fatalf("admin sign-in: %d\n%s", code, page)
			}
			sid := b.adminCookieValue()
			if code, _ := b.settings(); code != http.StatusOK {
				t.Fatalf("settings before the change: %d", code)
			}
			tc.change(t)
			code, _ := b.settings()
			dialog, _ := b.do(http.MethodGet, "/t/acme/admin/connect-okta", "", "")
			linkCode, _ := linked.settings()
			if diff := cmp.Diff([]int{http.StatusUnauthorized, http.StatusUnauthorized, http.StatusOK}, []int{code, dialog, linkCode}); diff != "" {
				t.Errorf("settings, dialog page, link session after the change (-want +got):\n%s", diff)
			}
			// Ended on the server: undoing the change does not revive it.
			tc.undo(t)
			old := newBrowser(t, e, mode)
			u, _ := url.Parse(e.srv.URL + "/t/acme/admin/")
			old.c.Jar.SetCookies(u, []*http.Cookie{{Name: login.AdminCookie, Value: sid, Path: "/t/acme/admin"}})
			if code, _ := old.settings(); code != http.StatusUnauthorized {
				t.Errorf("the ended session answers %d after the undo, want 401", code)
			}
			if code, _ := newBrowser(t, e, mode).signInAsAdmin("alice@example.com"); code != http.StatusOK {
				t.Errorf("signing in again after the undo: %d", code)
			}
		})
	}

	// The trail names who did what: the link's admin as admin-link, alice
	// by her Okta id, and why each of her sessions ended.
	sub := e.ids["alice@example.com"]
	type row struct{ Actor, Action, Target, Reason string }
	var got []row
	for _, rec := range e.srv.Audit(t, "acme") {
		if rec.Kind != "admin" || rec.Action == "admin-link" || rec.Action == "admin-refused" {
			continue
		}
		var d struct{ Reason string }
		json.Unmarshal(rec.Detail, &d)
		got = append(got, row{rec.Actor, rec.Action, rec.Target, d.Reason})
	}
	linkSet := row{"admin-link", "admin-group-saved", "", ""}
	signedIn := row{sub, "admin-signin", "User/" + alice, ""}
	ended := func(reason string) row { return row{sub, "admin-session-ended", "User/" + alice, reason} }
	want := []row{linkSet,
		signedIn, ended("not-admin"), signedIn,
		signedIn, ended("deactivated"), signedIn,
		signedIn, linkSet, ended("not-admin"), linkSet, signedIn,
		signedIn, linkSet, ended("not-admin"), linkSet, signedIn,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("admin records (-want +got):\n%s", diff)
	}
}

// groupID returns the id of the tenant's group named displayName.
func (e *testSignInEnv) groupID(t *testing.T, displayName string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.created.SCIMBaseURL+"/Groups?filter="+url.QueryEscape(`displayName eq "`+displayName+`"`), nil)
	req.Header.Set("Authorization", "Bearer "+e.created.Token)
	resp, err := e.srv.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct{ Resources []struct{ ID string } }
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || len(list.Resources) != 1 {
		t.Fatalf("look up group %s: %v %+v", displayName, err, list)
	}
	return list.Resources[0].ID
}

// mustSCIM sends a SCIM request with the tenant's token and fails unless
// it succeeded.
func (e *testSignInEnv) mustSCIM(t *testing.T, method, path, body string) {
	t.Helper()
	if code := e.scim(t, method, path, body); code/100 != 2 {
		t.Fatalf("%s %s: %d", method, path, code)
	}
}

// TestAdminSessionWording: what an admin session says about itself and
// how it ends — Settings.Session and AdminSignInURL, the admin_removed
// error once Okta removes the admin, the dialog page's "Admin access
// ended" with a way back (signing in with Okta), the used-link page's
// link to Okta sign-in, and the refused admin's "Sign in as someone else"
// (prompt=login).
func TestAdminSessionWording(t *testing.T) {
	const mode = "query"
	e := newTestSignInEnv(t, mode)
	alice := e.userID(t, "alice@example.com")
	group := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Idpkit Admins","members":[{"value":"` + alice + `"}]}`
	if code := e.scim(t, http.MethodPost, "/Groups", group); code != http.StatusCreated {
		t.Fatalf("create group: %d", code)
	}
	linked := e.admin(t, mode)
	_, st := linked.settings()
	if code, body := linked.do(http.MethodPost, "/t/acme/admin/api/admin-group", "application/json", `{"group":"Idpkit Admins"}`, adminapi.CSRFHeader, st.CSRF); code != http.StatusOK {
		t.Fatalf("admin-group: %d %s", code, body)
	}
	_, st = linked.settings()
	if diff := cmp.Diff([]string{adminapi.SessionLink, e.srv.URL + "/t/acme/admin/signin"}, []string{st.Session.Via, st.AdminSignInURL}); diff != "" {
		t.Errorf("link session (-want +got):\n%s", diff)
	}

	b := newBrowser(t, e, mode)
	if code, page := b.signInAsAdmin("alice@example.com"); code != http.StatusOK {
		t.Fatalf("admin sign-in: %d\n%s", code, page)
	}
	_, st = b.settings()
	want := adminapi.AdminSession{Via: adminapi.SessionOkta, Sub: e.ids["alice@example.com"], UserName: "alice@example.com"}
	got := st.Session
	got.Expires = time.Time{}
	if diff := cmp.Diff(want, got); diff != "" || st.Session.Expires.IsZero() {
		t.Errorf("okta session (-want +got):\n%s (expires %v)", diff, st.Session.Expires)
	}

	// A typo in the group would lock alice (and every Okta admin) out: it
	// is refused, with the spelling Okta pushed; the group stays.
	for _, tc := range []struct{ group, says string }{
		{"idpkit admins", `Okta pushed "Idpkit Admins"`},
		{"Ops", `not a member of a group named "Ops"`},
		{"", "would end your own admin access"},
	} {
		code, body := b.do(http.MethodPost, "/t/acme/admin/api/admin-group", "application/json", `{"group":"`+tc.group+`"}`, adminapi.CSRFHeader, st.CSRF)
		var apiErr adminapi.Error
		json.Unmarshal([]byte(body), &apiErr)
		if code != http.StatusConflict || apiErr.Error != adminapi.ErrWouldLockOut || !strings.Contains(apiErr.Description, tc.says) {
			t.Errorf("admin-group %q: %d %s; want 409 %s saying %q", tc.group, code, body, adminapi.ErrWouldLockOut, tc.says)
		}
	}
	if _, st := linked.settings(); st.AdminGroup != "Idpkit Admins" {
		t.Errorf("the refused changes changed the group to %q", st.AdminGroup)
	}
	// The link's admin may (it names nobody), and hears of the spelling.
	code, body := linked.do(http.MethodPost, "/t/acme/admin/api/admin-group", "application/json", `{"group":"idpkit admins"}`, adminapi.CSRFHeader, linkCSRF(t, linked))
	var saved adminapi.AdminGroupSaved
	if json.Unmarshal([]byte(body), &saved); code != http.StatusOK || saved.GroupFound || saved.GroupSuggestion != "Idpkit Admins" {
		t.Errorf("link admin-group: %d %s; want saved, not found, suggesting Idpkit Admins", code, body)
	}

	// That ended alice's session: the API says why, the dialog page too,
	// with the way back.
	code, body = b.do(http.MethodGet, "/t/acme/admin/api/settings", "", "")
	var apiErr adminapi.Error
	json.Unmarshal([]byte(body), &apiErr)
	if code != http.StatusUnauthorized || apiErr.Error != adminapi.ErrAdminRemoved || !strings.Contains(apiErr.Description, "no longer lists you as a member of the admin group idpkit admins") {
		t.Errorf("settings after the change: %d %s", code, body)
	}
	code, page := b.do(http.MethodGet, "/t/acme/admin/connect-okta", "", "")
	if code != http.StatusUnauthorized || !strings.Contains(page, "Admin sign-in needed") || !strings.Contains(page, `href="/t/acme/admin/signin"`) {
		t.Errorf("dialog page after the end: %d\n%s", code, page)
	}
	// The used link's page offers Okta sign-in too.
	newBrowser(t, e, mode).do(http.MethodGet, strings.TrimPrefix(e.created.AdminURL, e.srv.URL), "", "")
	code, page = newBrowser(t, e, mode).do(http.MethodGet, strings.TrimPrefix(e.created.AdminURL, e.srv.URL), "", "")
	if code != http.StatusForbidden || !strings.Contains(page, "Sign in with Okta") {
		t.Errorf("used link: %d\n%s", code, page)
	}
	// Alice is no longer in "idpkit admins": refused, with a way to sign
	// in as someone else, which makes Okta show its form again.
	code, page = newBrowser(t, e, mode).signInAsAdmin("alice@example.com")
	if code != http.StatusForbidden || !strings.Contains(page, `href="/t/acme/admin/signin?prompt=login"`) {
		t.Errorf("refused admin: %d\n%s", code, page)
	}
}

// linkCSRF returns the CSRF value of b's admin session.
func linkCSRF(t *testing.T, b *adminBrowser) string {
	t.Helper()
	_, st := b.settings()
	return st.CSRF
}
