package mockidp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/idpkit/idpkit/mockidp/directory"
	"github.com/idpkit/idpkit/mockidp/mgmt"
)

// Seed is the org's starting data, loaded from JSON or YAML with LoadSeed
// or LoadSeedFile. Users are referred to by login, groups by name and apps
// by label.
type Seed struct {
	Users       []SeedUser       `json:"users,omitempty" yaml:"users,omitempty"`
	Groups      []SeedGroup      `json:"groups,omitempty" yaml:"groups,omitempty"`
	Apps        []SeedApp        `json:"apps,omitempty" yaml:"apps,omitempty"`
	Assignments []SeedAssignment `json:"assignments,omitempty" yaml:"assignments,omitempty"`
	// TrustedOrigins are Okta's Trusted Origins (scheme://host[:port]):
	// browser pages there may read discovery, keys and token responses.
	TrustedOrigins []string `json:"trustedOrigins,omitempty" yaml:"trustedOrigins,omitempty"`
	// AuthServers are custom authorization server ids besides "default",
	// which always exists.
	AuthServers []string `json:"authServers,omitempty" yaml:"authServers,omitempty"`
}

// SeedUser is a user; Email defaults to Login and Status to ACTIVE
// (STAGED, PROVISIONED, SUSPENDED and DEPROVISIONED are also accepted). As
// in Okta, an activated user without a password is PROVISIONED, not
// ACTIVE, and cannot sign in.
type SeedUser struct {
	Login       string `json:"login" yaml:"login"`
	Email       string `json:"email,omitempty" yaml:"email,omitempty"`
	FirstName   string `json:"firstName" yaml:"firstName"`
	LastName    string `json:"lastName" yaml:"lastName"`
	DisplayName string `json:"displayName,omitempty" yaml:"displayName,omitempty"`
	Locale      string `json:"locale,omitempty" yaml:"locale,omitempty"`
	Title       string `json:"title,omitempty" yaml:"title,omitempty"`
	Department  string `json:"department,omitempty" yaml:"department,omitempty"`
	Password    string `json:"password,omitempty" yaml:"password,omitempty"`
	Status      string `json:"status,omitempty" yaml:"status,omitempty"`
}

// SeedGroup is a group with its members' logins.
type SeedGroup struct {
	Name        string   `json:"name" yaml:"name"`
	Description string   `json:"description,omitempty" yaml:"description,omitempty"`
	Members     []string `json:"members,omitempty" yaml:"members,omitempty"`
}

// Seed app types.
const (
	SeedAppOIDC = "oidc" // an OIDC web app (oidc_client)
	SeedAppSCIM = "scim" // a SCIM 2.0 app (OAuth Bearer Token)
)

// Access values of an OIDC SeedApp: who may sign in to it.
const (
	// AccessEveryone assigns the built-in Everyone group, as the App
	// Integration Wizard's "Allow everyone in your organization to access"
	// does: every user, also those created later. The default.
	AccessEveryone = "everyone"
	// AccessAssigned assigns nobody ("Limit access to selected groups",
	// or "Skip group assignment for now"): only the users and groups the
	// seed's assignments (or Server.Assign) name may sign in.
	AccessAssigned = "assigned"
)

// SeedApp is an app. For Type "oidc", ClientID and ClientSecret may be
// fixed (else generated), RedirectURIs is required,
// IDTokenSignedResponseAlg picks the ID token's signature ("RS256", the
// default, or "ES256"), and Access says who may sign in: AccessEveryone
// (the default) or AccessAssigned; Okta refuses a user not assigned to
// the app with access_denied. For Type "scim", a BaseURL and Token give an
// ENABLED connection at once (no credential test is run); Create, Update,
// Deactivate and Password are the "To App" features (Password is Sync
// Password, which pushes the passwords of users created with one), and
// Kind is the integration: "" or "test" (the SCIM 2.0 Test App),
// "catalogue" (an OIN catalogue app) or "custom" (an App Integration
// Wizard app), which decides how profile updates are sent.
type SeedApp struct {
	Label string `json:"label" yaml:"label"`
	Type  string `json:"type" yaml:"type"`

	ClientID                 string   `json:"clientId,omitempty" yaml:"clientId,omitempty"`
	ClientSecret             string   `json:"clientSecret,omitempty" yaml:"clientSecret,omitempty"`
	RedirectURIs             []string `json:"redirectUris,omitempty" yaml:"redirectUris,omitempty"`
	PostLogoutRedirectURIs   []string `json:"postLogoutRedirectUris,omitempty" yaml:"postLogoutRedirectUris,omitempty"`
	TokenEndpointAuthMethod  string   `json:"tokenEndpointAuthMethod,omitempty" yaml:"tokenEndpointAuthMethod,omitempty"`
	GrantTypes               []string `json:"grantTypes,omitempty" yaml:"grantTypes,omitempty"`
	IDTokenSignedResponseAlg string   `json:"idTokenSignedResponseAlg,omitempty" yaml:"idTokenSignedResponseAlg,omitempty"`
	Access                   string   `json:"access,omitempty" yaml:"access,omitempty"`

	Kind       string `json:"kind,omitempty" yaml:"kind,omitempty"`
	BaseURL    string `json:"baseUrl,omitempty" yaml:"baseUrl,omitempty"`
	Token      string `json:"token,omitempty" yaml:"token,omitempty"`
	Create     bool   `json:"create,omitempty" yaml:"create,omitempty"`
	Update     bool   `json:"update,omitempty" yaml:"update,omitempty"`
	Deactivate bool   `json:"deactivate,omitempty" yaml:"deactivate,omitempty"`
	Password   bool   `json:"password,omitempty" yaml:"password,omitempty"`
}

// SeedAssignment assigns users (logins) and groups (names) to an app
// (label; Server.Assign also takes an app id).
type SeedAssignment struct {
	App    string   `json:"app" yaml:"app"`
	Users  []string `json:"users,omitempty" yaml:"users,omitempty"`
	Groups []string `json:"groups,omitempty" yaml:"groups,omitempty"`
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

// LoadSeed reads a seed from JSON or YAML, told apart by the content (a
// document whose first character is "{" is JSON), and checks it: unknown
// fields, missing names and references to users, groups or apps the seed
// does not define are errors.
func LoadSeed(r io.Reader) (*Seed, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("mockidp: seed: %w", err)
	}
	if looksLikeJSON(b) {
		return parseSeedJSON(b)
	}
	return parseSeedYAML(b)
}

// LoadSeedFile reads a seed file: JSON for a .json name, YAML for .yaml
// and .yml, and by content (as LoadSeed) for any other name.
func LoadSeedFile(path string) (*Seed, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("mockidp: seed: %w", err)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		return parseSeedJSON(b)
	case ".yaml", ".yml":
		return parseSeedYAML(b)
	}
	return LoadSeed(bytes.NewReader(b))
}

func looksLikeJSON(b []byte) bool {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{'
}

func parseSeedJSON(b []byte) (*Seed, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, errors.New("mockidp: seed: the file is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("mockidp: seed: %w", describeJSONSyntax(b, err))
	}
	if dec.More() {
		return nil, fmt.Errorf("mockidp: seed: line %d: unexpected data after the seed's JSON object", lineAt(b, dec.InputOffset()))
	}
	root, err := jsonSeedNode(b)
	if err != nil {
		return nil, fmt.Errorf("mockidp: seed: %w", describeJSONSyntax(b, err))
	}
	if err := checkSeedShape(root, true); err != nil {
		return nil, fmt.Errorf("mockidp: seed: %w", err)
	}
	var s Seed
	if err := json.Unmarshal(b, &s); err != nil { // not reached: the shape was checked
		return nil, fmt.Errorf("mockidp: seed: the JSON does not fit a seed: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return &s, nil
}

func parseSeedYAML(b []byte) (*Seed, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("mockidp: seed: the file is empty")
		}
		return nil, fmt.Errorf("mockidp: seed: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return nil, errors.New("mockidp: seed: a seed file holds one YAML document; found a second after ---")
	}
	root, err := yamlSeedNode(&doc)
	if err != nil {
		return nil, fmt.Errorf("mockidp: seed: %w", err)
	}
	if err := checkSeedShape(root, false); err != nil {
		return nil, fmt.Errorf("mockidp: seed: %w", err)
	}
	var s Seed
	if err := doc.Decode(&s); err != nil { // not reached: the shape was checked
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		msg = strings.ReplaceAll(strings.TrimPrefix(msg, "unmarshal errors:\n  "), "\n  ", "; ")
		return nil, fmt.Errorf("mockidp: seed: the YAML does not fit a seed: %s", msg)
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return &s, nil
}

// checkUser checks a user on its own.
func checkUser(u SeedUser) error {
	var errs []error
	if strings.TrimSpace(u.Login) == "" {
		errs = append(errs, errors.New("login is required"))
	}
	switch directory.Status(strings.ToUpper(u.Status)) {
	case "", directory.StatusActive, directory.StatusStaged, directory.StatusProvisioned, directory.StatusSuspended, directory.StatusDeprovisioned:
	default:
		errs = append(errs, fmt.Errorf("unknown status %q; use ACTIVE, STAGED, PROVISIONED, SUSPENDED or DEPROVISIONED", u.Status))
	}
	return errors.Join(errs...)
}

// checkGroup checks a group on its own (not its members).
func checkGroup(g SeedGroup) error {
	if strings.TrimSpace(g.Name) == "" {
		return errors.New("name is required")
	}
	return nil
}

// checkApp checks an app on its own.
func checkApp(a SeedApp) error {
	var errs []error
	if strings.TrimSpace(a.Label) == "" {
		errs = append(errs, errors.New("label is required"))
	}
	switch a.Type {
	case SeedAppOIDC:
		switch a.IDTokenSignedResponseAlg {
		case "", "RS256", "ES256":
		default:
			errs = append(errs, fmt.Errorf("idTokenSignedResponseAlg %q: use RS256 or ES256", a.IDTokenSignedResponseAlg))
		}
		switch a.TokenEndpointAuthMethod {
		case "", "client_secret_basic", "client_secret_post", "none":
		default:
			errs = append(errs, fmt.Errorf("tokenEndpointAuthMethod %q: use client_secret_basic (the default), client_secret_post or none", a.TokenEndpointAuthMethod))
		}
		for _, g := range a.GrantTypes {
			switch g {
			case "authorization_code", "refresh_token", "client_credentials":
			default:
				errs = append(errs, fmt.Errorf("grantTypes: %q: use authorization_code, refresh_token or client_credentials", g))
			}
		}
		switch a.Access {
		case "", AccessEveryone, AccessAssigned:
		default:
			errs = append(errs, fmt.Errorf("access %q: use %q (every user may sign in, the default) or %q (only the users and groups assigned to the app)", a.Access, AccessEveryone, AccessAssigned))
		}
		if a.Kind != "" {
			errs = append(errs, errors.New("kind is for scim apps only"))
		}
		if a.BaseURL != "" || a.Token != "" || a.Create || a.Update || a.Deactivate || a.Password {
			errs = append(errs, errors.New("baseUrl, token, create, update, deactivate and password are for scim apps only"))
		}
	case SeedAppSCIM:
		if _, ok := mgmt.ParseProvisioningKind(a.Kind); !ok {
			errs = append(errs, fmt.Errorf("kind %q: use %q, %q or leave it out (the SCIM 2.0 Test App)", a.Kind, mgmt.ProvisioningKindCatalogue, mgmt.ProvisioningKindCustom))
		}
		if a.IDTokenSignedResponseAlg != "" {
			errs = append(errs, errors.New("idTokenSignedResponseAlg is for oidc apps only"))
		}
		if a.Access != "" {
			errs = append(errs, errors.New("access is for oidc apps only; a scim app provisions the users and groups assigned to it"))
		}
		if a.ClientID != "" || a.ClientSecret != "" || len(a.RedirectURIs) > 0 || len(a.PostLogoutRedirectURIs) > 0 || a.TokenEndpointAuthMethod != "" || len(a.GrantTypes) > 0 {
			errs = append(errs, errors.New("clientId, clientSecret, redirectUris, postLogoutRedirectUris, tokenEndpointAuthMethod and grantTypes are for oidc apps only"))
		}
	default:
		errs = append(errs, fmt.Errorf("type must be %q or %q", SeedAppOIDC, SeedAppSCIM))
	}
	return errors.Join(errs...)
}

// checkOrigin checks a trusted origin: scheme://host[:port], nothing else.
func checkOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return fmt.Errorf("%q is not an origin such as https://app.example.com or http://localhost:3000", o)
	}
	return nil
}

// checkAuthServer checks a custom authorization server id: one path
// segment of letters, digits, "-", "_" and ".", at most 64 characters, not
// "v1" (the org server's endpoints).
func checkAuthServer(id string) error {
	ok := id != "" && id != "v1" && id != "." && id != ".." && len(id) <= 64
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			ok = false
		}
	}
	if !ok {
		return fmt.Errorf("%q is not an authorization server id (letters, digits, '-', '_', '.'; not v1)", id)
	}
	return nil
}

func (s *Seed) check() error {
	var errs []error
	add := func(prefix string, err error) {
		if err == nil {
			return
		}
		for _, e := range unjoin(err) {
			errs = append(errs, fmt.Errorf("%s: %w", prefix, e))
		}
	}
	users := map[string]bool{}
	for i, u := range s.Users {
		add(fmt.Sprintf("users[%d]", i), checkUser(u))
		if u.Login != "" && users[strings.ToLower(u.Login)] {
			errs = append(errs, fmt.Errorf("users[%d]: login %q appears twice", i, u.Login))
		}
		users[strings.ToLower(u.Login)] = true
	}
	groups := map[string]bool{}
	for i, g := range s.Groups {
		add(fmt.Sprintf("groups[%d]", i), checkGroup(g))
		if strings.EqualFold(g.Name, directory.EveryoneName) {
			errs = append(errs, fmt.Errorf("groups[%d]: %q is Okta's built-in group of every user; name the group otherwise (assignments may name Everyone without defining it)", i, g.Name))
		}
		if g.Name != "" && groups[strings.ToLower(g.Name)] {
			errs = append(errs, fmt.Errorf("groups[%d]: name %q appears twice", i, g.Name))
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
		prefix := fmt.Sprintf("apps[%d]", i)
		if a.Label != "" {
			prefix += fmt.Sprintf(" %q", a.Label)
		}
		add(prefix, checkApp(a))
		if a.Label != "" && apps[a.Label] {
			errs = append(errs, fmt.Errorf("apps[%d]: label %q appears twice", i, a.Label))
		}
		apps[a.Label] = true
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
			if !groups[strings.ToLower(g)] && !strings.EqualFold(g, directory.EveryoneName) {
				errs = append(errs, fmt.Errorf("assignments[%d]: group %q is not a seeded group", i, g))
			}
		}
	}
	for i, o := range s.TrustedOrigins {
		add(fmt.Sprintf("trustedOrigins[%d]", i), checkOrigin(o))
	}
	for i, id := range s.AuthServers {
		add(fmt.Sprintf("authServers[%d]", i), checkAuthServer(id))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("mockidp: seed: %w", err)
	}
	return nil
}

// unjoin splits an errors.Join result into its errors.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
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

// applySeed creates the seed's objects with the same code as AddUser,
// AddGroup, AddApp and Assign; group members and assignments go through the
// management API's Go methods, so SCIM apps are provisioned. Trusted
// origins and authorization servers are applied by New.
func (s *Server) applySeed(ctx context.Context, seed *Seed) (Seeded, error) {
	if err := seed.check(); err != nil {
		return Seeded{}, err
	}
	out := Seeded{Users: map[string]string{}, Groups: map[string]string{}, Apps: map[string]SeededApp{}}
	fail := func(what string, err error) (Seeded, error) {
		return Seeded{}, fmt.Errorf("mockidp: seed: %s: %w", what, err)
	}
	for _, su := range seed.Users {
		u, err := s.addUser(su)
		if err != nil {
			return fail("user "+su.Login, err)
		}
		out.Users[strings.ToLower(su.Login)] = u.ID
	}
	for _, sg := range seed.Groups {
		members := make([]string, len(sg.Members))
		for i, m := range sg.Members {
			members[i] = out.Users[strings.ToLower(m)]
		}
		g, err := s.addGroup(ctx, sg, members)
		if err != nil {
			return fail("group "+sg.Name, err)
		}
		out.Groups[strings.ToLower(sg.Name)] = g.ID
	}
	for _, sa := range seed.Apps {
		app, err := s.addApp(ctx, sa)
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
		groups := make([]string, len(as.Groups))
		for i, g := range as.Groups {
			groups[i] = out.Groups[strings.ToLower(g)]
			if strings.EqualFold(g, directory.EveryoneName) {
				groups[i] = s.dir.Everyone().ID
			}
		}
		users := make([]string, len(as.Users))
		for i, u := range as.Users {
			users[i] = out.Users[strings.ToLower(u)]
		}
		if err := s.assign(ctx, appID, users, groups); err != nil {
			return fail("assign to "+as.App, err)
		}
	}
	return out, nil
}

// addUser creates a checked user with the seed's rules.
func (s *Server) addUser(su SeedUser) (directory.User, error) {
	email := su.Email
	if email == "" {
		email = su.Login
	}
	p := directory.Profile{Login: su.Login, Email: email, FirstName: su.FirstName, LastName: su.LastName, DisplayName: su.DisplayName, Locale: su.Locale, Title: su.Title, Department: su.Department}
	status := directory.Status(strings.ToUpper(su.Status))
	u, err := s.dir.CreateUser(p, su.Password, status != directory.StatusStaged)
	if err != nil {
		return directory.User{}, err
	}
	switch status {
	case directory.StatusSuspended:
		u, err = s.dir.Suspend(u.ID)
	case directory.StatusDeprovisioned:
		u, err = s.dir.Deactivate(u.ID)
	}
	if err != nil {
		return directory.User{}, err
	}
	if su.Password != "" {
		s.mgmt.RememberPassword(u.ID, su.Password) // for apps with Sync Password on
	}
	s.dir.Log(directory.Event{EventType: "user.lifecycle.create", LegacyEventType: "core.user.config.user_creation.success", DisplayMessage: "Create Okta user", Outcome: directory.Outcome{Result: "SUCCESS"}, Target: []directory.Target{directory.UserTarget(u)}})
	return u, nil
}

// addGroup creates a checked group and adds the members (user ids) through
// the management API, so pushed groups follow.
func (s *Server) addGroup(ctx context.Context, sg SeedGroup, memberIDs []string) (directory.Group, error) {
	g, err := s.dir.CreateGroup(sg.Name, sg.Description)
	if err != nil {
		return directory.Group{}, err
	}
	s.dir.Log(directory.Event{EventType: "group.lifecycle.create", DisplayMessage: "Create Okta group", Outcome: directory.Outcome{Result: "SUCCESS"}, Target: []directory.Target{directory.GroupTarget(g)}})
	for _, id := range memberIDs {
		if err := s.mgmt.AddMember(ctx, g.ID, id); err != nil {
			return directory.Group{}, err
		}
	}
	return s.dir.Group(g.ID)
}

// addApp creates a checked app; an OIDC app's Access (everyone by
// default) assigns it the Everyone group.
func (s *Server) addApp(ctx context.Context, sa SeedApp) (directory.App, error) {
	a := directory.App{Label: sa.Label}
	if sa.Type == SeedAppOIDC {
		a.OAuthClient = &directory.OAuthClient{
			ClientID: sa.ClientID, ClientSecret: sa.ClientSecret, TokenEndpointAuthMethod: sa.TokenEndpointAuthMethod,
			RedirectURIs: sa.RedirectURIs, PostLogoutRedirectURIs: sa.PostLogoutRedirectURIs, GrantTypes: sa.GrantTypes,
			IDTokenSignedResponseAlg: sa.IDTokenSignedResponseAlg,
		}
	} else {
		kind, _ := mgmt.ParseProvisioningKind(sa.Kind) // checked by checkApp
		a.Provisioning = &directory.Provisioning{
			BaseURL: strings.TrimRight(sa.BaseURL, "/"), Token: sa.Token, Kind: kind,
			Create: sa.Create, Update: sa.Update, Deactivate: sa.Deactivate, Password: sa.Password,
		}
		if sa.BaseURL != "" && sa.Token != "" {
			a.Provisioning.Status = directory.ConnectionEnabled
		}
	}
	app, err := s.dir.CreateApp(a)
	if err != nil {
		return directory.App{}, err
	}
	s.dir.Log(directory.Event{EventType: "application.lifecycle.create", DisplayMessage: "Create application", Outcome: directory.Outcome{Result: "SUCCESS"}, Target: []directory.Target{directory.AppTarget(app)}})
	if sa.Type == SeedAppOIDC && sa.Access != AccessAssigned {
		if _, err := s.mgmt.AssignGroup(ctx, app.ID, s.dir.Everyone().ID); err != nil {
			return directory.App{}, fmt.Errorf("assign Everyone: %w", err)
		}
	}
	return app, nil
}

// assign assigns groups, then users (ids), to an app through the
// management API: SCIM apps provision them.
func (s *Server) assign(ctx context.Context, appID string, userIDs, groupIDs []string) error {
	for _, g := range groupIDs {
		if _, err := s.mgmt.AssignGroup(ctx, appID, g); err != nil {
			return fmt.Errorf("group %s: %w", g, err)
		}
	}
	for _, u := range userIDs {
		if _, err := s.mgmt.AssignUser(ctx, appID, u, ""); err != nil {
			return fmt.Errorf("user %s: %w", u, err)
		}
	}
	return nil
}
