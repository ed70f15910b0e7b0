package connect

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDescribeAudit(t *testing.T) {
	scim := func(action, target, outcome string, attrs ...string) AuditEntry {
		return AuditEntry{Kind: "scim", Actor: "current:0123abcd", Source: "192.0.2.1", Action: action, Target: target, Outcome: outcome, Attributes: attrs}
	}
	signin := func(action, sub, target, reason, outcome string, test bool) AuditEntry {
		return AuditEntry{Kind: "signin", Actor: sub, Source: "192.0.2.7", Action: action, Target: target, Reason: reason, Outcome: outcome, Test: test}
	}
	admin := func(action, outcome, reason string) AuditEntry {
		return AuditEntry{Kind: "admin", Actor: "admin", Source: "192.0.2.9", Action: action, Reason: reason, Outcome: outcome}
	}
	const okta, user, adm = "Okta (current secret 0123abcd) from 192.0.2.1", "Okta user 00u1 from 192.0.2.7", "Admin from 192.0.2.9"
	tests := []struct {
		name string
		e    AuditEntry
		want AuditLine
	}{
		{"created user", scim("create", "User/u1", "201", "name", "userName"), AuditLine{true, "Created user", "User/u1", "changed name, userName", okta}},
		{"refused create", scim("create", "User", "409", "userName"), AuditLine{false, "Create user refused (HTTP 409)", "User", "changed userName", okta}},
		{"replaced group", scim("replace", "Group/g1", "200", "displayName", "members"), AuditLine{true, "Replaced group", "Group/g1", "changed displayName, members", okta}},
		{"updated user", scim("patch", "User/u1", "200", "active"), AuditLine{true, "Updated user", "User/u1", "changed active", okta}},
		{"deleted group", scim("delete", "Group/g1", "204"), AuditLine{true, "Deleted group", "Group/g1", "", okta}},
		{"refused delete", scim("delete", "User/u9", "404"), AuditLine{false, "Delete user refused (HTTP 404)", "User/u9", "", okta}},
		{"bulk", scim("bulk", "", "200"), AuditLine{true, "Bulk request", "", "", okta}},
		{"refused bulk", scim("bulk", "", "413"), AuditLine{false, "Bulk request refused (HTTP 413)", "", "", okta}},
		{"previous secret", AuditEntry{Kind: "scim", Actor: "previous:89abcdef", Action: "patch", Target: "User/u1", Outcome: "200"},
			AuditLine{true, "Updated user", "User/u1", "", "Okta (previous secret 89abcdef)"}},
		{"no secret", AuditEntry{Kind: "scim", Action: "create", Target: "User", Outcome: "401"}, AuditLine{false, "Create user refused (HTTP 401)", "User", "", "No valid secret"}},
		{"signed in", signin("signed-in", "00u1", "User/u1", "", "ok", false), AuditLine{true, "Signed in", "User/u1", "", user}},
		{"test sign-in", signin("signed-in", "00u1", "User/u1", "", "ok", true), AuditLine{true, "Test sign-in worked", "User/u1", "", user}},
		{"not provisioned", signin("not-provisioned", "00u1", "", "not-provisioned", "refused", false),
			AuditLine{false, "Sign-in refused: not provisioned by Okta", "", "", user}},
		{"deactivated test", signin("deactivated", "00u1", "User/u1", "deactivated", "refused", true),
			AuditLine{false, "Test sign-in refused: deactivated in Okta", "User/u1", "", user}},
		{"token refused", signin("token-refused", "", "", "id-token", "refused", false),
			AuditLine{false, "Sign-in refused: Okta's answer failed a check", "", "reason: id-token", "Someone from 192.0.2.7"}},
		{"state refused", signin("state-refused", "", "", "unknown-state", "refused", false),
			AuditLine{false, "Sign-in refused: unknown, used or expired sign-in", "", "reason: unknown-state", "Someone from 192.0.2.7"}},
		{"provider refused", signin("provider-refused", "", "", "access_denied", "refused", false),
			AuditLine{false, "Okta refused the sign-in", "", "reason: access_denied", "Someone from 192.0.2.7"}},
		{"admin link", admin("admin-link", "ok", ""), AuditLine{true, "Admin signed in with a one-time link", "", "", adm}},
		{"admin link refused", admin("admin-link", "refused", "invalid-link"), AuditLine{false, "One-time admin link refused", "", "invalid, expired or already used", adm}},
		{"secret rotated with grace", AuditEntry{Kind: "admin", Actor: "admin", Action: "secret-rotated", Grace: "10m0s", Outcome: "ok"},
			AuditLine{true, "New SCIM secret generated", "", "the previous secret kept working for 10 minutes", "Admin"}},
		{"secret rotated at once", AuditEntry{Kind: "admin", Actor: "admin", Action: "secret-rotated", Grace: "0s", Outcome: "ok"},
			AuditLine{true, "New SCIM secret generated", "", "the previous secret stopped at once", "Admin"}},
		{"sign-in saved", admin("sign-in-saved", "ok", ""), AuditLine{true, "Sign-in settings saved", "", "", adm}},
		{"sign-in refused", admin("sign-in-saved", "refused", "check-failed"), AuditLine{false, "Sign-in settings not saved: the check failed", "", "", adm}},
		{"admin sign-in", admin("admin-signin", "ok", ""), AuditLine{true, "Admin signed in with Okta", "", "", adm}},
		{"admin sign-in refused", admin("admin-signin", "refused", "not-admin"), AuditLine{false, "Admin sign-in with Okta refused", "", "not a member of the admin group", adm}},
		{"admin sign-out", admin("admin-signout", "ok", ""), AuditLine{true, "Admin signed out", "", "", adm}},
		{"admin group", admin("admin-group-saved", "ok", ""), AuditLine{true, "Admin group set", "", "", adm}},
		{"from the command line", AuditEntry{Kind: "admin", Actor: "cli", Source: "ops-1", Action: "admin-link-issued", Outcome: "ok"},
			AuditLine{true, "One-time admin link issued", "", "", "Operator (idpkit command) on ops-1"}},
		{"key rotated", AuditEntry{Kind: "admin", Actor: "cli", Action: "key-rotated", Key: "k2", Outcome: "ok"},
			AuditLine{true, "Secret key rotated: stored secrets re-encrypted", "", "key k2", "Operator (idpkit command)"}},
		{"a wrong secret, summed up", AuditEntry{Kind: "scim", Action: "auth-refused", Target: "User", Source: "192.0.2.1", Outcome: "401", Count: 12, Detail: `{"count":12}`},
			AuditLine{false, "Wrong or missing SCIM secret", "User", "12 times", "No valid secret from 192.0.2.1"}},
		{"rate limited", AuditEntry{Kind: "signin", Action: "rate-limited", Target: "oidc/callback", Outcome: "429", Count: 1},
			AuditLine{false, "Refused: too many failed attempts from this address", "oidc/callback", "", "Someone"}},
		{"an admin request without a session", AuditEntry{Kind: "admin", Action: "admin-refused", Target: "admin/api/secret", Reason: "no-session", Outcome: "401"},
			AuditLine{false, "Admin request refused", "admin/api/secret", "no admin session", "Someone"}},
		{"an unknown action", AuditEntry{Kind: "scim", Action: "throttled", Source: "192.0.2.1", Outcome: "503", Detail: `{"limit":"tenant"}`},
			AuditLine{false, "throttled", "", `{"limit":"tenant"}`, "No valid secret from 192.0.2.1"}},
		{"an unknown refusal with a reason", AuditEntry{Kind: "admin", Actor: "admin", Action: "csrf-refused", Reason: "no-header", Outcome: "refused"},
			AuditLine{false, "csrf-refused", "", "reason: no-header", "Admin"}},
		{"an unknown kind", AuditEntry{Kind: "other", Actor: "x", Action: "something-new", Outcome: "ok"}, AuditLine{true, "something-new", "", "", "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, DescribeAudit(tt.e)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestShowAudit(t *testing.T) {
	now := time.Date(2026, 12, 3, 19, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		a    Audit
		loc  *time.Location
		want []Set
	}{
		{"empty", Audit{}, time.UTC, []Set{
			{IDAuditRows, PropChildren, []Node{}}, {IDAuditWrap, PropHidden, true}, {IDAuditEmpty, PropHidden, false}, {IDAuditStatus, PropHidden, true},
		}},
		{"records, today and before", Audit{Records: []AuditEntry{
			{At: now.Add(-time.Minute), Kind: "scim", Actor: "current:0123abcd", Action: "create", Target: "User/u1", Outcome: "201", Attributes: []string{"userName"}},
			{At: now.Add(-21 * time.Hour), Kind: "admin", Actor: "admin", Action: "admin-signout", Outcome: "ok"},
			{At: now.Add(-30 * time.Hour), Kind: "signin", Action: "state-refused", Reason: "no-state", Outcome: "refused"},
		}}, time.FixedZone("CET", 3600), []Set{
			{IDAuditRows, PropChildren, []Node{
				row(cell("time", "19:59:00"), cell("ok", "✓ Created user"),
					Node{Tag: "td", Children: []Node{{Tag: "code", Text: "User/u1"}, {Text: " "}, {Text: "changed userName"}}}, cell("", "Okta (current secret 0123abcd)")),
				row(cell("time", "2026-12-02 23:00:00"), cell("ok", "✓ Admin signed out"), Node{Tag: "td", Children: []Node{{Text: "–"}}}, cell("", "Admin")),
				row(cell("time", "2026-12-02 14:00:00"), cell("error", "✗ Sign-in refused: unknown, used or expired sign-in"),
					Node{Tag: "td", Children: []Node{{Text: "reason: no-state"}}}, cell("", "Someone")),
			}},
			{IDAuditWrap, PropHidden, false}, {IDAuditEmpty, PropHidden, true}, {IDAuditStatus, PropHidden, true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, ShowAudit(tt.a, tt.loc, now)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestAdminSignInURL(t *testing.T) {
	tests := []struct {
		name string
		s    Settings
		want string
	}{
		{"from the redirect URI", Settings{RedirectURI: "https://app.example.com/t/acme/oidc/callback"}, "https://app.example.com/t/acme/admin/signin"},
		{"from the SCIM URL", Settings{SCIMBaseURL: "http://127.0.0.1:8080/t/acme/scim/v2"}, "http://127.0.0.1:8080/t/acme/admin/signin"},
		{"neither", Settings{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, AdminSignInURL(tt.s)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestAdminGroupSentences(t *testing.T) {
	tests := []struct {
		name          string
		out           AdminGroupSaved
		text, warning string
	}{
		{"found", AdminGroupSaved{Settings: Settings{AdminGroup: "Idpkit Admins"}, GroupFound: true, GroupMembers: 2},
			"Saved: admin group “Idpkit Admins”, 2 members.", ""},
		{"one member", AdminGroupSaved{Settings: Settings{AdminGroup: "Ops"}, GroupFound: true, GroupMembers: 1}, "Saved: admin group “Ops”, 1 member.", ""},
		{"no members", AdminGroupSaved{Settings: Settings{AdminGroup: "Ops"}, GroupFound: true},
			"Saved: admin group “Ops”, 0 members.", "The group “Ops” has no members yet: assign the admins to it in Okta."},
		{"not provisioned", AdminGroupSaved{Settings: Settings{AdminGroup: "Admns"}}, "Saved: admin group “Admns”.",
			"Okta has not pushed a group named “Admns” to this tenant: push it from the SCIM app's Push Groups tab, or check the spelling (it must match exactly), or nobody can sign in as an admin with Okta."},
		{"off", AdminGroupSaved{}, "Saved: no admin group, so admins sign in with one-time admin links only.", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff([]string{tt.text, tt.warning}, []string{AdminGroupSentence(tt.out), AdminGroupWarning(tt.out)}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSignedOutText(t *testing.T) {
	base := Settings{Tenant: "acme", RedirectURI: "https://app.example.com/t/acme/oidc/callback"}
	ready := base
	ready.Issuer, ready.ClientID, ready.AdminGroup = "https://dev-1.okta.com", "0oa1", "Idpkit Admins"
	const start = "You are signed out of this tenant's admin pages, on the server too. To come back, open a new one-time admin link (your idpkit operator makes one with idpkit tenant admin-link acme)"
	tests := []struct {
		name string
		s    Settings
		want string
	}{
		{"admin sign-in ready", ready, start + ", or sign in with Okta at https://app.example.com/t/acme/admin/signin."},
		{"not set up", base, start + "; once sign-in and an admin group are saved, admins can also sign in with Okta at https://app.example.com/t/acme/admin/signin."},
		{"no URL", Settings{Tenant: "acme"}, start + "."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, SignedOutText(tt.s)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
