package provision

import (
	"context"
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

// idpkitServer runs idpkit's own SCIM server on a temporary SQLite store.
func idpkitServer(t *testing.T) (Target, *client.Client, *http.Client) {
	t.Helper()
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
	c := client.New(target.BaseURL, token)
	c.HTTP = srv.Client()
	return target, c, srv.Client()
}

// The catalogue and custom requests are ones a standard SCIM server takes.
func TestKindsAgainstServer(t *testing.T) {
	ctx := context.Background()
	for _, k := range []string{KindCatalogue, KindCustom} {
		t.Run(k, func(t *testing.T) {
			target, c, hc := idpkitServer(t)
			target.Kind = k
			e := &Engine{Client: hc, Sleep: noSleep}
			u := User{ID: "00ualice0000000000001", Login: "alice@example.com", Email: "alice@example.com", FirstName: "Alice", LastName: "Example"}
			id, err := e.CreateUser(ctx, target, u)
			if err != nil {
				t.Fatal(err)
			}
			after := u
			after.LastName, after.Title, after.Department = "Smith", "CTO", "R&D"
			if k == KindCatalogue {
				err = e.PatchUser(ctx, target, id, u, after)
			} else {
				err = e.UpdateUser(ctx, target, id, after)
			}
			if err != nil {
				t.Fatalf("profile push: %v", err)
			}
			if err := e.SetPassword(ctx, target, id, syncPassword); err != nil {
				t.Fatalf("password push: %v", err)
			}
			if err := e.SetActive(ctx, target, id, false); err != nil {
				t.Fatalf("deactivate: %v", err)
			}
			r, err := c.Get(ctx, "Users", id)
			if err != nil {
				t.Fatal(err)
			}
			ext, _ := r[scim.SchemaEnterpriseUser].(map[string]any)
			got := map[string]any{"familyName": r["name"].(map[string]any)["familyName"], "displayName": r["displayName"], "title": r["title"], "department": ext["department"], "active": r["active"]}
			want := map[string]any{"familyName": "Smith", "displayName": "Alice Smith", "title": "CTO", "department": "R&D", "active": false}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("user (-want +got):\n%s", diff)
			}
			if err := e.SetActive(ctx, target, id, true); err != nil {
				t.Fatalf("reactivate: %v", err)
			}

			bob, err := e.CreateUser(ctx, target, User{ID: "00ubob", Login: "bob@example.com", Email: "bob@example.com", FirstName: "Bob", LastName: "B"})
			if err != nil {
				t.Fatal(err)
			}
			gid, err := e.PushGroup(ctx, target, "Eng", []Member{{SCIMID: id, Login: u.Login}})
			if err != nil {
				t.Fatalf("push group: %v", err)
			}
			members := []Member{{SCIMID: bob, Login: "bob@example.com"}}
			if k == KindCustom {
				err = e.ReplaceGroup(ctx, target, gid, "Platform", members)
			} else {
				err = e.UpdateGroup(ctx, target, gid, "Platform", members, []Member{{SCIMID: id, Login: u.Login}})
			}
			if err != nil {
				t.Fatalf("group update: %v", err)
			}
			g, err := c.Get(ctx, "Groups", gid)
			if err != nil {
				t.Fatal(err)
			}
			var ms []any
			for _, m := range g["members"].([]any) {
				ms = append(ms, m.(map[string]any)["value"])
			}
			if diff := cmp.Diff(map[string]any{"displayName": "Platform", "members": []any{bob}}, map[string]any{"displayName": g["displayName"], "members": ms}); diff != "" {
				t.Errorf("group (-want +got):\n%s", diff)
			}
		})
	}
}
