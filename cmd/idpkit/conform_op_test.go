package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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
	err = cmdConformOP(context.Background(), []string{"--issuer", target.Issuer, "--client-id", target.ClientID, "--client-secret", "wrong",
		"--redirect-uri", target.RedirectURI, "--username", target.Username, "--password", target.Password, "--label", "op-logout"}, &out, &errOut)
	var failed *failedError
	if !errors.As(err, &failed) || !strings.Contains(out.String(), "– op-logout-redirect") {
		t.Errorf("err %v, output:\n%s", err, out.String())
	}
}

func TestConformOPUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--client-id", "x"}, "--client-id needs --issuer"},
		{[]string{"--issuer", "https://idp.example.com"}, "needs ClientID, ClientSecret, RedirectURI, Username, Password"},
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
