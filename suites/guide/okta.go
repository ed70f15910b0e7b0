package guide

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// oktaAdmin calls an Okta org's management API the way a script written
// for Okta does: SSWS token, Okta's request bodies.
type oktaAdmin struct {
	base, token string
	client      *http.Client
}

// oktaError is the error body of Okta's management API.
type oktaError struct {
	Code    string `json:"errorCode"`
	Summary string `json:"errorSummary"`
	Causes  []struct {
		Summary string `json:"errorSummary"`
	} `json:"errorCauses"`
}

func (o *oktaAdmin) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, o.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "SSWS "+o.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := o.client.Do(req)
	if err != nil {
		return fmt.Errorf("okta %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("okta %s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var e oktaError
		if json.Unmarshal(data, &e) == nil && e.Summary != "" {
			msg := e.Summary
			for _, c := range e.Causes {
				msg += "; " + c.Summary
			}
			return fmt.Errorf("okta %s %s: %d %s: %s", method, path, resp.StatusCode, e.Code, msg)
		}
		return fmt.Errorf("okta %s %s: %d %s", method, path, resp.StatusCode, strings.TrimSpace(string(data)))
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("okta %s %s: decode: %w", method, path, err)
		}
	}
	return nil
}

type oktaUser struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Profile struct {
		Login     string `json:"login"`
		Email     string `json:"email"`
		FirstName string `json:"firstName"`
		LastName  string `json:"lastName"`
	} `json:"profile"`
}

func (o *oktaAdmin) createUser(ctx context.Context, first, last, login, password string) (oktaUser, error) {
	var u oktaUser
	err := o.do(ctx, "POST", "/api/v1/users?activate=true", map[string]any{
		"profile":     map[string]any{"firstName": first, "lastName": last, "email": login, "login": login},
		"credentials": map[string]any{"password": map[string]any{"value": password}},
	}, &u)
	return u, err
}

func (o *oktaAdmin) createGroup(ctx context.Context, name string) (string, error) {
	var g struct {
		ID string `json:"id"`
	}
	err := o.do(ctx, "POST", "/api/v1/groups", map[string]any{"profile": map[string]any{"name": name, "description": "pushed by the Connect Okta guide"}}, &g)
	return g.ID, err
}

type oktaApp struct {
	ID          string `json:"id"`
	Credentials struct {
		OAuthClient struct {
			ClientID     string `json:"client_id"`
			ClientSecret string `json:"client_secret"`
		} `json:"oauthClient"`
	} `json:"credentials"`
}
