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
	"time"

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

// syncPassword is an Okta password pushed with Sync Password on.
const syncPassword = "Correct-Horse-Battery-9"

// kind returns t for an app of that kind.
func kind(t Target, k string) Target {
	t.Kind = k
	return t
}

// goldenScenarios are the admin actions of okta-traffic.md §1, one golden each.
var goldenScenarios = []struct {
	name    string
	answers []response
	run     func(ctx context.Context, e *Engine, t Target) error
	waits   []time.Duration // the waits between attempts the engine asked for
}{
	{
		name:    "test-api-credentials",
		answers: []response{{Status: 200, Body: listJSON(userJSON(true, nil))}},
		run:     func(ctx context.Context, e *Engine, t Target) error { return e.TestCredentials(ctx, t) },
	},
	{
		name:    "save-to-app-settings",
		answers: []response{{Status: 200, Body: listJSON(groupJSON("Engineering"))}},
		run:     func(ctx context.Context, e *Engine, t Target) error { return e.SaveToAppSettings(ctx, t) },
	},
	{
		// The canned pages claim 101 users but hold one each, to keep the
		// transcript short: what matters is startIndex=101 on the second GET.
		name:    "import-users",
		answers: []response{{Status: 200, Body: pageJSON(101, 1, userJSON(true, nil))}, {Status: 200, Body: pageJSON(101, 101, userJSON(true, map[string]any{"id": bob.SCIMID, "userName": bob.Login, "externalId": nil}))}},
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
		answers: []response{{Status: 200, Body: listJSON(groupJSON("Engineering"))}},
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
		answers: []response{{Status: 200, Body: listJSON()}, {Status: 201, Body: userJSON(true, nil)}},
		run: func(ctx context.Context, e *Engine, t Target) error {
			id, err := e.CreateUser(ctx, t, alice)
			return wantID(id, aliceID, err)
		},
	},
	{
		name:    "assign-user-existing-inactive",
		answers: []response{{Status: 200, Body: listJSON(userJSON(false, nil))}, {Status: 200, Body: userJSON(true, nil)}},
		run: func(ctx context.Context, e *Engine, t Target) error {
			id, err := e.CreateUser(ctx, t, alice)
			return wantID(id, aliceID, err)
		},
	},
	{
		name:    "assign-user-existing-active",
		answers: []response{{Status: 200, Body: listJSON(userJSON(true, nil))}},
		run: func(ctx context.Context, e *Engine, t Target) error {
			id, err := e.CreateUser(ctx, t, alice)
			return wantID(id, aliceID, err)
		},
	},
	{
		name: "profile-update",
		answers: []response{
			{Status: 200, Body: userJSON(true, map[string]any{
				"groups":   []any{map[string]any{"value": groupID, "display": "Engineering", "$ref": "https://app.example/t/acme/scim/v2/Groups/" + groupID}},
				"nickName": "Ali",
			})},
			{Status: 200, Body: userJSON(true, map[string]any{
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
		answers: []response{{Status: 200, Body: userJSON(false, nil)}},
		run:     func(ctx context.Context, e *Engine, t Target) error { return e.SetActive(ctx, t, aliceID, false) },
	},
	{
		name:    "reactivate",
		answers: []response{{Status: 204, Body: nil}},
		run:     func(ctx context.Context, e *Engine, t Target) error { return e.SetActive(ctx, t, aliceID, true) },
	},
	{
		name:    "group-push-create",
		answers: []response{{Status: 201, Body: groupJSON("Engineering")}, {Status: 204, Body: nil}, {Status: 204, Body: nil}},
		run: func(ctx context.Context, e *Engine, t Target) error {
			id, err := e.PushGroup(ctx, t, "Engineering", []Member{{SCIMID: aliceID, Login: alice.Login}, bob})
			return wantID(id, groupID, err)
		},
	},
	{
		name:    "group-push-membership",
		answers: []response{{Status: 204, Body: nil}, {Status: 204, Body: nil}},
		run: func(ctx context.Context, e *Engine, t Target) error {
			return e.UpdateGroup(ctx, t, groupID, "Engineering", []Member{carol, dave}, []Member{bob})
		},
	},
	{
		name:    "group-rename",
		answers: []response{{Status: 204, Body: nil}},
		run: func(ctx context.Context, e *Engine, t Target) error {
			return e.UpdateGroup(ctx, t, groupID, "Platform Engineering", nil, nil)
		},
	},
	{
		name:    "group-delete",
		answers: []response{{Status: 204, Body: nil}},
		run:     func(ctx context.Context, e *Engine, t Target) error { return e.DeleteGroup(ctx, t, groupID) },
	},
	{
		// A catalogue app gets the changed attributes only, in one
		// path-less replace, and no GET.
		name: "profile-update-catalogue",
		answers: []response{{Status: 200, Body: userJSON(true, map[string]any{
			"name":        map[string]any{"givenName": "Alice", "familyName": "Smith", "formatted": "Alice Smith"},
			"emails":      []any{map[string]any{"primary": true, "value": "alice.smith@example.com", "type": "work"}},
			"displayName": "Alice Smith",
		})}},
		run: func(ctx context.Context, e *Engine, t Target) error {
			u := alice
			u.LastName = "Smith"
			u.Email = "alice.smith@example.com"
			return e.PatchUser(ctx, kind(t, KindCatalogue), aliceID, alice, u)
		},
	},
	{
		name:    "deactivate-custom",
		answers: []response{{Status: 200, Body: userJSON(true, nil)}, {Status: 200, Body: userJSON(false, nil)}},
		run: func(ctx context.Context, e *Engine, t Target) error {
			return e.SetActive(ctx, kind(t, KindCustom), aliceID, false)
		},
	},
	{
		name: "group-push-create-custom",
		answers: []response{{Status: 201, Body: func() map[string]any {
			g := groupJSON("Engineering")
			g["members"] = []any{map[string]any{"value": aliceID, "display": alice.Login}, map[string]any{"value": bob.SCIMID, "display": bob.Login}}
			return g
		}()}},
		run: func(ctx context.Context, e *Engine, t Target) error {
			id, err := e.PushGroup(ctx, kind(t, KindCustom), "Engineering", []Member{{SCIMID: aliceID, Login: alice.Login}, bob})
			return wantID(id, groupID, err)
		},
	},
	{
		// Bob left and Carol and Dave joined: the whole group goes back.
		name: "group-push-membership-custom",
		answers: []response{{Status: 200, Body: func() map[string]any {
			g := groupJSON("Engineering")
			g["members"] = []any{map[string]any{"value": aliceID, "display": alice.Login}, map[string]any{"value": carol.SCIMID, "display": carol.Login}, map[string]any{"value": dave.SCIMID, "display": dave.Login}}
			return g
		}()}},
		run: func(ctx context.Context, e *Engine, t Target) error {
			return e.ReplaceGroup(ctx, kind(t, KindCustom), groupID, "Engineering", []Member{{SCIMID: aliceID, Login: alice.Login}, carol, dave})
		},
	},
	{
		name:    "password-push",
		answers: []response{{Status: 204}},
		run: func(ctx context.Context, e *Engine, t Target) error {
			return e.SetPassword(ctx, t, aliceID, syncPassword)
		},
	},
	{
		name:    "password-push-custom",
		answers: []response{{Status: 200, Body: userJSON(true, nil)}, {Status: 200, Body: userJSON(true, nil)}},
		run: func(ctx context.Context, e *Engine, t Target) error {
			return e.SetPassword(ctx, kind(t, KindCustom), aliceID, syncPassword)
		},
	},
	{
		// The lookup is answered 429 with Retry-After: 1; the engine waits
		// one second and sends it again, then creates the user.
		name: "retry-after-429",
		answers: []response{
			{Status: 429, Header: map[string]string{"Retry-After": "1"}, Body: scimError(429, "", "too many requests")},
			{Status: 200, Body: listJSON()},
			{Status: 201, Body: userJSON(true, nil)},
		},
		run: func(ctx context.Context, e *Engine, t Target) error {
			id, err := e.CreateUser(ctx, t, alice)
			return wantID(id, aliceID, err)
		},
		waits: []time.Duration{time.Second},
	},
}

func TestGoldens(t *testing.T) {
	for _, sc := range goldenScenarios {
		t.Run(sc.name, func(t *testing.T) {
			rec := newRecorder(t, sc.answers)
			var waits []time.Duration
			e := &Engine{Client: rec.srv.Client(), Sleep: func(_ context.Context, d time.Duration) error {
				waits = append(waits, d)
				return nil
			}}
			if err := sc.run(context.Background(), e, rec.target()); err != nil {
				t.Errorf("engine: %v", err)
			}
			if diff := cmp.Diff(sc.waits, waits); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
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
