package provision

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim"
)

// TestKinds covers the requests that differ by app kind beyond the goldens.
func TestKinds(t *testing.T) {
	ok := response{Status: 200, Body: userJSON(true, nil)}
	tests := []struct {
		name     string
		answers  []response
		run      func(ctx context.Context, e *Engine, t Target) error
		requests []string
		err      string // the error text; "" = success
		is       error
	}{
		{
			name:    "catalogue deactivation is the path-less PATCH",
			answers: []response{{Status: 204}},
			run: func(ctx context.Context, e *Engine, t Target) error {
				return e.SetActive(ctx, kind(t, KindCatalogue), aliceID, false)
			},
			requests: []string{"PATCH /Users/" + aliceID},
		},
		{
			name:    "custom reactivation is GET then PUT",
			answers: []response{{Status: 200, Body: userJSON(false, nil)}, ok},
			run: func(ctx context.Context, e *Engine, t Target) error {
				return e.SetActive(ctx, kind(t, KindCustom), aliceID, true)
			},
			requests: []string{"GET /Users/" + aliceID, "PUT /Users/" + aliceID},
		},
		{
			name:    "custom deactivation of a user the app lost stops",
			answers: []response{{Status: 404, Body: scimError(404, "", "gone")}},
			run: func(ctx context.Context, e *Engine, t Target) error {
				return e.SetActive(ctx, kind(t, KindCustom), aliceID, false)
			},
			requests: []string{"GET /Users/" + aliceID},
			err:      "provision: deactivate user " + aliceID + ": client: GET /Users/" + aliceID + ": 404 Not Found: scim: 404: gone",
			is:       ErrStopped,
		},
		{
			name:    "custom deactivation with an empty GET body",
			answers: []response{{Status: 200}},
			run: func(ctx context.Context, e *Engine, t Target) error {
				return e.SetActive(ctx, kind(t, KindCustom), aliceID, false)
			},
			requests: []string{"GET /Users/" + aliceID},
			err:      "provision: deactivate user " + aliceID + ": GET /Users/" + aliceID + ": client: response has no body",
		},
		{
			name:    "custom reassignment of an inactive user reactivates with GET and PUT",
			answers: []response{{Status: 200, Body: listJSON(userJSON(false, nil))}, {Status: 200, Body: userJSON(false, nil)}, ok},
			run: func(ctx context.Context, e *Engine, t Target) error {
				_, err := e.CreateUser(ctx, kind(t, KindCustom), alice)
				return err
			},
			requests: []string{"GET /Users?filter=userName%20eq%20%22alice%40example.com%22&startIndex=1&count=100", "GET /Users/" + aliceID, "PUT /Users/" + aliceID},
		},
		{
			name: "custom apps take no PATCH for groups",
			run: func(ctx context.Context, e *Engine, t Target) error {
				return e.UpdateGroup(ctx, kind(t, KindCustom), groupID, "G", nil, nil)
			},
			err:      "provision: update group " + groupID + ": custom apps get the whole group with PUT; use ReplaceGroup",
			requests: nil,
		},
		{
			name:     "ReplaceGroup needs a name",
			run:      func(ctx context.Context, e *Engine, t Target) error { return e.ReplaceGroup(ctx, t, groupID, "", nil) },
			err:      "provision: update group " + groupID + ": empty group name",
			requests: nil,
		},
		{
			name:     "ReplaceGroup answered 204",
			answers:  []response{{Status: 204}},
			run:      func(ctx context.Context, e *Engine, t Target) error { return e.ReplaceGroup(ctx, t, groupID, "G", nil) },
			err:      "provision: update group " + groupID + ": PUT /Groups/" + groupID + " answered 204, want 200",
			requests: []string{"PUT /Groups/" + groupID},
		},
		{
			name: "a catalogue profile push with nothing changed sends nothing",
			run: func(ctx context.Context, e *Engine, t Target) error {
				return e.PatchUser(ctx, kind(t, KindCatalogue), aliceID, alice, alice)
			},
			requests: nil,
		},
		{
			name:     "a password push needs a password",
			run:      func(ctx context.Context, e *Engine, t Target) error { return e.SetPassword(ctx, t, aliceID, "") },
			err:      "provision: push password of user " + aliceID + ": empty password",
			requests: nil,
		},
		{
			name:    "custom password push of a user the app lost stops",
			answers: []response{{Status: 404, Body: scimError(404, "", "gone")}},
			run: func(ctx context.Context, e *Engine, t Target) error {
				return e.SetPassword(ctx, kind(t, KindCustom), aliceID, syncPassword)
			},
			requests: []string{"GET /Users/" + aliceID},
			err:      "provision: push password of user " + aliceID + ": client: GET /Users/" + aliceID + ": 404 Not Found: scim: 404: gone",
			is:       scim.ErrNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t, tt.answers)
			e := &Engine{Client: rec.srv.Client(), Sleep: noSleep}
			err := tt.run(context.Background(), e, rec.target())
			got := ""
			if err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tt.err, got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
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

func TestCustomBodies(t *testing.T) {
	t.Run("deactivation PUT carries back what the GET returned", func(t *testing.T) {
		rec := newRecorder(t, []response{{Status: 200, Body: userJSON(true, map[string]any{"nickName": "Ali"})}, {Status: 200, Body: userJSON(false, nil)}})
		e := &Engine{Client: rec.srv.Client()}
		if err := e.SetActive(context.Background(), kind(rec.target(), KindCustom), aliceID, false); err != nil {
			t.Fatal(err)
		}
		xs := rec.exchanges(t)
		want := roundTrip(t, []exchange{{Body: userJSON(false, map[string]any{"nickName": "Ali"})}})[0].Body
		if diff := cmp.Diff(want, xs[1].Body); diff != "" {
			t.Errorf("PUT body (-want +got):\n%s", diff)
		}
	})
	t.Run("group push of 300 members is one POST", func(t *testing.T) {
		rec := newRecorder(t, []response{{Status: 201, Body: groupJSON("Big")}})
		e := &Engine{Client: rec.srv.Client()}
		if _, err := e.PushGroup(context.Background(), kind(rec.target(), KindCustom), "Big", members("u", 300)); err != nil {
			t.Fatal(err)
		}
		xs := rec.exchanges(t)
		if len(xs) != 1 {
			t.Fatalf("%d requests, want 1", len(xs))
		}
		ms, _ := xs[0].Body.(map[string]any)["members"].([]any)
		if len(ms) != 300 {
			t.Errorf("POST carried %d members, want 300", len(ms))
		}
	})
}

func TestProfilePatch(t *testing.T) {
	full := User{ID: "00u1", Login: "a@x", Email: "a@x", FirstName: "A", LastName: "B", Title: "T", Department: "D"}
	with := func(f func(*User)) User {
		u := full
		f(&u)
		return u
	}
	tests := []struct {
		name  string
		after User
		want  map[string]any
	}{
		{"nothing", full, map[string]any{}},
		{"first name", with(func(u *User) { u.FirstName = "Al" }), map[string]any{"name": map[string]any{"givenName": "Al"}, "displayName": "Al B"}},
		{"explicit display name stays", with(func(u *User) { u.LastName = "C"; u.DisplayName = "A B" }), map[string]any{"name": map[string]any{"familyName": "C"}}},
		{"login and email", with(func(u *User) { u.Login, u.Email = "b@x", "b@x" }),
			map[string]any{"userName": "b@x", "emails": []any{map[string]any{"primary": true, "value": "b@x", "type": "work"}}}},
		{"locale", with(func(u *User) { u.Locale = "fr-FR" }), map[string]any{"locale": "fr-FR"}},
		{"title and department", with(func(u *User) { u.Title, u.Department = "CTO", "R&D" }),
			map[string]any{"title": "CTO", scim.SchemaEnterpriseUser: map[string]any{"department": "R&D"}}},
		{"cleared title and department are not sent", with(func(u *User) { u.Title, u.Department = "", "" }), map[string]any{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, profilePatch(full, tt.after)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// With Sync Password on, the user's own password is what the POST and the
// password pushes carry.
func TestPasswordSync(t *testing.T) {
	tests := []struct {
		name    string
		answers []response
		run     func(ctx context.Context, e *Engine, t Target) error
	}{
		{"create", []response{{Status: 200, Body: listJSON()}, {Status: 201, Body: userJSON(true, nil)}}, func(ctx context.Context, e *Engine, t Target) error {
			u := alice
			u.Password = syncPassword
			_, err := e.CreateUser(ctx, t, u)
			return err
		}},
		{"push", []response{{Status: 204}}, func(ctx context.Context, e *Engine, t Target) error {
			return e.SetPassword(ctx, t, aliceID, syncPassword)
		}},
		{"push to a catalogue app", []response{{Status: 200, Body: userJSON(true, nil)}}, func(ctx context.Context, e *Engine, t Target) error {
			return e.SetPassword(ctx, kind(t, KindCatalogue), aliceID, syncPassword)
		}},
		{"push to a custom app", []response{{Status: 200, Body: userJSON(true, nil)}, {Status: 200, Body: userJSON(true, nil)}}, func(ctx context.Context, e *Engine, t Target) error {
			return e.SetPassword(ctx, kind(t, KindCustom), aliceID, syncPassword)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t, tt.answers)
			e := &Engine{Client: rec.srv.Client(), Password: func() string { panic("a random password was drawn") }}
			if err := tt.run(context.Background(), e, rec.target()); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{syncPassword}, rec.passwords); diff != "" {
				t.Errorf("passwords sent (-want +got):\n%s", diff)
			}
		})
	}
}
