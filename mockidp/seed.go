package mockidp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/idpkit/idpkit/mockidp/directory"
)

// Seed is the org's starting data, loaded from JSON with LoadSeed. Users
// are referred to by login, groups by name and apps by label.
type Seed struct {
	Users       []SeedUser       `json:"users"`
	Groups      []SeedGroup      `json:"groups"`
	Apps        []SeedApp        `json:"apps"`
	Assignments []SeedAssignment `json:"assignments"`
}

// SeedUser is a user; Email defaults to Login and Status to ACTIVE
// (STAGED, PROVISIONED, SUSPENDED and DEPROVISIONED are also accepted).
type SeedUser struct {
	Login       string `json:"login"`
	Email       string `json:"email,omitempty"`
	FirstName   string `json:"firstName"`
	LastName    string `json:"lastName"`
	DisplayName string `json:"displayName,omitempty"`
	Locale      string `json:"locale,omitempty"`
	Title       string `json:"title,omitempty"`
	Department  string `json:"department,omitempty"`
	Password    string `json:"password,omitempty"`
	Status      string `json:"status,omitempty"`
}

// SeedGroup is a group with its members' logins.
type SeedGroup struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Members     []string `json:"members,omitempty"`
}

// Seed app types.
const (
	SeedAppOIDC = "oidc" // an OIDC web app (oidc_client)
	SeedAppSCIM = "scim" // a SCIM 2.0 Test App (OAuth Bearer Token)
)

// SeedApp is an app. For Type "oidc", ClientID and ClientSecret may be
// fixed (else generated) and RedirectURIs is required. For Type "scim",
// a BaseURL and Token give an ENABLED connection at once (no credential
// test is run), and Create, Update and Deactivate are the "To App" features.
type SeedApp struct {
	Label string `json:"label"`
	Type  string `json:"type"`

	ClientID                string   `json:"clientId,omitempty"`
	ClientSecret            string   `json:"clientSecret,omitempty"`
	RedirectURIs            []string `json:"redirectUris,omitempty"`
	PostLogoutRedirectURIs  []string `json:"postLogoutRedirectUris,omitempty"`
	TokenEndpointAuthMethod string   `json:"tokenEndpointAuthMethod,omitempty"`
	GrantTypes              []string `json:"grantTypes,omitempty"`

	BaseURL    string `json:"baseUrl,omitempty"`
	Token      string `json:"token,omitempty"`
	Create     bool   `json:"create,omitempty"`
	Update     bool   `json:"update,omitempty"`
	Deactivate bool   `json:"deactivate,omitempty"`
}

// SeedAssignment assigns users (logins) and groups (names) to an app (label).
type SeedAssignment struct {
	App    string   `json:"app"`
	Users  []string `json:"users,omitempty"`
	Groups []string `json:"groups,omitempty"`
}

// Seeded is what a seed created, by the names used in the seed.
type Seeded struct {
	Users  map[string]string    // login, in lower case → user id
	Groups map[string]string    // name, in lower case → group id
	Apps   map[string]SeededApp // label → app
}

// SeededApp is a created app.
type SeededApp struct {
	ID           string
	Type         string // SeedAppOIDC or SeedAppSCIM
	ClientID     string // OIDC apps
	ClientSecret string // OIDC apps
}

// LoadSeed reads a seed from JSON and checks it: unknown fields, missing
// names and references to users, groups or apps the seed does not define
// are errors.
func LoadSeed(r io.Reader) (*Seed, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var s Seed
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("mockidp: seed: %w", err)
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return &s, nil
}

func (s *Seed) check() error {
	var errs []error
	users := map[string]bool{}
	for i, u := range s.Users {
		if u.Login == "" {
			errs = append(errs, fmt.Errorf("users[%d]: login is required", i))
		}
		if users[strings.ToLower(u.Login)] {
			errs = append(errs, fmt.Errorf("users[%d]: login %q appears twice", i, u.Login))
		}
		users[strings.ToLower(u.Login)] = true
		switch directory.Status(strings.ToUpper(u.Status)) {
		case "", directory.StatusActive, directory.StatusStaged, directory.StatusProvisioned, directory.StatusSuspended, directory.StatusDeprovisioned:
		default:
			errs = append(errs, fmt.Errorf("users[%d]: unknown status %q", i, u.Status))
		}
	}
	groups := map[string]bool{}
	for i, g := range s.Groups {
		if g.Name == "" {
			errs = append(errs, fmt.Errorf("groups[%d]: name is required", i))
		}
		groups[strings.ToLower(g.Name)] = true
		for _, m := range g.Members {
			if !users[strings.ToLower(m)] {
				errs = append(errs, fmt.Errorf("groups[%d] %q: member %q is not a seeded user", i, g.Name, m))
			}
		}
	}
	apps := map[string]bool{}
	for i, a := range s.Apps {
		if a.Label == "" {
			errs = append(errs, fmt.Errorf("apps[%d]: label is required", i))
		}
		if apps[a.Label] {
			errs = append(errs, fmt.Errorf("apps[%d]: label %q appears twice", i, a.Label))
		}
		apps[a.Label] = true
		if a.Type != SeedAppOIDC && a.Type != SeedAppSCIM {
			errs = append(errs, fmt.Errorf("apps[%d] %q: type must be %q or %q", i, a.Label, SeedAppOIDC, SeedAppSCIM))
		}
	}
	for i, as := range s.Assignments {
		if !apps[as.App] {
			errs = append(errs, fmt.Errorf("assignments[%d]: app %q is not a seeded app", i, as.App))
		}
		for _, u := range as.Users {
			if !users[strings.ToLower(u)] {
				errs = append(errs, fmt.Errorf("assignments[%d]: user %q is not a seeded user", i, u))
			}
		}
		for _, g := range as.Groups {
			if !groups[strings.ToLower(g)] {
				errs = append(errs, fmt.Errorf("assignments[%d]: group %q is not a seeded group", i, g))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("mockidp: seed: %w", err)
	}
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// Summary describes the seed in one line, e.g. "3 users, 1 group, 2 apps,
// 2 assignments".
func (s *Seed) Summary() string {
	n := 0
	for _, a := range s.Assignments {
		n += len(a.Users) + len(a.Groups)
	}
	return strings.Join([]string{plural(len(s.Users), "user"), plural(len(s.Groups), "group"), plural(len(s.Apps), "app"), plural(n, "assignment")}, ", ")
}

// applySeed creates the seed's objects; assignments go through the
// management API's Go methods, so SCIM apps are provisioned.
func (s *Server) applySeed(ctx context.Context, seed *Seed) (Seeded, error) {
	if err := seed.check(); err != nil {
		return Seeded{}, err
	}
	out := Seeded{Users: map[string]string{}, Groups: map[string]string{}, Apps: map[string]SeededApp{}}
	fail := func(what string, err error) (Seeded, error) {
		return Seeded{}, fmt.Errorf("mockidp: seed: %s: %w", what, err)
	}
	for _, su := range seed.Users {
		email := su.Email
		if email == "" {
			email = su.Login
		}
		p := directory.Profile{Login: su.Login, Email: email, FirstName: su.FirstName, LastName: su.LastName, DisplayName: su.DisplayName, Locale: su.Locale, Title: su.Title, Department: su.Department}
		status := directory.Status(strings.ToUpper(su.Status))
		u, err := s.dir.CreateUser(p, su.Password, status != directory.StatusStaged)
		if err != nil {
			return fail("user "+su.Login, err)
		}
		switch status {
		case directory.StatusSuspended:
			_, err = s.dir.Suspend(u.ID)
		case directory.StatusDeprovisioned:
			_, err = s.dir.Deactivate(u.ID)
		}
		if err != nil {
			return fail("user "+su.Login, err)
		}
		out.Users[strings.ToLower(su.Login)] = u.ID
	}
	for _, sg := range seed.Groups {
		g, err := s.dir.CreateGroup(sg.Name, sg.Description)
		if err != nil {
			return fail("group "+sg.Name, err)
		}
		out.Groups[strings.ToLower(sg.Name)] = g.ID
		for _, m := range sg.Members {
			if err := s.mgmt.AddMember(ctx, g.ID, out.Users[strings.ToLower(m)]); err != nil {
				return fail("group "+sg.Name, err)
			}
		}
	}
	for _, sa := range seed.Apps {
		a := directory.App{Label: sa.Label}
		if sa.Type == SeedAppOIDC {
			a.OAuthClient = &directory.OAuthClient{
				ClientID: sa.ClientID, ClientSecret: sa.ClientSecret, TokenEndpointAuthMethod: sa.TokenEndpointAuthMethod,
				RedirectURIs: sa.RedirectURIs, PostLogoutRedirectURIs: sa.PostLogoutRedirectURIs, GrantTypes: sa.GrantTypes,
			}
		} else {
			a.Provisioning = &directory.Provisioning{BaseURL: strings.TrimRight(sa.BaseURL, "/"), Token: sa.Token, Create: sa.Create, Update: sa.Update, Deactivate: sa.Deactivate}
			if sa.BaseURL != "" && sa.Token != "" {
				a.Provisioning.Status = directory.ConnectionEnabled
			}
		}
		app, err := s.dir.CreateApp(a)
		if err != nil {
			return fail("app "+sa.Label, err)
		}
		sd := SeededApp{ID: app.ID, Type: sa.Type}
		if app.OAuthClient != nil {
			sd.ClientID, sd.ClientSecret = app.OAuthClient.ClientID, app.OAuthClient.ClientSecret
		}
		out.Apps[sa.Label] = sd
	}
	for _, as := range seed.Assignments {
		appID := out.Apps[as.App].ID
		for _, g := range as.Groups {
			if _, err := s.mgmt.AssignGroup(ctx, appID, out.Groups[strings.ToLower(g)]); err != nil {
				return fail("assign "+g+" to "+as.App, err)
			}
		}
		for _, u := range as.Users {
			if _, err := s.mgmt.AssignUser(ctx, appID, out.Users[strings.ToLower(u)], ""); err != nil {
				return fail("assign "+u+" to "+as.App, err)
			}
		}
	}
	return out, nil
}
