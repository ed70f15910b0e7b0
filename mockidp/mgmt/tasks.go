package mgmt

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/idpkit/idpkit/mockidp/directory"
	"github.com/idpkit/idpkit/mockidp/provision"
)

// This file holds the provisioning tasks: every SCIM request the
// provisioning engine sent for an admin action, with its attempts and
// outcome, as Okta's Dashboard > Tasks shows failed provisioning. Okta
// retries a failing request a few times (provision.Engine.MaxAttempts),
// then shows the task as failed until an admin retries it (RetryTask).

// MaxTasks is how many tasks a Handler keeps; the oldest are dropped first.
const MaxTasks = 10000

// Task statuses.
const (
	TaskInProgress = "IN_PROGRESS" // its requests are being sent
	TaskSuccess    = "SUCCESS"
	TaskFailed     = "FAILED"  // an answer other than success, after the retries
	TaskStopped    = "STOPPED" // a 404 on the GET before a push ended it, as Okta does (provision.ErrStopped)
)

// Task actions.
const (
	ActionTest           = "test"            // Test API Credentials
	ActionSettings       = "settings"        // the group list read when the To App settings are saved
	ActionImport         = "import"          // Import Now
	ActionUserCreate     = "user.create"     // push a new user (lookup, then POST, reactivate or adopt)
	ActionUserReactivate = "user.reactivate" // reactivate a user the app has as inactive
	ActionUserUpdate     = "user.update"     // push a profile change
	ActionUserDeactivate = "user.deactivate" // unassigned, deactivated or suspended in Okta
	ActionUserPassword   = "user.password"   // Sync Password: the user's password changed
	ActionGroupPush      = "group.push"      // Group Push of a new group
	ActionGroupMembers   = "group.members"   // membership changes of a pushed group (with its rename)
	ActionGroupRename    = "group.rename"    // a pushed group's new name
	ActionGroupDelete    = "group.delete"    // unlink a pushed group, deleting it in the app
)

var taskStatuses = []string{TaskInProgress, TaskSuccess, TaskFailed, TaskStopped}

// Task is one provisioning action (push a user, deactivate, push a group…)
// and its attempts.
type Task struct {
	ID       string    `json:"id"`
	AppID    string    `json:"appId"`
	Action   string    `json:"action"`          // one of the Action constants
	ObjectID string    `json:"objectId"`        // Okta user or group id; empty for test, settings and import
	Status   string    `json:"status"`          // TaskSuccess, TaskFailed, TaskStopped (or TaskInProgress while it runs)
	Error    string    `json:"error,omitempty"` // why it failed or stopped
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"lastUpdated"`       // when it last ended
	Retried  int       `json:"retried,omitempty"` // how often an admin retried it (RetryTask)
	Attempts []Attempt `json:"attempts"`
}

// Attempt is one HTTP request of a task.
type Attempt struct {
	Time       time.Time `json:"time"`
	Method     string    `json:"method"`
	Path       string    `json:"path"` // relative to the SCIM base URL, with the query
	Status     int       `json:"status"`
	RetryAfter string    `json:"retryAfter,omitempty"`
	Error      string    `json:"error,omitempty"`  // a transport error
	WaitMs     int64     `json:"waitMs,omitempty"` // the wait before the next attempt of this request
}

// taskFunc runs a task's provisioning against the app as it is now.
type taskFunc func(ctx context.Context, app directory.App, p *directory.Provisioning) error

type taskRecord struct {
	task Task
	run  taskFunc
	// anyConnection lets the task run while the connection is not enabled
	// (Test API Credentials is what enables it).
	anyConnection bool
}

// taskLog keeps the newest MaxTasks tasks, oldest first.
type taskLog struct {
	mu   sync.Mutex
	list []*taskRecord
	byID map[string]*taskRecord
}

func (l *taskLog) add(tr *taskRecord) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byID == nil {
		l.byID = map[string]*taskRecord{}
	}
	if len(l.list) >= MaxTasks {
		drop := len(l.list) - MaxTasks + 1
		for _, old := range l.list[:drop] {
			delete(l.byID, old.task.ID)
		}
		l.list = slices.Delete(l.list, 0, drop)
	}
	l.list = append(l.list, tr)
	l.byID[tr.task.ID] = tr
}

func (l *taskLog) get(id string) (*taskRecord, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	tr, ok := l.byID[id]
	return tr, ok
}

func (l *taskLog) update(tr *taskRecord, f func(*Task)) Task {
	l.mu.Lock()
	defer l.mu.Unlock()
	f(&tr.task)
	return cloneTask(tr.task)
}

func (l *taskLog) snapshot(match func(Task) bool) []Task {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []Task{}
	for _, tr := range l.list {
		if match(tr.task) {
			out = append(out, cloneTask(tr.task))
		}
	}
	return out
}

func cloneTask(t Task) Task {
	t.Attempts = slices.Clone(t.Attempts)
	if t.Attempts == nil {
		t.Attempts = []Attempt{}
	}
	return t
}

// errNotEnabled fails a task whose app cannot be sent requests any more.
var errNotEnabled = errors.New("mgmt: the app's provisioning connection is not enabled")

// runTask records a provisioning action as a task and runs it.
func (h *Handler) runTask(ctx context.Context, app directory.App, action, objectID string, run taskFunc) error {
	return h.startTask(ctx, app, action, objectID, false, run)
}

func (h *Handler) startTask(ctx context.Context, app directory.App, action, objectID string, anyConnection bool, run taskFunc) error {
	now := h.now()
	tr := &taskRecord{
		task: Task{ID: directory.NewID("tsk"), AppID: app.ID, Action: action, ObjectID: objectID, Status: TaskInProgress, Created: now, Updated: now, Attempts: []Attempt{}},
		run:  run, anyConnection: anyConnection,
	}
	h.tasks.add(tr)
	return h.execTask(ctx, tr)
}

// execTask runs tr against the app as it is now, records every attempt
// and sets the outcome. Callers hold h.mu.
func (h *Handler) execTask(ctx context.Context, tr *taskRecord) error {
	app, err := h.dir.App(tr.task.AppID)
	if err == nil && (app.Provisioning == nil || !app.Provisioning.Active() && !tr.anyConnection) {
		err = errNotEnabled
	}
	if err == nil {
		pctx, cancel := provisionContext(ctx)
		pctx = provision.WithTrace(pctx, &provision.Trace{Attempt: func(a provision.Attempt) {
			at := Attempt{Time: h.now(), Method: a.Method, Path: a.Path, Status: a.Status, RetryAfter: a.RetryAfter, WaitMs: a.Wait.Milliseconds()}
			if a.Err != nil {
				at.Error = a.Err.Error()
			}
			h.tasks.update(tr, func(t *Task) { t.Attempts = append(t.Attempts, at) })
		}})
		err = tr.run(pctx, app, app.Provisioning)
		cancel()
	}
	h.tasks.update(tr, func(t *Task) {
		t.Updated = h.now()
		switch {
		case err == nil:
			t.Status, t.Error = TaskSuccess, ""
		case errors.Is(err, provision.ErrStopped):
			t.Status, t.Error = TaskStopped, err.Error()
		default:
			t.Status, t.Error = TaskFailed, err.Error()
		}
	})
	return err
}

// Tasks returns the tasks of an app ("" = every app), oldest first.
func (h *Handler) Tasks(appID string) []Task {
	return h.tasks.snapshot(func(t Task) bool { return appID == "" || t.AppID == appID })
}

// Task returns one task; a *directory.NotFoundError when it is unknown
// (or was dropped as one of more than MaxTasks).
func (h *Handler) Task(id string) (Task, error) {
	tr, ok := h.tasks.get(id)
	if !ok {
		return Task{}, &directory.NotFoundError{Kind: "Task", ID: id}
	}
	return h.tasks.update(tr, func(*Task) {}), nil
}

// ErrTaskNotRetryable is returned by RetryTask for a task that succeeded
// or is still running.
var ErrTaskNotRetryable = apiError(http.StatusBadRequest, "E0000001", "Api validation failed: status", "status: only FAILED and STOPPED tasks can be retried")

// RetryTask is the admin's Retry on a failed task: the task's action runs
// again, against the app's connection as it is now (so a corrected token
// or base URL is used), with the same retries; its new attempts are added
// to the task and its status and error replaced.
func (h *Handler) RetryTask(ctx context.Context, id string) (Task, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	tr, ok := h.tasks.get(id)
	if !ok {
		return Task{}, &directory.NotFoundError{Kind: "Task", ID: id}
	}
	retryable := false
	h.tasks.update(tr, func(t *Task) {
		if t.Status == TaskFailed || t.Status == TaskStopped {
			retryable = true
			t.Status, t.Error = TaskInProgress, ""
			t.Retried++
		}
	})
	if !retryable {
		return Task{}, ErrTaskNotRetryable
	}
	h.execTask(ctx, tr)
	return h.Task(id)
}

// ServeTasks serves GET /__mock/tasks[?app=ID&status=S&action=A] as JSON
// {"tasks":[…]}, oldest first; the /__mock/ mux mounts it. An unknown
// status is 400 E0000001.
func (h *Handler) ServeTasks(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	app, status, action := q.Get("app"), strings.ToUpper(q.Get("status")), q.Get("action")
	if status != "" && !slices.Contains(taskStatuses, status) {
		h.validation(w, "status", "status: must be one of "+strings.Join(taskStatuses, ", "))
		return
	}
	tasks := h.tasks.snapshot(func(t Task) bool {
		return (app == "" || t.AppID == app) && (status == "" || t.Status == status) && (action == "" || t.Action == action)
	})
	writeJSON(w, http.StatusOK, map[string]any{"tasks": tasks})
}

// ServeRetryTask serves POST /__mock/tasks/{id}/retry (RetryTask): 200 with
// the task, 404 E0000007 for an unknown task, 400 E0000001 for one that
// cannot be retried.
func (h *Handler) ServeRetryTask(w http.ResponseWriter, r *http.Request) {
	t, err := h.RetryTask(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}
