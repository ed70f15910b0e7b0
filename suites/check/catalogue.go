package check

// This file is the mechanism the three catalogues share (Check, RPCheck and
// OPCheck): picking checks by label and ID, running one with a time limit
// into a Result, and running a list of them one after another.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// catalogued is a check of any of the catalogues: what it says of itself,
// as the Result of running it starts.
type catalogued interface {
	head() Result
}

func (c Check) head() Result   { return Result{ID: c.ID, Title: c.Title, Ref: c.Ref, Labels: c.Labels} }
func (c RPCheck) head() Result { return Result{ID: c.ID, Title: c.Title, Ref: c.Ref, Labels: c.Labels} }
func (c OPCheck) head() Result { return Result{ID: c.ID, Title: c.Title, Ref: c.Ref, Labels: c.Labels} }

// selectChecks returns the checks that carry any of labels (every check
// when labels is empty) and whose ID is not in skip; a check labelled
// Strict is left out unless strict is set.
func selectChecks[C catalogued](checks []C, labels, skip []string, strict bool) []C {
	var out []C
	for _, c := range checks {
		h := c.head()
		has := func(l string) bool { return slices.Contains(h.Labels, l) }
		if slices.Contains(skip, h.ID) || has(Strict) && !strict {
			continue
		}
		if len(labels) == 0 || slices.ContainsFunc(labels, has) {
			out = append(out, c)
		}
	}
	return out
}

// runLimited runs one check's body with a time limit on the clock now
// and makes its Result from head: passed when run returns
// nil, skipped when it returns a Skip error, failed with the error or the
// panic otherwise. Duration covers all of run, deferred work included.
func runLimited(ctx context.Context, head Result, now func() time.Time, limit time.Duration, run func(context.Context) error) (r Result) {
	r = head
	start := now()
	defer func() {
		r.Duration = now().Sub(start)
		if p := recover(); p != nil {
			r.Passed, r.Skipped, r.Error = false, false, "check panicked: "+strings.TrimSpace(fmt.Sprint(p))
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	if err := run(ctx); err != nil {
		var skip *skipError
		r.Skipped = errors.As(err, &skip)
		r.Error = err.Error()
		return r
	}
	r.Passed = true
	return r
}

// runEach runs checks one after another with runOne and returns their
// results, calling progress (when not nil) after each. With stopWhenDone,
// a done ctx ends the run: the check it cut short and the ones after it
// have no result.
func runEach[C any](ctx context.Context, checks []C, stopWhenDone bool, runOne func(context.Context, C) Result, progress func(done, total int, r Result)) []Result {
	results := make([]Result, 0, len(checks))
	for i, c := range checks {
		if stopWhenDone && ctx.Err() != nil {
			break
		}
		r := runOne(ctx, c)
		if stopWhenDone && ctx.Err() != nil {
			break // cut short: not a result
		}
		results = append(results, r)
		if progress != nil {
			progress(i+1, len(checks), r)
		}
	}
	return results
}
