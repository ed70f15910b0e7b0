package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/patch"
	"github.com/idpkit/idpkit/scim/secret"
	"github.com/idpkit/idpkit/scim/store"
)

// timeFormat is how meta.created and meta.lastModified are written
// (xsd:dateTime, RFC 7643 §2.3.5), in UTC with milliseconds.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

// maxAttempts bounds how often a PATCH of a group is retried when the
// members it adds had to be looked up outside the store transaction.
const maxAttempts = 5

// create handles POST /Users and /Groups (RFC 7644 §3.3).
func (s *Server) create(k *kind, w http.ResponseWriter, r *request) error {
	res, err := s.readIncoming(k, r)
	if err != nil {
		return err
	}
	id := newID()
	now := s.now().UTC()
	setMeta(res, k, r.base, id, now, now, 1)
	rec := toRecord(k, id, res)
	if err := checkIndexed(rec); err != nil {
		return err
	}
	rec.Created, rec.Modified = now, now
	if rec.Data, err = json.Marshal(res); err != nil {
		return fmt.Errorf("scim/server: encode resource: %w", err)
	}
	got, err := s.store.CreateResource(r.Context(), r.tenant, rec)
	if err != nil {
		return s.storeError(k, id, res, err)
	}
	if got, err = s.settleMembers(r, k, got, nil); err != nil {
		return err
	}
	return s.respond(k, w, r, http.StatusCreated, got)
}

// readIncoming reads the resource of a POST or PUT body, normalised
// against k's schema, with a password replaced by its hash; a group's
// members are resolved to users of the tenant.
func (s *Server) readIncoming(k *kind, r *request) (scim.Resource, error) {
	body, err := readResource(r)
	if err != nil {
		return nil, err
	}
	res, err := k.rt.Normalize(body)
	if err != nil {
		return nil, badInput(err)
	}
	if err := hashPassword(res); err != nil {
		return nil, err
	}
	if k == s.groups {
		if err := s.resolveMembers(r, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// get handles GET /Users/{id} and /Groups/{id} (RFC 7644 §3.4.1). An
// If-None-Match that names the current version (or "*") is answered 304
// with the ETag and no body (RFC 7644 §3.14, RFC 7232 §3.2).
func (s *Server) get(k *kind, w http.ResponseWriter, r *request) error {
	id := r.PathValue("id")
	rec, err := s.store.GetResource(r.Context(), r.tenant, k.typ, id)
	if err != nil {
		return s.storeError(k, id, nil, err)
	}
	groupsOf, err := s.groupsFor(r, k)
	if err != nil {
		return err
	}
	if tag := s.tagOf(k, rec, groupsOf); notModified(r, tag) {
		w.Header().Set("ETag", tag)
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	return s.respondWith(k, w, r, http.StatusOK, rec, groupsOf)
}

// replace handles PUT (RFC 7644 §3.5.1): every readWrite attribute is
// replaced, omitted ones are cleared, id and meta in the body are ignored.
func (s *Server) replace(k *kind, w http.ResponseWriter, r *request) error {
	id := r.PathValue("id")
	res, err := s.readIncoming(k, r)
	if err != nil {
		return err
	}
	guard, err := s.guard(k, r, id)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	rec, err := s.store.UpdateResource(r.Context(), r.tenant, k.typ, id, func(rec *store.Record) error {
		if err := guard(rec); err != nil {
			return err
		}
		// RFC 7644 §3.5.1: an immutable value already set must be sent unchanged.
		prev, err := decodeData(*rec)
		if err != nil {
			return err
		}
		if err := k.rt.CheckImmutable(prev, res); err != nil {
			return err
		}
		next := clone(res)
		keepPassword(rec, next)
		setMeta(next, k, r.base, rec.ID, createdOf(rec), now, rec.Version+1)
		return fill(k, rec, next, now)
	})
	if err != nil {
		return s.storeError(k, id, res, err)
	}
	if rec, err = s.settleMembers(r, k, rec, nil); err != nil {
		return err
	}
	return s.respond(k, w, r, http.StatusOK, rec)
}

// errNeedUsers makes a PATCH leave its transaction to look up new members.
var errNeedUsers = errors.New("scim/server: members to look up")

// errNeedHash makes a PATCH leave its transaction to hash a new password.
var errNeedHash = errors.New("scim/server: password to hash")

// modify handles PATCH (RFC 7644 §3.5.2). The operations are applied
// inside the store's update transaction, so concurrent PATCHes never lose
// a write.
func (s *Server) modify(k *kind, w http.ResponseWriter, r *request) error {
	id := r.PathValue("id")
	var pr scim.PatchRequest
	if err := readBody(r, &pr); err != nil {
		return err
	}
	if len(pr.Schemas) > 0 && !containsFold(pr.Schemas, scim.SchemaPatchOp) {
		return scim.Errorf(http.StatusBadRequest, scim.TypeInvalidSyntax, "a PATCH body must list the schema %q", scim.SchemaPatchOp)
	}
	if len(pr.Operations) == 0 {
		return scim.Errorf(http.StatusBadRequest, scim.TypeInvalidSyntax, "a PATCH body needs at least one entry in \"Operations\"")
	}
	users := map[string]string{}  // member id → userName, looked up so far
	hashes := map[string]string{} // new password → its hash, computed so far
	guard, err := s.guard(k, r, id)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	for attempt := 1; ; attempt++ {
		var need []string
		var plain string
		var res scim.Resource
		var stored store.Record            // the record as read, answered when nothing changes
		var prev map[string]map[string]any // a group's members before the PATCH
		rec, err := s.store.UpdateResource(r.Context(), r.tenant, k.typ, id, func(rec *store.Record) error {
			if err := guard(rec); err != nil {
				return err
			}
			stored = *rec
			cur, err := decodeData(*rec)
			if err != nil {
				return err
			}
			patched, err := patch.Apply(cur, pr.Operations, k.rt)
			if err != nil {
				return badInput(err)
			}
			if res, err = k.rt.Normalize(patched); err != nil {
				return badInput(err)
			}
			if plain = changedPassword(cur, res, hashes); plain != "" {
				return errNeedHash
			}
			if k == s.groups {
				prev = members(cur)
				if need = fixMembers(res, r.base, prev, users); len(need) > 0 {
					return errNeedUsers
				}
			}
			if sameData(cur, res) {
				// A PATCH that changes nothing (a remove that matches
				// nothing, an add of a value already there, Okta's rename
				// to the same displayName) writes nothing: version and
				// lastModified stay.
				return errUnchanged
			}
			setMeta(res, k, r.base, rec.ID, createdOf(rec), now, rec.Version+1)
			return fill(k, rec, res, now)
		})
		if errors.Is(err, errUnchanged) {
			return s.respond(k, w, r, http.StatusOK, stored)
		}
		if errors.Is(err, errNeedUsers) && attempt < maxAttempts {
			if err := s.lookupUsers(r, need, users); err != nil {
				return err
			}
			continue
		}
		if errors.Is(err, errNeedHash) && attempt < maxAttempts {
			// Hashing takes tens of milliseconds: never inside the
			// store's transaction.
			if hashes[plain], err = secret.HashPassword(plain); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return s.storeError(k, id, res, err)
		}
		if rec, err = s.settleMembers(r, k, rec, prev); err != nil {
			return err
		}
		return s.respond(k, w, r, http.StatusOK, rec)
	}
}

// remove handles DELETE (RFC 7644 §3.6). Deleting a user also removes it
// from every group of the tenant.
func (s *Server) remove(k *kind, w http.ResponseWriter, r *request) error {
	ctx := r.Context()
	id := r.PathValue("id")
	rec, err := s.store.GetResource(ctx, r.tenant, k.typ, id)
	if err != nil {
		return s.storeError(k, id, nil, err)
	}
	if conditional(r) {
		groupsOf, err := s.groupsFor(r, k)
		if err != nil {
			return err
		}
		if err := checkPreconditions(r, s.tagOf(k, rec, groupsOf)); err != nil {
			return err
		}
	}
	// With If-Match or If-None-Match, delete exactly the version they were
	// checked against: a write that lands in between makes the delete fail
	// as stale.
	del := func() error { return s.store.DeleteResource(ctx, r.tenant, k.typ, id) }
	if conditional(r) {
		del = func() error { return s.store.DeleteResourceVersion(ctx, r.tenant, k.typ, id, rec.Version) }
	}
	switch err := del(); {
	case errors.Is(err, store.ErrStale):
		return scim.Errorf(http.StatusPreconditionFailed, "", "the resource changed while it was being deleted; read it again")
	case err != nil:
		return s.storeError(k, id, nil, err)
	}
	if k == s.users {
		if err := s.dropMember(ctx, r, id); err != nil {
			return err
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// respond renders rec with its ETag (and Location for 201) and the
// projection the request asks for.
func (s *Server) respond(k *kind, w http.ResponseWriter, r *request, status int, rec store.Record) error {
	return s.respondWith(k, w, r, status, rec, nil)
}

// respondWith is respond with a membership index (see render) when the
// caller has one.
func (s *Server) respondWith(k *kind, w http.ResponseWriter, r *request, status int, rec store.Record, groupsOf map[string][]any) error {
	res, err := s.render(r, k, rec, groupsOf)
	if err != nil {
		return err
	}
	meta, _ := res["meta"].(map[string]any)
	tag, _ := meta["version"].(string)
	res = projectRequest(r, k, res)
	w.Header().Set("ETag", tag)
	if status == http.StatusCreated {
		w.Header().Set("Location", location(r.base, k, rec.ID))
	}
	writeJSON(w, status, res)
	return nil
}

// render turns a stored record into the resource served: id, meta
// (location from the current base URL, version from the store), member
// $refs, and for users the computed "groups". groupsOf, when not nil, is a
// precomputed membership index for rendering many users.
func (s *Server) render(r *request, k *kind, rec store.Record, groupsOf map[string][]any) (scim.Resource, error) {
	res, err := decodeData(rec)
	if err != nil {
		return nil, err
	}
	res["id"] = rec.ID
	meta, _ := res["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		res["meta"] = meta
	}
	meta["resourceType"] = k.rt.Name
	meta["location"] = location(r.base, k, rec.ID)
	meta["version"] = etag(rec.Version) // a User's is set below, with its groups
	if _, ok := meta["created"]; !ok && !rec.Created.IsZero() {
		meta["created"] = rec.Created.UTC().Format(timeFormat)
	}
	if _, ok := meta["lastModified"]; !ok && !rec.Modified.IsZero() {
		meta["lastModified"] = rec.Modified.UTC().Format(timeFormat)
	}
	delete(res, "password")
	switch k {
	case s.users:
		if groupsOf == nil {
			if groupsOf, err = s.membership(r); err != nil {
				return nil, err
			}
		}
		if g := groupsOf[rec.ID]; len(g) > 0 {
			res["groups"] = g
		} else {
			delete(res, "groups")
		}
		meta["version"] = s.tagOf(k, rec, groupsOf)
	case s.groups:
		list, _ := res["members"].([]any)
		for _, m := range list {
			if mm, ok := m.(map[string]any); ok {
				if v, ok := mm["value"].(string); ok {
					mm["$ref"] = location(r.base, s.users, v)
					mm["type"] = "User"
				}
			}
		}
	}
	return res, nil
}

// badInput makes an error about the request that is not already a
// protocol error a 400 invalidValue, so bad input never becomes a 500.
func badInput(err error) error {
	var se *scim.Error
	if errors.As(err, &se) {
		return err
	}
	return scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "%v", err)
}

// storeError maps store errors to protocol errors.
func (s *Server) storeError(k *kind, id string, res scim.Resource, err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return scim.Errorf(http.StatusNotFound, "", "%s %q not found", k.rt.Name, id)
	case errors.Is(err, store.ErrExists):
		if un, ok := res["userName"].(string); ok {
			return scim.Errorf(http.StatusConflict, scim.TypeUniqueness, "userName %q is already taken in this tenant", un)
		}
		return scim.Errorf(http.StatusConflict, scim.TypeUniqueness, "%s already exists", k.rt.Name)
	}
	return err
}

// setMeta writes id and meta (RFC 7643 §3.1) into res.
func setMeta(res scim.Resource, k *kind, base, id string, created, modified time.Time, version int64) {
	res["id"] = id
	res["meta"] = map[string]any{
		"resourceType": k.rt.Name,
		"created":      created.UTC().Format(timeFormat),
		"lastModified": modified.UTC().Format(timeFormat),
		"location":     location(base, k, id),
		"version":      etag(version),
	}
}

// createdOf returns when a stored record was created, from its meta or
// the store's timestamp.
func createdOf(rec *store.Record) time.Time {
	if res, err := decodeData(*rec); err == nil {
		if meta, ok := res["meta"].(map[string]any); ok {
			if c, ok := meta["created"].(string); ok {
				if t, err := time.Parse(time.RFC3339Nano, c); err == nil {
					return t
				}
			}
		}
	}
	return rec.Created
}

// fill writes res into rec: data and the indexed copies.
func fill(k *kind, rec *store.Record, res scim.Resource, now time.Time) error {
	n := toRecord(k, rec.ID, res)
	if err := checkIndexed(n); err != nil {
		return err
	}
	data, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("scim/server: encode resource: %w", err)
	}
	rec.UserName, rec.ExternalID, rec.DisplayName, rec.Data, rec.Modified = n.UserName, n.ExternalID, n.DisplayName, data, now
	return nil
}

// toRecord builds the store record of a resource.
func toRecord(k *kind, id string, res scim.Resource) store.Record {
	str := func(name string) string { v, _ := res[name].(string); return v }
	rec := store.Record{Type: k.typ, ID: id, ExternalID: str("externalId"), DisplayName: str("displayName")}
	if k.typ == store.TypeUser {
		rec.UserName = str("userName")
	}
	return rec
}

// checkIndexed refuses NUL bytes in the indexed attributes (userName,
// externalId, displayName): the store keeps them as text, which
// PostgreSQL cannot hold with a NUL, and no identity provider sends one.
// (readBody already refused invalid UTF-8 and lone surrogates.)
func checkIndexed(rec store.Record) error {
	for _, a := range []struct{ name, v string }{{"userName", rec.UserName}, {"externalId", rec.ExternalID}, {"displayName", rec.DisplayName}} {
		if strings.IndexByte(a.v, 0) >= 0 {
			return scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "%s must not contain a NUL character (\\u0000)", a.name)
		}
	}
	return nil
}

// decodeData decodes a stored resource.
func decodeData(rec store.Record) (scim.Resource, error) {
	var res scim.Resource
	if err := json.Unmarshal(rec.Data, &res); err != nil {
		return nil, fmt.Errorf("scim/server: stored %s %s is not JSON: %w", rec.Type, rec.ID, err)
	}
	if res == nil {
		res = scim.Resource{}
	}
	return res, nil
}

// location is the URL of a resource.
func location(base string, k *kind, id string) string { return base + "/" + k.endpoint + "/" + id }

// clone deep-copies a decoded JSON value.
func clone(res scim.Resource) scim.Resource {
	c, _ := cloneValue(res).(map[string]any)
	return c
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = cloneValue(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = cloneValue(e)
		}
		return l
	}
	return v
}

func containsFold(list []string, s string) bool {
	for _, e := range list {
		if strings.EqualFold(e, s) {
			return true
		}
	}
	return false
}
