package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
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
	junit, jsonOut := reportFlags(fs)
	labels := fs.String("label", "", "run only checks with one of these comma-separated labels ("+strings.Join(labelsOf(infosOf(check.OP(), opInfo)), ", ")+")")
	only := fs.String("check", "", "run only these comma-separated check IDs (see --list)")
	skip := fs.String("skip", "", "comma-separated check IDs to leave out (see --list)")
	list := fs.Bool("list", false, "print the checks --label and --skip select, with their labels, and exit")
	verbose := fs.Bool("verbose", false, "show the in-process mock's logs")
	if err := parseNoArgs(fs, args, "conform op"); err != nil {
		return err
	}
	checks, err := selectOPChecks(check.OP(), splitList(*labels), splitList(*skip), splitList(*only))
	if err != nil {
		return err
	}
	if *list {
		printCheckList(stdout, infosOf(checks, opInfo))
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
		srv, t, err := startOPMock(verboseLogger(stderr, *verbose), *authServer)
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
		return preflightFailed(ctx, "conform op", err, reports)
	}
	started := time.Now()
	fmt.Fprintf(stdout, "idpkit conform op: %d OpenID provider checks against %s\n", len(checks), target.Issuer)
	results := check.RunOPAll(ctx, checks, target, printProgress(stdout))
	s := printSummary(stdout, results)
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

// selectOPChecks is check.SelectOP that refuses an unknown label or check
// ID, and a selection with nothing in it. With only (--check), it is
// exactly those checks, in the catalogue's order, less skip.
func selectOPChecks(all []check.OPCheck, labels, skip, only []string) ([]check.OPCheck, error) {
	if err := checkSelection("conform op", infosOf(all, opInfo), labels, skip, only); err != nil {
		return nil, err
	}
	if len(only) > 0 {
		all = onlyChecks(all, only, opInfo)
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
