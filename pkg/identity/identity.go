package identity

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// User is a person who signs in on the login page.
type User struct {
	ID           string
	Email        string // stored lower-cased; unique
	PasswordHash string // Argon2id in PHC string form, never the password
	Admin        bool
	Disabled     bool
	// Name is the display name (the OpenID Connect name claim), at most
	// MaxUserNameLength characters; "" when not set.
	Name string
	// EmailVerified says the user's control of Email was checked (the
	// email_verified claim).
	EmailVerified bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// MaxUserNameLength is the longest display name, in characters.
const MaxUserNameLength = 100

// PlainText reports whether s is valid UTF-8 without control characters
// (C0, C1: NUL, newlines, …) and without bidirectional controls (U+202E and
// the like), which would let a name show as something else on the consent
// page or in an app's greeting.
func PlainText(s string) bool {
	return utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool {
		return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
	}) < 0
}

// NormalizeUserName trims a display name and checks it: at most
// MaxUserNameLength characters of valid UTF-8 without control characters
// (it lands in ID tokens, UserInfo answers and pages). "" is allowed: no
// name. An invalid name is EINVALID.
func NormalizeUserName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case !PlainText(name):
		return "", Errorf(EINVALID, "The name must be plain text on one line.")
	case utf8.RuneCountInString(name) > MaxUserNameLength:
		return "", Errorf(EINVALID, "The name is longer than %d characters.", MaxUserNameLength)
	}
	return name, nil
}

// Token formats a client can ask for.
const (
	TokenFormatOpaque = "opaque"
	TokenFormatJWT    = "jwt"
)

// Grant types a client can be registered for.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// Client is an OAuth 2.0 client application.
type Client struct {
	ID           string
	Name         string
	SecretHash   []byte // SHA-256 of the server-generated secret; empty for public clients
	RedirectURIs []string
	GrantTypes   []string
	Scopes       []string
	Audience     []string
	Public       bool // no secret; authenticates with PKCE only
	// AllowedOrigins are browser origins (scheme://host[:port]) besides
	// those of RedirectURIs from which a public client may call the token
	// and revocation endpoints (CORS).
	AllowedOrigins []string
	CanIntrospect  bool   // a resource server allowed to call /oauth2/introspect
	TokenFormat    string // TokenFormatOpaque or TokenFormatJWT
	// DPoPBound clients must prove possession of a DPoP key (RFC 9449) at
	// the token endpoint: all their access tokens are sender-constrained.
	DPoPBound bool
	// RequirePAR clients must push their authorization requests (RFC
	// 9126): /oauth2/auth accepts only client_id and request_uri for them.
	RequirePAR bool
	// Profile is "" or ProfileFAPI2 (profile.go).
	Profile string
	// IDTokenSignedResponseAlg is the JWS algorithm of the client's ID
	// tokens (OIDC Dynamic Client Registration §2): one of
	// IDTokenSigningAlgs, "" for the default (RS256).
	IDTokenSignedResponseAlg string
	// PostLogoutRedirectURIs are where end_session may send the browser
	// after sign-out (OpenID Connect RP-Initiated Logout 1.0 §3), matched
	// byte for byte.
	PostLogoutRedirectURIs []string
	// BackchannelLogoutURI receives logout tokens when a user's session
	// ends (OpenID Connect Back-Channel Logout 1.0 §2.2); empty: none.
	BackchannelLogoutURI string
	// BackchannelLogoutSessionRequired: the client needs sid in logout
	// tokens (Back-Channel Logout §2.2); we always send it when known.
	BackchannelLogoutSessionRequired bool
	JWKSURI                          string // where the client publishes its public keys (https)
	JWKS                             string // the client's public keys as a JWK Set JSON document
	Disabled                         bool
	// OwnerID is the user who registered the client on the developer page
	// (/account/apps); empty for clients an operator made.
	OwnerID string
	// PreviousSecretHash is the SHA-256 of the secret replaced by the last
	// rotation; it still authenticates the client until
	// PreviousSecretExpiresAt (the rotation's grace period; see
	// PreviousSecretActive).
	PreviousSecretHash      []byte
	PreviousSecretExpiresAt *time.Time
	CreatedAt               time.Time
	UpdatedAt               time.Time
	// Registration is how the client came to be: "" (an operator made it),
	// RegistrationDynamic (RFC 7591) or RegistrationMetadataDocument (its
	// id is the URL of a client ID metadata document). Clients that
	// registered themselves are shown as unverified.
	Registration string
	// RegistrationTokenHash is the SHA-256 of the RFC 7592 registration
	// access token of a dynamically registered client.
	RegistrationTokenHash []byte
	// LastUsedAt is when a token was last issued to the client (recorded
	// for self-registered clients, coalesced per hour); nil: never.
	LastUsedAt *time.Time
	// RFC 7591 §2 metadata, stored as registered.
	ClientURI, LogoURI, SoftwareID, SoftwareVersion string
	// TokenEndpointAuthMethod as registered through RFC 7591 (none,
	// client_secret_basic or client_secret_post), AuthPrivateKeyJWT (RFC
	// 7523 §2.2 assertions signed with a key of JWKSURI or JWKS; the client
	// has no secret), or "" for an operator's secret or public client.
	TokenEndpointAuthMethod string
}

// How a client was registered (Client.Registration).
const (
	RegistrationOperator         = ""
	RegistrationDynamic          = "dynamic"
	RegistrationMetadataDocument = "metadata_document"
)

// Unverified reports whether the client registered itself (RFC 7591 or a
// client ID metadata document): nobody at PetStore checked who runs it.
func (c *Client) Unverified() bool { return c.Registration != RegistrationOperator }

// RegistrationToken is an initial access token (RFC 7591 §3) an operator
// hands out when registration is "token"; only its SHA-256 is stored.
type RegistrationToken struct {
	ID        string
	Prefix    string // the non-secret start, for lists
	Hash      []byte
	MaxUses   int // 0: unlimited
	Uses      int
	CreatedAt time.Time
	ExpiresAt *time.Time
	RevokedAt *time.Time
}

// Usable reports whether the token may register a client at now.
func (t *RegistrationToken) Usable(now time.Time) bool {
	return t.RevokedAt == nil && (t.ExpiresAt == nil || now.Before(*t.ExpiresAt)) && (t.MaxUses == 0 || t.Uses < t.MaxUses)
}

// IDTokenSigningAlgs are the ID token algorithms a client may ask for; the
// first is the default.
var IDTokenSigningAlgs = []string{"RS256", "ES256"}

// Grant is a user's consent for a client to act with some scopes. Every token
// issued under it links to it; revoking it revokes them all.
type Grant struct {
	ID         string
	UserID     string
	ClientID   string
	Scopes     []string
	Remember   bool // skip the consent page for the same or fewer scopes
	CreatedAt  time.Time
	UpdatedAt  time.Time
	LastUsedAt time.Time
	RevokedAt  *time.Time
}

// API-key environments.
const (
	EnvLive = "live"
	EnvTest = "test"
)

// APIKey is a long-lived server-to-server credential. Only its SHA-256 hash is
// stored; Prefix is the non-secret start shown in lists.
type APIKey struct {
	ID         string
	OwnerID    string // user id
	Name       string
	Env        string // EnvLive or EnvTest
	Prefix     string // e.g. "sk_test_Ab12Cd" — enough to recognise, useless to attack
	Hash       []byte // SHA-256 of the whole key
	Scopes     []string
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// Active reports whether the key may be used at now.
func (k *APIKey) Active(now time.Time) bool {
	return k.RevokedAt == nil && (k.ExpiresAt == nil || now.Before(*k.ExpiresAt))
}

// SigningKey is a JWT signing key. The private half is encrypted with the
// system secret before it reaches the database.
type SigningKey struct {
	ID                  string // the JWK "kid"
	Algorithm           string // "ES256" or "RS256"
	EncryptedPrivateKey []byte
	PublicJWK           []byte // JSON of the public JWK
	CreatedAt           time.Time
	RetiredAt           *time.Time // when a newer key replaced it; published until its tokens expire
}

// RevokedJWT is an entry on the JWT revocation list, kept until the token
// would have expired anyway.
type RevokedJWT struct {
	JTI       string
	ExpiresAt time.Time
	RevokedAt time.Time
}

// AuditEvent is one security-relevant event. Details never hold secrets.
type AuditEvent struct {
	ID        int64
	Time      time.Time
	Type      string // e.g. "login.failure", "token.reuse_detected"
	Outcome   string // "success" or "failure"
	ActorID   string // who did it: a user id, a client id or "system"
	UserID    string // whom it concerns
	ClientID  string
	IP        string
	UserAgent string
	Details   map[string]string
}

// Page asks for one page of a list.
type Page struct {
	Offset int
	Limit  int // 0 means the store's default (50); capped at 500
}

// UserFilter selects users.
type UserFilter struct {
	Query string // substring of the email
	Page
}

// ClientFilter selects clients. Empty fields match everything.
type ClientFilter struct {
	OwnerID string
	// Registered keeps only clients that registered themselves
	// (Client.Unverified).
	Registered bool
	Page
}

// GrantFilter selects grants. Empty fields match everything.
type GrantFilter struct {
	UserID         string
	ClientID       string
	IncludeRevoked bool
	Page
}

// APIKeyFilter selects API keys.
type APIKeyFilter struct {
	OwnerID        string
	IncludeRevoked bool
	Page
}

// AuditFilter selects audit events.
type AuditFilter struct {
	Type     string
	UserID   string
	ClientID string
	Outcome  string
	Since    time.Time
	Until    time.Time
	Page
}

// UserStore persists users. CreateUser fails with ECONFLICT on a taken email.
type UserStore interface {
	CreateUser(ctx context.Context, u *User) error
	UserByID(ctx context.Context, id string) (*User, error)
	UserByEmail(ctx context.Context, email string) (*User, error)
	ListUsers(ctx context.Context, f UserFilter) ([]*User, int, error)
	UpdateUser(ctx context.Context, u *User) error
}

// ClientStore persists OAuth clients.
type ClientStore interface {
	CreateClient(ctx context.Context, c *Client) error
	ClientByID(ctx context.Context, id string) (*Client, error)
	ListClients(ctx context.Context, f ClientFilter) ([]*Client, int, error)
	UpdateClient(ctx context.Context, c *Client) error
	DeleteClient(ctx context.Context, id string) error
}

// GrantStore persists grants. RevokeGrant revokes the grant, every refresh
// and access token issued under it and lists its JWT ids as revoked, in one
// transaction.
type GrantStore interface {
	UpsertGrant(ctx context.Context, userID, clientID string, scopes []string, remember bool) (*Grant, error)
	GrantByID(ctx context.Context, id string) (*Grant, error)
	ActiveGrant(ctx context.Context, userID, clientID string) (*Grant, error)
	ListGrants(ctx context.Context, f GrantFilter) ([]*Grant, int, error)
	RevokeGrant(ctx context.Context, id string) error
	RevokeGrants(ctx context.Context, f GrantFilter) (int, error)
}

// APIKeyStore persists API keys by hash.
type APIKeyStore interface {
	CreateAPIKey(ctx context.Context, k *APIKey) error
	APIKeyByHash(ctx context.Context, hash []byte) (*APIKey, error)
	APIKeyByID(ctx context.Context, idOrPrefix string) (*APIKey, error)
	ListAPIKeys(ctx context.Context, f APIKeyFilter) ([]*APIKey, int, error)
	RevokeAPIKey(ctx context.Context, id string) error
	// TouchAPIKeys records last-used times collected in memory, in one write.
	TouchAPIKeys(ctx context.Context, lastUsed map[string]time.Time) error
}

// SigningKeyStore persists JWT signing keys, newest first.
type SigningKeyStore interface {
	CreateSigningKey(ctx context.Context, k *SigningKey) error
	ListSigningKeys(ctx context.Context) ([]*SigningKey, error)
	// RetireSigningKeys retires the active keys of exceptID's algorithm
	// other than exceptID.
	RetireSigningKeys(ctx context.Context, exceptID string, at time.Time) error
}

// RevocationList is the list of revoked, not yet expired JWT ids.
type RevocationList interface {
	ListRevokedJWTs(ctx context.Context, since time.Time) ([]RevokedJWT, error)
}

// AuditLog records and queries audit events.
type AuditLog interface {
	RecordAudit(ctx context.Context, e *AuditEvent) error
	ListAudit(ctx context.Context, f AuditFilter) ([]*AuditEvent, int, error)
}
