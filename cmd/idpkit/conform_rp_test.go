package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/mockidp"
	"github.com/idpkit/idpkit/scim/app"
	"github.com/idpkit/idpkit/scim/app/apptest"
	"github.com/idpkit/idpkit/scim/tenant"
)

// ownRPForConform starts idpkit's app server and a mock Okta, connected
// (a SCIM app provisions the user, an OIDC app signs in), and returns the
// mock and the conform rp flags that name them.
func ownRPForConform(t *testing.T) (*mockidp.Server, []string) {
	t.Helper()
	ctx := context.Background()
	srv := apptest.Start(t, nil)
	created := srv.Tenant(t, "acme")
	mock := mockidp.NewServer()
	t.Cleanup(mock.Close)
	const user = "casey@example.com"
	if _, err := mock.AddUser(mockidp.SeedUser{Login: user, FirstName: "Casey", LastName: "Conform", Password: "Tulip-Garden-42!"}); err != nil {
		t.Fatal(err)
	}
	if _, err := mock.AddApp(mockidp.SeedApp{Label: "scim", Type: mockidp.SeedAppSCIM, BaseURL: created.SCIMBaseURL, Token: created.Token, Create: true, Update: true, Deactivate: true}); err != nil {
		t.Fatal(err)
	}
	oidcApp, err := mock.AddApp(mockidp.SeedApp{Label: "sign-in", Type: mockidp.SeedAppOIDC, RedirectURIs: []string{created.RedirectURI}})
	if err != nil {
		t.Fatal(err)
	}
	for _, label := range []string{"scim", "sign-in"} {
		if err := mock.Assign(mockidp.SeedAssignment{App: label, Users: []string{user}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := app.Tenants(srv.Config).Configure(ctx, created.Tenant, tenant.SignIn{OktaDomain: mock.URL,
		ClientID: oidcApp.OAuthClient.ClientID, ClientSecret: oidcApp.OAuthClient.ClientSecret}); err != nil {
		t.Fatal(err)
	}
	base := srv.URL + "/t/" + created.Tenant
	return mock, []string{"--login-url", base + "/login", "--session-url", base + "/me", "--mock-url", mock.URL,
		"--mock-token", mock.APIToken, "--login", user, "--client-id", oidcApp.OAuthClient.ClientID}
}

func TestConformRP(t *testing.T) {
	_, flags := ownRPForConform(t)
	dir := t.TempDir()
	jsonFile, junitFile := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.xml")
	args := append([]string{"conform", "rp", "--label", "rp-flow", "--json", jsonFile, "--junit", junitFile}, flags...)
	code, out, errs := runCmd(t, context.Background(), args...)
	if code != 0 {
		t.Fatalf("conform rp exited %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if testing.Verbose() {
		t.Log(out)
	}
	for _, want := range []string{
		"idpkit conform rp: 10 relying-party checks against ",
		"✓ rp-accepts-valid-login — ",
		"✓ rp-callback-other-browser — ",
		"– rp-form-post-cookies — ", "(skipped: the RP uses response_mode query (the default); the rule is for form_post)",
		"Summary: 9/10 checks passed, 1 skipped",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	var report struct {
		Summary struct{ Total, Passed, Failed, Skipped int }
		Results []struct{ ID, Status string }
	}
	b, err := os.ReadFile(jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &report); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(struct{ Total, Passed, Failed, Skipped int }{10, 9, 0, 1}, report.Summary); diff != "" {
		t.Errorf("JSON summary (-want +got):\n%s", diff)
	}
	if x, err := os.ReadFile(junitFile); err != nil || !strings.Contains(string(x), `<testcase name="rp-sends-state: `) {
		t.Errorf("JUnit report: %v\n%s", err, x)
	}
}

func TestConformRPFlags(t *testing.T) {
	mock, flags := ownRPForConform(t)
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	t.Cleanup(broken.Close)
	with := func(extra ...string) []string { return append(append([]string{}, flags...), extra...) }
	// replace returns flags with one flag's value replaced.
	replace := func(name, value string) []string {
		out := append([]string{}, flags...)
		for i := range out {
			if out[i] == name {
				out[i+1] = value
			}
		}
		return out
	}
	other, err := mock.AddApp(mockidp.SeedApp{Label: "another RP", Type: mockidp.SeedAppOIDC, RedirectURIs: []string{"http://127.0.0.1:3000/callback"}})
	if err != nil {
		t.Fatal(err)
	}
	seed := filepath.Join(t.TempDir(), "seed.yaml")
	os.WriteFile(seed, []byte("users:\n  - {login: solo@example.com, firstName: Solo, lastName: User, password: Maple-Forest-42!}\napps:\n  - {label: My RP, type: oidc, clientId: 0oamyrp0000000000000001, clientSecret: my-rp-secret-00000000000000000000000001, redirectUris: [\"http://127.0.0.1:3000/callback\"]}\nassignments:\n  - {app: My RP, users: [solo@example.com]}\n"), 0o600)
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // a substring stdout must contain
		stderr string // a substring stderr must contain
	}{
		{"list", []string{"--list", "--label", "rp-keys"}, 0, "rp-jwks-no-refetch-storm", ""},
		{"no login url", []string{"--mock-url", mock.URL, "--mock-token", "x", "--login", "a"}, 2, "", "conform rp needs --login-url"},
		{"unknown label", with("--label", "rp,nope"), 2, "", `unknown label "nope" in --label; the labels are rp, rp-faults, rp-flow, rp-keys`},
		{"unknown skip", with("--skip", "rp-nope"), 2, "", `unknown check "rp-nope" in --skip`},
		{"mock url without token", []string{"--login-url", "http://127.0.0.1:1/login", "--mock-url", mock.URL, "--login", "a"}, 2, "", "--mock-url needs --mock-token"},
		{"seed with mock url", with("--seed", seed), 2, "", "--seed and --mock-addr are for the in-process mock"},
		{"login url not a url", replace("--login-url", "app/login"), 2, "", `--login-url "app/login" is not an http:// or https:// URL`},
		{"a refused mock token is said once", replace("--mock-token", "wrong"), 1, "", "the mock refused its API token"},
		{"an unknown user is said once", replace("--login", "nobody@example.com"), 1, "", `conform rp: the mock cannot sign in "nobody@example.com"`},
		{"a broken login url is said once", replace("--login-url", broken.URL+"/login"), 1, "", "answered GET " + broken.URL + "/login → 500"},
		{"no seed and no mock url", []string{"--login-url", broken.URL + "/login", "--login", "a"}, 2, "",
			"idpkit: usage: no --seed given: the in-process mock has no OIDC app for your RP; pass --seed FILE or --mock-url\n"},
		{"an unknown check in --check", with("--check", "rp-sends-state,rp-nope"), 2, "", `unknown check "rp-nope" in --check; "idpkit conform rp --list" prints the check IDs`},
		{"--check and --label", with("--check", "rp-sends-state", "--label", "rp-flow"), 2, "", "give --check (these checks) or --label (the checks with these labels), not both"},
		{"list one check", []string{"--list", "--check", "rp-refuses-wrong-azp"}, 0, "rp-refuses-wrong-azp  rp,rp-faults,strict  ", ""},
		{"--login is optional in the synopsis", []string{"--help"}, 0, "", "[--mock-url URL --mock-token TOKEN | --mock-addr 127.0.0.1:9099 --seed FILE] [--login USER] [--client-id ID]"},
		{"a login url for another client is said once", replace("--client-id", other.OAuthClient.ClientID), 1, "",
			"conform rp: the RP's authorization request is for client_id "},
		{"the in-process mock says what to configure", []string{"--login-url", broken.URL + "/login", "--mock-addr", freeAddr(t), "--seed", seed, "--mock-token", "00fixed"}, 1,
			"client            0oamyrp0000000000000001  secret my-rp-secret-00000000000000000000000001  (\"My RP\", from the seed)", "no check was run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCmd(t, context.Background(), append([]string{"conform", "rp"}, tt.args...)...)
			if code != tt.code || !strings.Contains(out, tt.stdout) || !strings.Contains(errs, tt.stderr) {
				t.Fatalf("exit %d (want %d)\nstdout (want %q):\n%s\nstderr (want %q):\n%s", code, tt.code, tt.stdout, out, tt.stderr, errs)
			}
			if tt.code == 1 && strings.Contains(out, "✗") {
				t.Errorf("a preflight failure ran checks:\n%s", out)
			}
			if tt.code == 1 && strings.Count(strings.TrimSpace(errs), "\n") > 0 {
				t.Errorf("a preflight failure takes more than one line:\n%s", errs)
			}
		})
	}
}

func TestConformRPCheck(t *testing.T) {
	_, flags := ownRPForConform(t)
	args := append([]string{"conform", "rp", "--check", "rp-sends-state,rp-accepts-valid-login"}, flags...)
	code, out, errs := runCmd(t, context.Background(), args...)
	if code != 0 {
		t.Fatalf("conform rp exited %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	// In the catalogue's order, whatever the order given.
	for _, want := range []string{"idpkit conform rp: 2 relying-party checks against ", "✓ rp-accepts-valid-login — ", "✓ rp-sends-state — ", "Summary: 2/2 checks passed\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if i, j := strings.Index(out, "rp-accepts-valid-login"), strings.Index(out, "rp-sends-state"); i > j {
		t.Errorf("the checks ran out of the catalogue's order:\n%s", out)
	}
}

// An interrupted run (Ctrl-C) stops after the checks that finished: the
// one it cut short is no failure, and the exit status is 130.
func TestConformRPInterrupted(t *testing.T) {
	_, flags := ownRPForConform(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var loginURL string
	for i := range flags {
		if flags[i] == "--login-url" {
			loginURL = flags[i+1]
		}
	}
	// The third visit of the login URL (the preflight's, the first
	// check's, then the second check's) is the Ctrl-C.
	var hits atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 3 {
			cancel()
		}
		http.Redirect(w, r, loginURL, http.StatusFound)
	}))
	t.Cleanup(front.Close)
	args := []string{"conform", "rp", "--check", "rp-accepts-valid-login,rp-sends-state,rp-sends-nonce", "--login-url", front.URL + "/login"}
	for i := 0; i < len(flags); i += 2 {
		if flags[i] != "--login-url" {
			args = append(args, flags[i], flags[i+1])
		}
	}
	code, out, errs := runCmd(t, ctx, args...)
	if code != 130 || !strings.Contains(errs, "idpkit: conform rp: interrupted after 1 of 3 checks; ") ||
		!strings.Contains(out, "✓ rp-accepts-valid-login") || strings.Contains(out, "✗") || strings.Contains(out, "rp-sends-state") {
		t.Errorf("exit %d (want 130)\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
}
