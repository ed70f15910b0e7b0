package connect

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/idpkit/idpkit/scim/adminapi"
)

// Titles of the box that replaces the panels when the session is over.
const (
	SignedOutTitle    = "Signed out"
	SessionEndedTitle = "Admin session ended"
)

// OktaSessionNote is the sentence of the Signed-out box about Okta's own
// session, which signing out here does not end.
const OktaSessionNote = "Okta's own session stays signed in on this computer: on a shared computer, sign out of Okta too."

// SessionEnded reports whether err is the admin API saying that there is
// no admin session any more (HTTP 401: adminapi.ErrLoginRequired,
// adminapi.ErrAdminRemoved, or no code at all).
func SessionEnded(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusUnauthorized
}

// EndedSentence says why the session ended: the server's description
// when it gave one, else a sentence for its code.
func EndedSentence(err error) string {
	var ae *APIError
	if !errors.As(err, &ae) {
		return "Your admin session has ended."
	}
	if d := strings.TrimSpace(ae.Description); d != "" {
		return asSentence(d)
	}
	if ae.Code == adminapi.ErrAdminRemoved {
		return "Okta no longer lists you as an active member of the admin group."
	}
	return "Your admin session has ended or expired."
}

// signInURL is where admins sign in with Okta: the server's
// AdminSignInURL, else the one made from the redirect URI.
func signInURL(s Settings) string {
	if s.AdminSignInURL != "" {
		return s.AdminSignInURL
	}
	return AdminSignInURL(s)
}

// oktaReady: sign-in with Okta is saved and an admin group is set.
func oktaReady(s Settings) bool { return canTest(s) && s.AdminGroup != "" }

// ComeBack is how to come back, as nodes: a link to the admin sign-in URL
// when sign-in with Okta is ready, and the operator's command for a
// one-time admin link.
func ComeBack(s Settings) []Node {
	cmd := Node{Tag: "code", Text: "idpkit tenant admin-link " + s.Tenant}
	url := signInURL(s)
	switch {
	case url != "" && oktaReady(s):
		return []Node{
			{Text: "To come back, sign in with Okta at "}, {Tag: "a", Href: url, Text: url},
			{Text: ", or open a new one-time admin link (your idpkit operator makes one with "}, cmd, {Text: ")."},
		}
	case url != "":
		return []Node{
			{Text: "To come back, open a new one-time admin link (your idpkit operator makes one with "}, cmd,
			{Text: "); once sign-in and an admin group are saved, admins can also sign in with Okta at " + url + "."},
		}
	}
	return []Node{{Text: "To come back, open a new one-time admin link (your idpkit operator makes one with "}, cmd, {Text: ")."}}
}

// Text is the text of nodes, as textContent reads it.
func Text(nodes []Node) string {
	var b strings.Builder
	for _, n := range nodes {
		b.WriteString(n.Text)
		b.WriteString(Text(n.Children))
	}
	return b.String()
}

// SignedOutText is how to come back after signing out, as text.
func SignedOutText(s Settings) string { return Text(signedOutNodes(s)) }

func signedOutNodes(s Settings) []Node {
	out := []Node{{Text: "You are signed out of this tenant's admin pages, on the server too. "}}
	out = append(out, ComeBack(s)...)
	return append(out, Node{Text: " " + OktaSessionNote})
}

// closedSets replaces the panels with the box titled title holding text,
// and moves the focus to it.
func closedSets(title string, text []Node) []Set {
	return []Set{
		{IDSignOutStatus, PropHidden, true},
		{IDSignOutStatus, PropBusy, "false"},
		{IDSignOut, PropHidden, true},
		{IDSessionInfo, PropHidden, true},
		{IDLeadFirst, PropHidden, true},
		{IDPageStatus, PropHidden, true},
		{IDSCIMPanel, PropHidden, true},
		{IDSignInPanel, PropHidden, true},
		{IDAdminsPanel, PropHidden, true},
		{IDAuditPanel, PropHidden, true},
		{IDCopyStatus, PropText, ""},
		{IDSecret, PropValue, ""},
		{IDSignedOutTitle, PropText, title},
		{IDSignedOutText, PropChildren, text},
		{IDSignedOut, PropHidden, false},
		{IDSignedOut, PropFocus, true},
	}
}

// SignedOut replaces the panels with the signed-out box, which says how to
// come back, and moves the focus to it.
func SignedOut(s Settings) []Set { return closedSets(SignedOutTitle, signedOutNodes(s)) }

// SessionOver replaces the panels with the box of an admin session the
// server ended (err, a 401): why, and how to come back.
func SessionOver(s Settings, err error) []Set {
	text := append([]Node{{Text: EndedSentence(err) + " "}}, ComeBack(s)...)
	return closedSets(SessionEndedTitle, text)
}

// endSession stops everything after the server said the session is over
// (err, see SessionEnded): no poll, action or test sign-in sends anything
// more, and the panels give way to SessionOver. It reports whether err
// was such an answer.
func (d *Dialog) endSession(err error) bool {
	if !SessionEnded(err) {
		return false
	}
	d.mu.Lock()
	if d.signedOut {
		d.mu.Unlock()
		return true
	}
	d.signedOut = true
	s := d.settings
	d.settings.CSRF = ""
	d.mu.Unlock()
	d.stopTest()
	d.apply(SessionOver(s, err))
	return true
}

// SessionLine says who is signed in and until when: "Signed in as
// alice@example.com with Okta, until 23:45" or "Signed in with a one-time
// admin link, until 23:45"; "" when the server did not say. The end is
// shown in loc, with its date when it is not on the day of now.
func SessionLine(a adminapi.AdminSession, loc *time.Location, now time.Time) string {
	var s string
	switch a.Via {
	case adminapi.SessionOkta:
		s = "Signed in with Okta"
		if name := orValue(a.UserName, a.Sub); name != "" {
			s = "Signed in as " + name + " with Okta"
		}
	case adminapi.SessionLink:
		s = "Signed in with a one-time admin link"
	default:
		return ""
	}
	if !a.Expires.IsZero() {
		e, n := a.Expires.In(loc), now.In(loc)
		if e.YearDay() == n.YearDay() && e.Year() == n.Year() {
			s += ", until " + e.Format("15:04")
		} else {
			s += ", until " + e.Format("2006-01-02 15:04")
		}
	}
	return s
}

// sessionSets shows SessionLine in the header.
func sessionSets(a adminapi.AdminSession, loc *time.Location, now time.Time) []Set {
	line := SessionLine(a, loc, now)
	return []Set{{IDSessionInfo, PropText, line}, {IDSessionInfo, PropHidden, line == ""}}
}

func orValue(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// SafeHref reports whether the glue may give a link this href: an
// absolute http or https URL.
func SafeHref(href string) bool {
	l := strings.ToLower(href)
	return strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://")
}
