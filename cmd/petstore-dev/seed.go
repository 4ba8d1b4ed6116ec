package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"slices"

	"github.com/petstore-auth/petstore-auth/pkg/apikey"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/password"
	"github.com/petstore-auth/petstore-auth/pkg/server"
)

// seedAuth makes sure the demo users, the two clients and the API key exist
// and match the secrets file. It is idempotent and returns the demo user.
func seedAuth(ctx context.Context, s *server.Server, sec secrets, demoURL string) (*identity.User, error) {
	st := s.Store
	demoUser, err := ensureUser(ctx, s, demoEmail, "Dana Demo", sec.DemoPassword, false)
	if err != nil {
		return nil, err
	}
	if _, err := ensureUser(ctx, s, adminEmail, "Ada Admin", sec.AdminPassword, true); err != nil {
		return nil, err
	}
	if err := ensureClient(ctx, s, &identity.Client{ID: demoClientID, Name: "MyApp", RedirectURIs: []string{demoURL + "/callback"},
		PostLogoutRedirectURIs: []string{demoURL + "/signed-out"},
		GrantTypes:             []string{identity.GrantAuthorizationCode, identity.GrantRefreshToken},
		Scopes:                 []string{"openid", "profile", "email", identity.ScopeReadPets, identity.ScopeWritePets, identity.ScopeOfflineAccess},
		TokenFormat:            identity.TokenFormatOpaque}, sec.MyAppSecret); err != nil {
		return nil, err
	}
	if err := ensureClient(ctx, s, &identity.Client{ID: apiClientID, Name: "PetStore API", GrantTypes: []string{identity.GrantClientCredentials},
		CanIntrospect: true, TokenFormat: identity.TokenFormatOpaque}, sec.APISecret); err != nil {
		return nil, err
	}
	// A public client of the device grant, for the README's curl
	// walk-through (RFC 8628).
	if _, err := st.ClientByID(ctx, deviceClientID); identity.IsNotFound(err) {
		err = st.CreateClient(ctx, &identity.Client{ID: deviceClientID, Name: "Pet TV", Public: true,
			GrantTypes: []string{identity.GrantDeviceCode, identity.GrantRefreshToken},
			Scopes:     []string{identity.ScopeReadPets, identity.ScopeOfflineAccess}, TokenFormat: identity.TokenFormatOpaque})
		if err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	if _, err := st.APIKeyByHash(ctx, apikey.Hash(sec.APIKey)); identity.IsNotFound(err) {
		err = st.CreateAPIKey(ctx, &identity.APIKey{OwnerID: demoUser.ID, Name: "Quickstart key", Env: identity.EnvTest,
			Prefix: apikey.DisplayPrefix(sec.APIKey), Hash: apikey.Hash(sec.APIKey), Scopes: []string{identity.ScopeReadPets}})
		if err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	return demoUser, nil
}

// ensureUser creates the user, or repairs it (password, admin flag,
// disabled); a demo user without a display name gets one, so MyApp's
// greeting shows a name (OpenID Connect profile scope).
func ensureUser(ctx context.Context, s *server.Server, email, name, pw string, admin bool) (*identity.User, error) {
	u, err := s.Store.UserByEmail(ctx, email)
	switch {
	case identity.IsNotFound(err):
		hash, err := password.ForAccount(pw, email)
		if err != nil {
			return nil, err
		}
		u = &identity.User{Email: email, Name: name, EmailVerified: true, PasswordHash: hash, Admin: admin}
		return u, s.Store.CreateUser(ctx, u)
	case err != nil:
		return nil, err
	case !password.Verify(u.PasswordHash, pw) || u.Admin != admin || u.Disabled:
		hash, err := password.ForAccount(pw, email)
		if err != nil {
			return nil, err
		}
		u.PasswordHash, u.Admin, u.Disabled = hash, admin, false
		return u, s.Store.UpdateUser(ctx, u)
	case u.Name == "":
		u.Name, u.EmailVerified = name, true
		return u, s.Store.UpdateUser(ctx, u)
	}
	return u, nil
}

// ensureClient creates the client or brings it back in line with the
// secrets file and the current demo URL.
func ensureClient(ctx context.Context, s *server.Server, want *identity.Client, secret string) error {
	sum := sha256.Sum256([]byte(secret))
	want.SecretHash = sum[:]
	have, err := s.Store.ClientByID(ctx, want.ID)
	if identity.IsNotFound(err) {
		return s.Store.CreateClient(ctx, want)
	} else if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(have.SecretHash, want.SecretHash) == 1 && slices.Equal(have.RedirectURIs, want.RedirectURIs) &&
		slices.Equal(have.Scopes, want.Scopes) && slices.Equal(have.PostLogoutRedirectURIs, want.PostLogoutRedirectURIs) && !have.Disabled {
		return nil
	}
	// A stack seeded by an earlier version gets what MyApp needs now
	// (OpenID Connect scopes, the post-logout URI).
	have.SecretHash, have.RedirectURIs, have.Disabled = want.SecretHash, want.RedirectURIs, false
	have.Scopes, have.PostLogoutRedirectURIs = want.Scopes, want.PostLogoutRedirectURIs
	return s.Store.UpdateClient(ctx, have)
}
