package login

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/idpkit/idpkit/scim/adminapi"
	"github.com/idpkit/idpkit/scim/secret"
	"github.com/idpkit/idpkit/scim/store"
)

// KindTestSignIn is the store.Token kind of a test sign-in's outcome
// (JSON adminapi.TestSignIn), keyed by the test's result key.
const KindTestSignIn = "test-sign-in"

// TestSignInTTL is how long a test sign-in's outcome is kept.
const TestSignInTTL = 15 * time.Minute

// Bounds of the id the dialog makes for a test sign-in.
const (
	minTestID = 22
	maxTestID = 128
)

// validTestID reports whether id is 22 to 128 characters of
// [A-Za-z0-9_-] (the base64url alphabet).
func validTestID(id string) bool {
	if len(id) < minTestID || len(id) > maxTestID {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// testKey is the result key of the test sign-in id started by the admin
// session whose cookie value is cookie: only that session can read it.
func testKey(cookie, id string) string { return secret.HashString(cookie + ":" + id) }

// testID returns the request's id parameter when it is a valid test id.
func testID(r *http.Request) (string, bool) {
	ids := r.URL.Query()["id"]
	if len(ids) != 1 || !validTestID(ids[0]) {
		return "", false
	}
	return ids[0], true
}

// handleTestSignIn answers GET …/admin/test-sign-in?id=ID, the page the
// dialog opens in a popup: for a signed-in admin it starts the same
// sign-in as /t/{tenant}/login (same redirect URI, state, nonce, PKCE and
// login cookie), whose login state carries the result key
// testKey(admin cookie, ID). The callback then runs every check of a real
// sign-in but starts no session; it stores the outcome under that key
// (finishTest), where GET …/admin/api/test-sign-in?id=ID reads it.
func (h *Handler) handleTestSignIn(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	t, ok := h.getTenant(w, r, false)
	if !ok {
		return
	}
	_, ok, err := h.adminSession(r, t.Name)
	if err != nil {
		h.log.ErrorContext(ctx, "read admin session", "tenant", t.Name, "err", err)
		h.page(w, http.StatusInternalServerError, page{Title: "Something went wrong", Message: "The server could not read the admin session; try again in a moment."})
		return
	}
	if !ok {
		h.page(w, http.StatusUnauthorized, page{Title: "Admin sign-in needed", Message: "Test sign-in is started from the Connect Okta dialog; open the one-time admin link for this tenant first (links work once, for 15 minutes)."})
		return
	}
	id, ok := testID(r)
	if !ok {
		h.page(w, http.StatusBadRequest, page{Title: "This test sign-in link does not work", Message: "Start the test sign-in with the Test sign-in button of the Connect Okta dialog."})
		return
	}
	c, _ := r.Cookie(AdminCookie) // present: the session was found by it
	key := testKey(c.Value, id)
	fail := func(status int, title, msg string) {
		h.finishTest(w, r, t, key, status, adminapi.TestSignIn{Done: true, Message: msg}, false)
	}
	if t.Issuer == "" || t.ClientID == "" {
		fail(http.StatusServiceUnavailable, "", "Sign-in is not set up yet: save the Okta domain, Client ID and Client secret in the Connect Okta dialog first, then test it.")
		return
	}
	h.log.InfoContext(ctx, "test sign-in started", "tenant", t.Name)
	h.startLogin(w, r, t, key, fail)
}

// finishTest stores a test sign-in's outcome under key for
// TestSignInTTL and shows it in the popup: the sentence and the ID
// token's claims, escaped. fromOkta says the sign-in went to Okta and
// came back, so the page says how to test as someone else.
func (h *Handler) finishTest(w http.ResponseWriter, r *http.Request, t store.Tenant, key string, status int, res adminapi.TestSignIn, fromOkta bool) {
	res.Done = true
	val, err := json.Marshal(res)
	if err == nil {
		err = h.store.PutToken(r.Context(), store.Token{Kind: KindTestSignIn, Key: key, Tenant: t.Name, Value: val, Expires: h.now().Add(TestSignInTTL)})
	}
	if err != nil {
		h.log.ErrorContext(r.Context(), "store test sign-in outcome", "tenant", t.Name, "err", err)
		h.page(w, http.StatusInternalServerError, page{Title: "Something went wrong", Message: "The test sign-in finished, but the server could not keep its outcome for the dialog; try again in a moment."})
		return
	}
	h.log.InfoContext(r.Context(), "test sign-in finished", "tenant", t.Name, "ok", res.OK)
	p := page{Title: "Test sign-in refused", Message: res.Message, Claims: pageClaims(res.Claims), Note: "You can close this window."}
	if fromOkta {
		p.Hint = msgTestAgain
	}
	if res.OK {
		p.Title = "Test sign-in worked"
	}
	h.page(w, status, p)
}

// msgTestAgain ends the popup's page of a test sign-in that went to Okta
// (which shows its sign-in form every time: prompt=login).
const msgTestAgain = "To test as someone else, click Test sign-in again and sign in as them."

// notProvisionedAdmin tells the admin of a test sign-in that the person
// Okta signed in (sub, named by preferred_username or email when given)
// has no SCIM user in this tenant, and what to do in Okta.
func notProvisionedAdmin(sub, username, email string) string {
	who := firstNonEmpty(username, email)
	switch {
	case who == "":
		who = "Okta user " + sub
	case sub != "" && who != sub:
		who += " (Okta user " + sub + ")"
	}
	return who + " signed in at Okta, but Okta never provisioned them to this tenant: assign them, or a group they are in, to the SCIM app in Okta."
}

// deactivatedAdmin tells the admin of a test sign-in that the person's
// SCIM user is deactivated, and what to do in Okta.
func deactivatedAdmin(userName string) string {
	return userName + " is deactivated in this tenant (SCIM active is false): reactivate or reassign them in Okta."
}

// adminMark starts a sentence said picked for the admin of a test
// sign-in; forAdmin takes it off and leaves the sentence as it is.
const adminMark = "\x00admin\x00"

// said picks the sentence for the admin of a test sign-in (test), marked
// for forAdmin, or the one for the person signing in.
func said(test bool, user, admin string) string {
	if test {
		return adminMark + admin
	}
	return user
}

// forAdmin words a sentence for the admin of a test sign-in: one said
// picked for the admin is as it is; one that speaks to the person signing
// in (their account, their administrator) is quoted as what that person
// would see; others are as they are.
func forAdmin(msg string) string {
	if s, ok := strings.CutPrefix(msg, adminMark); ok {
		return s
	}
	l := strings.ToLower(msg)
	if strings.Contains(l, "administrator") || strings.Contains(l, "your ") || strings.Contains(l, " you ") || strings.HasPrefix(l, "you ") {
		return "A person signing in would see: “" + msg + "”"
	}
	return msg
}

// pageClaims lists claims by name, each value as JSON unless a string.
func pageClaims(claims map[string]any) []pageClaim {
	out := make([]pageClaim, 0, len(claims))
	for k, v := range claims {
		s, ok := v.(string)
		if !ok {
			b, err := json.Marshal(v)
			if err != nil {
				continue
			}
			s = string(b)
		}
		out = append(out, pageClaim{Name: k, Value: s})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// handleTestSignInResult answers GET …/admin/api/test-sign-in?id=ID with
// the adminapi.TestSignIn of the admin session's test sign-in ID:
// {"done":false} until its callback came back. Reading does not consume
// it; the dialog polls.
func (h *Handler) handleTestSignInResult(w http.ResponseWriter, r *http.Request) {
	t, _, ok := h.requireAdminAPI(w, r)
	if !ok {
		return
	}
	id, ok := testID(r)
	if !ok {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "the id parameter must be given once, as 22 to 128 letters, digits, - or _")
		return
	}
	c, _ := r.Cookie(AdminCookie)
	tok, err := h.store.GetToken(r.Context(), KindTestSignIn, testKey(c.Value, id))
	if errors.Is(err, store.ErrNotFound) {
		writeJSON(w, http.StatusOK, adminapi.TestSignIn{})
		return
	}
	if err != nil {
		h.log.ErrorContext(r.Context(), "read test sign-in outcome", "tenant", t.Name, "err", err)
		writeJSONError(w, http.StatusInternalServerError, "server_error", "the server could not read the test sign-in; try again")
		return
	}
	var res adminapi.TestSignIn
	if tok.Tenant != t.Name || !h.now().Before(tok.Expires) || json.Unmarshal(tok.Value, &res) != nil {
		writeJSON(w, http.StatusOK, adminapi.TestSignIn{})
		return
	}
	res.Done = true
	writeJSON(w, http.StatusOK, res)
}
