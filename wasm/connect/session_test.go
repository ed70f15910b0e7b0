package connect_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/adminapi"
	"github.com/idpkit/idpkit/wasm/connect"
	"github.com/idpkit/idpkit/wasm/connect/admintest"
)

// saveSignIn saves sign-in settings through the dialog, with a discovery
// that always finds issuer.
func saveSignIn(t *testing.T, d *connect.Dialog, page *fakePage, admin *admintest.Admin) {
	t.Helper()
	admin.Discover = func(context.Context, connect.SignIn) (string, error) { return "https://dev-1.okta.com", nil }
	page.typeInto(connect.IDOktaDomain, "https://dev-1.okta.com")
	page.typeInto(connect.IDClientID, "0oa1")
	page.typeInto(connect.IDClientSecret, "s3cret")
	d.Save(context.Background())
	if got := page.text(connect.IDSaveStatus); !strings.HasPrefix(got.(string), "✓") {
		t.Fatalf("sign-in not saved: %v", got)
	}
}

func TestDialogSessionEnds(t *testing.T) {
	const removed = "Okta no longer lists you as an active member of the group Idpkit Admins"
	tests := []struct {
		name      string
		oktaReady bool // sign-in saved and an admin group set before
		code      string
		desc      string
		action    func(ctx context.Context, d *connect.Dialog) // nil: the polls notice
		want      []string                                     // in the box's text
		link      string                                       // the href of its link; "" for none
	}{
		{"Okta removes the admin, a poll notices", true, adminapi.ErrAdminRemoved, removed, nil,
			[]string{removed + ".", "To come back, sign in with Okta at http://app.test/t/acme/admin/signin", "idpkit tenant admin-link acme"},
			"http://app.test/t/acme/admin/signin"},
		{"the session expires, a poll notices", false, adminapi.ErrLoginRequired, "the admin session has expired", nil,
			[]string{"The admin session has expired.", "open a new one-time admin link (your idpkit operator makes one with idpkit tenant admin-link acme)"}, ""},
		{"the session ended in another tab, Generate notices", false, adminapi.ErrLoginRequired, "", func(ctx context.Context, d *connect.Dialog) { d.Generate(ctx) },
			[]string{"Your admin session has ended or expired.", "idpkit tenant admin-link acme"}, ""},
		{"Okta removes the admin, Set admin group notices", true, adminapi.ErrAdminRemoved, removed, func(ctx context.Context, d *connect.Dialog) { d.SaveAdminGroup(ctx) },
			[]string{removed + ".", "http://app.test/t/acme/admin/signin"}, "http://app.test/t/acme/admin/signin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			admin := admintest.New("acme", "http://app.test", 0, 0)
			admin.SetGroup("Idpkit Admins", 1)
			d, page, _ := signedIn(t, admin)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			d.Load(ctx)
			if tt.oktaReady {
				saveSignIn(t, d, page, admin)
				page.typeInto(connect.IDAdminGroup, "Idpkit Admins")
				d.SaveAdminGroup(ctx)
			}
			pollEvery := 5 * time.Millisecond
			if tt.action != nil {
				pollEvery = time.Hour // only the first polls run: the action notices
			}
			d.PollEvery, d.AuditEvery = pollEvery, pollEvery
			stopped := make(chan struct{}, 2)
			go func() { d.Watch(ctx, nil, nil); stopped <- struct{}{} }()
			go func() { d.WatchAudit(ctx, nil, nil); stopped <- struct{}{} }()
			waitFor(t, "the first polls", func() bool { return admin.ActivityReads() > 0 && admin.AuditReads() > 0 })

			admin.EndSession(tt.code, tt.desc)
			if tt.action != nil {
				tt.action(ctx, d)
			}
			waitFor(t, "the ended box", func() bool { return page.get(connect.IDSignedOut, connect.PropHidden) == false })
			if tt.action == nil {
				for range 2 {
					select {
					case <-stopped:
					case <-time.After(2 * time.Second):
						t.Fatal("polling goes on after the session ended")
					}
				}
			}

			got := page.many("signed-out-title.textContent", "scim-panel.hidden", "signin-panel.hidden", "admins-panel.hidden", "audit-panel.hidden", "sign-out.hidden", "signed-out.focus")
			if diff := cmp.Diff(map[string]any{
				"signed-out-title.textContent": connect.SessionEndedTitle, "scim-panel.hidden": true, "signin-panel.hidden": true,
				"admins-panel.hidden": true, "audit-panel.hidden": true, "sign-out.hidden": true, "signed-out.focus": true,
			}, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			nodes, _ := page.get(connect.IDSignedOutText, connect.PropChildren).([]connect.Node)
			text := connect.Text(nodes)
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("the box says %q, without %q", text, w)
				}
			}
			link := ""
			for _, n := range nodes {
				if n.Tag == "a" {
					link = n.Href
				}
			}
			if diff := cmp.Diff(tt.link, link); diff != "" {
				t.Errorf("link (-want +got):\n%s", diff)
			}

			// Nothing more is sent: not by the polls, a wake, an action,
			// nor a test sign-in.
			calls, refused := admin.APICalls()
			if refused > 2 {
				t.Errorf("%d requests were refused, want at most 2 (the polls and the action on their way)", refused)
			}
			d.Poll(ctx)
			d.PollAudit(ctx)
			d.Refresh(ctx)
			d.Generate(ctx)
			d.Save(ctx)
			d.SaveAdminGroup(ctx)
			d.SignOut(ctx)
			if d.CanTestSignIn() {
				t.Error("a test sign-in may start after the session ended")
			}
			time.Sleep(30 * time.Millisecond)
			if after, _ := admin.APICalls(); after != calls {
				t.Errorf("%d requests after the session ended, want 0", after-calls)
			}
		})
	}
}

func TestDialogWouldLockOut(t *testing.T) {
	admin := admintest.New("acme", "http://app.test", 0, 0)
	admin.SetGroup("Idpkit Admins", 2)
	admin.SetGroup("Ops", 1)
	admin.SetSession(adminapi.AdminSession{Via: adminapi.SessionOkta, Sub: "00u1alice", UserName: "alice@example.com"}, "Idpkit Admins")
	d, page, _ := signedIn(t, admin)
	ctx := context.Background()
	d.Load(ctx)
	saveSignIn(t, d, page, admin)
	page.typeInto(connect.IDAdminGroup, "Idpkit Admins")
	d.SaveAdminGroup(ctx)
	keys := []string{"admin-group-status.textContent", "admin-group-status.className", "admin-group.value", "admin-signin-state.textContent", "admins-panel.hidden", "signed-out.hidden"}
	before := page.many(keys[3:]...)

	page.typeInto(connect.IDAdminGroup, "Ops")
	d.SaveAdminGroup(ctx)
	want := map[string]any{
		keys[0]: "✗ Not saved: you (alice@example.com) are not an active member of \"Ops\", so saving it would sign you out; add yourself to that group in Okta first, or check the spelling.",
		keys[1]: connect.ClassError, keys[2]: "Ops",
	}
	for k, v := range before {
		want[k] = v // nothing else changes
	}
	if diff := cmp.Diff(want, page.many(keys...)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Idpkit Admins"}, admin.AdminGroups()); diff != "" {
		t.Errorf("groups saved (-want +got):\n%s", diff)
	}
	reads := admin.ActivityReads()
	d.Poll(ctx)
	if admin.ActivityReads() != reads+1 {
		t.Error("the dialog stopped after a refusal that does not end the session")
	}
}

func TestDialogAdminGroupLive(t *testing.T) {
	admin := admintest.New("acme", "http://app.test", 0, 0)
	d, page, _ := signedIn(t, admin)
	ctx := context.Background()
	d.Load(ctx)
	saveSignIn(t, d, page, admin)
	groups := func(total int, gs ...adminapi.Provisioned) {
		admin.SetActivity(adminapi.Activity{Groups: adminapi.ResourceList{Total: total, Recent: gs}})
	}
	const missing = "Okta has not pushed a group named “Idpkit Admins” to this tenant: push it from the SCIM app's Push Groups tab, or check the spelling (it must match exactly), or nobody can sign in as an admin with Okta."
	keys := []string{"admin-group-warning.textContent", "admin-group-warning.hidden", "use-suggestion.hidden", "admin-signin-state.textContent"}
	steps := []struct {
		name   string
		change func()
		want   []any
	}{
		{"saved before Okta pushed it", func() {
			page.typeInto(connect.IDAdminGroup, "Idpkit Admins")
			d.SaveAdminGroup(ctx)
		}, []any{missing, false, true, connect.AdminSignInGroupMissing}},
		{"the activity still lists no such group", func() { groups(0); d.Poll(ctx) }, []any{missing, false, true, connect.AdminSignInGroupMissing}},
		{"Okta pushes it, without members", func() {
			groups(1, adminapi.Provisioned{Name: "Idpkit Admins", Active: true})
			d.Poll(ctx)
		}, []any{"The group “Idpkit Admins” has no members yet: assign the admins to it in Okta.", false, true, connect.AdminSignInGroupEmpty}},
		{"members arrive", func() {
			groups(1, adminapi.Provisioned{Name: "Idpkit Admins", Active: true, Members: 2})
			d.Poll(ctx)
		}, []any{"", true, true, connect.AdminSignInReady}},
		{"a wrong case: did you mean, from the list", func() {
			page.typeInto(connect.IDAdminGroup, "idpkit  admins")
			d.SaveAdminGroup(ctx)
		}, []any{"Okta has not pushed a group named “idpkit  admins” to this tenant; did you mean “Idpkit Admins”? The name must match exactly, or nobody can sign in as an admin with Okta.", false, false, connect.AdminSignInGroupMissing}},
		{"more groups than the list shows: the server's answer counts", func() {
			admin.SetGroup("Ops Admins", 1)
			groups(40, adminapi.Provisioned{Name: "Idpkit Admins", Active: true, Members: 2})
			page.typeInto(connect.IDAdminGroup, "ops admins")
			d.SaveAdminGroup(ctx)
			d.Poll(ctx)
		}, []any{"Okta has not pushed a group named “ops admins” to this tenant; did you mean “Ops Admins”? The name must match exactly, or nobody can sign in as an admin with Okta.", false, false, connect.AdminSignInGroupMissing}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.change()
			got := []any{}
			m := page.many(keys...)
			for _, k := range keys {
				got = append(got, m[k])
			}
			if diff := cmp.Diff(st.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("the suggestion fills the field in", func(t *testing.T) {
		if diff := cmp.Diff(connect.UseSuggestionText("Ops Admins"), page.text(connect.IDUseSuggestion)); diff != "" {
			t.Errorf("button (-want +got):\n%s", diff)
		}
		d.UseSuggestion()
		got := page.many("admin-group.value", "save-admin-group.focus")
		if diff := cmp.Diff(map[string]any{"admin-group.value": "Ops Admins", "save-admin-group.focus": true}, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		d.SaveAdminGroup(ctx)
		if diff := cmp.Diff([]any{true, true, connect.AdminSignInReady}, []any{page.get(connect.IDAdminGroupWarning, connect.PropHidden),
			page.get(connect.IDUseSuggestion, connect.PropHidden), page.text(connect.IDAdminSignInState)}); diff != "" {
			t.Errorf("after saving it (-want +got):\n%s", diff)
		}
	})
}

func TestLookupGroup(t *testing.T) {
	list := func(total int, gs ...adminapi.Provisioned) *connect.ResourceList {
		return &connect.ResourceList{Total: total, Recent: gs}
	}
	admins := adminapi.Provisioned{Name: "Idpkit Admins", Members: 2}
	tests := []struct {
		name   string
		group  string
		groups *connect.ResourceList
		saved  *connect.AdminGroupSaved
		want   connect.GroupState
	}{
		{"no group", "", list(1, admins), nil, connect.GroupState{}},
		{"nothing known yet", "Idpkit Admins", nil, nil, connect.GroupState{}},
		{"in the list", "Idpkit Admins", list(1, admins), nil, connect.GroupState{Known: true, Found: true, Members: 2}},
		{"two groups of that name", "Idpkit Admins", list(2, admins, admins), nil, connect.GroupState{Known: true, Found: true, Members: 4}},
		{"not in the whole list", "Ops", list(1, admins), nil, connect.GroupState{Known: true}},
		{"case and spacing", " idpkit   ADMINS", list(1, admins), nil, connect.GroupState{Known: true, Suggestion: "Idpkit Admins"}},
		{"not in a partial list, nothing saved", "Ops", list(30, admins), nil, connect.GroupState{}},
		{"not in a partial list, the saved answer", "Ops", list(30, admins),
			&connect.AdminGroupSaved{Settings: connect.Settings{AdminGroup: "Ops"}, GroupFound: true, GroupMembers: 3},
			connect.GroupState{Known: true, Found: true, Members: 3}},
		{"the answer of another group does not count", "Ops", nil,
			&connect.AdminGroupSaved{Settings: connect.Settings{AdminGroup: "Dev"}, GroupFound: true, GroupMembers: 3}, connect.GroupState{}},
		{"the server's suggestion", "ops", list(30, admins),
			&connect.AdminGroupSaved{Settings: connect.Settings{AdminGroup: "ops"}, GroupSuggestion: "Ops"},
			connect.GroupState{Known: true, Suggestion: "Ops"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, connect.LookupGroup(tt.group, tt.groups, tt.saved)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDialogHeader(t *testing.T) {
	admin := admintest.New("acme", "http://app.test", 0, 0)
	now := time.Date(2026, 12, 3, 20, 0, 0, 0, time.UTC)
	admin.SetSession(adminapi.AdminSession{Via: adminapi.SessionOkta, Sub: "00u1alice", UserName: "alice@example.com", Expires: now.Add(2*time.Hour + 45*time.Minute)})
	d, page, _ := signedIn(t, admin)
	d.Location = time.FixedZone("UTC+1", 3600)
	d.Now = func() time.Time { return now }
	ctx := context.Background()
	d.Load(ctx)
	d.Poll(ctx)
	keys := []string{"session-info.textContent", "session-info.hidden", "lead-first.hidden", "request-time-head.textContent", "audit-time-head.textContent"}
	want := map[string]any{keys[0]: "Signed in as alice@example.com with Okta, until 23:45", keys[1]: false, keys[2]: false, keys[3]: "Time (UTC+1)", keys[4]: "Time (UTC+1)"}
	if diff := cmp.Diff(want, page.many(keys...)); diff != "" {
		t.Errorf("before Okta connects (-want +got):\n%s", diff)
	}
	test := adminapi.Request{At: now, Method: "GET", Path: "/Users?startIndex=1&count=2", Status: http.StatusOK, Action: "Test API Credentials", UserAgent: "Okta SCIM Client 1.0.0"}
	admin.SetConnected(&test)
	d.Poll(ctx)
	if diff := cmp.Diff(true, page.get(connect.IDLeadFirst, connect.PropHidden)); diff != "" {
		t.Errorf("\"Create the SCIM app first.\" once Okta has connected (-want +got):\n%s", diff)
	}
}
