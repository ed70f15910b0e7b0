package server

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/store"
)

// etag is the weak entity tag of a stored version (RFC 7644 §3.14); it is
// the whole tag of a Group and of a User in no group.
func etag(version int64) string { return `W/"` + strconv.FormatInt(version, 10) + `"` }

// userTag is the entity tag of a User at a stored version with its
// computed "groups" (RFC 7643 §4.1.2): etag(version) without groups, else
// W/"<version>-<8 hex digits>", the digits the start of a SHA-256 over the
// sorted (id, display) pairs of its groups. Joining, leaving, or the
// rename of a group thus changes the tag although the stored user did not
// change.
func userTag(version int64, groups []store.GroupRef) string {
	if len(groups) == 0 {
		return etag(version)
	}
	pairs := make([][2]string, 0, len(groups))
	for _, g := range groups {
		pairs = append(pairs, [2]string{g.ID, g.DisplayName})
	}
	slices.SortFunc(pairs, func(a, b [2]string) int {
		return cmp.Or(strings.Compare(a[0], b[0]), strings.Compare(a[1], b[1]))
	})
	data, _ := json.Marshal(pairs) // strings only: never fails
	sum := sha256.Sum256(data)
	return `W/"` + strconv.FormatInt(version, 10) + "-" + hex.EncodeToString(sum[:4]) + `"`
}

// conditional reports whether a request carries If-Match or If-None-Match.
func conditional(r *request) bool {
	return strings.TrimSpace(strings.Join(r.Header.Values("If-Match"), "")) != "" ||
		strings.TrimSpace(strings.Join(r.Header.Values("If-None-Match"), "")) != ""
}

// checkPreconditions applies the If-Match and If-None-Match of a PUT,
// PATCH or DELETE to tag, the resource's current entity tag: 412 when
// If-Match names no tag that matches (RFC 7232 §3.1, RFC 7644 §3.14), and
// 412 when If-None-Match is "*" (the resource exists) or names the
// current tag (RFC 7232 §3.2).
func checkPreconditions(r *request, tag string) error {
	if h := strings.Join(r.Header.Values("If-Match"), ","); strings.TrimSpace(h) != "" && !tagMatches(h, tag) {
		return scim.Errorf(http.StatusPreconditionFailed, "", "the resource has changed: If-Match %s does not match the current version %s", h, tag)
	}
	if h := strings.Join(r.Header.Values("If-None-Match"), ","); strings.TrimSpace(h) != "" && tagMatches(h, tag) {
		return scim.Errorf(http.StatusPreconditionFailed, "", "If-None-Match %s matches the current version %s, so the resource was left unchanged", h, tag)
	}
	return nil
}

// notModified reports whether a GET's If-None-Match names a tag that
// matches tag, so the answer is 304 (RFC 7232 §3.2).
func notModified(r *request, tag string) bool {
	h := strings.Join(r.Header.Values("If-None-Match"), ",")
	return strings.TrimSpace(h) != "" && tagMatches(h, tag)
}

// tagMatches reports whether a comma-separated list of entity tags
// names tag. "*" matches any; strong and weak tags compare by value, and
// a value sent without quotes is accepted too.
func tagMatches(list, tag string) bool {
	want := opaqueTag(tag)
	for t := range strings.SplitSeq(list, ",") {
		t = strings.TrimSpace(t)
		if t == "*" {
			return true
		}
		if t != "" && opaqueTag(t) == want {
			return true
		}
	}
	return false
}

// opaqueTag is the value of an entity tag without W/ and quotes.
func opaqueTag(tag string) string {
	return strings.Trim(strings.TrimPrefix(strings.TrimSpace(tag), "W/"), `"`)
}

// tagOf is the entity tag (and meta.version) of a stored resource: a
// User's reflects its groups (userTag), a Group's is its stored version.
func tagOf(k *kind, rec store.Record, groups []store.GroupRef) string {
	if k.typ == store.TypeUser {
		return userTag(rec.Version, groups)
	}
	return etag(rec.Version)
}

// guard checks the If-Match and If-None-Match of a PUT or PATCH of id and
// returns the check to run inside the store's update transaction. A
// Group's tag is its stored version, checked in the transaction. A User's
// also depends on its groups (GroupsOf), which the transaction does not
// read: the headers are checked here against the tag of the user as read
// now, and the returned check makes the update fail with 412 when the
// stored version is no longer the one that tag was computed from.
func (s *Server) guard(k *kind, r *request, id string) (func(rec *store.Record) error, error) {
	if k.typ != store.TypeUser {
		return func(rec *store.Record) error { return checkPreconditions(r, etag(rec.Version)) }, nil
	}
	if !conditional(r) {
		return func(*store.Record) error { return nil }, nil
	}
	rec, err := s.store.GetResource(r.Context(), r.tenant, k.typ, id)
	if err != nil {
		return nil, s.storeError(k, id, nil, err)
	}
	groups, err := s.groupsOf(r, k, id)
	if err != nil {
		return nil, err
	}
	tag := tagOf(k, rec, groups)
	if err := checkPreconditions(r, tag); err != nil {
		return nil, err
	}
	return func(cur *store.Record) error {
		if cur.Version != rec.Version {
			return scim.Errorf(http.StatusPreconditionFailed, "", "the resource changed after it was checked against the current version %s; read it again", tag)
		}
		return nil
	}, nil
}

// errUnchanged aborts an update transaction that would write the resource
// as it is stored; the caller answers with the record it read, whose
// version, lastModified and ETag stay as they were.
var errUnchanged = errors.New("scim/server: nothing to change")

// sameData reports whether next, a resource about to be stored, holds the
// same data as cur, the stored one, ignoring id and meta (which the server
// writes): their canonical JSON (encoding/json sorts object keys) is
// compared byte for byte.
func sameData(cur, next scim.Resource) bool {
	a, err1 := canonicalData(cur)
	b, err2 := canonicalData(next)
	return err1 == nil && err2 == nil && bytes.Equal(a, b)
}

func canonicalData(res scim.Resource) ([]byte, error) {
	c := make(scim.Resource, len(res))
	for k, v := range res {
		if k == "id" || k == "meta" {
			continue
		}
		c[k] = v
	}
	return json.Marshal(c)
}
