package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
)

const auditSynopsis = "audit NAME [--since 24h|RFC3339] [--json] [--db DSN]"

// defaultAuditRetention is how long serve keeps audit records.
const defaultAuditRetention = 90 * 24 * time.Hour

// auditPruneEvery is how often serve deletes audit records older than
// --audit-retention.
const auditPruneEvery = time.Hour

// cmdAudit prints a tenant's audit trail: SCIM writes, sign-ins and
// admin changes, oldest first.
func cmdAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("audit", auditSynopsis+"\n\nPrints the tenant's audit trail (SCIM writes, sign-ins, admin changes), oldest first:\na table by default, JSON lines with --json.", stderr)
	dsn := fs.String("db", envOr("IDPKIT_DB", defaultDB), "database: sqlite:PATH or postgres://… (env IDPKIT_DB)")
	sinceFlag := fs.String("since", "24h", "the records from this long ago (a duration such as 24h or 15m) or from this time (RFC 3339)")
	asJSON := fs.Bool("json", false, "print one JSON object a line")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: usage: idpkit %s", errUsage, auditSynopsis)
	}
	since, err := parseSince(*sinceFlag, time.Now())
	if err != nil {
		return fmt.Errorf("%w: --since: %w", errUsage, err)
	}
	db := tenantDB{dsn: *dsn, given: flagSet(fs, "db") || os.Getenv("IDPKIT_DB") != ""}
	if err := db.mustExist(); err != nil {
		return err
	}
	st, err := sqlstore.Open(ctx, *dsn, sqlstore.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	defer st.Close()
	name := pos[0]
	if _, err := st.GetTenant(ctx, name); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("audit: no tenant named %q in %s", name, redactDSN(*dsn))
	} else if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	recs, err := st.ListAudit(ctx, name, since, 0)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return printAudit(stdout, recs, *asJSON)
}

// parseSince reads --since: a duration back from now, or an RFC 3339 time.
func parseSince(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("audit: %q is negative", v)
		}
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("audit: %q is neither a duration (24h) nor an RFC 3339 time (2026-01-02T15:04:05Z)", v)
	}
	return t, nil
}

// auditLine is one record as --json prints it.
type auditLine struct {
	At      time.Time       `json:"at"`
	Kind    string          `json:"kind"`
	Actor   string          `json:"actor,omitempty"`
	Source  string          `json:"source,omitempty"`
	Action  string          `json:"action"`
	Target  string          `json:"target,omitempty"`
	Detail  json.RawMessage `json:"detail,omitempty"`
	Outcome string          `json:"outcome"`
}

func printAudit(w io.Writer, recs []store.AuditRecord, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		for _, r := range recs {
			l := auditLine{At: r.At, Kind: r.Kind, Actor: r.Actor, Source: r.Source, Action: r.Action, Target: r.Target, Outcome: r.Outcome}
			if json.Valid(r.Detail) {
				l.Detail = r.Detail
			}
			if err := enc.Encode(l); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tKIND\tACTOR\tSOURCE\tACTION\tTARGET\tOUTCOME")
	for _, r := range recs {
		action := r.Action
		var d struct {
			Test  bool
			Count int
		}
		if json.Unmarshal(r.Detail, &d) == nil {
			// What the table would otherwise hide: a test sign-in from the
			// dialog is no real one, and a summary stands for many.
			if d.Test {
				action += " (test)"
			}
			if d.Count > 1 {
				action += fmt.Sprintf(" ×%d", d.Count)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.At.UTC().Format(time.RFC3339), cell(r.Kind), cell(r.Actor), cell(r.Source), cell(action), cell(r.Target), cell(r.Outcome))
	}
	return tw.Flush()
}

// cell is a table cell: "-" when empty, without tabs or line breaks.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}

// pruneAudit deletes, every auditPruneEvery until ctx is done, the audit
// records older than retention (0: none are deleted).
func pruneAudit(ctx context.Context, st store.Store, retention time.Duration, now func() time.Time, log *slog.Logger) {
	if retention == 0 {
		return
	}
	tick := time.NewTicker(auditPruneEvery)
	defer tick.Stop()
	for {
		pruneAuditOnce(ctx, st, retention, now, log)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// pruneAuditOnce is one pass of pruneAudit.
func pruneAuditOnce(ctx context.Context, st store.Store, retention time.Duration, now func() time.Time, log *slog.Logger) {
	n, err := st.PruneAudit(ctx, now().Add(-retention))
	switch {
	case err != nil && ctx.Err() == nil:
		log.Warn("pruning the audit trail failed", "err", err)
	case n > 0:
		log.Info("pruned the audit trail", "deleted", n, "retention", retention)
	}
}
