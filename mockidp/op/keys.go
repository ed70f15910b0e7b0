package op

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"
	"github.com/go-jose/go-jose/v4/jwt"
)

// keysMaxAge is the Cache-Control max-age of the keys endpoint. Okta serves
// a long max-age; clients that meet an unknown kid refetch anyway. Near a
// scheduled rotation the max-age shrinks to the time left (keysMinMaxAge at
// least), so a cached JWKS never outlives the key set it shows by much.
const (
	keysMaxAge    = 24 * time.Hour
	keysMinMaxAge = 60 * time.Second
)

// maxPublished is how many RSA keys the JWKS holds at most: the retired
// key (still published so its tokens verify), the signing key and the next
// key.
const maxPublished = 3

// Signing algorithms of Client.SigningAlg.
const (
	AlgRS256 = "RS256"
	AlgES256 = "ES256"
)

// signingKey is one key and a go-jose signer over it. RSA keys (alg RS256)
// set public; the EC P-256 key (alg ES256) sets ecPublic.
type signingKey struct {
	kid      string
	alg      jose.SignatureAlgorithm
	public   *rsa.PublicKey
	ecPublic *ecdsa.PublicKey
	priv     crypto.Signer
	signer   jose.Signer
}

// publicKey is the key's public half as go-jose takes it.
func (k *signingKey) publicKey() any {
	if k.ecPublic != nil {
		return k.ecPublic
	}
	return k.public
}

// keySet holds the published RSA keys, oldest first, and the one EC key.
// The RSA signing key is the second newest: the newest is published ahead
// of use, as Okta does. The EC key is published only while ES256 is on
// (see Provider.es256On).
type keySet struct {
	mu   sync.RWMutex
	keys []*signingKey
	ec   *signingKey
}

func newKeySet(signers []crypto.Signer) (*keySet, error) {
	ks := &keySet{}
	ec, err := newECKey()
	if err != nil {
		return nil, err
	}
	ks.ec = ec
	if signers == nil {
		for range 2 {
			k, err := newSigningKey()
			if err != nil {
				return nil, err
			}
			ks.keys = append(ks.keys, k)
		}
		return ks, nil
	}
	if len(signers) != 2 {
		return nil, fmt.Errorf("op: SigningKeys holds %d keys, want 2", len(signers))
	}
	for _, s := range signers {
		k, err := signingKeyFrom(s)
		if err != nil {
			return nil, err
		}
		if k.public.N.BitLen() < 2048 {
			return nil, errors.New("op: signing key is shorter than 2048 bits")
		}
		ks.keys = append(ks.keys, k)
	}
	if ks.keys[0].kid == ks.keys[1].kid {
		return nil, errors.New("op: SigningKeys holds the same key twice")
	}
	return ks, nil
}

// newSigningKey generates an RSA-2048 key whose kid is its RFC 7638
// thumbprint, and a signer that reaches it only through crypto.Signer.
func newSigningKey() (*signingKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("op: generate key: %w", err)
	}
	return signingKeyFrom(priv)
}

// newECKey generates the EC P-256 key that signs ES256 ID tokens.
func newECKey() (*signingKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("op: generate EC key: %w", err)
	}
	return keyFrom(priv, jose.ES256)
}

func signingKeyFrom(s crypto.Signer) (*signingKey, error) {
	if _, ok := s.Public().(*rsa.PublicKey); !ok {
		return nil, errors.New("op: signing key is not RSA")
	}
	return keyFrom(s, jose.RS256)
}

// keyFrom builds a signingKey for an RSA (RS256) or EC P-256 (ES256) signer.
func keyFrom(s crypto.Signer, alg jose.SignatureAlgorithm) (*signingKey, error) {
	k := &signingKey{alg: alg, priv: s}
	switch pub := s.Public().(type) {
	case *rsa.PublicKey:
		k.public = pub
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return nil, errors.New("op: EC signing key is not on P-256")
		}
		k.ecPublic = pub
	default:
		return nil, fmt.Errorf("op: unsupported signing key %T", pub)
	}
	tp, err := (&jose.JSONWebKey{Key: k.publicKey()}).Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("op: key thumbprint: %w", err)
	}
	k.kid = base64.RawURLEncoding.EncodeToString(tp)
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey("kid"), k.kid)
	k.signer, err = jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: cryptosigner.Opaque(s)}, opts)
	if err != nil {
		return nil, fmt.Errorf("op: signer: %w", err)
	}
	return k, nil
}

// RotateKeys publishes a new key and starts signing with the key that was
// published as next. The key that signed until now stays published for one
// more rotation, so tokens it signed still verify; older keys are dropped.
// The JWKS then holds three RSA keys. If key generation fails, nothing
// changes and the failure is logged. It does not move the schedule of
// Config.RotateEvery. Only the RSA keys rotate; the ES256 key stays.
func (p *Provider) RotateKeys() {
	p.rotateIfDue()
	p.rotateOnce()
}

func (p *Provider) rotateOnce() {
	k, err := newSigningKey()
	if err != nil {
		p.log.Error("op: rotate keys", "err", err)
		return
	}
	p.keys.rotate(k)
	p.log.Info("op: keys rotated", "signing", p.keys.current().kid, "next", k.kid)
}

// rotate appends k as the next key and drops keys beyond maxPublished.
func (ks *keySet) rotate(k *signingKey) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.keys = append(ks.keys, k)
	if len(ks.keys) > maxPublished {
		ks.keys = append([]*signingKey(nil), ks.keys[len(ks.keys)-maxPublished:]...)
	}
}

// rotation is the schedule of Config.RotateEvery on the provider's clock.
type rotation struct {
	mu    sync.Mutex
	every time.Duration
	next  time.Time
}

// rotateIfDue rotates once for every period of Config.RotateEvery that
// has ended since the last scheduled rotation (at most maxPublished times,
// since more would only replace the same keys again). It is called at the
// top of every request, so moving the clock on (FastForward) rotates at
// the next request.
func (p *Provider) rotateIfDue() {
	r := &p.rotation
	if r.every <= 0 {
		return
	}
	now := p.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if soonest := now.Add(r.every); r.next.After(soonest) {
		// The clock moved back (the mock's clock reset): the next
		// rotation is one period from now, not from the later time.
		r.next = soonest
	}
	if now.Before(r.next) {
		return
	}
	n := int64(now.Sub(r.next)/r.every) + 1
	r.next = r.next.Add(time.Duration(n) * r.every)
	for range min(n, maxPublished) {
		p.rotateOnce()
	}
}

// keysCacheControl is the keys endpoint's Cache-Control value.
func (p *Provider) keysCacheControl() string {
	age := keysMaxAge
	if r := &p.rotation; r.every > 0 {
		r.mu.Lock()
		left := r.next.Sub(p.now())
		r.mu.Unlock()
		age = min(age, max(left, keysMinMaxAge))
	}
	return fmt.Sprintf("max-age=%d, must-revalidate", int(age/time.Second))
}

// KeyIDs returns the kids the keys endpoint publishes now (RSA keys oldest
// first, then the ES256 key when it is published) and the kid of the RSA
// key that signs.
func (p *Provider) KeyIDs() (published []string, signing string) {
	p.rotateIfDue()
	for _, k := range p.keys.published(p.es256On()) {
		published = append(published, k.kid)
	}
	return published, p.keys.current().kid
}

// current is the RSA signing key.
func (ks *keySet) current() *signingKey {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	return ks.keys[len(ks.keys)-2]
}

// published are the keys of the JWKS: the RSA keys and, with ec, the EC key.
func (ks *keySet) published(ec bool) []*signingKey {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	out := append([]*signingKey(nil), ks.keys...)
	if ec {
		out = append(out, ks.ec)
	}
	return out
}

// lookup finds a key by kid among the RSA keys and the EC key (which
// verifies whether or not it is published right now).
func (ks *keySet) lookup(kid string) (*signingKey, bool) {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	for _, k := range ks.keys {
		if k.kid == kid {
			return k, true
		}
	}
	if ks.ec.kid == kid {
		return ks.ec, true
	}
	return nil, false
}

// jwks is the RSA keys' JWK Set (the EC key is added by the endpoint).
func (ks *keySet) jwks() jose.JSONWebKeySet {
	var set jose.JSONWebKeySet
	for _, k := range ks.published(false) {
		set.Keys = append(set.Keys, k.jwk())
	}
	return set
}

func (k *signingKey) jwk() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.publicKey(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}
}

// sign serialises claims as a compact JWS with the current RSA key.
func (ks *keySet) sign(claims map[string]any) (string, error) {
	return signWith(ks.current(), claims)
}

// signWith serialises claims as a compact JWS with k.
func signWith(k *signingKey, claims map[string]any) (string, error) {
	raw, err := jwt.Signed(k.signer).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("op: sign token: %w", err)
	}
	return raw, nil
}

// verify checks a compact JWS (RS256 or ES256) against the provider's keys
// and returns its claims. It checks neither issuer nor time; callers do.
func (ks *keySet) verify(raw string) (map[string]any, error) {
	return ks.verifyAlgs(raw, jose.RS256, jose.ES256)
}

// verifyAlgs is verify limited to the given algorithms; the header's alg
// must also be the alg of the key its kid names.
func (ks *keySet) verifyAlgs(raw string, algs ...jose.SignatureAlgorithm) (map[string]any, error) {
	tok, err := jwt.ParseSigned(raw, algs)
	if err != nil {
		return nil, fmt.Errorf("op: parse token: %w", err)
	}
	if len(tok.Headers) != 1 {
		return nil, errors.New("op: token has no single signature")
	}
	k, ok := ks.lookup(tok.Headers[0].KeyID)
	if !ok {
		return nil, errors.New("op: token signed by an unknown key")
	}
	if tok.Headers[0].Algorithm != string(k.alg) {
		return nil, errors.New("op: token alg does not match its key")
	}
	claims := map[string]any{}
	if err := tok.Claims(k.publicKey(), &claims); err != nil {
		return nil, fmt.Errorf("op: verify token: %w", err)
	}
	return claims, nil
}

// handleKeys serves the JWK Set (RFC 7517 §5).
func (p *Provider) handleKeys(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeOAuthError(w, http.StatusMethodNotAllowed, errInvalidRequest, "The keys endpoint accepts only GET.")
		return
	}
	var keys []json.RawMessage
	for _, k := range p.keys.published(p.es256On()) {
		b, err := json.Marshal(k.jwk())
		if err != nil {
			writeOAuthError(w, http.StatusInternalServerError, "server_error", "The keys could not be encoded.")
			return
		}
		keys = append(keys, b)
	}
	body, err := json.Marshal(map[string]any{"keys": p.jwksFault(keys)})
	if err != nil {
		writeOAuthError(w, http.StatusInternalServerError, "server_error", "The keys could not be encoded.")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", p.keysCacheControl())
	w.Write(body)
}

// atHash is OIDC Core §3.1.3.6 at_hash: the left half of the hash of the
// access token, base64url without padding. The hash is the one of the ID
// token's alg; RS256 and ES256, the two this provider signs with, both use
// SHA-256.
func atHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

// randomID returns n random characters of the base64url alphabet.
func randomID(n int) string {
	b := make([]byte, (n*6+7)/8)
	rand.Read(b)
	s := base64.RawURLEncoding.EncodeToString(b)
	return s[:n]
}
