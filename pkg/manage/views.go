package manage

import (
	"encoding/json"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// The JSON views below are the one wire shape of each object: the admin
// API answers them (docs/admin-openapi.json) and `--output json` prints
// them. They hold no secret hashes: a client secret or an API key appears
// only in the answer that created it.

// ClientView is a client.
type ClientView struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	RedirectURIs []string `json:"redirect_uris"`
	GrantTypes   []string `json:"grant_types"`
	Scopes       []string `json:"scopes"`
	Audience     []string `json:"audience"`
	Public       bool     `json:"public"`
	// AllowedOrigins are the extra origins; CORSOrigins all origins a
	// browser app may call the token endpoint from (redirect URIs' too).
	AllowedOrigins []string `json:"allowed_origins"`
	CORSOrigins    []string `json:"cors_origins"`
	CanIntrospect  bool     `json:"can_introspect"`
	TokenFormat    string   `json:"token_format"`
	// IDTokenSignedResponseAlg is the ID token algorithm (RS256 when unset).
	IDTokenSignedResponseAlg string `json:"id_token_signed_response_alg"`
	// OpenID Connect logout (RP-Initiated and Back-Channel Logout 1.0).
	PostLogoutRedirectURIs           []string `json:"post_logout_redirect_uris"`
	BackchannelLogoutURI             string   `json:"backchannel_logout_uri,omitempty"`
	BackchannelLogoutSessionRequired bool     `json:"backchannel_logout_session_required"`
	DPoPBound                        bool     `json:"dpop_bound"`
	RequirePAR                       bool     `json:"require_par"`
	Profile                          string   `json:"profile"`
	// TokenEndpointAuthMethod is how the client authenticates (RFC 7591
	// §2): none, client_secret_basic (or _post) or private_key_jwt, with
	// its JWKSURI or JWKS.
	TokenEndpointAuthMethod string          `json:"token_endpoint_auth_method"`
	JWKSURI                 string          `json:"jwks_uri,omitempty"`
	JWKS                    json.RawMessage `json:"jwks,omitempty"`
	Disabled                bool            `json:"disabled"`
	// OwnerID is the user who registered the client on the developer page,
	// "" for an operator's client.
	OwnerID string `json:"owner_id"`
	// RotationGraceUntil: until when the secret replaced by the last
	// rotation still works (it may be past); null after a rotation without
	// grace. (The name avoids "secret": views never hold one.)
	RotationGraceUntil *time.Time `json:"rotation_grace_until"`
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
	// Registration is "dynamic" (RFC 7591) or "metadata_document" for a
	// client that registered itself (unverified); absent for operator
	// clients.
	Registration string     `json:"registration,omitempty"`
	LastUsedAt   *time.Time `json:"last_used_at,omitempty"`
}

// ViewClient returns the view of c.
func ViewClient(c *identity.Client) ClientView {
	v := ClientView{
		ID: c.ID, Name: c.Name, RedirectURIs: orEmpty(c.RedirectURIs), GrantTypes: orEmpty(c.GrantTypes),
		Scopes: orEmpty(c.Scopes), Audience: orEmpty(c.Audience), Public: c.Public, CanIntrospect: c.CanIntrospect,
		AllowedOrigins: orEmpty(c.AllowedOrigins), CORSOrigins: orEmpty(c.CORSOrigins()),
		TokenFormat: c.TokenFormat, IDTokenSignedResponseAlg: idTokenAlgOf(c), DPoPBound: c.DPoPBound, RequirePAR: c.RequirePAR, Profile: c.Profile,
		Disabled: c.Disabled, OwnerID: c.OwnerID,
		RotationGraceUntil: c.PreviousSecretExpiresAt, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		Registration: c.Registration, LastUsedAt: c.LastUsedAt,
		PostLogoutRedirectURIs: orEmpty(c.PostLogoutRedirectURIs), BackchannelLogoutURI: c.BackchannelLogoutURI,
		BackchannelLogoutSessionRequired: c.BackchannelLogoutSessionRequired,
		TokenEndpointAuthMethod:          authMethodOf(c), JWKSURI: c.JWKSURI,
	}
	if c.JWKS != "" {
		v.JWKS = json.RawMessage(c.JWKS)
	}
	return v
}

func authMethodOf(c *identity.Client) string {
	switch {
	case c.TokenEndpointAuthMethod != "":
		return c.TokenEndpointAuthMethod
	case c.Public:
		return "none"
	}
	return "client_secret_basic"
}

// idTokenAlgOf is the client's ID token algorithm, the default when unset.
func idTokenAlgOf(c *identity.Client) string {
	if c.IDTokenSignedResponseAlg == "" {
		return identity.IDTokenSigningAlgs[0]
	}
	return c.IDTokenSignedResponseAlg
}

// ClientWithSecret answers create and rotate: the only place the secret
// is ever shown.
type ClientWithSecret struct {
	ClientView
	ClientSecret string `json:"client_secret,omitempty"`
}

// UserView is an account.
type UserView struct {
	ID            string    `json:"id"`
	Email         string    `json:"email"`
	Name          string    `json:"name"`
	EmailVerified bool      `json:"email_verified"`
	Admin         bool      `json:"admin"`
	Disabled      bool      `json:"disabled"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// ViewUser returns the view of u.
func ViewUser(u *identity.User) UserView {
	return UserView{ID: u.ID, Email: u.Email, Name: u.Name, EmailVerified: u.EmailVerified, Admin: u.Admin, Disabled: u.Disabled, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

// GrantView is a grant.
type GrantView struct {
	ID         string     `json:"id"`
	UserID     string     `json:"user_id"`
	ClientID   string     `json:"client_id"`
	Scopes     []string   `json:"scopes"`
	Remember   bool       `json:"remember"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt time.Time  `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// ViewGrant returns the view of g.
func ViewGrant(g *identity.Grant) GrantView {
	return GrantView{ID: g.ID, UserID: g.UserID, ClientID: g.ClientID, Scopes: orEmpty(g.Scopes), Remember: g.Remember,
		CreatedAt: g.CreatedAt, LastUsedAt: g.LastUsedAt, RevokedAt: g.RevokedAt}
}

// APIKeyView is an API key, never the key itself.
type APIKeyView struct {
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

// ViewAPIKey returns the view of k.
func ViewAPIKey(k *identity.APIKey) APIKeyView {
	return APIKeyView{ID: k.ID, OwnerID: k.OwnerID, Name: k.Name, Env: k.Env, Prefix: k.Prefix, Scopes: orEmpty(k.Scopes),
		CreatedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt, LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt}
}

// AuditView is an audit event.
type AuditView struct {
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

// ViewAudit returns the view of e.
func ViewAudit(e *identity.AuditEvent) AuditView {
	d := e.Details
	if d == nil {
		d = map[string]string{}
	}
	return AuditView{ID: e.ID, Time: e.Time, Type: e.Type, Outcome: e.Outcome, ActorID: e.ActorID, UserID: e.UserID,
		ClientID: e.ClientID, IP: e.IP, UserAgent: e.UserAgent, Details: d}
}

// SigningKeyView is the public description of a JWT signing key.
type SigningKeyView struct {
	KID       string     `json:"kid"`
	Algorithm string     `json:"alg"`
	CreatedAt time.Time  `json:"created_at"`
	RetiredAt *time.Time `json:"retired_at,omitempty"`
}

// ViewSigningKey returns the view of k.
func ViewSigningKey(k *identity.SigningKey) SigningKeyView {
	return SigningKeyView{KID: k.ID, Algorithm: k.Algorithm, CreatedAt: k.CreatedAt, RetiredAt: k.RetiredAt}
}

// List is one page of a collection.
type List[T any] struct {
	Items  []T `json:"items"`
	Total  int `json:"total"`
	Offset int `json:"offset"`
	Limit  int `json:"limit"`
}

// NewList views one page of items.
func NewList[E, T any](items []E, total int, p identity.Page, view func(E) T) List[T] {
	out := List[T]{Items: make([]T, 0, len(items)), Total: total, Offset: p.Offset, Limit: p.Limit}
	for _, it := range items {
		out.Items = append(out.Items, view(it))
	}
	return out
}
