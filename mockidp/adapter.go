package mockidp

import (
	"context"
	"strings"

	"github.com/idpkit/idpkit/mockidp/directory"
	"github.com/idpkit/idpkit/mockidp/op"
)

// opDirectory lets the OpenID provider read the directory.
type opDirectory struct{ d *directory.Directory }

var (
	_ op.Directory   = opDirectory{}
	_ op.Assignments = opDirectory{}
)

func (o opDirectory) opUser(u directory.User) op.User {
	var groups []string
	if gs, err := o.d.UserGroups(u.ID); err == nil {
		for _, g := range gs {
			if !g.IsBuiltIn() { // the groups claim leaves Everyone out
				groups = append(groups, g.Name)
			}
		}
	}
	return op.User{ID: u.ID, Login: u.Profile.Login, Email: u.Profile.Email, FirstName: u.Profile.FirstName, LastName: u.Profile.LastName, Groups: groups}
}

// Authenticate signs in an ACTIVE user only (see directory.Authenticate).
func (o opDirectory) Authenticate(_ context.Context, login, password string) (op.User, error) {
	u, err := o.d.Authenticate(login, password)
	if err != nil {
		return op.User{}, err
	}
	return o.opUser(u), nil
}

// User returns an ACTIVE user by id; a user suspended or deactivated since
// signing in is not found, so an SSO session or refresh token stops working.
func (o opDirectory) User(_ context.Context, id string) (op.User, bool) {
	u, err := o.d.User(id)
	if err != nil || u.ID != id || u.Status != directory.StatusActive {
		return op.User{}, false
	}
	return o.opUser(u), true
}

// Client returns an ACTIVE OIDC app's registration.
func (o opDirectory) Client(_ context.Context, clientID string) (op.Client, bool) {
	a, ok := o.d.Client(clientID)
	if !ok {
		return op.Client{}, false
	}
	c := a.OAuthClient
	return op.Client{
		ID: c.ClientID, Secret: c.ClientSecret,
		RedirectURIs: c.RedirectURIs, PostLogoutRedirectURIs: c.PostLogoutRedirectURIs,
		AuthMethod: c.TokenEndpointAuthMethod, GrantTypes: c.GrantTypes,
		SigningAlg: c.IDTokenSignedResponseAlg,
	}, true
}

// UserByLogin returns an ACTIVE user by login (case-insensitive), for
// logins queued by login.
func (o opDirectory) UserByLogin(_ context.Context, login string) (op.User, bool) {
	u, err := o.d.User(login)
	if err != nil || !strings.EqualFold(u.Profile.Login, login) || u.Status != directory.StatusActive {
		return op.User{}, false
	}
	return o.opUser(u), true
}

// Assigned reports whether the user is assigned to the OIDC app, directly
// or through a group (Everyone included): Okta signs only those users in.
func (o opDirectory) Assigned(_ context.Context, clientID, userID string) bool {
	a, ok := o.d.Client(clientID)
	return ok && o.d.Assigned(a.ID, userID)
}
