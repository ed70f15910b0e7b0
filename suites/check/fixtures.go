package check

import (
	"context"
	"fmt"
	"net/url"
)

const (
	schemaUser    = "urn:ietf:params:scim:schemas:core:2.0:User"
	schemaGroup   = "urn:ietf:params:scim:schemas:core:2.0:Group"
	schemaPatchOp = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
)

// userName returns a fresh, realistic address for a test user.
func (t *Target) userName(prefix string) string {
	d := t.UserDomain
	if d == "" {
		d = "example.com"
	}
	return fmt.Sprintf("%s.%s@%s", prefix, unique(), d)
}

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

// createUser posts a new user and returns its id; problems go to p.
func (t *Target) createUser(ctx context.Context, p *probe, prefix string) (id, userName string, err error) {
	userName = t.userName(prefix)
	x, err := t.send(ctx, "POST", "/Users", oktaUser(userName, "Alice", "Example"))
	if err != nil {
		return "", "", err
	}
	if !p.status(x, 201) {
		return "", userName, p.err()
	}
	id = str(get(x.JSON, "id"))
	if id == "" {
		p.failf(x, "the created user has no id")
		return "", userName, p.err()
	}
	return id, userName, nil
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
	if !p.status(x, 201) {
		return "", p.err()
	}
	id := str(get(x.JSON, "id"))
	if id == "" {
		p.failf(x, "the created group has no id")
		return "", p.err()
	}
	return id, nil
}

// patch sends a PatchOp request with the given operations.
func (t *Target) patch(ctx context.Context, path string, ops ...map[string]any) (*Exchange, error) {
	return t.send(ctx, "PATCH", path, map[string]any{"schemas": []string{schemaPatchOp}, "Operations": ops})
}

// filterPath builds a list path with a filter encoded as Okta encodes it.
func filterPath(endpoint, filter, rest string) string {
	q := "?filter=" + url.PathEscape(filter)
	if rest != "" {
		q += "&" + rest
	}
	return endpoint + q
}

// memberValues returns the member ids of a group body.
func memberValues(v any) []string {
	var out []string
	list, _ := get(v, "members").([]any)
	for _, m := range list {
		out = append(out, str(get(m, "value")))
	}
	return out
}
