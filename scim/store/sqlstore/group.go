package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// Group commit (SQLite). SQLite has one writer, and with synchronous=FULL
// every commit waits for the disk (an fsync of the WAL, about 0.4 ms
// here), so creates committed one by one top out near 1,000 a second
// however many clients send them. CreateResource on SQLite therefore
// hands its transaction to a committer goroutine, which runs the
// transactions waiting at that moment (up to maxGroup) in one SQLite
// transaction, each under its own SAVEPOINT, and commits once: a create
// that fails (a taken userName) rolls back to its savepoint alone, and no
// caller hears of success before the commit that holds its write is on
// disk. Durability is unchanged; only the fsyncs are shared.
//
// Only creates are grouped: their callbacks read nothing outside the
// transaction. An UpdateResource callback may read through the reader
// pool, which cannot see another grouped write not yet committed, so
// updates keep their own transactions.

// maxGroup is the most transactions one group commit holds.
const maxGroup = 64

// groupJob is one transaction waiting for the committer.
type groupJob struct {
	ctx  context.Context
	op   string
	fn   func(*sql.Tx) error
	done chan error // receives the job's outcome once its group committed
}

// committer runs grouped transactions on the SQLite writer.
type committer struct {
	jobs chan *groupJob
	quit chan struct{}
	wg   sync.WaitGroup
}

// startCommitter starts the committer goroutine of s; stopCommitter ends it.
func (s *Store) startCommitter() {
	c := &committer{jobs: make(chan *groupJob), quit: make(chan struct{})}
	s.commit = c
	c.wg.Go(func() {
		for {
			var j *groupJob
			select {
			case j = <-c.jobs:
			case <-c.quit:
				return
			}
			batch := []*groupJob{j}
		drain:
			for len(batch) < maxGroup {
				select {
				case j := <-c.jobs:
					batch = append(batch, j)
				default:
					break drain
				}
			}
			s.runGroup(batch)
		}
	})
}

func (s *Store) stopCommitter() {
	if s.commit != nil {
		close(s.commit.quit)
		s.commit.wg.Wait()
	}
}

// errClosed is the outcome of a grouped transaction sent after Close.
var errClosed = errors.New("sqlstore: store is closed")

// groupTx runs fn in a write transaction like tx, grouped with others on
// SQLite (see above). fn must not read through the reader pool what an
// earlier grouped fn may have written.
func (s *Store) groupTx(ctx context.Context, op string, fn func(*sql.Tx) error) error {
	if s.commit == nil {
		return s.tx(ctx, op, fn)
	}
	j := &groupJob{ctx: ctx, op: op, fn: fn, done: make(chan error, 1)}
	select {
	case s.commit.jobs <- j:
	case <-s.commit.quit:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once handed over, the job runs or is refused for its context, and
	// its outcome always arrives: waiting for it even if ctx ends keeps a
	// caller from reporting failure for a write that commits.
	return <-j.done
}

// runGroup runs batch in one transaction, each job under a savepoint,
// and delivers every outcome after the commit.
func (s *Store) runGroup(batch []*groupJob) {
	outcome := make([]error, len(batch))
	deliver := func() {
		for i, j := range batch {
			j.done <- outcome[i]
		}
	}
	defer deliver()
	tx, err := s.w.BeginTx(context.Background(), nil)
	if err != nil {
		for i := range outcome {
			outcome[i] = fmt.Errorf("sqlstore: %s: begin: %w", batch[i].op, err)
		}
		return
	}
	defer tx.Rollback() // no-op after Commit
	ran := 0
	for i, j := range batch {
		if err := j.ctx.Err(); err != nil {
			outcome[i] = err
			continue
		}
		outcome[i] = s.savepoint(tx, j)
		if outcome[i] == nil {
			ran++
		}
	}
	if ran == 0 {
		return // nothing to commit; the rollback ends the transaction
	}
	if err := tx.Commit(); err != nil {
		for i, j := range batch {
			if outcome[i] == nil {
				outcome[i] = fmt.Errorf("sqlstore: %s: commit: %w", j.op, err)
			}
		}
	}
}

// savepoint runs one job in tx under a savepoint, rolling back to it
// when the job fails (or panics).
func (s *Store) savepoint(tx *sql.Tx, j *groupJob) (err error) {
	if _, err := tx.ExecContext(j.ctx, "SAVEPOINT grouped"); err != nil {
		return fmt.Errorf("sqlstore: %s: savepoint: %w", j.op, err)
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sqlstore: %s: panic: %v", j.op, p)
		}
		if err != nil {
			// Background: the rollback must happen even when j.ctx ended.
			if _, rerr := tx.ExecContext(context.Background(), "ROLLBACK TO grouped"); rerr != nil {
				err = errors.Join(err, fmt.Errorf("sqlstore: %s: roll back to savepoint: %w", j.op, rerr))
			}
		}
		if _, rerr := tx.ExecContext(context.Background(), "RELEASE grouped"); rerr != nil && err == nil {
			err = fmt.Errorf("sqlstore: %s: release savepoint: %w", j.op, rerr)
		}
	}()
	return j.fn(tx)
}
