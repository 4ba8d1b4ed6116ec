package admin

import (
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// The JSON shapes of the API. They hold no secret hashes: a client secret
// appears only in the response that created it.

type clientView struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	RedirectURIs []string `json:"redirect_uris"`
	GrantTypes   []string `json:"grant_types"`
	Scopes       []string `json:"scopes"`
	Audience     []string `json:"audience"`
	Public       bool     `json:"public"`
	// AllowedOrigins are the extra origins; CORSOrigins all origins a
	// browser app may call the token endpoint from (redirect URIs' too).
	AllowedOrigins []string  `json:"allowed_origins"`
	CORSOrigins    []string  `json:"cors_origins"`
	CanIntrospect  bool      `json:"can_introspect"`
	TokenFormat    string    `json:"token_format"`
	Disabled       bool      `json:"disabled"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

func viewClient(c *identity.Client) clientView {
	return clientView{
		ID: c.ID, Name: c.Name, RedirectURIs: orEmpty(c.RedirectURIs), GrantTypes: orEmpty(c.GrantTypes),
		Scopes: orEmpty(c.Scopes), Audience: orEmpty(c.Audience), Public: c.Public, CanIntrospect: c.CanIntrospect,
		AllowedOrigins: orEmpty(c.AllowedOrigins), CORSOrigins: orEmpty(c.CORSOrigins()),
		TokenFormat: c.TokenFormat, Disabled: c.Disabled, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

// clientWithSecret is the answer to create and rotate: the only place the
// secret is ever shown.
type clientWithSecret struct {
	clientView
	ClientSecret string `json:"client_secret,omitempty"`
}

type userView struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Admin     bool      `json:"admin"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func viewUser(u *identity.User) userView {
	return userView{ID: u.ID, Email: u.Email, Admin: u.Admin, Disabled: u.Disabled, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

type grantView struct {
	ID         string     `json:"id"`
	UserID     string     `json:"user_id"`
	ClientID   string     `json:"client_id"`
	Scopes     []string   `json:"scopes"`
	Remember   bool       `json:"remember"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt time.Time  `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

func viewGrant(g *identity.Grant) grantView {
	return grantView{ID: g.ID, UserID: g.UserID, ClientID: g.ClientID, Scopes: orEmpty(g.Scopes), Remember: g.Remember,
		CreatedAt: g.CreatedAt, LastUsedAt: g.LastUsedAt, RevokedAt: g.RevokedAt}
}

type apiKeyView struct {
	ID         string     `json:"id"`
	OwnerID    string     `json:"owner_id"`
	Name       string     `json:"name"`
	Env        string     `json:"env"`
	Prefix     string     `json:"prefix"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

func viewAPIKey(k *identity.APIKey) apiKeyView {
	return apiKeyView{ID: k.ID, OwnerID: k.OwnerID, Name: k.Name, Env: k.Env, Prefix: k.Prefix, Scopes: orEmpty(k.Scopes),
		CreatedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt, LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt}
}

type auditView struct {
	ID        int64             `json:"id"`
	Time      time.Time         `json:"time"`
	Type      string            `json:"type"`
	Outcome   string            `json:"outcome"`
	ActorID   string            `json:"actor_id"`
	UserID    string            `json:"user_id"`
	ClientID  string            `json:"client_id"`
	IP        string            `json:"ip"`
	UserAgent string            `json:"user_agent"`
	Details   map[string]string `json:"details"`
}

func viewAudit(e *identity.AuditEvent) auditView {
	d := e.Details
	if d == nil {
		d = map[string]string{}
	}
	return auditView{ID: e.ID, Time: e.Time, Type: e.Type, Outcome: e.Outcome, ActorID: e.ActorID, UserID: e.UserID,
		ClientID: e.ClientID, IP: e.IP, UserAgent: e.UserAgent, Details: d}
}

// list is one page of a collection.
type list[T any] struct {
	Items  []T `json:"items"`
	Total  int `json:"total"`
	Offset int `json:"offset"`
	Limit  int `json:"limit"`
}

func newList[E, T any](items []E, total int, p identity.Page, view func(E) T) list[T] {
	out := list[T]{Items: make([]T, 0, len(items)), Total: total, Offset: p.Offset, Limit: p.Limit}
	for _, it := range items {
		out.Items = append(out.Items, view(it))
	}
	return out
}
