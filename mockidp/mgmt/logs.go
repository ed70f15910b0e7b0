package mgmt

import (
	"net/http"
	"strconv"
	"time"

	"github.com/idpkit/idpkit/mockidp/directory"
)

// GET /api/v1/logs?since=&limit=&after=: the System Log, oldest first.
func (h *Handler) listLogs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var since time.Time
	if s := q.Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			h.validation(w, "since", "since: must be an ISO 8601 date-time, such as 2024-03-21T09:00:00.000Z")
			return
		}
		since = t
	}
	events := h.dir.Events(since, 0)
	if s := q.Get("filter"); s != "" {
		f, ok := parseFilter(s)
		if !ok {
			h.writeError(w, http.StatusBadRequest, "E0000031", "Invalid search criteria.", []string{"filter: unsupported expression " + strconv.Quote(s)})
			return
		}
		var out []directory.Event
		for _, e := range events {
			m, known := match(f, func(attr string) (string, bool) {
				switch attr {
				case "eventType":
					return e.EventType, true
				case "outcome.result":
					return e.Outcome.Result, true
				case "legacyEventType":
					return e.LegacyEventType, true
				}
				return "", false
			})
			if !known {
				h.writeError(w, http.StatusBadRequest, "E0000031", "Invalid search criteria.", []string{"filter: unsupported attribute in " + strconv.Quote(s)})
				return
			}
			if m {
				out = append(out, e)
			}
		}
		events = out
	}
	writePage(h, w, r, events, func(e directory.Event) string { return e.UUID }, 100, 1000, eventJSON)
}
