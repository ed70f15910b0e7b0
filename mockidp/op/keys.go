package op

import (
	"crypto"
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
// a long max-age; clients that meet an unknown kid refetch anyway.
const keysMaxAge = 24 * time.Hour

// maxPublished is how many keys the JWKS holds at most: the retired key
// (still published so its tokens verify), the signing key and the next key.
const maxPublished = 3

// signingKey is one RSA key and a go-jose signer over it.
type signingKey struct {
	kid    string
	public *rsa.PublicKey
	priv   crypto.Signer
	signer jose.Signer
}

// keySet holds the published keys, oldest first. The signing key is the
// second newest: the newest is published ahead of use, as Okta does.
type keySet struct {
	mu   sync.RWMutex
	keys []*signingKey
}

func newKeySet(signers []crypto.Signer) (*keySet, error) {
	ks := &keySet{}
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

func signingKeyFrom(s crypto.Signer) (*signingKey, error) {
	pub, ok := s.Public().(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("op: signing key is not RSA")
	}
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("op: key thumbprint: %w", err)
	}
	kid := base64.RawURLEncoding.EncodeToString(tp)
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey("kid"), kid)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: cryptosigner.Opaque(s)}, opts)
	if err != nil {
		return nil, fmt.Errorf("op: signer: %w", err)
	}
	return &signingKey{kid: kid, public: pub, priv: s, signer: signer}, nil
}

// RotateKeys publishes a new key and starts signing with the key that was
// published as next. The key that signed until now stays published for one
// more rotation, so tokens it signed still verify; older keys are dropped.
// The JWKS then holds three keys. If key generation fails, nothing changes
// and the failure is logged.
func (p *Provider) RotateKeys() {
	k, err := newSigningKey()
	if err != nil {
		p.log.Error("op: rotate keys", "err", err)
		return
	}
	ks := p.keys
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.keys = append(ks.keys, k)
	if len(ks.keys) > maxPublished {
		ks.keys = ks.keys[len(ks.keys)-maxPublished:]
	}
}

// current is the signing key.
func (ks *keySet) current() *signingKey {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	return ks.keys[len(ks.keys)-2]
}

func (ks *keySet) lookup(kid string) (*rsa.PublicKey, bool) {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	for _, k := range ks.keys {
		if k.kid == kid {
			return k.public, true
		}
	}
	return nil, false
}

func (ks *keySet) jwks() jose.JSONWebKeySet {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	var set jose.JSONWebKeySet
	for _, k := range ks.keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.public, KeyID: k.kid, Algorithm: string(jose.RS256), Use: "sig"})
	}
	return set
}

// sign serialises claims as a compact JWS with the current key.
func (ks *keySet) sign(claims map[string]any) (string, error) {
	raw, err := jwt.Signed(ks.current().signer).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("op: sign token: %w", err)
	}
	return raw, nil
}

// verify checks a compact JWS against the published keys and returns its
// claims. It checks neither issuer nor time; callers do.
func (ks *keySet) verify(raw string) (map[string]any, error) {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, fmt.Errorf("op: parse token: %w", err)
	}
	if len(tok.Headers) != 1 {
		return nil, errors.New("op: token has no single signature")
	}
	pub, ok := ks.lookup(tok.Headers[0].KeyID)
	if !ok {
		return nil, errors.New("op: token signed by an unknown key")
	}
	claims := map[string]any{}
	if err := tok.Claims(pub, &claims); err != nil {
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
	for _, k := range p.keys.jwks().Keys {
		b, err := json.Marshal(k)
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
	w.Header().Set("Cache-Control", fmt.Sprintf("max-age=%d, must-revalidate", int(keysMaxAge.Seconds())))
	w.Write(body)
}

// atHash is OIDC Core §3.1.3.6 at_hash for RS256: the left half of the
// SHA-256 of the access token, base64url without padding.
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
