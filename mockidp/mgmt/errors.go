package mgmt

import (
	"errors"
	"net/http"
	"strings"

	"github.com/idpkit/idpkit/mockidp/directory"
)

// Error is an Okta API error object.
type Error struct {
	Status       int          `json:"-"`
	ErrorCode    string       `json:"errorCode"`
	ErrorSummary string       `json:"errorSummary"`
	ErrorLink    string       `json:"errorLink"`
	ErrorID      string       `json:"errorId"`
	ErrorCauses  []ErrorCause `json:"errorCauses"`
}

// ErrorCause is one entry of Error.ErrorCauses.
type ErrorCause struct {
	ErrorSummary string `json:"errorSummary"`
}

// Error returns "mgmt: <code>: <summary>".
func (e *Error) Error() string { return "mgmt: " + e.ErrorCode + ": " + e.ErrorSummary }

func (h *Handler) writeError(w http.ResponseWriter, status int, code, summary string, causes []string) {
	e := Error{ErrorCode: code, ErrorSummary: summary, ErrorLink: code, ErrorID: "oae" + directory.RandomString(22), ErrorCauses: []ErrorCause{}}
	for _, c := range causes {
		e.ErrorCauses = append(e.ErrorCauses, ErrorCause{ErrorSummary: c})
	}
	writeJSON(w, status, e)
}

func (h *Handler) validation(w http.ResponseWriter, field string, causes ...string) {
	h.writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: "+field, causes)
}

func (h *Handler) notFound(w http.ResponseWriter, id, kind string) {
	h.writeError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+id+" ("+kind+")", nil)
}

// fail renders an error from the directory or from this package.
func (h *Handler) fail(w http.ResponseWriter, err error) {
	var (
		fe *directory.FieldError
		nf *directory.NotFoundError
		oe *Error
	)
	switch {
	case errors.As(err, &oe):
		e := *oe
		e.ErrorLink, e.ErrorID = e.ErrorCode, "oae"+directory.RandomString(22)
		if e.ErrorCauses == nil {
			e.ErrorCauses = []ErrorCause{}
		}
		writeJSON(w, oe.Status, e)
	case errors.As(err, &fe):
		h.validation(w, fe.Field, fe.Field+": "+fe.Message)
	case errors.As(err, &nf):
		h.notFound(w, nf.ID, nf.Kind)
	case errors.Is(err, directory.ErrLifecycle):
		msg := strings.TrimPrefix(err.Error(), directory.ErrLifecycle.Error()+": ")
		if strings.Contains(msg, "already active") {
			h.writeError(w, http.StatusForbidden, "E0000016", "Activation failed because the user is already active", nil)
			return
		}
		h.validation(w, msg, msg)
	default:
		h.log.Error("mgmt: internal error", "err", err)
		h.writeError(w, http.StatusInternalServerError, "E0000009", "Internal Server Error", nil)
	}
}

func apiError(status int, code, summary string, causes ...string) *Error {
	e := &Error{Status: status, ErrorCode: code, ErrorSummary: summary}
	for _, c := range causes {
		e.ErrorCauses = append(e.ErrorCauses, ErrorCause{ErrorSummary: c})
	}
	return e
}
