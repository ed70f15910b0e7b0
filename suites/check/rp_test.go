package check

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestRPJar(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name    string
		setURL  string
		cookies []*http.Cookie
		getURL  string
		method  string
		cross   bool
		want    string
	}{
		{"host only", "http://app.example.com/t/a/login", []*http.Cookie{{Name: "a", Value: "1"}}, "http://app.example.com/t/a/x", "GET", false, "a=1"},
		{"host only not on a subdomain", "http://example.com/", []*http.Cookie{{Name: "a", Value: "1", Path: "/"}}, "http://app.example.com/", "GET", false, ""},
		{"domain cookie on a subdomain", "http://example.com/", []*http.Cookie{{Name: "a", Value: "1", Domain: "example.com", Path: "/"}}, "http://app.example.com/", "GET", false, "a=1"},
		{"foreign domain dropped", "http://example.com/", []*http.Cookie{{Name: "a", Value: "1", Domain: "other.com"}}, "http://other.com/", "GET", false, ""},
		{"default path is the directory", "http://h.test/t/a/login", []*http.Cookie{{Name: "a", Value: "1"}}, "http://h.test/t/b/oidc", "GET", false, ""},
		{"path prefix needs a slash", "http://h.test/", []*http.Cookie{{Name: "a", Value: "1", Path: "/t/a"}}, "http://h.test/t/ab", "GET", false, ""},
		{"path match", "http://h.test/", []*http.Cookie{{Name: "a", Value: "1", Path: "/t/a"}}, "http://h.test/t/a/oidc/callback", "GET", false, "a=1"},
		{"secure on loopback http", "http://127.0.0.1:8080/", []*http.Cookie{{Name: "a", Value: "1", Path: "/", Secure: true}}, "http://127.0.0.1:8080/x", "GET", false, "a=1"},
		{"secure on localhost http", "http://localhost:8080/", []*http.Cookie{{Name: "a", Value: "1", Path: "/", Secure: true}}, "http://localhost:8080/x", "GET", false, "a=1"},
		{"secure not set over plain http", "http://app.test/", []*http.Cookie{{Name: "a", Value: "1", Path: "/", Secure: true}}, "http://app.test/", "GET", false, ""},
		{"secure not sent over plain http", "https://app.test/", []*http.Cookie{{Name: "a", Value: "1", Path: "/", Secure: true}}, "http://app.test/", "GET", false, ""},
		{"max-age in the past deletes", "http://h.test/", []*http.Cookie{{Name: "a", Value: "1", Path: "/"}, {Name: "a", Value: "", Path: "/", MaxAge: -1}}, "http://h.test/", "GET", false, ""},
		{"expired", "http://h.test/", []*http.Cookie{{Name: "a", Value: "1", Path: "/", Expires: now.Add(-time.Hour)}}, "http://h.test/", "GET", false, ""},
		{"replaced", "http://h.test/", []*http.Cookie{{Name: "a", Value: "1", Path: "/"}, {Name: "a", Value: "2", Path: "/"}}, "http://h.test/", "GET", false, "a=2"},
		{"longer path first", "http://h.test/", []*http.Cookie{{Name: "a", Value: "1", Path: "/"}, {Name: "b", Value: "2", Path: "/t"}}, "http://h.test/t/x", "GET", false, "b=2; a=1"},
		{"lax on a cross-site GET", "http://h.test/", []*http.Cookie{{Name: "a", Value: "1", Path: "/", SameSite: http.SameSiteLaxMode}}, "http://h.test/", "GET", true, "a=1"},
		{"lax not on a cross-site POST", "http://h.test/", []*http.Cookie{{Name: "a", Value: "1", Path: "/", SameSite: http.SameSiteLaxMode}}, "http://h.test/", "POST", true, ""},
		{"no SameSite is lax", "http://h.test/", []*http.Cookie{{Name: "a", Value: "1", Path: "/"}}, "http://h.test/", "POST", true, ""},
		{"strict not on a cross-site GET", "http://h.test/", []*http.Cookie{{Name: "a", Value: "1", Path: "/", SameSite: http.SameSiteStrictMode}}, "http://h.test/", "GET", true, ""},
		{"none and secure on a cross-site POST", "https://h.test/", []*http.Cookie{{Name: "a", Value: "1", Path: "/", SameSite: http.SameSiteNoneMode, Secure: true}}, "https://h.test/", "POST", true, "a=1"},
		{"none without secure is dropped cross-site", "http://h.test/", []*http.Cookie{{Name: "a", Value: "1", Path: "/", SameSite: http.SameSiteNoneMode}}, "http://h.test/", "POST", true, ""},
		{"strict on a same-site POST", "http://h.test/", []*http.Cookie{{Name: "a", Value: "1", Path: "/", SameSite: http.SameSiteStrictMode}}, "http://h.test/", "POST", false, "a=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := &rpJar{now: func() time.Time { return now }}
			for _, c := range tt.cookies {
				j.set(mustURL(t, tt.setURL), []*http.Cookie{c})
			}
			got := j.header(mustURL(t, tt.getURL), tt.method, tt.cross)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Cookie header (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(got, j.clone().header(mustURL(t, tt.getURL), tt.method, tt.cross)); diff != "" {
				t.Errorf("the clone differs (-orig +clone):\n%s", diff)
			}
		})
	}
}

func TestRPSiteOf(t *testing.T) {
	tests := []struct{ a, b string }{
		{"http://127.0.0.1:9099/x", "http://127.0.0.1"},
		{"https://login.app.example.com/", "https://example.com"},
		{"http://localhost:8080", "http://localhost"},
		{"http://[::1]:8080/", "http://::1"},
	}
	for _, tt := range tests {
		t.Run(tt.a, func(t *testing.T) {
			if diff := cmp.Diff(tt.b, rpSiteOf(mustURL(t, tt.a))); diff != "" {
				t.Error(diff)
			}
		})
	}
}

func TestRPEntropy(t *testing.T) {
	tests := []struct {
		s    string
		want float64
	}{
		{"state", 0 + 5*6}, // letters: base64 alphabet
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0},
		{"0123456789", 10 * 3.321928094887362},
		{"0123456789abcdef0123456789abcdef", 32 * 4},
		{"Q2xvdWQgY3VzdG9tZXIgc3RhdGUgdmFsdWUx", 36 * 6},
	}
	for _, tt := range tests {
		t.Run(tt.s, func(t *testing.T) {
			got := rpEntropyBits(tt.s)
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 })); diff != "" {
				t.Error(diff)
			}
		})
	}
}

func TestRPFormPost(t *testing.T) {
	page := `<!doctype html><html><body onload="document.forms[0].submit()"><form method="post" action="https://rp.test/cb">
<input type="hidden" name="code" value="abc"><input type="hidden" name="state" value="s&amp;1">
<button type="submit">Continue</button></form></body></html>`
	tests := []struct {
		name   string
		url    string
		status int
		ct     string
		body   string
		want   *rpStep
	}{
		{"the mock's form_post page", "http://127.0.0.1:9099/oauth2/v1/authorize?x", 200, "text/html; charset=utf-8", page,
			&rpStep{Method: "POST", URL: "https://rp.test/cb", Form: url.Values{"code": {"abc"}, "state": {"s&1"}}, Origin: "http://127.0.0.1:9099"}},
		{"a page of the RP is not submitted", "https://rp.test/page", 200, "text/html", page, nil},
		{"a form without an authorization response", "http://127.0.0.1:9099/login", 200, "text/html", `<form method="post" action="/x"><input name="username"></form>`, nil},
		{"not HTML", "http://127.0.0.1:9099/x", 200, "application/json", page, nil},
	}
	b := (&RPTarget{MockURL: "http://127.0.0.1:9099"}).newBrowser("browser A")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &rpHop{rpStep: rpStep{Method: "GET", URL: tt.url}, Status: tt.status, ContentType: tt.ct, Body: []byte(tt.body)}
			next, ok := b.next(h)
			var got *rpStep
			if ok {
				got = &next
			}
			opt := cmp.Comparer(func(a, b rpStep) bool {
				return a.Method == b.Method && a.URL == b.URL && a.Origin == b.Origin && cmp.Equal(a.Form, b.Form)
			})
			if diff := cmp.Diff(tt.want, got, opt); diff != "" {
				t.Errorf("next step (-want +got):\n%s", diff)
			}
			if got != nil && (!got.fromMock || got.from != tt.url) {
				t.Errorf("fromMock %v, from %q; want true, %q", got.fromMock, got.from, tt.url)
			}
		})
	}
}

func TestRPRedirects(t *testing.T) {
	b := (&RPTarget{MockURL: "http://127.0.0.1:9099"}).newBrowser("browser A")
	tests := []struct {
		name   string
		method string
		status int
		loc    string
		want   rpStep
	}{
		{"302 after a POST is a GET", "POST", 302, "/me#frag", rpStep{Method: "GET", URL: "http://rp.test/me"}},
		{"303", "GET", 303, "https://other.test/x?a=1", rpStep{Method: "GET", URL: "https://other.test/x?a=1"}},
		{"307 keeps the POST", "POST", 307, "/again", rpStep{Method: "POST", URL: "http://rp.test/again", Form: url.Values{"a": {"1"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &rpHop{rpStep: rpStep{Method: tt.method, URL: "http://rp.test/cb", Form: url.Values{"a": {"1"}}}, Status: tt.status, Location: tt.loc}
			got, ok := b.next(h)
			if !ok {
				t.Fatal("no next step")
			}
			if diff := cmp.Diff([]any{tt.want.Method, tt.want.URL, tt.want.Form}, []any{got.Method, got.URL, got.Form}); diff != "" {
				t.Errorf("next step (-want +got):\n%s", diff)
			}
			if got.fromMock || got.from != h.URL {
				t.Errorf("fromMock %v from %q", got.fromMock, got.from)
			}
		})
	}
}

func TestRPCatalogue(t *testing.T) {
	all := RP()
	seen := map[string]bool{}
	for _, c := range all {
		if seen[c.ID] {
			t.Errorf("duplicate ID %s", c.ID)
		}
		seen[c.ID] = true
		if !c.HasLabel(LabelRP) || c.Title == "" || c.Ref == "" || c.Run == nil {
			t.Errorf("%s: want label rp, a title, a ref and Run", c.ID)
		}
		if !strings.HasPrefix(c.ID, "rp-") {
			t.Errorf("%s: IDs start with rp-", c.ID)
		}
	}
	for _, f := range rpFaults {
		if !seen[rpFaultID(f.name, f.expect)] {
			t.Errorf("no check for fault %s", f.name)
		}
	}
	var keys []string
	for _, c := range SelectRP(all, []string{LabelRPKeys}, []string{"rp-accepts-slow-keys"}) {
		keys = append(keys, c.ID)
	}
	want := []string{"rp-accepts-key-rotation-op-sign-key", "rp-accepts-kid-absent-single-jwks", "rp-survives-kid-absent-multiple-jwks",
		"rp-refuses-kid-unpublished", "rp-accepts-jwks-secp256k1-key", "rp-accepts-jwks-okp-key", "rp-accepts-jwks-unparseable-key",
		"rp-jwks-no-refetch-storm"}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("SelectRP rp-keys (-want +got):\n%s", diff)
	}
	if n := len(SelectRPStrict(all, nil, nil)); n != len(all) {
		t.Errorf("SelectRPStrict with no labels: %d checks, want %d", n, len(all))
	}
	var strict []string
	for _, c := range all {
		if c.HasLabel(Strict) {
			strict = append(strict, c.ID)
		}
	}
	if diff := cmp.Diff([]string{"rp-refuses-iat-future", "rp-refuses-wrong-azp", "rp-refuses-wrong-at-hash"}, strict); diff != "" {
		t.Errorf("strict RP checks (-want +got):\n%s", diff)
	}
	if n := len(SelectRP(all, nil, nil)); n != len(all)-len(strict) {
		t.Errorf("SelectRP with no labels: %d checks, want %d (all but the strict ones)", n, len(all)-len(strict))
	}
	if !slices.ContainsFunc(all, func(c RPCheck) bool { return c.ID == "rp-refuses-alg-none" }) {
		t.Error("no rp-refuses-alg-none")
	}
}

func TestRPHopString(t *testing.T) {
	h := &rpHop{rpStep: rpStep{Method: "GET", URL: "http://rp.test/login"}, Status: 302, Location: "http://mock.test/authorize",
		SetCookie: []string{"idpkit_login=secretvalue; Path=/t/a; HttpOnly; SameSite=Lax"}}
	want := "GET http://rp.test/login → 302 Location: http://mock.test/authorize\n      Set-Cookie: idpkit_login=…; Path=/t/a; HttpOnly; SameSite=Lax"
	if diff := cmp.Diff(want, h.String()); diff != "" {
		t.Error(diff)
	}
	page := &rpHop{rpStep: rpStep{Method: "GET", URL: "http://rp.test/cb"}, Status: 400, ContentType: "text/html",
		Body: []byte("<html><head><title>x</title><style>p{}</style></head><body><h1>Sign-in expired</h1><p>Start   again.</p></body></html>")}
	if diff := cmp.Diff(`GET http://rp.test/cb → 400 text/html "Sign-in expired Start again."`, page.String()); diff != "" {
		t.Error(diff)
	}
}

// An interrupted run stops: the check the interruption cut short and those
// after it have no result, so none fails for it.
func TestRunRPAllInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var ran []string
	mk := func(id string, run func() error) RPCheck {
		return RPCheck{ID: id, Run: func(context.Context, *RPTarget) error { ran = append(ran, id); return run() }}
	}
	checks := []RPCheck{
		mk("first", func() error { return nil }),
		mk("second", func() error { cancel(); return errors.New("context canceled") }),
		mk("third", func() error { return nil }),
	}
	var progress []string
	// The mock's URL answers nothing: the reset at the end fails quietly.
	target := &RPTarget{MockURL: "http://127.0.0.1:1"}
	results := RunRPAll(ctx, checks, target, func(done, total int, r Result) { progress = append(progress, r.ID) })
	var ids []string
	for _, r := range results {
		ids = append(ids, r.ID)
	}
	if diff := cmp.Diff([]any{[]string{"first"}, []string{"first"}, []string{"first", "second"}}, []any{ids, progress, ran}); diff != "" {
		t.Errorf("results, progress, checks run (-want +got):\n%s", diff)
	}
}

// The key rotation check's wait for a refetch cooldown ends when the run
// is interrupted.
func TestRPPauseInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (&RPTarget{}).pause(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("pause = %v, want context.Canceled", err)
	}
}

func TestRPDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{25 * time.Hour, "25h"}, {time.Hour + 30*time.Second, "1h0m30s"}, {3*time.Minute + 10*time.Second, "3m10s"},
		{4 * time.Minute, "4m"}, {31 * time.Second, "31s"}, {90*time.Minute + 400*time.Millisecond, "1h30m"},
	} {
		if got := rpDuration(tc.d); got != tc.want {
			t.Errorf("rpDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
