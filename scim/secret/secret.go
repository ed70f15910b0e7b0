// Package secret makes and checks the bearer secrets idpkit hands out (SCIM
// tokens, one-time admin links, session ids). Secrets carry 256 bits from
// crypto/rand; only their SHA-256 hash is stored, and checks compare hashes
// in constant time (RFC 6750 §5.3 asks that bearer tokens resist guessing).
//
// Passwords that SCIM clients send (RFC 7643 §4.1.1) are another matter:
// they are chosen by people, so HashPassword stretches them with PBKDF2
// (RFC 8018) and a random salt, and VerifyPassword checks one.
package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
)

// New returns a fresh URL-safe secret of 43 characters (256 bits).
func New() string {
	b := make([]byte, 32)
	rand.Read(b) // never returns an error (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Hash returns the SHA-256 of s, the form in which secrets are stored.
func Hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// HashString returns Hash(s) in hex, for use as a store key.
func HashString(s string) string { return hex.EncodeToString(Hash(s)) }

// Equal reports, in constant time, whether s hashes to hash.
func Equal(hash []byte, s string) bool {
	if len(hash) != sha256.Size {
		return false
	}
	return subtle.ConstantTimeCompare(hash, Hash(s)) == 1
}
