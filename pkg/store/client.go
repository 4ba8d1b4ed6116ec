package store

import (
	"slices"
	"time"

	"github.com/ory/fosite"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

var (
	_ fosite.Client                   = (*Client)(nil)
	_ fosite.ClientWithSecretRotation = (*Client)(nil)
)

// Client adapts an *identity.Client to fosite.Client. GetClient returns it;
// Identity gives the provider the full domain client (token format,
// introspection right) without a second query.
type Client struct {
	c   *identity.Client
	now func() time.Time
}

// NewClient wraps c for fosite; now is the clock that decides whether a
// rotated secret is still in its grace period (nil: the wall clock).
func NewClient(c *identity.Client, now func() time.Time) *Client {
	if now == nil {
		now = time.Now
	}
	return &Client{c: c, now: now}
}

// Identity returns the wrapped domain client.
func (c *Client) Identity() *identity.Client { return c.c }

// GetID returns the client id.
func (c *Client) GetID() string { return c.c.ID }

// GetHashedSecret returns the SHA-256 of the client secret.
func (c *Client) GetHashedSecret() []byte { return c.c.SecretHash }

// GetRotatedHashes returns the hash of the secret replaced by the last
// rotation while its grace period lasts (identity.Client.SecretHashes),
// read at each call, so a cached client stops accepting it on time.
func (c *Client) GetRotatedHashes() [][]byte {
	if c.c.PreviousSecretActive(c.now()) {
		return [][]byte{c.c.PreviousSecretHash}
	}
	return nil
}

// GetRedirectURIs returns the registered redirect URIs.
func (c *Client) GetRedirectURIs() []string { return c.c.RedirectURIs }

// GetGrantTypes returns the registered grant types.
func (c *Client) GetGrantTypes() fosite.Arguments { return fosite.Arguments(c.c.GrantTypes) }

// GetResponseTypes is ["code"] for clients of the authorization code grant
// and empty otherwise: the implicit and hybrid flows are off.
func (c *Client) GetResponseTypes() fosite.Arguments {
	if slices.Contains(c.c.GrantTypes, identity.GrantAuthorizationCode) {
		return fosite.Arguments{"code"}
	}
	return fosite.Arguments{}
}

// GetScopes returns the scopes the client may request.
func (c *Client) GetScopes() fosite.Arguments { return fosite.Arguments(c.c.Scopes) }

// IsPublic reports whether the client has no secret.
func (c *Client) IsPublic() bool { return c.c.Public }

// GetAudience returns the audiences the client may request.
func (c *Client) GetAudience() fosite.Arguments { return fosite.Arguments(c.c.Audience) }
