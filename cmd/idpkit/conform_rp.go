package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/idpkit/idpkit/mockidp"
	"github.com/idpkit/idpkit/suites/check"
)

const conformRPSynopsis = "conform rp --login-url URL [--session-url URL] [--mock-url URL --mock-token TOKEN | --mock-addr 127.0.0.1:9099 --seed FILE] [--login USER] [--client-id ID] [--json FILE] [--junit FILE] [--label L,… | --check ID,…] [--skip ID,…] [--strict] [--list]"

// cmdConformRP runs the relying-party checks (check.RP) against an RP that
// trusts a mock Okta: the one at --mock-url, or one started here.
func cmdConformRP(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("conform rp", conformRPSynopsis+"\n\nThe relying party must trust the mock as its issuer. Without --mock-url, a mock Okta starts on --mock-addr with --seed; start your RP with that issuer and the seed's client id and secret", stderr)
	loginURL := fs.String("login-url", "", "the RP's sign-in URL, which redirects to the mock's authorize endpoint (required)")
	sessionURL := fs.String("session-url", "", "a URL of the RP that answers 2xx only with a session; without it a login counts as accepted when its last response is below 400")
	mockURL := fs.String("mock-url", "", "a running mock Okta (idpkit mockokta); without it one starts in this process on --mock-addr")
	mockToken := fs.String("mock-token", envOr("IDPKIT_MOCK_TOKEN", envOr("IDPKIT_MOCKOKTA_API_TOKEN", "")), "the mock's API token (SSWS) for its /__mock/ test controls (env IDPKIT_MOCK_TOKEN, or IDPKIT_MOCKOKTA_API_TOKEN as idpkit mockokta reads it); generated for the in-process mock when empty")
	mockAddr := fs.String("mock-addr", "127.0.0.1:9099", "where the in-process mock listens (without --mock-url); your RP's issuer is http:// and this address")
	seedFile := fs.String("seed", "", "a seed (.json, .yaml) for the in-process mock: the user and the OIDC app your RP uses")
	login := fs.String("login", "", "the mock user the RP accepts (login or 00u… id); defaults to the seed's only user")
	clientID := fs.String("client-id", "", "the RP's client id at the mock: only its authorization requests take the queued logins; defaults to the seed's only OIDC app")
	junit, jsonOut := reportFlags(fs)
	labels := fs.String("label", "", "run only checks with one of these comma-separated labels ("+strings.Join(labelsOf(infosOf(check.RP(), rpInfo)), ", ")+")")
	only := fs.String("check", "", "run only these comma-separated check IDs (see --list), e.g. one that failed, alone")
	skip := fs.String("skip", "", "comma-separated check IDs to leave out (see --list)")
	strict := fs.Bool("strict", false, "also run the checks labelled strict: refusals the spec asks for only with SHOULD or MAY (iat in the future, a foreign azp, a wrong at_hash)")
	list := fs.Bool("list", false, "print the checks --label and --skip select, with their labels, and exit")
	verbose := fs.Bool("verbose", false, "show the in-process mock's logs")
	if err := parseNoArgs(fs, args, "conform rp"); err != nil {
		return err
	}
	checks, err := selectRPChecks(check.RP(), splitList(*labels), splitList(*skip), splitList(*only), *strict)
	if err != nil {
		return err
	}
	if *list {
		printCheckList(stdout, infosOf(checks, rpInfo))
		return nil
	}
	if *loginURL == "" {
		return fmt.Errorf("%w: conform rp needs --login-url (the RP's sign-in URL)", errUsage)
	}
	if *loginURL, err = checkRPURL("--login-url", *loginURL); err != nil {
		return err
	}
	if *sessionURL != "" {
		if *sessionURL, err = checkRPURL("--session-url", *sessionURL); err != nil {
			return err
		}
	}
	if *mockURL != "" {
		if *mockURL, err = checkBaseURL("--mock-url", *mockURL); err != nil {
			return err
		}
		if *mockToken == "" {
			return fmt.Errorf("%w: --mock-url needs --mock-token (the mock's API token)", errUsage)
		}
		if *seedFile != "" || flagSet(fs, "mock-addr") {
			return fmt.Errorf("%w: --seed and --mock-addr are for the in-process mock; leave them out with --mock-url", errUsage)
		}
	}
	if *mockURL == "" && *seedFile == "" {
		return fmt.Errorf("%w: no --seed given: the in-process mock has no OIDC app for your RP; pass --seed FILE or --mock-url", errUsage)
	}
	var seed *mockidp.Seed
	if *seedFile != "" {
		if seed, err = mockidp.LoadSeedFile(*seedFile); err != nil {
			return fmt.Errorf("%w: --seed %s: %w", errUsage, *seedFile, err)
		}
	}
	if *login == "" && seed != nil && len(seed.Users) == 1 {
		*login = seed.Users[0].Login
	}
	if *login == "" {
		return fmt.Errorf("%w: conform rp needs --login (the mock user the RP accepts)", errUsage)
	}
	reports, err := openReports(*jsonOut, *junit)
	if err != nil {
		return err
	}
	target := &check.RPTarget{LoginURL: *loginURL, SessionURL: *sessionURL, MockURL: *mockURL, MockToken: *mockToken,
		Login: *login, ClientID: *clientID, Client: &http.Client{Timeout: 20 * time.Second}}
	if *mockURL == "" {
		srv, err := mockidp.New(mockidp.Config{Addr: *mockAddr, APIToken: *mockToken, Logger: verboseLogger(stderr, *verbose), Seed: seed})
		if err != nil {
			return errors.Join(fmt.Errorf("conform rp: start the mock Okta: %w", err), reports.discard())
		}
		defer srv.Close()
		target.MockURL, target.MockToken = srv.URL, srv.APIToken
		var oidcApps []string
		for label, a := range srv.Seeded().Apps {
			if a.ClientID != "" {
				oidcApps = append(oidcApps, label)
			}
		}
		slices.Sort(oidcApps)
		if target.ClientID == "" && len(oidcApps) == 1 {
			target.ClientID = srv.Seeded().Apps[oidcApps[0]].ClientID
		}
		fmt.Fprintf(stdout, "idpkit conform rp: a mock Okta for your relying party\n")
		fmt.Fprintf(stdout, "  issuer            %s   (or %s)\n", srv.Issuer(""), srv.Issuer("default"))
		for _, label := range oidcApps {
			a := srv.Seeded().Apps[label]
			fmt.Fprintf(stdout, "  client            %s  secret %s  (%q, from the seed)\n", a.ClientID, a.ClientSecret, label)
		}
		if len(oidcApps) == 0 {
			fmt.Fprintf(stdout, "  client            none: the seed (--seed) has no OIDC app for your RP\n")
		}
		fmt.Fprintf(stdout, "  API token         %s   (Authorization: SSWS <token>, for %s%s)\n\n", srv.APIToken, srv.URL, mockidp.ControlsPath)
	}
	if err := check.PreflightRP(ctx, target); err != nil {
		return preflightFailed(ctx, "conform rp", err, reports)
	}
	// The mock may offer faults this build does not know: they get
	// checks too, unless --check, a label or --skip leaves them out.
	if all, err := check.RPChecks(ctx, target); err == nil && *only == "" {
		known := check.RP()
		for _, c := range all {
			if !slices.ContainsFunc(known, func(k check.RPCheck) bool { return k.ID == c.ID }) {
				checks = append(checks, selectRP([]check.RPCheck{c}, splitList(*labels), splitList(*skip), *strict)...)
			}
		}
	}
	started := time.Now()
	fmt.Fprintf(stdout, "idpkit conform rp: %d relying-party %s against %s (mock Okta %s)\n", len(checks), plural(len(checks), "check", "checks"), *loginURL, target.MockURL)
	results := check.RunRPAll(ctx, checks, target, printProgress(stdout))
	s := printSummary(stdout, results)
	if err := reports.write(*loginURL, started, results); err != nil {
		return err
	}
	switch {
	case len(results) < len(checks):
		return interruptedAfter("conform rp", len(results), len(checks))
	case s.Failed > 0:
		return &failedError{n: s.Failed}
	case s.Total > 0 && s.Skipped == s.Total:
		return nothingChecked(stdout, "conform rp", s, results)
	}
	return nil
}

// checkRPURL validates --login-url and --session-url: absolute http or
// https URLs with a host (a query is allowed).
func checkRPURL(flagName, s string) (string, error) {
	base, _, _ := strings.Cut(s, "?")
	if _, err := checkBaseURL(flagName, base); err != nil {
		return "", err
	}
	if strings.Contains(s, "#") {
		return "", fmt.Errorf("%w: %s %q must not carry a fragment", errUsage, flagName, s)
	}
	return s, nil
}

// selectRP is check.SelectRP, or check.SelectRPStrict with --strict.
func selectRP(all []check.RPCheck, labels, skip []string, strict bool) []check.RPCheck {
	if strict {
		return check.SelectRPStrict(all, labels, skip)
	}
	return check.SelectRP(all, labels, skip)
}

// selectRPChecks is check.SelectRP that refuses an unknown label or check
// ID, and a selection with nothing in it. With only (--check), it is
// exactly those checks, strict or not, in the catalogue's order, less
// skip.
func selectRPChecks(all []check.RPCheck, labels, skip, only []string, strict bool) ([]check.RPCheck, error) {
	if err := checkSelection("conform rp", infosOf(all, rpInfo), labels, skip, only); err != nil {
		return nil, err
	}
	var checks []check.RPCheck
	if len(only) > 0 {
		checks = check.SelectRPStrict(onlyChecks(all, only, rpInfo), nil, skip)
	} else {
		checks = selectRP(all, labels, skip, strict)
	}
	if len(checks) == 0 {
		return nil, fmt.Errorf("%w: --label, --check and --skip leave no check to run", errUsage)
	}
	return checks, nil
}

// plural is one when n is 1, else many.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
