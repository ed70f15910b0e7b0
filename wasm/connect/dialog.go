package connect

import (
	"context"
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
)

// Status classes for the status lines.
const (
	ClassOK    = "status ok"
	ClassError = "status error"
	ClassBusy  = "status busy"
)

// Set is one change to the page: element ID's property Prop becomes Value
// (a string or a bool).
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
// directly. Methods are safe for concurrent use; a second Save or Generate
// while one is running is ignored.
type Dialog struct {
	API  *API
	Page Page
	// Timeout bounds each API call; zero means 30 seconds.
	Timeout time.Duration

	mu       sync.Mutex
	settings Settings
	loaded   bool
	busy     map[string]bool
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
		d.Page.Apply(pageError(err))
		return
	}
	d.mu.Lock()
	d.settings, d.loaded = s, true
	d.mu.Unlock()
	d.Page.Apply(Loaded(s))
}

// Refresh re-reads the settings and updates only the counts, so that what
// a person is typing is kept. Errors are ignored: the counts stay.
func (d *Dialog) Refresh(ctx context.Context) {
	if _, ok := d.current(); !ok {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	s, err := d.API.Settings(ctx)
	if err != nil {
		return
	}
	d.Page.Apply(counts(s))
}

// Generate rotates the SCIM secret and shows the new one once.
func (d *Dialog) Generate(ctx context.Context) {
	s, ok := d.current()
	if !ok || !d.start("generate") {
		return
	}
	defer d.done("generate")
	d.Page.Apply(Generating())
	ctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	tok, err := d.API.RotateSecret(ctx, s.CSRF)
	if err != nil {
		d.Page.Apply(GenerateFailed(err))
		return
	}
	d.Page.Apply(Generated(tok))
}

// Save validates the sign-in form, sends it, and shows ✓ with the issuer
// or ✗ with the reason.
func (d *Dialog) Save(ctx context.Context) {
	s, ok := d.current()
	if !ok || !d.start("save") {
		return
	}
	defer d.done("save")
	in := SignIn{
		OktaDomain:   trim(d.Page.Value(IDOktaDomain)),
		ClientID:     trim(d.Page.Value(IDClientID)),
		ClientSecret: trim(d.Page.Value(IDClientSecret)),
		AuthServer:   trim(d.Page.Value(IDAuthServer)),
	}
	if err := Validate(in, s.ClientSecretSet); err != nil {
		d.Page.Apply(SaveFailed(err))
		return
	}
	d.Page.Apply(Saving())
	ctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	ns, err := d.API.SaveSignIn(ctx, s.CSRF, in)
	if err != nil {
		d.Page.Apply(SaveFailed(err))
		return
	}
	if ns.CSRF == "" {
		ns.CSRF = s.CSRF
	}
	d.mu.Lock()
	d.settings = ns
	d.mu.Unlock()
	d.Page.Apply(Saved(ns))
}

// Copied reports the outcome of a copy button; err is the clipboard's error.
func (d *Dialog) Copied(button string, err error) {
	d.Page.Apply(Copied(button, err))
}

// Loaded fills the page from settings.
func Loaded(s Settings) []Set {
	sets := []Set{
		{IDPageStatus, PropHidden, true},
		{IDSCIMURL, PropValue, s.SCIMBaseURL},
		{IDRedirectURI, PropValue, s.RedirectURI},
		{IDGenerateSecret, PropDisabled, false},
		{IDSave, PropDisabled, false},
	}
	sets = append(sets, counts(s)...)
	return append(sets, fields(s)...)
}

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
	}
}

// Generating shows that a new secret is being made.
func Generating() []Set {
	return []Set{
		{IDGenerateSecret, PropDisabled, true},
		{IDSecretStatus, PropText, "Generating a new secret…"},
		{IDSecretStatus, PropClass, ClassBusy},
		{IDSecretStatus, PropBusy, "true"},
		{IDSecretStatus, PropHidden, false},
	}
}

// Generated shows the new secret once, with its warning.
func Generated(token string) []Set {
	return []Set{
		{IDGenerateSecret, PropDisabled, false},
		{IDSecretStatus, PropText, ""},
		{IDSecretStatus, PropBusy, "false"},
		{IDSecretStatus, PropHidden, true},
		{IDSecret, PropValue, token},
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

// Saving shows the spinner while the server reads Okta's discovery document.
func Saving() []Set {
	return []Set{
		{IDSave, PropDisabled, true},
		{IDSaveStatus, PropText, "Reading Okta's discovery document…"},
		{IDSaveStatus, PropClass, ClassBusy},
		{IDSaveStatus, PropBusy, "true"},
		{IDSaveStatus, PropHidden, false},
	}
}

// Saved shows ✓ with the issuer and the saved values.
func Saved(s Settings) []Set {
	sets := []Set{
		{IDSave, PropDisabled, false},
		{IDSaveStatus, PropText, "✓ " + SavedSentence(s)},
		{IDSaveStatus, PropClass, ClassOK},
		{IDSaveStatus, PropBusy, "false"},
		{IDSaveStatus, PropHidden, false},
	}
	return append(sets, fields(s)...)
}

// SaveFailed shows ✗ with the reason; the form keeps what was typed.
func SaveFailed(err error) []Set {
	return []Set{
		{IDSave, PropDisabled, false},
		{IDSaveStatus, PropText, "✗ " + Sentence(err)},
		{IDSaveStatus, PropClass, ClassError},
		{IDSaveStatus, PropBusy, "false"},
		{IDSaveStatus, PropHidden, false},
	}
}

// Copied says what a copy button copied, or that copying failed.
func Copied(button string, err error) []Set {
	_, name, ok := CopyTarget(button)
	if !ok {
		return nil
	}
	text := name + " copied."
	if err != nil {
		text = "Copying failed; select the field and press Ctrl+C."
	}
	return []Set{{IDCopyStatus, PropText, text}}
}

// trim drops the spaces and line breaks that pasted values often carry.
func trim(s string) string { return strings.TrimSpace(s) }
