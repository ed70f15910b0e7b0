package guide

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/client"
	"github.com/idpkit/idpkit/scim/tenant"
	"github.com/idpkit/idpkit/suites/check"
)

// play holds what the steps learn from each other.
type play struct {
	env  Env
	okta *oktaAdmin
	sfx  string

	created  tenant.Created
	scim     *client.Client
	scimApp  string
	groupID  string     // Okta's group id
	group    string     // its name
	users    []oktaUser // alice, bob, carol: assigned through the group
	outsider oktaUser   // dave: never assigned
	password string
	results  []check.Result
}

func randomSuffix() string {
	b := make([]byte, 3)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (p *play) createTenant(ctx context.Context) (string, error) {
	c, err := p.env.CreateTenant(ctx, p.env.Tenant)
	if err != nil {
		return "", err
	}
	p.created = c
	var problems []string
	if !strings.HasSuffix(c.SCIMBaseURL, "/t/"+c.Tenant+"/scim/v2") {
		problems = append(problems, "tenant URL "+c.SCIMBaseURL+" does not end in /t/"+c.Tenant+"/scim/v2")
	}
	if !strings.HasSuffix(c.RedirectURI, "/t/"+c.Tenant+"/oidc/callback") {
		problems = append(problems, "redirect URI "+c.RedirectURI+" does not end in /t/"+c.Tenant+"/oidc/callback")
	}
	if len(c.Token) < 32 {
		problems = append(problems, fmt.Sprintf("the secret has only %d characters", len(c.Token)))
	}
	if c.AdminURL == "" {
		problems = append(problems, "no admin link")
	}
	if len(problems) > 0 {
		return "", errors.New(strings.Join(problems, "; "))
	}
	p.scim = client.New(c.SCIMBaseURL, c.Token)
	p.scim.HTTP = p.env.HTTPClient
	return fmt.Sprintf("tenant %s, tenant URL %s, redirect URI %s", c.Tenant, c.SCIMBaseURL, c.RedirectURI), nil
}

func (p *play) connectSCIM(ctx context.Context) (string, error) {
	var app oktaApp
	err := p.okta.do(ctx, "POST", "/api/v1/apps", map[string]any{
		"name": "scim2testapp", "label": "idpkit SCIM " + p.sfx, "signOnMode": "AUTO_LOGIN",
		"settings": map[string]any{"app": map[string]any{"baseUrl": p.created.SCIMBaseURL}},
	}, &app)
	if err != nil {
		return "", err
	}
	p.scimApp = app.ID
	base := "/api/v1/apps/" + url.PathEscape(app.ID)
	if err := p.okta.do(ctx, "POST", base+"/connections/default", map[string]any{
		"baseUrl": p.created.SCIMBaseURL,
		"profile": map[string]any{"authScheme": "TOKEN", "token": p.created.Token},
	}, nil); err != nil {
		return "", err
	}
	enabled := map[string]any{"status": "ENABLED"}
	if err := p.okta.do(ctx, "PUT", base+"/features/USER_PROVISIONING", map[string]any{
		"create": map[string]any{"lifecycleCreate": enabled},
		"update": map[string]any{"profile": enabled, "lifecycleDeactivate": enabled, "password": map[string]any{"status": "DISABLED"}},
	}, nil); err != nil {
		return "", err
	}
	if err := p.okta.do(ctx, "POST", base+"/connections/default/lifecycle/activate", nil, nil); err != nil {
		return "", fmt.Errorf("Test API Credentials failed: %w", err)
	}
	return "app " + app.ID + " connected; Test API Credentials passed", nil
}

func (p *play) assignGroup(ctx context.Context) (string, error) {
	p.password = "Idpkit-" + randomSuffix() + "-Pw1!"
	for _, n := range []struct{ first, last string }{{"Alice", "Anders"}, {"Bob", "Berg"}, {"Carol", "Chen"}, {"Dave", "Diaz"}} {
		login := strings.ToLower(n.first) + "." + p.sfx + "@example.com"
		u, err := p.okta.createUser(ctx, n.first, n.last, login, p.password)
		if err != nil {
			return "", err
		}
		if n.first == "Dave" {
			p.outsider = u
			continue
		}
		p.users = append(p.users, u)
	}
	p.group = "Engineering " + p.sfx
	gid, err := p.okta.createGroup(ctx, p.group)
	if err != nil {
		return "", err
	}
	p.groupID = gid
	for _, u := range p.users {
		if err := p.okta.do(ctx, "PUT", "/api/v1/groups/"+gid+"/users/"+u.ID, nil, nil); err != nil {
			return "", err
		}
	}
	if err := p.okta.do(ctx, "PUT", "/api/v1/apps/"+p.scimApp+"/groups/"+gid, map[string]any{}, nil); err != nil {
		return "", err
	}
	var ids []string
	err = p.eventually(ctx, func() error {
		ids = ids[:0]
		for _, u := range p.users {
			r, err := p.scimUser(ctx, u)
			if err != nil {
				return err
			}
			if r["active"] != true {
				return fmt.Errorf("user %s is not active in the app", u.Profile.Login)
			}
			ids = append(ids, fmt.Sprint(r["id"]))
		}
		g, err := p.scimGroup(ctx)
		if err != nil {
			return err
		}
		got := members(g)
		slices.Sort(got)
		slices.Sort(ids)
		if !slices.Equal(got, ids) {
			return fmt.Errorf("group %q has members %v in the app, want %v", p.group, got, ids)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("group %q and its 3 users are in the app", p.group), nil
}

func (p *play) updateAndUnassign(ctx context.Context) (string, error) {
	alice, carol := p.users[0], p.users[2]
	if err := p.okta.do(ctx, "POST", "/api/v1/users/"+alice.ID, map[string]any{"profile": map[string]any{"lastName": "Anders-Lund"}}, nil); err != nil {
		return "", err
	}
	err := p.eventually(ctx, func() error {
		r, err := p.scimUser(ctx, alice)
		if err != nil {
			return err
		}
		if got := fmt.Sprint(get(r, "name", "familyName")); got != "Anders-Lund" {
			return fmt.Errorf("the app has familyName %q for %s, want the new %q", got, alice.Profile.Login, "Anders-Lund")
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if err := p.okta.do(ctx, "DELETE", "/api/v1/groups/"+p.groupID+"/users/"+carol.ID, nil, nil); err != nil {
		return "", err
	}
	err = p.eventually(ctx, func() error {
		r, err := p.scimUser(ctx, carol)
		if err != nil {
			return fmt.Errorf("%w (an unassigned user must be deactivated, not deleted)", err)
		}
		if r["active"] != false {
			return fmt.Errorf("%s is still active in the app after being unassigned", carol.Profile.Login)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s's new last name reached the app; %s is deactivated and still readable", alice.Profile.Login, carol.Profile.Login), nil
}

func (p *play) connectOIDC(ctx context.Context) (string, error) {
	var app oktaApp
	err := p.okta.do(ctx, "POST", "/api/v1/apps", map[string]any{
		"name": "oidc_client", "label": "idpkit sign-in " + p.sfx, "signOnMode": "OPENID_CONNECT",
		"credentials": map[string]any{"oauthClient": map[string]any{"token_endpoint_auth_method": "client_secret_basic"}},
		"settings": map[string]any{"oauthClient": map[string]any{
			"redirect_uris": []string{p.created.RedirectURI}, "response_types": []string{"code"},
			"grant_types": []string{"authorization_code"}, "application_type": "web",
		}},
	}, &app)
	if err != nil {
		return "", err
	}
	id, secret := app.Credentials.OAuthClient.ClientID, app.Credentials.OAuthClient.ClientSecret
	if id == "" || secret == "" {
		return "", errors.New("Okta did not return a client id and secret for the OIDC app")
	}
	// The guide's "Controlled access: Allow everyone in your organization
	// to access": the wizard assigns the built-in Everyone group. Okta
	// signs nobody in to an app they are not assigned to, and the
	// never-assigned user of the next step must reach the app to be
	// refused by it.
	everyone, err := p.everyoneGroup(ctx)
	if err != nil {
		return "", err
	}
	if err := p.okta.do(ctx, "PUT", "/api/v1/apps/"+url.PathEscape(app.ID)+"/groups/"+url.PathEscape(everyone), map[string]any{}, nil); err != nil {
		return "", fmt.Errorf("assign the Everyone group to the OIDC app: %w", err)
	}
	issuer, err := p.saveSignIn(ctx, p.env.OktaURL, id, secret)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("OIDC app %s created and assigned to Everyone; the app read Okta's discovery document (issuer %s)", id, issuer), nil
}

// everyoneGroup finds the org's built-in Everyone group (type BUILT_IN).
func (p *play) everyoneGroup(ctx context.Context) (string, error) {
	var groups []struct {
		ID      string `json:"id"`
		Type    string `json:"type"`
		Profile struct {
			Name string `json:"name"`
		} `json:"profile"`
	}
	if err := p.okta.do(ctx, "GET", "/api/v1/groups?filter="+url.QueryEscape(`type eq "BUILT_IN"`), nil, &groups); err != nil {
		return "", fmt.Errorf("find the Everyone group: %w", err)
	}
	for _, g := range groups {
		if g.Type == "BUILT_IN" && g.Profile.Name == "Everyone" {
			return g.ID, nil
		}
	}
	return "", fmt.Errorf("find the Everyone group: Okta listed %d BUILT_IN groups, none named Everyone", len(groups))
}

func (p *play) signIns(ctx context.Context) (string, error) {
	alice, carol := p.users[0], p.users[2]
	var problems []string
	who, err := p.signIn(ctx, alice.Profile.Login, p.password)
	switch {
	case err != nil:
		problems = append(problems, fmt.Sprintf("%s (active): %v", alice.Profile.Login, err))
	case !strings.EqualFold(who, alice.Profile.Login):
		problems = append(problems, fmt.Sprintf("%s (active): signed in as %q", alice.Profile.Login, who))
	}
	for _, c := range []struct {
		u    oktaUser
		kind string
		says string
	}{{carol, "deactivated", "deactivated"}, {p.outsider, "never assigned", "not been provisioned"}} {
		who, err := p.signIn(ctx, c.u.Profile.Login, p.password)
		var refused *refusedError
		switch {
		case err == nil:
			problems = append(problems, fmt.Sprintf("%s (%s) was signed in as %q", c.u.Profile.Login, c.kind, who))
		case !errors.As(err, &refused):
			problems = append(problems, fmt.Sprintf("%s (%s): %v", c.u.Profile.Login, c.kind, err))
		case !strings.Contains(strings.ToLower(refused.page), c.says):
			problems = append(problems, fmt.Sprintf("%s (%s) was refused, but the page does not say %q: %s", c.u.Profile.Login, c.kind, c.says, refused.page))
		}
	}
	if len(problems) > 0 {
		return "", errors.New(strings.Join(problems, "; "))
	}
	return fmt.Sprintf("%s signed in; %s (deactivated) and %s (never assigned) refused with a clear page", alice.Profile.Login, carol.Profile.Login, p.outsider.Profile.Login), nil
}

func (p *play) conform(ctx context.Context) (string, error) {
	t := &check.Target{BaseURL: p.created.SCIMBaseURL, Token: p.created.Token, Client: p.env.HTTPClient}
	// The tenant checks need a second tenant of the same app.
	peer, err := p.env.CreateTenant(ctx, p.created.Tenant+"-peer")
	if err != nil {
		return "", fmt.Errorf("create a second tenant for the tenant-isolation checks: %w", err)
	}
	t.Peer = &check.Target{BaseURL: peer.SCIMBaseURL, Token: peer.Token, Client: p.env.HTTPClient}
	p.results = check.RunAll(ctx, p.env.Checks, t, p.env.Progress)
	s := check.Summarize(p.results)
	detail := fmt.Sprintf("%d/%d checks passed", s.Passed, s.Total)
	if s.Skipped > 0 {
		detail += fmt.Sprintf(", %d skipped", s.Skipped)
	}
	if s.Failed > 0 {
		var failed []string
		for _, r := range p.results {
			if !r.Passed && !r.Skipped {
				failed = append(failed, r.ID)
			}
		}
		return "", fmt.Errorf("%s; failed: %s", detail, strings.Join(failed, ", "))
	}
	return detail, nil
}

// scimUser finds the app's user for an Okta user by externalId, which
// Okta sets to its user id.
func (p *play) scimUser(ctx context.Context, u oktaUser) (scim.Resource, error) {
	l, err := p.scim.List(ctx, "Users", client.ListQuery{Filter: "externalId eq " + client.FilterString(u.ID)})
	if err != nil {
		return nil, err
	}
	if l.TotalResults != 1 || len(l.Resources) != 1 {
		return nil, fmt.Errorf("the app has %d users with externalId %s (%s), want 1", l.TotalResults, u.ID, u.Profile.Login)
	}
	return l.Resources[0], nil
}

func (p *play) scimGroup(ctx context.Context) (scim.Resource, error) {
	l, err := p.scim.List(ctx, "Groups", client.ListQuery{Filter: "displayName eq " + client.FilterString(p.group)})
	if err != nil {
		return nil, err
	}
	if len(l.Resources) != 1 {
		return nil, fmt.Errorf("the app has %d groups named %q, want 1", len(l.Resources), p.group)
	}
	return l.Resources[0], nil
}

func members(g scim.Resource) []string {
	var out []string
	list, _ := g["members"].([]any)
	for _, m := range list {
		if mm, ok := m.(map[string]any); ok {
			out = append(out, fmt.Sprint(mm["value"]))
		}
	}
	return out
}

func get(r map[string]any, keys ...string) any {
	var v any = r
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// eventually retries f for up to Env.Wait: Okta provisions
// asynchronously, so a real org needs a moment.
func (p *play) eventually(ctx context.Context, f func() error) error {
	deadline := time.Now().Add(p.env.Wait)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}
