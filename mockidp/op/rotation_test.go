package op

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestScheduledRotation(t *testing.T) {
	e := ctlEnv(t, func(c *Config) { c.RotateEvery = time.Hour })
	kids := func() []string {
		var out []string
		for _, k := range e.ctlKeys(t) {
			out = append(out, k["kid"].(string))
		}
		return out
	}
	maxAge := func() string {
		return e.ctlRequest(t, http.DefaultClient, "GET", "/oauth2/v1/keys", "", nil).header.Get("Cache-Control")
	}
	idKid := func() string {
		if err := e.p.QueueLogin(QueuedLogin{Login: "alice@example.com"}); err != nil {
			t.Fatal(err)
		}
		_, tr := e.ctlAuthorize(t, "0oaweb", nil)
		return ctlHeader(t, tr.IDToken)["kid"].(string)
	}

	k0 := kids()
	type state struct {
		CacheControl string
		Kids         int
	}
	steps := []struct {
		name    string
		advance time.Duration
		want    state
		check   func(t *testing.T, prev, now []string)
	}{
		{name: "at start", want: state{"max-age=3600, must-revalidate", 2},
			check: func(t *testing.T, _, now []string) {
				if diff := cmp.Diff(k0, now); diff != "" {
					t.Errorf("kids (-want +got):\n%s", diff)
				}
			}},
		{name: "half way", advance: 30 * time.Minute, want: state{"max-age=1800, must-revalidate", 2}},
		{name: "just before: at least 60 s", advance: 29*time.Minute + 30*time.Second, want: state{"max-age=60, must-revalidate", 2}},
		{name: "the period ends: one rotation", advance: 30 * time.Second, want: state{"max-age=3600, must-revalidate", 3},
			check: func(t *testing.T, prev, now []string) {
				if diff := cmp.Diff(prev, now[:2]); diff != "" {
					t.Errorf("kept keys (-want +got):\n%s", diff)
				}
				// The new signing key was published (as next) before it signs.
				if got := idKid(); got != prev[1] {
					t.Errorf("signing kid %s, want the former next key %s", got, prev[1])
				}
			}},
		{name: "three periods: three rotations", advance: 3 * time.Hour, want: state{"max-age=3600, must-revalidate", 3},
			check: func(t *testing.T, prev, now []string) {
				for _, k := range prev {
					if slices.Contains(now, k) {
						t.Errorf("key %s survived three rotations", k)
					}
				}
				if got := idKid(); got != now[1] {
					t.Errorf("signing kid %s, want %s", got, now[1])
				}
			}},
		{name: "a year: the keys are replaced once", advance: 365 * 24 * time.Hour, want: state{"max-age=3600, must-revalidate", 3}},
		{name: "mid-period after the jump", advance: 20 * time.Minute, want: state{"max-age=2400, must-revalidate", 3}},
		{name: "the clock moves back a year: no rotation, the next one a period away", advance: -(365*24*time.Hour + 20*time.Minute), want: state{"max-age=3600, must-revalidate", 3},
			check: func(t *testing.T, prev, now []string) {
				if diff := cmp.Diff(prev, now); diff != "" {
					t.Errorf("kids (-want +got):\n%s", diff)
				}
			}},
		{name: "then one period: one rotation", advance: time.Hour, want: state{"max-age=3600, must-revalidate", 3},
			check: func(t *testing.T, prev, now []string) {
				if diff := cmp.Diff(prev[1:], now[:2]); diff != "" {
					t.Errorf("kept keys (-want +got):\n%s", diff)
				}
			}},
	}
	prev := k0
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			e.clock.Advance(s.advance)
			now := kids()
			got := state{maxAge(), len(now)}
			if diff := cmp.Diff(s.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			published, signing := e.p.KeyIDs()
			if diff := cmp.Diff([]any{now, now[len(now)-2]}, []any{published, signing}); diff != "" {
				t.Errorf("KeyIDs (-want +got):\n%s", diff)
			}
			if s.check != nil {
				s.check(t, prev, now)
			}
			prev = now
		})
	}
}

func TestNoScheduledRotation(t *testing.T) {
	e := ctlEnv(t, nil)
	before, _ := e.p.KeyIDs()
	e.clock.Advance(365 * 24 * time.Hour)
	after, _ := e.p.KeyIDs()
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("keys changed without RotateEvery (-want +got):\n%s", diff)
	}
	if cc := e.ctlRequest(t, http.DefaultClient, "GET", "/oauth2/v1/keys", "", nil).header.Get("Cache-Control"); cc != "max-age=86400, must-revalidate" {
		t.Errorf("Cache-Control %q", cc)
	}
	if _, err := New(Config{BaseURL: func() string { return "http://127.0.0.1:9" }, Directory: e.dir, SigningKeys: testKeys(t), RotateEvery: -time.Second}); err == nil {
		t.Errorf("New accepted a negative RotateEvery")
	}
}
