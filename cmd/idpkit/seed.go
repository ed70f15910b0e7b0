package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/server"
	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
)

const seedSynopsis = "seed --db DSN --tenant NAME --users N [--groups G --members M] [--batch 5000]"

// cmdSeed loads Okta-shaped users, and optionally groups of the first
// users, into an existing tenant through the server's bulk import (one
// store transaction per batch): a progress line on stderr at most once a
// second, a final line with the counts and the time on stdout.
func cmdSeed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("seed", seedSynopsis+"\n\nLoads users user0000001@example.com, user0000002@example.com, … (name, emails, externalId, active) into an existing tenant, then G groups group0001, … each with the first M users as members", stderr)
	dsn := fs.String("db", defaultDB, "database: sqlite:PATH or postgres://… (env IDPKIT_DB)")
	name := fs.String("tenant", "", "the tenant to load, created beforehand with idpkit tenant create (required; env IDPKIT_TENANT)")
	users := fs.Int("users", 0, "how many users to create (required, at least 1)")
	groups := fs.Int("groups", 0, "how many groups to create")
	members := fs.Int("members", 0, "how many of the first users each group lists as members (at most --users)")
	batch := fs.Int("batch", 5000, "users per call of the server's import, which commits them in transactions of up to 1,000")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := flagsFromEnv(fs, []flagEnv{{"db", "IDPKIT_DB"}, {"tenant", "IDPKIT_TENANT"}}); err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return fmt.Errorf("%w: seed takes no arguments, got %q", errUsage, pos)
	case *name == "":
		return fmt.Errorf("%w: seed needs --tenant", errUsage)
	case *users < 1:
		return fmt.Errorf("%w: --users must be at least 1, got %d", errUsage, *users)
	case *groups < 0:
		return fmt.Errorf("%w: --groups must not be negative, got %d", errUsage, *groups)
	case *members < 0 || *members > *users:
		return fmt.Errorf("%w: --members must be between 0 and --users (%d), got %d", errUsage, *users, *members)
	case *members > 0 && *groups == 0:
		return fmt.Errorf("%w: --members needs --groups", errUsage)
	case *batch < 1:
		return fmt.Errorf("%w: --batch must be at least 1, got %d", errUsage, *batch)
	}
	log := newLogger(stderr, slog.LevelWarn)
	st, err := sqlstore.Open(ctx, *dsn, sqlstore.Options{Logger: log})
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.GetTenant(ctx, *name); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("seed: no tenant %q in %s; create it first with idpkit tenant create %s", *name, redactDSN(*dsn), *name)
	} else if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	s := seeder{
		srv:    server.New(server.Config{Store: st, Logger: log, Now: time.Now}),
		tenant: *name,
		now:    time.Now,
		stderr: stderr,
	}
	started := s.now()
	ids, err := s.users(ctx, *users, *batch, *members)
	usersTook := s.now().Sub(started)
	if err == nil && *groups > 0 {
		err = s.groups(ctx, *groups, ids)
	}
	elapsed := s.now().Sub(started)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(stderr, "idpkit: seed: stopped after %d users and %d groups in %s\n", s.doneUsers, s.doneGroups, elapsed.Round(time.Millisecond))
			return fmt.Errorf("seed: %w: %w", errInterrupted, err)
		}
		fmt.Fprintf(stderr, "idpkit: seed: %d users and %d groups were written before the failure\n", s.doneUsers, s.doneGroups)
		return err
	}
	fmt.Fprintf(stdout, "seeded %d users and %d groups (%d members each) into tenant %s in %s (users %s, %.0f users/s)\n",
		s.doneUsers, s.doneGroups, *members, *name, elapsed.Round(time.Millisecond), usersTook.Round(time.Millisecond), rate(s.doneUsers, usersTook))
	return nil
}

// seeder writes the resources of one seed run and reports progress.
type seeder struct {
	srv    *server.Server
	tenant string
	now    func() time.Time
	stderr io.Writer

	doneUsers, doneGroups int
}

// users imports n users in batches and returns the ids of the first keep.
func (s *seeder) users(ctx context.Context, n, batch, keep int) ([]string, error) {
	ids := make([]string, 0, keep)
	started := s.now()
	lastReport := started
	rs := make([]scim.Resource, 0, min(batch, n))
	for first := 1; first <= n; first += batch {
		rs = rs[:0]
		for i := first; i < first+batch && i <= n; i++ {
			rs = append(rs, seedUser(i))
		}
		got, err := s.srv.Import(ctx, s.tenant, "User", rs)
		// On an error, got holds the ids of the transactions that
		// committed before it.
		s.doneUsers += len(got)
		if len(ids) < keep {
			ids = append(ids, got[:min(len(got), keep-len(ids))]...)
		}
		if err != nil {
			return ids, fmt.Errorf("seed: users %d to %d: %w", first, first+len(rs)-1, err)
		}
		if len(got) != len(rs) {
			return ids, fmt.Errorf("seed: users %d to %d: the import returned %d ids for %d users", first, first+len(rs)-1, len(got), len(rs))
		}
		if now := s.now(); now.Sub(lastReport) >= time.Second || s.doneUsers == n {
			lastReport = now
			fmt.Fprintf(s.stderr, "seed: %d/%d users, %.0f users/s\n", s.doneUsers, n, rate(s.doneUsers, now.Sub(started)))
		}
	}
	return ids, nil
}

// groups imports n groups, each with members as its members.
func (s *seeder) groups(ctx context.Context, n int, members []string) error {
	// Each member carries its display, the userName, as Okta's Group
	// Push sends it; that also spares the server looking the names up.
	ms := make([]any, len(members))
	for i, id := range members {
		ms[i] = map[string]any{"value": id, "display": seedUserName(i + 1)}
	}
	for g := 1; g <= n; g++ {
		r := scim.Resource{
			"schemas":     []any{"urn:ietf:params:scim:schemas:core:2.0:Group"},
			"displayName": fmt.Sprintf("group%04d", g),
		}
		if len(ms) > 0 {
			r["members"] = ms
		}
		if _, err := s.srv.Import(ctx, s.tenant, "Group", []scim.Resource{r}); err != nil {
			return fmt.Errorf("seed: group %d: %w", g, err)
		}
		s.doneGroups++
		fmt.Fprintf(s.stderr, "seed: %d/%d groups (%d members each)\n", g, n, len(ms))
	}
	return nil
}

// seedUser is the i-th seeded user, shaped as Okta's provisioning creates
// users (see testdata/okta).
func seedUser(i int) scim.Resource {
	login := seedUserName(i)
	given, family := "User", fmt.Sprintf("%07d", i)
	return scim.Resource{
		"schemas":     []any{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName":    login,
		"name":        map[string]any{"givenName": given, "familyName": family},
		"displayName": given + " " + family,
		"emails":      []any{map[string]any{"primary": true, "value": login, "type": "work"}},
		"externalId":  fmt.Sprintf("00u%017d", i),
		"locale":      "en-US",
		"active":      true,
	}
}

// seedUserName is the userName of the i-th seeded user.
func seedUserName(i int) string { return fmt.Sprintf("user%07d@example.com", i) }

// rate is n per second over d (0 when d is 0).
func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}
