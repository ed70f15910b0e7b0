package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/idpkit/idpkit/suites/load"
)

const loadSynopsis = "load --scim-url URL --token TOKEN [--users N] [--concurrency C] [--duration D] [--cleanup]"

// cmdLoad runs the Okta-pattern load test against a SCIM server: a
// progress line on stderr at most once a second, the table on stdout, exit
// status 1 when any request failed.
func cmdLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("load", loadSynopsis, stderr)
	scimURL := fs.String("scim-url", "", "the SCIM base URL to load, such as https://app.example/scim/v2 (required)")
	token := fs.String("token", envOr("IDPKIT_SCIM_TOKEN", ""), "the bearer token for --scim-url (env IDPKIT_SCIM_TOKEN)")
	users := fs.Int("users", 1000, "how many users to create")
	concurrency := fs.Int("concurrency", 8, "parallel workers")
	duration := fs.Duration("duration", 0, "stop starting requests after this long, such as 30s (0: no limit)")
	lookups := fs.Int("lookups", 0, "after the creates, this many userName lookups of the created users (the request a provisioned tenant answers most)")
	cleanup := fs.Bool("cleanup", false, "delete the users and groups the run created at the end (by default they stay on the server)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: load takes no arguments, got %q", errUsage, pos)
	}
	if *scimURL == "" {
		return fmt.Errorf("%w: load needs --scim-url", errUsage)
	}
	if *scimURL, err = checkBaseURL("--scim-url", *scimURL); err != nil {
		return err
	}
	if *token == "" {
		return fmt.Errorf("%w: --scim-url needs --token (or IDPKIT_SCIM_TOKEN)", errUsage)
	}
	if *users < 1 || *concurrency < 1 || *duration < 0 || *lookups < 0 {
		return fmt.Errorf("%w: --users and --concurrency must be at least 1, --duration and --lookups not negative", errUsage)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = *concurrency
	rep, err := load.Run(ctx, load.Config{
		BaseURL:     *scimURL,
		Token:       *token,
		Client:      &http.Client{Transport: tr, Timeout: time.Minute},
		Users:       *users,
		Concurrency: *concurrency,
		Lookups:     *lookups,
		Duration:    *duration,
		Cleanup:     *cleanup,
		Progress: func(s load.Snapshot) {
			fmt.Fprintf(stderr, "load: %s, %d requests, %d errors, %d users created, %s\n", s.Phase, s.Requests, s.Errors, s.Created, s.Elapsed.Round(100*time.Millisecond))
		},
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	if werr := rep.WriteTable(stdout); werr != nil {
		return fmt.Errorf("load: write the table: %w", werr)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", errInterrupted, err)
	}
	if n := rep.Errors(); n > 0 {
		fmt.Fprintf(stderr, "idpkit: load: %d requests failed\n", n)
		return &failedError{n: n}
	}
	return nil
}
