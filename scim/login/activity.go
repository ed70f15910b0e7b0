package login

import "net/http"

// handleActivity answers GET …/admin/api/activity (adminapi.Activity).
// TODO(helper A).
func (h *Handler) handleActivity(w http.ResponseWriter, r *http.Request) {
	writeJSONError(w, http.StatusNotImplemented, "server_error", "not yet")
}
