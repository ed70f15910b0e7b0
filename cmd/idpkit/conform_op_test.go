package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idpkit/idpkit/suites/check"
)

func TestConformOPInProcess(t *testing.T) {
	var out, errOut bytes.Buffer
	jsonFile := filepath.Join(t.TempDir(), "op.json")
	err := cmdConformOP(context.Background(), []string{"--label", "op-discovery,op-pkce", "--json", jsonFile}, &out, &errOut)
	if err != nil {
		t.Fatalf("%v\n%s%s", err, out.String(), errOut.String())
	}
	n := len(check.SelectOP(check.OP(), []string{"op-discovery", "op-pkce"}, nil))
	if want := "checks passed"; !strings.Contains(out.String(), want) || strings.Contains(out.String(), "✗") {
		t.Errorf("output:\n%s", out.String())
	}
	b, err := os.ReadFile(jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	var rep check.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Summary.Passed != n || rep.Summary.Total != n {
		t.Errorf("summary %+v, want %d passed", rep.Summary, n)
	}
}

func TestConformOPAgainstIssuer(t *testing.T) {
	srv, target, err := startOPMock(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	var out, errOut bytes.Buffer
	err = cmdConformOP(context.Background(), []string{"--issuer", target.Issuer, "--client-id", target.ClientID, "--client-secret", target.ClientSecret,
		"--redirect-uri", target.RedirectURI, "--username", target.Username, "--password", target.Password, "--label", "op-prompt"}, &out, &errOut)
	if err != nil {
		t.Fatalf("%v\n%s%s", err, out.String(), errOut.String())
	}
	// Without --post-logout-redirect-uri the logout redirect check is skipped.
	out.Reset()
	err = cmdConformOP(context.Background(), []string{"--issuer", target.Issuer, "--client-id", target.ClientID, "--client-secret", target.ClientSecret,
		"--redirect-uri", target.RedirectURI, "--username", target.Username, "--password", target.Password, "--label", "op-logout"}, &out, &errOut)
	if err != nil || !strings.Contains(out.String(), "– op-logout-redirect") {
		t.Errorf("err %v, output:\n%s", err, out.String())
	}
}

// What keeps every check from running is said once, in one line, and no
// check runs.
func TestConformOPPreflight(t *testing.T) {
	srv, target, err := startOPMock(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	flags := func(extra ...string) []string {
		return append([]string{"conform", "op", "--issuer", target.Issuer, "--client-id", target.ClientID, "--client-secret", target.ClientSecret,
			"--redirect-uri", target.RedirectURI, "--username", target.Username, "--password", target.Password}, extra...)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unreachable", []string{"conform", "op", "--issuer", "http://127.0.0.1:1", "--client-id", "c", "--client-secret", "s",
			"--redirect-uri", "https://rp.example.com/cb", "--username", "u", "--password", "p"},
			"idpkit: conform op: the provider at http://127.0.0.1:1 is unreachable (GET http://127.0.0.1:1/.well-known/openid-configuration: dial tcp "},
		{"not an OpenID provider", []string{"conform", "op", "--issuer", srv.URL + "/nothing", "--client-id", "c", "--client-secret", "s",
			"--redirect-uri", "https://rp.example.com/cb", "--username", "u", "--password", "p"},
			"idpkit: conform op: " + srv.URL + "/nothing is not an OpenID provider: GET " + srv.URL + "/nothing/.well-known/openid-configuration answered 404 "},
		{"a wrong password", append(flags(), "--password", "wrong"), "idpkit: conform op: the login as alice@example.com failed (the provider showed its login form again"},
		{"a wrong client secret", append(flags(), "--client-secret", "wrong"), "the token endpoint refused the client's credentials with client_secret_basic and with client_secret_post"},
		{"the other client authentication method", flags("--auth-method", "client_secret_post"),
			"the client authenticates with client_secret_basic, so set the auth method to it (--auth-method client_secret_basic); no check was run\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCmd(t, context.Background(), tc.args...)
			if code != 1 || !strings.Contains(errs, tc.want) || strings.Count(errs, "\n") != 1 || strings.Contains(out, "✗") || strings.Contains(out, "✓") {
				t.Errorf("exit %d (want 1)\nstdout:\n%s\nstderr (want one line with %q):\n%s", code, out, tc.want, errs)
			}
		})
	}
}

func TestConformOPCheck(t *testing.T) {
	code, out, errs := runCmd(t, context.Background(), "conform", "op", "--check", "op-pkce-plain,op-code-flow")
	if code != 0 || !strings.Contains(out, "idpkit conform op: 2 OpenID provider checks against ") || !strings.Contains(out, "Summary: 2/2 checks passed") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
}

// cancelOnLog is a log handler that calls cancel when a record with the
// message msg is logged: a Ctrl-C at a known point of a run.
type cancelOnLog struct {
	msg    string
	cancel func()
}

func (h cancelOnLog) Enabled(context.Context, slog.Level) bool { return true }
func (h cancelOnLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.cancel()
	}
	return nil
}
func (h cancelOnLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h cancelOnLog) WithGroup(string) slog.Handler      { return h }

// An interrupted run (Ctrl-C) stops after the checks that finished: the
// one it cut short is no failure, and the exit status is 130.
func TestConformOPInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The first refused token request is the Ctrl-C: the second check
	// sends one.
	srv, target, err := startOPMock(slog.New(cancelOnLog{msg: "op: token refused", cancel: cancel}), "")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	code, out, errs := runCmd(t, ctx, "conform", "op", "--issuer", target.Issuer, "--client-id", target.ClientID, "--client-secret", target.ClientSecret,
		"--redirect-uri", target.RedirectURI, "--username", target.Username, "--password", target.Password,
		"--check", "op-code-flow,op-pkce-verifier-missing,op-pkce-verifier-wrong")
	if code != 130 || !strings.Contains(errs, "idpkit: conform op: interrupted after 1 of 3 checks; ") ||
		!strings.Contains(out, "✓ op-code-flow") || strings.Contains(out, "✗") || strings.Contains(out, "op-pkce-verifier-missing") {
		t.Errorf("exit %d (want 130)\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
}

func TestConformOPUsage(t *testing.T) {
	t.Setenv("IDPKIT_OP_CLIENT_SECRET", "")
	t.Setenv("IDPKIT_OP_PASSWORD", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--client-id", "x"}, "--client-id needs --issuer"},
		{[]string{"--issuer", "https://idp.example.com"}, "conform op --issuer also needs --client-id, --client-secret (or IDPKIT_OP_CLIENT_SECRET), --redirect-uri, --username and --password (or IDPKIT_OP_PASSWORD)"},
		{[]string{"--issuer", "https://idp.example.com", "--client-id", "c", "--client-secret", "s", "--redirect-uri", "https://rp.example.com/cb", "--username", "u"},
			"conform op --issuer also needs --password (or IDPKIT_OP_PASSWORD)"},
		{[]string{"--issuer", "https://idp.example.com", "--client-id", "c", "--client-secret", "s", "--redirect-uri", "https://rp.example.com/cb", "--username", "u", "--password", "p",
			"--auth-method", "private_key_jwt"}, `--auth-method "private_key_jwt": want client_secret_basic or client_secret_post`},
		{[]string{"--check", "op-code-flow,op-nope"}, `unknown check "op-nope" in --check; "idpkit conform op --list" prints the check IDs`},
		{[]string{"--check", "op-code-flow", "--label", "op-code"}, "give --check (these checks) or --label (the checks with these labels), not both"},
		{[]string{"--label", "op-nope"}, `unknown label "op-nope"`},
		{[]string{"--skip", "op-nope"}, `unknown check "op-nope"`},
		{[]string{"extra"}, "takes no arguments"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := cmdConformOP(context.Background(), tc.args, &out, &errOut)
			if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want a usage error containing %q", err, tc.want)
			}
		})
	}
	var out bytes.Buffer
	if err := cmdConformOP(context.Background(), []string{"--list", "--label", "op-pkce"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "op-pkce-plain") || strings.Contains(out.String(), "op-code-flow") {
		t.Errorf("--list:\n%s", out.String())
	}
}
