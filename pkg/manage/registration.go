package manage

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	neturl "net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// Registration policies (config `registration`): who may use the
// registration endpoint (RFC 7591 §3).
const (
	RegistrationOff   = "off"   // no endpoint; not in the metadata
	RegistrationOpen  = "open"  // anyone, rate limited per address
	RegistrationToken = "token" // only with an initial access token from `registration-token create`
)

// Prefixes of the registration credentials, so scanners can find them.
const (
	PrefixRegistrationToken       = "pst_rit_" // initial access token (RFC 7591 §3)
	PrefixRegistrationAccessToken = "pst_rat_" // registration access token (RFC 7592 §1)
)

// RFC 7591 §3.2.2 error codes.
const (
	ErrInvalidRedirectURI    = "invalid_redirect_uri"
	ErrInvalidClientMetadata = "invalid_client_metadata"
)

// RegistrationError is a refused registration with its RFC 7591 §3.2.2
// code; it is also an identity EINVALID error (the audit log's code).
type RegistrationError struct {
	Code        string // ErrInvalidRedirectURI or ErrInvalidClientMetadata
	Description string
}

func (e *RegistrationError) Error() string { return e.Code + ": " + e.Description }

// Unwrap makes the error an identity EINVALID error.
func (e *RegistrationError) Unwrap() error {
	return identity.Errorf(identity.EINVALID, "%s", e.Description)
}

// Registrations is the part of the store registration uses.
type Registrations interface {
	CreateRegistrationToken(ctx context.Context, t *identity.RegistrationToken) error
	ListRegistrationTokens(ctx context.Context) ([]*identity.RegistrationToken, error)
	RevokeRegistrationToken(ctx context.Context, id string) error
	UseRegistrationToken(ctx context.Context, hash []byte, now time.Time) error
}

// ClientMetadata is the client metadata of RFC 7591 §2 this server
// accepts. JWKS-based authentication (jwks_uri, jwks) is not supported
// here and is refused with invalid_client_metadata.
type ClientMetadata struct {
	RedirectURIs            []string `json:"redirect_uris,omitempty"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method,omitempty"`
	GrantTypes              []string `json:"grant_types,omitempty"`
	ResponseTypes           []string `json:"response_types,omitempty"`
	ClientName              string   `json:"client_name,omitempty"`
	ClientURI               string   `json:"client_uri,omitempty"`
	LogoURI                 string   `json:"logo_uri,omitempty"`
	Scope                   string   `json:"scope,omitempty"`
	SoftwareID              string   `json:"software_id,omitempty"`
	SoftwareVersion         string   `json:"software_version,omitempty"`
	JWKSURI                 string   `json:"jwks_uri,omitempty"`
	JWKS                    any      `json:"jwks,omitempty"`
	// OpenID Connect Dynamic Client Registration 1.0 §2 and RP-Initiated
	// Logout 1.0 §3.1; back-channel logout is for operator clients only
	// (the server would POST to an address the registrant chose).
	IDTokenSignedResponseAlg string   `json:"id_token_signed_response_alg,omitempty"`
	PostLogoutRedirectURIs   []string `json:"post_logout_redirect_uris,omitempty"`
	BackchannelLogoutURI     string   `json:"backchannel_logout_uri,omitempty"`
}

// ClientInformation is the RFC 7591 §3.2.1 response: the registered
// metadata plus the credentials. ClientSecret and RegistrationAccessToken
// are only known when they are made (the store keeps hashes).
type ClientInformation struct {
	ClientID         string `json:"client_id"`
	ClientSecret     string `json:"client_secret,omitempty"`
	ClientIDIssuedAt int64  `json:"client_id_issued_at"`
	// ClientSecretExpiresAt is 0 (never) for a confidential client and
	// absent for a public one.
	ClientSecretExpiresAt   *int64 `json:"client_secret_expires_at,omitempty"`
	RegistrationAccessToken string `json:"registration_access_token,omitempty"`
	RegistrationClientURI   string `json:"registration_client_uri,omitempty"`
	ClientMetadata
}

// Auth methods a self-registered client may use at the token endpoint.
var registrationAuthMethods = []string{"none", "client_secret_basic", "client_secret_post"}

// RegistrationScopes are the scopes a self-registered client may ask for:
// every scope but admin. Without `scope`, it gets them all.
func RegistrationScopes() []string {
	var out []string
	for _, s := range identity.Scopes {
		if s.Name != identity.ScopeAdmin {
			out = append(out, s.Name)
		}
	}
	return out
}

// clientFromMetadata applies the RFC 7591 defaults and this server's
// limits to md and returns the client to store; redirect URIs and the rest
// are then checked by identity.Client.Validate like any client's.
func clientFromMetadata(md *ClientMetadata) (*identity.Client, error) {
	bad := func(format string, args ...any) error {
		return &RegistrationError{Code: ErrInvalidClientMetadata, Description: fmt.Sprintf(format, args...)}
	}
	if md.JWKSURI != "" || md.JWKS != nil {
		return nil, bad("jwks_uri and jwks are not supported: register with token_endpoint_auth_method none, client_secret_basic or client_secret_post")
	}
	if md.BackchannelLogoutURI != "" {
		return nil, bad("backchannel_logout_uri is not available to self-registered clients; ask the operator")
	}
	if md.TokenEndpointAuthMethod == "" {
		md.TokenEndpointAuthMethod = "client_secret_basic" // RFC 7591 §2
	}
	if !slices.Contains(registrationAuthMethods, md.TokenEndpointAuthMethod) {
		return nil, bad("token_endpoint_auth_method %q is not supported (none, client_secret_basic, client_secret_post)", md.TokenEndpointAuthMethod)
	}
	if len(md.GrantTypes) == 0 {
		md.GrantTypes = []string{identity.GrantAuthorizationCode}
	}
	for _, g := range md.GrantTypes {
		if g != identity.GrantAuthorizationCode && g != identity.GrantRefreshToken {
			return nil, bad("grant type %q is not available to registered clients (authorization_code, refresh_token)", g)
		}
	}
	if len(md.ResponseTypes) == 0 {
		md.ResponseTypes = []string{"code"}
	}
	if len(md.ResponseTypes) != 1 || md.ResponseTypes[0] != "code" {
		return nil, bad("response_types must be [\"code\"]")
	}
	scopes := strings.Fields(md.Scope)
	if len(scopes) == 0 {
		scopes = RegistrationScopes()
	}
	for _, s := range scopes {
		if !slices.Contains(RegistrationScopes(), s) {
			return nil, bad("scope %q is not available to registered clients (%s)", s, strings.Join(RegistrationScopes(), " "))
		}
	}
	md.Scope = strings.Join(scopes, " ")
	for _, u := range md.RedirectURIs {
		// The same rule as for every client (Validate calls it too); run
		// first for its own RFC 7591 error code.
		if err := identity.ValidateRedirectURI(u); err != nil {
			return nil, &RegistrationError{Code: ErrInvalidRedirectURI, Description: identity.ErrorMessage(err)}
		}
	}
	name := strings.TrimSpace(md.ClientName)
	if name == "" {
		name = "Unnamed app"
	}
	c := &identity.Client{
		Name: name, RedirectURIs: orEmpty(slices.Clone(md.RedirectURIs)), GrantTypes: slices.Clone(md.GrantTypes),
		Scopes: scopes, Audience: []string{}, Public: md.TokenEndpointAuthMethod == "none",
		TokenFormat: identity.TokenFormatOpaque, Registration: identity.RegistrationDynamic,
		ClientURI: md.ClientURI, LogoURI: md.LogoURI, SoftwareID: md.SoftwareID, SoftwareVersion: md.SoftwareVersion,
		TokenEndpointAuthMethod:  md.TokenEndpointAuthMethod,
		IDTokenSignedResponseAlg: md.IDTokenSignedResponseAlg,
		PostLogoutRedirectURIs:   orEmpty(slices.Clone(md.PostLogoutRedirectURIs)),
	}
	return c, nil
}

// validateRegistered runs identity.Client.Validate and turns its refusal
// into invalid_client_metadata.
func validateRegistered(c *identity.Client) error {
	if err := c.Validate(); err != nil {
		return &RegistrationError{Code: ErrInvalidClientMetadata, Description: identity.ErrorMessage(err)}
	}
	return nil
}

// MetadataOf returns the RFC 7591 metadata of a registered client.
func MetadataOf(c *identity.Client) ClientMetadata {
	method := c.TokenEndpointAuthMethod
	if method == "" {
		method = "client_secret_basic"
		if c.Public {
			method = "none"
		}
	}
	return ClientMetadata{
		RedirectURIs: c.RedirectURIs, TokenEndpointAuthMethod: method, GrantTypes: c.GrantTypes,
		ResponseTypes: []string{"code"}, ClientName: c.Name, ClientURI: c.ClientURI, LogoURI: c.LogoURI,
		Scope: strings.Join(c.Scopes, " "), SoftwareID: c.SoftwareID, SoftwareVersion: c.SoftwareVersion,
		IDTokenSignedResponseAlg: c.IDTokenSignedResponseAlg, PostLogoutRedirectURIs: c.PostLogoutRedirectURIs,
	}
}

// InformationOf returns the RFC 7591 §3.2.1 / RFC 7592 §3 answer for c
// without credentials (the caller adds those it has just made).
func InformationOf(c *identity.Client) *ClientInformation {
	info := &ClientInformation{ClientID: c.ID, ClientIDIssuedAt: c.CreatedAt.Unix(), ClientMetadata: MetadataOf(c)}
	if !c.Public {
		zero := int64(0)
		info.ClientSecretExpiresAt = &zero
	}
	return info
}

// RegisterClient registers a client through the registration endpoint
// (RFC 7591 §3) under policy: off is ENOTIMPLEMENTED; token needs a usable
// initialToken (else EUNAUTHORIZED), which it spends. The client is marked
// dynamic (unverified); its secret (confidential clients) and
// registration access token are returned once, in info.
func (s *Service) RegisterClient(ctx context.Context, a Actor, policy string, initialToken string, md ClientMetadata) (info *ClientInformation, err error) {
	var c *identity.Client
	defer func() {
		id := ""
		if c != nil {
			id = c.ID
		}
		s.Record(ctx, a, &identity.AuditEvent{Type: identity.EventClientRegistered, ClientID: id, Details: map[string]string{
			"name": md.ClientName, "policy": policy, "software_id": md.SoftwareID, "auth_method": md.TokenEndpointAuthMethod,
		}}, err)
	}()
	switch policy {
	case RegistrationOpen:
	case RegistrationToken:
		if initialToken == "" {
			return nil, identity.Errorf(identity.EUNAUTHORIZED, "Registration needs an initial access token (Authorization: Bearer).")
		}
	default:
		return nil, identity.Errorf(identity.ENOTIMPLEMENTED, "Client registration is off.")
	}
	if c, err = clientFromMetadata(&md); err != nil {
		return nil, err
	}
	c.ID = identity.NewClientID(c.Name)
	if err := validateRegistered(c); err != nil {
		return nil, err
	}
	if policy == RegistrationToken {
		// Spent only for a registration that is otherwise acceptable.
		if err := s.Registrations.UseRegistrationToken(ctx, hashOf(initialToken), s.now()); err != nil {
			return nil, err
		}
	}
	var secret, rat string
	if !c.Public {
		secret, c.SecretHash = identity.NewClientSecret()
	}
	rat, c.RegistrationTokenHash = newSecret(PrefixRegistrationAccessToken)
	if err := s.Clients.CreateClient(ctx, c); err != nil {
		return nil, err
	}
	info = InformationOf(c)
	info.ClientSecret, info.RegistrationAccessToken = secret, rat
	return info, nil
}

// RegisteredClient returns the dynamically registered client id if
// accessToken is its registration access token (RFC 7592 §2). Any failure,
// an unknown client included, is the same EUNAUTHORIZED, so the answer
// does not tell which client ids exist (§2.1).
func (s *Service) RegisteredClient(ctx context.Context, id, accessToken string) (*identity.Client, error) {
	c, err := s.Clients.ClientByID(ctx, id)
	if err != nil && !identity.IsNotFound(err) {
		return nil, err
	}
	refused := identity.Errorf(identity.EUNAUTHORIZED, "The registration access token is not valid for this client.")
	if c == nil || len(c.RegistrationTokenHash) == 0 || accessToken == "" {
		return nil, refused
	}
	if subtle.ConstantTimeCompare(c.RegistrationTokenHash, hashOf(accessToken)) != 1 {
		return nil, refused
	}
	return c, nil
}

// UpdateRegisteredClient replaces the metadata of a dynamically registered
// client (RFC 7592 §2.2): md is the whole new metadata, checked as at
// registration. It cannot change the client between public and
// confidential; a client_secret sent with it must be the current one.
func (s *Service) UpdateRegisteredClient(ctx context.Context, a Actor, id, accessToken string, md ClientMetadata, secret string) (info *ClientInformation, err error) {
	defer func() {
		s.Record(ctx, a, &identity.AuditEvent{Type: identity.EventClientUpdated, ClientID: id,
			Details: map[string]string{"fields": "registration"}}, err)
	}()
	c, err := s.RegisteredClient(ctx, id, accessToken)
	if err != nil {
		return nil, err
	}
	next, err := clientFromMetadata(&md)
	if err != nil {
		return nil, err
	}
	if next.Public != c.Public {
		return nil, &RegistrationError{Code: ErrInvalidClientMetadata, Description: "token_endpoint_auth_method cannot change between none and a client secret; register a new client"}
	}
	if secret != "" {
		if sum := sha256.Sum256([]byte(secret)); subtle.ConstantTimeCompare(sum[:], c.SecretHash) != 1 {
			return nil, &RegistrationError{Code: ErrInvalidClientMetadata, Description: "client_secret does not match the client's secret"}
		}
	}
	next.ID, next.SecretHash, next.RegistrationTokenHash = c.ID, c.SecretHash, c.RegistrationTokenHash
	next.Disabled, next.CreatedAt, next.LastUsedAt = c.Disabled, c.CreatedAt, c.LastUsedAt
	next.OwnerID, next.PreviousSecretHash, next.PreviousSecretExpiresAt = c.OwnerID, c.PreviousSecretHash, c.PreviousSecretExpiresAt
	if err := validateRegistered(next); err != nil {
		return nil, err
	}
	if err := s.Clients.UpdateClient(ctx, next); err != nil {
		return nil, err
	}
	return InformationOf(next), nil
}

// DeleteRegisteredClient deletes a dynamically registered client with its
// grants and tokens (RFC 7592 §2.3).
func (s *Service) DeleteRegisteredClient(ctx context.Context, a Actor, id, accessToken string) error {
	if _, err := s.RegisteredClient(ctx, id, accessToken); err != nil {
		return err
	}
	return s.DeleteClient(ctx, a, id, "")
}

// CreateRegistrationToken makes an initial access token for policy
// "token": valid for expires (0: until revoked) and uses registrations (0:
// unlimited). The token is returned once; only its SHA-256 is stored.
func (s *Service) CreateRegistrationToken(ctx context.Context, a Actor, expires time.Duration, uses int) (t *identity.RegistrationToken, token string, err error) {
	defer func() {
		id := ""
		if t != nil {
			id = t.ID
		}
		s.Record(ctx, a, &identity.AuditEvent{Type: identity.EventRegistrationTokenCreated, Details: map[string]string{
			"token_id": id, "expires": expires.String(), "uses": strconv.Itoa(uses)}}, err)
	}()
	if expires < 0 || uses < 0 {
		return nil, "", identity.Errorf(identity.EINVALID, "--expires and --uses must not be negative.")
	}
	token, hash := newSecret(PrefixRegistrationToken)
	t = &identity.RegistrationToken{Prefix: token[:len(PrefixRegistrationToken)+6], Hash: hash, MaxUses: uses}
	if expires > 0 {
		exp := s.now().Add(expires)
		t.ExpiresAt = &exp
	}
	if err := s.Registrations.CreateRegistrationToken(ctx, t); err != nil {
		return nil, "", err
	}
	return t, token, nil
}

// ListRegistrationTokens lists the initial access tokens, newest first.
func (s *Service) ListRegistrationTokens(ctx context.Context) ([]*identity.RegistrationToken, error) {
	return s.Registrations.ListRegistrationTokens(ctx)
}

// RevokeRegistrationToken revokes an initial access token at once.
func (s *Service) RevokeRegistrationToken(ctx context.Context, a Actor, id string) (err error) {
	defer func() {
		s.Record(ctx, a, &identity.AuditEvent{Type: identity.EventRegistrationTokenRevoked, Details: map[string]string{"token_id": id}}, err)
	}()
	return s.Registrations.RevokeRegistrationToken(ctx, id)
}

// newSecret returns prefix + 256 random bits and its SHA-256.
func newSecret(prefix string) (string, []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	v := prefix + base64.RawURLEncoding.EncodeToString(b)
	return v, hashOf(v)
}

func hashOf(v string) []byte {
	sum := sha256.Sum256([]byte(v))
	return sum[:]
}

// documentMetadata is a client ID metadata document: RFC 7591 metadata
// plus the fields the draft forbids, to refuse them.
type documentMetadata struct {
	ClientID string `json:"client_id"`
	ClientMetadata
	ClientSecret          *string `json:"client_secret"`
	ClientSecretExpiresAt *int64  `json:"client_secret_expires_at"`
}

// ClientFromDocument applies the rules of
// draft-ietf-oauth-client-id-metadata-document to the document fetched
// from url: JSON whose client_id equals url exactly; a public client
// (token_endpoint_auth_method none, no client_secret); private_key_jwt
// (jwks_uri, jwks) is not supported; then the same metadata rules and
// identity.Client.Validate as for a registration. The client is marked as
// a metadata-document client (unverified); its redirect URIs are matched
// exactly.
func ClientFromDocument(url string, doc []byte) (*identity.Client, error) {
	var md documentMetadata
	if err := json.Unmarshal(doc, &md); err != nil {
		return nil, identity.Errorf(identity.EINVALID, "The client metadata document at %s is not valid JSON metadata.", url)
	}
	if md.ClientID != url {
		return nil, identity.Errorf(identity.EINVALID, "The client metadata document's client_id %q is not its URL %q.", md.ClientID, url)
	}
	if md.ClientSecret != nil || md.ClientSecretExpiresAt != nil {
		return nil, identity.Errorf(identity.EINVALID, "A client metadata document must not contain a client secret.")
	}
	if md.JWKSURI != "" || md.JWKS != nil || md.TokenEndpointAuthMethod == "private_key_jwt" {
		return nil, identity.Errorf(identity.EINVALID, "Client metadata documents with jwks_uri or jwks (private_key_jwt) are not supported by this server; publish a public client (token_endpoint_auth_method none).")
	}
	if md.TokenEndpointAuthMethod == "" {
		md.TokenEndpointAuthMethod = "none"
	}
	if md.TokenEndpointAuthMethod != "none" {
		return nil, identity.Errorf(identity.EINVALID, "A client metadata document client must be public (token_endpoint_auth_method none), not %q.", md.TokenEndpointAuthMethod)
	}
	c, err := clientFromMetadata(&md.ClientMetadata)
	if err != nil {
		return nil, err
	}
	c.ID, c.Registration = url, identity.RegistrationMetadataDocument
	if strings.TrimSpace(md.ClientName) == "" {
		c.Name = hostOf(url)
	}
	if len(c.Name) > 100 {
		c.Name = c.Name[:100]
	}
	if err := validateRegistered(c); err != nil {
		return nil, err
	}
	return c, nil
}

func hostOf(raw string) string {
	if u, err := neturl.Parse(raw); err == nil {
		return u.Host
	}
	return raw
}

// SyncDocumentClient stores (or refreshes) the client c made from a
// metadata document, so grants and tokens can refer to it. A client an
// operator disabled stays disabled: it is ENOTFOUND here, as at the token
// endpoint. Its first use and disabled state survive a refresh.
func (s *Service) SyncDocumentClient(ctx context.Context, c *identity.Client) (*identity.Client, error) {
	old, err := s.Clients.ClientByID(ctx, c.ID)
	switch {
	case identity.IsNotFound(err):
		if err := s.Clients.CreateClient(ctx, c); err != nil && identity.ErrorCode(err) != identity.ECONFLICT {
			return nil, err
		}
		return c, nil
	case err != nil:
		return nil, err
	case old.Disabled:
		return nil, identity.Errorf(identity.ENOTFOUND, "Client not found.")
	case old.Registration != identity.RegistrationMetadataDocument:
		return nil, identity.Errorf(identity.ENOTFOUND, "Client not found.")
	}
	c.CreatedAt, c.LastUsedAt = old.CreatedAt, old.LastUsedAt
	if sameMetadata(old, c) {
		return old, nil
	}
	if err := s.Clients.UpdateClient(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

func sameMetadata(a, b *identity.Client) bool {
	return a.Name == b.Name && slices.Equal(a.RedirectURIs, b.RedirectURIs) && slices.Equal(a.GrantTypes, b.GrantTypes) &&
		slices.Equal(a.Scopes, b.Scopes) && a.ClientURI == b.ClientURI && a.LogoURI == b.LogoURI &&
		a.SoftwareID == b.SoftwareID && a.SoftwareVersion == b.SoftwareVersion
}
