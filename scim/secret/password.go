package secret

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// PasswordIterations is the PBKDF2 iteration count of HashPassword. At
// 100,000 rounds of HMAC-SHA-256 one hash costs about 25 ms on a small
// server core, which keeps a SCIM create that carries a password fast.
const PasswordIterations = 100_000

// passwordScheme names the algorithm in a stored password hash.
const passwordScheme = "pbkdf2-sha256"

// maxIterations bounds the iteration count VerifyPassword accepts from a
// stored string, so a corrupt record cannot stall a request.
const maxIterations = 10_000_000

// HashPassword returns the stored form of a password: PBKDF2 (RFC 8018
// §5.2) with HMAC-SHA-256, a random 16-byte salt and PasswordIterations
// rounds, written as "pbkdf2-sha256$<iterations>$<salt>$<key>" with salt
// and key in unpadded standard base64. The password itself is never kept.
func HashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	rand.Read(salt) // never returns an error (crypto/rand, Go 1.24+)
	key, err := pbkdf2.Key(sha256.New, password, salt, PasswordIterations, sha256.Size)
	if err != nil {
		return "", fmt.Errorf("secret: hash password: %w", err)
	}
	enc := base64.RawStdEncoding
	return passwordScheme + "$" + strconv.Itoa(PasswordIterations) + "$" + enc.EncodeToString(salt) + "$" + enc.EncodeToString(key), nil
}

// VerifyPassword reports, comparing in constant time, whether password is
// the one hashed into stored by HashPassword. A stored string that is not
// such a hash matches nothing.
func VerifyPassword(stored, password string) bool {
	iter, salt, key, ok := parsePasswordHash(stored)
	if !ok {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, password, salt, iter, len(key))
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(got, key) == 1
}

func parsePasswordHash(s string) (iter int, salt, key []byte, ok bool) {
	parts := strings.Split(s, "$")
	if len(parts) != 4 || parts[0] != passwordScheme {
		return 0, nil, nil, false
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < 1 || iter > maxIterations {
		return 0, nil, nil, false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[2])
	key, err2 := enc.DecodeString(parts[3])
	if err1 != nil || err2 != nil || len(salt) == 0 || len(key) == 0 {
		return 0, nil, nil, false
	}
	return iter, salt, key, true
}
