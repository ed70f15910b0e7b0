package op

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// assigningDirectory is the fake directory with Okta's app assignments:
// only the listed (client, user) pairs may sign in.
type assigningDirectory struct {
	*fakeDirectory
	mu       sync.Mutex
	assigned map[[2]string]bool
}

func (d *assigningDirectory) Assigned(_ context.Context, clientID, userID string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.assigned[[2]string{clientID, userID}]
}

func (d *assigningDirectory) assign(clientID, userID string, on bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.assigned[[2]string{clientID, userID}] = on
}

var _ Assignments = (*assigningDirectory)(nil)

// TestUnassignedUserIsRefused: a user not assigned to the client signs in
// to the provider but gets Okta's access_denied at the redirect URI, by
// the login form, by a queued login and by the SSO session alike.
func TestUnassignedUserIsRefused(t *testing.T) {
	var dir *assigningDirectory
	e := ctlEnv(t, func(c *Config) {
		dir = &assigningDirectory{fakeDirectory: c.Directory.(*fakeDirectory), assigned: map[[2]string]bool{}}
		c.Directory = dir
	})
	_, challenge := pkce("assigned")
	denied := url.Values{"error": {"access_denied"}, "error_description": {"User is not assigned to the client application."}, "state": {"st-123"}}
	outcome := func(t *testing.T, r response) url.Values {
		t.Helper()
		cb := callback(t, r)
		if cb.Has("code") {
			return url.Values{"code": {"…"}, "state": cb["state"]}
		}
		return cb
	}
	issued := url.Values{"code": {"…"}, "state": {"st-123"}}

	t.Run("login form", func(t *testing.T) {
		page := e.get(t, "/oauth2/v1/authorize", authzQuery(challenge))
		if page.status != http.StatusOK {
			t.Fatalf("authorize: %d, want the login form", page.status)
		}
		if diff := cmp.Diff(denied, outcome(t, e.submitLogin(t, page, "alice@example.com", alicePass))); diff != "" {
			t.Errorf("callback (-want +got):\n%s", diff)
		}
	})
	t.Run("SSO session", func(t *testing.T) {
		// The form signed alice in to the provider: her session answers at once.
		if diff := cmp.Diff(denied, outcome(t, e.get(t, "/oauth2/v1/authorize", authzQuery(challenge)))); diff != "" {
			t.Errorf("callback (-want +got):\n%s", diff)
		}
		dir.assign("0oaweb", "00u1alice", true)
		if diff := cmp.Diff(issued, outcome(t, e.get(t, "/oauth2/v1/authorize", authzQuery(challenge)))); diff != "" {
			t.Errorf("assigned: callback (-want +got):\n%s", diff)
		}
		q := authzQuery(challenge)
		q.Set("prompt", "none")
		dir.assign("0oaweb", "00u1alice", false)
		if diff := cmp.Diff(denied, outcome(t, e.get(t, "/oauth2/v1/authorize", q))); diff != "" {
			t.Errorf("prompt=none: callback (-want +got):\n%s", diff)
		}
	})
	t.Run("queued login", func(t *testing.T) {
		if err := e.p.QueueLogin(QueuedLogin{Login: ctlCarolLogin, ClientID: "0oaweb"}); err != nil {
			t.Fatal(err)
		}
		b := e.newBrowser(t)
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/oauth2/v1/authorize?"+authzQuery(challenge).Encode(), nil)
		if diff := cmp.Diff(denied, outcome(t, do(t, b, req))); diff != "" {
			t.Errorf("callback (-want +got):\n%s", diff)
		}
		// The queued login is used up, but it signed carol in to the
		// provider: the next request is answered from her session, refused.
		req, _ = http.NewRequest(http.MethodGet, e.srv.URL+"/oauth2/v1/authorize?"+authzQuery(challenge).Encode(), nil)
		if diff := cmp.Diff(denied, outcome(t, do(t, b, req))); diff != "" {
			t.Errorf("the session after the queued login: callback (-want +got):\n%s", diff)
		}
	})
}
