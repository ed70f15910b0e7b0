package provision

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/client"
	"github.com/idpkit/idpkit/scim/secret"
	"github.com/idpkit/idpkit/scim/server"
	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
)

// TestAgainstServer provisions a user and a group end to end into idpkit's
// own SCIM server on a temporary SQLite database.
func TestAgainstServer(t *testing.T) {
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "idpkit.db"), sqlstore.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	token := secret.New()
	now := time.Now()
	if err := st.CreateTenant(ctx, store.Tenant{Name: "acme", TokenHash: secret.Hash(token), Created: now, Modified: now}); err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	mux := http.NewServeMux()
	server.New(server.Config{Store: st}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	target := Target{BaseURL: srv.URL + "/t/acme/scim/v2", Token: token}
	e := &Engine{Client: srv.Client()}
	c := client.New(target.BaseURL, token)
	c.HTTP = srv.Client()

	okta := map[string]User{
		"alice": {ID: "00ualice0000000000001", Login: "alice@example.com", Email: "alice@example.com", FirstName: "Alice", LastName: "Example"},
		"bob":   {ID: "00ubob000000000000001", Login: "bob@example.com", Email: "bob@example.com", FirstName: "Bob", LastName: "Builder", Department: "R&D"},
	}
	ids := map[string]string{}
	var groupID string

	user := func(t *testing.T, id string) scim.Resource {
		t.Helper()
		r, err := c.Get(ctx, "Users", id)
		if err != nil {
			t.Fatalf("get user: %v", err)
		}
		return r
	}

	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"test credentials", func(t *testing.T) {
			if err := e.TestCredentials(ctx, target); err != nil {
				t.Fatal(err)
			}
		}},
		{"test credentials with a wrong token", func(t *testing.T) {
			err := e.TestCredentials(ctx, Target{BaseURL: target.BaseURL, Token: "wrong"})
			if !errors.Is(err, scim.ErrUnauthorized) {
				t.Fatalf("err = %v, want 401", err)
			}
		}},
		{"assign two users", func(t *testing.T) {
			for _, k := range []string{"alice", "bob"} {
				id, err := e.CreateUser(ctx, target, okta[k])
				if err != nil {
					t.Fatal(err)
				}
				ids[k] = id
			}
			r := user(t, ids["alice"])
			got := map[string]any{"userName": r["userName"], "externalId": r["externalId"], "active": r["active"], "displayName": r["displayName"]}
			want := map[string]any{"userName": "alice@example.com", "externalId": okta["alice"].ID, "active": true, "displayName": "Alice Example"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("alice (-want +got):\n%s", diff)
			}
			if _, ok := r["password"]; ok {
				t.Error("the server returned the password")
			}
			ext, _ := user(t, ids["bob"])[scim.SchemaEnterpriseUser].(map[string]any)
			if ext["department"] != "R&D" {
				t.Errorf("bob's enterprise extension = %v, want department R&D", ext)
			}
		}},
		{"assign an existing active user adopts it", func(t *testing.T) {
			id, err := e.CreateUser(ctx, target, okta["alice"])
			if err != nil || id != ids["alice"] {
				t.Fatalf("CreateUser = %q, %v; want %q", id, err, ids["alice"])
			}
		}},
		{"profile change", func(t *testing.T) {
			u := okta["alice"]
			u.LastName = "Smith"
			u.Email = "alice.smith@example.com"
			if err := e.UpdateUser(ctx, target, ids["alice"], u); err != nil {
				t.Fatal(err)
			}
			r := user(t, ids["alice"])
			name, _ := r["name"].(map[string]any)
			if name["familyName"] != "Smith" || r["displayName"] != "Alice Smith" {
				t.Errorf("after update: name %v, displayName %v", r["name"], r["displayName"])
			}
		}},
		{"deactivate keeps the user readable", func(t *testing.T) {
			if err := e.SetActive(ctx, target, ids["alice"], false); err != nil {
				t.Fatal(err)
			}
			if a := user(t, ids["alice"])["active"]; a != false {
				t.Errorf("active = %v, want false", a)
			}
		}},
		{"reassign reactivates", func(t *testing.T) {
			id, err := e.CreateUser(ctx, target, okta["alice"])
			if err != nil || id != ids["alice"] {
				t.Fatalf("CreateUser = %q, %v; want %q", id, err, ids["alice"])
			}
			if a := user(t, ids["alice"])["active"]; a != true {
				t.Errorf("active = %v, want true", a)
			}
		}},
		{"push a group", func(t *testing.T) {
			id, err := e.PushGroup(ctx, target, "Engineering", []Member{{SCIMID: ids["alice"], Login: "alice@example.com"}})
			if err != nil {
				t.Fatal(err)
			}
			groupID = id
		}},
		{"membership update and rename", func(t *testing.T) {
			err := e.UpdateGroup(ctx, target, groupID, "Platform",
				[]Member{{SCIMID: ids["bob"], Login: "bob@example.com"}}, []Member{{SCIMID: ids["alice"], Login: "alice@example.com"}})
			if err != nil {
				t.Fatal(err)
			}
			g, err := c.Get(ctx, "Groups", groupID)
			if err != nil {
				t.Fatal(err)
			}
			var members []string
			ms, _ := g["members"].([]any)
			for _, m := range ms {
				mm, _ := m.(map[string]any)
				v, _ := mm["value"].(string)
				members = append(members, v)
			}
			if diff := cmp.Diff(map[string]any{"displayName": "Platform", "members": []string{ids["bob"]}},
				map[string]any{"displayName": g["displayName"], "members": members}); diff != "" {
				t.Errorf("group (-want +got):\n%s", diff)
			}
		}},
		{"delete the group", func(t *testing.T) {
			if err := e.DeleteGroup(ctx, target, groupID); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Get(ctx, "Groups", groupID); !errors.Is(err, scim.ErrNotFound) {
				t.Errorf("get deleted group: %v, want 404", err)
			}
		}},
		{"update of an unknown user stops", func(t *testing.T) {
			err := e.UpdateUser(ctx, target, "no-such-user", okta["alice"])
			if !errors.Is(err, scim.ErrNotFound) {
				t.Errorf("err = %v, want 404", err)
			}
		}},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.run) {
			t.FailNow()
		}
	}
}
