package provision

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim"
)

func scimError(status int, scimType, detail string) map[string]any {
	m := map[string]any{"schemas": []any{scim.SchemaError}, "status": fmt.Sprint(status), "detail": detail}
	if scimType != "" {
		m["scimType"] = scimType
	}
	return m
}

func TestEngineErrors(t *testing.T) {
	tests := []struct {
		name     string
		answers  []response
		run      func(ctx context.Context, e *Engine, t Target) error
		requests []string // method and path of every request sent
		is       error    // matched with errors.Is when set
		message  string   // the error text
	}{
		{
			name:     "credentials refused",
			answers:  []response{{Status: 401, Body: scimError(401, "", "the bearer token is not valid")}},
			run:      func(ctx context.Context, e *Engine, t Target) error { return e.TestCredentials(ctx, t) },
			requests: []string{"GET /Users?startIndex=1&count=2"},
			is:       scim.ErrUnauthorized,
			message:  "provision: test credentials: the SCIM server answered 401 Unauthorized to GET /Users?startIndex=1&count=2: the bearer token is not valid (is the API token the app's SCIM secret?)",
		},
		{
			name:     "credentials answered with something else",
			answers:  []response{{Status: 200, Body: map[string]any{"hello": "world"}}},
			run:      func(ctx context.Context, e *Engine, t Target) error { return e.TestCredentials(ctx, t) },
			requests: []string{"GET /Users?startIndex=1&count=2"},
			message:  "provision: test credentials: the SCIM server answered 200 OK to GET /Users?startIndex=1&count=2, but not with a SCIM ListResponse (no totalResults, no ListResponse schema)",
		},
		{
			name:     "credentials with an empty body",
			answers:  []response{{Status: 200, Body: nil}},
			run:      func(ctx context.Context, e *Engine, t Target) error { return e.TestCredentials(ctx, t) },
			requests: []string{"GET /Users?startIndex=1&count=2"},
			message:  "provision: test credentials: the SCIM server answered 200 OK to GET /Users?startIndex=1&count=2, but not with a SCIM ListResponse (no totalResults, no ListResponse schema)",
		},
		{
			name:     "credentials with 201",
			answers:  []response{{Status: 201, Body: listJSON()}},
			run:      func(ctx context.Context, e *Engine, t Target) error { return e.TestCredentials(ctx, t) },
			requests: []string{"GET /Users?startIndex=1&count=2"},
			message:  "provision: test credentials: the SCIM server answered 201 Created to GET /Users?startIndex=1&count=2, where a SCIM server answers 200 OK",
		},
		{
			name:    "create conflict",
			answers: []response{{Status: 200, Body: listJSON()}, {Status: 409, Body: scimError(409, "uniqueness", "userName is taken")}},
			run: func(ctx context.Context, e *Engine, t Target) error {
				_, err := e.CreateUser(ctx, t, alice)
				return err
			},
			requests: []string{"GET /Users?filter=userName%20eq%20%22alice%40example.com%22&startIndex=1&count=100", "POST /Users"},
			is:       scim.ErrUniqueness,
			message:  "provision: create user alice@example.com: client: POST /Users: 409 Conflict: scim: 409 uniqueness: userName is taken",
		},
		{
			name:    "create answered with an empty body",
			answers: []response{{Status: 200, Body: listJSON()}, {Status: 201, Body: nil}},
			run: func(ctx context.Context, e *Engine, t Target) error {
				_, err := e.CreateUser(ctx, t, alice)
				return err
			},
			requests: []string{"GET /Users?filter=userName%20eq%20%22alice%40example.com%22&startIndex=1&count=100", "POST /Users"},
			message:  "provision: create user alice@example.com: POST /Users: client: response has no body",
		},
		{
			name:    "create answered 200",
			answers: []response{{Status: 200, Body: listJSON()}, {Status: 200, Body: userJSON(true, nil)}},
			run: func(ctx context.Context, e *Engine, t Target) error {
				_, err := e.CreateUser(ctx, t, alice)
				return err
			},
			requests: []string{"GET /Users?filter=userName%20eq%20%22alice%40example.com%22&startIndex=1&count=100", "POST /Users"},
			message:  "provision: create user alice@example.com: POST /Users answered 200, want 201",
		},
		{
			name:    "created user without id",
			answers: []response{{Status: 200, Body: listJSON()}, {Status: 201, Body: map[string]any{"userName": "alice@example.com"}}},
			run: func(ctx context.Context, e *Engine, t Target) error {
				_, err := e.CreateUser(ctx, t, alice)
				return err
			},
			requests: []string{"GET /Users?filter=userName%20eq%20%22alice%40example.com%22&startIndex=1&count=100", "POST /Users"},
			message:  "provision: create user alice@example.com: POST /Users: the created user has no id",
		},
		{
			name:    "lookup filter refused",
			answers: []response{{Status: 400, Body: scimError(400, "invalidFilter", "unsupported filter")}},
			run: func(ctx context.Context, e *Engine, t Target) error {
				_, err := e.CreateUser(ctx, t, alice)
				return err
			},
			requests: []string{"GET /Users?filter=userName%20eq%20%22alice%40example.com%22&startIndex=1&count=100"},
			is:       scim.ErrInvalidFilter,
			message:  "provision: create user alice@example.com: client: GET /Users?filter=userName%20eq%20%22alice%40example.com%22&startIndex=1&count=100: 400 Bad Request: scim: 400 invalidFilter: unsupported filter",
		},
		{
			name:    "lookup total without resources",
			answers: []response{{Status: 200, Body: map[string]any{"totalResults": 1}}},
			run: func(ctx context.Context, e *Engine, t Target) error {
				_, err := e.CreateUser(ctx, t, alice)
				return err
			},
			requests: []string{"GET /Users?filter=userName%20eq%20%22alice%40example.com%22&startIndex=1&count=100"},
			message:  "provision: create user alice@example.com: GET /Users?filter=userName%20eq%20%22alice%40example.com%22&startIndex=1&count=100: totalResults is 1 but Resources is empty",
		},
		{
			name: "reactivation refused four times",
			answers: []response{{Status: 200, Body: listJSON(userJSON(false, nil))},
				{Status: 500, Body: scimError(500, "", "boom")}, {Status: 502, Body: scimError(502, "", "boom")},
				{Status: 503, Body: scimError(503, "", "boom")}, {Status: 500, Body: scimError(500, "", "boom")}},
			run: func(ctx context.Context, e *Engine, t Target) error {
				_, err := e.CreateUser(ctx, t, alice)
				return err
			},
			requests: []string{"GET /Users?filter=userName%20eq%20%22alice%40example.com%22&startIndex=1&count=100",
				"PATCH /Users/" + aliceID, "PATCH /Users/" + aliceID, "PATCH /Users/" + aliceID, "PATCH /Users/" + aliceID},
			message: "provision: create user alice@example.com: client: PATCH /Users/" + aliceID + ": 500 Internal Server Error: scim: 500: boom",
		},
		{
			name:     "update of a user the app lost stops",
			answers:  []response{{Status: 404, Body: scimError(404, "", "no such user")}},
			run:      func(ctx context.Context, e *Engine, t Target) error { return e.UpdateUser(ctx, t, aliceID, alice) },
			requests: []string{"GET /Users/" + aliceID},
			is:       scim.ErrNotFound,
			message:  "provision: update user alice@example.com: client: GET /Users/" + aliceID + ": 404 Not Found: scim: 404: no such user",
		},
		{
			name:     "update PUT refused",
			answers:  []response{{Status: 200, Body: userJSON(true, nil)}, {Status: 400, Body: scimError(400, "mutability", "id is read-only")}},
			run:      func(ctx context.Context, e *Engine, t Target) error { return e.UpdateUser(ctx, t, aliceID, alice) },
			requests: []string{"GET /Users/" + aliceID, "PUT /Users/" + aliceID},
			is:       scim.ErrMutability,
			message:  "provision: update user alice@example.com: client: PUT /Users/" + aliceID + ": 400 Bad Request: scim: 400 mutability: id is read-only",
		},
		{
			name:     "deactivate not found",
			answers:  []response{{Status: 404, Body: scimError(404, "", "no such user")}},
			run:      func(ctx context.Context, e *Engine, t Target) error { return e.SetActive(ctx, t, aliceID, false) },
			requests: []string{"PATCH /Users/" + aliceID},
			is:       scim.ErrNotFound,
			message:  "provision: deactivate user " + aliceID + ": client: PATCH /Users/" + aliceID + ": 404 Not Found: scim: 404: no such user",
		},
		{
			name:     "deactivate answered 202",
			answers:  []response{{Status: 202, Body: nil}},
			run:      func(ctx context.Context, e *Engine, t Target) error { return e.SetActive(ctx, t, aliceID, false) },
			requests: []string{"PATCH /Users/" + aliceID},
			message:  "provision: deactivate user " + aliceID + ": PATCH /Users/" + aliceID + " answered 202, want 200 or 204",
		},
		{
			name:    "group without id",
			answers: []response{{Status: 201, Body: map[string]any{"displayName": "Engineering"}}},
			run: func(ctx context.Context, e *Engine, t Target) error {
				_, err := e.PushGroup(ctx, t, "Engineering", nil)
				return err
			},
			requests: []string{"POST /Groups"},
			message:  "provision: push group Engineering: POST /Groups: the created group has no id",
		},
		{
			name:    "group membership refused",
			answers: []response{{Status: 201, Body: groupJSON("Engineering")}, {Status: 400, Body: scimError(400, "invalidValue", "unknown member")}},
			run: func(ctx context.Context, e *Engine, t Target) error {
				_, err := e.PushGroup(ctx, t, "Engineering", []Member{bob})
				return err
			},
			requests: []string{"POST /Groups", "PATCH /Groups/" + groupID},
			is:       scim.ErrInvalidValue,
			message:  "provision: push group Engineering: client: PATCH /Groups/" + groupID + ": 400 Bad Request: scim: 400 invalidValue: unknown member",
		},
		{
			name:     "delete group not found",
			answers:  []response{{Status: 404, Body: scimError(404, "", "no such group")}},
			run:      func(ctx context.Context, e *Engine, t Target) error { return e.DeleteGroup(ctx, t, groupID) },
			requests: []string{"DELETE /Groups/" + groupID},
			is:       scim.ErrNotFound,
			message:  "provision: delete group " + groupID + ": client: DELETE /Groups/" + groupID + ": 404 Not Found: scim: 404: no such group",
		},
		{
			name: "empty login",
			run: func(ctx context.Context, e *Engine, t Target) error {
				_, err := e.CreateUser(ctx, t, User{})
				return err
			},
			message: "provision: create user : empty login",
		},
		{
			name:    "empty user id",
			run:     func(ctx context.Context, e *Engine, t Target) error { return e.SetActive(ctx, t, "", true) },
			message: "provision: reactivate user : empty id",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t, tt.answers)
			e := &Engine{Client: rec.srv.Client(), Logger: slog.New(slog.DiscardHandler), Sleep: noSleep}
			err := tt.run(context.Background(), e, rec.target())
			if err == nil {
				t.Fatal("no error")
			}
			if diff := cmp.Diff(tt.message, err.Error()); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(err, %v) = false", tt.is)
			}
			var sent []string
			for _, x := range rec.exchanges(t) {
				sent = append(sent, x.Method+" "+x.Path)
			}
			if diff := cmp.Diff(tt.requests, sent); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

// members returns n members named m0…m(n-1).
func members(prefix string, n int) []Member {
	ms := make([]Member, n)
	for i := range ms {
		ms[i] = Member{SCIMID: fmt.Sprintf("%s%d", prefix, i), Login: fmt.Sprintf("%s%d@example.com", prefix, i)}
	}
	return ms
}

// opSummary describes a PATCH body as "remove×N add×N replace" per op.
func opSummary(body any) []string {
	m, _ := body.(map[string]any)
	ops, _ := m["Operations"].([]any)
	var out []string
	for _, o := range ops {
		op := o.(map[string]any)
		s := op["op"].(string)
		switch v := op["value"].(type) {
		case []any:
			s += fmt.Sprintf("×%d", len(v))
		case map[string]any:
			s += fmt.Sprintf(" %v", v["displayName"])
		}
		if p, ok := op["path"].(string); ok && strings.HasPrefix(p, "members[") {
			s += " " + p
		}
		out = append(out, s)
	}
	return out
}

func TestGroupBatches(t *testing.T) {
	tests := []struct {
		name string
		run  func(ctx context.Context, e *Engine, t Target) error
		want [][]string // per request: method path, then op summaries
	}{
		{
			name: "push of 300 members",
			run: func(ctx context.Context, e *Engine, t Target) error {
				_, err := e.PushGroup(ctx, t, "Big", members("u", 300))
				return err
			},
			want: [][]string{{"POST /Groups"}, {"PATCH /Groups/" + groupID, "replace Big"}, {"PATCH /Groups/" + groupID, "add×256"}, {"PATCH /Groups/" + groupID, "add×44"}},
		},
		{
			name: "push of exactly 256",
			run: func(ctx context.Context, e *Engine, t Target) error {
				_, err := e.PushGroup(ctx, t, "Big", members("u", 256))
				return err
			},
			want: [][]string{{"POST /Groups"}, {"PATCH /Groups/" + groupID, "replace Big"}, {"PATCH /Groups/" + groupID, "add×256"}},
		},
		{
			name: "push without members",
			run: func(ctx context.Context, e *Engine, t Target) error {
				_, err := e.PushGroup(ctx, t, "Empty", nil)
				return err
			},
			want: [][]string{{"POST /Groups"}},
		},
		{
			name: "update of 255 removals and 3 additions",
			run: func(ctx context.Context, e *Engine, t Target) error {
				return e.UpdateGroup(ctx, t, groupID, "Big", members("a", 3), members("r", 255))
			},
			want: [][]string{
				{"PATCH /Groups/" + groupID, "replace Big"},
				append(append([]string{"PATCH /Groups/" + groupID}, removes("r", 0, 255)...), "add×1"),
				{"PATCH /Groups/" + groupID, "add×2"},
			},
		},
		{
			name: "update without a name sends no rename",
			run: func(ctx context.Context, e *Engine, t Target) error {
				return e.UpdateGroup(ctx, t, groupID, "", members("a", 1), nil)
			},
			want: [][]string{{"PATCH /Groups/" + groupID, "add×1"}},
		},
		{
			name: "rename alone is one request",
			run: func(ctx context.Context, e *Engine, t Target) error {
				return e.UpdateGroup(ctx, t, groupID, "Renamed", nil, nil)
			},
			want: [][]string{{"PATCH /Groups/" + groupID, "replace Renamed"}},
		},
		{
			name: "update with nothing to do sends nothing",
			run: func(ctx context.Context, e *Engine, t Target) error {
				return e.UpdateGroup(ctx, t, groupID, "", nil, nil)
			},
		},
		{
			name: "removal of an id with a quote is escaped",
			run: func(ctx context.Context, e *Engine, t Target) error {
				return e.UpdateGroup(ctx, t, groupID, "G", nil, []Member{{SCIMID: `a"b`}})
			},
			want: [][]string{{"PATCH /Groups/" + groupID, "replace G"}, {"PATCH /Groups/" + groupID, `remove members[value eq "a\"b"]`}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answers := []response{{Status: 201, Body: groupJSON("Big")}}
			if !strings.HasPrefix(tt.name, "push") {
				answers = nil
			}
			for range 5 {
				answers = append(answers, response{Status: 204, Body: nil})
			}
			rec := newRecorder(t, answers)
			if err := tt.run(context.Background(), &Engine{Client: rec.srv.Client()}, rec.target()); err != nil {
				t.Fatalf("engine: %v", err)
			}
			var got [][]string
			for _, x := range rec.exchanges(t) {
				got = append(got, append([]string{x.Method + " " + x.Path}, opSummary(x.Body)...))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

func removes(prefix string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf(`remove members[value eq "%s%d"]`, prefix, i))
	}
	return out
}

func TestUserBodies(t *testing.T) {
	full := User{ID: "00u9", Login: "zoë@example.com", Email: "zoe@example.com", FirstName: "Zoë", LastName: "Doe",
		DisplayName: "Zoë D.", Locale: "de-DE", Title: "Engineer", Department: "R&D"}
	tests := []struct {
		name     string
		user     User
		wantPath string
		wantBody any
	}{
		{
			name:     "title, department and locale",
			user:     full,
			wantPath: "/Users?filter=userName%20eq%20%22zo%C3%AB%40example.com%22&startIndex=1&count=100",
			wantBody: map[string]any{
				"schemas":     []any{scim.SchemaUser, scim.SchemaEnterpriseUser},
				"userName":    "zoë@example.com",
				"name":        map[string]any{"givenName": "Zoë", "familyName": "Doe"},
				"emails":      []any{map[string]any{"primary": true, "value": "zoe@example.com", "type": "work"}},
				"displayName": "Zoë D.", "locale": "de-DE", "title": "Engineer", "externalId": "00u9",
				"groups": []any{}, "password": "<password>", "active": true,
				scim.SchemaEnterpriseUser: map[string]any{"department": "R&D"},
			},
		},
		{
			name:     "login with a quote",
			user:     User{Login: `o"neil`, FirstName: "O", LastName: "Neil"},
			wantPath: "/Users?filter=userName%20eq%20%22o%5C%22neil%22&startIndex=1&count=100",
			wantBody: map[string]any{
				"schemas": []any{scim.SchemaUser}, "userName": `o"neil`,
				"name":        map[string]any{"givenName": "O", "familyName": "Neil"},
				"displayName": "O Neil", "locale": "en-US", "groups": []any{}, "password": "<password>", "active": true,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t, []response{{Status: 200, Body: listJSON()}, {Status: 201, Body: userJSON(true, nil)}})
			e := &Engine{Client: rec.srv.Client(), Password: func() string { return "fixed" }}
			if _, err := e.CreateUser(context.Background(), rec.target(), tt.user); err != nil {
				t.Fatalf("CreateUser: %v", err)
			}
			xs := rec.exchanges(t)
			if len(xs) != 2 {
				t.Fatalf("sent %d requests, want 2", len(xs))
			}
			if diff := cmp.Diff(tt.wantPath, xs[0].Path); diff != "" {
				t.Errorf("lookup (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantBody, xs[1].Body); diff != "" {
				t.Errorf("POST body (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"fixed"}, rec.passwords); diff != "" {
				t.Errorf("passwords (-want +got):\n%s", diff)
			}
		})
	}
}

func TestApplyProfile(t *testing.T) {
	u := User{ID: "00u1", Login: "a@x", Email: "new@x", FirstName: "A", LastName: "B", Department: "Ops"}
	tests := []struct {
		name string
		in   map[string]any
		want map[string]any
	}{
		{
			name: "bare user gains everything",
			in:   map[string]any{"id": "1", "schemas": []any{scim.SchemaUser}},
			want: map[string]any{"id": "1", "schemas": []any{scim.SchemaUser, scim.SchemaEnterpriseUser},
				"userName": "a@x", "name": map[string]any{"givenName": "A", "familyName": "B"},
				"emails":      []any{map[string]any{"primary": true, "value": "new@x", "type": "work"}},
				"displayName": "A B", "locale": "en-US", "externalId": "00u1",
				scim.SchemaEnterpriseUser: map[string]any{"department": "Ops"}},
		},
		{
			name: "work email becomes primary; other emails and attributes stay",
			in: map[string]any{"id": "1", "locale": "fr-FR", "active": false, "name": map[string]any{"middleName": "M"},
				"emails":                  []any{map[string]any{"value": "home@x", "type": "home"}, map[string]any{"value": "old@x", "type": "work"}},
				scim.SchemaEnterpriseUser: map[string]any{"manager": map[string]any{"value": "9"}}},
			want: map[string]any{"id": "1", "locale": "fr-FR", "active": false, "schemas": []any{scim.SchemaEnterpriseUser},
				"userName": "a@x", "name": map[string]any{"givenName": "A", "familyName": "B", "middleName": "M"},
				"emails":      []any{map[string]any{"value": "home@x", "type": "home"}, map[string]any{"value": "new@x", "type": "work", "primary": true}},
				"displayName": "A B", "externalId": "00u1",
				scim.SchemaEnterpriseUser: map[string]any{"department": "Ops", "manager": map[string]any{"value": "9"}}},
		},
		{
			name: "no email of any use gets a primary work email in front",
			in:   map[string]any{"emails": []any{"junk", map[string]any{"value": "h@x", "type": "home"}}},
			want: map[string]any{"schemas": []any{scim.SchemaEnterpriseUser}, "userName": "a@x",
				"name":        map[string]any{"givenName": "A", "familyName": "B"},
				"emails":      []any{map[string]any{"primary": true, "value": "new@x", "type": "work"}, "junk", map[string]any{"value": "h@x", "type": "home"}},
				"displayName": "A B", "locale": "en-US", "externalId": "00u1",
				scim.SchemaEnterpriseUser: map[string]any{"department": "Ops"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			applyProfile(tt.in, u)
			if diff := cmp.Diff(tt.want, tt.in); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestIsActive(t *testing.T) {
	tests := []struct {
		in   any
		want bool
	}{{true, true}, {false, false}, {"False", false}, {"True", true}, {nil, true}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.in), func(t *testing.T) {
			r := scim.Resource{}
			if tt.in != nil {
				r["active"] = tt.in
			}
			if got := isActive(r); got != tt.want {
				t.Errorf("isActive(%v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestDefaultPasswordIsRandom(t *testing.T) {
	e := &Engine{}
	a, b := e.password(), e.password()
	if len(a) < 16 || a == b {
		t.Errorf("passwords %q and %q are not random enough", a, b)
	}
}
