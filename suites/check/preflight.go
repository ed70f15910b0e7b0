package check

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// ErrTokenRefused matches, with errors.Is, the error of Preflight when the
// target answered 401 or 403 to the token.
var ErrTokenRefused = errors.New("check: the server refused the token")

// Preflight sends one GET /Users?startIndex=1&count=1 with t's token, as
// Okta's "Test API Credentials" does, before a run: a refused token, a
// server that cannot be reached, or an answer that is not a SCIM
// ListResponse is then said once, in one sentence, instead of in every
// check. It returns nil when the answer is 200 with a ListResponse.
func Preflight(ctx context.Context, t *Target) error {
	x, err := t.send(ctx, "GET", "/Users?startIndex=1&count=1", nil)
	if err != nil {
		return fmt.Errorf("check: could not reach the SCIM server at %s: %w", t.BaseURL, errors.Unwrap(err))
	}
	switch {
	case x.Status == http.StatusUnauthorized || x.Status == http.StatusForbidden:
		return fmt.Errorf("%w: GET /Users?startIndex=1&count=1 answered %d %s", ErrTokenRefused, x.Status, bodyExcerpt(x))
	case x.Status != http.StatusOK:
		return fmt.Errorf("check: GET %s/Users?startIndex=1&count=1 answered %d %s, not a SCIM ListResponse: is the URL the SCIM base URL (ending in /scim/v2 or similar)?", strings.TrimRight(t.BaseURL, "/"), x.Status, bodyExcerpt(x))
	case !hasSchema(x.JSON, "urn:ietf:params:scim:api:messages:2.0:ListResponse") && get(x.JSON, "totalResults") == nil:
		return fmt.Errorf("check: GET %s/Users?startIndex=1&count=1 answered 200 %s, not a SCIM ListResponse: is the URL the SCIM base URL?", strings.TrimRight(t.BaseURL, "/"), bodyExcerpt(x))
	}
	return nil
}

// bodyExcerpt is the Content-Type and the start of x's body, for one line.
func bodyExcerpt(x *Exchange) string {
	ct := x.Header.Get("Content-Type")
	if ct == "" {
		ct = "(no Content-Type)"
	}
	body := excerpt(x.Body, 200)
	if body == "" {
		body = "(empty body)"
	}
	return ct + " " + body
}
