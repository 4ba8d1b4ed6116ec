package manage

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// ClientInput is a client registration as an operator submits it.
type ClientInput struct {
	ID           string   `json:"id,omitempty"`
	Name         string   `json:"name"`
	RedirectURIs []string `json:"redirect_uris,omitempty"`
	// GrantTypes empty means DefaultGrantTypes.
	GrantTypes []string `json:"grant_types,omitempty"`
	Scopes     []string `json:"scopes,omitempty"`
	Audience   []string `json:"audience,omitempty"`
	Public     bool     `json:"public,omitempty"`
	// AllowedOrigins: extra browser origins of a public client (CORS).
	AllowedOrigins []string `json:"allowed_origins,omitempty"`
	CanIntrospect  bool     `json:"can_introspect,omitempty"`
	TokenFormat    string   `json:"token_format,omitempty"`
	// DPoPBound: the client must send DPoP proofs (RFC 9449) for tokens.
	DPoPBound bool `json:"dpop_bound,omitempty"`
	// RequirePAR: the client must push authorization requests (RFC 9126).
	RequirePAR bool `json:"require_par,omitempty"`
	// Profile: "" or "fapi2" (identity.ProfileFAPI2).
	Profile string `json:"profile,omitempty"`
	// IDTokenSignedResponseAlg: RS256 (the default) or ES256.
	IDTokenSignedResponseAlg string `json:"id_token_signed_response_alg,omitempty"`
	// OpenID Connect logout: RP-Initiated Logout 1.0 §3.1 and
	// Back-Channel Logout 1.0 §2.2 registration metadata.
	PostLogoutRedirectURIs           []string `json:"post_logout_redirect_uris,omitempty"`
	BackchannelLogoutURI             string   `json:"backchannel_logout_uri,omitempty"`
	BackchannelLogoutSessionRequired bool     `json:"backchannel_logout_session_required,omitempty"`
	// TokenEndpointAuthMethod is "" (a generated secret, or none for a
	// public client) or "private_key_jwt"; a JWKSURI or JWKS implies the
	// latter (RFC 7523 client assertions; the client gets no secret).
	TokenEndpointAuthMethod string          `json:"token_endpoint_auth_method,omitempty"`
	JWKSURI                 string          `json:"jwks_uri,omitempty"`
	JWKS                    json.RawMessage `json:"jwks,omitempty"`
}

// ClientPatch changes some fields of a client; nil fields stay as they are.
type ClientPatch struct {
	Name           *string   `json:"name,omitempty"`
	RedirectURIs   *[]string `json:"redirect_uris,omitempty"`
	GrantTypes     *[]string `json:"grant_types,omitempty"`
	Scopes         *[]string `json:"scopes,omitempty"`
	Audience       *[]string `json:"audience,omitempty"`
	AllowedOrigins *[]string `json:"allowed_origins,omitempty"`
	CanIntrospect  *bool     `json:"can_introspect,omitempty"`
	TokenFormat    *string   `json:"token_format,omitempty"`
	DPoPBound      *bool     `json:"dpop_bound,omitempty"`
	RequirePAR     *bool     `json:"require_par,omitempty"`
	// IDTokenSignedResponseAlg: RS256, ES256, or "" for the default.
	IDTokenSignedResponseAlg *string `json:"id_token_signed_response_alg,omitempty"`
	// An empty list or URI removes them.
	PostLogoutRedirectURIs           *[]string `json:"post_logout_redirect_uris,omitempty"`
	BackchannelLogoutURI             *string   `json:"backchannel_logout_uri,omitempty"`
	BackchannelLogoutSessionRequired *bool     `json:"backchannel_logout_session_required,omitempty"`
}

// DefaultGrantTypes are the grant types of a client registered without
// any: a client that sends users somewhere (redirect URIs, or public) gets
// authorization_code, plus refresh_token only when it may ask for
// offline_access — the scope fosite requires before it issues a refresh
// token (RFC 6749 §6), so the grant is never registered without a use. A
// confidential client without redirect URIs is a service:
// client_credentials.
func DefaultGrantTypes(redirectURIs, scopes []string, public bool) []string {
	if len(redirectURIs) == 0 && !public {
		return []string{identity.GrantClientCredentials}
	}
	g := []string{identity.GrantAuthorizationCode}
	if slices.Contains(scopes, identity.ScopeOfflineAccess) {
		g = append(g, identity.GrantRefreshToken)
	}
	return g
}

// CreateClient registers a client. The secret (empty for a public client)
// is returned once and stored only as its SHA-256.
func (s *Service) CreateClient(ctx context.Context, a Actor, in ClientInput) (_ *identity.Client, secret string, err error) {
	return s.createClient(ctx, a, in, "")
}

// createClient registers a client owned by the user owner ("" for an
// operator's client).
func (s *Service) createClient(ctx context.Context, a Actor, in ClientInput, owner string) (_ *identity.Client, secret string, err error) {
	c := &identity.Client{OwnerID: owner,
		ID: strings.TrimSpace(in.ID), Name: strings.TrimSpace(in.Name),
		RedirectURIs: orEmpty(in.RedirectURIs), GrantTypes: identity.CanonicalGrantTypes(in.GrantTypes), Scopes: orEmpty(in.Scopes),
		Audience: orEmpty(in.Audience), Public: in.Public, AllowedOrigins: in.AllowedOrigins,
		CanIntrospect: in.CanIntrospect, TokenFormat: in.TokenFormat, IDTokenSignedResponseAlg: in.IDTokenSignedResponseAlg,
		PostLogoutRedirectURIs: in.PostLogoutRedirectURIs, BackchannelLogoutURI: strings.TrimSpace(in.BackchannelLogoutURI),
		BackchannelLogoutSessionRequired: in.BackchannelLogoutSessionRequired,
		DPoPBound:                        in.DPoPBound, RequirePAR: in.RequirePAR, Profile: in.Profile,
		TokenEndpointAuthMethod: in.TokenEndpointAuthMethod, JWKSURI: strings.TrimSpace(in.JWKSURI), JWKS: string(in.JWKS),
	}
	if c.TokenEndpointAuthMethod == "" && (c.JWKSURI != "" || c.JWKS != "") {
		c.TokenEndpointAuthMethod = identity.AuthPrivateKeyJWT
	}
	if c.ID == "" {
		c.ID = identity.NewClientID(c.Name)
	}
	if len(c.GrantTypes) == 0 {
		c.GrantTypes = DefaultGrantTypes(c.RedirectURIs, c.Scopes, c.Public)
	}
	if c.TokenFormat == "" {
		c.TokenFormat = identity.TokenFormatOpaque
	}
	defer func() {
		s.Record(ctx, a, &identity.AuditEvent{Type: identity.EventClientCreated, ClientID: c.ID, Details: map[string]string{
			"name": c.Name, "scopes": strings.Join(c.Scopes, " "), "grant_types": strings.Join(c.GrantTypes, " "),
			"public": strconv.FormatBool(c.Public), "owner_id": owner,
		}}, err)
	}()
	if err := c.Validate(); err != nil {
		return nil, "", err
	}
	// A client id equal to a user id would let the client's tokens pass
	// for the user's (checklist AT-08).
	if _, err := s.Users.UserByID(ctx, c.ID); err == nil {
		return nil, "", identity.Errorf(identity.ECONFLICT, "The client id %q is taken.", c.ID)
	} else if !identity.IsNotFound(err) {
		return nil, "", err
	}
	if !c.Public && !c.UsesPrivateKeyJWT() {
		secret, c.SecretHash = identity.NewClientSecret()
	}
	if err := s.Clients.CreateClient(ctx, c); err != nil {
		return nil, "", err
	}
	return c, secret, nil
}

// UpdateClient applies a patch and validates the result before storing it.
// A patch that adds offline_access to an authorization-code client without
// touching its grant types adds refresh_token (DefaultGrantTypes' rule).
func (s *Service) UpdateClient(ctx context.Context, a Actor, id string, p ClientPatch) (c *identity.Client, err error) {
	var changed []string
	defer func() {
		s.Record(ctx, a, &identity.AuditEvent{Type: identity.EventClientUpdated, ClientID: id,
			Details: map[string]string{"fields": strings.Join(changed, " ")}}, err)
	}()
	c, err = s.Clients.ClientByID(ctx, id)
	if err != nil {
		return nil, err
	}
	set := func(name string, ok bool, apply func()) {
		if ok {
			apply()
			changed = append(changed, name)
		}
	}
	set("name", p.Name != nil, func() { c.Name = strings.TrimSpace(*p.Name) })
	set("redirect_uris", p.RedirectURIs != nil, func() { c.RedirectURIs = orEmpty(*p.RedirectURIs) })
	set("grant_types", p.GrantTypes != nil, func() { c.GrantTypes = orEmpty(identity.CanonicalGrantTypes(*p.GrantTypes)) })
	set("scopes", p.Scopes != nil, func() { c.Scopes = orEmpty(*p.Scopes) })
	set("audience", p.Audience != nil, func() { c.Audience = orEmpty(*p.Audience) })
	set("allowed_origins", p.AllowedOrigins != nil, func() { c.AllowedOrigins = *p.AllowedOrigins })
	set("can_introspect", p.CanIntrospect != nil, func() { c.CanIntrospect = *p.CanIntrospect })
	set("dpop_bound", p.DPoPBound != nil, func() { c.DPoPBound = *p.DPoPBound })
	set("require_par", p.RequirePAR != nil, func() { c.RequirePAR = *p.RequirePAR })
	set("token_format", p.TokenFormat != nil, func() { c.TokenFormat = *p.TokenFormat })
	set("id_token_signed_response_alg", p.IDTokenSignedResponseAlg != nil, func() { c.IDTokenSignedResponseAlg = *p.IDTokenSignedResponseAlg })
	set("post_logout_redirect_uris", p.PostLogoutRedirectURIs != nil, func() { c.PostLogoutRedirectURIs = *p.PostLogoutRedirectURIs })
	set("backchannel_logout_uri", p.BackchannelLogoutURI != nil, func() { c.BackchannelLogoutURI = strings.TrimSpace(*p.BackchannelLogoutURI) })
	set("backchannel_logout_session_required", p.BackchannelLogoutSessionRequired != nil, func() {
		c.BackchannelLogoutSessionRequired = *p.BackchannelLogoutSessionRequired
	})
	if len(changed) == 0 {
		return nil, identity.Errorf(identity.EINVALID, "Nothing to change.")
	}
	// The rule of DefaultGrantTypes, kept when scopes change alone: a
	// code client that may now ask for offline_access can also redeem the
	// refresh token it will get (the console has no grant-type field).
	if p.GrantTypes == nil && slices.Contains(c.Scopes, identity.ScopeOfflineAccess) &&
		slices.Contains(c.GrantTypes, identity.GrantAuthorizationCode) && !slices.Contains(c.GrantTypes, identity.GrantRefreshToken) {
		c.GrantTypes = append(slices.Clone(c.GrantTypes), identity.GrantRefreshToken)
		changed = append(changed, "grant_types")
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := s.Clients.UpdateClient(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// RotateClientSecret replaces a confidential client's secret. With grace
// 0 the old secret stops working at once; with grace > 0 (at most
// identity.MaxSecretGrace) it keeps authenticating the client until
// now+grace, so the app can be redeployed without downtime. A secret still
// in the grace period of an earlier rotation stops at once. With owner set
// (the developer page), only that user's client can be rotated; others are
// "not found".
func (s *Service) RotateClientSecret(ctx context.Context, a Actor, id, owner string, grace time.Duration) (c *identity.Client, secret string, err error) {
	defer func() {
		s.Record(ctx, a, &identity.AuditEvent{Type: identity.EventClientSecretRotated, ClientID: id, UserID: owner,
			Details: map[string]string{"grace": grace.String()}}, err)
	}()
	c, err = s.ownClient(ctx, id, owner)
	if err != nil {
		return nil, "", err
	}
	secret, err = c.RotateSecret(s.now(), grace)
	if err != nil {
		return nil, "", err
	}
	if c.UsesPrivateKeyJWT() {
		return nil, "", identity.Errorf(identity.EINVALID, "A private_key_jwt client has no secret; it authenticates with its keys.")
	}
	if err := s.Clients.UpdateClient(ctx, c); err != nil {
		return nil, "", err
	}
	return c, secret, nil
}

// SetClientDisabled disables (the store then revokes its tokens) or
// re-enables a client.
func (s *Service) SetClientDisabled(ctx context.Context, a Actor, id string, disabled bool) (c *identity.Client, err error) {
	typ := identity.EventClientEnabled
	if disabled {
		typ = identity.EventClientDisabled
	}
	defer func() { s.Record(ctx, a, &identity.AuditEvent{Type: typ, ClientID: id}, err) }()
	c, err = s.Clients.ClientByID(ctx, id)
	if err != nil {
		return nil, err
	}
	c.Disabled = disabled
	if err := s.Clients.UpdateClient(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// DeleteClient deletes a client with its grants and tokens. With owner set
// (the developer page), only that user's client can be deleted; others
// are "not found".
func (s *Service) DeleteClient(ctx context.Context, a Actor, id, owner string) (err error) {
	defer func() {
		s.Record(ctx, a, &identity.AuditEvent{Type: identity.EventClientDeleted, ClientID: id, UserID: owner}, err)
	}()
	if _, err := s.ownClient(ctx, id, owner); err != nil {
		return err
	}
	return s.Clients.DeleteClient(ctx, id)
}

// RotateInput is the optional body of a rotation request (admin API).
type RotateInput struct {
	// Grace is how long the old secret keeps working, a Go duration such
	// as "24h" (at most 168h); "" or "0" stops it at once.
	Grace string `json:"grace,omitempty"`
}

// ParseGrace reads a grace period as the CLI, the admin API and the pages
// take it: "" means 0; otherwise a Go duration ("1h", "24h", "168h").
// Its range is checked by identity.Client.RotateSecret.
func ParseGrace(s string) (time.Duration, error) {
	if strings.TrimSpace(s) == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, identity.Errorf(identity.EINVALID, "The grace period %q is not a duration such as 1h or 24h.", s)
	}
	return d, nil
}

// Choice is one option of a select on a page.
type Choice struct{ Value, Label string }

// GraceChoices are the grace periods the console and the developer page
// offer when rotating a secret (values for ParseGrace), the first the
// default: none, as before grace periods existed.
var GraceChoices = []Choice{
	{"0", "No grace period: the current secret stops now"},
	{"1h", "1 hour"},
	{"24h", "1 day"},
	{"168h", "7 days"},
}

var errNoClient = identity.Errorf(identity.ENOTFOUND, "Client not found.")

// ownClient loads client id; with owner set, a client owned by anyone else
// (or by no one) is "not found", like one that does not exist, so an app
// id reveals nothing about other users' apps.
func (s *Service) ownClient(ctx context.Context, id, owner string) (*identity.Client, error) {
	c, err := s.Clients.ClientByID(ctx, id)
	if identity.IsNotFound(err) || err == nil && owner != "" && c.OwnerID != owner {
		return nil, errNoClient
	}
	return c, err
}
