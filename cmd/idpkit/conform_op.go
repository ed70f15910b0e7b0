package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/idpkit/idpkit/mockidp"
	"github.com/idpkit/idpkit/suites/check"
)

const conformOPSynopsis = "conform op [--issuer URL --client-id ID --client-secret SECRET --redirect-uri URI --username LOGIN --password PASSWORD [--auth-method client_secret_basic|client_secret_post] [--post-logout-redirect-uri URI]] [--auth-server default] [--json FILE] [--junit FILE] [--label L,… | --check ID,…] [--skip ID,…] [--list]"

// cmdConformOP runs the OpenID provider checks (check.OP) against the
// provider at --issuer, or, without it, against a mock Okta started in this
// process (a self-test: every check passes there).
func cmdConformOP(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("conform op", conformOPSynopsis+"\n\nThe checks sign in through the provider's own HTML login form with --username and --password; a sign-in page built by a script fails them. The redirect URIs are never fetched", stderr)
	issuer := fs.String("issuer", "", "the provider's issuer, e.g. https://idp.example.com/oauth2/default; without it a mock Okta starts in this process")
	clientID := fs.String("client-id", "", "a confidential client's client_id")
	clientSecret := fs.String("client-secret", envOr("IDPKIT_OP_CLIENT_SECRET", ""), "its client_secret (env IDPKIT_OP_CLIENT_SECRET)")
	redirectURI := fs.String("redirect-uri", "", "one of the client's registered sign-in redirect URIs")
	authMethod := fs.String("auth-method", "client_secret_basic", "the client's token endpoint authentication method: client_secret_basic or client_secret_post")
	username := fs.String("username", "", "a user's login, typed into the login form")
	password := fs.String("password", envOr("IDPKIT_OP_PASSWORD", ""), "the user's password (env IDPKIT_OP_PASSWORD)")
	postLogout := fs.String("post-logout-redirect-uri", "", "one of the client's registered post-logout redirect URIs; without it op-logout-redirect is skipped")
	authServer := fs.String("auth-server", "default", "without --issuer: the mock's authorization server to check (\"\" is the org server)")
	junit := fs.String("junit", "", "write a JUnit XML report to FILE")
	jsonOut := fs.String("json", "", "write a JSON report to FILE")
	labels := fs.String("label", "", "run only checks with one of these comma-separated labels ("+strings.Join(opCheckLabels(check.OP()), ", ")+")")
	only := fs.String("check", "", "run only these comma-separated check IDs (see --list)")
	skip := fs.String("skip", "", "comma-separated check IDs to leave out (see --list)")
	list := fs.Bool("list", false, "print the checks --label and --skip select, with their labels, and exit")
	verbose := fs.Bool("verbose", false, "show the in-process mock's logs")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: conform op takes no arguments, got %q", errUsage, pos)
	}
	checks, err := selectOPChecks(check.OP(), splitList(*labels), splitList(*skip), splitList(*only))
	if err != nil {
		return err
	}
	if *list {
		idw, lw := 0, 0
		for _, c := range checks {
			idw, lw = max(idw, len(c.ID)), max(lw, len(strings.Join(c.Labels, ",")))
		}
		for _, c := range checks {
			fmt.Fprintf(stdout, "%-*s  %-*s  %s\n", idw, c.ID, lw, strings.Join(c.Labels, ","), c.Title)
		}
		return nil
	}
	var target *check.OPTarget
	if *issuer != "" {
		if flagSet(fs, "auth-server") {
			return fmt.Errorf("%w: --auth-server is for the in-process mock; leave it out with --issuer", errUsage)
		}
		var missing []string
		for _, f := range []struct{ flag, v string }{
			{"--client-id", *clientID}, {"--client-secret (or IDPKIT_OP_CLIENT_SECRET)", *clientSecret}, {"--redirect-uri", *redirectURI},
			{"--username", *username}, {"--password (or IDPKIT_OP_PASSWORD)", *password},
		} {
			if f.v == "" {
				missing = append(missing, f.flag)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("%w: conform op --issuer also needs %s", errUsage, joinAnd(missing))
		}
		if *authMethod != "client_secret_basic" && *authMethod != "client_secret_post" {
			return fmt.Errorf("%w: --auth-method %q: want client_secret_basic or client_secret_post", errUsage, *authMethod)
		}
		target = &check.OPTarget{
			Issuer: *issuer, ClientID: *clientID, ClientSecret: *clientSecret, RedirectURI: *redirectURI,
			AuthMethod: *authMethod, Username: *username, Password: *password, PostLogoutRedirectURI: *postLogout,
			Client: &http.Client{Timeout: 30 * time.Second},
		}
		if err := target.Validate(); err != nil {
			return fmt.Errorf("%w: conform op: %s", errUsage, strings.TrimPrefix(err.Error(), "check: "))
		}
	} else {
		for _, f := range []string{"client-id", "client-secret", "redirect-uri", "auth-method", "username", "password", "post-logout-redirect-uri"} {
			if flagSet(fs, f) {
				return fmt.Errorf("%w: --%s needs --issuer", errUsage, f)
			}
		}
		var log *slog.Logger
		if *verbose {
			log = newLogger(stderr, slog.LevelDebug)
		}
		srv, t, err := startOPMock(log, *authServer)
		if err != nil {
			return err
		}
		defer srv.Close()
		target = t
	}
	reports, err := openReports(*jsonOut, *junit)
	if err != nil {
		return err
	}
	// One login first: an unreachable provider, a wrong password or a
	// client authentication mismatch is said once, not by every check.
	if err := check.PreflightOP(ctx, target); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("conform op: %w before the checks ran: %w", errInterrupted, err)
		} else {
			err = fmt.Errorf("conform op: %s; no check was run", strings.TrimPrefix(err.Error(), "check: "))
		}
		return errors.Join(err, reports.discard())
	}
	started := time.Now()
	fmt.Fprintf(stdout, "idpkit conform op: %d OpenID provider checks against %s\n", len(checks), target.Issuer)
	results := check.RunOPAll(ctx, checks, target, func(_, _ int, r check.Result) { printCheck(stdout, "", r) })
	s := check.Summarize(results)
	fmt.Fprintf(stdout, "\nSummary: %d/%d checks passed%s\n", s.Passed, s.Total, summaryTail(s))
	printFailedIDs(stdout, results)
	if err := reports.write(target.Issuer, started, results); err != nil {
		return err
	}
	if len(results) < len(checks) {
		return interruptedAfter("conform op", len(results), len(checks))
	}
	if s.Failed > 0 {
		return &failedError{n: s.Failed}
	}
	return nil
}

// startOPMock starts a mock Okta with one OIDC app and one user and
// returns a target for one of its authorization servers.
func startOPMock(log *slog.Logger, authServer string) (*mockidp.Server, *check.OPTarget, error) {
	const (
		label, login, password = "conform op", "alice@example.com", "Correct-Horse-9"
		callback, signedOut    = "https://rp.example.com/oidc/callback", "https://rp.example.com/signed-out"
	)
	cfg := mockidp.Config{Logger: log, Seed: &mockidp.Seed{
		Users: []mockidp.SeedUser{{Login: login, FirstName: "Alice", LastName: "Example", Password: password}},
		Apps: []mockidp.SeedApp{{Label: label, Type: mockidp.SeedAppOIDC, RedirectURIs: []string{callback},
			PostLogoutRedirectURIs: []string{signedOut}, GrantTypes: []string{"authorization_code", "refresh_token"}}},
		Assignments: []mockidp.SeedAssignment{{App: label, Users: []string{login}}},
	}}
	if authServer != "" {
		cfg.AuthServers = []string{authServer}
	}
	srv, err := mockidp.New(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("conform op: %w", err)
	}
	app := srv.Seeded().Apps[label]
	return srv, &check.OPTarget{
		Issuer: srv.Issuer(authServer), ClientID: app.ClientID, ClientSecret: app.ClientSecret,
		RedirectURI: callback, PostLogoutRedirectURI: signedOut, Username: login, Password: password, Client: srv.Client(),
	}, nil
}

// opCheckLabels returns the labels the OP checks carry, sorted.
func opCheckLabels(checks []check.OPCheck) []string {
	var out []string
	for _, c := range checks {
		for _, l := range c.Labels {
			if !slices.Contains(out, l) {
				out = append(out, l)
			}
		}
	}
	slices.Sort(out)
	return out
}

// selectOPChecks is check.SelectOP that refuses an unknown label or check
// ID, and a selection with nothing in it. With only (--check), it is
// exactly those checks, in the catalogue's order, less skip.
func selectOPChecks(all []check.OPCheck, labels, skip, only []string) ([]check.OPCheck, error) {
	known := opCheckLabels(all)
	for _, l := range labels {
		if !slices.Contains(known, l) {
			return nil, fmt.Errorf("%w: unknown label %q in --label; the labels are %s", errUsage, l, strings.Join(known, ", "))
		}
	}
	ids := make([]string, len(all))
	for i, c := range all {
		ids[i] = c.ID
	}
	if err := knownIDs("conform op", ids, skip, only, len(labels) > 0); err != nil {
		return nil, err
	}
	if len(only) > 0 {
		all = slices.DeleteFunc(slices.Clone(all), func(c check.OPCheck) bool { return !slices.Contains(only, c.ID) })
	}
	checks := check.SelectOP(all, labels, skip)
	if len(checks) == 0 {
		return nil, fmt.Errorf("%w: --label, --check and --skip leave no check to run", errUsage)
	}
	return checks, nil
}

// joinAnd joins "a", "b" and "c" as "a, b and c".
func joinAnd(parts []string) string {
	if len(parts) < 2 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}
