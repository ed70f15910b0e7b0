package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/idpkit/idpkit/suites/check"
	"github.com/idpkit/idpkit/suites/guide"
	"github.com/idpkit/idpkit/suites/harness"
)

func cmdConform(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("conform", "conform [--scim-url URL --token TOKEN] [--junit FILE] [--json FILE] [--label L,…]", stderr)
	scimURL := fs.String("scim-url", "", "run the SCIM checks against this SCIM base URL instead of playing the whole guide in-process")
	token := fs.String("token", envOr("IDPKIT_SCIM_TOKEN", ""), "the bearer token for --scim-url (env IDPKIT_SCIM_TOKEN)")
	junit := fs.String("junit", "", "write a JUnit XML report to FILE")
	jsonOut := fs.String("json", "", "write a JSON report to FILE")
	labels := fs.String("label", "", "run only checks with one of these comma-separated labels (okta-spec, okta, entra, rfc7644, writes)")
	skip := fs.String("skip", "", "comma-separated check IDs to leave out")
	verbose := fs.Bool("verbose", false, "show the in-process servers' logs")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: conform takes no arguments, got %q", errUsage, pos)
	}
	if *scimURL == "" && *token != "" {
		return fmt.Errorf("%w: --token needs --scim-url", errUsage)
	}
	checks := check.Select(check.SCIM(), splitList(*labels), splitList(*skip))
	started := time.Now()
	var results []check.Result
	var failed int
	if *scimURL != "" {
		if *token == "" {
			return fmt.Errorf("%w: --scim-url needs --token (the bearer token Okta would be given)", errUsage)
		}
		fmt.Fprintf(stdout, "idpkit conform: %d SCIM checks against %s\n", len(checks), *scimURL)
		t := &check.Target{BaseURL: strings.TrimRight(*scimURL, "/"), Token: *token, Client: &http.Client{Timeout: 30 * time.Second}}
		results = check.RunAll(ctx, checks, t, func(_, _ int, r check.Result) { printCheck(stdout, "", r) })
		s := check.Summarize(results)
		fmt.Fprintf(stdout, "\nSummary: %d/%d checks passed\n", s.Passed, s.Total)
		failed = s.Failed
	} else {
		results, failed, err = conformInProcess(ctx, checks, stdout, stderr, *verbose)
		if err != nil {
			return err
		}
	}
	target := *scimURL
	if target == "" {
		target = "in-process app server and mock Okta"
	}
	if err := writeReports(*jsonOut, *junit, target, started, results); err != nil {
		return err
	}
	if failed > 0 {
		return &failedError{n: failed}
	}
	return nil
}

// conformInProcess starts the app server on a temporary SQLite database and
// a mock Okta, both on loopback, and plays the Connect Okta guide.
func conformInProcess(ctx context.Context, checks []check.Check, stdout, stderr io.Writer, verbose bool) ([]check.Result, int, error) {
	var log *slog.Logger
	if verbose {
		log = newLogger(stderr, slog.LevelDebug)
	}
	h, err := harness.Start(ctx, harness.Options{Logger: log})
	if err != nil {
		return nil, 0, err
	}
	defer h.Close()
	public, dbPath, okta := h.AppURL, h.DBPath, h.Okta
	fmt.Fprintf(stdout, "idpkit conform: playing the Connect Okta guide\n  app server  %s (SQLite %s)\n  mock Okta   %s\n\n", public, dbPath, okta.URL)
	env := h.Guide()
	env.Checks = checks
	env.Progress = func(done, total int, r check.Result) {
		if done == 1 {
			fmt.Fprintf(stdout, "  %d. running %d SCIM conformance checks against the tenant\n", len(guide.Titles), total)
		}
		printCheck(stdout, "      ", r)
	}
	steps := guide.Run(ctx, env, func(s guide.Step) {
		if s.N == len(guide.Titles) {
			return // printed with the summary below, after its checks
		}
		printStep(stdout, s)
	})
	last := steps[len(steps)-1]
	printStep(stdout, last)

	var results []check.Result
	failedSteps := 0
	for _, s := range steps {
		r := check.Result{ID: fmt.Sprintf("guide-step-%d", s.N), Title: s.Title, Ref: "Connect Okta guide", Labels: []string{"guide"}, Passed: s.OK}
		if !s.OK {
			r.Error = s.Detail
			failedSteps++
		}
		results = append(results, r)
	}
	results = append(results, last.Checks...)
	cs := check.Summarize(last.Checks)
	fmt.Fprintf(stdout, "\nSummary: %d/%d steps passed, %d/%d SCIM checks passed\n", len(steps)-failedSteps, len(steps), cs.Passed, cs.Total)
	return results, failedSteps + cs.Failed, nil
}

func printStep(w io.Writer, s guide.Step) {
	mark := "✓"
	if !s.OK {
		mark = "✗"
	}
	fmt.Fprintf(w, "%s %d. %s\n      %s\n", mark, s.N, s.Title, indent(s.Detail, "      "))
}

func printCheck(w io.Writer, prefix string, r check.Result) {
	if r.Passed {
		fmt.Fprintf(w, "%s✓ %s — %s\n", prefix, r.ID, r.Title)
		return
	}
	fmt.Fprintf(w, "%s✗ %s — %s [%s]\n%s    %s\n", prefix, r.ID, r.Title, r.Ref, prefix, indent(r.Error, prefix+"    "))
}

func indent(s, prefix string) string { return strings.ReplaceAll(s, "\n", "\n"+prefix) }

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func writeReports(jsonFile, junitFile, target string, started time.Time, results []check.Result) error {
	write := func(name string, f func(io.Writer) error) error {
		if name == "" {
			return nil
		}
		out, err := os.Create(name)
		if err != nil {
			return err
		}
		return errors.Join(f(out), out.Close())
	}
	return errors.Join(
		write(jsonFile, func(w io.Writer) error { return check.WriteJSON(w, target, started, results) }),
		write(junitFile, func(w io.Writer) error { return check.WriteJUnit(w, "idpkit-conform", started, results) }),
	)
}
