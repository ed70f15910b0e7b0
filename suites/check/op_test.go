package check

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOPCatalogueShape(t *testing.T) {
	areas := []string{"op-discovery", "op-code", "op-pkce", "op-prompt", "op-client-auth", "op-tokens", "op-logout"}
	seen := map[string]bool{}
	for _, c := range OP() {
		if seen[c.ID] {
			t.Errorf("%s: duplicate ID", c.ID)
		}
		seen[c.ID] = true
		if !strings.HasPrefix(c.ID, "op-") || c.Title == "" || !strings.Contains(c.Ref, "§") || c.Run == nil {
			t.Errorf("%s: want an op- ID, a title, a Ref with a section and a Run", c.ID)
		}
		if len(c.Labels) != 2 || c.Labels[0] != "op" || !slices.Contains(areas, c.Labels[1]) {
			t.Errorf("%s: labels %q, want op and one area", c.ID, c.Labels)
		}
	}
	if len(seen) < 30 {
		t.Errorf("%d checks, want the whole catalogue", len(seen))
	}
}

func TestSelectOP(t *testing.T) {
	var ids []string
	for _, c := range SelectOP(OP(), []string{"op-pkce"}, []string{"op-pkce-plain"}) {
		ids = append(ids, c.ID)
	}
	want := []string{"op-pkce-verifier-missing", "op-pkce-verifier-wrong", "op-pkce-verifier-length"}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("SelectOP (-want +got):\n%s", diff)
	}
	if n := len(SelectOP(OP(), nil, nil)); n != len(OP()) {
		t.Errorf("SelectOP with no labels: %d checks, want %d", n, len(OP()))
	}
}

func opValidTarget() *OPTarget {
	return &OPTarget{Issuer: "https://idp.example.com", ClientID: "c", ClientSecret: "s", RedirectURI: "https://rp.example.com/cb", Username: "u", Password: "p"}
}

func TestRunOP(t *testing.T) {
	target := opValidTarget()
	for _, tc := range []struct {
		name string
		run  func(context.Context, *OPTarget) error
		want Result
	}{
		{"pass", func(context.Context, *OPTarget) error { return nil }, Result{Passed: true}},
		{"skip", func(context.Context, *OPTarget) error { return Skip("no refresh grant") }, Result{Skipped: true, Error: "skipped: no refresh grant"}},
		{"fail", func(context.Context, *OPTarget) error { return errors.New("bad") }, Result{Error: "bad"}},
		{"panic", func(context.Context, *OPTarget) error { panic("boom") }, Result{Error: "check panicked: boom"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := RunOP(context.Background(), OPCheck{ID: "x", Run: tc.run}, target)
			r.Duration, r.ID = 0, ""
			if diff := cmp.Diff(tc.want, r); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOPTargetValidate(t *testing.T) {
	if err := opValidTarget().Validate(); err != nil {
		t.Errorf("a complete target: %v", err)
	}
	bad := opValidTarget()
	bad.ClientSecret, bad.Password, bad.AuthMethod = "", "", "private_key_jwt"
	if err := bad.Validate(); err == nil || err.Error() != "check: the OP target needs ClientSecret, Password" {
		t.Errorf("missing fields: %v", err)
	}
	bad = opValidTarget()
	bad.AuthMethod = "private_key_jwt"
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), `unknown AuthMethod "private_key_jwt"`) {
		t.Errorf("unknown method: %v", err)
	}
}

func TestOPRedact(t *testing.T) {
	u, _ := url.Parse("https://rp.example.com/cb?code=SECRET1&state=s#id_token=SECRET2&x=1")
	got := opRedactURL(u)
	if strings.Contains(got, "SECRET") || !strings.Contains(got, "state=s") || !strings.Contains(got, "x=1") {
		t.Errorf("opRedactURL = %q", got)
	}
	x := &opExchange{method: "POST", reqURL: u, reqForm: url.Values{"client_secret": {"SECRET3"}, "password": {"SECRET4"}, "grant_type": {"authorization_code"}},
		reqAuth: "Basic", status: 200, header: http.Header{"Content-Type": {"application/json"}},
		json: map[string]any{"access_token": "SECRET5", "refresh_token": "SECRET6", "token_type": "Bearer"}}
	if s := x.String(); strings.Contains(s, "SECRET") || !strings.Contains(s, "grant_type=authorization_code") || !strings.Contains(s, "Bearer") {
		t.Errorf("String = %s", s)
	}
}

func TestOPAuthParam(t *testing.T) {
	for _, tc := range []struct{ params, name, want string }{
		{`realm="Okta", error="invalid_token", error_description="The access token is invalid"`, "error", "invalid_token"},
		{`error=invalid_token`, "error", "invalid_token"},
		{`error_description="a, b \"c\"", error="insufficient_scope"`, "error", "insufficient_scope"},
		{`error_description="a, b \"c\""`, "error_description", `a, b "c"`},
		{`realm="x"`, "error", ""},
		{``, "error", ""},
	} {
		if got := opAuthParam(tc.params, tc.name); got != tc.want {
			t.Errorf("opAuthParam(%q, %q) = %q, want %q", tc.params, tc.name, got, tc.want)
		}
	}
}

func TestOPRedirectVariants(t *testing.T) {
	var got []string
	for _, v := range opRedirectVariants("https://rp.example.com/oidc/callback?tenant=a") {
		got = append(got, v.uri)
	}
	want := []string{
		"https://unregistered.example.invalid/callback",
		"https://rp.example.com/oidc/callback/?tenant=a",
		"https://rp.example.com/OIDC/CALLBACK?tenant=a",
		"https://rp.example.com/oidc/callback?idpkit_extra=1&tenant=a",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("variants (-want +got):\n%s", diff)
	}
	got = nil
	for _, v := range opRedirectVariants("http://127.0.0.1:8080/") {
		got = append(got, v.uri)
	}
	want = []string{"https://unregistered.example.invalid/callback", "http://127.0.0.1:8080/?idpkit_extra=1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("variants of a root URI on an IP (-want +got):\n%s", diff)
	}
	got = nil
	for _, v := range opRedirectVariants("http://localhost:8080") {
		got = append(got, v.uri)
	}
	want = []string{"https://unregistered.example.invalid/callback", "http://LOCALHOST:8080", "http://localhost:8080?idpkit_extra=1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("variants of a bare origin (-want +got):\n%s", diff)
	}
}

func TestOPTamper(t *testing.T) {
	for _, tok := range []string{"aaa.bbb.cccAcc", "aaa.bbb.ccccc", "opaque"} {
		if got := opTamper(tok); got == tok || len(got) < len(tok) {
			t.Errorf("opTamper(%q) = %q", tok, got)
		}
	}
}

// A provider whose sign-in page is a script fails the flow with a sentence
// that says so, naming the page.
func TestOPScriptLoginPage(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"issuer":"` + srv.URL + `","authorization_endpoint":"` + srv.URL + `/authorize","token_endpoint":"` + srv.URL + `/token","jwks_uri":"` + srv.URL + `/keys"}`))
		case "/authorize":
			http.Redirect(w, r, "/signin", http.StatusFound)
		case "/signin":
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte(`<html><script src="/widget.js"></script><div id="okta-sign-in"></div></html>`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	target := opValidTarget()
	target.Issuer, target.Client = srv.URL, srv.Client()
	i := slices.IndexFunc(OP(), func(c OPCheck) bool { return c.ID == "op-code-flow" })
	r := RunOP(context.Background(), OP()[i], target)
	if r.Passed || r.Skipped || !strings.HasPrefix(r.Error, "could not find a login form at "+srv.URL+"/signin: ") || !strings.Contains(r.Error, "Sign-In Widget") {
		t.Errorf("result %+v", r)
	}
}

// An interrupted run stops: the check that the interruption cut short and
// those after it have no result, so none fails for it.
func TestRunOPAllInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var ran []string
	mk := func(id string, run func() error) OPCheck {
		return OPCheck{ID: id, Run: func(context.Context, *OPTarget) error { ran = append(ran, id); return run() }}
	}
	checks := []OPCheck{
		mk("first", func() error { return nil }),
		mk("second", func() error { cancel(); return errors.New("context canceled") }),
		mk("third", func() error { return nil }),
	}
	var progress []string
	results := RunOPAll(ctx, checks, opValidTarget(), func(done, total int, r Result) { progress = append(progress, r.ID) })
	var ids []string
	for _, r := range results {
		ids = append(ids, r.ID)
	}
	if diff := cmp.Diff([]any{[]string{"first"}, []string{"first"}, []string{"first", "second"}}, []any{ids, progress, ran}); diff != "" {
		t.Errorf("results, progress, checks run (-want +got):\n%s", diff)
	}
}
