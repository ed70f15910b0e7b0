package server

import (
	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/secret"
	"github.com/idpkit/idpkit/scim/store"
)

// Passwords (RFC 7643 §4.1.1: writeOnly, returned never). By default
// (Config.KeepPasswordHashes false) a pushed password is accepted and
// dropped: it is never stored in any form. With KeepPasswordHashes a
// User's password is kept in the stored resource only as a PBKDF2 hash
// (secret.HashPassword) under "password". Either way render removes it
// from every response, filters and sortBy refuse it, and attribute
// projection never shows it. With hashes kept, a PUT without a password
// keeps the stored hash; a PATCH that sets one hashes it anew; a PATCH
// that removes it clears it.

// handlePassword replaces the plaintext password of a resource read from
// a POST or PUT body with its hash, or drops it when hashes are not kept;
// an empty password is dropped.
func (s *Server) handlePassword(res scim.Resource) error {
	pw, _ := res["password"].(string)
	if pw == "" || !s.keepHashes {
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
// resource a PUT writes, when the body sent none and hashes are kept:
// password is writeOnly, so a client that replaces a user without it has
// not asked to clear it. Without KeepPasswordHashes a PUT leaves no hash.
func (s *Server) keepPassword(rec *store.Record, next scim.Resource) {
	if _, ok := next["password"]; ok || !s.keepHashes {
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

// changedPassword looks at res, the result of a PATCH of cur. Without
// KeepPasswordHashes a password is dropped. Otherwise a password set
// anew (different from the stored hash) is replaced by its hash from
// hashes; when that hash is not computed yet, the plaintext is returned
// for the caller to hash outside the transaction. An empty password is
// dropped. It returns "" when res is ready to store.
func (s *Server) changedPassword(cur, res scim.Resource, hashes map[string]string) string {
	pw, _ := res["password"].(string)
	old, _ := cur["password"].(string)
	switch {
	case !s.keepHashes:
		// A hash kept from when hashes were kept stays only while the
		// PATCH leaves the password alone.
		if pw == "" || pw != old {
			delete(res, "password")
		}
		return ""
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
