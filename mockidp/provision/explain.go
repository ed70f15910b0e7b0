package provision

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/client"
)

// AnswerError is a failed request told as an admin reads it in Okta:
// Sentence says in one sentence what the SCIM server answered (or that it
// could not be reached), with no chain of package prefixes. Test API
// Credentials fails with one; errors.Is and errors.As still reach the
// cause (a *scim.Error, a *url.Error).
type AnswerError struct {
	Action   string // such as "test credentials"
	Sentence string // such as "the SCIM server answered 401 Unauthorized to GET /Users?startIndex=1&count=2: the bearer token is not valid"
	Err      error  // the cause
}

// Error returns "provision: <action>: <sentence>".
func (e *AnswerError) Error() string { return "provision: " + e.Action + ": " + e.Sentence }

// Unwrap returns the cause.
func (e *AnswerError) Unwrap() error { return e.Err }

// Explain returns the sentence of an AnswerError in err's chain, else
// err's text; "" for nil.
func Explain(err error) string {
	if err == nil {
		return ""
	}
	var ae *AnswerError
	if errors.As(err, &ae) {
		return ae.Sentence
	}
	return err.Error()
}

// answer describes the outcome of one request to the SCIM server at base
// in one sentence: the status it answered with its SCIM detail, or why it
// could not be reached.
func answer(base, method, path string, resp *client.Response, err error) string {
	req := method + " " + path
	if resp == nil {
		return "the SCIM server at " + base + " could not be reached: " + unreachable(err)
	}
	s := "the SCIM server answered " + statusText(resp.Status) + " to " + req
	if resp.Status >= 200 && resp.Status <= 299 {
		return s // the caller says what was wrong with it
	}
	var se *scim.Error
	ct := strings.ToLower(resp.Header.Get("Content-Type"))
	if errors.As(err, &se) && strings.Contains(ct, "json") {
		if d := strings.TrimSpace(se.Detail); d != "" {
			s += ": " + strings.TrimSuffix(d, ".")
		}
	} else if mt, _, _ := strings.Cut(ct, ";"); mt != "" {
		s += " with a " + strings.TrimSpace(mt) + " page, not a SCIM error"
	}
	switch resp.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		s += " (is the API token the app's SCIM secret?)"
	case http.StatusNotFound:
		s += " (is the base URL the app's SCIM base URL, such as https://app.example.com/scim/v2?)"
	}
	return s
}

// statusText renders 401 as "401 Unauthorized".
func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return strconv.Itoa(code) + " " + t
	}
	return strconv.Itoa(code)
}

// unreachable says why a request got no answer.
func unreachable(err error) string {
	var (
		dns  *net.DNSError
		cert *tls.CertificateVerificationError
		ua   x509.UnknownAuthorityError
		host x509.HostnameError
		inv  x509.CertificateInvalidError
		rec  tls.RecordHeaderError
		ne   net.Error
	)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "the connection was refused (nothing listens at that address)"
	case errors.As(err, &dns) && dns.IsNotFound:
		return "the host name " + dns.Name + " does not resolve"
	case errors.As(err, &dns):
		return "the host name " + dns.Name + " could not be looked up (" + dns.Err + ")"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "it did not answer in time"
	case errors.As(err, &host):
		return "its TLS certificate is not for that host (" + host.Error() + ")"
	case errors.As(err, &ua), errors.As(err, &cert), errors.As(err, &inv):
		return "its TLS certificate is not trusted (" + innermost(err) + ")"
	case errors.As(err, &rec):
		return "it does not speak TLS (is the URL http:// rather than https://?)"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "it closed the connection"
	}
	return innermost(err)
}

// innermost returns the text of the deepest error in a chain of single
// wrappers (past url.Error, net.OpError and the like), which carries no
// package prefixes.
func innermost(err error) string {
	if err == nil {
		return "no answer"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

// answerError builds the AnswerError of a failed request; more, when
// set, ends the sentence (", where … was expected").
func answerError(action, base, method, path string, resp *client.Response, err error, more string) error {
	if err == nil {
		err = fmt.Errorf("%s %s answered %d", method, path, resp.Status)
	}
	return &AnswerError{Action: action, Sentence: answer(base, method, path, resp, err) + more, Err: err}
}
