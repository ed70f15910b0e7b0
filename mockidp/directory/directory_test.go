package directory

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2024, 3, 21, 9, 0, 0, 0, time.UTC)

func newDir(t *testing.T) (*Directory, *time.Time) {
	t.Helper()
	now := t0
	return New(Config{Now: func() time.Time { return now }}), &now
}

func alice() Profile {
	return Profile{Login: "alice@example.com", Email: "alice@example.com", FirstName: "Alice", LastName: "Example"}
}

func TestIDs(t *testing.T) {
	d, _ := newDir(t)
	u, err := d.CreateUser(alice(), "", false)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := d.CreateGroup("Engineering", "")
	a, _ := d.CreateApp(App{Label: "web", OAuthClient: &OAuthClient{RedirectURIs: []string{"http://127.0.0.1/cb"}}})
	for _, tc := range []struct{ name, id, prefix string }{
		{"user", u.ID, "00u"}, {"group", g.ID, "00g"}, {"app", a.ID, "0oa"}, {"org", d.OrgID(), "00o"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.HasPrefix(tc.id, tc.prefix) || len(tc.id) != 23 || strings.Trim(tc.id, base62) != "" {
				t.Errorf("id %q: want %s + 20 base62 characters", tc.id, tc.prefix)
			}
		})
	}
	if a.OAuthClient.ClientID != a.ID || len(a.OAuthClient.ClientSecret) != 40 {
		t.Errorf("client id %q (app %q), secret %q", a.OAuthClient.ClientID, a.ID, a.OAuthClient.ClientSecret)
	}
}

func TestCreateUser(t *testing.T) {
	tests := []struct {
		name     string
		profile  func(p *Profile)
		password string
		activate bool
		want     Status
		wantErr  error
		field    string
	}{
		{name: "staged", want: StatusStaged},
		{name: "activated without password", activate: true, want: StatusProvisioned},
		{name: "active", activate: true, password: "correct horse 1", want: StatusActive},
		{name: "no login", profile: func(p *Profile) { p.Login = "" }, wantErr: ErrInvalid, field: "login"},
		{name: "login not an address", profile: func(p *Profile) { p.Login = "alice" }, wantErr: ErrInvalid, field: "login"},
		{name: "no last name", profile: func(p *Profile) { p.LastName = " " }, wantErr: ErrInvalid, field: "lastName"},
		{name: "short password", password: "abc", wantErr: ErrInvalid, field: "password"},
		{name: "password has username", password: "xxALICExx", wantErr: ErrInvalid, field: "password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, _ := newDir(t)
			p := alice()
			if tc.profile != nil {
				tc.profile(&p)
			}
			u, err := d.CreateUser(p, tc.password, tc.activate)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Field != tc.field {
					t.Errorf("err = %v, want a FieldError on %s", err, tc.field)
				}
				return
			}
			if u.Status != tc.want {
				t.Errorf("status = %s, want %s", u.Status, tc.want)
			}
			if u.Created != t0 || u.LastUpdated != t0 {
				t.Errorf("timestamps %v %v", u.Created, u.LastUpdated)
			}
		})
	}
}

func TestLoginUnique(t *testing.T) {
	d, _ := newDir(t)
	if _, err := d.CreateUser(alice(), "", true); err != nil {
		t.Fatal(err)
	}
	p := alice()
	p.Login = "ALICE@example.com"
	if _, err := d.CreateUser(p, "", true); !errors.Is(err, ErrExists) {
		t.Errorf("err = %v, want ErrExists", err)
	}
	u, err := d.User("Alice@Example.com")
	if err != nil || u.Profile.Login != "alice@example.com" {
		t.Errorf("User by login = %v, %v", u.Profile.Login, err)
	}
}

func TestLifecycle(t *testing.T) {
	type step struct {
		op      string
		want    Status
		wantErr error
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"activate twice", []step{{"activate", StatusActive, nil}, {"activate", "", ErrLifecycle}}},
		{"suspend and back", []step{{"activate", StatusActive, nil}, {"suspend", StatusSuspended, nil}, {"suspend", "", ErrLifecycle}, {"unsuspend", StatusActive, nil}}},
		{"unsuspend active", []step{{"activate", StatusActive, nil}, {"unsuspend", "", ErrLifecycle}}},
		{"suspend staged", []step{{"suspend", "", ErrLifecycle}}},
		{"deactivate and reactivate", []step{{"activate", StatusActive, nil}, {"deactivate", StatusDeprovisioned, nil}, {"deactivate", StatusDeprovisioned, nil}, {"activate", StatusActive, nil}}},
		{"delete needs deactivation", []step{{"delete", "", ErrLifecycle}, {"deactivate", StatusDeprovisioned, nil}, {"delete", "", nil}, {"activate", "", ErrNotFound}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, _ := newDir(t)
			u, _ := d.CreateUser(alice(), "s3cret-pass", false)
			for i, s := range tc.steps {
				var got User
				var err error
				switch s.op {
				case "activate":
					got, err = d.Activate(u.ID)
				case "deactivate":
					got, err = d.Deactivate(u.ID)
				case "suspend":
					got, err = d.Suspend(u.ID)
				case "unsuspend":
					got, err = d.Unsuspend(u.ID)
				case "delete":
					err = d.DeleteUser(u.ID)
				}
				if !errors.Is(err, s.wantErr) {
					t.Fatalf("step %d %s: err = %v, want %v", i, s.op, err, s.wantErr)
				}
				if err == nil && s.want != "" && got.Status != s.want {
					t.Fatalf("step %d %s: status %s, want %s", i, s.op, got.Status, s.want)
				}
			}
		})
	}
}

func TestAuthenticate(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(d *Directory, id string)
		login    string
		password string
		ok       bool
	}{
		{"active", nil, "alice@example.com", "s3cret-pass", true},
		{"login case", nil, "ALICE@example.com", "s3cret-pass", true},
		{"wrong password", nil, "alice@example.com", "nope-nope", false},
		{"unknown", nil, "bob@example.com", "s3cret-pass", false},
		{"suspended", func(d *Directory, id string) { d.Suspend(id) }, "alice@example.com", "s3cret-pass", false},
		{"deprovisioned", func(d *Directory, id string) { d.Deactivate(id) }, "alice@example.com", "s3cret-pass", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, now := newDir(t)
			u, _ := d.CreateUser(alice(), "s3cret-pass", true)
			if tc.setup != nil {
				tc.setup(d, u.ID)
			}
			*now = t0.Add(time.Hour)
			got, err := d.Authenticate(tc.login, tc.password)
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrAuthentication) {
				t.Errorf("err = %v, want ErrAuthentication", err)
			}
			if tc.ok && got.LastLogin != t0.Add(time.Hour) {
				t.Errorf("lastLogin = %v", got.LastLogin)
			}
			evs := d.Events(time.Time{}, 0)
			if len(evs) != 1 || evs[0].EventType != "user.session.start" {
				t.Fatalf("events = %+v", evs)
			}
			want := "SUCCESS"
			if !tc.ok {
				want = "FAILURE"
			}
			if evs[0].Outcome.Result != want {
				t.Errorf("outcome %+v, want %s", evs[0].Outcome, want)
			}
		})
	}
}

func TestAssignments(t *testing.T) {
	d, _ := newDir(t)
	u, _ := d.CreateUser(alice(), "", true)
	g, _ := d.CreateGroup("Eng", "")
	a, _ := d.CreateApp(App{Label: "scim", Provisioning: &Provisioning{BaseURL: "http://127.0.0.1/scim/v2"}})

	if _, isNew, err := d.AssignUser(a.ID, u.ID, "", g.ID); err != nil || !isNew {
		t.Fatalf("assign via group: new=%v err=%v", isNew, err)
	}
	au, isNew, err := d.AssignUser(a.ID, u.ID, "", "")
	if err != nil || isNew {
		t.Fatalf("assign direct: new=%v err=%v", isNew, err)
	}
	if diff := cmp.Diff([]string{g.ID}, au.Groups); diff != "" || au.Scope() != "USER" {
		t.Errorf("groups (-want +got):\n%s scope %s", diff, au.Scope())
	}
	if _, removed, _ := d.UnassignUser(a.ID, u.ID, ""); removed {
		t.Error("direct unassign removed a group-held assignment")
	}
	if au, _ := d.AppUser(a.ID, u.ID); au.Scope() != "GROUP" {
		t.Errorf("scope %s, want GROUP", au.Scope())
	}
	if _, removed, _ := d.UnassignUser(a.ID, u.ID, g.ID); !removed {
		t.Error("last reason gone, assignment kept")
	}
	if _, err := d.AppUser(a.ID, u.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("err = %v", err)
	}
	if _, _, err := d.UnassignUser(a.ID, u.ID, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("err = %v", err)
	}
}

func TestAppValidation(t *testing.T) {
	tests := []struct {
		name  string
		app   App
		field string
	}{
		{"no label", App{OAuthClient: &OAuthClient{RedirectURIs: []string{"https://a/cb"}}}, "label"},
		{"no redirect", App{Label: "x", OAuthClient: &OAuthClient{}}, "redirect_uris"},
		{"relative redirect", App{Label: "x", OAuthClient: &OAuthClient{RedirectURIs: []string{"/cb"}}}, "redirect_uris"},
		{"auth method", App{Label: "x", OAuthClient: &OAuthClient{RedirectURIs: []string{"https://a/cb"}, TokenEndpointAuthMethod: "magic"}}, "token_endpoint_auth_method"},
		{"neither", App{Label: "x"}, "name"},
		{"scim bad url", App{Label: "x", Provisioning: &Provisioning{BaseURL: "scim"}}, "baseUrl"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, _ := newDir(t)
			_, err := d.CreateApp(tc.app)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Errorf("err = %v, want a FieldError on %s", err, tc.field)
			}
		})
	}
}

func TestCopies(t *testing.T) {
	d, _ := newDir(t)
	p := alice()
	p.Extra = map[string]any{"nickName": "Al", "tags": []any{"a"}}
	u, _ := d.CreateUser(p, "", true)
	u.Profile.Extra["tags"].([]any)[0] = "changed"
	got, _ := d.User(u.ID)
	if diff := cmp.Diff([]any{"a"}, got.Profile.Extra["tags"]); diff != "" {
		t.Errorf("stored profile changed through a copy (-want +got):\n%s", diff)
	}
}

func TestConcurrent(t *testing.T) {
	d, _ := newDir(t)
	g, _ := d.CreateGroup("Eng", "")
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := alice()
			p.Login = strings.Repeat("a", i+1) + "@example.com"
			u, err := d.CreateUser(p, "", true)
			if err != nil {
				t.Error(err)
				return
			}
			d.AddMember(g.ID, u.ID)
			d.Users()
		}()
	}
	wg.Wait()
	if g, _ := d.Group(g.ID); len(g.Members) != 20 {
		t.Errorf("members %d, want 20", len(g.Members))
	}
}
