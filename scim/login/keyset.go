package login

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Key set timing (OpenID Connect Core §10.1.1: a relying party that meets
// an unknown kid fetches the issuer's JWK Set again).
const (
	// keysRefetchInterval is the least time between two fetches of an
	// issuer's keys caused by a token the cached keys cannot verify, so a
	// provider that signs with a key it never publishes (or a stream of
	// forged tokens) costs one request per interval, not one per token.
	keysRefetchInterval = 30 * time.Second
	// keysDefaultTTL is how long fetched keys count as fresh when the keys
	// endpoint sends no usable Cache-Control max-age.
	keysDefaultTTL = time.Hour
	// keysMaxTTL caps a Cache-Control max-age; keysRefetchInterval is its
	// floor (no-store, no-cache and max-age=0 included).
	keysMaxTTL = 24 * time.Hour
	// maxKeysBody bounds a JWK Set response.
	maxKeysBody = 1 << 20
	// maxKeysInSet bounds the keys of a JWK Set (Okta publishes two or
	// three): a larger set is refused, not parsed, so that a token
	// without kid is never tried against thousands of keys.
	maxKeysInSet = 50
)

// acceptedAlgs are the only JWS algorithms an ID token may be signed with
// (RFC 7518 §3.1): RS256, which OpenID Connect Core §3.1.3.7 makes the
// default, and ES256. Never "none" and never an HMAC (HS*), whatever the
// token's header or the provider's discovery document says.
var acceptedAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256}

// acceptedAlgNames is acceptedAlgs for oidc.Config.SupportedSigningAlgs.
var acceptedAlgNames = []string{string(jose.RS256), string(jose.ES256)}

// minRSABits is the smallest RSA modulus a published key may have.
const minRSABits = 2048

// keySet is the oidc.KeySet of one issuer: its JWK Set (RFC 7517 §5),
// fetched from jwks_uri and cached in memory.
//
//   - A set of more than maxKeysInSet keys is refused whole (keys
//     unavailable, a 502 page), so a token without kid never costs
//     thousands of signature checks.
//   - Each JWK is parsed on its own; one this package cannot use (another
//     kty or curve, such as secp256k1 or OKP; a malformed modulus; private
//     or symmetric key material; "use" other than "sig"; a short RSA key)
//     is skipped with a debug log line, so it does not break sign-in.
//   - Keys are fresh for the keys endpoint's Cache-Control max-age,
//     clamped to [keysRefetchInterval, keysMaxTTL] (keysDefaultTTL
//     without one); stale keys are fetched again before use, and kept when
//     that fetch fails (retried after keysRefetchInterval).
//   - A token whose kid is not cached (or, without a kid, that no cached
//     key verifies) makes the set fetch the keys again, at most once per
//     keysRefetchInterval on the injected clock; callers that need keys
//     while a fetch is running wait for that fetch instead of starting
//     their own.
//   - Only RS256 (RSA keys) and ES256 (P-256 keys) verify.
type keySet struct {
	issuer  string
	url     string
	client  *http.Client
	now     func() time.Time
	timeout time.Duration
	log     *slog.Logger

	mu          sync.Mutex
	keys        []jose.JSONWebKey // usable keys of the last successful fetch
	loaded      bool              // a fetch has succeeded
	fresh       time.Time         // keys are fresh until then
	lastRefetch time.Time         // last refetch caused by an unverifiable token
	gen         int               // counts completed fetches
	inflight    *keysFetch
}

// keysFetch is a running fetch that several callers can wait for.
type keysFetch struct {
	done chan struct{}
	err  error
}

func newKeySet(issuer, jwksURL string, client *http.Client, now func() time.Time, timeout time.Duration, log *slog.Logger) *keySet {
	return &keySet{issuer: issuer, url: jwksURL, client: client, now: now, timeout: timeout, log: log}
}

// errKeysUnavailable marks a failure to read the issuer's keys (as opposed
// to a token they do not verify).
var errKeysUnavailable = errors.New("login: the provider's keys could not be read")

// ensure makes sure fresh keys are loaded, fetching them when there are
// none or they are stale. It fails only when no keys at all are known.
func (ks *keySet) ensure(ctx context.Context) error {
	ks.mu.Lock()
	stale := !ks.loaded || !ks.now().Before(ks.fresh)
	ks.mu.Unlock()
	if !stale {
		return nil
	}
	err := ks.fetch(ctx)
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.loaded {
		if err != nil {
			ks.log.WarnContext(ctx, "oidc keys: refresh failed; using the keys fetched before", "issuer", ks.issuer, "err", err)
		}
		return nil
	}
	return err
}

// fetch fetches the keys, or waits for the fetch already running.
func (ks *keySet) fetch(ctx context.Context) error {
	ks.mu.Lock()
	f := ks.startLocked(ctx)
	ks.mu.Unlock()
	return ks.wait(ctx, f)
}

// startLocked returns the running fetch, starting one if none runs. The
// fetch is not cancelled with ctx (others may wait for it); it has its own
// timeout. ks.mu must be held.
func (ks *keySet) startLocked(ctx context.Context) *keysFetch {
	if ks.inflight != nil {
		return ks.inflight
	}
	f := &keysFetch{done: make(chan struct{})}
	ks.inflight = f
	go func() {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ks.timeout)
		defer cancel()
		keys, ttl, err := ks.download(fctx)
		ks.mu.Lock()
		now := ks.now()
		if err == nil {
			ks.keys, ks.loaded, ks.fresh = keys, true, now.Add(ttl)
		} else if ks.loaded {
			// Keep the stale keys; try again after the interval.
			ks.fresh = now.Add(keysRefetchInterval)
		}
		ks.gen++
		ks.inflight = nil
		f.err = err
		ks.mu.Unlock()
		close(f.done)
	}()
	return f
}

// wait waits for f, or for ctx to end.
func (ks *keySet) wait(ctx context.Context, f *keysFetch) error {
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", errKeysUnavailable, ctx.Err())
	}
}

// download GETs the JWK Set and returns its usable keys and how long they
// are fresh.
func (ks *keySet) download(ctx context.Context) ([]jose.JSONWebKey, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ks.url, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", errKeysUnavailable, err)
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := ks.client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", errKeysUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxKeysBody+1))
	if err != nil {
		return nil, 0, fmt.Errorf("%w: read: %w", errKeysUnavailable, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("%w: %s answered %s", errKeysUnavailable, ks.url, resp.Status)
	}
	if len(body) > maxKeysBody {
		return nil, 0, fmt.Errorf("%w: %s sent more than %d bytes", errKeysUnavailable, ks.url, maxKeysBody)
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err == nil && mt != "application/json" && mt != "application/jwk-set+json" {
		return nil, 0, fmt.Errorf("%w: %s sent %s, not a JWK Set", errKeysUnavailable, ks.url, mt)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, 0, fmt.Errorf("%w: %s did not send a JWK Set: %w", errKeysUnavailable, ks.url, err)
	}
	if len(set.Keys) > maxKeysInSet {
		return nil, 0, fmt.Errorf("%w: %s publishes %d keys, more than %d", errKeysUnavailable, ks.url, len(set.Keys), maxKeysInSet)
	}
	var keys []jose.JSONWebKey
	for i, raw := range set.Keys {
		k, err := parseJWK(raw)
		if err != nil {
			ks.log.DebugContext(ctx, "oidc keys: skipped a key", "issuer", ks.issuer, "index", i, "kid", k.KeyID, "reason", err.Error())
			continue
		}
		keys = append(keys, k)
	}
	ks.log.DebugContext(ctx, "oidc keys fetched", "issuer", ks.issuer, "published", len(set.Keys), "usable", len(keys))
	return keys, keysTTL(resp.Header.Get("Cache-Control")), nil
}

// keysTTL reads max-age from a Cache-Control header (RFC 9111 §5.2.2.1)
// and clamps it.
func keysTTL(cc string) time.Duration {
	ttl := keysDefaultTTL
	for _, d := range strings.Split(cc, ",") {
		name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
		switch strings.ToLower(name) {
		case "no-store", "no-cache":
			return keysRefetchInterval
		case "max-age":
			n, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64)
			if err != nil || n < 0 {
				continue
			}
			if n > int64(keysMaxTTL/time.Second) {
				n = int64(keysMaxTTL / time.Second)
			}
			ttl = time.Duration(n) * time.Second
		}
	}
	return min(max(ttl, keysRefetchInterval), keysMaxTTL)
}

// parseJWK parses one JWK and says why it cannot be used, if it cannot.
// The returned key carries at least the kid when the JSON could be read.
func parseJWK(raw json.RawMessage) (jose.JSONWebKey, error) {
	var head struct {
		Kty, Kid, Use, Alg, Crv string
		D, P, Q, K              *string
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("not a JSON object: %w", err)
	}
	seen := jose.JSONWebKey{KeyID: head.Kid}
	switch {
	case head.D != nil || head.P != nil || head.Q != nil || head.K != nil:
		return seen, errors.New("holds private or symmetric key material")
	case head.Use != "" && head.Use != "sig":
		return seen, fmt.Errorf("use %q is not sig", head.Use)
	case head.Kty == "RSA" && head.Alg != "" && head.Alg != string(jose.RS256):
		return seen, fmt.Errorf("RSA key for alg %q", head.Alg)
	case head.Kty == "EC" && head.Crv != "P-256":
		return seen, fmt.Errorf("EC curve %q is not P-256", head.Crv)
	case head.Kty == "EC" && head.Alg != "" && head.Alg != string(jose.ES256):
		return seen, fmt.Errorf("EC key for alg %q", head.Alg)
	case head.Kty != "RSA" && head.Kty != "EC":
		return seen, fmt.Errorf("kty %q is not RSA or EC", head.Kty)
	}
	var k jose.JSONWebKey
	if err := json.Unmarshal(raw, &k); err != nil {
		return seen, fmt.Errorf("unparseable: %w", err)
	}
	switch pub := k.Key.(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < minRSABits {
			return seen, fmt.Errorf("RSA key of %d bits", pub.N.BitLen())
		}
		if pub.E < 3 || pub.E%2 == 0 {
			return seen, fmt.Errorf("RSA exponent %d", pub.E)
		}
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return seen, errors.New("EC key not on P-256")
		}
	default:
		return seen, fmt.Errorf("unsupported key %T", k.Key)
	}
	return k, nil
}

// fits reports whether key k can verify a signature of alg.
func fits(k jose.JSONWebKey, alg string) bool {
	if k.Algorithm != "" && k.Algorithm != alg {
		return false
	}
	switch k.Key.(type) {
	case *rsa.PublicKey:
		return alg == string(jose.RS256)
	case *ecdsa.PublicKey:
		return alg == string(jose.ES256)
	}
	return false
}

// VerifySignature implements oidc.KeySet: it checks the JWS signature of
// jwt against the issuer's keys and returns the payload. Claims are the
// verifier's business.
func (ks *keySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	jws, err := jose.ParseSigned(jwt, acceptedAlgs)
	if err != nil {
		return nil, fmt.Errorf("login: id token: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("login: id token: not exactly one signature")
	}
	h := jws.Signatures[0].Header
	ks.mu.Lock()
	gen := ks.gen
	ks.mu.Unlock()
	if err := ks.ensure(ctx); err != nil {
		return nil, err
	}
	payload, known, err := ks.try(jws, h.KeyID, h.Algorithm)
	if err == nil || known {
		return payload, err
	}
	// An unknown kid (or no kid, and no key that verifies): the provider
	// may have rotated its keys since they were fetched.
	f, refused := ks.refetch(ctx, gen)
	if refused {
		return nil, fmt.Errorf("%w (the keys were fetched again less than %v ago)", err, keysRefetchInterval)
	}
	if f != nil {
		ks.log.InfoContext(ctx, "oidc keys: fetching again for an unknown key", "issuer", ks.issuer, "kid", h.KeyID)
		if ferr := ks.wait(ctx, f); ferr != nil {
			return nil, fmt.Errorf("%w; fetching the keys again: %w", err, ferr)
		}
	}
	payload, _, err = ks.try(jws, h.KeyID, h.Algorithm)
	return payload, err
}

// refetch decides what a token that the keys of fetch generation gen did
// not verify may cause:
//   - a fetch completed since gen was read (this call's own first fetch
//     included): no request, the caller tries again with those keys (nil,
//     false); that fetch counts as the refetch for the interval;
//   - a fetch is running: wait for it (f, false), at no cost;
//   - a refetch within keysRefetchInterval: nothing (nil, true);
//   - else a new fetch (f, false), booked for the interval.
func (ks *keySet) refetch(ctx context.Context, gen int) (f *keysFetch, refused bool) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	now := ks.now()
	recent := !ks.lastRefetch.IsZero() && now.Sub(ks.lastRefetch) < keysRefetchInterval && now.Sub(ks.lastRefetch) >= 0
	switch {
	case ks.gen != gen:
		if !recent {
			ks.lastRefetch = now
		}
		return nil, false
	case ks.inflight != nil:
		return ks.inflight, false
	case recent:
		return nil, true
	}
	ks.lastRefetch = now
	return ks.startLocked(ctx), false
}

// try verifies jws with the cached keys: the key named kid, or without a
// kid every key that fits alg. known reports that kid names a cached key
// (a failure then is a bad signature, not a missing key).
func (ks *keySet) try(jws *jose.JSONWebSignature, kid, alg string) (payload []byte, known bool, err error) {
	ks.mu.Lock()
	keys := ks.keys
	ks.mu.Unlock()
	tried := 0
	for _, k := range keys {
		if kid != "" && k.KeyID != kid {
			continue
		}
		if kid != "" {
			known = true
		}
		if !fits(k, alg) {
			continue
		}
		tried++
		if p, err := jws.Verify(k.Key); err == nil {
			return p, known, nil
		}
	}
	switch {
	case known && tried == 0:
		return nil, true, fmt.Errorf("login: id token: key %q does not fit alg %s", kid, alg)
	case known:
		return nil, true, errors.New("login: id token: signature does not verify")
	case kid != "":
		return nil, false, fmt.Errorf("login: id token: signed by key %q, which the provider does not publish", kid)
	default:
		return nil, false, fmt.Errorf("login: id token without kid: none of %d published %s keys verifies it", tried, alg)
	}
}
