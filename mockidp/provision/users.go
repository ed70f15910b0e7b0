package provision

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/client"
)

// TestCredentials is Okta's "Test API Credentials" (also run on Save):
// GET /Users?startIndex=1&count=2, which must answer 200 with a
// ListResponse. Okta does not read /ServiceProviderConfig. The admin sees
// the answer at once, so the request is sent once, without retries. A
// failure is an *AnswerError whose Sentence says what the server answered.
func (e *Engine) TestCredentials(ctx context.Context, t Target) error {
	const action = "test credentials"
	path := "/Users?" + client.ListQuery{StartIndex: 1, Count: 2}.Encode()
	var lr struct {
		Schemas      []string `json:"schemas"`
		TotalResults *int     `json:"totalResults"`
	}
	resp, err := e.sendOnce(ctx, e.scim(t), "GET", path, nil, &lr)
	if err != nil {
		more := ""
		if resp != nil && resp.Status >= 200 && resp.Status <= 299 {
			more = ", but its body is not JSON"
		}
		return answerError(action, t.BaseURL, "GET", path, resp, err, more)
	}
	if resp.Status != 200 {
		return answerError(action, t.BaseURL, "GET", path, resp, wantStatus("GET", path, resp, 200), ", where a SCIM server answers 200 OK")
	}
	if lr.TotalResults == nil && !slices.Contains(lr.Schemas, scim.SchemaListResponse) {
		return answerError(action, t.BaseURL, "GET", path, resp, fmt.Errorf("GET %s: answer is not a ListResponse", path), ", but not with a SCIM ListResponse (no totalResults, no ListResponse schema)")
	}
	e.logger().DebugContext(ctx, "provision: credentials ok", "base", t.BaseURL)
	return nil
}

// CreateUser is assigning a user to the app with Create Users on. Okta looks
// the login up with GET /Users?filter=userName eq "<login>"&startIndex=1&count=100
// (a 404 counts as no match, as Okta's SCIM reference allows); when nothing
// matches it sends POST /Users and needs 201 with the user and its id; when
// an inactive user matches it reactivates that user (a path-less PATCH, or
// GET and PUT for custom apps); when an active user matches it adopts that
// user's id. It returns the user's id in the app.
func (e *Engine) CreateUser(ctx context.Context, t Target, u User) (string, error) {
	action := "create user " + u.Login
	if u.Login == "" {
		return "", fail(action, errors.New("empty login"))
	}
	c := e.scim(t)
	path := "/Users?" + client.ListQuery{Filter: "userName eq " + client.FilterString(u.Login), StartIndex: 1, Count: 100}.Encode()
	var lr scim.ListResponse
	resp, err := e.send(ctx, c, "GET", path, nil, &lr)
	switch {
	case resp != nil && resp.Status == http.StatusNotFound:
		lr = scim.ListResponse{} // "no such user", as Okta reads it
	case err != nil:
		return "", fail(action, err)
	default:
		if err := wantStatus("GET", path, resp, 200); err != nil {
			return "", fail(action, err)
		}
		if len(bytes.TrimSpace(resp.Body)) == 0 {
			return "", fail(action, fmt.Errorf("GET %s: %w", path, client.ErrEmptyBody))
		}
	}
	if lr.TotalResults > 0 && len(lr.Resources) == 0 {
		return "", fail(action, fmt.Errorf("GET %s: totalResults is %d but Resources is empty", path, lr.TotalResults))
	}
	if len(lr.Resources) > 0 {
		found := lr.Resources[0]
		for _, r := range lr.Resources {
			if n, _ := r["userName"].(string); strings.EqualFold(n, u.Login) {
				found = r
				break
			}
		}
		id := idOf(found)
		if id == "" {
			return "", fail(action, fmt.Errorf("GET %s: the matching user has no id", path))
		}
		if !isActive(found) {
			if err := e.setActive(ctx, c, t.Kind, id, true); err != nil {
				return "", fail(action, err)
			}
			e.logger().DebugContext(ctx, "provision: reactivated user", "login", u.Login, "id", id)
			return id, nil
		}
		e.logger().DebugContext(ctx, "provision: adopted user", "login", u.Login, "id", id)
		return id, nil
	}

	password := u.Password
	if password == "" {
		password = e.password()
	}
	var created scim.Resource
	resp, err = e.send(ctx, c, "POST", "/Users", newUserBody(u, password), &created)
	if err != nil {
		return "", fail(action, err)
	}
	if err := wantStatus("POST", "/Users", resp, 201); err != nil {
		return "", fail(action, err)
	}
	if created == nil {
		return "", fail(action, fmt.Errorf("POST /Users: %w", client.ErrEmptyBody))
	}
	id := idOf(created)
	if id == "" {
		return "", fail(action, errors.New("POST /Users: the created user has no id"))
	}
	e.logger().DebugContext(ctx, "provision: created user", "login", u.Login, "id", id)
	return id, nil
}

// UpdateUser is a profile change with Update User Attributes on, as the
// Test App and custom apps send it: GET /Users/{id}, then PUT /Users/{id}
// with that body modified, so id, meta, groups and anything else the server
// returned go back unchanged. A 404 on the GET stops the push (ErrStopped):
// no PUT and no re-create.
func (e *Engine) UpdateUser(ctx context.Context, t Target, scimID string, u User) error {
	action := "update user " + u.Login
	if scimID == "" {
		return fail(action, errors.New("empty id"))
	}
	if err := e.getAndPut(ctx, e.scim(t), scimID, func(cur scim.Resource) { applyProfile(cur, u) }); err != nil {
		return fail(action, err)
	}
	e.logger().DebugContext(ctx, "provision: updated user", "login", u.Login, "id", scimID)
	return nil
}

// PatchUser is a profile change as OIN catalogue apps send it: PATCH
// /Users/{id} with one path-less replace whose value holds the mapped
// attributes that differ between before and after (see profilePatch).
// Nothing is sent when none differ. 200 and 204 are accepted.
func (e *Engine) PatchUser(ctx context.Context, t Target, scimID string, before, after User) error {
	action := "update user " + after.Login
	if scimID == "" {
		return fail(action, errors.New("empty id"))
	}
	value := profilePatch(before, after)
	if len(value) == 0 {
		return nil
	}
	path := "/Users/" + url.PathEscape(scimID)
	if err := e.patchUser(ctx, e.scim(t), path, value); err != nil {
		return fail(action, err)
	}
	e.logger().DebugContext(ctx, "provision: patched user", "login", after.Login, "id", scimID, "attributes", len(value))
	return nil
}

// SetActive is deactivation (unassign, or the user deactivated or
// suspended in Okta, with Deactivate Users on) or reactivation: PATCH
// /Users/{id} with a path-less replace of active (200 or 204), or for
// custom apps GET /Users/{id} and PUT it back with active changed (a 404
// on the GET stops it, ErrStopped). Okta never deletes users.
func (e *Engine) SetActive(ctx context.Context, t Target, scimID string, active bool) error {
	action := "deactivate user " + scimID
	if active {
		action = "reactivate user " + scimID
	}
	if scimID == "" {
		return fail(action, errors.New("empty id"))
	}
	if err := e.setActive(ctx, e.scim(t), t.Kind, scimID, active); err != nil {
		return fail(action, err)
	}
	e.logger().DebugContext(ctx, "provision: set active", "id", scimID, "active", active)
	return nil
}

// SetPassword is a password push (Sync Password on, the user's Okta
// password changed): PATCH /Users/{id} with a path-less replace of
// password (200 or 204), or for custom apps GET and PUT with password set
// (a 404 on the GET stops it, ErrStopped).
func (e *Engine) SetPassword(ctx context.Context, t Target, scimID, password string) error {
	action := "push password of user " + scimID
	if scimID == "" {
		return fail(action, errors.New("empty id"))
	}
	if password == "" {
		return fail(action, errors.New("empty password"))
	}
	c := e.scim(t)
	var err error
	if t.Kind == KindCustom {
		err = e.getAndPut(ctx, c, scimID, func(cur scim.Resource) { cur["password"] = password })
	} else {
		err = e.patchUser(ctx, c, "/Users/"+url.PathEscape(scimID), map[string]any{"password": password})
	}
	if err != nil {
		return fail(action, err)
	}
	e.logger().DebugContext(ctx, "provision: pushed password", "id", scimID)
	return nil
}

func (e *Engine) setActive(ctx context.Context, c *client.Client, kind, id string, active bool) error {
	if kind == KindCustom {
		return e.getAndPut(ctx, c, id, func(cur scim.Resource) { cur["active"] = active })
	}
	return e.patchUser(ctx, c, "/Users/"+url.PathEscape(id), map[string]any{"active": active})
}

// patchUser sends one path-less replace of value.
func (e *Engine) patchUser(ctx context.Context, c *client.Client, path string, value map[string]any) error {
	body := scim.PatchRequest{
		Schemas:    []string{scim.SchemaPatchOp},
		Operations: []scim.PatchOperation{{Op: "replace", Value: rawJSON(value)}},
	}
	resp, err := e.send(ctx, c, "PATCH", path, body, nil)
	if err != nil {
		return err
	}
	return wantStatus("PATCH", path, resp, 200, 204)
}

// getAndPut reads the user, changes it with modify and PUTs it back (200
// expected). A 404 on the GET is ErrStopped.
func (e *Engine) getAndPut(ctx context.Context, c *client.Client, id string, modify func(scim.Resource)) error {
	path := "/Users/" + url.PathEscape(id)
	var cur scim.Resource
	resp, err := e.send(ctx, c, "GET", path, nil, &cur)
	if err != nil {
		if resp != nil && resp.Status == http.StatusNotFound {
			return stopped{err}
		}
		return err
	}
	if err := wantStatus("GET", path, resp, 200); err != nil {
		return err
	}
	if cur == nil {
		return fmt.Errorf("GET %s: %w", path, client.ErrEmptyBody)
	}
	modify(cur)
	resp, err = e.send(ctx, c, "PUT", path, cur, nil)
	if err != nil {
		return err
	}
	return wantStatus("PUT", path, resp, 200)
}

// isActive reads a user's active attribute; an absent one counts as active
// and the strings some servers send ("False") are understood.
func isActive(r scim.Resource) bool {
	switch v := r["active"].(type) {
	case bool:
		return v
	case string:
		return !strings.EqualFold(v, "false")
	}
	return true
}

// userBody is the POST /Users body in Okta's field order.
type userBody struct {
	Schemas     []string    `json:"schemas"`
	UserName    string      `json:"userName"`
	Name        nameBody    `json:"name"`
	Emails      []emailBody `json:"emails,omitempty"`
	DisplayName string      `json:"displayName"`
	Locale      string      `json:"locale"`
	Title       string      `json:"title,omitempty"`
	ExternalID  string      `json:"externalId,omitempty"`
	Groups      []any       `json:"groups"`
	Password    string      `json:"password"`
	Active      bool        `json:"active"`
	Enterprise  *enterprise `json:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User,omitempty"`
}

type nameBody struct {
	GivenName  string `json:"givenName"`
	FamilyName string `json:"familyName"`
}

type emailBody struct {
	Primary bool   `json:"primary"`
	Value   string `json:"value"`
	Type    string `json:"type"`
}

type enterprise struct {
	Department string `json:"department,omitempty"`
}

func displayName(u User) string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return strings.TrimSpace(u.FirstName + " " + u.LastName)
}

func locale(u User) string {
	if u.Locale != "" {
		return u.Locale
	}
	return "en-US"
}

func newUserBody(u User, password string) userBody {
	b := userBody{
		Schemas:     []string{scim.SchemaUser},
		UserName:    u.Login,
		Name:        nameBody{GivenName: u.FirstName, FamilyName: u.LastName},
		DisplayName: displayName(u),
		Locale:      locale(u),
		Title:       u.Title,
		ExternalID:  u.ID,
		Groups:      []any{},
		Password:    password,
		Active:      true,
	}
	if u.Email != "" {
		b.Emails = []emailBody{{Primary: true, Value: u.Email, Type: "work"}}
	}
	if u.Department != "" {
		b.Schemas = append(b.Schemas, scim.SchemaEnterpriseUser)
		b.Enterprise = &enterprise{Department: u.Department}
	}
	return b
}

// applyProfile writes u's mapped attributes into r, the user as the server
// returned it, leaving everything else alone.
func applyProfile(r scim.Resource, u User) {
	r["userName"] = u.Login
	name, _ := r["name"].(map[string]any)
	if name == nil {
		name = map[string]any{}
	}
	name["givenName"] = u.FirstName
	name["familyName"] = u.LastName
	r["name"] = name
	if u.Email != "" {
		r["emails"] = setPrimaryEmail(r["emails"], u.Email)
	}
	r["displayName"] = displayName(u)
	if u.Locale != "" || r["locale"] == nil {
		r["locale"] = locale(u)
	}
	if u.ID != "" {
		r["externalId"] = u.ID
	}
	if u.Title != "" {
		r["title"] = u.Title
	}
	if u.Department != "" {
		ext, _ := r[scim.SchemaEnterpriseUser].(map[string]any)
		if ext == nil {
			ext = map[string]any{}
		}
		ext["department"] = u.Department
		r[scim.SchemaEnterpriseUser] = ext
		schemas, _ := r["schemas"].([]any)
		if !slices.Contains(schemas, any(scim.SchemaEnterpriseUser)) {
			r["schemas"] = append(schemas, scim.SchemaEnterpriseUser)
		}
	}
}

// setPrimaryEmail sets the value of the primary email (else the work
// email, which becomes primary), or adds a primary work email.
func setPrimaryEmail(v any, email string) []any {
	emails, _ := v.([]any)
	pick := -1
	for i, e := range emails {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		if p, _ := m["primary"].(bool); p {
			pick = i
			break
		}
		if t, _ := m["type"].(string); t == "work" && pick < 0 {
			pick = i
		}
	}
	if pick < 0 {
		return append([]any{map[string]any{"primary": true, "value": email, "type": "work"}}, emails...)
	}
	m := emails[pick].(map[string]any)
	m["value"] = email
	m["primary"] = true
	if m["type"] == nil {
		m["type"] = "work"
	}
	return emails
}

// profilePatch is the value of a catalogue app's profile PATCH: the
// mapped attributes whose values differ between before and after, shaped
// as in the POST body (name with only the changed sub-attributes, the
// primary work email, the enterprise extension's department). As with
// PUT, attributes that became empty are not sent.
func profilePatch(before, after User) map[string]any {
	v := map[string]any{}
	if after.Login != before.Login && after.Login != "" {
		v["userName"] = after.Login
	}
	name := map[string]any{}
	if after.FirstName != before.FirstName {
		name["givenName"] = after.FirstName
	}
	if after.LastName != before.LastName {
		name["familyName"] = after.LastName
	}
	if len(name) > 0 {
		v["name"] = name
	}
	if after.Email != before.Email && after.Email != "" {
		v["emails"] = []any{map[string]any{"primary": true, "value": after.Email, "type": "work"}}
	}
	if d := displayName(after); d != displayName(before) {
		v["displayName"] = d
	}
	if l := locale(after); l != locale(before) {
		v["locale"] = l
	}
	if after.ID != before.ID && after.ID != "" {
		v["externalId"] = after.ID
	}
	if after.Title != before.Title && after.Title != "" {
		v["title"] = after.Title
	}
	if after.Department != before.Department && after.Department != "" {
		v[scim.SchemaEnterpriseUser] = map[string]any{"department": after.Department}
	}
	return v
}
