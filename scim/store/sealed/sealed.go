// Package sealed wraps a store.Store so that the secrets a tenant holds
// (today its OIDC client secret, store.Tenant.ClientSecret) are encrypted
// at rest with AES-256-GCM (NIST SP 800-38D) and decrypted on the way out.
// Every other method passes through to the wrapped store.
//
// A sealed value is stored as
//
//	enc:v1:<keyid>:<base64(nonce|ciphertext)>
//
// where keyid names the key it was sealed with (so that several keys can be
// given during a rotation) and the tenant's name is the additional
// authenticated data: a value copied to another tenant's row does not
// decrypt. Without keys, values are written and read as they are, but a
// sealed value read back is an error (ErrNoKey); with keys, a clear value
// is sealed on its tenant's next write.
package sealed

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/idpkit/idpkit/scim/store"
)

// Prefix starts every sealed value; a stored value without it is clear.
const Prefix = "enc:v1:"

// KeySize is the size of a key in bytes (AES-256).
const KeySize = 32

// Errors of decryption, matched with errors.Is.
var (
	// ErrNoKey: a sealed value was read but no key is configured.
	ErrNoKey = errors.New("sealed: the value is encrypted and no secret key is configured")
	// ErrUnknownKey: a sealed value names a key id that is not among the
	// keys given.
	ErrUnknownKey = errors.New("sealed: the value is encrypted under a key that is not given")
	// ErrDecrypt: the value does not decrypt with the key its id names:
	// a wrong key of the same id, a damaged value, or a value sealed for
	// another tenant.
	ErrDecrypt = errors.New("sealed: the value does not decrypt (damaged, or sealed for another tenant)")
	// ErrMalformed: a value with Prefix that is not of the sealed form.
	ErrMalformed = errors.New("sealed: malformed encrypted value")
)

// Keys are the keys a Store seals and opens values with: one primary key
// that seals, and older keys that still open values sealed under them.
// A nil *Keys means no key: values are stored in clear.
type Keys struct {
	primary string // key id
	aeads   map[string]cipher.AEAD
}

// ParseKey decodes a key as IDPKIT_SECRET_KEY and --secret-key-file hold
// it: the base64 (standard or URL alphabet, padded or not) of 32 bytes,
// surrounding white space ignored.
func ParseKey(text []byte) ([]byte, error) {
	s := strings.TrimSpace(string(text))
	if s == "" {
		return nil, errors.New("sealed: the secret key is empty: want the base64 of 32 random bytes (openssl rand -base64 32)")
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) != KeySize {
				return nil, fmt.Errorf("sealed: the secret key is %d bytes, want %d: the base64 of 32 random bytes (openssl rand -base64 32)", len(k), KeySize)
			}
			return k, nil
		}
	}
	return nil, errors.New("sealed: the secret key is not base64: want the base64 of 32 random bytes (openssl rand -base64 32)")
}

// NewKeys returns keys that seal with primary and open values sealed with
// primary or any of older. Each key is KeySize bytes.
func NewKeys(primary []byte, older ...[]byte) (*Keys, error) {
	k := &Keys{aeads: map[string]cipher.AEAD{}}
	for i, key := range append([][]byte{primary}, older...) {
		if len(key) != KeySize {
			return nil, fmt.Errorf("sealed: key %d is %d bytes, want %d", i, len(key), KeySize)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("sealed: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("sealed: %w", err)
		}
		id := KeyID(key)
		if i == 0 {
			k.primary = id
		}
		if _, dup := k.aeads[id]; !dup {
			k.aeads[id] = aead
		}
	}
	return k, nil
}

// KeyID names a key without revealing it: the first 8 bytes, in hex, of
// HMAC-SHA-256 under the key of a fixed label.
func KeyID(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("idpkit secret key id"))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// ID returns the id of the primary key; "" for nil Keys.
func (k *Keys) ID() string {
	if k == nil {
		return ""
	}
	return k.primary
}

// OlderIDs returns the ids of the keys other than the primary one (read
// from, never written with), sorted; nil for nil Keys.
func (k *Keys) OlderIDs() []string {
	if k == nil {
		return nil
	}
	var ids []string
	for id := range k.aeads {
		if id != k.primary {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// IsSealed tells whether a stored value is in the sealed form (starts
// with Prefix).
func IsSealed(v string) bool { return strings.HasPrefix(v, Prefix) }

// SealedKeyID returns the key id a sealed value names, or "" when v is
// not sealed or malformed.
func SealedKeyID(v string) string {
	rest, ok := strings.CutPrefix(v, Prefix)
	if !ok {
		return ""
	}
	id, _, ok := strings.Cut(rest, ":")
	if !ok {
		return ""
	}
	return id
}

// Seal encrypts plain under the primary key for the tenant named aad.
// An empty plain stays empty (nothing to hide, and "not configured" stays
// recognisable).
func (k *Keys) Seal(plain, aad string) (string, error) {
	if plain == "" {
		return "", nil
	}
	if k == nil {
		return "", ErrNoKey
	}
	aead := k.aeads[k.primary]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("sealed: nonce: %w", err)
	}
	out := aead.Seal(nonce, nonce, []byte(plain), []byte(aad))
	return Prefix + k.primary + ":" + base64.RawStdEncoding.EncodeToString(out), nil
}

// Open decrypts a value Seal returned for the tenant named aad. A value
// that is not sealed is returned as it is. Errors match ErrNoKey,
// ErrUnknownKey, ErrDecrypt or ErrMalformed.
func (k *Keys) Open(v, aad string) (string, error) {
	rest, ok := strings.CutPrefix(v, Prefix)
	if !ok {
		return v, nil
	}
	id, body, ok := strings.Cut(rest, ":")
	if !ok || id == "" {
		return "", ErrMalformed
	}
	if k == nil {
		return "", fmt.Errorf("%w (key id %s)", ErrNoKey, id)
	}
	aead, ok := k.aeads[id]
	if !ok {
		return "", fmt.Errorf("%w (key id %s)", ErrUnknownKey, id)
	}
	raw, err := base64.RawStdEncoding.DecodeString(body)
	if err != nil || len(raw) < aead.NonceSize()+aead.Overhead() {
		return "", ErrMalformed
	}
	n := aead.NonceSize()
	plain, err := aead.Open(nil, raw[:n], raw[n:], []byte(aad))
	if err != nil {
		return "", fmt.Errorf("%w (key id %s)", ErrDecrypt, id)
	}
	return string(plain), nil
}

var _ store.Store = (*Store)(nil)

// Store is a store.Store that seals tenants' secrets in the store it
// wraps. Create it with New.
type Store struct {
	store.Store
	keys *Keys
}

// New wraps inner; keys may be nil (no key: values stay clear, and a
// sealed value read is an error matching ErrNoKey).
func New(inner store.Store, keys *Keys) *Store {
	return &Store{Store: inner, keys: keys}
}

// Unwrap returns the wrapped store.
func (s *Store) Unwrap() store.Store { return s.Store }

// Ping asks the wrapped store's Ping when it has one (sqlstore does), else
// reads a tenant that cannot exist, as /readyz would.
func (s *Store) Ping(ctx context.Context) error {
	if p, ok := s.Store.(interface{ Ping(context.Context) error }); ok {
		return p.Ping(ctx)
	}
	if _, err := s.Store.GetTenant(ctx, ""); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

// seal returns t with its secrets sealed (when there are keys).
func (s *Store) seal(t store.Tenant) (store.Tenant, error) {
	if s.keys == nil {
		// Without a key the value is stored as given.
		return t, nil
	}
	v, err := s.keys.Seal(t.ClientSecret, t.Name)
	if err != nil {
		return t, fmt.Errorf("sealed: tenant %q: %w", t.Name, err)
	}
	t.ClientSecret = v
	return t, nil
}

// open returns t with its secrets decrypted.
func (s *Store) open(t store.Tenant) (store.Tenant, error) {
	v, err := s.keys.Open(t.ClientSecret, t.Name)
	if err != nil {
		return t, fmt.Errorf("sealed: tenant %q client secret: %w", t.Name, err)
	}
	t.ClientSecret = v
	return t, nil
}

// openLenient is open for readers: a secret that does not open is
// reported in ClientSecretErr (ClientSecret empty), not as an error, so
// that what needs no secret (the SCIM service, the admin settings) keeps
// working with a key that is missing or not the secret's.
func (s *Store) openLenient(t store.Tenant) store.Tenant {
	o, err := s.open(t)
	if err != nil {
		t.ClientSecret, t.ClientSecretErr = "", err
		return t
	}
	return o
}

// CreateTenant stores t with its secrets sealed.
func (s *Store) CreateTenant(ctx context.Context, t store.Tenant) error {
	t, err := s.seal(t)
	if err != nil {
		return err
	}
	return s.Store.CreateTenant(ctx, t)
}

// GetTenant returns the tenant with its secrets decrypted; a secret that
// does not open leaves ClientSecret empty and sets ClientSecretErr.
func (s *Store) GetTenant(ctx context.Context, name string) (store.Tenant, error) {
	t, err := s.Store.GetTenant(ctx, name)
	if err != nil {
		return t, err
	}
	return s.openLenient(t), nil
}

// UpdateTenant calls update on the tenant with its secrets decrypted and
// writes the result sealed under the primary key: a clear value is
// sealed, and one sealed under an older key is sealed again. When the
// stored secret does not open (ClientSecretErr is set for update), an
// update that leaves ClientSecret empty writes the stored value back as
// it was, and one that sets a new secret replaces it. Without a key, a
// new secret is refused (ErrNoKey) where the stored one is sealed: this
// instance would write in clear what the others encrypt.
func (s *Store) UpdateTenant(ctx context.Context, name string, update func(*store.Tenant) error) (store.Tenant, error) {
	out, err := s.Store.UpdateTenant(ctx, name, func(t *store.Tenant) error {
		stored := t.ClientSecret
		o := s.openLenient(*t)
		unreadable := o.ClientSecretErr
		if err := update(&o); err != nil {
			return err
		}
		o.ClientSecretErr = nil
		if unreadable != nil && o.ClientSecret == "" {
			o.ClientSecret = stored
			*t = o
			return nil
		}
		if s.keys == nil && IsSealed(stored) && o.ClientSecret != "" {
			return fmt.Errorf("sealed: tenant %q: the stored client secret is encrypted and this server has no secret key to encrypt the new one: %w", name, ErrNoKey)
		}
		// A changed Name is refused by the wrapped store, which the
		// additional data (the name) relies on.
		sealed, err := s.seal(o)
		if err != nil {
			return err
		}
		*t = sealed
		return nil
	})
	if err != nil {
		return store.Tenant{}, err
	}
	return s.openLenient(out), nil
}

// Check reads each named tenant and returns the first error opening its
// secrets: ErrNoKey when a tenant holds a sealed value and no key is
// given, ErrUnknownKey or ErrDecrypt when the keys given are not the ones
// it was sealed with. A tenant that no longer exists is skipped.
func (s *Store) Check(ctx context.Context, names []string) error {
	for _, n := range names {
		t, err := s.Store.GetTenant(ctx, n)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if _, err := s.open(t); err != nil {
			return err
		}
	}
	return nil
}

// Rotate seals the secrets of each named tenant under the primary key, each
// tenant in its own UpdateTenant, so that a rotation stopped half-way is
// finished by running it again. Tenants whose secrets are empty or already
// sealed under the primary key are left alone. It returns the tenants it
// rewrote, in the order of names, also when it stops at an error.
func (s *Store) Rotate(ctx context.Context, names []string) ([]string, error) {
	if s.keys == nil {
		return nil, ErrNoKey
	}
	var done []string
	for _, name := range names {
		raw, err := s.Store.GetTenant(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return done, err
		}
		if raw.ClientSecret == "" || SealedKeyID(raw.ClientSecret) == s.keys.primary {
			continue
		}
		// A secret none of the keys opens is an error, not something to
		// write back as it is.
		if _, err := s.open(raw); err != nil {
			return done, err
		}
		if _, err := s.UpdateTenant(ctx, name, func(*store.Tenant) error { return nil }); err != nil {
			return done, err
		}
		done = append(done, name)
	}
	return done, nil
}
