package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/idpkit/idpkit/suites/check"
	"github.com/idpkit/idpkit/suites/guide"
	"github.com/idpkit/idpkit/suites/harness"
)

func cmdConform(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "rp" {
		return cmdConformRP(ctx, args[1:], stdout, stderr) // conform_rp.go
	}
	if len(args) > 0 && args[0] == "op" {
		return cmdConformOP(ctx, args[1:], stdout, stderr) // conform_op.go
	}
	fs := newFlagSet("conform", "conform [--scim-url URL --token TOKEN [--peer-scim-url URL --peer-token TOKEN]] [--junit FILE] [--json FILE] [--label L,…] [--strict] [--skip ID,…] [--list] | conform --ui [--addr 127.0.0.1:0] [--scim-url URL]", stderr)
	scimURL := fs.String("scim-url", "", "run the SCIM checks against this SCIM base URL instead of playing the whole guide in-process")
	token := fs.String("token", envOr("IDPKIT_SCIM_TOKEN", ""), "the bearer token for --scim-url (env IDPKIT_SCIM_TOKEN)")
	peerURL := fs.String("peer-scim-url", "", "a second tenant of the same service, for the checks labelled tenant (without it they are skipped)")
	peerToken := fs.String("peer-token", envOr("IDPKIT_PEER_SCIM_TOKEN", ""), "the bearer token for --peer-scim-url (env IDPKIT_PEER_SCIM_TOKEN)")
	junit, jsonOut := reportFlags(fs)
	labels := fs.String("label", "", "run only checks with one of these comma-separated labels ("+strings.Join(labelsOf(infosOf(check.SCIM(), scimInfo)), ", ")+"); checks labelled strict run against --scim-url only when strict is named here or --strict is given")
	strict := fs.Bool("strict", false, "with --scim-url, also run the checks labelled strict: idpkit's own limits and tolerances beyond the RFCs (the in-process run always has them)")
	skip := fs.String("skip", "", "comma-separated check IDs to leave out (see --list)")
	list := fs.Bool("list", false, "print the checks --label, --strict and --skip select (with --scim-url; without it, the in-process run's, strict ones included), with their labels, and exit")
	verbose := fs.Bool("verbose", false, "show the in-process servers' logs")
	keep := fs.Bool("keep-data", false, "leave the users and groups the checks create on the target (by default each check deletes them)")
	ui := fs.Bool("ui", false, "serve the in-browser tester page on --addr instead of running the checks here; with --scim-url the page tests that server through its proxy at /proxy")
	uiAddr := fs.String("addr", "127.0.0.1:0", "with --ui, the address to serve the tester page on (port 0 picks a free one)")
	if err := parseNoArgs(fs, args, "conform"); err != nil {
		return err
	}
	if *ui || flagSet(fs, "addr") {
		return cmdConformUI(ctx, fs, *ui, *uiAddr, *scimURL, stdout, stderr) // conform_ui.go
	}
	if *scimURL == "" && *token != "" && flagSet(fs, "token") {
		return fmt.Errorf("%w: --token needs --scim-url", errUsage)
	}
	// idpkit's own server, in process, must keep idpkit's own tolerances
	// too: there the strict checks run as any other.
	checks, err := selectChecks(check.SCIM(), splitList(*labels), splitList(*skip), *strict || *scimURL == "")
	if err != nil {
		return err
	}
	if *list {
		printCheckList(stdout, infosOf(checks, scimInfo))
		return nil
	}
	if *scimURL != "" {
		if *scimURL, err = checkBaseURL("--scim-url", *scimURL); err != nil {
			return err
		}
		if *token == "" {
			return fmt.Errorf("%w: --scim-url needs --token (the bearer token Okta would be given)", errUsage)
		}
	}
	if *peerURL != "" {
		if *scimURL == "" {
			return fmt.Errorf("%w: --peer-scim-url needs --scim-url", errUsage)
		}
		if *peerURL, err = checkBaseURL("--peer-scim-url", *peerURL); err != nil {
			return err
		}
		if *peerToken == "" {
			return fmt.Errorf("%w: --peer-scim-url needs --peer-token", errUsage)
		}
	}
	var target *check.Target
	if *scimURL != "" {
		client := &http.Client{Timeout: 30 * time.Second}
		target = &check.Target{BaseURL: *scimURL, Token: *token, Client: client, KeepData: *keep}
		if *peerURL != "" {
			target.Peer = &check.Target{BaseURL: *peerURL, Token: *peerToken, Client: client, KeepData: *keep}
		}
	}
	// Open the report files first, so a bad path fails before the run.
	reports, err := openReports(*jsonOut, *junit)
	if err != nil {
		return err
	}
	if target != nil {
		// One request first: a refused token or a wrong URL is said once,
		// not by every check.
		if err := check.Preflight(ctx, target); err != nil {
			return preflightFailed(ctx, "conform", err, reports)
		}
	}
	started := time.Now()
	var results []check.Result
	var failed int
	if *scimURL != "" {
		fmt.Fprintf(stdout, "idpkit conform: %d SCIM checks against %s\n", len(checks), *scimURL)
		results = check.RunAll(ctx, checks, target, printProgress(stdout))
		s := printSummary(stdout, results)
		failed = s.Failed
		if s.Total > 0 && s.Skipped == s.Total && ctx.Err() == nil {
			err := nothingChecked(stdout, "conform", s, results)
			if werr := reports.write(*scimURL, started, results); werr != nil {
				return werr
			}
			return err
		}
	} else {
		results, failed, err = conformInProcess(ctx, checks, stdout, stderr, *verbose)
		if err != nil {
			if ctx.Err() != nil {
				err = fmt.Errorf("conform: %w while starting the servers: %w", errInterrupted, err)
			}
			return errors.Join(err, reports.discard())
		}
	}
	name := *scimURL
	if name == "" {
		name = "in-process app server and mock Okta"
	}
	if err := reports.write(name, started, results); err != nil {
		return err
	}
	if ctx.Err() != nil && failed > 0 {
		// Failures after a Ctrl-C are the interruption's, not the target's.
		return fmt.Errorf("conform: %w before every check had run; the results above are incomplete", errInterrupted)
	}
	if failed > 0 {
		return &failedError{n: failed}
	}
	return nil
}

// preflightError is the error of check.Preflight, PreflightRP or
// PreflightOP: main prints it on one line ("idpkit: conform: the server
// refused the token: …; no check was run") and exits 1.
type preflightError struct {
	cmd string // "conform", "conform rp", "conform op"
	err error
}

func (e *preflightError) Error() string {
	return e.cmd + ": " + strings.TrimPrefix(e.err.Error(), "check: ") + "; no check was run"
}

func (e *preflightError) Unwrap() error { return e.err }

// preflightFailed is the error of cmd when its preflight refused the
// target (err): an interruption when ctx is done, else a preflightError.
// The report files are removed, as no check ran.
func preflightFailed(ctx context.Context, cmd string, err error, reports reportFiles) error {
	if ctx.Err() != nil {
		err = fmt.Errorf("%s: %w before the checks ran: %w", cmd, errInterrupted, err)
	} else {
		err = &preflightError{cmd: cmd, err: err}
	}
	return errors.Join(err, reports.discard())
}

// checkInfo is what the conform commands need of a check of any
// catalogue (check.Check, check.RPCheck, check.OPCheck) for --label,
// --check, --skip and --list.
type checkInfo struct {
	id, title string
	labels    []string
}

func scimInfo(c check.Check) checkInfo { return checkInfo{c.ID, c.Title, c.Labels} }
func rpInfo(c check.RPCheck) checkInfo { return checkInfo{c.ID, c.Title, c.Labels} }
func opInfo(c check.OPCheck) checkInfo { return checkInfo{c.ID, c.Title, c.Labels} }

// infosOf is info of every check.
func infosOf[C any](checks []C, info func(C) checkInfo) []checkInfo {
	out := make([]checkInfo, len(checks))
	for i, c := range checks {
		out[i] = info(c)
	}
	return out
}

// labelsOf returns the labels the checks carry, sorted.
func labelsOf(checks []checkInfo) []string {
	var out []string
	for _, c := range checks {
		for _, l := range c.labels {
			if !slices.Contains(out, l) {
				out = append(out, l)
			}
		}
	}
	slices.Sort(out)
	return out
}

// printCheckList is --list: one check a line, ID, labels and title in
// columns.
func printCheckList(w io.Writer, checks []checkInfo) {
	idw, lw := 0, 0
	for _, c := range checks {
		idw, lw = max(idw, len(c.id)), max(lw, len(strings.Join(c.labels, ",")))
	}
	for _, c := range checks {
		fmt.Fprintf(w, "%-*s  %-*s  %s\n", idw, c.id, lw, strings.Join(c.labels, ","), c.title)
	}
}

// checkSelection refuses a label in --label that no check carries, and
// what knownIDs refuses: a typo must not turn into a green run of zero
// checks. cmd is the command that --list hints at.
func checkSelection(cmd string, all []checkInfo, labels, skip, only []string) error {
	known := labelsOf(all)
	for _, l := range labels {
		if !slices.Contains(known, l) {
			return fmt.Errorf("%w: unknown label %q in --label; the labels are %s", errUsage, l, strings.Join(known, ", "))
		}
	}
	ids := make([]string, len(all))
	for i, c := range all {
		ids[i] = c.id
	}
	return knownIDs(cmd, ids, skip, only, len(labels) > 0)
}

// onlyChecks is --check: the checks of all whose ID is in only, in the
// catalogue's order.
func onlyChecks[C any](all []C, only []string, info func(C) checkInfo) []C {
	return slices.DeleteFunc(slices.Clone(all), func(c C) bool { return !slices.Contains(only, info(c).id) })
}

// knownIDs refuses a check ID in --skip or --check that is not among ids,
// and --check together with --label.
func knownIDs(cmd string, ids, skip, only []string, labels bool) error {
	if len(only) > 0 && labels {
		return fmt.Errorf("%w: give --check (these checks) or --label (the checks with these labels), not both", errUsage)
	}
	for _, f := range []struct {
		flag string
		ids  []string
	}{{"--check", only}, {"--skip", skip}} {
		for _, id := range f.ids {
			if !slices.Contains(ids, id) {
				return fmt.Errorf("%w: unknown check %q in %s; \"idpkit %s --list\" prints the check IDs", errUsage, id, f.flag, cmd)
			}
		}
	}
	return nil
}

// parseNoArgs parses the flags of cmd, which takes no positional
// arguments.
func parseNoArgs(fs *flag.FlagSet, args []string, cmd string) error {
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: %s takes no arguments, got %q", errUsage, cmd, pos)
	}
	return nil
}

// reportFlags defines --junit and --json, the report files.
func reportFlags(fs *flag.FlagSet) (junit, jsonOut *string) {
	junit = fs.String("junit", "", "write a JUnit XML report to FILE")
	jsonOut = fs.String("json", "", "write a JSON report to FILE")
	return junit, jsonOut
}

// verboseLogger is the in-process servers' logger: debug to stderr with
// --verbose, nil (discarded) without.
func verboseLogger(stderr io.Writer, verbose bool) *slog.Logger {
	if !verbose {
		return nil
	}
	return newLogger(stderr, slog.LevelDebug)
}

// selectChecks is check.Select (check.SelectStrict when strict is set)
// that refuses a label or check ID that does not exist, and a selection
// with nothing in it: a typo must not turn into a green run of zero checks.
func selectChecks(all []check.Check, labels, skip []string, strict bool) ([]check.Check, error) {
	if err := checkSelection("conform", infosOf(all, scimInfo), labels, skip, nil); err != nil {
		return nil, err
	}
	sel := check.Select
	if strict {
		sel = check.SelectStrict
	}
	checks := sel(all, labels, skip)
	if len(checks) == 0 {
		return nil, fmt.Errorf("%w: --label and --skip leave no check to run", errUsage)
	}
	return checks, nil
}

// conformInProcess starts the app server on a temporary SQLite database and
// a mock Okta, both on loopback, and plays the Connect Okta guide.
func conformInProcess(ctx context.Context, checks []check.Check, stdout, stderr io.Writer, verbose bool) ([]check.Result, int, error) {
	h, err := harness.Start(ctx, harness.Options{Logger: verboseLogger(stderr, verbose)})
	if err != nil {
		return nil, 0, err
	}
	defer h.Close()
	public, dbPath, okta := h.AppURL, h.DBPath, h.Okta
	fmt.Fprintf(stdout, "idpkit conform: playing the Connect Okta guide\n  app server  %s (SQLite %s)\n  mock Okta   %s\n\n", public, dbPath, okta.URL)
	env := h.Guide()
	env.Checks = checks
	lastStep := len(guide.Titles())
	env.Progress = func(done, total int, r check.Result) {
		if done == 1 {
			fmt.Fprintf(stdout, "  %d. running %d SCIM conformance checks against the tenant\n", lastStep, total)
		}
		printCheck(stdout, "      ", r)
	}
	steps := guide.Run(ctx, env, func(s guide.Step) {
		if s.N == lastStep {
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
	fmt.Fprintf(stdout, "\nSummary: %d/%d steps passed, %d/%d SCIM checks passed%s\n", len(steps)-failedSteps, len(steps), cs.Passed, cs.Total, summaryTail(cs))
	printFailedIDs(stdout, last.Checks)
	return results, failedSteps + cs.Failed, nil
}

func printStep(w io.Writer, s guide.Step) {
	mark := "✓"
	if !s.OK {
		mark = "✗"
	}
	fmt.Fprintf(w, "%s %d. %s\n      %s\n", mark, s.N, s.Title, indent(s.Detail, "      "))
}

// printCheck prints one line per check: ✓ passed, – skipped (with the
// reason), ✗ failed, followed by the rule's reference and every problem
// with the request and the response that showed it.
func printCheck(w io.Writer, prefix string, r check.Result) {
	switch {
	case r.Passed:
		fmt.Fprintf(w, "%s✓ %s — %s\n", prefix, r.ID, r.Title)
	case r.Skipped:
		fmt.Fprintf(w, "%s– %s — %s (%s)\n", prefix, r.ID, r.Title, r.Error)
	default:
		fmt.Fprintf(w, "%s✗ %s — %s [%s]\n%s    %s\n", prefix, r.ID, r.Title, r.Ref, prefix, indent(r.Error, prefix+"    "))
	}
}

// printProgress is the progress function of a run that prints each
// check as it ends.
func printProgress(w io.Writer) func(done, total int, r check.Result) {
	return func(_, _ int, r check.Result) { printCheck(w, "", r) }
}

// printSummary prints the summary line of a run of checks and the failed
// checks' IDs, and returns the summary.
func printSummary(w io.Writer, results []check.Result) check.Summary {
	s := check.Summarize(results)
	fmt.Fprintf(w, "\nSummary: %d/%d checks passed%s\n", s.Passed, s.Total, summaryTail(s))
	printFailedIDs(w, results)
	return s
}

// nothingChecked says that every selected check was skipped, and why, and
// returns cmd's error for it: a run of skips is not a pass.
func nothingChecked(w io.Writer, cmd string, s check.Summary, results []check.Result) error {
	why := skipReasons(results)
	fmt.Fprintf(w, "Nothing was checked: every selected check was skipped (%s)\n", why)
	return fmt.Errorf("%s: nothing was checked: all %d selected checks were skipped (%s); a run of skips is not a pass", cmd, s.Total, why)
}

// interruptedAfter is the error of a run that Ctrl-C (or SIGTERM) cut
// short after done of total checks: exit status 130. The checks it did
// not finish have no result, so none of them counts as a failure.
func interruptedAfter(cmd string, done, total int) error {
	return fmt.Errorf("%s: %w after %d of %d checks; the results above are those of the finished checks", cmd, errInterrupted, done, total)
}

// summaryTail is what the summary line adds after "N/M checks passed":
// how many failed and how many were skipped.
func summaryTail(s check.Summary) string {
	var parts []string
	if s.Failed > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", s.Failed))
	}
	if s.Skipped > 0 {
		parts = append(parts, fmt.Sprintf("%d skipped", s.Skipped))
	}
	if len(parts) == 0 {
		return ""
	}
	return ", " + strings.Join(parts, ", ")
}

// skipReasons returns the distinct reasons the skipped results give, in
// order, joined for one line.
func skipReasons(results []check.Result) string {
	var why []string
	for _, r := range results {
		if reason := strings.TrimPrefix(r.Error, "skipped: "); r.Skipped && !slices.Contains(why, reason) {
			why = append(why, reason)
		}
	}
	return strings.Join(why, "; ")
}

// printFailedIDs lists the failed checks' IDs on one line, ready for
// --skip or a bug report.
func printFailedIDs(w io.Writer, results []check.Result) {
	var ids []string
	for _, r := range results {
		if !r.Passed && !r.Skipped {
			ids = append(ids, r.ID)
		}
	}
	if len(ids) > 0 {
		fmt.Fprintf(w, "Failed: %s\n", strings.Join(ids, ","))
	}
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

// reportFiles are the --json and --junit files, opened before the run.
type reportFiles struct{ json, junit *os.File }

func openReports(jsonFile, junitFile string) (reportFiles, error) {
	var r reportFiles
	var err error
	if jsonFile != "" {
		if r.json, err = os.Create(jsonFile); err != nil {
			return r, fmt.Errorf("conform: --json: %w", err)
		}
	}
	if junitFile != "" {
		if r.junit, err = os.Create(junitFile); err != nil {
			return r, errors.Join(fmt.Errorf("conform: --junit: %w", err), r.discard())
		}
	}
	return r, nil
}

// write writes both reports and closes the files.
func (r reportFiles) write(target string, started time.Time, results []check.Result) error {
	var errs []error
	if r.json != nil {
		errs = append(errs, check.WriteJSON(r.json, target, started, results), r.json.Close())
	}
	if r.junit != nil {
		errs = append(errs, check.WriteJUnit(r.junit, "idpkit-conform", started, results), r.junit.Close())
	}
	return errors.Join(errs...)
}

// discard closes and removes files that will not be written.
func (r reportFiles) discard() error {
	var errs []error
	for _, f := range []*os.File{r.json, r.junit} {
		if f != nil {
			errs = append(errs, f.Close(), os.Remove(f.Name()))
		}
	}
	return errors.Join(errs...)
}
