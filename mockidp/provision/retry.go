package provision

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/idpkit/idpkit/scim/client"
)

// ErrStopped matches (with errors.Is) the error of a push that a 404 on
// its first GET ended: the app no longer has the user, and Okta neither
// retries nor re-creates it. The error also matches scim.ErrNotFound.
var ErrStopped = errors.New("provision: stopped: the app answered 404 to the GET before the push")

// stopped marks err as ErrStopped without changing its text.
type stopped struct{ err error }

func (s stopped) Error() string        { return s.err.Error() }
func (s stopped) Unwrap() error        { return s.err }
func (s stopped) Is(target error) bool { return target == ErrStopped }

// Attempt is one HTTP request the engine sent, as a Trace reports it.
type Attempt struct {
	Method     string        // GET, POST, PUT, PATCH, DELETE
	Path       string        // relative to the SCIM base URL, with the query as sent
	Status     int           // the answer's status; 0 when the request failed in transport
	RetryAfter string        // the answer's Retry-After header, as sent
	Err        error         // the transport error, when there was no answer
	Wait       time.Duration // the wait before the next attempt; 0 when this was the last
}

// Trace receives the engine's attempts. Attempt is called once per request
// sent, after its answer, from the goroutine that runs the action.
type Trace struct {
	Attempt func(Attempt)
}

type traceKey struct{}

// WithTrace returns a context whose provisioning requests are reported to
// tr, in the manner of net/http/httptrace.
func WithTrace(ctx context.Context, tr *Trace) context.Context {
	return context.WithValue(ctx, traceKey{}, tr)
}

func traceOf(ctx context.Context) *Trace {
	tr, _ := ctx.Value(traceKey{}).(*Trace)
	return tr
}

// send is client.Do with Okta's retries: 429, 5xx and transport errors are
// sent again, up to the engine's MaxAttempts in all.
func (e *Engine) send(ctx context.Context, c *client.Client, method, path string, body, out any) (*client.Response, error) {
	return e.sendN(ctx, c, e.maxAttempts(), method, path, body, out)
}

// sendOnce is client.Do, traced, without retries.
func (e *Engine) sendOnce(ctx context.Context, c *client.Client, method, path string, body, out any) (*client.Response, error) {
	return e.sendN(ctx, c, 1, method, path, body, out)
}

func (e *Engine) sendN(ctx context.Context, c *client.Client, attempts int, method, path string, body, out any) (*client.Response, error) {
	tr := traceOf(ctx)
	for n := 1; ; n++ {
		actx, cancel := context.WithTimeout(ctx, e.timeout())
		resp, err := c.Do(actx, method, path, body, out)
		cancel()
		a := Attempt{Method: method, Path: path}
		var sent time.Time // the answer's Date: the server's clock
		if resp != nil {
			a.Status, a.RetryAfter = resp.Status, resp.Header.Get("Retry-After")
			sent, _ = http.ParseTime(resp.Header.Get("Date"))
		} else if err != nil {
			a.Err = err
		}
		retry := n < attempts && ctx.Err() == nil && retryable(resp, err)
		if retry {
			a.Wait = e.waitAt(n, a.RetryAfter, sent)
		}
		if tr != nil && tr.Attempt != nil {
			tr.Attempt(a)
		}
		if !retry {
			return resp, err
		}
		e.logger().DebugContext(ctx, "provision: retrying", "method", method, "path", path, "status", a.Status, "wait", a.Wait, "attempt", n)
		if serr := e.sleep(ctx, a.Wait); serr != nil {
			return resp, err
		}
	}
}

// retryable reports whether Okta sends a request again: on 429, on 5xx
// and when there was no answer at all.
func retryable(resp *client.Response, err error) bool {
	if resp != nil {
		return resp.Status == http.StatusTooManyRequests || resp.Status >= 500
	}
	var ue *url.Error // what http.Client returns when the request failed in transport
	return errors.As(err, &ue)
}

// wait is the pause after attempt n (1-based): the server's Retry-After
// when it sent a usable one, else Backoff·2^(n-1) jittered to between half
// and all of it; never more than MaxWait. An HTTP-date Retry-After counts
// from the engine's clock.
func (e *Engine) wait(n int, retryAfter string) time.Duration {
	return e.waitAt(n, retryAfter, time.Time{})
}

// waitAt is wait for an answer the server dated sent (its Date header;
// zero when it sent none that parses). An HTTP-date Retry-After then
// counts from sent, on the server's own clock: the engine's clock is the
// mock's, which tests move (FastForward) or fix in the past, so a real
// server's "retry at 12:00:05" measured against it meant no wait at all or
// the longest one.
func (e *Engine) waitAt(n int, retryAfter string, sent time.Time) time.Duration {
	from := sent
	if from.IsZero() {
		from = e.now()
	}
	if d, ok := parseRetryAfter(retryAfter, from); ok {
		return min(d, MaxWait)
	}
	d := e.backoff()
	for i := 1; i < n && d < MaxWait; i++ {
		d *= 2
	}
	d = min(d, MaxWait)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// parseRetryAfter reads Retry-After (RFC 9110 §10.2.3): delay-seconds or
// an HTTP-date, which is turned into the time from now (0 when past).
// delay-seconds is digits only ("+5" and "-0" are neither form); a value
// past MaxWait, however many digits it has, is MaxWait: a bigger number
// never means a shorter wait.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if strings.Trim(v, "0123456789") == "" {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil || secs > int64(MaxWait/time.Second) { // only digits: err is a range error
			return MaxWait, true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

func (e *Engine) sleep(ctx context.Context, d time.Duration) error {
	if e.Sleep != nil {
		return e.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (e *Engine) maxAttempts() int {
	if e.MaxAttempts > 0 {
		return e.MaxAttempts
	}
	return DefaultMaxAttempts
}

func (e *Engine) backoff() time.Duration {
	if e.Backoff > 0 {
		return e.Backoff
	}
	return DefaultBackoff
}

func (e *Engine) timeout() time.Duration {
	if e.Timeout > 0 {
		return e.Timeout
	}
	return DefaultTimeout
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}
