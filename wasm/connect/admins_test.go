package connect_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/adminapi"
	"github.com/idpkit/idpkit/wasm/connect"
	"github.com/idpkit/idpkit/wasm/connect/admintest"
)

// many reads several "id.prop" values of page; children are read as
// their text.
func (p *fakePage) many(keys ...string) map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]any{}
	for _, k := range keys {
		out[k] = p.props[k]
		if nodes, ok := p.props[k].([]connect.Node); ok {
			out[k] = connect.Text(nodes)
		}
	}
	return out
}

func TestDialogAdminGroup(t *testing.T) {
	admin := admintest.New("acme", "http://app.test", 2, 1)
	admin.SetGroup("Idpkit Admins", 2)
	d, page, _ := signedIn(t, admin)
	ctx := context.Background()
	d.Load(ctx)
	if diff := cmp.Diff(map[string]any{
		"admin-group.value":              "",
		"save-admin-group.disabled":      false,
		"sign-out.disabled":              false,
		"admin-signin-url.value":         "http://app.test/t/acme/admin/signin",
		"admin-signin-state.textContent": connect.AdminSignInNeedsSettings,
	}, page.many("admin-group.value", "save-admin-group.disabled", "sign-out.disabled", "admin-signin-url.value", "admin-signin-state.textContent")); diff != "" {
		t.Errorf("loaded (-want +got):\n%s", diff)
	}
	keys := []string{"admin-group-status.textContent", "admin-group-status.className", "admin-group-warning.hidden", "admin-group-warning.textContent"}
	tests := []struct {
		name  string
		typed string
		want  map[string]any
	}{
		{"a provisioned group", "  Idpkit Admins ", map[string]any{
			keys[0]: "✓ Saved: admin group “Idpkit Admins”, 2 members.", keys[1]: connect.ClassOK, keys[2]: true, keys[3]: "",
		}},
		{"a group Okta has not pushed", "Idpkit Admns", map[string]any{
			keys[0]: "✓ Saved: admin group “Idpkit Admns”.", keys[1]: connect.ClassOK, keys[2]: false,
			keys[3]: "Okta has not pushed a group named “Idpkit Admns” to this tenant: push it from the SCIM app's Push Groups tab, or check the spelling (it must match exactly), or nobody can sign in as an admin with Okta.",
		}},
		{"none", "", map[string]any{
			keys[0]: "✓ Saved: no admin group, so admins sign in with one-time admin links only.", keys[1]: connect.ClassOK, keys[2]: true, keys[3]: "",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page.typeInto(connect.IDAdminGroup, tt.typed)
			d.SaveAdminGroup(ctx)
			if diff := cmp.Diff(tt.want, page.many(keys...)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if diff := cmp.Diff([]string{"Idpkit Admins", "Idpkit Admns", ""}, admin.AdminGroups()); diff != "" {
		t.Errorf("groups the server got (-want +got):\n%s", diff)
	}

	t.Run("refused: the session is over", func(t *testing.T) {
		jar := d.API.Client.Jar
		d.API.Client.Jar = nil // no session cookie
		defer func() { d.API.Client.Jar = jar }()
		d.SaveAdminGroup(ctx)
		if diff := cmp.Diff(map[string]any{
			"signed-out.hidden": false, "admins-panel.hidden": true, "signed-out-title.textContent": connect.SessionEndedTitle,
		}, page.many("signed-out.hidden", "admins-panel.hidden", "signed-out-title.textContent")); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

func TestDialogAudit(t *testing.T) {
	admin := admintest.New("acme", "http://app.test", 0, 0)
	d, page, _ := signedIn(t, admin)
	d.Location = time.UTC
	ctx := context.Background()
	d.Load(ctx)

	d.PollAudit(ctx)
	if diff := cmp.Diff(map[string]any{"audit-empty.hidden": false, "audit-table-wrap.hidden": true},
		page.many("audit-empty.hidden", "audit-table-wrap.hidden")); diff != "" {
		t.Errorf("empty (-want +got):\n%s", diff)
	}

	at := time.Now().UTC().Truncate(time.Second)
	admin.AddAudit(adminapi.AuditEntry{At: at, Kind: "scim", Actor: "current:0123abcd", Action: "create", Target: "User/u1", Outcome: "201"})
	d.PollAudit(ctx)
	rows, _ := page.get(connect.IDAuditRows, connect.PropChildren).([]connect.Node)
	if len(rows) != 1 || rows[0].Children[1].Text != "✓ Created user" {
		t.Errorf("rows = %+v, want the created user", rows)
	}

	t.Run("the admin's own change shows up without waiting for the poll", func(t *testing.T) {
		page.typeInto(connect.IDAdminGroup, "Ops")
		d.SaveAdminGroup(ctx)
		waitFor(t, "the admin group record", func() bool {
			rows, _ := page.get(connect.IDAuditRows, connect.PropChildren).([]connect.Node)
			return len(rows) == 2 && rows[0].Children[1].Text == "✓ Admin group set"
		})
	})

	t.Run("failures show from the third on", func(t *testing.T) {
		admin.SetAuditStatus(http.StatusBadGateway)
		for i := 1; i <= connect.MaxPollFailures; i++ {
			d.PollAudit(ctx)
			hidden := page.get(connect.IDAuditStatus, connect.PropHidden)
			if want := i < connect.MaxPollFailures; hidden != want {
				t.Errorf("after %d failures: status hidden = %v, want %v", i, hidden, want)
			}
		}
		if diff := cmp.Diff("✗ The recent activity could not be read: The audit trail could not be read.", page.text(connect.IDAuditStatus)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		admin.SetAuditStatus(0)
		d.PollAudit(ctx)
		if diff := cmp.Diff(true, page.get(connect.IDAuditStatus, connect.PropHidden)); diff != "" {
			t.Errorf("after recovering (-want +got):\n%s", diff)
		}
	})
}

func TestDialogSignOut(t *testing.T) {
	admin := admintest.New("acme", "http://app.test", 0, 0)
	d, page, base := signedIn(t, admin)
	d.PollEvery, d.AuditEvery = 10*time.Millisecond, 10*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d.Load(ctx)
	watching := make(chan struct{}, 2)
	go func() { d.Watch(ctx, nil, nil); watching <- struct{}{} }()
	go func() { d.WatchAudit(ctx, nil, nil); watching <- struct{}{} }()
	waitFor(t, "polls", func() bool { return admin.ActivityReads() > 1 && admin.AuditReads() > 1 })

	t.Run("refused without the CSRF value", func(t *testing.T) {
		s, _ := d.API.Settings(ctx)
		if err := d.API.SignOut(ctx, "wrong"); err == nil {
			t.Fatal("sign-out with a wrong CSRF value worked")
		}
		if admin.SignOuts() != 0 || s.CSRF == "" {
			t.Fatalf("signed out %d times", admin.SignOuts())
		}
	})

	d.SignOut(ctx)
	if admin.SignOuts() != 1 {
		t.Fatalf("the server ended %d sessions, want 1", admin.SignOuts())
	}
	want := map[string]any{
		"signed-out.hidden": false, "scim-panel.hidden": true, "signin-panel.hidden": true, "admins-panel.hidden": true,
		"audit-panel.hidden": true, "sign-out.hidden": true, "sign-out-status.hidden": true, "signed-out.focus": true,
		"signed-out-text.children":     "You are signed out of this tenant's admin pages, on the server too. To come back, open a new one-time admin link (your idpkit operator makes one with idpkit tenant admin-link acme); once sign-in and an admin group are saved, admins can also sign in with Okta at http://app.test/t/acme/admin/signin. " + connect.OktaSessionNote,
		"signed-out-title.textContent": connect.SignedOutTitle,
	}
	keys := []string{}
	for k := range want {
		keys = append(keys, k)
	}
	if diff := cmp.Diff(want, page.many(keys...)); diff != "" {
		t.Errorf("signed out (-want +got):\n%s", diff)
	}
	for range 2 {
		select {
		case <-watching:
		case <-time.After(2 * time.Second):
			t.Fatal("polling goes on after the sign-out")
		}
	}
	reads, audits := admin.ActivityReads(), admin.AuditReads()
	d.Poll(ctx)
	d.PollAudit(ctx)
	d.Refresh(ctx)
	if admin.ActivityReads() != reads || admin.AuditReads() != audits {
		t.Errorf("reads after the sign-out: activity %d → %d, audit %d → %d", reads, admin.ActivityReads(), audits, admin.AuditReads())
	}

	t.Run("the old cookie no longer works", func(t *testing.T) {
		resp, err := d.API.Client.Get(base + "/t/acme/admin/api/settings")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("settings after sign-out: %d, want 401", resp.StatusCode)
		}
	})
}

func TestDialogSignOutFails(t *testing.T) {
	admin := admintest.New("acme", "http://app.test", 0, 0)
	d, page, _ := signedIn(t, admin)
	ctx := context.Background()
	d.Load(ctx)
	srv := d.API.Base
	d.API.Base = "http://127.0.0.1:1/t/acme/admin/api" // nothing listens
	d.SignOut(ctx)
	d.API.Base = srv
	if diff := cmp.Diff(map[string]any{
		"sign-out-status.textContent": "✗ Not signed out: The idpkit server could not be reached; check that it is running and try again.",
		"sign-out-status.className":   connect.ClassError,
		"signed-out.hidden":           nil,
	}, page.many("sign-out-status.textContent", "sign-out-status.className", "signed-out.hidden")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	reads := admin.AuditReads()
	d.PollAudit(ctx)
	if admin.AuditReads() != reads+1 {
		t.Errorf("the dialog stopped reading after a failed sign-out")
	}
}
