package directory

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEveryone(t *testing.T) {
	d, _ := newDir(t)
	e := d.Everyone()
	if e.Name != "Everyone" || e.Type != GroupTypeBuiltIn || e.Description != "All users in your organization" || len(e.Members) != 0 {
		t.Fatalf("Everyone %+v", e)
	}
	if gs := d.Groups(); len(gs) != 1 || gs[0].ID != e.ID {
		t.Errorf("a new org's groups %v, want Everyone alone", gs)
	}
	web, _ := d.CreateApp(App{Label: "web", OAuthClient: &OAuthClient{RedirectURIs: []string{"http://127.0.0.1/cb"}}})
	scim, _ := d.CreateApp(App{Label: "scim", Provisioning: &Provisioning{}})
	u, _ := d.CreateUser(alice(), "", true)
	if d.Assigned(web.ID, u.ID) {
		t.Error("a new app has its users assigned")
	}
	if _, _, err := d.AssignGroup(web.ID, e.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.AssignGroup(scim.ID, e.ID); !errors.Is(err, ErrInvalid) {
		t.Errorf("Everyone to a SCIM app: %v, want ErrInvalid", err)
	}
	// Members of Everyone are assigned by mgmt (AssignGroup); users created
	// later join by themselves.
	p := alice()
	p.Login, p.Email = "bob@example.com", "bob@example.com"
	bob, _ := d.CreateUser(p, "", true)
	if !d.Assigned(web.ID, bob.ID) || !d.Assigned(web.ID, "bob@example.com") || d.Assigned(scim.ID, bob.ID) {
		t.Errorf("bob assigned to web %v, to scim %v; want web only", d.Assigned(web.ID, bob.ID), d.Assigned(scim.ID, bob.ID))
	}
	if au, _ := d.AppUser(web.ID, bob.ID); au.Scope() != "GROUP" || !cmp.Equal([]string{e.ID}, au.Groups) {
		t.Errorf("bob's app user %+v", au)
	}
	if diff := cmp.Diff([]string{u.ID, bob.ID}, d.Everyone().Members); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	if gs, _ := d.UserGroups(bob.ID); len(gs) != 1 || gs[0].ID != e.ID {
		t.Errorf("bob's groups %v", gs)
	}
	for name, err := range map[string]error{
		"rename":        func() error { _, _, err := d.UpdateGroup(e.ID, "All", ""); return err }(),
		"delete":        d.DeleteGroup(e.ID),
		"remove member": func() error { _, err := d.RemoveMember(e.ID, bob.ID); return err }(),
	} {
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if added, err := d.AddMember(e.ID, bob.ID); added || err != nil {
		t.Errorf("add a member to Everyone: %v %v, want a no-op", added, err)
	}
	if _, err := d.CreateGroup("everyone", ""); !errors.Is(err, ErrExists) {
		t.Errorf("a group named everyone: %v, want ErrExists", err)
	}
	d.Deactivate(bob.ID)
	if err := d.DeleteUser(bob.ID); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{u.ID}, d.Everyone().Members); diff != "" {
		t.Errorf("members after deleting bob (-want +got):\n%s", diff)
	}
}
