package directory

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/mail"
	"strings"
	"time"
)

// Status is an Okta user status.
type Status string

// The user statuses the mock models (Okta's "User status" lifecycle).
const (
	StatusStaged        Status = "STAGED"        // created with activate=false
	StatusProvisioned   Status = "PROVISIONED"   // activated without a password; cannot sign in yet
	StatusActive        Status = "ACTIVE"        // may sign in
	StatusSuspended     Status = "SUSPENDED"     // cannot sign in; keeps app assignments
	StatusDeprovisioned Status = "DEPROVISIONED" // deactivated; cannot sign in
)

// Profile is an Okta user profile. The named fields are Okta's base
// attributes the mock gives meaning to; Extra keeps any other attribute as
// decoded JSON so that it round-trips.
type Profile struct {
	Login       string
	Email       string
	FirstName   string
	LastName    string
	DisplayName string
	Locale      string
	Title       string
	Department  string
	Extra       map[string]any
}

func (p Profile) clone() Profile {
	p.Extra = cloneMap(p.Extra)
	return p
}

func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return cloneMap(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = cloneValue(e)
		}
		return out
	default:
		return v
	}
}

// User is an Okta user. Zero times mean "never" (null in Okta's JSON).
type User struct {
	ID              string
	Status          Status
	Created         time.Time
	Activated       time.Time
	StatusChanged   time.Time
	LastLogin       time.Time
	LastUpdated     time.Time
	PasswordChanged time.Time
	Profile         Profile
	HasPassword     bool // whether a password credential is set
}

type userRecord struct {
	User
	salt []byte
	hash []byte
}

func (r *userRecord) snapshot() User {
	u := r.User
	u.Profile = u.Profile.clone()
	return u
}

// MinPasswordLength is the mock's password policy: at least this many characters.
const MinPasswordLength = 8

func validateProfile(p Profile) error {
	if strings.TrimSpace(p.Login) == "" {
		return invalid("login", "The field cannot be left blank")
	}
	if _, err := mail.ParseAddress(p.Login); err != nil || strings.ContainsAny(p.Login, " <>") {
		return invalid("login", "Username must be in the form of an email address")
	}
	if strings.TrimSpace(p.Email) == "" {
		return invalid("email", "The field cannot be left blank")
	}
	if _, err := mail.ParseAddress(p.Email); err != nil || strings.ContainsAny(p.Email, " <>") {
		return invalid("email", "Does not match required pattern")
	}
	if strings.TrimSpace(p.FirstName) == "" {
		return invalid("firstName", "The field cannot be left blank")
	}
	if strings.TrimSpace(p.LastName) == "" {
		return invalid("lastName", "The field cannot be left blank")
	}
	return nil
}

func validatePassword(p Profile, password string) error {
	if len([]rune(password)) < MinPasswordLength {
		return invalid("password", fmt.Sprintf("Password requirements were not met. Password requirements: at least %d characters.", MinPasswordLength))
	}
	if local, _, _ := strings.Cut(p.Login, "@"); local != "" && strings.Contains(strings.ToLower(password), strings.ToLower(local)) {
		return invalid("password", "Password requirements were not met. Password requirements: no parts of your username.")
	}
	return nil
}

func hashPassword(salt []byte, password string) []byte {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(password))
	return h.Sum(nil)
}

func (r *userRecord) setPassword(password string, now time.Time) {
	r.salt = []byte(RandomString(16))
	r.hash = hashPassword(r.salt, password)
	r.HasPassword = true
	r.PasswordChanged = now
}

func (r *userRecord) passwordMatches(password string) bool {
	if !r.HasPassword {
		// still compare, so that timing says nothing about which users have one
		subtle.ConstantTimeCompare(hashPassword([]byte("x"), password), make([]byte, sha256.Size))
		return false
	}
	return subtle.ConstantTimeCompare(hashPassword(r.salt, password), r.hash) == 1
}

// findUserLocked returns the user with that id or login (case-insensitive).
func (d *Directory) findUserLocked(idOrLogin string) *userRecord {
	if r, ok := d.users[idOrLogin]; ok {
		return r
	}
	for _, id := range d.userOrder {
		if r := d.users[id]; strings.EqualFold(r.Profile.Login, idOrLogin) {
			return r
		}
	}
	return nil
}

func (d *Directory) loginTakenLocked(login, except string) bool {
	r := d.findUserLocked(login)
	return r != nil && r.ID != except && strings.EqualFold(r.Profile.Login, login)
}

// CreateUser adds a user. With activate false the user is STAGED; with
// activate true it is ACTIVE when a password is given and PROVISIONED
// otherwise, as in Okta. An empty password creates a user without a
// password credential. Errors: ErrInvalid (a FieldError), ErrExists when
// the login is taken (case-insensitively).
func (d *Directory) CreateUser(p Profile, password string, activate bool) (User, error) {
	p = p.clone()
	if err := validateProfile(p); err != nil {
		return User{}, err
	}
	if password != "" {
		if err := validatePassword(p, password); err != nil {
			return User{}, err
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.loginTakenLocked(p.Login, "") {
		return User{}, &FieldError{Field: "login", Message: "An object with this field already exists in the current organization", Kind: ErrExists}
	}
	now := d.Now()
	r := &userRecord{User: User{ID: NewID("00u"), Status: StatusStaged, Created: now, StatusChanged: now, LastUpdated: now, Profile: p}}
	if password != "" {
		r.setPassword(password, now)
	}
	if activate {
		r.Status = StatusProvisioned
		if r.HasPassword {
			r.Status = StatusActive
		}
		r.Activated = now
	}
	d.users[r.ID] = r
	d.userOrder = append(d.userOrder, r.ID)
	d.joinEveryoneLocked(r.ID, now)
	return r.snapshot(), nil
}

// joinEveryoneLocked makes a new user a member of the Everyone group and
// assigns it (scope GROUP) to every app Everyone is assigned to, as Okta
// does when a user is created.
func (d *Directory) joinEveryoneLocked(userID string, now time.Time) {
	e := d.groups[d.everyone]
	e.Members = append(e.Members, userID)
	e.LastMembershipUpdated = now
	for k := range d.appGroups {
		if k.member != d.everyone {
			continue
		}
		a := &AppUser{AppID: k.app, UserID: userID, UserName: d.users[userID].Profile.Login, Groups: []string{d.everyone},
			Status: "ACTIVE", SyncState: SyncDisabled, Created: now, LastUpdated: now, seq: d.seqBump()}
		d.appUsers[assignKey{k.app, userID}] = a
	}
}

// User returns the user with that id or login; ErrNotFound otherwise.
func (d *Directory) User(idOrLogin string) (User, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	r := d.findUserLocked(idOrLogin)
	if r == nil {
		return User{}, notFound("User", idOrLogin)
	}
	return r.snapshot(), nil
}

// Users returns every user in creation order.
func (d *Directory) Users() []User {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]User, 0, len(d.userOrder))
	for _, id := range d.userOrder {
		out = append(out, d.users[id].snapshot())
	}
	return out
}

// ReplaceProfile sets a user's whole profile, returning the user before and
// after. ErrNotFound, ErrInvalid, ErrExists as for CreateUser.
func (d *Directory) ReplaceProfile(id string, p Profile) (before, after User, err error) {
	p = p.clone()
	if err := validateProfile(p); err != nil {
		return User{}, User{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	r := d.findUserLocked(id)
	if r == nil {
		return User{}, User{}, notFound("User", id)
	}
	if d.loginTakenLocked(p.Login, r.ID) {
		return User{}, User{}, &FieldError{Field: "login", Message: "An object with this field already exists in the current organization", Kind: ErrExists}
	}
	before = r.snapshot()
	r.Profile = p
	r.LastUpdated = d.Now()
	for k, au := range d.appUsers {
		if k.member == r.ID && strings.EqualFold(au.UserName, before.Profile.Login) {
			au.UserName = p.Login // the default username template is ${source.login}
		}
	}
	return before, r.snapshot(), nil
}

// SetPassword replaces a user's password; ErrNotFound, ErrInvalid.
func (d *Directory) SetPassword(id, password string) (User, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	r := d.findUserLocked(id)
	if r == nil {
		return User{}, notFound("User", id)
	}
	if err := validatePassword(r.Profile, password); err != nil {
		return User{}, err
	}
	now := d.Now()
	r.setPassword(password, now)
	r.LastUpdated = now
	return r.snapshot(), nil
}

func (d *Directory) transition(id string, f func(r *userRecord, now time.Time) error) (User, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	r := d.findUserLocked(id)
	if r == nil {
		return User{}, notFound("User", id)
	}
	now := d.Now()
	old := r.Status
	if err := f(r, now); err != nil {
		return User{}, err
	}
	if r.Status != old {
		r.StatusChanged = now
		r.LastUpdated = now
	}
	return r.snapshot(), nil
}

// Activate activates a STAGED, PROVISIONED or DEPROVISIONED user: ACTIVE
// when it has a password, else PROVISIONED. An ACTIVE or SUSPENDED user
// gives ErrLifecycle (Okta: "Activation failed because the user is already
// active").
func (d *Directory) Activate(id string) (User, error) {
	return d.transition(id, func(r *userRecord, now time.Time) error {
		switch r.Status {
		case StatusActive, StatusSuspended:
			return fmt.Errorf("%w: activation failed because the user is already active", ErrLifecycle)
		case StatusProvisioned:
			if !r.HasPassword {
				return nil // still awaiting a password; Okta re-sends the activation
			}
		}
		r.Status = StatusProvisioned
		if r.HasPassword {
			r.Status = StatusActive
		}
		r.Activated = now
		return nil
	})
}

// Deactivate moves any user to DEPROVISIONED; a user already there is left
// as is.
func (d *Directory) Deactivate(id string) (User, error) {
	return d.transition(id, func(r *userRecord, _ time.Time) error {
		r.Status = StatusDeprovisioned
		return nil
	})
}

// Suspend moves an ACTIVE user to SUSPENDED; any other status gives ErrLifecycle.
func (d *Directory) Suspend(id string) (User, error) {
	return d.transition(id, func(r *userRecord, _ time.Time) error {
		if r.Status != StatusActive {
			return fmt.Errorf("%w: cannot suspend a user that is not active", ErrLifecycle)
		}
		r.Status = StatusSuspended
		return nil
	})
}

// Unsuspend moves a SUSPENDED user back to ACTIVE; any other status gives ErrLifecycle.
func (d *Directory) Unsuspend(id string) (User, error) {
	return d.transition(id, func(r *userRecord, _ time.Time) error {
		if r.Status != StatusSuspended {
			return fmt.Errorf("%w: cannot unsuspend a user that is not suspended", ErrLifecycle)
		}
		r.Status = StatusActive
		return nil
	})
}

// DeleteUser removes a DEPROVISIONED user with its group memberships and
// app assignments; any other status gives ErrLifecycle (Okta deactivates
// first).
func (d *Directory) DeleteUser(id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	r := d.findUserLocked(id)
	if r == nil {
		return notFound("User", id)
	}
	if r.Status != StatusDeprovisioned {
		return fmt.Errorf("%w: only a deactivated user can be deleted", ErrLifecycle)
	}
	delete(d.users, r.ID)
	d.userOrder = remove(d.userOrder, r.ID)
	for _, g := range d.groups {
		g.Members = remove(g.Members, r.ID)
	}
	for k := range d.appUsers {
		if k.member == r.ID {
			delete(d.appUsers, k)
		}
	}
	return nil
}

// Authenticate checks a login (case-insensitive) and password. Only an
// ACTIVE user may sign in: SUSPENDED, DEPROVISIONED, STAGED and PROVISIONED
// users get ErrAuthentication, as do unknown logins and wrong passwords.
// A success sets LastLogin. Every attempt is written to the System Log
// (user.session.start).
func (d *Directory) Authenticate(login, password string) (User, error) {
	d.mu.Lock()
	r := d.findUserLocked(login)
	var (
		u      User
		reason string
	)
	switch {
	case r == nil:
		hashPassword([]byte("x"), password) // keep timing alike
		reason = "VERIFICATION_ERROR"
	case !r.passwordMatches(password):
		reason = "INVALID_CREDENTIALS"
	case r.Status != StatusActive:
		reason = "User is " + string(r.Status)
	default:
		r.LastLogin = d.Now()
		u = r.snapshot()
	}
	var targetUser User
	if r != nil {
		targetUser = r.snapshot()
	}
	d.mu.Unlock()

	ev := Event{EventType: "user.session.start", DisplayMessage: "User login to Okta", Outcome: Outcome{Result: "SUCCESS"}}
	if r != nil {
		ev.Target = []Target{UserTarget(targetUser)}
	} else {
		ev.Target = []Target{{Type: "User", AlternateID: login}}
	}
	if reason != "" {
		ev.Outcome = Outcome{Result: "FAILURE", Reason: reason}
		d.Log(ev)
		return User{}, fmt.Errorf("%w: %s", ErrAuthentication, strings.ToLower(reason))
	}
	d.Log(ev)
	return u, nil
}

func remove(s []string, v string) []string {
	out := s[:0]
	for _, e := range s {
		if e != v {
			out = append(out, e)
		}
	}
	return out
}
