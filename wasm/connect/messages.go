package connect

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrInvalidInput is wrapped by Validate's errors; their text after the
// prefix is the sentence the dialog shows.
var ErrInvalidInput = errors.New("connect: invalid input")

// inputError is a Validate failure carrying the sentence for the person.
type inputError struct{ sentence string }

func (e *inputError) Error() string { return "connect: " + e.sentence }
func (e *inputError) Unwrap() error { return ErrInvalidInput }

// Validate checks the form before it is sent: the Okta domain and the client
// ID are required, and the client secret unless one is saved already.
func Validate(in SignIn, secretSaved bool) error {
	switch {
	case strings.TrimSpace(in.OktaDomain) == "":
		return &inputError{"Enter your Okta domain, for example example.okta.com."}
	case strings.ContainsAny(strings.TrimSpace(in.OktaDomain), " \t"):
		return &inputError{"The Okta domain cannot contain spaces; copy it from Okta's admin console, for example example.okta.com."}
	case strings.TrimSpace(in.ClientID) == "":
		return &inputError{"Enter the Client ID of the OIDC app integration in Okta."}
	case in.ClientSecret == "" && !secretSaved:
		return &inputError{"Enter the Client secret of the OIDC app integration in Okta."}
	}
	return nil
}

// Sentence turns an error of this package into a sentence a person can act
// on; nil gives "".
func Sentence(err error) string {
	if err == nil {
		return ""
	}
	var ie *inputError
	if errors.As(err, &ie) {
		return ie.sentence
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return apiSentence(ae)
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "The idpkit server did not answer in time; try again."
	case errors.Is(err, context.Canceled):
		return "The request was cancelled."
	case errors.Is(err, ErrBadAnswer):
		return "The idpkit server sent an answer this page cannot read; reload the page and try again."
	}
	return "The idpkit server could not be reached; check that it is running and try again."
}

func apiSentence(e *APIError) string {
	if d := strings.TrimSpace(e.Description); d != "" {
		return asSentence(d)
	}
	switch {
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		return "Your admin session has ended; open a new admin link for this tenant and try again."
	case e.Status == http.StatusNotFound:
		return "This tenant does not exist on the idpkit server."
	case e.Status == http.StatusTooManyRequests:
		return "Too many requests; wait a moment and try again."
	case e.Status >= 500:
		return fmt.Sprintf("The idpkit server failed (HTTP %d); try again, and check its log if this keeps happening.", e.Status)
	case e.Code != "":
		return fmt.Sprintf("The idpkit server refused the request (%s).", e.Code)
	}
	return fmt.Sprintf("The idpkit server refused the request (HTTP %d).", e.Status)
}

// SavedSentence is the success text after saving sign-in settings.
func SavedSentence(s Settings) string {
	issuer := s.Issuer
	if issuer == "" {
		issuer = s.OktaDomain
	}
	return "Saved. Okta's discovery document was read: issuer " + issuer + "."
}

// asSentence starts s with a capital letter and ends it with a full stop,
// as the server writes its descriptions in error style ("the admin session
// has expired; open a new admin link").
// A sentence that starts with a URL or a host name keeps its first letter.
func asSentence(s string) string {
	if !startsWithAddress(s) {
		r, n := utf8.DecodeRuneInString(s)
		s = string(unicode.ToUpper(r)) + s[n:]
	}
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "!") && !strings.HasSuffix(s, "?") {
		s += "."
	}
	return s
}

// startsWithAddress reports whether s's first word is a URL
// ("http://127.0.0.1:9/…", "https://…", any word with "://") or a host
// name ("dev-1.okta.com", "127.0.0.1:8080"), which keep their case.
func startsWithAddress(s string) bool {
	word, _, _ := strings.Cut(s, " ")
	word = strings.TrimRight(word, ":;,.")
	if strings.Contains(word, "://") {
		return true
	}
	if word == "" || word != strings.ToLower(word) {
		return false
	}
	host, _, _ := strings.Cut(word, "/")
	host, port, hasPort := strings.Cut(host, ":")
	if hasPort && port != "" && strings.Trim(port, "0123456789") == "" && host != "" {
		return true // "localhost:8080"
	}
	// A host: dot-separated labels of letters, digits and hyphens,
	// at least two of them, none empty.
	labels := strings.Split(host, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" {
			return false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}
