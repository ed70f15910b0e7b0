package directory

import (
	"crypto/rand"
	"fmt"
	"strings"
	"time"
)

// Event is one System Log entry, in the fields of Okta's LogEvent.
type Event struct {
	UUID            string
	Published       time.Time
	EventType       string // e.g. "application.provision.user.push"
	LegacyEventType string // e.g. "app.user_management.push_new_user"
	DisplayMessage  string
	Severity        string // "INFO" (default), "WARN", "ERROR"
	Outcome         Outcome
	Target          []Target
}

// Outcome is an event's result: "SUCCESS" or "FAILURE", with a reason.
type Outcome struct {
	Result string
	Reason string
}

// Target is an object an event is about.
type Target struct {
	ID          string
	Type        string // "User", "UserGroup", "AppInstance", "AppUser"
	AlternateID string
	DisplayName string
}

// UserTarget describes a user as an event target.
func UserTarget(u User) Target {
	name := strings.TrimSpace(u.Profile.FirstName + " " + u.Profile.LastName)
	return Target{ID: u.ID, Type: "User", AlternateID: u.Profile.Login, DisplayName: name}
}

// GroupTarget describes a group as an event target.
func GroupTarget(g Group) Target {
	return Target{ID: g.ID, Type: "UserGroup", AlternateID: g.Name, DisplayName: g.Name}
}

// AppTarget describes an app as an event target.
func AppTarget(a App) Target {
	return Target{ID: a.ID, Type: "AppInstance", AlternateID: a.Label, DisplayName: a.Label}
}

// MaxEvents is how many events the System Log keeps; older ones are dropped.
const MaxEvents = 10000

func uuid4() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// Log appends an event, filling in UUID, Published and Severity, and
// returns it.
func (d *Directory) Log(e Event) Event {
	if e.UUID == "" {
		e.UUID = uuid4()
	}
	if e.Published.IsZero() {
		e.Published = d.Now()
	}
	if e.Severity == "" {
		e.Severity = "INFO"
		if e.Outcome.Result == "FAILURE" {
			e.Severity = "WARN"
		}
	}
	e.Target = append([]Target(nil), e.Target...)
	d.log.Debug("system log", "eventType", e.EventType, "result", e.Outcome.Result, "reason", e.Outcome.Reason)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.events = append(d.events, e)
	// Trim only once the log holds twice MaxEvents, so that appending stays
	// O(1) amortised: trimming at every event past MaxEvents copied 10,000
	// events per sign-in under load. Events reads only the newest MaxEvents.
	if len(d.events) >= 2*MaxEvents {
		d.events = append([]Event(nil), d.events[len(d.events)-MaxEvents:]...)
	}
	return e
}

// Events returns, oldest first, the events published at or after since (zero:
// all), at most limit of them (limit ≤ 0: all).
func (d *Directory) Events(since time.Time, limit int) []Event {
	d.mu.RLock()
	defer d.mu.RUnlock()
	var out []Event
	kept := d.events
	if len(kept) > MaxEvents {
		kept = kept[len(kept)-MaxEvents:]
	}
	for _, e := range kept {
		if !since.IsZero() && e.Published.Before(since) {
			continue
		}
		e.Target = append([]Target(nil), e.Target...)
		out = append(out, e)
		if limit > 0 && len(out) == limit {
			break
		}
	}
	return out
}
