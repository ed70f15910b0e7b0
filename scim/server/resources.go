package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/activity"
	"github.com/idpkit/idpkit/scim/patch"
	"github.com/idpkit/idpkit/scim/secret"
	"github.com/idpkit/idpkit/scim/store"
)

// timeFormat is how meta.created and meta.lastModified are written
// (xsd:dateTime, RFC 7643 §2.3.5), in UTC with milliseconds.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

// microFormat writes a time that has microseconds: the store keeps
// times to the microsecond, and those it sets itself (a group's
// lastModified when a member's user is deleted) or that an earlier
// release wrote may have them. Shown in full, what a client reads is
// what filters compare (meta.lastModified eq the value read finds it).
const microFormat = "2006-01-02T15:04:05.000000Z07:00"

// formatTime writes meta.created or meta.lastModified: with
// milliseconds, or with microseconds when the time has them.
func formatTime(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()%int(time.Millisecond) != 0 {
		return t.Format(microFormat)
	}
	return t.Format(timeFormat)
}

// maxAttempts bounds how often a PATCH of a user is retried when a new
// password had to be hashed outside the store transaction.
const maxAttempts = 5

// writeTime is the time a write records: the clock in UTC, truncated to
// whole milliseconds, the precision meta.created and meta.lastModified
// are rendered with, so that what is stored is what is shown.
func (s *Server) writeTime() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// create handles POST /Users and /Groups (RFC 7644 §3.3).
func (s *Server) create(k *kind, w http.ResponseWriter, r *request) error {
	in, err := s.readIncoming(k, r)
	if err != nil {
		return err
	}
	rec, err := s.newRecord(k, r.base, in, s.writeTime())
	if err != nil {
		return err
	}
	got, err := s.store.CreateResource(r.Context(), r.tenant, rec)
	if err != nil {
		return s.storeError(k, rec.ID, in.res, err)
	}
	return s.respondWith(k, w, r, http.StatusCreated, got, nil, in.members)
}

// incoming is a resource read from a POST or PUT body: normalised, its
// password handled as configured, a group's members taken out of it.
type incoming struct {
	res     scim.Resource
	members []store.Member // a Group's, deduplicated, displays completed
}

// newRecord builds the record of a new resource from in, with a new id,
// meta and, for a group, its members to add.
func (s *Server) newRecord(k *kind, base string, in incoming, now time.Time) (store.Record, error) {
	id := s.ids.next(now)
	setMeta(in.res, k, base, id, now, now, 1)
	rec := toRecord(k, id, in.res)
	if err := checkIndexed(rec); err != nil {
		return store.Record{}, err
	}
	rec.Created, rec.Modified = now, now
	var err error
	if rec.Data, err = json.Marshal(in.res); err != nil {
		return store.Record{}, fmt.Errorf("scim/server: encode resource: %w", err)
	}
	if k.typ == store.TypeGroup {
		rec.Members = &store.MemberChange{Add: in.members}
	}
	return rec, nil
}

// readIncoming reads the resource of a POST or PUT body.
func (s *Server) readIncoming(k *kind, r *request) (incoming, error) {
	body, err := readResource(r)
	if err != nil {
		return incoming{}, err
	}
	return s.prepare(r.Context(), r.tenant, k, body)
}

// prepare normalises a resource sent for creation or replacement against
// k's schema and handles its password; a group's members are taken out
// of the resource, checked, deduplicated and given the userName of their
// user as display when they came without one.
func (s *Server) prepare(ctx context.Context, tenant string, k *kind, body scim.Resource) (incoming, error) {
	res, err := k.rt.Normalize(body)
	if err != nil {
		return incoming{}, badInput(err)
	}
	if err := s.handlePassword(res); err != nil {
		return incoming{}, err
	}
	in := incoming{res: res}
	if k.typ == store.TypeGroup {
		if in.members, err = takeMembers(res); err != nil {
			return incoming{}, err
		}
		if err := s.completeDisplays(ctx, tenant, in.members, nil); err != nil {
			return incoming{}, err
		}
	}
	return in, nil
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
	groups, err := s.groupsOf(r, k, id)
	if err != nil {
		return err
	}
	if tag := tagOf(k, rec, groups); notModified(r, tag) {
		w.Header().Set("ETag", tag)
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	return s.respondWith(k, w, r, http.StatusOK, rec, groups, nil)
}

// replace handles PUT (RFC 7644 §3.5.1): every readWrite attribute is
// replaced, omitted ones are cleared, id and meta in the body are ignored.
// A group's members are replaced by those sent.
func (s *Server) replace(k *kind, w http.ResponseWriter, r *request) error {
	id := r.PathValue("id")
	in, err := s.readIncoming(k, r)
	if err != nil {
		return err
	}
	guard, err := s.guard(k, r, id)
	if err != nil {
		return err
	}
	now := s.writeTime()
	var wasActive bool
	rec, err := s.store.UpdateResource(r.Context(), r.tenant, k.typ, id, func(rec *store.Record) error {
		if err := guard(rec); err != nil {
			return err
		}
		// RFC 7644 §3.5.1: an immutable value already set must be sent unchanged.
		prev, err := decodeData(*rec)
		if err != nil {
			return err
		}
		wasActive = isActive(prev)
		if err := k.rt.CheckImmutable(prev, in.res); err != nil {
			return err
		}
		next := clone(in.res)
		s.keepPassword(rec, next)
		setMeta(next, k, r.base, rec.ID, rec.Created, now, rec.Version+1)
		if k.typ == store.TypeGroup {
			rec.Members = &store.MemberChange{Replace: true, Add: in.members}
		}
		return fill(k, rec, next, now)
	})
	if err != nil {
		return s.storeError(k, id, in.res, err)
	}
	if k.typ == store.TypeUser {
		r.action = activity.UserChange(wasActive, isActive(in.res))
	}
	groups, err := s.groupsOf(r, k, id)
	if err != nil {
		return err
	}
	return s.respondWith(k, w, r, http.StatusOK, rec, groups, in.members)
}

// errNeedHash makes a PATCH leave its transaction to hash a new password.
var errNeedHash = errors.New("scim/server: password to hash")

// modify handles PATCH (RFC 7644 §3.5.2). A User's operations are applied
// inside the store's update transaction, so concurrent PATCHes never lose
// a write; a Group's are planned so that they cost what they name (see
// patchGroup).
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
	guard, err := s.guard(k, r, id)
	if err != nil {
		return err
	}
	if k.typ == store.TypeGroup {
		return s.patchGroup(w, r, id, pr.Operations, guard)
	}
	hashes := map[string]string{} // new password → its hash, computed so far
	now := s.writeTime()
	for attempt := 1; ; attempt++ {
		var plain string
		var res scim.Resource
		var stored store.Record // the record as read, answered when nothing changes
		var wasActive, nowActive bool
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
			wasActive, nowActive = isActive(cur), isActive(res)
			if plain = s.changedPassword(cur, res, hashes); plain != "" {
				return errNeedHash
			}
			if sameData(cur, res) {
				// A PATCH that changes nothing (a remove that matches
				// nothing, an add of a value already there) writes
				// nothing: version and lastModified stay.
				return errUnchanged
			}
			setMeta(res, k, r.base, rec.ID, rec.Created, now, rec.Version+1)
			return fill(k, rec, res, now)
		})
		if errors.Is(err, errUnchanged) {
			rec = stored
			err = nil
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
		r.action = activity.UserChange(wasActive, nowActive)
		groups, err := s.groupsOf(r, k, id)
		if err != nil {
			return err
		}
		return s.respondWith(k, w, r, http.StatusOK, rec, groups, nil)
	}
}

// remove handles DELETE (RFC 7644 §3.6). Deleting a user also removes it
// from every group of the tenant, in the store's transaction.
func (s *Server) remove(k *kind, w http.ResponseWriter, r *request) error {
	ctx := r.Context()
	id := r.PathValue("id")
	if !conditional(r) {
		if err := s.store.DeleteResource(ctx, r.tenant, k.typ, id); err != nil {
			return s.storeError(k, id, nil, err)
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	rec, err := s.store.GetResource(ctx, r.tenant, k.typ, id)
	if err != nil {
		return s.storeError(k, id, nil, err)
	}
	groups, err := s.groupsOf(r, k, id)
	if err != nil {
		return err
	}
	if err := checkPreconditions(r, tagOf(k, rec, groups)); err != nil {
		return err
	}
	// Delete exactly the version the headers were checked against: a
	// write that lands in between makes the delete fail as stale.
	switch err := s.store.DeleteResourceVersion(ctx, r.tenant, k.typ, id, rec.Version); {
	case errors.Is(err, store.ErrStale):
		return scim.Errorf(http.StatusPreconditionFailed, "", "the resource changed while it was being deleted; read it again")
	case err != nil:
		return s.storeError(k, id, nil, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// respondWith renders rec with its ETag (and Location for 201) and the
// projection the request asks for. groups are a User's groups; members,
// when not nil, are a Group's members as just written, else they are read
// from the store when the response shows them.
func (s *Server) respondWith(k *kind, w http.ResponseWriter, r *request, status int, rec store.Record, groups []store.GroupRef, members []store.Member) error {
	if k.typ == store.TypeGroup && members == nil && s.showsMembers(r.query.Get("attributes"), r.query.Get("excludedAttributes")) {
		var err error
		if members, err = s.store.ListMembers(r.Context(), r.tenant, rec.ID, nil); err != nil {
			return s.storeError(k, rec.ID, nil, err)
		}
	}
	res, err := s.render(r.base, k, rec, groups, members)
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
// (location from base, created and lastModified from the record, version
// from the store), for users the computed "groups" (RFC 7643 §4.1.2) and
// the tag that reflects them, for groups the members given.
func (s *Server) render(base string, k *kind, rec store.Record, groups []store.GroupRef, members []store.Member) (scim.Resource, error) {
	res, err := decodeData(rec)
	if err != nil {
		return nil, err
	}
	res["id"] = rec.ID
	meta := map[string]any{
		"resourceType": k.rt.Name,
		"location":     location(base, k, rec.ID),
		"version":      tagOf(k, rec, groups),
	}
	if !rec.Created.IsZero() {
		meta["created"] = formatTime(rec.Created)
	}
	if !rec.Modified.IsZero() {
		meta["lastModified"] = formatTime(rec.Modified)
	}
	res["meta"] = meta
	delete(res, "password")
	switch k.typ {
	case store.TypeUser:
		if g := groupValues(base, groups); len(g) > 0 {
			res["groups"] = g
		} else {
			delete(res, "groups")
		}
	case store.TypeGroup:
		delete(res, "members")
		if len(members) > 0 {
			list := make([]any, len(members))
			for i, m := range members {
				mm := map[string]any{"value": m.Value, "$ref": location(base, s.users, m.Value), "type": "User"}
				if m.Display != "" {
					mm["display"] = m.Display
				}
				list[i] = mm
			}
			res["members"] = list
		}
	}
	return res, nil
}

// groupValues renders a user's groups (RFC 7643 §4.1.2).
func groupValues(base string, groups []store.GroupRef) []any {
	if len(groups) == 0 {
		return nil
	}
	out := make([]any, len(groups))
	for i, g := range groups {
		out[i] = map[string]any{
			"value":   g.ID,
			"display": g.DisplayName,
			"$ref":    base + "/Groups/" + g.ID,
			"type":    "direct",
		}
	}
	return out
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
	var missing *store.MissingMembersError
	switch {
	case errors.As(err, &missing) && len(missing.IDs) > 0:
		return notAUser(missing.IDs[0])
	case errors.Is(err, store.ErrMissingMember):
		return scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "a member is not a User of this tenant")
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
		"created":      formatTime(created),
		"lastModified": formatTime(modified),
		"location":     location(base, k, id),
		"version":      etag(version),
	}
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
	rec.UserName, rec.ExternalID, rec.DisplayName, rec.Emails, rec.Data, rec.Modified = n.UserName, n.ExternalID, n.DisplayName, n.Emails, data, now
	return nil
}

// toRecord builds the store record of a resource.
func toRecord(k *kind, id string, res scim.Resource) store.Record {
	str := func(name string) string { v, _ := res[name].(string); return v }
	rec := store.Record{Type: k.typ, ID: id, ExternalID: str("externalId"), DisplayName: str("displayName")}
	if k.typ == store.TypeUser {
		rec.UserName = str("userName")
		list, _ := res["emails"].([]any)
		for _, e := range list {
			m, _ := e.(map[string]any)
			if v, ok := m["value"].(string); ok {
				rec.Emails = append(rec.Emails, v)
			}
		}
	}
	return rec
}

// checkIndexed refuses NUL bytes in the indexed attributes (userName,
// externalId, displayName, emails.value): the store keeps them as text, which
// PostgreSQL cannot hold with a NUL, and no identity provider sends one.
// (readBody already refused invalid UTF-8 and lone surrogates.)
func checkIndexed(rec store.Record) error {
	for _, a := range []struct{ name, v string }{{"userName", rec.UserName}, {"externalId", rec.ExternalID}, {"displayName", rec.DisplayName}} {
		if strings.IndexByte(a.v, 0) >= 0 {
			return scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "%s must not contain a NUL character (\\u0000)", a.name)
		}
	}
	for _, e := range rec.Emails {
		if strings.IndexByte(e, 0) >= 0 {
			return scim.Errorf(http.StatusBadRequest, scim.TypeInvalidValue, "emails.value must not contain a NUL character (\\u0000)")
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
