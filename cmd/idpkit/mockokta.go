package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/idpkit/idpkit/mockidp"
)

// listFlag is a repeatable flag that also takes a comma-separated list.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

func cmdMockOkta(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("mockokta", "mockokta [--addr 127.0.0.1:9090] [--seed FILE.json|.yaml] [--api-token TOKEN] [--trusted-origin ORIGIN,…] [--rotate-every 24h] [--auth-server ID,…] [--verbose]\n\nEvery flag can also be set by the environment variable named in its help; a flag on the command line wins", stderr)
	addr := fs.String("addr", "127.0.0.1:9090", "address to listen on (env IDPKIT_MOCKOKTA_ADDR)")
	seedFile := fs.String("seed", "", "a seed file (.json, .yaml or .yml) of users, groups, apps and assignments (env IDPKIT_MOCKOKTA_SEED)")
	token := fs.String("api-token", "", "the management API and /__mock/ token (SSWS); generated when empty (env IDPKIT_MOCKOKTA_API_TOKEN)")
	var origins, servers listFlag
	fs.Var(&origins, "trusted-origin", "a Trusted Origin (scheme://host[:port]) whose pages may read discovery, keys and token responses (CORS); repeat it or give a comma-separated list (env IDPKIT_MOCKOKTA_TRUSTED_ORIGINS)")
	rotate := fs.Duration("rotate-every", 0, "rotate the signing keys on this schedule, e.g. 24h; 0 rotates only on request (env IDPKIT_MOCKOKTA_ROTATE_EVERY)")
	fs.Var(&servers, "auth-server", "a custom authorization server id besides default (issuer …/oauth2/ID); repeat it or give a comma-separated list (env IDPKIT_MOCKOKTA_AUTH_SERVERS)")
	verbose := fs.Bool("verbose", false, "log at debug level (env IDPKIT_MOCKOKTA_VERBOSE)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := flagsFromEnv(fs, []flagEnv{
		{"addr", "IDPKIT_MOCKOKTA_ADDR"}, {"seed", "IDPKIT_MOCKOKTA_SEED"}, {"api-token", "IDPKIT_MOCKOKTA_API_TOKEN"},
		{"trusted-origin", "IDPKIT_MOCKOKTA_TRUSTED_ORIGINS"}, {"rotate-every", "IDPKIT_MOCKOKTA_ROTATE_EVERY"},
		{"auth-server", "IDPKIT_MOCKOKTA_AUTH_SERVERS"}, {"verbose", "IDPKIT_MOCKOKTA_VERBOSE"},
	}); err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: mockokta takes no arguments, got %q", errUsage, pos)
	}
	if *rotate < 0 {
		return fmt.Errorf("%w: --rotate-every must not be negative, got %v", errUsage, *rotate)
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	cfg := mockidp.Config{
		Addr: *addr, APIToken: *token, Logger: newLogger(stderr, level),
		TrustedOrigins: origins, RotateEvery: *rotate, AuthServers: servers,
	}
	if *seedFile != "" {
		seed, err := mockidp.LoadSeedFile(*seedFile)
		if err != nil {
			return fmt.Errorf("--seed %s: %w", *seedFile, err)
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
	extra := append(append([]string(nil), servers...), seedServers(cfg.Seed)...)
	seen := map[string]bool{"default": true}
	for _, id := range extra {
		if !seen[id] {
			seen[id] = true
			fmt.Fprintf(stdout, "  custom issuer:          %s\n", srv.Issuer(id))
		}
	}
	fmt.Fprintf(stdout, "  management API token:   %s   (Authorization: SSWS <token>)\n", srv.APIToken)
	fmt.Fprintf(stdout, "  test controls:          %s%s   (same token; GET lists them)\n", srv.URL, mockidp.ControlsPath)
	if cfg.Seed != nil {
		fmt.Fprintf(stdout, "  seed:                   %s (%s)\n", *seedFile, cfg.Seed.Summary())
		apps := srv.Seeded().Apps
		labels := make([]string, 0, len(apps))
		for label, a := range apps {
			if a.Type == mockidp.SeedAppOIDC {
				labels = append(labels, label)
			}
		}
		slices.Sort(labels)
		for _, label := range labels {
			a := apps[label]
			fmt.Fprintf(stdout, "  OIDC app %q:  client id %s, client secret %s\n", label, a.ClientID, a.ClientSecret)
		}
	}
	if all := append(append([]string(nil), origins...), seedOrigins(cfg.Seed)...); len(all) > 0 {
		fmt.Fprintf(stdout, "  trusted origins:        %s\n", strings.Join(all, ", "))
	}
	if *rotate > 0 {
		fmt.Fprintf(stdout, "  key rotation:           every %v\n", *rotate)
	}
	<-ctx.Done()
	return nil
}

func seedServers(s *mockidp.Seed) []string {
	if s == nil {
		return nil
	}
	return s.AuthServers
}

func seedOrigins(s *mockidp.Seed) []string {
	if s == nil {
		return nil
	}
	return s.TrustedOrigins
}
