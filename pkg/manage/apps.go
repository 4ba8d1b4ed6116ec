package manage

import (
	"context"
	"slices"
	"strings"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// MaxAppsPerUser is how many clients one user may own on the developer
// page (/account/apps). Operators' clients do not count.
const MaxAppsPerUser = 20

// AppGrantTypes are the grant types of every app a user registers: a user's
// app acts for users, never as itself (no client_credentials).
var AppGrantTypes = []string{identity.GrantAuthorizationCode, identity.GrantRefreshToken}

// AppScopes returns the scopes an app a user registers may ask for: every
// scope but admin. offline_access is among them, the scope under which
// the refresh_token grant issues refresh tokens.
func AppScopes() []string {
	var out []string
	for _, s := range identity.Scopes {
		if s.Name != identity.ScopeAdmin {
			out = append(out, s.Name)
		}
	}
	return out
}

// AppInput is an app as a user registers it on the developer page. The
// grant types and scopes are fixed (AppGrantTypes, AppScopes); everything
// else is checked by identity.Client.Validate like any client.
type AppInput struct {
	// ID is the client id to use; "" makes one from the name.
	ID           string
	Name         string
	RedirectURIs []string
	// Public: no secret (a browser or native app, PKCE only).
	Public bool
	// AllowedOrigins: extra browser origins of a public app (CORS).
	AllowedOrigins []string
}

// AppPatch is an edit of an app; a nil field stays as it is. Whether an
// app is public is fixed at creation: turning one into the other would
// invent or strand a secret.
type AppPatch struct {
	Name           *string
	RedirectURIs   *[]string
	AllowedOrigins *[]string
}

// App is one of a user's apps with how many users have connected it
// (active grants).
type App struct {
	*identity.Client
	Connected int
}

// CreateApp registers an app owned by the user owner (the developer page).
// The user may own at most MaxAppsPerUser apps (EINVALID beyond). The
// count is read before the insert, so two concurrent registrations at the
// limit may both pass: the limit bounds clutter, it is not a security
// boundary. The secret (empty for a public app) is returned once.
func (s *Service) CreateApp(ctx context.Context, a Actor, owner string, in AppInput) (*identity.Client, string, error) {
	if owner == "" {
		return nil, "", identity.Errorf(identity.EINVALID, "An app needs an owner.")
	}
	_, n, err := s.Clients.ListClients(ctx, identity.ClientFilter{OwnerID: owner, Page: identity.Page{Limit: 1}})
	if err != nil {
		return nil, "", err
	}
	if n >= MaxAppsPerUser {
		return nil, "", identity.Errorf(identity.EINVALID, "You already have %d apps, the most one account may register. Delete one first.", n)
	}
	return s.createClient(ctx, a, ClientInput{
		ID: in.ID, Name: in.Name, RedirectURIs: in.RedirectURIs, Public: in.Public, AllowedOrigins: in.AllowedOrigins,
		GrantTypes: slices.Clone(AppGrantTypes), Scopes: AppScopes(), TokenFormat: identity.TokenFormatOpaque,
	}, owner)
}

// App returns the user owner's app id with its connected-user count; an
// app of anyone else is ENOTFOUND.
func (s *Service) App(ctx context.Context, owner, id string) (*App, error) {
	if owner == "" {
		return nil, errNoClient
	}
	c, err := s.ownClient(ctx, id, owner)
	if err != nil {
		return nil, err
	}
	return s.withConnected(ctx, c)
}

// Apps returns the apps of the user owner, newest first, at most
// MaxAppsPerUser.
func (s *Service) Apps(ctx context.Context, owner string) ([]*App, error) {
	if owner == "" {
		return nil, nil
	}
	cs, _, err := s.Clients.ListClients(ctx, identity.ClientFilter{OwnerID: owner, Page: identity.Page{Limit: MaxAppsPerUser}})
	if err != nil {
		return nil, err
	}
	out := make([]*App, 0, len(cs))
	for _, c := range cs {
		app, err := s.withConnected(ctx, c)
		if err != nil {
			return nil, err
		}
		out = append(out, app)
	}
	return out, nil
}

func (s *Service) withConnected(ctx context.Context, c *identity.Client) (*App, error) {
	_, n, err := s.Grants.ListGrants(ctx, identity.GrantFilter{ClientID: c.ID, Page: identity.Page{Limit: 1}})
	if err != nil {
		return nil, err
	}
	return &App{Client: c, Connected: n}, nil
}

// UpdateApp edits the user owner's app id (UpdateClient's rules and audit
// event); an app of anyone else is ENOTFOUND.
func (s *Service) UpdateApp(ctx context.Context, a Actor, owner, id string, p AppPatch) (*identity.Client, error) {
	if owner == "" {
		return nil, errNoClient
	}
	if _, err := s.ownClient(ctx, id, owner); err != nil {
		return nil, err
	}
	if p.Name != nil {
		n := strings.TrimSpace(*p.Name)
		p.Name = &n
	}
	return s.UpdateClient(ctx, a, id, ClientPatch{Name: p.Name, RedirectURIs: p.RedirectURIs, AllowedOrigins: p.AllowedOrigins})
}
