package connect

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidate(t *testing.T) {
	full := SignIn{OktaDomain: "dev-1.okta.com", ClientID: "0oa1", ClientSecret: "s"}
	tests := []struct {
		name        string
		in          SignIn
		secretSaved bool
		want        string // Sentence of the error; "" for none
	}{
		{"complete", full, false, ""},
		{"no domain", SignIn{ClientID: "0oa1", ClientSecret: "s"}, false, "Enter your Okta domain, for example example.okta.com."},
		{"blank domain", SignIn{OktaDomain: "  ", ClientID: "0oa1", ClientSecret: "s"}, false, "Enter your Okta domain, for example example.okta.com."},
		{"space in domain", SignIn{OktaDomain: "dev 1.okta.com", ClientID: "0oa1", ClientSecret: "s"}, false,
			"The Okta domain cannot contain spaces; copy it from Okta's admin console, for example example.okta.com."},
		{"no client id", SignIn{OktaDomain: "d", ClientSecret: "s"}, false, "Enter the Client ID of the OIDC app integration in Okta."},
		{"no secret", SignIn{OktaDomain: "d", ClientID: "c"}, false, "Enter the Client secret of the OIDC app integration in Okta."},
		{"no secret but saved", SignIn{OktaDomain: "d", ClientID: "c"}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.in, tt.secretSaved)
			if diff := cmp.Diff(tt.want, Sentence(err)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if err != nil && !errors.Is(err, ErrInvalidInput) {
				t.Errorf("error %v does not match ErrInvalidInput", err)
			}
		})
	}
}

func TestSentence(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"description wins", &APIError{Status: 400, Code: "invalid_request", Description: "The Okta domain example.okta.con could not be reached."},
			"The Okta domain example.okta.con could not be reached."},
		{"server style", &APIError{Status: 401, Code: "login_required", Description: "the admin session is missing or has expired; open a new admin link"},
			"The admin session is missing or has expired; open a new admin link."},
		{"question", &APIError{Status: 400, Description: "is the domain right?"}, "Is the domain right?"},
		{"starts with a URL", &APIError{Status: 400, Description: "http://127.0.0.1:9/.well-known/openid-configuration could not be reached"},
			"http://127.0.0.1:9/.well-known/openid-configuration could not be reached."},
		{"starts with https", &APIError{Status: 400, Description: "https://dev-1.okta.com answered 404."}, "https://dev-1.okta.com answered 404."},
		{"starts with a host", &APIError{Status: 400, Description: "dev-1.okta.com answered 404"}, "dev-1.okta.com answered 404."},
		{"starts with an address", &APIError{Status: 400, Description: "127.0.0.1:9 refused the connection"}, "127.0.0.1:9 refused the connection."},
		{"starts with host and port", &APIError{Status: 400, Description: "localhost:8080 refused the connection"}, "localhost:8080 refused the connection."},
		{"a word with a colon", &APIError{Status: 400, Description: "note: fix it"}, "Note: fix it."},
		{"wrapped description", fmt.Errorf("x: %w", &APIError{Status: 400, Description: "Fix it."}), "Fix it."},
		{"401", &APIError{Status: 401}, "Your admin session has ended; open a new admin link for this tenant and try again."},
		{"403", &APIError{Status: 403, Code: "forbidden"}, "Your admin session has ended; open a new admin link for this tenant and try again."},
		{"404", &APIError{Status: 404}, "This tenant does not exist on the idpkit server."},
		{"429", &APIError{Status: 429}, "Too many requests; wait a moment and try again."},
		{"500", &APIError{Status: 500}, "The idpkit server failed (HTTP 500); try again, and check its log if this keeps happening."},
		{"code only", &APIError{Status: 400, Code: "invalid_client"}, "The idpkit server refused the request (invalid_client)."},
		{"status only", &APIError{Status: 409}, "The idpkit server refused the request (HTTP 409)."},
		{"timeout", fmt.Errorf("connect: GET: %w", context.DeadlineExceeded), "The idpkit server did not answer in time; try again."},
		{"cancelled", context.Canceled, "The request was cancelled."},
		{"bad answer", fmt.Errorf("%w: x", ErrBadAnswer), "The idpkit server sent an answer this page cannot read; reload the page and try again."},
		{"other", errors.New("dial tcp: refused"), "The idpkit server could not be reached; check that it is running and try again."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Sentence(tt.err)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSavedSentence(t *testing.T) {
	tests := []struct {
		name string
		s    Settings
		want string
	}{
		{"issuer", Settings{OktaDomain: "https://d", Issuer: "https://d/oauth2/default"}, "Saved. Okta's discovery document was read: issuer https://d/oauth2/default."},
		{"no issuer", Settings{OktaDomain: "https://d"}, "Saved. Okta's discovery document was read: issuer https://d."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, SavedSentence(tt.s)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestAPIErrorText(t *testing.T) {
	tests := []struct {
		name string
		err  *APIError
		want string
	}{
		{"full", &APIError{Status: 400, Code: "invalid_request", Description: "Bad."}, "connect: HTTP 400 invalid_request: Bad."},
		{"status", &APIError{Status: 502}, "connect: HTTP 502"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.err.Error()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
