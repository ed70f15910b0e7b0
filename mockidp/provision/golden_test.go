package provision

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// update rewrites the goldens: go test ./mockidp/provision -update
var update = flag.Bool("update", false, "rewrite testdata/okta/*.json from what the engine sends")

// goldenDir holds one transcript per Okta admin action.
const goldenDir = "../../testdata/okta"

// Fixtures: an Okta user and what a SCIM server makes of it.
var (
	alice = User{ID: "00u1ab2cd3EF4gh5ij6k7", Login: "alice@example.com", Email: "alice@example.com", FirstName: "Alice", LastName: "Example"}
	bob   = Member{SCIMID: "5d8a3c1e-0b7f-4a52-9c1d-2e6f7a8b9c0d", Login: "bob@example.com"}
	carol = Member{SCIMID: "7e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b", Login: "carol@example.com"}
	dave  = Member{SCIMID: "9a0b1c2d-3e4f-4a5b-9c6d-7e8f9a0b1c2d", Login: "dave@example.com"}
)

const (
	aliceID = "2819c223-7f76-453a-919d-413861904646"
	groupID = "e9e30dba-f08f-4109-8486-d5c6a331660a"
)

func userJSON(active bool, extra map[string]any) map[string]any {
	u := map[string]any{
		"schemas":     []any{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"id":          aliceID,
		"externalId":  alice.ID,
		"userName":    "alice@example.com",
		"name":        map[string]any{"givenName": "Alice", "familyName": "Example", "formatted": "Alice Example"},
		"emails":      []any{map[string]any{"primary": true, "value": "alice@example.com", "type": "work"}},
		"displayName": "Alice Example",
		"locale":      "en-US",
		"active":      active,
		"groups":      []any{},
		"meta": map[string]any{
			"resourceType": "User",
			"created":      "2026-01-02T03:04:05Z",
			"lastModified": "2026-01-02T03:04:05Z",
			"location":     "https://app.example/t/acme/scim/v2/Users/" + aliceID,
			"version":      `W/"1"`,
		},
	}
	for k, v := range extra {
		u[k] = v
	}
	return u
}

func listJSON(rs ...any) map[string]any {
	if rs == nil {
		rs = []any{}
	}
	return map[string]any{
		"schemas":      []any{"urn:ietf:params:scim:api:messages:2.0:ListResponse"},
		"totalResults": len(rs),
		"startIndex":   1,
		"itemsPerPage": len(rs),
		"Resources":    rs,
	}
}

// pageJSON is one page of a list of total resources starting at start.
func pageJSON(total, start int, rs ...any) map[string]any {
	m := listJSON(rs...)
	m["totalResults"], m["startIndex"] = total, start
	return m
}

func groupJSON(name string) map[string]any {
	return map[string]any{
		"schemas":     []any{"urn:ietf:params:scim:schemas:core:2.0:Group"},
		"id":          groupID,
		"displayName": name,
		"members":     []any{},
		"meta": map[string]any{
			"resourceType": "Group",
			"created":      "2026-01-02T03:04:05Z",
			"lastModified": "2026-01-02T03:04:05Z",
			"location":     "https://app.example/t/acme/scim/v2/Groups/" + groupID,
			"version":      `W/"1"`,
		},
	}
}

// wantID fails unless got is want.
func wantID(got, want string, err error) error {
	if err == nil && got != want {
		return fmt.Errorf("id = %q, want %q", got, want)
	}
	return err
}

// goldenScenarios are the admin actions of okta-traffic.md §1, one golden each.
var goldenScenarios = []struct {
	name    string
	answers []response
	run     func(ctx context.Context, e *Engine, t Target) error
}{
	{
		name:    "test-api-credentials",
		answers: []response{{200, listJSON(userJSON(true, nil))}},
		run:     func(ctx context.Context, e *Engine, t Target) error { return e.TestCredentials(ctx, t) },
	},
	{
		name:    "save-to-app-settings",
		answers: []response{{200, listJSON(groupJSON("Engineering"))}},
		run:     func(ctx context.Context, e *Engine, t Target) error { return e.SaveToAppSettings(ctx, t) },
	},
	{
		// The canned pages claim 101 users but hold one each, to keep the
		// transcript short: what matters is startIndex=101 on the second GET.
		name:    "import-users",
		answers: []response{{200, pageJSON(101, 1, userJSON(true, nil))}, {200, pageJSON(101, 101, userJSON(true, map[string]any{"id": bob.SCIMID, "userName": bob.Login, "externalId": nil}))}},
		run: func(ctx context.Context, e *Engine, t Target) error {
			rs, err := e.ImportUsers(ctx, t)
			if err == nil && len(rs) != 2 {
				err = fmt.Errorf("imported %d users, want 2", len(rs))
			}
			return err
		},
	},
	{
		name:    "import-groups",
		answers: []response{{200, listJSON(groupJSON("Engineering"))}},
		run: func(ctx context.Context, e *Engine, t Target) error {
			rs, err := e.ImportGroups(ctx, t)
			if err == nil && len(rs) != 1 {
				err = fmt.Errorf("imported %d groups, want 1", len(rs))
			}
			return err
		},
	},
	{
		name:    "assign-user-new",
		answers: []response{{200, listJSON()}, {201, userJSON(true, nil)}},
		run: func(ctx context.Context, e *Engine, t Target) error {
			id, err := e.CreateUser(ctx, t, alice)
			return wantID(id, aliceID, err)
		},
	},
	{
		name:    "assign-user-existing-inactive",
		answers: []response{{200, listJSON(userJSON(false, nil))}, {200, userJSON(true, nil)}},
		run: func(ctx context.Context, e *Engine, t Target) error {
			id, err := e.CreateUser(ctx, t, alice)
			return wantID(id, aliceID, err)
		},
	},
	{
		name:    "assign-user-existing-active",
		answers: []response{{200, listJSON(userJSON(true, nil))}},
		run: func(ctx context.Context, e *Engine, t Target) error {
			id, err := e.CreateUser(ctx, t, alice)
			return wantID(id, aliceID, err)
		},
	},
	{
		name: "profile-update",
		answers: []response{
			{200, userJSON(true, map[string]any{
				"groups":   []any{map[string]any{"value": groupID, "display": "Engineering", "$ref": "https://app.example/t/acme/scim/v2/Groups/" + groupID}},
				"nickName": "Ali",
			})},
			{200, userJSON(true, map[string]any{
				"name":        map[string]any{"givenName": "Alice", "familyName": "Smith", "formatted": "Alice Smith"},
				"emails":      []any{map[string]any{"primary": true, "value": "alice.smith@example.com", "type": "work"}},
				"displayName": "Alice Smith",
				"groups":      []any{map[string]any{"value": groupID, "display": "Engineering", "$ref": "https://app.example/t/acme/scim/v2/Groups/" + groupID}},
				"nickName":    "Ali",
			})},
		},
		run: func(ctx context.Context, e *Engine, t Target) error {
			u := alice
			u.LastName = "Smith"
			u.Email = "alice.smith@example.com"
			return e.UpdateUser(ctx, t, aliceID, u)
		},
	},
	{
		name:    "deactivate",
		answers: []response{{200, userJSON(false, nil)}},
		run:     func(ctx context.Context, e *Engine, t Target) error { return e.SetActive(ctx, t, aliceID, false) },
	},
	{
		name:    "reactivate",
		answers: []response{{204, nil}},
		run:     func(ctx context.Context, e *Engine, t Target) error { return e.SetActive(ctx, t, aliceID, true) },
	},
	{
		name:    "group-push-create",
		answers: []response{{201, groupJSON("Engineering")}, {204, nil}, {204, nil}},
		run: func(ctx context.Context, e *Engine, t Target) error {
			id, err := e.PushGroup(ctx, t, "Engineering", []Member{{SCIMID: aliceID, Login: alice.Login}, bob})
			return wantID(id, groupID, err)
		},
	},
	{
		name:    "group-push-membership",
		answers: []response{{204, nil}, {204, nil}},
		run: func(ctx context.Context, e *Engine, t Target) error {
			return e.UpdateGroup(ctx, t, groupID, "Engineering", []Member{carol, dave}, []Member{bob})
		},
	},
	{
		name:    "group-rename",
		answers: []response{{204, nil}},
		run: func(ctx context.Context, e *Engine, t Target) error {
			return e.UpdateGroup(ctx, t, groupID, "Platform Engineering", nil, nil)
		},
	},
	{
		name:    "group-delete",
		answers: []response{{204, nil}},
		run:     func(ctx context.Context, e *Engine, t Target) error { return e.DeleteGroup(ctx, t, groupID) },
	},
}

func TestGoldens(t *testing.T) {
	for _, sc := range goldenScenarios {
		t.Run(sc.name, func(t *testing.T) {
			rec := newRecorder(t, sc.answers)
			e := &Engine{Client: rec.srv.Client()}
			if err := sc.run(context.Background(), e, rec.target()); err != nil {
				t.Errorf("engine: %v", err)
			}
			got := rec.exchanges(t)
			for _, p := range rec.passwords {
				if len(p) < 16 {
					t.Errorf("password %q is too short to be random", p)
				}
			}
			file := filepath.Join(goldenDir, sc.name+".json")
			if *update {
				writeGolden(t, file, got)
				return
			}
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("read golden (regenerate with go test ./mockidp/provision -update): %v", err)
			}
			var want []exchange
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatalf("golden %s: %v", file, err)
			}
			if diff := cmp.Diff(roundTrip(t, want), got); diff != "" {
				t.Errorf("%s (-golden +sent):\n%s", file, diff)
			}
		})
	}
}

func writeGolden(t *testing.T, file string, xs []exchange) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(xs); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
