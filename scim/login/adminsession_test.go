package login_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

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
