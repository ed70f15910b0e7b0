package mockidp

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/mockidp/op"
)

const notAssigned = "error=access_denied&error_description=User+is+not+assigned+to+the+client+application."

// TestAppAccess: Okta signs a user in to an OIDC app only when the user
// is assigned to it. An app of a seed (or AddApp, or /__mock/apps) is open
// to everyone unless its access is "assigned"; users created later join
// through the Everyone group.
func TestAppAccess(t *testing.T) {
	seed := &Seed{
		Users: []SeedUser{
			{Login: "alice@example.com", FirstName: "Alice", LastName: "A", Password: "Correct-Horse-9"},
			{Login: "bob@example.com", FirstName: "Bob", LastName: "B", Password: "Correct-Horse-9"},
			{Login: "carol@example.com", FirstName: "Carol", LastName: "C", Password: "Correct-Horse-9"},
		},
		Groups: []SeedGroup{{Name: "Wiki Users", Members: []string{"bob@example.com"}}},
		Apps: []SeedApp{
			{Label: "open", Type: SeedAppOIDC, RedirectURIs: []string{redirectURI}},
			{Label: "closed", Type: SeedAppOIDC, RedirectURIs: []string{redirectURI}, Access: AccessAssigned},
			{Label: "everyone by assignment", Type: SeedAppOIDC, RedirectURIs: []string{redirectURI}, Access: AccessAssigned},
		},
		Assignments: []SeedAssignment{
			{App: "closed", Users: []string{"alice@example.com"}, Groups: []string{"Wiki Users"}},
			{App: "everyone by assignment", Groups: []string{"Everyone"}},
		},
	}
	s := NewServer(WithSeed(seed))
	defer s.Close()
	if _, err := s.AddUser(SeedUser{Login: "dave@example.com", FirstName: "Dave", LastName: "D", Password: "Correct-Horse-9"}); err != nil {
		t.Fatal(err)
	}
	signIn := func(app, login string) string {
		a := s.Seeded().Apps[app]
		if err := s.QueueLogin(op.QueuedLogin{Login: login, ClientID: a.ClientID}); err != nil {
			t.Fatal(err)
		}
		_, err := newRP(s, a.ClientID, a.ClientSecret, redirectURI, false).login()
		switch {
		case err == nil:
			return "signed in"
		case strings.Contains(err.Error(), notAssigned):
			return "not assigned"
		}
		return err.Error()
	}
	for _, app := range []string{"open", "closed", "everyone by assignment"} {
		t.Run(app, func(t *testing.T) {
			var got []string
			for _, login := range []string{"alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"} {
				got = append(got, login+": "+signIn(app, login))
			}
			want := []string{"alice@example.com: signed in", "bob@example.com: signed in", "carol@example.com: signed in", "dave@example.com: signed in"}
			if app == "closed" { // alice directly, bob through the group
				want[2], want[3] = "carol@example.com: not assigned", "dave@example.com: not assigned"
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("assigning carol lets her in", func(t *testing.T) {
		if err := s.Assign(SeedAssignment{App: "closed", Users: []string{"carol@example.com"}}); err != nil {
			t.Fatal(err)
		}
		if got := signIn("closed", "carol@example.com"); got != "signed in" {
			t.Errorf("carol: %s", got)
		}
	})
	t.Run("the groups claim leaves Everyone out", func(t *testing.T) {
		bob, err := s.Directory().User("bob@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if g, _ := s.Directory().UserGroups(bob.ID); len(g) != 2 || g[0].Name != "Everyone" {
			t.Errorf("bob's groups %v, want Everyone and Wiki Users", g)
		}
		if got := (opDirectory{s.Directory()}).opUser(bob).Groups; !cmp.Equal([]string{"Wiki Users"}, got) {
			t.Errorf("groups claim %v, want [Wiki Users]", got)
		}
	})
}

// TestAppAccessOverHTTP: the same rule driven through /__mock/: an app
// with access "assigned" refuses a queued login until the user is
// assigned, and the Everyone group can be assigned by name.
func TestAppAccessOverHTTP(t *testing.T) {
	s := NewServer()
	defer s.Close()
	ctlJSON(t, s, "POST", "/__mock/users", `{"login":"alice@example.com","firstName":"Alice","lastName":"A","password":"Correct-Horse-9"}`, 201)
	app := ctlJSON(t, s, "POST", "/__mock/apps", `{"label":"closed","type":"oidc","access":"assigned","redirectUris":["`+redirectURI+`"]}`, 201)
	oc := app["credentials"].(map[string]any)["oauthClient"].(map[string]any)
	c := newRP(s, oc["client_id"].(string), oc["client_secret"].(string), redirectURI, false)

	ctlJSON(t, s, "POST", "/__mock/login", `{"login":"alice@example.com","clientId":"`+c.clientID+`"}`, 202)
	if _, err := c.login(); err == nil || !strings.Contains(err.Error(), notAssigned) {
		t.Errorf("unassigned: %v, want %s", err, notAssigned)
	}
	if got := ctlJSON(t, s, "POST", "/__mock/assignments", `{"app":"closed","groups":["Everyone"]}`, 200); got["groups"] != 1.0 {
		t.Errorf("assign Everyone: %v", got)
	}
	ctlJSON(t, s, "POST", "/__mock/login", `{"login":"alice@example.com","clientId":"`+c.clientID+`"}`, 202)
	if _, err := c.login(); err != nil {
		t.Errorf("assigned through Everyone: %v", err)
	}
	status, body, _ := ctl(t, s, "POST", "/__mock/apps", "SSWS "+s.APIToken, `{"label":"x","type":"oidc","access":"some","redirectUris":["`+redirectURI+`"]}`)
	if status != 400 || !strings.Contains(body, `access \"some\"`) {
		t.Errorf("bad access: %d %s", status, body)
	}
}
