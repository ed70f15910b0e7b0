package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/idpkit/idpkit/mockidp"
)

func cmdMockOkta(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("mockokta", "mockokta [--addr 127.0.0.1:9090] [--seed FILE] [--api-token TOKEN]", stderr)
	addr := fs.String("addr", "127.0.0.1:9090", "address to listen on")
	seedFile := fs.String("seed", "", "a JSON seed file of users, groups, apps and assignments")
	token := fs.String("api-token", envOr("IDPKIT_MOCKOKTA_API_TOKEN", ""), "the management API token (SSWS); generated when empty (env IDPKIT_MOCKOKTA_API_TOKEN)")
	verbose := fs.Bool("verbose", false, "log at debug level")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: mockokta takes no arguments, got %q", errUsage, pos)
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	cfg := mockidp.Config{Addr: *addr, APIToken: *token, Logger: newLogger(stderr, level)}
	if *seedFile != "" {
		f, err := os.Open(*seedFile)
		if err != nil {
			return err
		}
		seed, err := mockidp.LoadSeed(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("seed %s: %w", *seedFile, err)
		}
		cfg.Seed = seed
	}
	srv, err := mockidp.New(cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintf(stdout, "mock Okta listening on %s\n", srv.URL)
	fmt.Fprintf(stdout, "  Okta domain:            %s\n", srv.URL)
	fmt.Fprintf(stdout, "  org issuer:             %s\n", srv.Issuer(""))
	fmt.Fprintf(stdout, "  default custom issuer:  %s\n", srv.Issuer("default"))
	fmt.Fprintf(stdout, "  management API token:   %s   (Authorization: SSWS <token>)\n", srv.APIToken)
	<-ctx.Done()
	return nil
}
