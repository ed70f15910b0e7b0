package mgmt

import (
	"net/http"
	"time"
)

// This file holds the provisioning tasks: every SCIM request the
// provisioning engine sent for an admin action, with its attempts and
// outcome, as Okta's provisioning Tasks show them. STUB: the owner of
// this file replaces the bodies.

// Task is one provisioning action (push a user, deactivate, push a group…)
// and its attempts.
type Task struct {
	ID       string    `json:"id"`
	AppID    string    `json:"appId"`
	Action   string    `json:"action"`          // e.g. "user.create", "user.update", "user.deactivate", "group.push", "group.members", "group.delete", "test", "import"
	ObjectID string    `json:"objectId"`        // Okta user or group id
	Status   string    `json:"status"`          // "SUCCESS", "FAILED" (gave up), "STOPPED" (a 404 ended it, as Okta does)
	Error    string    `json:"error,omitempty"` // why it failed
	Created  time.Time `json:"created"`
	Attempts []Attempt `json:"attempts"`
}

// Attempt is one HTTP request of a task.
type Attempt struct {
	Time       time.Time `json:"time"`
	Method     string    `json:"method"`
	Path       string    `json:"path"` // relative to the SCIM base URL, with the query
	Status     int       `json:"status"`
	RetryAfter string    `json:"retryAfter,omitempty"`
	Error      string    `json:"error,omitempty"` // a transport error
}

// Tasks returns the tasks of an app ("" = every app), oldest first.
func (h *Handler) Tasks(appID string) []Task { return nil }

// ServeTasks serves GET /__mock/tasks[?app=ID&status=S] as JSON
// {"tasks":[…]}; the /__mock/ mux mounts it.
func (h *Handler) ServeTasks(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"tasks": h.Tasks(r.URL.Query().Get("app"))})
}
