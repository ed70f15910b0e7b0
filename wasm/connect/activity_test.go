package connect

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var (
	t0 = time.Date(2026, 12, 3, 19, 52, 3, 0, time.UTC)
	t1 = t0.Add(10 * time.Second)
)

func TestConnection(t *testing.T) {
	connected := &Request{At: t0, Method: "GET", Path: "/Users?startIndex=1&count=1", Status: 200,
		Action: "Test API Credentials", UserAgent: "Okta SCIM Client 1.0.0"}
	refused := Request{At: t1, Method: "GET", Path: "/Users?startIndex=1&count=1", Status: 401, Action: "Wrong secret", UserAgent: "Okta SCIM Client 1.0.0"}
	curl := Request{At: t1, Method: "GET", Path: "/ServiceProviderConfig", Status: 401, Action: "Wrong secret", UserAgent: "curl/8.5.0"}
	anon := Request{At: t1, Method: "GET", Path: "/Users", Status: 401, Action: "Wrong secret"}
	ok := Request{At: t1, Method: "POST", Path: "/Users", Status: 201, Action: "Create user", UserAgent: "Okta SCIM Client 1.0.0"}
	later := func(r Request) Request { r.At = r.At.Add(5 * time.Second); return r }
	wrong := "✗ Okta sent a wrong secret at 19:52:13: paste the newest secret into Okta, then click Test API Credentials again."
	hello := "✓ Okta has connected: Test API Credentials at 19:52:03 (Okta SCIM Client 1.0.0)."
	tests := []struct {
		name         string
		a            Activity
		refusedAfter time.Time
		loc          *time.Location
		want, class  string
	}{
		{"nothing yet", Activity{}, time.Time{}, time.UTC, ConnectionWaiting, ClassBusy},
		{"connected", Activity{Connected: connected, Requests: []Request{*connected}}, time.Time{}, time.UTC,
			"✓ Okta has connected: Test API Credentials at 19:52:03 (Okta SCIM Client 1.0.0).", ClassOK},
		{"local time", Activity{Connected: connected}, time.Time{}, time.FixedZone("CET", 3600),
			"✓ Okta has connected: Test API Credentials at 20:52:03 (Okta SCIM Client 1.0.0).", ClassOK},
		{"connected without agent or action", Activity{Connected: &Request{At: t0}}, time.Time{}, time.UTC,
			"✓ Okta has connected at 19:52:03.", ClassOK},
		{"connected, later requests fine", Activity{Connected: connected, Requests: []Request{ok, *connected}}, time.Time{}, time.UTC,
			"✓ Okta has connected: Test API Credentials at 19:52:03 (Okta SCIM Client 1.0.0).", ClassOK},
		{"wrong secret from Okta before any connection", Activity{Requests: []Request{refused}}, time.Time{}, time.UTC, wrong, ClassError},
		{"wrong secret from curl before any connection", Activity{Requests: []Request{curl}}, time.Time{}, time.UTC,
			"Waiting for Okta: a request with a wrong secret came from “curl/8.5.0” at 19:52:13, not from Okta. In Okta, enter these two values and click Test API Credentials.", ClassBusy},
		{"wrong secret without agent before any connection", Activity{Requests: []Request{anon}}, time.Time{}, time.UTC,
			"Waiting for Okta: a request with a wrong secret came from a client that gave no User-Agent at 19:52:13, not from Okta. In Okta, enter these two values and click Test API Credentials.", ClassBusy},
		{"Okta's old secret after the connection", Activity{Connected: connected, Requests: []Request{refused, *connected}}, time.Time{}, time.UTC, wrong, ClassError},
		{"Okta's old secret, then others' wrong secrets", Activity{Connected: connected, Requests: []Request{later(curl), later(anon), refused, *connected}}, time.Time{}, time.UTC, wrong, ClassError},
		{"curl's wrong secret after the connection", Activity{Connected: connected, Requests: []Request{curl, *connected}}, time.Time{}, time.UTC, hello, ClassOK},
		{"no agent's wrong secret after the connection", Activity{Connected: connected, Requests: []Request{anon, ok, *connected}}, time.Time{}, time.UTC, hello, ClassOK},
		{"Okta got through after its refusal", Activity{Connected: connected, Requests: []Request{later(ok), refused, *connected}}, time.Time{}, time.UTC, hello, ClassOK},
		{"wrong secret before the connection", Activity{Connected: &Request{At: t1.Add(time.Second), Action: "Test API Credentials"}, Requests: []Request{refused}},
			time.Time{}, time.UTC, "✓ Okta has connected: Test API Credentials at 19:52:14.", ClassOK},
		{"older refusal than the last rotation", Activity{Requests: []Request{refused}}, t1, time.UTC, ConnectionWaiting, ClassBusy},
		{"a refused request that is not the newest", Activity{Requests: []Request{ok, refused}}, time.Time{}, time.UTC, ConnectionWaiting, ClassBusy},
		{"another error is not a wrong secret", Activity{Requests: []Request{{At: t1, Status: 403}}}, time.Time{}, time.UTC, ConnectionWaiting, ClassBusy},
		// After a rotation with grace (here, or idpkit tenant rotate-token
		// --grace), the line says until when the previous secret works,
		// also after a reload.
		{"waiting during a rotation's grace period", Activity{PreviousSecretUntil: &t1}, time.Time{}, time.FixedZone("CET", 3600),
			"Waiting for Okta to use the new SCIM secret: paste it into Okta (API token) and click Test API Credentials. The previous secret keeps working until 20:52:13; if you do not have the new one, generate another here.", ClassBusy},
		{"connected again during the grace period", Activity{Connected: connected, PreviousSecretUntil: &t1}, time.Time{}, time.UTC, hello, ClassOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, class := Connection(tt.a, tt.loc, tt.refusedAfter)
			if diff := cmp.Diff([]string{tt.want, tt.class}, []string{text, class}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestShowActivity(t *testing.T) {
	conn := func(text, class, busy string) []Set {
		return []Set{{IDConnection, PropText, text}, {IDConnection, PropClass, class}, {IDConnection, PropBusy, busy}, {IDConnection, PropHidden, false}}
	}
	tests := []struct {
		name string
		a    Activity
		want []Set
	}{
		{"empty", Activity{Requests: []Request{}}, concat(
			conn(ConnectionWaiting, ClassBusy, "true"),
			[]Set{
				{IDUserCount, PropText, "0"}, {IDGroupCount, PropText, "0"},
				{IDUserRows, PropChildren, []Node{}}, {IDUserWrap, PropHidden, true}, {IDUsersEmpty, PropHidden, false},
				{IDUsersMore, PropText, ""}, {IDUsersMore, PropHidden, true},
				{IDGroupRows, PropChildren, []Node{}}, {IDGroupWrap, PropHidden, true}, {IDGroupsEmpty, PropHidden, false},
				{IDGroupsMore, PropText, ""}, {IDGroupsMore, PropHidden, true},
				{IDRequestRows, PropChildren, []Node{}}, {IDRequestWrap, PropHidden, true}, {IDRequestsEmpty, PropHidden, false},
			})},
		{"provisioning", Activity{
			Connected: &Request{At: t0, Action: "Test API Credentials", UserAgent: "Okta SCIM Client 1.0.0"},
			Requests: []Request{
				{At: t1, Method: "POST", Path: "/Users", Status: 409, Action: "Create user", Detail: "uniqueness: userName alice@example.com exists"},
				{At: t0, Method: "GET", Path: "/Users?startIndex=1&count=2", Status: 200, Action: "Test API Credentials"},
			},
			Users: ResourceList{Total: 12, Recent: []Provisioned{
				{Name: "alice@example.com", DisplayName: "Alice Example", Active: true},
				{Name: "bob@example.com", Active: false},
			}},
			Groups: ResourceList{Total: 2, Recent: []Provisioned{{Name: "Engineering", Members: 1, Active: true}, {Name: "Sales", Members: 3, Active: true}}},
		}, concat(
			conn("✓ Okta has connected: Test API Credentials at 19:52:03 (Okta SCIM Client 1.0.0).", ClassOK, "false"),
			[]Set{
				{IDUserCount, PropText, "12"}, {IDGroupCount, PropText, "2"},
				{IDUserRows, PropChildren, []Node{
					row(cell("", "alice@example.com"), cell("", "Alice Example"), cell("ok", "active")),
					row(cell("", "bob@example.com"), cell("", "–"), cell("muted", "deactivated")),
				}},
				{IDUserWrap, PropHidden, false}, {IDUsersEmpty, PropHidden, true},
				{IDUsersMore, PropText, "Showing the 2 most recent of 12 users."}, {IDUsersMore, PropHidden, false},
				{IDGroupRows, PropChildren, []Node{
					row(cell("", "Engineering"), cell("", "1 member")),
					row(cell("", "Sales"), cell("", "3 members")),
				}},
				{IDGroupWrap, PropHidden, false}, {IDGroupsEmpty, PropHidden, true},
				{IDGroupsMore, PropText, ""}, {IDGroupsMore, PropHidden, true},
				{IDRequestRows, PropChildren, []Node{
					row(cell("time", "19:52:13"), cell("", "Create user"),
						Node{Tag: "td", Children: []Node{{Tag: "code", Text: "POST /Users"}}},
						cell("error", "✗ 409: uniqueness: userName alice@example.com exists")),
					row(cell("time", "19:52:03"), cell("", "Test API Credentials"),
						Node{Tag: "td", Children: []Node{{Tag: "code", Text: "GET /Users?startIndex=1&count=2"}}},
						cell("ok", "✓ 200")),
				}},
				{IDRequestWrap, PropHidden, false}, {IDRequestsEmpty, PropHidden, true},
			})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, ShowActivity(tt.a, time.UTC, time.Time{}, false)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestLostContact(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"network", errors.New("fetch failed"), "✗ Lost contact with the idpkit server; retrying…"},
		{"server error", &APIError{Status: 502}, "✗ Lost contact with the idpkit server; retrying…"},
		{"refused", &APIError{Status: 403, Description: "the request is missing its CSRF header; reload the page"}, "✗ The request is missing its CSRF header; reload the page."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := []Set{{IDConnection, PropText, tt.want}, {IDConnection, PropClass, ClassError},
				{IDConnection, PropBusy, "false"}, {IDConnection, PropHidden, false}}
			if diff := cmp.Diff(want, lostContact(tt.err)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckSets(t *testing.T) {
	tests := []struct {
		name   string
		checks []Check
		want   []Set
	}{
		{"none", nil, []Set{{IDChecks, PropHidden, true}, {IDChecks, PropChildren, []Node{}}}},
		{"pass and fail", []Check{
			{Name: "Okta domain", OK: true, Detail: "https://dev-1.okta.com (the trailing slash was dropped)"},
			{Name: "Discovery document", OK: false, Detail: "Okta answered 404 for https://dev-1.okta.com/oauth2/nope/.well-known/openid-configuration."},
			{Name: "Signing keys", OK: true},
		}, []Set{
			{IDChecks, PropChildren, []Node{
				{Tag: "li", Class: "ok", Children: []Node{{Tag: "span", Class: "mark", Text: "✓ "}, {Tag: "strong", Text: "Okta domain"},
					{Text: ": https://dev-1.okta.com (the trailing slash was dropped)"}}},
				{Tag: "li", Class: "error", Children: []Node{{Tag: "span", Class: "mark", Text: "✗ "}, {Tag: "strong", Text: "Discovery document"},
					{Text: ": Okta answered 404 for https://dev-1.okta.com/oauth2/nope/.well-known/openid-configuration."}}},
				{Tag: "li", Class: "ok", Children: []Node{{Tag: "span", Class: "mark", Text: "✓ "}, {Tag: "strong", Text: "Signing keys"}}},
			}},
			{IDChecks, PropHidden, false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, checkSets(tt.checks)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSaveSets(t *testing.T) {
	checks := []Check{{Name: "Okta domain", OK: true, Detail: "https://d"}, {Name: "Client credentials", Detail: "Okta refused the Client ID or Client secret (invalid_client)."}}
	status := func(text, class string) []Set {
		return []Set{{IDSave, PropDisabled, false}, {IDSaveStatus, PropText, text}, {IDSaveStatus, PropClass, class},
			{IDSaveStatus, PropBusy, "false"}, {IDSaveStatus, PropHidden, false}}
	}
	tests := []struct {
		name string
		got  []Set
		want []Set
	}{
		{"saving", Saving(), []Set{
			{IDSaveStatus, PropText, "Checking Okta: domain, discovery document, signing keys, client credentials…"},
			{IDSaveStatus, PropClass, ClassBusy}, {IDSaveStatus, PropBusy, "true"}, {IDSaveStatus, PropHidden, false},
			{IDChecks, PropHidden, true}, {IDChecks, PropChildren, []Node{}},
		}},
		{"refused with checks", SaveFailed(&APIError{Status: 400, Code: "invalid_request", Description: checks[1].Detail, Checks: checks}),
			concat(status("✗ Not saved: Client credentials failed (see below).", ClassError), checkSets(checks))},
		{"refused with checks that all passed", SaveFailed(&APIError{Status: 400, Description: "okta could not be reached", Checks: checks[:1]}),
			concat(status("✗ Okta could not be reached.", ClassError), checkSets(checks[:1]))},
		{"refused without checks", SaveFailed(&APIError{Status: 400, Description: "Okta could not be reached."}),
			concat(status("✗ Okta could not be reached.", ClassError), checkSets(nil))},
		{"saved, test sign-in enabled", Saved(Settings{Issuer: "https://d", ClientID: "0oa1", OktaDomain: "https://d", Checks: checks[:1]}),
			concat(status("✓ Saved. Okta's discovery document was read: issuer https://d.", ClassOK), []Set{{IDTestSignIn, PropDisabled, false}, {IDAdminSignInState, PropText, AdminSignInNeedsGroup}},
				checkSets(checks[:1]), fields(Settings{OktaDomain: "https://d", ClientID: "0oa1"}))},
		{"loaded without sign-in", Loaded(Settings{})[5:6], []Set{{IDTestSignIn, PropDisabled, true}}},
		{"loaded with sign-in", Loaded(Settings{Issuer: "i", ClientID: "c"})[5:6], []Set{{IDTestSignIn, PropDisabled, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func concat(sets ...[]Set) []Set {
	var out []Set
	for _, s := range sets {
		out = append(out, s...)
	}
	return out
}
