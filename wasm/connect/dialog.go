package connect

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Props of page elements that a Set may change; the glue assigns them as
// DOM properties.
const (
	PropValue       = "value"
	PropText        = "textContent"
	PropHidden      = "hidden"
	PropDisabled    = "disabled"
	PropPlaceholder = "placeholder"
	PropClass       = "className"
	PropBusy        = "ariaBusy" // "true" or "false"
	// PropFocus, with Value true, moves the keyboard focus to the element.
	PropFocus = "focus"
	// PropChildren replaces the element's children with Value, a []Node;
	// the glue builds them with createElement and textContent only.
	PropChildren = "children"
)

// Status classes for the status lines.
const (
	ClassOK    = "status ok"
	ClassError = "status error"
	ClassBusy  = "status busy"
)

// Set is one change to the page: element ID's property Prop becomes Value
// (a string or a bool; a []Node for PropChildren).
type Set struct {
	ID    string
	Prop  string
	Value any
}

// Page is what the dialog needs from the browser: apply changes and read a
// form field's current value.
type Page interface {
	Apply(sets []Set)
	Value(id string) string
}

// Dialog drives the page: it calls the admin API and turns each outcome
// into Set updates. Its methods block on the network, so under js/wasm the
// glue calls them from a new goroutine, never from a js.Func callback
// directly (except CanTestSignIn, which does not block: the popup of a
// test sign-in must be opened inside the click). Methods are safe for
// concurrent use; a second Save, Generate or Poll while one is running is
// ignored. Watch polls the activity; TestSignIn follows a test sign-in.
type Dialog struct {
	API  *API
	Page Page
	// Timeout bounds each API call; zero means 30 seconds.
	Timeout time.Duration
	// PollEvery is how often Watch reads the activity and TestSignIn its
	// outcome; zero means DefaultPollEvery.
	PollEvery time.Duration
	// TestTimeout bounds a test sign-in; zero means DefaultTestTimeout.
	TestTimeout time.Duration
	// Location is the time zone of the times shown; nil means time.Local,
	// the browser's under js/wasm.
	Location *time.Location
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// CopiedFor is how long a copy button says "Copied"; zero means
	// DefaultCopiedFor.
	CopiedFor time.Duration
	// AuditEvery is how often WatchAudit reads the audit trail; zero
	// means DefaultAuditEvery.
	AuditEvery time.Duration

	mu       sync.Mutex
	settings Settings
	loaded   bool
	busy     map[string]bool
	failures int       // activity polls failed in a row
	newest   time.Time // the newest request the last activity listed
	// refusedAfter: a refused request counts only when it came later (it
	// is set when the secret is rotated, so older refusals are forgotten).
	refusedAfter  time.Time
	testGen       int                // the running test sign-in
	testCancel    context.CancelFunc // stops it
	connected     bool               // the last activity said Okta has connected
	waitingSince  time.Time          // when the connection line began to wait; zero: not waiting
	copyGen       map[string]int     // copy button → its last "Copied"
	auditFailures int                // audit reads failed in a row
	signingOut    bool               // a sign-out runs: nothing more is read
	signedOut     bool               // the session ended: the dialog is done
	groups        *ResourceList      // the provisioned groups of the last activity; nil before
	groupSaved    *AdminGroupSaved   // the answer of the last admin group save; nil before

	pageMu sync.Mutex     // serialises page updates and guards shown
	shown  map[string]any // "id\x00prop" → what applyChanged last set
}

// Defaults of Dialog.
const (
	DefaultPollEvery   = time.Second
	DefaultTestTimeout = 5 * time.Minute
	// MaxPollFailures failed polls in a row are shown; fewer are not.
	MaxPollFailures = 3
	// pollTimeout bounds one poll, so that a hung request counts as failed.
	pollTimeout = 10 * time.Second
	// DefaultCopiedFor is how long a copy button says "Copied".
	DefaultCopiedFor = 2 * time.Second
	// WaitHintAfter is how long the connection line waits before it adds
	// WaitingHint.
	WaitHintAfter = 30 * time.Second
	// closedGrace is how many polls still run after the popup is seen
	// closed, for an outcome stored just before it closed.
	closedGrace = 2
)

func (d *Dialog) pollEvery() time.Duration {
	if d.PollEvery <= 0 {
		return DefaultPollEvery
	}
	return d.PollEvery
}

func (d *Dialog) testTimeout() time.Duration {
	if d.TestTimeout <= 0 {
		return DefaultTestTimeout
	}
	return d.TestTimeout
}

func (d *Dialog) now() time.Time {
	if d.Now == nil {
		return time.Now()
	}
	return d.Now()
}

func (d *Dialog) copiedFor() time.Duration {
	if d.CopiedFor <= 0 {
		return DefaultCopiedFor
	}
	return d.CopiedFor
}

func (d *Dialog) loc() *time.Location {
	if d.Location == nil {
		return time.Local
	}
	return d.Location
}

func setKey(s Set) string { return s.ID + "\x00" + s.Prop }

// apply applies sets and forgets them for applyChanged.
func (d *Dialog) apply(sets []Set) {
	d.pageMu.Lock()
	defer d.pageMu.Unlock()
	for _, s := range sets {
		delete(d.shown, setKey(s))
	}
	d.Page.Apply(sets)
}

// applyChanged applies only the sets whose value differs from what it set
// last, so that polling every second does not rebuild the tables (and lose
// a text selection) or re-announce the live status line.
func (d *Dialog) applyChanged(sets []Set) {
	d.pageMu.Lock()
	defer d.pageMu.Unlock()
	if d.shown == nil {
		d.shown = map[string]any{}
	}
	var out []Set
	for _, s := range sets {
		k := setKey(s)
		if v, ok := d.shown[k]; ok && reflect.DeepEqual(v, s.Value) {
			continue
		}
		d.shown[k] = s.Value
		out = append(out, s)
	}
	if len(out) > 0 {
		d.Page.Apply(out)
	}
}

func (d *Dialog) timeout() time.Duration {
	if d.Timeout <= 0 {
		return 30 * time.Second
	}
	return d.Timeout
}

// start marks the operation op running; false when it already runs.
func (d *Dialog) start(op string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.busy == nil {
		d.busy = map[string]bool{}
	}
	if d.busy[op] {
		return false
	}
	d.busy[op] = true
	return true
}

func (d *Dialog) done(op string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.busy, op)
}

func (d *Dialog) current() (Settings, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.settings, d.loaded
}

// Load reads the settings and fills the page in; on failure it says why in
// #page-status and leaves the buttons disabled.
func (d *Dialog) Load(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	s, err := d.API.Settings(ctx)
	if err != nil {
		d.apply(pageError(err))
		return
	}
	d.mu.Lock()
	d.settings, d.loaded = s, true
	d.mu.Unlock()
	sets := Loaded(s)
	sets = append(sets, sessionSets(s.Session, d.loc(), d.now())...)
	sets = append(sets, timeHeads(d.loc(), d.now())...)
	d.apply(append(sets, adminView(s, nil, nil)...))
}

// Refresh re-reads the settings and updates only the counts, so that what
// a person is typing is kept. Errors are ignored: the counts stay.
func (d *Dialog) Refresh(ctx context.Context) {
	if _, ok := d.current(); !ok || d.leaving() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	s, err := d.API.Settings(ctx)
	if d.endSession(err) || err != nil {
		return
	}
	d.apply(counts(s))
}

// Generate rotates the SCIM secret and shows the new one once. When Okta
// has connected with the current secret it only asks first (AskReplace);
// ReplaceSecret then rotates it.
func (d *Dialog) Generate(ctx context.Context) {
	if _, ok := d.current(); !ok || d.leaving() {
		return
	}
	d.mu.Lock()
	connected := d.connected
	d.mu.Unlock()
	if connected {
		d.apply(AskReplace())
		return
	}
	d.rotateWith(ctx, 0)
}

// ReplaceGrace is how long a secret Okta was using keeps working after
// "Replace secret", so the admin has time to paste the new one into Okta
// and provisioning does not stop.
const ReplaceGrace = 10 * time.Minute

// ReplaceSecret rotates the SCIM secret after the person confirmed it
// (the "Replace secret" button of AskReplace); the previous secret keeps
// working for ReplaceGrace.
func (d *Dialog) ReplaceSecret(ctx context.Context) {
	d.apply(ReplaceCancelled())
	d.rotateWith(ctx, ReplaceGrace)
}

// CancelReplace hides the question of AskReplace; the secret stays.
func (d *Dialog) CancelReplace() { d.apply(ReplaceCancelled()) }

// rotateWith rotates the secret; the previous one keeps working for grace.
func (d *Dialog) rotateWith(ctx context.Context, grace time.Duration) {
	s, ok := d.current()
	if !ok || d.leaving() || !d.start("generate") {
		return
	}
	defer d.done("generate")
	d.apply(Generating())
	ctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	tok, err := d.API.RotateSecret(ctx, s.CSRF, grace)
	if d.endSession(err) {
		return
	}
	if err != nil {
		d.apply(GenerateFailed(err))
		return
	}
	// The server forgets the connection with the old secret; so does the
	// status line, and refusals of the old secret are no longer news.
	d.mu.Lock()
	d.refusedAfter = d.newest
	d.connected = false
	d.waitingSince = d.now()
	d.mu.Unlock()
	sets := Generated(tok)
	if grace > 0 {
		sets = append(sets, Set{IDSecretWarning, PropText, GraceWarning(d.now().Add(grace), d.loc())})
	}
	d.apply(append(sets, connectionSets(ConnectionWaiting)...))
	d.auditSoon()
}

// Save validates the sign-in form, sends it, and shows ✓ with the issuer
// or ✗ with the reason.
func (d *Dialog) Save(ctx context.Context) {
	s, ok := d.current()
	if !ok || d.leaving() || !d.start("save") {
		return
	}
	defer d.done("save")
	// A result of an earlier test sign-in no longer says anything about
	// what is being saved.
	d.stopTest()
	d.apply(ClearTest())
	in := SignIn{
		OktaDomain:   trim(d.Page.Value(IDOktaDomain)),
		ClientID:     trim(d.Page.Value(IDClientID)),
		ClientSecret: trim(d.Page.Value(IDClientSecret)),
		AuthServer:   trim(d.Page.Value(IDAuthServer)),
	}
	if err := Validate(in, s.ClientSecretSet); err != nil {
		d.apply(SaveFailed(err))
		return
	}
	d.apply(Saving())
	ctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	ns, err := d.API.SaveSignIn(ctx, s.CSRF, in)
	if d.endSession(err) {
		return
	}
	if err != nil {
		d.apply(SaveFailed(err))
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
			d.auditSoon() // the refusal is in the trail too
		}
		return
	}
	if ns.CSRF == "" {
		ns.CSRF = s.CSRF
	}
	if ns.Session.Via == "" {
		ns.Session = s.Session
	}
	d.mu.Lock()
	d.settings = ns
	view := adminView(ns, d.groups, d.groupSaved)
	d.mu.Unlock()
	d.apply(append(Saved(ns), view...))
	d.auditSoon()
}

// Copied reports the outcome of a copy button; err is the clipboard's
// error. After a copy the button says "Copied" for CopiedFor, then "Copy"
// again (its aria-label stays).
func (d *Dialog) Copied(button string, err error) {
	d.apply(Copied(button, err))
	if err != nil {
		return
	}
	if _, _, ok := CopyTarget(button); !ok {
		return
	}
	d.mu.Lock()
	if d.copyGen == nil {
		d.copyGen = map[string]int{}
	}
	d.copyGen[button]++
	gen := d.copyGen[button]
	d.mu.Unlock()
	time.AfterFunc(d.copiedFor(), func() {
		d.mu.Lock()
		last := d.copyGen[button] == gen
		d.mu.Unlock()
		if last {
			d.apply(CopyReset(button))
		}
	})
}

// Loaded fills the page from settings.
func Loaded(s Settings) []Set {
	sets := []Set{
		{IDPageStatus, PropHidden, true},
		{IDSCIMURL, PropValue, s.SCIMBaseURL},
		{IDRedirectURI, PropValue, s.RedirectURI},
		{IDGenerateSecret, PropDisabled, false},
		{IDSave, PropDisabled, false},
		{IDTestSignIn, PropDisabled, !canTest(s)},
	}
	sets = append(sets, counts(s)...)
	sets = append(sets, adminSets(s, true)...)
	return append(sets, fields(s)...)
}

// canTest: a test sign-in needs saved sign-in settings.
func canTest(s Settings) bool { return s.Issuer != "" && s.ClientID != "" }

func counts(s Settings) []Set {
	return []Set{
		{IDUserCount, PropText, strconv.Itoa(s.Users)},
		{IDGroupCount, PropText, strconv.Itoa(s.Groups)},
	}
}

// fields pre-fills the sign-in form; the secret is never shown back.
func fields(s Settings) []Set {
	ph := ""
	if s.ClientSecretSet {
		ph = "saved"
	}
	return []Set{
		{IDOktaDomain, PropValue, s.OktaDomain},
		{IDClientID, PropValue, s.ClientID},
		{IDClientSecret, PropValue, ""},
		{IDClientSecret, PropPlaceholder, ph},
		{IDAuthServer, PropValue, s.AuthServer},
	}
}

func pageError(err error) []Set {
	return []Set{
		{IDPageStatus, PropText, "✗ " + Sentence(err)},
		{IDPageStatus, PropClass, ClassError},
		{IDPageStatus, PropHidden, false},
		{IDGenerateSecret, PropDisabled, true},
		{IDSave, PropDisabled, true},
		{IDTestSignIn, PropDisabled, true},
		{IDSaveAdminGroup, PropDisabled, true},
		{IDSignOut, PropDisabled, true},
		{IDConnection, PropHidden, true},
	}
}

// Generating shows that a new secret is being made. The button stays
// enabled, so that it keeps the keyboard focus; Generate ignores a second
// click while one runs.
func Generating() []Set {
	return []Set{
		{IDSecretStatus, PropText, "Generating a new secret…"},
		{IDSecretStatus, PropClass, ClassBusy},
		{IDSecretStatus, PropBusy, "true"},
		{IDSecretStatus, PropHidden, false},
	}
}

// ReplaceWarning is the question AskReplace shows.
const ReplaceWarning = "Okta is using the current secret: after you replace it, it keeps working for 10 minutes; paste the new one into Okta within that time, or provisioning stops."

// SecretWarning is the warning under a new secret whose predecessor
// stopped at once.
const SecretWarning = "This secret is shown only once: copy it into Okta now. The previous secret stopped working."

// GraceWarning is the warning under a new secret whose predecessor keeps
// working until until (shown in loc).
func GraceWarning(until time.Time, loc *time.Location) string {
	return "This secret is shown only once: copy it into Okta now. The previous secret keeps working until " + clock(until, loc) + ", then stops."
}

// AskReplace asks before a secret Okta is using is replaced: the warning
// with "Replace secret" and "Cancel"; the focus moves to "Cancel", the
// choice that changes nothing (Escape cancels too, see the glue).
func AskReplace() []Set {
	return []Set{
		{IDReplaceBox, PropHidden, false},
		{IDCancelReplace, PropFocus, true},
	}
}

// ReplaceCancelled hides the question and gives the focus back to
// "Generate new secret".
func ReplaceCancelled() []Set {
	return []Set{
		{IDReplaceBox, PropHidden, true},
		{IDGenerateSecret, PropFocus, true},
	}
}

// Generated shows the new secret once, with its warning.
func Generated(token string) []Set {
	return []Set{
		{IDReplaceBox, PropHidden, true},
		{IDGenerateSecret, PropDisabled, false},
		{IDSecretStatus, PropText, ""},
		{IDSecretStatus, PropBusy, "false"},
		{IDSecretStatus, PropHidden, true},
		{IDSecret, PropValue, token},
		{IDSecretWarning, PropText, SecretWarning},
		{IDSecretBox, PropHidden, false},
	}
}

// GenerateFailed says why no new secret was made; the old one still works.
func GenerateFailed(err error) []Set {
	return []Set{
		{IDGenerateSecret, PropDisabled, false},
		{IDSecretStatus, PropText, "✗ " + Sentence(err) + " The previous secret still works."},
		{IDSecretStatus, PropClass, ClassError},
		{IDSecretStatus, PropBusy, "false"},
		{IDSecretStatus, PropHidden, false},
	}
}

// Saving shows the spinner while the server checks the values with Okta.
// Save stays enabled, so that it keeps the keyboard focus (a disabled
// button loses it); Save ignores a second submit while one runs.
func Saving() []Set {
	return []Set{
		{IDSaveStatus, PropText, "Checking Okta: domain, discovery document, signing keys, client credentials…"},
		{IDSaveStatus, PropClass, ClassBusy},
		{IDSaveStatus, PropBusy, "true"},
		{IDSaveStatus, PropHidden, false},
		{IDChecks, PropHidden, true},
		{IDChecks, PropChildren, []Node{}},
	}
}

// Saved shows ✓ with the issuer, the steps of the check and the saved
// values, and enables Test sign-in.
func Saved(s Settings) []Set {
	sets := []Set{
		{IDSave, PropDisabled, false},
		{IDSaveStatus, PropText, "✓ " + SavedSentence(s)},
		{IDSaveStatus, PropClass, ClassOK},
		{IDSaveStatus, PropBusy, "false"},
		{IDSaveStatus, PropHidden, false},
		{IDTestSignIn, PropDisabled, !canTest(s)},
		{IDAdminSignInState, PropText, adminSignInState(s)},
	}
	sets = append(sets, checkSets(s.Checks)...)
	return append(sets, fields(s)...)
}

// SaveFailed shows ✗ with the reason and, when the server ran the check,
// its steps; the form keeps what was typed. With steps, the status line
// names the failing one and the list carries its sentence, so that it is
// not shown twice.
func SaveFailed(err error) []Set {
	var checks []Check
	var ae *APIError
	if errors.As(err, &ae) {
		checks = ae.Checks
	}
	text := "✗ " + Sentence(err)
	for _, c := range checks {
		if !c.OK {
			text = "✗ Not saved: " + c.Name + " failed (see below)."
			break
		}
	}
	sets := []Set{
		{IDSave, PropDisabled, false},
		{IDSaveStatus, PropText, text},
		{IDSaveStatus, PropClass, ClassError},
		{IDSaveStatus, PropBusy, "false"},
		{IDSaveStatus, PropHidden, false},
	}
	return append(sets, checkSets(checks)...)
}

// checkSets lists the steps of the sign-in check, or hides the list.
func checkSets(checks []Check) []Set {
	if len(checks) == 0 {
		return []Set{{IDChecks, PropHidden, true}, {IDChecks, PropChildren, []Node{}}}
	}
	items := make([]Node, 0, len(checks))
	for _, c := range checks {
		mark, class := "✓ ", "ok"
		if !c.OK {
			mark, class = "✗ ", "error"
		}
		kids := []Node{{Tag: "span", Class: "mark", Text: mark}, {Tag: "strong", Text: c.Name}}
		if c.Detail != "" {
			kids = append(kids, Node{Text: ": " + c.Detail})
		}
		items = append(items, Node{Tag: "li", Class: class, Children: kids})
	}
	return []Set{{IDChecks, PropChildren, items}, {IDChecks, PropHidden, false}}
}

// Copied says what a copy button copied, or that copying failed.
func Copied(button string, err error) []Set {
	_, name, ok := CopyTarget(button)
	if !ok {
		return nil
	}
	if err != nil {
		return []Set{{IDCopyStatus, PropText, "Copying failed; select the field and press Ctrl+C."}}
	}
	return []Set{{IDCopyStatus, PropText, name + " copied."}, {button, PropText, CopiedText}}
}

// Texts of a copy button.
const (
	CopyText   = "Copy"
	CopiedText = "Copied"
)

// CopyReset gives a copy button its "Copy" back.
func CopyReset(button string) []Set { return []Set{{button, PropText, CopyText}} }

// trim drops the spaces and line breaks that pasted values often carry.
func trim(s string) string { return strings.TrimSpace(s) }
