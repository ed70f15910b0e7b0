package connect

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/adminapi"
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
			AuditLine{false, "Wrong or missing SCIM secret — 12 times", "User", "", "No valid secret from 192.0.2.1"}},
		{"a wrong secret, summed up since", AuditEntry{Kind: "scim", Action: "auth-refused", Target: "User", Source: "192.0.2.1", Outcome: "401", Reason: "wrong-token", Count: 12,
			Detail: `{"count":12,"method":"GET","reason":"wrong-token","since":"2026-12-03T22:57:00Z"}`},
			AuditLine{false, "Wrong or missing SCIM secret — 12 times since 22:57", "GET User", "wrong secret", "No valid secret from 192.0.2.1"}},
		{"no secret, first of its kind", AuditEntry{Kind: "scim", Action: "auth-refused", Target: "Group", Outcome: "401", Reason: "no-token", Count: 1,
			Detail: `{"count":1,"method":"POST","reason":"no-token"}`},
			AuditLine{false, "Wrong or missing SCIM secret", "POST Group", "no secret", "No valid secret"}},
		{"not bearer", AuditEntry{Kind: "scim", Action: "auth-refused", Target: "User", Outcome: "401", Reason: "not-bearer", Detail: `{"method":"DELETE","reason":"not-bearer"}`},
			AuditLine{false, "Wrong or missing SCIM secret", "DELETE User", "not a Bearer token", "No valid secret"}},
		{"several tokens", AuditEntry{Kind: "scim", Action: "auth-refused", Outcome: "401", Reason: "several-tokens", Detail: `{"method":"GET","reason":"several-tokens"}`},
			AuditLine{false, "Wrong or missing SCIM secret", "GET", "more than one secret", "No valid secret"}},
		{"csrf", AuditEntry{Kind: "admin", Action: "admin-refused", Target: "admin/api/secret", Reason: "csrf", Outcome: "403", Detail: `{"method":"POST","reason":"csrf"}`},
			AuditLine{false, "Admin request refused", "POST admin/api/secret", "missing check value", "Someone"}},
		{"cross-site", AuditEntry{Kind: "admin", Action: "signout-refused", Target: "admin/logout", Reason: "cross-site", Outcome: "403"},
			AuditLine{false, "Sign-out refused", "admin/logout", "from another site", "Someone"}},
		{"removed from the admin group", AuditEntry{Kind: "admin", Actor: "00u9bob", Action: "admin-session-ended", Target: "User/u2", Reason: "not-admin", Outcome: "refused"},
			AuditLine{false, "Admin session ended: removed from the admin group", "User/u2", "", "Admin 00u9bob (Okta)"}},
		{"deactivated in Okta", AuditEntry{Kind: "admin", Actor: "00u9bob", Action: "admin-session-ended", Reason: "deactivated", Outcome: "refused"},
			AuditLine{false, "Admin session ended: deactivated in Okta", "", "", "Admin 00u9bob (Okta)"}},
		{"not provisioned any more", AuditEntry{Kind: "admin", Actor: "00u9bob", Action: "admin-session-ended", Reason: "not-provisioned", Outcome: "refused"},
			AuditLine{false, "Admin session ended: not provisioned", "", "", "Admin 00u9bob (Okta)"}},
		{"a one-time link admin's change", AuditEntry{Kind: "admin", Actor: "admin-link", Source: "192.0.2.9", Action: "admin-group-saved", Outcome: "ok"},
			AuditLine{true, "Admin group set", "", "", "Admin with a one-time link from 192.0.2.9"}},
		{"an Okta admin's change", AuditEntry{Kind: "admin", Actor: "00u9bob", Source: "192.0.2.9", Action: "admin-group-saved", Outcome: "ok"},
			AuditLine{true, "Admin group set", "", "", "Admin 00u9bob (Okta) from 192.0.2.9"}},
		{"my own change", AuditEntry{Kind: "admin", Actor: "00u1alice", Source: "192.0.2.9", Action: "secret-rotated", Grace: "0s", Outcome: "ok"},
			AuditLine{true, "New SCIM secret generated", "", "the previous secret stopped at once", "You (alice@example.com) from 192.0.2.9"}},
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
			me := adminapi.AdminSession{Via: adminapi.SessionOkta, Sub: "00u1alice", UserName: "alice@example.com"}
			if diff := cmp.Diff(tt.want, DescribeAudit(tt.e, AuditView{Me: me, Loc: time.UTC})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestGraceWords(t *testing.T) {
	at := time.Date(2026, 12, 3, 22, 57, 34, 0, time.UTC)
	e := AuditEntry{At: at, Kind: "admin", Actor: "cli", Action: "secret-rotated", Grace: "10m0s", Outcome: "ok"}
	tests := []struct {
		name string
		now  time.Time
		want string
	}{
		{"while it runs", at.Add(time.Minute), "the previous secret keeps working until 23:07"},
		{"once it is over", at.Add(11 * time.Minute), "the previous secret kept working for 10 minutes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, DescribeAudit(e, AuditView{Loc: time.UTC, Now: tt.now}).Details); diff != "" {
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
			if diff := cmp.Diff(tt.want, ShowAudit(tt.a, AuditView{Loc: tt.loc, Now: now})); diff != "" {
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
	ready.AdminSignInURL = "https://admin.example.com/t/acme/admin/signin"
	const start = "You are signed out of this tenant's admin pages, on the server too. "
	const okta = " Okta's own session stays signed in on this computer: on a shared computer, sign out of Okta too."
	const link = "open a new one-time admin link (your idpkit operator makes one with idpkit tenant admin-link acme)"
	tests := []struct {
		name string
		s    Settings
		want string
	}{
		{"admin sign-in ready", ready, start + "To come back, sign in with Okta at https://admin.example.com/t/acme/admin/signin, or " + link + "." + okta},
		{"not set up", base, start + "To come back, " + link + "; once sign-in and an admin group are saved, admins can also sign in with Okta at https://app.example.com/t/acme/admin/signin." + okta},
		{"no URL", Settings{Tenant: "acme"}, start + "To come back, " + link + "." + okta},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, SignedOutText(tt.s)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestComeBackLink(t *testing.T) {
	ready := Settings{Tenant: "acme", Issuer: "https://dev-1.okta.com", ClientID: "0oa1", AdminGroup: "Idpkit Admins",
		AdminSignInURL: "https://admin.example.com/t/acme/admin/signin"}
	notReady := ready
	notReady.AdminGroup = ""
	links := func(nodes []Node) []Node {
		var out []Node
		for _, n := range nodes {
			if n.Tag == "a" || n.Tag == "code" {
				out = append(out, n)
			}
		}
		return out
	}
	tests := []struct {
		name string
		s    Settings
		want []Node
	}{
		{"ready: a link and the command", ready, []Node{
			{Tag: "a", Href: "https://admin.example.com/t/acme/admin/signin", Text: "https://admin.example.com/t/acme/admin/signin"},
			{Tag: "code", Text: "idpkit tenant admin-link acme"},
		}},
		{"no admin group: the command only", notReady, []Node{{Tag: "code", Text: "idpkit tenant admin-link acme"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, links(ComeBack(tt.s))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSafeHref(t *testing.T) {
	for href, want := range map[string]bool{
		"https://app.example.com/t/acme/admin/signin": true, "http://127.0.0.1:8080/x": true,
		"javascript:alert(1)": false, "//evil.example": false, "": false, "data:text/html,x": false,
	} {
		if got := SafeHref(href); got != want {
			t.Errorf("SafeHref(%q) = %v, want %v", href, got, want)
		}
	}
}

func TestEndedSentence(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"removed, as the server says it", &APIError{Status: 401, Code: adminapi.ErrAdminRemoved,
			Description: "Okta no longer lists you as an active member of the group Idpkit Admins"},
			"Okta no longer lists you as an active member of the group Idpkit Admins."},
		{"removed, no description", &APIError{Status: 401, Code: adminapi.ErrAdminRemoved}, "Okta no longer lists you as an active member of the admin group."},
		{"expired", &APIError{Status: 401, Code: adminapi.ErrLoginRequired}, "Your admin session has ended or expired."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, EndedSentence(tt.err)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSessionLine(t *testing.T) {
	now := time.Date(2026, 12, 3, 20, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		s    adminapi.AdminSession
		want string
	}{
		{"Okta", adminapi.AdminSession{Via: adminapi.SessionOkta, Sub: "00u1", UserName: "alice@example.com", Expires: now.Add(3*time.Hour + 45*time.Minute)},
			"Signed in as alice@example.com with Okta, until 23:45"},
		{"Okta without a userName", adminapi.AdminSession{Via: adminapi.SessionOkta, Sub: "00u1", Expires: now.Add(time.Hour)}, "Signed in as 00u1 with Okta, until 21:00"},
		{"link", adminapi.AdminSession{Via: adminapi.SessionLink, Expires: now.Add(3*time.Hour + 45*time.Minute)}, "Signed in with a one-time admin link, until 23:45"},
		{"link, ends tomorrow", adminapi.AdminSession{Via: adminapi.SessionLink, Expires: now.Add(5 * time.Hour)}, "Signed in with a one-time admin link, until 2026-12-04 01:00"},
		{"unknown", adminapi.AdminSession{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, SessionLine(tt.s, time.UTC, now)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
