package connect_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim/adminapi"
	"github.com/idpkit/idpkit/wasm/connect"
	"github.com/idpkit/idpkit/wasm/connect/admintest"
)

// fakePage records the last value of every element property.
type fakePage struct {
	mu      sync.Mutex
	props   map[string]any // "id.prop" → value
	applies int            // Apply calls
}

func newPage() *fakePage { return &fakePage{props: map[string]any{}} }

func (p *fakePage) Apply(sets []connect.Set) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.applies++
	for _, s := range sets {
		p.props[s.ID+"."+s.Prop] = s.Value
	}
}

func (p *fakePage) applyCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.applies
}

func (p *fakePage) text(id string) any { return p.get(id, connect.PropText) }

func (p *fakePage) Value(id string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, _ := p.props[id+"."+connect.PropValue].(string)
	return v
}

func (p *fakePage) get(id, prop string) any {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.props[id+"."+prop]
}

func (p *fakePage) typeInto(id, v string) {
	p.Apply([]connect.Set{{ID: id, Prop: connect.PropValue, Value: v}})
}

// signedIn returns a dialog talking to admin through a client holding the
// admin session cookie.
func signedIn(t *testing.T, admin *admintest.Admin) (*connect.Dialog, *fakePage, string) {
	t.Helper()
	srv := httptest.NewServer(admin)
	t.Cleanup(srv.Close)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := srv.Client()
	c.Jar = jar
	resp, err := c.Get(srv.URL + admin.AdminPath())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("admin link: %s", resp.Status)
	}
	page := newPage()
	return &connect.Dialog{API: &connect.API{Base: connect.BaseURL(srv.URL, "acme"), Client: c}, Page: page}, page, srv.URL
}

func TestDialogLoad(t *testing.T) {
	admin := admintest.New("acme", "http://app.test", 3, 1)
	d, page, _ := signedIn(t, admin)
	d.Load(context.Background())
	want := map[string]any{
		"scim-url.value":            "http://app.test/t/acme/scim/v2",
		"redirect-uri.value":        "http://app.test/t/acme/oidc/callback",
		"user-count.textContent":    "3",
		"group-count.textContent":   "1",
		"generate-secret.disabled":  false,
		"save.disabled":             false,
		"client-secret.placeholder": "",
		"page-status.hidden":        true,
	}
	for k, v := range want {
		id, prop, _ := strings.Cut(k, ".")
		if diff := cmp.Diff(v, page.get(id, prop)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", k, diff)
		}
	}

	admin.SetCounts(5, 2)
	d.Refresh(context.Background())
	if diff := cmp.Diff([]any{"5", "2"}, []any{page.get("user-count", "textContent"), page.get("group-count", "textContent")}); diff != "" {
		t.Errorf("counts after refresh (-want +got):\n%s", diff)
	}
}

func TestDialogLoadWithoutSession(t *testing.T) {
	admin := admintest.New("acme", "http://app.test", 0, 0)
	srv := httptest.NewServer(admin)
	defer srv.Close()
	page := newPage()
	d := &connect.Dialog{API: &connect.API{Base: connect.BaseURL(srv.URL, "acme"), Client: srv.Client()}, Page: page}
	d.Load(context.Background())
	got := []any{page.get("page-status", "textContent"), page.get("page-status", "hidden"), page.get("save", "disabled")}
	want := []any{"✗ Your admin session has ended; open a new admin link for this tenant.", false, true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Buttons do nothing before settings are loaded.
	d.Generate(context.Background())
	d.Save(context.Background())
	if diff := cmp.Diff(0, admin.Rotations()); diff != "" {
		t.Errorf("rotations (-want +got):\n%s", diff)
	}
}

func TestDialogGenerate(t *testing.T) {
	admin := admintest.New("acme", "http://app.test", 0, 0)
	d, page, _ := signedIn(t, admin)
	d.Load(context.Background())
	if page.get("secret-box", "hidden") != nil {
		t.Fatalf("secret box touched before generating")
	}
	d.Generate(context.Background())
	got := []any{page.get("secret", "value"), page.get("secret-box", "hidden"), page.get("generate-secret", "disabled"), admin.Rotations()}
	want := []any{admin.Secret(), false, false, 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestDialogSave(t *testing.T) {
	okta := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		iss := "http://" + r.Host
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
		case "/oauth2/default/.well-known/openid-configuration":
			iss += "/oauth2/default"
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"issuer":"` + iss + `"}`))
	}))
	defer okta.Close()

	tests := []struct {
		name                       string
		domain, id, secret, server string
		wantStatus, wantClass      string
		wantSaved                  int
	}{
		{"org server", okta.URL, "0oa1", "s1", "", "✓ Saved. Okta's discovery document was read: issuer " + okta.URL + ".", connect.ClassOK, 1},
		{"default server, pasted with spaces", " " + okta.URL + "\n", "0oa1", "s1", "default",
			"✓ Saved. Okta's discovery document was read: issuer " + okta.URL + "/oauth2/default.", connect.ClassOK, 1},
		{"unknown server", okta.URL, "0oa1", "s1", "nope",
			"✗ Not saved: Discovery document failed (see below).", connect.ClassError, 0},
		{"missing secret", okta.URL, "0oa1", "", "", "✗ Enter the Client secret of the OIDC app integration in Okta.", connect.ClassError, 0},
		{"missing domain", "", "0oa1", "s", "", "✗ Enter your Okta domain, for example example.okta.com.", connect.ClassError, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			admin := admintest.New("acme", "http://app.test", 0, 0)
			d, page, _ := signedIn(t, admin)
			d.Load(context.Background())
			page.typeInto(connect.IDOktaDomain, tt.domain)
			page.typeInto(connect.IDClientID, tt.id)
			page.typeInto(connect.IDClientSecret, tt.secret)
			page.typeInto(connect.IDAuthServer, tt.server)
			d.Save(context.Background())
			got := []any{page.get("save-status", "textContent"), page.get("save-status", "className"), page.get("save", "disabled"), len(admin.Saved())}
			want := []any{tt.wantStatus, tt.wantClass, false, tt.wantSaved}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if tt.wantSaved == 1 {
				// The secret is never shown back; the placeholder says it is saved.
				got := []any{page.get("client-secret", "value"), page.get("client-secret", "placeholder"), page.get("okta-domain", "value")}
				if diff := cmp.Diff([]any{"", "saved", okta.URL}, got); diff != "" {
					t.Errorf("fields after save (-want +got):\n%s", diff)
				}
				// Saving again without a secret keeps the saved one.
				d.Save(context.Background())
				if diff := cmp.Diff("", admin.Saved()[1].ClientSecret); diff != "" {
					t.Errorf("second save secret (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestDialogCopied(t *testing.T) {
	tests := []struct {
		name, button string
		err          error
		want         []connect.Set
	}{
		{"tenant url", connect.IDCopySCIMURL, nil, []connect.Set{{ID: "copy-status", Prop: "textContent", Value: "Tenant URL copied."},
			{ID: connect.IDCopySCIMURL, Prop: "textContent", Value: "Copied"}}},
		{"secret failed", connect.IDCopySecret, errors.New("denied"),
			[]connect.Set{{ID: "copy-status", Prop: "textContent", Value: "Copying failed; select the field and press Ctrl+C."}}},
		{"redirect", connect.IDCopyRedirect, nil, []connect.Set{{ID: "copy-status", Prop: "textContent", Value: "Sign-in redirect URI copied."},
			{ID: connect.IDCopyRedirect, Prop: "textContent", Value: "Copied"}}},
		{"unknown", "nope", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, connect.Copied(tt.button, tt.err)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDialogPoll(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 19, 52, 3, 0, time.UTC)
	admin := admintest.New("acme", "http://app.test", 0, 0)
	d, page, _ := signedIn(t, admin)
	d.Location = time.UTC
	now := t0.Add(2 * time.Minute)
	d.Now = func() time.Time { return now }
	ctx := context.Background()

	d.Poll(ctx) // before Load: nothing
	if diff := cmp.Diff(0, admin.ActivityReads()); diff != "" {
		t.Fatalf("reads before load (-want +got):\n%s", diff)
	}
	d.Load(ctx)
	wrong := func(at string) string {
		return "✗ Okta sent a wrong secret at " + at + ": paste the newest secret into Okta, then click Test API Credentials again."
	}
	connected := "✓ Okta has connected: Test API Credentials at 19:52:03 (Okta SCIM Client 1.0.0)."
	test := adminapi.Request{At: t0, Method: "GET", Path: "/Users?startIndex=1&count=2", Status: 200,
		Action: "Test API Credentials", UserAgent: "Okta SCIM Client 1.0.0"}
	steps := []struct {
		name    string
		change  func()
		polls   int
		want    []any // connection text, class, users empty hidden, requests empty hidden, user count
		applies int   // page updates the polls made
	}{
		{"nothing yet", func() {}, 1, []any{connect.ConnectionWaiting, connect.ClassBusy, false, false, "0"}, 1},
		{"unchanged activity updates nothing", func() {}, 2, []any{connect.ConnectionWaiting, connect.ClassBusy, false, false, "0"}, 0},
		{"Test API Credentials", func() {
			admin.AddRequest(test)
			admin.SetConnected(&test)
		}, 1, []any{connected, connect.ClassOK, false, true, "0"}, 1},
		{"a user arrives", func() {
			admin.AddRequest(adminapi.Request{At: t0.Add(time.Second), Method: "POST", Path: "/Users", Status: 201, Action: "Create user"})
			admin.SetActivity(adminapi.Activity{Connected: &test, Requests: []adminapi.Request{test},
				Users: adminapi.ResourceList{Total: 1, Recent: []adminapi.Provisioned{{Name: "alice@example.com", Active: true}}}})
		}, 1, []any{connected, connect.ClassOK, true, true, "1"}, 1},
		{"a wrong secret", func() {
			admin.AddRequest(adminapi.Request{At: t0.Add(2 * time.Second), Method: "GET", Path: "/Users", Status: 401, Action: "Wrong secret", UserAgent: "curl/8.5.0"})
		}, 1, []any{connected, connect.ClassOK, true, true, "1"}, 1},
		{"Okta's old secret", func() {
			admin.AddRequest(adminapi.Request{At: t0.Add(2 * time.Second), Method: "GET", Path: "/Users", Status: 401, Action: "Wrong secret", UserAgent: "Okta SCIM Client 1.0.0"})
		}, 1, []any{wrong("19:52:05"), connect.ClassError, true, true, "1"}, 1},
		{"two failed polls are not shown", func() { admin.SetActivityStatus(http.StatusBadGateway) }, 2,
			[]any{wrong("19:52:05"), connect.ClassError, true, true, "1"}, 0},
		{"the third is", func() {}, 1, []any{"✗ " + connect.LostContact, connect.ClassError, true, true, "1"}, 1},
		{"and only once", func() {}, 3, []any{"✗ " + connect.LostContact, connect.ClassError, true, true, "1"}, 0},
		{"recovers silently", func() { admin.SetActivityStatus(0) }, 1, []any{wrong("19:52:05"), connect.ClassError, true, true, "1"}, 1},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.change()
			before := page.applyCount()
			for range st.polls {
				d.Poll(ctx)
			}
			got := []any{page.text(connect.IDConnection), page.get(connect.IDConnection, connect.PropClass),
				page.get(connect.IDUsersEmpty, connect.PropHidden), page.get(connect.IDRequestsEmpty, connect.PropHidden), page.text(connect.IDUserCount)}
			if diff := cmp.Diff(st.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(st.applies, page.applyCount()-before); diff != "" {
				t.Errorf("page updates (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("Okta uses the secret: Generate asks first, with the focus on Cancel, which keeps it", func(t *testing.T) {
		before := page.applyCount()
		d.Generate(ctx)
		got := []any{page.get(connect.IDReplaceBox, connect.PropHidden), page.get(connect.IDCancelReplace, connect.PropFocus), admin.Rotations(), page.applyCount() - before}
		if diff := cmp.Diff([]any{false, true, 0, 1}, got); diff != "" {
			t.Errorf("after the first click (-want +got):\n%s", diff)
		}
		d.CancelReplace()
		got = []any{page.get(connect.IDReplaceBox, connect.PropHidden), page.get(connect.IDGenerateSecret, connect.PropFocus), admin.Rotations()}
		if diff := cmp.Diff([]any{true, true, 0}, got); diff != "" {
			t.Errorf("after Cancel (-want +got):\n%s", diff)
		}
	})

	t.Run("a new secret waits again, forgetting older refusals", func(t *testing.T) {
		d.Generate(ctx)
		if diff := cmp.Diff(0, admin.Rotations()); diff != "" {
			t.Errorf("rotations before Replace secret (-want +got):\n%s", diff)
		}
		d.ReplaceSecret(ctx)
		got := []any{admin.Rotations(), page.get(connect.IDReplaceBox, connect.PropHidden), page.get(connect.IDSecret, connect.PropValue)}
		if diff := cmp.Diff([]any{1, true, admin.Secret()}, got); diff != "" {
			t.Errorf("after Replace secret (-want +got):\n%s", diff)
		}
		// The secret Okta used keeps working for ReplaceGrace, and the
		// warning says until when.
		if diff := cmp.Diff([]int{600}, admin.Graces()); diff != "" {
			t.Errorf("graceSeconds sent (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(connect.GraceWarning(now.Add(connect.ReplaceGrace), time.UTC), page.text(connect.IDSecretWarning)); diff != "" {
			t.Errorf("secret warning (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(connect.ConnectionWaiting, page.text(connect.IDConnection)); diff != "" {
			t.Errorf("after generate (-want +got):\n%s", diff)
		}
		d.Poll(ctx)
		if diff := cmp.Diff(connect.ConnectionWaiting, page.text(connect.IDConnection)); diff != "" {
			t.Errorf("after the next poll (-want +got):\n%s", diff)
		}
		admin.AddRequest(adminapi.Request{At: t0.Add(time.Minute), Method: "GET", Path: "/Users", Status: 401, UserAgent: "Okta SCIM Client 1.0.0"})
		d.Poll(ctx)
		if diff := cmp.Diff(wrong("19:53:03"), page.text(connect.IDConnection)); diff != "" {
			t.Errorf("a refusal after the rotation (-want +got):\n%s", diff)
		}
		// Not connected any more: the next Generate rotates at once.
		d.Generate(ctx)
		if diff := cmp.Diff(2, admin.Rotations()); diff != "" {
			t.Errorf("rotations (-want +got):\n%s", diff)
		}
	})
}

func TestDialogWaitingHint(t *testing.T) {
	admin := admintest.New("acme", "http://app.test", 0, 0)
	d, page, _ := signedIn(t, admin)
	now := time.Date(2026, 12, 3, 19, 52, 3, 0, time.UTC)
	d.Now = func() time.Time { return now }
	ctx := context.Background()
	d.Load(ctx)
	long := connect.ConnectionWaiting + " If Okta reports an error, check that Okta's SCIM 2.0 Base Url is exactly the Tenant URL above."
	test := adminapi.Request{At: now, Method: "GET", Path: "/Users", Status: 200, Action: "Test API Credentials"}
	steps := []struct {
		name   string
		change func()
		want   string
	}{
		{"first poll", func() {}, connect.ConnectionWaiting},
		{"29 s later", func() { now = now.Add(29 * time.Second) }, connect.ConnectionWaiting},
		{"30 s later", func() { now = now.Add(time.Second) }, long},
		{"connected", func() { admin.SetConnected(&test) }, "✓ Okta has connected: Test API Credentials at 19:52:03."},
		{"waiting again starts the clock again", func() { admin.SetConnected(nil); now = now.Add(time.Hour) }, connect.ConnectionWaiting},
		{"and adds the hint after 30 s", func() { now = now.Add(30 * time.Second) }, long},
		{"a new secret waits from the start", func() { d.Generate(ctx); now = now.Add(10 * time.Second) }, connect.ConnectionWaiting},
	}
	d.Location = time.UTC
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.change()
			d.Poll(ctx)
			if diff := cmp.Diff(st.want, page.text(connect.IDConnection)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDialogCopiedResets(t *testing.T) {
	admin := admintest.New("acme", "http://app.test", 0, 0)
	d, page, _ := signedIn(t, admin)
	d.CopiedFor = 50 * time.Millisecond
	d.Copied(connect.IDCopySCIMURL, nil)
	got := []any{page.text(connect.IDCopySCIMURL), page.text(connect.IDCopyStatus)}
	if diff := cmp.Diff([]any{"Copied", "Tenant URL copied."}, got); diff != "" {
		t.Errorf("after the copy (-want +got):\n%s", diff)
	}
	time.Sleep(30 * time.Millisecond)
	d.Copied(connect.IDCopySCIMURL, nil) // a second copy keeps "Copied" for the full time again
	time.Sleep(30 * time.Millisecond)
	if diff := cmp.Diff("Copied", page.text(connect.IDCopySCIMURL)); diff != "" {
		t.Errorf("during the second copy (-want +got):\n%s", diff)
	}
	waitFor(t, "Copy again", func() bool { return page.text(connect.IDCopySCIMURL) == "Copy" })
	d.Copied(connect.IDCopySecret, errors.New("denied"))
	time.Sleep(80 * time.Millisecond)
	if diff := cmp.Diff(nil, page.text(connect.IDCopySecret)); diff != "" {
		t.Errorf("a failed copy touches the button (-want +got):\n%s", diff)
	}
}

func TestDialogSaveClearsTestSignIn(t *testing.T) {
	admin := admintest.New("acme", "http://app.test", 0, 0)
	admin.Discover = func(context.Context, connect.SignIn) (string, error) { return "https://dev-1.okta.com", nil }
	d, page, _ := signedIn(t, admin)
	ctx := context.Background()
	d.Load(ctx)
	page.Apply(connect.TestOutcome(connect.TestSignInResult{Done: true, OK: true, UserName: "alice", Claims: map[string]any{"sub": "1"}}, time.UTC))
	page.typeInto(connect.IDOktaDomain, "dev-1.okta.com")
	page.typeInto(connect.IDClientID, "0oa1")
	page.typeInto(connect.IDClientSecret, "s")
	d.Save(ctx)
	got := []any{page.text(connect.IDTestStatus), page.get(connect.IDTestStatus, connect.PropHidden),
		page.get(connect.IDClaims, connect.PropChildren), page.get(connect.IDClaimsBox, connect.PropHidden)}
	if diff := cmp.Diff([]any{"", true, []connect.Node{}, true}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(connect.ClearTest(), []connect.Set{
		{ID: connect.IDTestStatus, Prop: connect.PropText, Value: ""},
		{ID: connect.IDTestStatus, Prop: connect.PropBusy, Value: "false"},
		{ID: connect.IDTestStatus, Prop: connect.PropHidden, Value: true},
		{ID: connect.IDClaims, Prop: connect.PropChildren, Value: []connect.Node{}},
		{ID: connect.IDClaimsBox, Prop: connect.PropHidden, Value: true},
	}); diff != "" {
		t.Errorf("ClearTest (+want -got):\n%s", diff)
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestDialogWatch(t *testing.T) {
	admin := admintest.New("acme", "http://app.test", 0, 0)
	d, _, _ := signedIn(t, admin)
	d.PollEvery = 5 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	d.Load(ctx)
	var mu sync.Mutex
	visible := false
	wake := make(chan struct{})
	done := make(chan struct{})
	go func() {
		d.Watch(ctx, func() bool { mu.Lock(); defer mu.Unlock(); return visible }, wake)
		close(done)
	}()
	waitFor(t, "the first poll", func() bool { return admin.ActivityReads() == 1 })
	time.Sleep(50 * time.Millisecond)
	if diff := cmp.Diff(1, admin.ActivityReads()); diff != "" {
		t.Errorf("polls while hidden (-want +got):\n%s", diff)
	}
	wake <- struct{}{}
	waitFor(t, "a poll on focus", func() bool { return admin.ActivityReads() == 2 })
	mu.Lock()
	visible = true
	mu.Unlock()
	waitFor(t, "polls while visible", func() bool { return admin.ActivityReads() >= 6 })
	cancel()
	<-done
}

func TestDialogSaveChecks(t *testing.T) {
	const keysFail = "Okta's signing keys at https://dev-1.okta.com/oauth2/v1/keys hold no RS256 or ES256 key."
	tests := []struct {
		name       string
		fail       string // the failing step
		plain      bool
		wantStatus string
		wantChecks []string // "✓ name" / "✗ name"
		wantTest   bool     // Test sign-in enabled
	}{
		{"every step passes", "", false, "✓ Saved. Okta's discovery document was read: issuer https://dev-1.okta.com.",
			[]string{"✓ Okta domain", "✓ Discovery document", "✓ Signing keys", "✓ Client credentials"}, true},
		{"signing keys fail", adminapi.CheckKeys, false, "✗ Not saved: Signing keys failed (see below).",
			[]string{"✓ Okta domain", "✓ Discovery document", "✗ Signing keys"}, false},
		{"the domain fails", adminapi.CheckDomain, false, "✗ Not saved: Okta domain failed (see below).", []string{"✗ Okta domain"}, false},
		{"a refusal without checks", adminapi.CheckCredentials, true, "✗ " + keysFail, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			admin := admintest.New("acme", "http://app.test", 0, 0)
			admin.Discover = func(context.Context, connect.SignIn) (string, error) { return "https://dev-1.okta.com", nil }
			admin.FailCheck(tt.fail, keysFail)
			admin.SetPlainErrors(tt.plain)
			d, page, _ := signedIn(t, admin)
			d.Load(context.Background())
			if diff := cmp.Diff(true, page.get(connect.IDTestSignIn, connect.PropDisabled)); diff != "" {
				t.Errorf("Test sign-in before saving (-want +got):\n%s", diff)
			}
			page.typeInto(connect.IDOktaDomain, "dev-1.okta.com/")
			page.typeInto(connect.IDClientID, "0oa1")
			page.typeInto(connect.IDClientSecret, "s")
			d.Save(context.Background())
			if diff := cmp.Diff(tt.wantStatus, page.text(connect.IDSaveStatus)); diff != "" {
				t.Errorf("status (-want +got):\n%s", diff)
			}
			nodes, _ := page.get(connect.IDChecks, connect.PropChildren).([]connect.Node)
			var got []string
			for _, n := range nodes {
				got = append(got, n.Children[0].Text+n.Children[1].Text)
			}
			if diff := cmp.Diff(tt.wantChecks, got); diff != "" {
				t.Errorf("checks (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(len(tt.wantChecks) == 0, page.get(connect.IDChecks, connect.PropHidden)); diff != "" {
				t.Errorf("checks hidden (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(!tt.wantTest, page.get(connect.IDTestSignIn, connect.PropDisabled)); diff != "" {
				t.Errorf("Test sign-in disabled (-want +got):\n%s", diff)
			}
		})
	}
}

// fakePopup stands in for the popup window: the first look at it loads
// the test sign-in page (as the browser does once it is open).
type fakePopup struct {
	once   sync.Once
	load   func()
	closed bool
}

func (p *fakePopup) Closed() bool {
	p.once.Do(p.load)
	return p.closed
}

func TestDialogTestSignIn(t *testing.T) {
	refused := adminapi.TestSignIn{Done: true, Message: "bob@example.com is deactivated in idpkit; reactivate them in Okta.", Claims: map[string]any{"sub": "00u2"}}
	tests := []struct {
		name       string
		outcome    *adminapi.TestSignIn
		closed     bool
		timeout    time.Duration
		wantStatus string
		wantClaims bool
	}{
		{"signed in", &admintest.DefaultTestSignIn, false, 0, "✓ Signed in as alice@example.com.", true},
		{"refused", &refused, false, 0, "✗ bob@example.com is deactivated in idpkit; reactivate them in Okta.", true},
		{"an outcome stored as the popup closed", &admintest.DefaultTestSignIn, true, 0, "✓ Signed in as alice@example.com.", true},
		{"popup closed", nil, true, 0, connect.PopupClosedText, false},
		{"timed out", nil, false, 200 * time.Millisecond, "✗ The test sign-in did not finish within 200ms; click Test sign-in to try again.", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			admin := admintest.New("acme", "http://app.test", 0, 0)
			admin.Discover = func(context.Context, connect.SignIn) (string, error) { return "https://dev-1.okta.com", nil }
			admin.SetTestSignIn(tt.outcome)
			d, page, srvURL := signedIn(t, admin)
			d.PollEvery, d.TestTimeout = 5*time.Millisecond, tt.timeout
			ctx := context.Background()
			d.Load(ctx)
			if d.CanTestSignIn() {
				t.Fatal("Test sign-in possible before sign-in is saved")
			}
			page.typeInto(connect.IDOktaDomain, "dev-1.okta.com")
			page.typeInto(connect.IDClientID, "0oa1")
			page.typeInto(connect.IDClientSecret, "s")
			d.Save(ctx)
			if !d.CanTestSignIn() {
				t.Fatal("Test sign-in impossible after saving")
			}
			id, err := connect.NewTestID()
			if err != nil {
				t.Fatal(err)
			}
			popup := &fakePopup{closed: tt.closed, load: func() {
				resp, err := d.API.Client.Get(srvURL + "/t/acme/admin/" + connect.TestSignInPath(id))
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
			}}
			d.TestSignIn(ctx, id, popup)
			if diff := cmp.Diff([]string{id}, admin.TestSignInIDs()); diff != "" {
				t.Errorf("popup ids (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantStatus, page.text(connect.IDTestStatus)); diff != "" {
				t.Errorf("status (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(!tt.wantClaims, page.get(connect.IDClaimsBox, connect.PropHidden)); diff != "" {
				t.Errorf("claims hidden (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("blocked popup", func(t *testing.T) {
		admin := admintest.New("acme", "http://app.test", 0, 0)
		d, page, _ := signedIn(t, admin)
		d.PopupBlocked()
		got := []any{page.text(connect.IDTestStatus), page.get(connect.IDTestStatus, connect.PropClass)}
		if diff := cmp.Diff([]any{connect.PopupBlockedText, connect.ClassError}, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})

	t.Run("a new test ends the running one", func(t *testing.T) {
		admin := admintest.New("acme", "http://app.test", 0, 0)
		admin.Discover = func(context.Context, connect.SignIn) (string, error) { return "https://dev-1.okta.com", nil }
		d, page, srvURL := signedIn(t, admin)
		d.PollEvery = 5 * time.Millisecond
		ctx := context.Background()
		d.Load(ctx)
		page.typeInto(connect.IDOktaDomain, "dev-1.okta.com")
		page.typeInto(connect.IDClientID, "0oa1")
		page.typeInto(connect.IDClientSecret, "s")
		d.Save(ctx)
		first := make(chan struct{})
		go func() {
			d.TestSignIn(ctx, "first-id-that-never-finishes", &fakePopup{load: func() {}})
			close(first)
		}()
		waitFor(t, "the first test", func() bool { return page.text(connect.IDTestStatus) == connect.TestWaitingText })
		id := "second-id-that-signs-in-at-once"
		d.TestSignIn(ctx, id, &fakePopup{load: func() {
			resp, err := d.API.Client.Get(srvURL + "/t/acme/admin/" + connect.TestSignInPath(id))
			if err == nil {
				resp.Body.Close()
			}
		}})
		<-first
		if diff := cmp.Diff("✓ Signed in as alice@example.com.", page.text(connect.IDTestStatus)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}
