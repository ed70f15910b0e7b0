package login

import "net/http"

// KindTestSignIn is the store.Token kind of a test sign-in's outcome.
const KindTestSignIn = "test-sign-in"

// handleTestSignIn answers GET …/admin/test-sign-in?id=ID: it starts a
// sign-in whose outcome is kept for the dialog instead of a session.
// TODO(helper B).
func (h *Handler) handleTestSignIn(w http.ResponseWriter, r *http.Request) {
	h.page(w, http.StatusNotImplemented, page{Title: "Not yet", Message: "Not yet."})
}

// handleTestSignInResult answers GET …/admin/api/test-sign-in?id=ID
// (adminapi.TestSignIn). TODO(helper B).
func (h *Handler) handleTestSignInResult(w http.ResponseWriter, r *http.Request) {
	writeJSONError(w, http.StatusNotImplemented, "server_error", "not yet")
}
