package connect

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/idpkit/idpkit/scim/adminapi"
)

// Defaults of the Recent activity panel.
const (
	// DefaultAuditEvery is how often WatchAudit reads the audit trail.
	DefaultAuditEvery = 5 * time.Second
	// AuditEmpty is the panel's line while the trail is empty.
	AuditEmpty = "No activity yet: Okta's changes, sign-ins and admin changes appear here."
)

// auditAfterAction: after an admin's own change, the trail is read again
// this long after (the server writes its records every 200 ms).
var auditAfterAction = []time.Duration{300 * time.Millisecond, 1200 * time.Millisecond}

func (d *Dialog) auditEvery() time.Duration {
	if d.AuditEvery <= 0 {
		return DefaultAuditEvery
	}
	return d.AuditEvery
}

// AuditLine is one audit record in words, as the Recent activity panel
// shows it.
type AuditLine struct {
	OK bool // the action succeeded (✓) or was refused (✗)
	// What happened, for an admin: "Created user", "Sign-in refused:
	// not provisioned by Okta", "New SCIM secret", …; an action this
	// dialog does not know is its code.
	What string
	// Target is the resource's id ("User/2819c…"), "" when none.
	Target string
	// Details are the rest: the changed attributes, the reason code, how
	// long the previous secret kept working.
	Details string
	// Who did it: "Okta (current secret 0123abcd)", "Okta user 00u1…",
	// "Admin", and from which address.
	Who string
}

// scimVerbs: an action of a SCIM write, done and refused.
var scimVerbs = map[string][2]string{
	"create":  {"Created", "Create"},
	"replace": {"Replaced", "Replace"},
	"patch":   {"Updated", "Update"},
	"delete":  {"Deleted", "Delete"},
}

// signInWords: a sign-in outcome, as the sign-in and as a test sign-in.
var signInWords = map[string][2]string{
	"signed-in":        {"Signed in", "Test sign-in worked"},
	"not-provisioned":  {"Sign-in refused: not provisioned by Okta", "Test sign-in refused: not provisioned by Okta"},
	"deactivated":      {"Sign-in refused: deactivated in Okta", "Test sign-in refused: deactivated in Okta"},
	"token-refused":    {"Sign-in refused: Okta's answer failed a check", "Test sign-in refused: Okta's answer failed a check"},
	"state-refused":    {"Sign-in refused: unknown, used or expired sign-in", "Test sign-in refused: unknown, used or expired sign-in"},
	"provider-refused": {"Okta refused the sign-in", "Okta refused the test sign-in"},
}

// adminWords: an admin change, done and refused.
var adminWords = map[string][2]string{
	"admin-link":        {"Admin signed in with a one-time link", "One-time admin link refused"},
	"secret-rotated":    {"New SCIM secret generated", "New SCIM secret refused"},
	"sign-in-saved":     {"Sign-in settings saved", "Sign-in settings not saved: the check failed"},
	"admin-signin":      {"Admin signed in with Okta", "Admin sign-in with Okta refused"},
	"admin-signout":     {"Admin signed out", "Admin sign-out refused"},
	"admin-group-saved": {"Admin group set", "Admin group refused"},
	"tenant-created":    {"Tenant created", "Tenant not created"},
	"admin-link-issued": {"One-time admin link issued", "One-time admin link not issued"},
	"key-rotated":       {"Secret key rotated: stored secrets re-encrypted", "Secret key rotation failed"},
}

// refusalWords: requests refused before they proved anything, of any
// kind (the server may sum them up, see AuditEntry.Count).
var refusalWords = map[string]string{
	"auth-refused":    "Wrong or missing SCIM secret",
	"rate-limited":    "Refused: too many failed attempts from this address",
	"admin-refused":   "Admin request refused",
	"signout-refused": "Sign-out refused",
}

// reasonWords are the reason codes said in words; others stay codes.
var reasonWords = map[string]string{
	"not-admin":      "not a member of the admin group",
	"invalid-link":   "invalid, expired or already used",
	"check-failed":   "",
	"no-session":     "no admin session",
	"csrf":           "missing check value",
	"cross-site":     "from another site",
	"wrong-token":    "wrong secret",
	"no-token":       "no secret",
	"not-bearer":     "not a Bearer token",
	"several-tokens": "more than one secret",
}

// sessionEndedWords: why Okta ended an admin session
// (admin-session-ended), by its reason.
var sessionEndedWords = map[string]string{
	"not-admin":       "Admin session ended: removed from the admin group",
	"deactivated":     "Admin session ended: deactivated in Okta",
	"not-provisioned": "Admin session ended: not provisioned",
}

// AuditView is what DescribeAudit needs besides the record: whose
// session the dialog runs in (its rows say "You"), the time zone of the
// times it names and the clock.
type AuditView struct {
	Me  adminapi.AdminSession
	Loc *time.Location // nil means UTC
	Now time.Time
}

func (v AuditView) loc() *time.Location {
	if v.Loc == nil {
		return time.UTC
	}
	return v.Loc
}

// summaryDetail is what a record's detail JSON adds to AuditEntry: the
// method of a refused request and, for a summary of refusals, since when
// it counts.
type summaryDetail struct {
	Method string    `json:"method"`
	Since  time.Time `json:"since"`
}

func parseDetail(detail string) summaryDetail {
	var d summaryDetail
	if strings.HasPrefix(detail, "{") {
		_ = json.Unmarshal([]byte(detail), &d)
	}
	return d
}

// DescribeAudit puts an audit record into words for an admin. It knows
// every action the server writes today; any other is shown as its code,
// ✓ or ✗ by its outcome, so that new actions never break the panel.
func DescribeAudit(e AuditEntry, v AuditView) AuditLine {
	l := AuditLine{OK: auditOK(e), Target: e.Target, Who: auditWho(e, v.Me)}
	extra := parseDetail(e.Detail)
	reasonSaid := false
	var details []string
	if len(e.Attributes) > 0 {
		details = append(details, "changed "+strings.Join(e.Attributes, ", "))
	}
	switch {
	case e.Kind == adminapi.AuditSCIM && scimVerbs[e.Action] != [2]string{}:
		v := scimVerbs[e.Action]
		if l.OK {
			l.What = v[0] + " " + noun(e.Target)
		} else {
			l.What = v[1] + " " + noun(e.Target) + " refused (HTTP " + e.Outcome + ")"
		}
	case e.Kind == adminapi.AuditSCIM && e.Action == "bulk":
		l.What = "Bulk request"
		if !l.OK {
			l.What += " refused (HTTP " + e.Outcome + ")"
		}
	case e.Kind == adminapi.AuditSignIn && signInWords[e.Action] != [2]string{}:
		w := signInWords[e.Action]
		l.What = w[0]
		if e.Test {
			l.What = w[1]
		}
	case e.Kind == adminapi.AuditAdmin && adminWords[e.Action] != [2]string{}:
		w := adminWords[e.Action]
		l.What = w[0]
		if !l.OK {
			l.What = w[1]
		}
		if e.Action == "secret-rotated" && e.Grace != "" {
			details = append(details, graceWords(e.Grace, e.At, v))
		}
		if e.Key != "" {
			details = append(details, "key "+e.Key)
		}
	case e.Kind == adminapi.AuditAdmin && e.Action == "admin-session-ended":
		l.What = "Admin session ended"
		if w := sessionEndedWords[e.Reason]; w != "" {
			l.What, reasonSaid = w, true
		}
	case refusalWords[e.Action] != "":
		l.What = refusalWords[e.Action]
		if m := extra.Method; m != "" && e.Target != "" {
			l.Target = m + " " + e.Target
		} else if m != "" {
			l.Target = m
		}
	default:
		l.What = e.Action
		if e.Test {
			details = append(details, "test sign-in")
		}
		if e.Reason == "" && len(e.Attributes) == 0 && e.Grace == "" && e.Key == "" && e.Count == 0 && e.Detail != "" {
			details = append(details, e.Detail)
		}
		if e.Grace != "" {
			details = append(details, "grace "+e.Grace)
		}
		if e.Key != "" {
			details = append(details, "key "+e.Key)
		}
	}
	// A reason already said by the words is not repeated.
	if r := e.Reason; r != "" && r != e.Action && !reasonSaid {
		if w, ok := reasonWords[r]; ok {
			if w != "" {
				details = append(details, w)
			}
		} else {
			details = append(details, "reason: "+r)
		}
	}
	if e.Count > 1 {
		l.What += " — " + strconv.Itoa(e.Count) + " times"
		if !extra.Since.IsZero() {
			l.What += " since " + extra.Since.In(v.loc()).Format("15:04")
		}
	}
	l.Details = strings.Join(details, "; ")
	return l
}

// auditOK: a SCIM write succeeded when its status is below 400; any
// other record when its outcome is "ok".
func auditOK(e AuditEntry) bool {
	if n, err := strconv.Atoi(e.Outcome); err == nil {
		return n < 400
	}
	return e.Outcome == "ok"
}

// noun names the resource type of a target ("User/…" → "user").
func noun(target string) string {
	typ, _, _ := strings.Cut(target, "/")
	switch typ {
	case "User":
		return "user"
	case "Group":
		return "group"
	}
	return "resource"
}

// graceWords says how long the previous secret of a rotation at at keeps
// working: until when while it does, how long once it is over.
func graceWords(grace string, at time.Time, v AuditView) string {
	d, err := time.ParseDuration(grace)
	if err != nil {
		return "grace " + grace
	}
	if d <= 0 {
		return "the previous secret stopped at once"
	}
	if until := at.Add(d); !at.IsZero() && v.Now.Before(until) {
		return "the previous secret keeps working until " + until.In(v.loc()).Format("15:04")
	}
	return "the previous secret kept working for " + minutes(d)
}

// auditWho names the actor of a record, and the address it came from;
// me is the dialog's own session, whose Okta user is "You".
func auditWho(e AuditEntry, me adminapi.AdminSession) string {
	who := e.Actor
	slot, id, hasSlot := strings.Cut(e.Actor, ":")
	switch {
	case e.Kind != adminapi.AuditSCIM && e.Actor != "" && me.Via == adminapi.SessionOkta && e.Actor == me.Sub:
		who = "You"
		if me.UserName != "" {
			who = "You (" + me.UserName + ")"
		}
	case e.Kind == adminapi.AuditSCIM && hasSlot && (slot == "current" || slot == "previous"):
		who = "Okta (" + slot + " secret " + id + ")"
	case e.Kind == adminapi.AuditSCIM && e.Actor == "":
		who = "No valid secret"
	case e.Actor == "admin":
		who = "Admin"
	case e.Actor == "admin-link":
		who = "Admin with a one-time link"
	case e.Kind == adminapi.AuditAdmin && e.Actor == "cli":
		who = "Operator (idpkit command)"
		if e.Source != "" {
			return who + " on " + e.Source
		}
		return who
	case e.Kind == adminapi.AuditSignIn && e.Actor != "":
		who = "Okta user " + e.Actor
	case e.Kind == adminapi.AuditAdmin && e.Actor != "" && e.Actor != "cli":
		who = "Admin " + e.Actor + " (Okta)"
	case e.Actor == "":
		who = "Someone"
	}
	if e.Source != "" {
		who += " from " + e.Source
	}
	return who
}

// auditClock is a record's time: HH:MM:SS on the day of now, else with
// its date.
func auditClock(t, now time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	lt, ln := t.In(loc), now.In(loc)
	if lt.YearDay() == ln.YearDay() && lt.Year() == ln.Year() {
		return lt.Format("15:04:05")
	}
	return lt.Format("2006-01-02 15:04:05")
}

// ShowAudit fills the Recent activity panel from the audit trail, newest
// first, or shows its empty-state line; times are in v.Loc (the zone is
// named in the column's header), with the date for records of another
// day than v.Now.
func ShowAudit(a Audit, v AuditView) []Set {
	loc, now := v.loc(), v.Now
	rows := make([]Node, 0, len(a.Records))
	for _, e := range a.Records {
		l := DescribeAudit(e, v)
		mark, class := "✓ ", "ok"
		if !l.OK {
			mark, class = "✗ ", "error"
		}
		var details []Node
		if l.Target != "" {
			details = append(details, Node{Tag: "code", Text: l.Target})
		}
		if l.Details != "" {
			if l.Target != "" {
				details = append(details, Node{Text: " "})
			}
			details = append(details, Node{Text: l.Details})
		}
		if len(details) == 0 {
			details = []Node{{Text: "–"}}
		}
		rows = append(rows, row(
			cell("time", auditClock(e.At, now, loc)),
			cell(class, mark+l.What),
			Node{Tag: "td", Children: details},
			cell("", l.Who),
		))
	}
	return []Set{
		{IDAuditRows, PropChildren, rows},
		{IDAuditWrap, PropHidden, len(rows) == 0},
		{IDAuditEmpty, PropHidden, len(rows) > 0},
		{IDAuditStatus, PropHidden, true},
	}
}

// auditFailed says that the trail could not be read (after
// MaxPollFailures reads in a row); what it showed stays.
func auditFailed(err error) []Set {
	return []Set{
		{IDAuditStatus, PropText, "✗ The recent activity could not be read: " + Sentence(err)},
		{IDAuditStatus, PropClass, ClassError},
		{IDAuditStatus, PropHidden, false},
	}
}

// PollAudit reads the audit trail once and shows it. Failures are shown
// from the MaxPollFailures-th in a row on. Reads do not overlap, and none
// starts once the admin is signing out.
func (d *Dialog) PollAudit(ctx context.Context) {
	a, ok := pollOnce(ctx, d, "audit", d.API.Audit, &d.auditFailures, auditFailed)
	if !ok {
		return
	}
	d.mu.Lock()
	me := d.settings.Session
	d.mu.Unlock()
	d.applyChanged(ShowAudit(a, AuditView{Me: me, Loc: d.loc(), Now: d.now()}))
}

// auditSoon reads the trail again shortly after an admin's own change, so
// that it shows up without waiting for the next poll.
func (d *Dialog) auditSoon() {
	for _, after := range auditAfterAction {
		time.AfterFunc(after, func() { d.PollAudit(context.Background()) })
	}
}

// WatchAudit reads the audit trail every AuditEvery while visible reports
// true (nil means always), and at once on every receive from wake, until
// ctx ends or the admin signs out. It reads first at once.
func (d *Dialog) WatchAudit(ctx context.Context, visible func() bool, wake <-chan struct{}) {
	d.watch(ctx, d.auditEvery(), d.PollAudit, visible, wake)
}
