package login

import (
	"net/http"
	"strconv"
	"time"

	"github.com/idpkit/idpkit/scim/httpx"
)

// allowAttempt reports whether the request's address has failure budget
// left under Config.Limiter; when it has not, it has written the 429
// page. It is for steps that check no credential themselves (starting an
// admin sign-in); a step that checks a credential (an admin link, a
// sign-in callback's state) always checks it and calls failedAttempt
// when it fails, so that the right credential passes even from an
// address over its budget.
func (h *Handler) allowAttempt(w http.ResponseWriter, r *http.Request) bool {
	retry, ok := h.limiter.Allow(r.RemoteAddr, r.PathValue("tenant"))
	if !ok {
		h.tooManyAttempts(w, r, retry)
	}
	return ok
}

// failedAttempt counts a failed attempt of the request's address (only
// the address: these attempts spend no tenant budget) and reports whether
// the address is over its budget, in which case it has written the 429
// page and the caller writes nothing more.
func (h *Handler) failedAttempt(w http.ResponseWriter, r *http.Request) bool {
	retry, limited := h.limiter.Failed(r.RemoteAddr, "")
	if limited {
		h.tooManyAttempts(w, r, retry)
	}
	return limited
}

// tooManyAttempts writes a 429 page with Retry-After.
func (h *Handler) tooManyAttempts(w http.ResponseWriter, r *http.Request, retry time.Duration) {
	secs := httpx.RetryAfterSeconds(retry)
	h.auditRateLimited(r)
	h.log.WarnContext(r.Context(), "too many failed attempts", "tenant", r.PathValue("tenant"), "path", r.URL.Path, "remote", r.RemoteAddr, "retryAfter", secs)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	wait := "a minute"
	if secs < 60 {
		wait = strconv.Itoa(secs) + " seconds"
		if secs == 1 {
			wait = "a second"
		}
	}
	h.page(w, http.StatusTooManyRequests, page{Title: "Too many attempts", Message: "There were too many failed attempts from your network; wait " + wait + ", then try again."})
}
