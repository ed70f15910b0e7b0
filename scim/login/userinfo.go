package login

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// maxUserinfoBody bounds a UserInfo response.
const maxUserinfoBody = 1 << 20

// userInfo is what sign-in reads of a UserInfo response (OpenID Connect
// Core §5.3.2).
type userInfo struct {
	Sub               string    `json:"sub"`
	PreferredUsername string    `json:"preferred_username"`
	Email             string    `json:"email"`
	EmailVerified     *flexBool `json:"email_verified"`
}

// userinfoError is a UserInfo request that failed: no answer, an error
// status, or a body that is not a JSON object with a sub.
type userinfoError struct {
	status int    // HTTP status, 0 when there was no answer
	code   string // OAuth error code from WWW-Authenticate or the body, if any
	err    error
}

func (e *userinfoError) Error() string {
	switch {
	case e.status == 0:
		return fmt.Sprintf("login: userinfo: %v", e.err)
	case e.code != "":
		return fmt.Sprintf("login: userinfo: HTTP %d %s", e.status, e.code)
	case e.err != nil:
		return fmt.Sprintf("login: userinfo: HTTP %d: %v", e.status, e.err)
	}
	return fmt.Sprintf("login: userinfo: HTTP %d", e.status)
}

func (e *userinfoError) Unwrap() error { return e.err }

// fetchUserinfo GETs the UserInfo endpoint with the access token as a
// bearer token (RFC 6750 §2.1). Signed or encrypted (application/jwt)
// responses are not supported: Okta sends JSON.
func (h *Handler) fetchUserinfo(ctx context.Context, endpoint, accessToken string) (userInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return userInfo{}, &userinfoError{err: err}
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := h.client.Do(req)
	if err != nil {
		// The error names the endpoint, never the token (it is a header).
		return userInfo{}, &userinfoError{err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxUserinfoBody+1))
	if err != nil {
		return userInfo{}, &userinfoError{status: resp.StatusCode, err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return userInfo{}, &userinfoError{status: resp.StatusCode, code: oauthErrorCode(resp.Header.Get("WWW-Authenticate"), body)}
	}
	if len(body) > maxUserinfoBody {
		return userInfo{}, &userinfoError{status: resp.StatusCode, err: errors.New("response too large")}
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err == nil && mt != "application/json" {
		return userInfo{}, &userinfoError{status: resp.StatusCode, err: fmt.Errorf("content type %s, not application/json", mt)}
	}
	var ui userInfo
	if err := json.Unmarshal(body, &ui); err != nil {
		return userInfo{}, &userinfoError{status: resp.StatusCode, err: fmt.Errorf("not a JSON object of claims: %w", err)}
	}
	return ui, nil
}

// oauthErrorCode finds an OAuth error code in a WWW-Authenticate header
// (RFC 6750 §3) or an RFC 6749 §5.2 style JSON body.
func oauthErrorCode(wwwAuth string, body []byte) string {
	if i := strings.Index(wwwAuth, `error="`); i >= 0 {
		rest := wwwAuth[i+len(`error="`):]
		if j := strings.IndexByte(rest, '"'); j >= 0 {
			return rest[:j]
		}
	}
	var e struct {
		Error     string `json:"error"`
		ErrorCode string `json:"errorCode"`
	}
	if json.Unmarshal(body, &e) == nil {
		return firstNonEmpty(e.Error, e.ErrorCode)
	}
	return ""
}

// userinfo reads UserInfo for a verified ID token of subject sub and
// refuses the sign-in when it names another subject (OpenID Connect Core
// §5.3.2). On failure it has written a page.
func (h *Handler) userinfo(w http.ResponseWriter, r *http.Request, log *slog.Logger, endpoint, accessToken, sub string, again func(int, string, string)) (userInfo, bool) {
	ctx := r.Context()
	ui, err := h.fetchUserinfo(ctx, endpoint, accessToken)
	if err != nil {
		log.WarnContext(ctx, "oidc callback: userinfo failed", "err", err)
		var ue *userinfoError
		errors.As(err, &ue)
		switch {
		case ue != nil && ue.status == 0 && errors.Is(err, context.DeadlineExceeded):
			again(http.StatusBadGateway, "Okta did not answer in time", "Okta's user information endpoint did not answer within "+h.timeout.String()+"; please try again in a moment.")
		case ue != nil && ue.status == 0:
			again(http.StatusBadGateway, "Okta cannot be reached", "The server could not read your user information from Okta; please try again in a moment.")
		default:
			what := "HTTP " + strconv.Itoa(ue.status)
			if ue.code != "" {
				what += ", " + ue.code
			}
			again(http.StatusBadGateway, "Sign-in could not be completed", "Okta did not give out your user information ("+what+"); please start again, and ask your administrator if this keeps happening.")
		}
		return userInfo{}, false
	}
	if ui.Sub != sub {
		log.WarnContext(ctx, "oidc callback: userinfo is about another subject", "sub", sub, "userinfo_sub", ui.Sub)
		again(http.StatusBadRequest, "Sign-in could not be completed", "Okta's user information names another user than its identity token; please start again, and ask your administrator if this keeps happening.")
		return userInfo{}, false
	}
	log.InfoContext(ctx, "oidc callback: userinfo checked")
	return ui, true
}
