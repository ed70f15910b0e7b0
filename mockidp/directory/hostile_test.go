package directory

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// A client id chosen by the caller must be one clean path segment: "a/b"
// and "../../x" used to be accepted, and the app was then unreachable at
// /api/v1/apps/{id} and its _links pointed elsewhere. Redirect URIs whose
// scheme a browser runs (javascript:, data:, …) are refused too.
func TestCreateAppHostileValues(t *testing.T) {
	tests := []struct {
		name      string
		client    OAuthClient
		wantField string // "" = created
	}{
		{"generated id", OAuthClient{RedirectURIs: []string{"http://127.0.0.1/cb"}}, ""},
		{"fixed id", OAuthClient{ClientID: "0oaseedwebapp0000000001", RedirectURIs: []string{"http://127.0.0.1/cb"}}, ""},
		{"unreserved characters", OAuthClient{ClientID: "a-b.c_d~e", RedirectURIs: []string{"http://127.0.0.1/cb"}}, ""},
		{"id of 100 characters", OAuthClient{ClientID: strings.Repeat("a", MaxClientIDLength), RedirectURIs: []string{"http://127.0.0.1/cb"}}, ""},
		{"custom scheme (native app)", OAuthClient{RedirectURIs: []string{"com.example.app://callback"}}, ""},
		{"slash in the id", OAuthClient{ClientID: "a/b", RedirectURIs: []string{"http://127.0.0.1/cb"}}, "client_id"},
		{"dot-dot id", OAuthClient{ClientID: "..", RedirectURIs: []string{"http://127.0.0.1/cb"}}, "client_id"},
		{"traversal id", OAuthClient{ClientID: "../../x", RedirectURIs: []string{"http://127.0.0.1/cb"}}, "client_id"},
		{"space in the id", OAuthClient{ClientID: "0oa 1", RedirectURIs: []string{"http://127.0.0.1/cb"}}, "client_id"},
		{"colon in the id", OAuthClient{ClientID: "0oa:1", RedirectURIs: []string{"http://127.0.0.1/cb"}}, "client_id"},
		{"NUL in the id", OAuthClient{ClientID: "0oa\x00", RedirectURIs: []string{"http://127.0.0.1/cb"}}, "client_id"},
		{"non-ASCII id", OAuthClient{ClientID: "0oaé", RedirectURIs: []string{"http://127.0.0.1/cb"}}, "client_id"},
		{"id of 101 characters", OAuthClient{ClientID: strings.Repeat("a", MaxClientIDLength+1), RedirectURIs: []string{"http://127.0.0.1/cb"}}, "client_id"},
		{"javascript redirect", OAuthClient{RedirectURIs: []string{"javascript://x/%0aalert(1)"}}, "redirect_uris"},
		{"JavaScript redirect", OAuthClient{RedirectURIs: []string{"JavaScript://x/%0aalert(1)"}}, "redirect_uris"},
		{"data redirect", OAuthClient{RedirectURIs: []string{"data://x/text/html,hi"}}, "redirect_uris"},
		{"vbscript redirect", OAuthClient{RedirectURIs: []string{"vbscript://x/msgbox"}}, "redirect_uris"},
		{"file redirect", OAuthClient{RedirectURIs: []string{"file://host/etc/passwd"}}, "redirect_uris"},
		{"javascript logout redirect", OAuthClient{RedirectURIs: []string{"http://127.0.0.1/cb"}, PostLogoutRedirectURIs: []string{"javascript://x/%0aalert(1)"}}, "post_logout_redirect_uris"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, _ := newDir(t)
			c := tt.client
			a, err := d.CreateApp(App{Label: "web", OAuthClient: &c})
			var fe *FieldError
			switch {
			case tt.wantField == "" && err != nil:
				t.Fatalf("CreateApp: %v", err)
			case tt.wantField == "":
				if _, err := d.App(a.ID); err != nil {
					t.Errorf("created app %q not found: %v", a.ID, err)
				}
			case !errors.As(err, &fe) || fe.Field != tt.wantField || !errors.Is(err, ErrInvalid):
				t.Errorf("CreateApp error %v, want an ErrInvalid FieldError on %s", err, tt.wantField)
			}
			if tt.wantField != "" && len(d.Apps()) != 0 {
				t.Errorf("a refused app was stored: %+v", d.Apps())
			}
		})
	}
}

// Past MaxEvents the System Log keeps the newest events, and appending stays
// cheap: it used to copy all 10,000 kept events on every new one.
func TestLogKeepsNewest(t *testing.T) {
	d, _ := newDir(t)
	const n = 3*MaxEvents + 17
	for i := range n {
		d.Log(Event{EventType: fmt.Sprint(i)})
	}
	got := d.Events(t0.AddDate(-1, 0, 0), 0)
	if len(got) != MaxEvents {
		t.Fatalf("%d events kept, want %d", len(got), MaxEvents)
	}
	if first, last := got[0].EventType, got[len(got)-1].EventType; first != fmt.Sprint(n-MaxEvents) || last != fmt.Sprint(n-1) {
		t.Errorf("kept events %s…%s, want %d…%d", first, last, n-MaxEvents, n-1)
	}
	if limited := d.Events(t0.AddDate(-1, 0, 0), 5); len(limited) != 5 || limited[0].EventType != fmt.Sprint(n-MaxEvents) {
		t.Errorf("Events(limit 5) = %d events from %q", len(limited), limited[0].EventType)
	}
}

// BenchmarkLogFull is the cost of one event once the System Log is full.
func BenchmarkLogFull(b *testing.B) {
	d := New(Config{})
	for range MaxEvents {
		d.Log(Event{EventType: "fill"})
	}
	for b.Loop() {
		d.Log(Event{EventType: "user.session.start"})
	}
}
