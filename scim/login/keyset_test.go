package login

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
)

// jwksServer serves a JWK Set that a test can change, and counts requests.
type jwksServer struct {
	srv  *httptest.Server
	hits atomic.Int32

	mu     sync.Mutex
	keys   []any
	status int
	cc     string
	gate   chan struct{} // when set, each request waits for it to close
}

func newJWKSServer(t *testing.T, keys ...any) *jwksServer {
	js := &jwksServer{keys: keys}
	js.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		js.hits.Add(1)
		js.mu.Lock()
		keys, status, cc, gate := js.keys, js.status, js.cc, js.gate
		js.mu.Unlock()
		if gate != nil {
			<-gate
		}
		if cc != "" {
			w.Header().Set("Cache-Control", cc)
		}
		if status != 0 {
			w.WriteHeader(status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	}))
	t.Cleanup(js.srv.Close)
	return js
}

func (js *jwksServer) set(f func(js *jwksServer)) { js.mu.Lock(); f(js); js.mu.Unlock() }

// fakeClock is a clock a test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// logRecorder is a slog handler that keeps every record's text.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String() + " " + r.Message)
	r.Attrs(func(a slog.Attr) bool { b.WriteString(" " + a.String()); return true })
	l.mu.Lock()
	l.lines = append(l.lines, b.String())
	l.mu.Unlock()
	return nil
}
func (l *logRecorder) WithAttrs(as []slog.Attr) slog.Handler {
	return &prefixed{l, as}
}
func (l *logRecorder) WithGroup(string) slog.Handler { return l }
func (l *logRecorder) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

type prefixed struct {
	l  *logRecorder
	as []slog.Attr
}

func (p *prefixed) Enabled(context.Context, slog.Level) bool { return true }
func (p *prefixed) Handle(ctx context.Context, r slog.Record) error {
	r.AddAttrs(p.as...)
	return p.l.Handle(ctx, r)
}
func (p *prefixed) WithAttrs(as []slog.Attr) slog.Handler {
	return &prefixed{p.l, append(append([]slog.Attr{}, p.as...), as...)}
}
func (p *prefixed) WithGroup(string) slog.Handler { return p }

func testKeySet(t *testing.T, js *jwksServer, clock *fakeClock, log *slog.Logger) *keySet {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return newKeySet("https://issuer.example", js.srv.URL, js.srv.Client(), clock.Now, 2*time.Second, log)
}

var testClaims = map[string]any{"sub": "00ualice"}

// Extra JWKs that a key set must skip without failing.
var (
	jwkSecp256k1 = map[string]any{"kty": "EC", "crv": "secp256k1", "kid": "k256", "use": "sig", "alg": "ES256K",
		"x": "gN1-ZrG2M3yFTY7ZPjpLEf-e8aGZ0ShPqF2i4GYAWXY", "y": "RZSSrA3vxNfS7qRlbG1EbJ8x5rR0b6T0EYxm1xKqQS8"}
	jwkEd25519    = map[string]any{"kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
	jwkX25519     = map[string]any{"kty": "OKP", "crv": "X25519", "kid": "x", "x": "hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo"}
	jwkGarbageN   = map[string]any{"kty": "RSA", "kid": "bad-n", "use": "sig", "alg": "RS256", "n": "!!!not base64!!!", "e": "AQAB"}
	jwkOct        = map[string]any{"kty": "oct", "kid": "hmac", "k": base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("client-secret-", 3)))}
	jwkShortRSA   = map[string]any{"kty": "RSA", "kid": "short", "n": base64.RawURLEncoding.EncodeToString(append([]byte{0xc1}, make([]byte, 63)...)), "e": "AQAB"}
	jwkEncryption = func(t *testing.T) map[string]any {
		k, _ := testKeys()
		m := publicJWK(k[1], "enc", "")
		m["use"] = "enc"
		return m
	}
)

// TestParseJWK: each key in a JWK Set is parsed on its own; those this
// relying party cannot use are skipped with a reason.
func TestParseJWK(t *testing.T) {
	keys, err := testKeys()
	if err != nil {
		t.Fatal(err)
	}
	ec, _ := testECKey()
	private := publicJWK(keys[0], "priv", "RS256")
	priv, _ := json.Marshal(jose.JSONWebKey{Key: keys[0], KeyID: "priv"})
	json.Unmarshal(priv, &private)
	rs384 := publicJWK(keys[0], "rs384", "RS384")
	tests := []struct {
		name string
		jwk  any
		want string // "" when usable, else a part of the reason
	}{
		{"RSA RS256", publicJWK(keys[0], "k1", "RS256"), ""},
		{"RSA without alg or use", func() any { m := publicJWK(keys[0], "k1", ""); delete(m, "use"); return m }(), ""},
		{"EC P-256", publicJWK(ec, "ec", "ES256"), ""},
		{"secp256k1", jwkSecp256k1, `EC curve "secp256k1"`},
		{"OKP Ed25519", jwkEd25519, `kty "OKP"`},
		{"OKP X25519", jwkX25519, `kty "OKP"`},
		{"garbage n", jwkGarbageN, "unparseable"},
		{"symmetric", jwkOct, "private or symmetric"},
		{"private RSA", private, "private or symmetric"},
		{"short RSA", jwkShortRSA, "RSA key of"},
		{"encryption key", jwkEncryption(t), `use "enc"`},
		{"RSA for RS384", rs384, `alg "RS384"`},
		{"not an object", "a string", "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, _ := json.Marshal(tt.jwk)
			_, err := parseJWK(raw)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("parseJWK = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestKeySet: verification against the issuer's keys, when the set
// fetches them (counted as requests to the keys endpoint), and which
// tokens it refuses.
func TestKeySet(t *testing.T) {
	keys, err := testKeys()
	if err != nil {
		t.Fatal(err)
	}
	k1, unpublished := keys[0], keys[1]
	ec, _ := testECKey()
	rs := func(kid string) any { return publicJWK(k1, kid, "RS256") }
	type step struct {
		advance time.Duration
		token   func(t *testing.T) string
		ok      bool
		fetches int32 // requests to the keys endpoint so far
	}
	good := func(t *testing.T) string { return signJWT(t, jose.RS256, k1, "k1", testClaims) }
	signedBy := func(alg jose.SignatureAlgorithm, key any, kid string) func(t *testing.T) string {
		return func(t *testing.T) string { return signJWT(t, alg, key, kid, testClaims) }
	}
	tests := []struct {
		name  string
		keys  []any
		cc    string
		setup func(js *jwksServer) // after the first step
		steps []step
	}{
		{"RS256 with kid", []any{rs("k1")}, "", nil, []step{{0, good, true, 1}, {0, good, true, 1}}},
		{"ES256 with kid", []any{publicJWK(ec, "ec", "ES256")}, "", nil, []step{{0, signedBy(jose.ES256, ec, "ec"), true, 1}}},
		{"no kid, single key", []any{rs("k1")}, "", nil, []step{{0, signedBy(jose.RS256, k1, ""), true, 1}}},
		{"no kid, several keys of several types", []any{publicJWK(ec, "ec", "ES256"), publicJWK(unpublished, "other", "RS256"), rs("k1")}, "", nil,
			[]step{{0, signedBy(jose.RS256, k1, ""), true, 1}, {0, signedBy(jose.ES256, ec, ""), true, 1}}},
		{"unusable keys are skipped", []any{jwkSecp256k1, jwkEd25519, jwkX25519, jwkGarbageN, jwkOct, jwkShortRSA, rs("k1")}, "", nil,
			[]step{{0, good, true, 1}, {0, signedBy(jose.RS256, k1, ""), true, 1}}},
		{"bad signature under a known kid: no refetch", []any{rs("k1")}, "", nil,
			[]step{{0, signedBy(jose.RS256, unpublished, "k1"), false, 1}, {0, signedBy(jose.RS256, unpublished, "k1"), false, 1}}},
		{"RS256 token under an EC kid", []any{publicJWK(ec, "ec", "ES256")}, "", nil, []step{{0, signedBy(jose.RS256, k1, "ec"), false, 1}}},
		{"ES256 token under an RSA kid", []any{rs("k1")}, "", nil, []step{{0, signedBy(jose.ES256, ec, "k1"), false, 1}}},
		{"RS384 is refused before any fetch", []any{publicJWK(k1, "k1", "")}, "", nil, []step{{0, signedBy(jose.RS384, k1, "k1"), false, 0}}},
		{"PS256 is refused", []any{rs("k1")}, "", nil, []step{{0, signedBy(jose.PS256, k1, "k1"), false, 0}}},
		{"HS256 is refused", []any{jwkOct, rs("k1")}, "", nil, []step{{0, signedBy(jose.HS256, []byte(strings.Repeat("client-secret-", 3)), "hmac"), false, 0}}},
		{"rotation: a new kid is fetched at once", []any{rs("k1")}, "", func(js *jwksServer) { js.keys = []any{rs("k1"), rs("k2")} },
			[]step{{0, good, true, 1}, {time.Second, signedBy(jose.RS256, k1, "k2"), true, 2}, {0, signedBy(jose.RS256, k1, "k2"), true, 2}}},
		{"unpublished kid: one refetch per interval", []any{rs("k1")}, "", nil, []step{
			{0, good, true, 1},
			{0, signedBy(jose.RS256, unpublished, "ghost"), false, 2},
			{time.Second, signedBy(jose.RS256, unpublished, "ghost"), false, 2},
			{time.Second, signedBy(jose.RS256, unpublished, "ghost2"), false, 2},
			{keysRefetchInterval, signedBy(jose.RS256, unpublished, "ghost"), false, 3},
			{0, good, true, 3},
		}},
		{"first token has an unknown kid: the first fetch counts as the refetch", []any{rs("k1")}, "", nil, []step{
			{0, signedBy(jose.RS256, unpublished, "ghost"), false, 1},
			{0, signedBy(jose.RS256, unpublished, "ghost"), false, 1},
		}},
		{"no kid and no key verifies: one refetch", []any{rs("k1")}, "", nil, []step{
			{0, good, true, 1},
			{0, signedBy(jose.RS256, unpublished, ""), false, 2},
			{0, signedBy(jose.RS256, unpublished, ""), false, 2},
		}},
		{"Cache-Control max-age is the refresh time", []any{rs("k1")}, "public, max-age=120", nil, []step{
			{0, good, true, 1}, {100 * time.Second, good, true, 1}, {30 * time.Second, good, true, 2}, {60 * time.Second, good, true, 2},
		}},
		{"without max-age keys are fresh for an hour", []any{rs("k1")}, "", nil, []step{
			{0, good, true, 1}, {59 * time.Minute, good, true, 1}, {2 * time.Minute, good, true, 2},
		}},
		{"max-age=0 is floored at the refetch interval", []any{rs("k1")}, "no-cache, max-age=0", nil, []step{
			{0, good, true, 1}, {10 * time.Second, good, true, 1}, {keysRefetchInterval, good, true, 2},
		}},
		{"a failed refresh keeps the stale keys", []any{rs("k1")}, "max-age=60", func(js *jwksServer) { js.status = http.StatusServiceUnavailable }, []step{
			{0, good, true, 1}, {2 * time.Minute, good, true, 2}, {time.Second, good, true, 2}, {keysRefetchInterval, good, true, 3},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			js := newJWKSServer(t, tt.keys...)
			js.cc = tt.cc
			clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
			ks := testKeySet(t, js, clock, nil)
			var got, want []string
			for i, s := range tt.steps {
				if i == 1 && tt.setup != nil {
					js.set(tt.setup)
				}
				clock.Advance(s.advance)
				payload, err := ks.VerifySignature(t.Context(), s.token(t))
				ok := err == nil && strings.Contains(string(payload), "00ualice")
				got = append(got, fmt.Sprintf("step %d: ok=%v fetches=%d", i, ok, js.hits.Load()))
				want = append(want, fmt.Sprintf("step %d: ok=%v fetches=%d", i, s.ok, s.fetches))
				if ok != s.ok {
					t.Logf("step %d: err = %v", i, err)
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestKeySetNoRefetchStorm: 20 tokens signed by an unpublished key, one
// after another and all at once, cost the keys endpoint one fetch for the
// cache and one refetch.
func TestKeySetNoRefetchStorm(t *testing.T) {
	keys, err := testKeys()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		concurrent bool
	}{{"sequential", false}, {"concurrent", true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			js := newJWKSServer(t, publicJWK(keys[0], "k1", "RS256"))
			clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
			rec := &logRecorder{}
			ks := testKeySet(t, js, clock, slog.New(rec))
			if _, err := ks.VerifySignature(t.Context(), signJWT(t, jose.RS256, keys[0], "k1", testClaims)); err != nil {
				t.Fatal(err)
			}
			// Hold the refetch until all 20 have asked, so they overlap.
			gate := make(chan struct{})
			if tt.concurrent {
				js.set(func(js *jwksServer) { js.gate = gate })
			}
			var wg sync.WaitGroup
			var refused atomic.Int32
			for i := range 20 {
				tok := signJWT(t, jose.RS256, keys[1], fmt.Sprintf("ghost-%d", i), testClaims)
				verify := func() {
					if _, err := ks.VerifySignature(t.Context(), tok); err != nil {
						refused.Add(1)
					}
				}
				if !tt.concurrent {
					verify()
					continue
				}
				wg.Add(1)
				go func() { defer wg.Done(); verify() }()
			}
			if tt.concurrent {
				// Let the waiting callers pile up behind the one fetch.
				for js.hits.Load() < 2 {
					time.Sleep(time.Millisecond)
				}
				close(gate)
				wg.Wait()
			}
			if diff := cmp.Diff([]int32{2, 20}, []int32{js.hits.Load(), refused.Load()}); diff != "" {
				t.Errorf("[requests to the keys endpoint, refused tokens] (-want +got):\n%s", diff)
			}
		})
	}
}

// TestKeySetSkipsLogged: a skipped key is logged at debug level with its
// kid and the reason, and the set still verifies with the good key.
func TestKeySetSkipsLogged(t *testing.T) {
	keys, _ := testKeys()
	js := newJWKSServer(t, jwkSecp256k1, jwkEd25519, jwkGarbageN, publicJWK(keys[0], "k1", "RS256"))
	rec := &logRecorder{}
	ks := testKeySet(t, js, &fakeClock{now: time.Unix(1_800_000_000, 0)}, slog.New(rec))
	if _, err := ks.VerifySignature(t.Context(), signJWT(t, jose.RS256, keys[0], "k1", testClaims)); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range strings.Split(rec.text(), "\n") {
		if strings.Contains(l, "skipped a key") {
			_, kid, _ := strings.Cut(l, "kid=")
			kid, _, _ = strings.Cut(kid, " ")
			got = append(got, strings.Fields(l)[0]+" "+kid)
		}
	}
	if diff := cmp.Diff([]string{"DEBUG k256", "DEBUG ed", "DEBUG bad-n"}, got); diff != "" {
		t.Errorf("skipped keys logged (-want +got):\n%s\n%s", diff, rec.text())
	}
}

func TestKeysTTL(t *testing.T) {
	tests := []struct {
		cc   string
		want time.Duration
	}{
		{"", keysDefaultTTL},
		{"max-age=300", 5 * time.Minute},
		{"public, max-age=86400, must-revalidate", 24 * time.Hour},
		{"max-age=999999999999", keysMaxTTL},
		{"max-age=1", keysRefetchInterval},
		{"no-store", keysRefetchInterval},
		{"max-age=soon", keysDefaultTTL},
		{`max-age="600"`, 10 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.cc, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, keysTTL(tt.cc)); diff != "" {
				t.Errorf("keysTTL(%q) (-want +got):\n%s", tt.cc, diff)
			}
		})
	}
}
