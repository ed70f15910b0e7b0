package server

import (
	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/secret"
	"github.com/idpkit/idpkit/scim/store"
)

// Passwords (RFC 7643 §4.1.1: writeOnly, returned never). A User's
// password is kept in the stored resource only as a PBKDF2 hash
// (secret.HashPassword) under "password"; render removes it from every
// response, filters and sortBy refuse it, and attribute projection never
// shows it. A PUT without a password keeps the stored hash; a PATCH that
// sets one hashes it anew; a PATCH that removes it clears it.

// hashPassword replaces the plaintext password of a resource read from a
// POST or PUT body with its hash; an empty password is dropped.
func hashPassword(res scim.Resource) error {
	pw, _ := res["password"].(string)
	if pw == "" {
		delete(res, "password")
		return nil
	}
	h, err := secret.HashPassword(pw)
	if err != nil {
		return err
	}
	res["password"] = h
	return nil
}

// keepPassword carries the stored password hash over into next, the
// resource a PUT writes, when the body sent none: password is writeOnly,
// so a client that replaces a user without it has not asked to clear it.
func keepPassword(rec *store.Record, next scim.Resource) {
	if _, ok := next["password"]; ok {
		return
	}
	cur, err := decodeData(*rec)
	if err != nil {
		return
	}
	if h, ok := cur["password"].(string); ok && h != "" {
		next["password"] = h
	}
}

// changedPassword looks at res, the result of a PATCH of cur. A password
// PATCH set anew (different from the stored hash) is replaced by its hash
// from hashes; when that hash is not computed yet, the plaintext is
// returned for the caller to hash outside the transaction. An empty
// password is dropped. It returns "" when res is ready to store.
func changedPassword(cur, res scim.Resource, hashes map[string]string) string {
	pw, _ := res["password"].(string)
	old, _ := cur["password"].(string)
	switch {
	case pw == "":
		delete(res, "password")
		return ""
	case pw == old:
		return ""
	}
	h, ok := hashes[pw]
	if !ok {
		return pw
	}
	res["password"] = h
	return ""
}
