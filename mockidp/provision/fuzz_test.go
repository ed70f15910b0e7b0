package provision

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// FuzzParseRetryAfter feeds arbitrary Retry-After values and Date headers
// (what any SCIM server may send) to the parser and to the wait it
// decides: never a panic, never a negative wait, never more than MaxWait,
// and every value of digits only is a delay.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "12", " 7 ", "-1", "+5", "1.5", "99999999999999999999", "86400",
		"Fri, 02 Jan 2026 03:04:35 GMT", "Friday, 02-Jan-26 03:04:35 GMT", "Fri Jan  2 03:04:35 2026",
		"Sun, 06 Nov 1994 08:49:37 GMT", "Thu, 01 Jan 9999 00:00:00 GMT", "tomorrow", "\x00", "٥"} {
		f.Add(s, "Fri, 02 Jan 2026 03:04:05 GMT", 1)
	}
	f.Add("Fri, 02 Jan 2026 03:04:35 GMT", "Thu, 01 Jan 1970 00:00:00 GMT", 2)
	f.Add("Fri, 02 Jan 2026 03:04:35 GMT", "garbage", 3)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v, date string, attempt int) {
		d, ok := parseRetryAfter(v, now)
		if d < 0 || (!ok && d != 0) {
			t.Fatalf("parseRetryAfter(%q) = %v, %v", v, d, ok)
		}
		if tv := strings.TrimSpace(v); tv != "" && strings.Trim(tv, "0123456789") == "" && !ok {
			t.Fatalf("parseRetryAfter(%q): digits only, yet not a delay", v)
		}
		if ok {
			if _, err := http.ParseTime(strings.TrimSpace(v)); err != nil && d > MaxWait {
				t.Fatalf("parseRetryAfter(%q) = %v, over MaxWait", v, d)
			}
		}
		e := &Engine{Now: func() time.Time { return now }}
		n := attempt%64 + 1
		if n < 1 {
			n = -n + 1
		}
		if w := e.wait(n, v); w < 0 || w > MaxWait {
			t.Fatalf("wait(%d, %q) = %v, outside [0, %v]", n, v, w, MaxWait)
		}
		sent, _ := http.ParseTime(date)
		if w := e.waitAt(n, v, sent); w < 0 || w > MaxWait {
			t.Fatalf("waitAt(%d, %q, %q) = %v, outside [0, %v]", n, v, date, w, MaxWait)
		}
	})
}
