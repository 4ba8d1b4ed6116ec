package store

import (
	"slices"

	"github.com/ory/fosite"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

var _ fosite.Client = (*Client)(nil)

// Client adapts an *identity.Client to fosite.Client. GetClient returns it;
// Identity gives the provider the full domain client (token format,
// introspection right) without a second query.
type Client struct {
	c *identity.Client
}

// NewClient wraps c for fosite.
func NewClient(c *identity.Client) *Client { return &Client{c: c} }

// Identity returns the wrapped domain client.
func (c *Client) Identity() *identity.Client { return c.c }

// GetID returns the client id.
func (c *Client) GetID() string { return c.c.ID }

// GetHashedSecret returns the SHA-256 of the client secret.
func (c *Client) GetHashedSecret() []byte { return c.c.SecretHash }

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
