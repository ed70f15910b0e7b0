package load

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// maxSamples is how many error samples an operation keeps.
const maxSamples = 3

// Report is the outcome of a run.
type Report struct {
	// Prefix starts every user name and group name of the run.
	Prefix string
	// Requested is Config.Users; Concurrency the workers used.
	Requested, Concurrency int
	// Users are the users created (or found by the filter), in creation
	// order, with the active state the run left them in.
	Users []User
	// Groups are the groups pushed, with the members added.
	Groups []Group
	// Imported is how many users the paged import read (every user on
	// the server, not only the run's).
	Imported int
	// Ops holds one entry per operation that ran, in table order.
	Ops []OpResult
	// Elapsed is the whole run's time.
	Elapsed time.Duration
	// TimedOut is set when Config.Duration ended the run early.
	TimedOut bool
	// CleanedUp is set when Config.Cleanup deleted what the run created.
	CleanedUp bool
}

// OpResult is the measurements of one operation.
type OpResult struct {
	Name   string
	Count  int // requests sent
	Errors int // of which answered outside 2xx or not at all
	// PerSecond is Count divided by the time from the first request's start
	// to the last one's end.
	PerSecond     float64
	P50, P95, P99 time.Duration
	Max           time.Duration
	// Samples are the first few failures: method, path, status and body.
	Samples []string
}

// Errors returns the number of failed requests over all operations.
func (r Report) Errors() int {
	n := 0
	for _, o := range r.Ops {
		n += o.Errors
	}
	return n
}

// Op returns the result of the named operation, or a zero OpResult.
func (r Report) Op(name string) OpResult {
	for _, o := range r.Ops {
		if o.Name == name {
			return o
		}
	}
	return OpResult{Name: name}
}

// WriteTable prints one aligned row per operation, then the error samples
// and a summary line.
func (r Report) WriteTable(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("%-13s %8s %7s %9s %9s %9s %9s %9s\n", "operation", "count", "errors", "req/s", "p50", "p95", "p99", "max")
	for _, o := range r.Ops {
		ew.printf("%-13s %8d %7d %9.1f %9s %9s %9s %9s\n", o.Name, o.Count, o.Errors, o.PerSecond, ms(o.P50), ms(o.P95), ms(o.P99), ms(o.Max))
	}
	for _, o := range r.Ops {
		for _, s := range o.Samples {
			ew.printf("error %s: %s\n", o.Name, s)
		}
	}
	ew.printf("users %d of %d created, %d imported, %d groups, %d workers, %s", len(r.Users), r.Requested, r.Imported, len(r.Groups), r.Concurrency, r.Elapsed.Round(time.Millisecond))
	if r.TimedOut {
		ew.printf(" (time limit reached)")
	}
	if r.CleanedUp {
		ew.printf("; deleted again\n")
	} else {
		ew.printf("; left on the server with prefix %s\n", r.Prefix)
	}
	return ew.err
}

// ms renders a latency in milliseconds.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

// opStats accumulates one operation's latencies (an exact slice: at 8 bytes
// a request, a million requests cost 8 MB).
type opStats struct {
	first, last time.Time
	lat         []time.Duration
	errors      int
	samples     []string
}

// add records one request that started at t0 and took d; a non-empty
// sample marks it failed.
func (s *opStats) add(t0 time.Time, d time.Duration, sample string) {
	if t0.Before(s.first) {
		s.first = t0
	}
	if end := t0.Add(d); end.After(s.last) {
		s.last = end
	}
	s.lat = append(s.lat, d)
	if sample != "" {
		s.errors++
		if len(s.samples) < maxSamples {
			s.samples = append(s.samples, sample)
		}
	}
}

func (s *opStats) result(name string) OpResult {
	lat := slices.Clone(s.lat)
	slices.Sort(lat)
	o := OpResult{Name: name, Count: len(lat), Errors: s.errors, Samples: slices.Clone(s.samples)}
	if len(lat) == 0 {
		return o
	}
	o.P50, o.P95, o.P99, o.Max = quantile(lat, 0.50), quantile(lat, 0.95), quantile(lat, 0.99), lat[len(lat)-1]
	if span := s.last.Sub(s.first); span > 0 {
		o.PerSecond = float64(len(lat)) / span.Seconds()
	}
	return o
}

// quantile returns the nearest-rank q-quantile of sorted.
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.999999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
