package check

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// The URNs the checks send and expect (RFC 7643 §8.7, RFC 7644 §3.5.2,
// §3.4.3, §3.7).
const (
	schemaUser          = "urn:ietf:params:scim:schemas:core:2.0:User"
	schemaGroup         = "urn:ietf:params:scim:schemas:core:2.0:Group"
	schemaEnterprise    = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	schemaPatchOp       = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	schemaSearchRequest = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	schemaBulkRequest   = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	schemaBulkResponse  = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
)

// domain is the e-mail domain of the checks' users.
func (t *Target) domain() string {
	if t.UserDomain != "" {
		return t.UserDomain
	}
	return "example.com"
}

// userName returns a fresh, realistic address for a test user.
func (t *Target) userName(prefix string) string {
	return fmt.Sprintf("%s.%s@%s", prefix, unique(), t.domain())
}

// prefix returns a fresh userName prefix such as "flt3fa9c01b2e.": every
// user a check names with it is the check's own, so a filter
// `userName sw "<prefix>"` scopes a query to them on a server with data.
func prefix(area string) string { return fmt.Sprintf("%s%s%s.", area, unique(), unique()[:4]) }

// oktaUser is the body Okta's provisioning sends for a new user.
func oktaUser(userName, given, family string) map[string]any {
	return map[string]any{
		"schemas":     []string{schemaUser},
		"userName":    userName,
		"name":        map[string]any{"givenName": given, "familyName": family},
		"emails":      []any{map[string]any{"primary": true, "value": userName, "type": "work"}},
		"displayName": given + " " + family,
		"locale":      "en-US",
		"externalId":  "00u" + unique() + unique(),
		"groups":      []any{},
		"password":    "P@ss-" + unique() + unique(),
		"active":      true,
	}
}

// createdID returns the id of the resource x created; problems go to p,
// and the error is p's when x is not a 201 with an id. what names the
// resource in the failure ("user", "group", "resource").
func createdID(p *probe, x *Exchange, what string) (string, error) {
	if !p.status(x, 201) {
		return "", p.err()
	}
	id := str(get(x.JSON, "id"))
	if id == "" {
		p.failf(x, "the created %s has no id", what)
		return "", p.err()
	}
	return id, nil
}

// scimID checks that x, the 201 answer to a POST, is SCIM JSON with an
// id, and returns the id; noID is the failure when it has none, and the
// error is then the probe's.
func (p *probe) scimID(x *Exchange, noID string) (string, error) {
	p.scimJSON(x)
	id := str(get(x.JSON, "id"))
	if id == "" {
		p.failf(x, "%s", noID)
		return "", p.err()
	}
	return id, nil
}

// createUser posts Okta's body for a new user and returns its id and
// userName; problems go to p.
func (t *Target) createUser(ctx context.Context, p *probe, prefix string) (id, userName string, err error) {
	userName = t.userName(prefix)
	id, _, err = t.createUserWith(ctx, p, oktaUser(userName, "Alice", "Example"))
	return id, userName, err
}

// createUserWith posts body as a new user and returns its id; the user is
// remembered for clean-up by send.
func (t *Target) createUserWith(ctx context.Context, p *probe, body map[string]any) (string, *Exchange, error) {
	x, err := t.send(ctx, "POST", "/Users", body)
	if err != nil {
		return "", nil, err
	}
	id, err := createdID(p, x, "user")
	return id, x, err
}

// createGroup posts a new group with the given member ids.
func (t *Target) createGroup(ctx context.Context, p *probe, name string, members ...string) (string, error) {
	ms := []any{}
	for _, m := range members {
		ms = append(ms, map[string]any{"value": m})
	}
	x, err := t.send(ctx, "POST", "/Groups", map[string]any{"schemas": []string{schemaGroup}, "displayName": name, "members": ms})
	if err != nil {
		return "", err
	}
	return createdID(p, x, "group")
}

// createAll posts each body to endpoint and returns the ids in order; it
// stops at the first failure.
func (t *Target) createAll(ctx context.Context, p *probe, endpoint string, bodies []map[string]any) ([]string, error) {
	var ids []string
	for _, b := range bodies {
		x, err := t.send(ctx, "POST", endpoint, b)
		if err != nil {
			return nil, err
		}
		id, err := createdID(p, x, "resource")
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// keep registers a resource created by a request whose path send does not
// recognise (a query string, .search), so that it is deleted afterwards.
func (t *Target) keep(x *Exchange, endpoint string) {
	if x != nil && x.Status == http.StatusCreated {
		if id := str(get(x.JSON, "id")); id != "" {
			t.remember(endpoint + "/" + url.PathEscape(id))
		}
	}
}

// createUsers creates n users as createUser does and returns their ids.
func (t *Target) createUsers(ctx context.Context, p *probe, prefix string, n int) ([]string, error) {
	ids := make([]string, 0, n)
	for range n {
		id, _, err := t.createUser(ctx, p, prefix)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// createTeam creates n users and a group named name with all of them as
// members, and returns the users' ids and the group's.
func (t *Target) createTeam(ctx context.Context, p *probe, prefix string, n int, name string) ([]string, string, error) {
	ids, err := t.createUsers(ctx, p, prefix, n)
	if err != nil {
		return nil, "", err
	}
	gid, err := t.createGroup(ctx, p, name, ids...)
	return ids, gid, err
}
