package connect

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/adminapi"
	"golang.org/x/net/html"
)

// element is what the tests need of one parsed element.
type element struct {
	Tag   string
	Attrs map[string]string
	Text  string
}

func parseMarkup(t *testing.T, s string) (map[string]element, []element) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader("<!doctype html><body>" + s))
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]element{}
	var labels []element
	var text func(*html.Node) string
	text = func(n *html.Node) string {
		if n.Type == html.TextNode {
			return n.Data
		}
		var b strings.Builder
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			b.WriteString(text(c))
		}
		return b.String()
	}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			e := element{Tag: n.Data, Attrs: map[string]string{}, Text: strings.TrimSpace(text(n))}
			for _, a := range n.Attr {
				e.Attrs[a.Key] = a.Val
			}
			if id := e.Attrs["id"]; id != "" {
				if _, dup := byID[id]; dup {
					t.Errorf("duplicate id %q", id)
				}
				byID[id] = e
			}
			if n.Data == "label" {
				labels = append(labels, e)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return byID, labels
}

func TestMarkupLabels(t *testing.T) {
	byID, labels := parseMarkup(t, Markup("acme"))
	got := map[string]string{} // label text → input id and type
	for _, l := range labels {
		in, ok := byID[l.Attrs["for"]]
		if !ok || in.Tag != "input" {
			t.Errorf("label %q is for %q, which is not an input", l.Text, l.Attrs["for"])
			continue
		}
		got[l.Text] = in.Attrs["id"] + " " + in.Attrs["type"]
	}
	want := map[string]string{
		"Tenant URL":                      "scim-url text",
		"New secret":                      "secret text",
		"Sign-in redirect URI":            "redirect-uri text",
		"Okta domain":                     "okta-domain text",
		"Client ID":                       "client-id text",
		"Client secret":                   "client-secret password",
		"Authorization server (optional)": "auth-server text",
		"Admin group":                     "admin-group text",
		"Admin sign-in URL":               "admin-signin-url text",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	for _, id := range []string{IDSCIMURL, IDSecret, IDRedirectURI, IDAdminSignInURL} {
		if _, ok := byID[id].Attrs["readonly"]; !ok {
			t.Errorf("#%s is not read-only", id)
		}
	}
}

func TestMarkupButtons(t *testing.T) {
	byID, _ := parseMarkup(t, Markup("acme"))
	tests := []struct{ id, typ, text string }{
		{IDCopySCIMURL, "button", "Copy"},
		{IDGenerateSecret, "button", "Generate new secret"},
		{IDReplaceSecret, "button", "Replace secret"},
		{IDCancelReplace, "button", "Cancel"},
		{IDCopySecret, "button", "Copy"},
		{IDCopyRedirect, "button", "Copy"},
		{IDSave, "submit", "Save"},
		{IDTestSignIn, "button", "Test sign-in"},
		{IDSaveAdminGroup, "submit", "Set admin group"},
		{IDCopyAdminSignIn, "button", "Copy"},
		{IDSignOut, "button", "Sign out"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			e := byID[tt.id]
			got := []string{e.Tag, e.Attrs["type"], e.Text}
			if diff := cmp.Diff([]string{"button", tt.typ, tt.text}, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	for _, b := range CopyButtons() {
		field, _, ok := CopyTarget(b)
		if _, exists := byID[field]; !ok || !exists {
			t.Errorf("copy button %q copies unknown field %q", b, field)
		}
	}
}

// TestUpdatesTargetMarkup checks that every update of every state names an
// element of the markup, so no change is silently dropped by the glue.
func TestUpdatesTargetMarkup(t *testing.T) {
	byID, _ := parseMarkup(t, Markup("acme"))
	s := Settings{SCIMBaseURL: "u", RedirectURI: "r", ClientSecretSet: true, Issuer: "i", ClientID: "c",
		Checks: []Check{{Name: "Okta domain", OK: true, Detail: "d"}}}
	act := Activity{
		Connected: &Request{Action: "Test API Credentials"},
		Requests:  []Request{{Method: "GET", Path: "/Users", Status: 401, Detail: "x"}},
		Users:     ResourceList{Total: 2, Recent: []Provisioned{{Name: "a"}}},
		Groups:    ResourceList{Total: 1, Recent: []Provisioned{{Name: "g", Members: 1}}},
	}
	states := map[string][]Set{
		"Loaded":         Loaded(s),
		"pageError":      pageError(errors.New("x")),
		"Generating":     Generating(),
		"Generated":      Generated("tok"),
		"GenerateFailed": GenerateFailed(errors.New("x")),
		"Saving":         Saving(),
		"Saved":          Saved(s),
		"SaveFailed":     SaveFailed(&APIError{Status: 400, Checks: []Check{{Name: "Signing keys"}}}),
		"Copied":         Copied(IDCopySecret, nil),
		"ShowActivity":   ShowActivity(act, time.UTC, time.Time{}, true),
		"empty activity": ShowActivity(Activity{}, time.UTC, time.Time{}, true),
		"lostContact":    lostContact(errors.New("x")),
		"TestOutcome":    TestOutcome(TestSignInResult{Done: true, OK: true, Claims: map[string]any{"a": 1.0, "iat": 1.0}}, time.UTC),
		"waiting":        testSets(TestWaitingText, nil, nil),
		"AskReplace":     AskReplace(),
		"ReplaceCancel":  ReplaceCancelled(),
		"ClearTest":      ClearTest(),
		"CopyReset":      CopyReset(IDCopySCIMURL),
		"ShowAudit":      ShowAudit(Audit{Records: []AuditEntry{{Kind: "scim", Action: "create", Target: "User/u1", Outcome: "201", Attributes: []string{"userName"}}, {Kind: "admin", Action: "x", Outcome: "ok"}}}, AuditView{Loc: time.UTC}),
		"empty audit":    ShowAudit(Audit{}, AuditView{Loc: time.UTC}),
		"auditFailed":    auditFailed(errors.New("x")),
		"SavingAdmin":    SavingAdminGroup(),
		"AdminSaved":     AdminGroupSavedSets(AdminGroupSaved{Settings: s}),
		"AdminFailed":    AdminGroupFailed(errors.New("x")),
		"SigningOut":     SigningOut(),
		"SignOutFailed":  SignOutFailed(errors.New("x")),
		"SignedOut":      SignedOut(s),
		"SessionOver":    SessionOver(s, &APIError{Status: 401, Code: "admin_removed"}),
		"AdminView":      AdminView(s, GroupState{Known: true, Suggestion: "G"}),
		"sessionSets":    sessionSets(adminapi.AdminSession{Via: adminapi.SessionLink}, time.UTC, time.Time{}),
		"timeHeads":      timeHeads(time.UTC, time.Time{}),
	}
	// Lists are rebuilt only inside these containers.
	containers := map[string]string{IDUserRows: "tbody", IDGroupRows: "tbody", IDRequestRows: "tbody", IDAuditRows: "tbody", IDChecks: "ul", IDClaims: "dl", IDSignedOutText: "p"}
	var checkNodes func(t *testing.T, where string, nodes []Node)
	checkNodes = func(t *testing.T, where string, nodes []Node) {
		for _, n := range nodes {
			if n.Tag != "" && !AllowedTag(n.Tag) {
				t.Errorf("%s: tag %q is not allowed", where, n.Tag)
			}
			if n.Tag == "" && (n.Class != "" || len(n.Children) > 0) {
				t.Errorf("%s: a text node with a class or children", where)
			}
			checkNodes(t, where, n.Children)
		}
	}
	for name, sets := range states {
		t.Run(name, func(t *testing.T) {
			for _, set := range sets {
				e, ok := byID[set.ID]
				if !ok {
					t.Errorf("update of unknown element #%s", set.ID)
				}
				switch v := set.Value.(type) {
				case string, bool:
					if set.Prop == PropChildren {
						t.Errorf("#%s.%s value %T is not []Node", set.ID, set.Prop, set.Value)
					}
				case []Node:
					if set.Prop != PropChildren {
						t.Errorf("#%s.%s value []Node for a property other than %s", set.ID, set.Prop, PropChildren)
					}
					if want := containers[set.ID]; want == "" || want != e.Tag {
						t.Errorf("#%s is a <%s>, not a list container", set.ID, e.Tag)
					}
					checkNodes(t, set.ID, v)
				default:
					t.Errorf("#%s.%s value %T is neither string nor bool", set.ID, set.Prop, set.Value)
				}
			}
		})
	}
}

// TestMarkupLiveRegions checks that every status line is announced.
func TestMarkupLiveRegions(t *testing.T) {
	byID, _ := parseMarkup(t, Markup("acme"))
	for _, id := range []string{IDConnection, IDSaveStatus, IDTestStatus, IDSecretStatus, IDCopyStatus} {
		e := byID[id]
		got := []string{e.Attrs["role"], e.Attrs["aria-live"]}
		if diff := cmp.Diff([]string{"status", "polite"}, got); diff != "" {
			t.Errorf("#%s (-want +got):\n%s", id, diff)
		}
	}
	for _, id := range []string{IDUsersEmpty, IDGroupsEmpty, IDRequestsEmpty} {
		if byID[id].Text == "" {
			t.Errorf("#%s has no empty-state sentence", id)
		}
	}
	if diff := cmp.Diff("No users yet: assign people or a group to the SCIM app in Okta.", byID[IDUsersEmpty].Text); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestMarkupEscapesTenant(t *testing.T) {
	byID, _ := parseMarkup(t, Markup(`<b>&"`))
	if diff := cmp.Diff(`<b>&"`, byID["tenant-name"].Text); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
