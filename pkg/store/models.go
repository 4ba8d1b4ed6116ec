package store

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"
)

// stringList is a []string kept as a JSON array in a TEXT column, the same
// on both dialects.
type stringList []string

func (l stringList) Value() (driver.Value, error) {
	if l == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]string(l))
	return string(b), err
}

func (l *stringList) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*l = nil
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("store: cannot scan %T into a string list", src)
	}
	var out []string
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("store: bad string list: %w", err)
	}
	if len(out) == 0 {
		out = nil
	}
	*l = out
	return nil
}

// stringMap is a map[string]string kept as a JSON object in a TEXT column.
type stringMap map[string]string

func (m stringMap) Value() (driver.Value, error) {
	if m == nil {
		return "{}", nil
	}
	b, err := json.Marshal(map[string]string(m))
	return string(b), err
}

func (m *stringMap) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*m = nil
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("store: cannot scan %T into a string map", src)
	}
	var out map[string]string
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("store: bad string map: %w", err)
	}
	if len(out) == 0 {
		out = nil
	}
	*m = out
	return nil
}

type userRow struct {
	ID            string    `gorm:"column:id;primaryKey"`
	Email         string    `gorm:"column:email"`
	PasswordHash  string    `gorm:"column:password_hash"`
	Admin         bool      `gorm:"column:admin"`
	Disabled      bool      `gorm:"column:disabled"`
	Name          string    `gorm:"column:name"`
	EmailVerified bool      `gorm:"column:email_verified"`
	CreatedAt     time.Time `gorm:"column:created_at"`
	UpdatedAt     time.Time `gorm:"column:updated_at"`
}

func (userRow) TableName() string { return "users" }

type clientRow struct {
	ID             string     `gorm:"column:id;primaryKey"`
	Name           string     `gorm:"column:name"`
	SecretHash     []byte     `gorm:"column:secret_hash"`
	RedirectURIs   stringList `gorm:"column:redirect_uris"`
	GrantTypes     stringList `gorm:"column:grant_types"`
	Scopes         stringList `gorm:"column:scopes"`
	Audience       stringList `gorm:"column:audience"`
	Public         bool       `gorm:"column:public"`
	AllowedOrigins stringList `gorm:"column:allowed_origins"`
	CanIntrospect  bool       `gorm:"column:can_introspect"`
	TokenFormat    string     `gorm:"column:token_format"`
	DPoPBound      bool       `gorm:"column:dpop_bound"`
	RequirePAR     bool       `gorm:"column:require_par"`
	Profile        string     `gorm:"column:profile"`
	JWKSURI        string     `gorm:"column:jwks_uri"`
	JWKS           string     `gorm:"column:jwks"`
	IDTokenAlg     string     `gorm:"column:id_token_signed_response_alg"`
	// OpenID Connect logout (00011).
	PostLogoutRedirectURIs           stringList `gorm:"column:post_logout_redirect_uris"`
	BackchannelLogoutURI             string     `gorm:"column:backchannel_logout_uri"`
	BackchannelLogoutSessionRequired bool       `gorm:"column:backchannel_logout_session_required"`
	Disabled                         bool       `gorm:"column:disabled"`
	OwnerID                          string     `gorm:"column:owner_id"`
	// PreviousSecretHash / PreviousSecretExpiresAt: the secret replaced by
	// the last rotation, valid until then (identity.Client.SecretHashes).
	PreviousSecretHash      []byte     `gorm:"column:previous_secret_hash"`
	PreviousSecretExpiresAt *time.Time `gorm:"column:previous_secret_expires_at"`
	CreatedAt               time.Time  `gorm:"column:created_at"`
	UpdatedAt               time.Time  `gorm:"column:updated_at"`
	// 00007: self-registered clients.
	Registration          string     `gorm:"column:registration"`
	RegistrationTokenHash []byte     `gorm:"column:registration_access_token_hash"`
	LastUsedAt            *time.Time `gorm:"column:last_used_at"`
	ClientURI             string     `gorm:"column:client_uri"`
	LogoURI               string     `gorm:"column:logo_uri"`
	SoftwareID            string     `gorm:"column:software_id"`
	SoftwareVersion       string     `gorm:"column:software_version"`
	AuthMethod            string     `gorm:"column:token_endpoint_auth_method"`
}

func (clientRow) TableName() string { return "clients" }

type registrationTokenRow struct {
	ID        string     `gorm:"column:id;primaryKey"`
	Hash      []byte     `gorm:"column:hash"`
	Prefix    string     `gorm:"column:prefix"`
	MaxUses   int        `gorm:"column:max_uses"`
	Uses      int        `gorm:"column:uses"`
	CreatedAt time.Time  `gorm:"column:created_at"`
	ExpiresAt *time.Time `gorm:"column:expires_at"`
	RevokedAt *time.Time `gorm:"column:revoked_at"`
}

func (registrationTokenRow) TableName() string { return "registration_tokens" }

type grantRow struct {
	ID         string     `gorm:"column:id;primaryKey"`
	UserID     string     `gorm:"column:user_id"`
	ClientID   string     `gorm:"column:client_id"`
	Scopes     stringList `gorm:"column:scopes"`
	Remember   bool       `gorm:"column:remember"`
	CreatedAt  time.Time  `gorm:"column:created_at"`
	UpdatedAt  time.Time  `gorm:"column:updated_at"`
	LastUsedAt time.Time  `gorm:"column:last_used_at"`
	RevokedAt  *time.Time `gorm:"column:revoked_at"`
}

func (grantRow) TableName() string { return "grants" }

type apiKeyRow struct {
	ID         string     `gorm:"column:id;primaryKey"`
	OwnerID    string     `gorm:"column:owner_id"`
	Name       string     `gorm:"column:name"`
	Env        string     `gorm:"column:env"`
	Prefix     string     `gorm:"column:prefix"`
	Hash       []byte     `gorm:"column:hash"`
	Scopes     stringList `gorm:"column:scopes"`
	CreatedAt  time.Time  `gorm:"column:created_at"`
	ExpiresAt  *time.Time `gorm:"column:expires_at"`
	LastUsedAt *time.Time `gorm:"column:last_used_at"`
	RevokedAt  *time.Time `gorm:"column:revoked_at"`
}

func (apiKeyRow) TableName() string { return "api_keys" }

type signingKeyRow struct {
	ID                  string     `gorm:"column:id;primaryKey"`
	Algorithm           string     `gorm:"column:algorithm"`
	EncryptedPrivateKey []byte     `gorm:"column:encrypted_private_key"`
	PublicJWK           []byte     `gorm:"column:public_jwk"`
	CreatedAt           time.Time  `gorm:"column:created_at"`
	RetiredAt           *time.Time `gorm:"column:retired_at"`
}

func (signingKeyRow) TableName() string { return "signing_keys" }

type revokedJWTRow struct {
	JTI       string    `gorm:"column:jti;primaryKey"`
	ExpiresAt time.Time `gorm:"column:expires_at"`
	RevokedAt time.Time `gorm:"column:revoked_at"`
}

func (revokedJWTRow) TableName() string { return "revoked_jwts" }

type assertionJTIRow struct {
	JTI       string    `gorm:"column:jti;primaryKey"`
	ExpiresAt time.Time `gorm:"column:expires_at"`
}

func (assertionJTIRow) TableName() string { return "client_assertion_jtis" }

type auditRow struct {
	ID        int64     `gorm:"column:id;primaryKey;autoIncrement"`
	Time      time.Time `gorm:"column:time"`
	Type      string    `gorm:"column:type"`
	Outcome   string    `gorm:"column:outcome"`
	ActorID   string    `gorm:"column:actor_id"`
	UserID    string    `gorm:"column:user_id"`
	ClientID  string    `gorm:"column:client_id"`
	IP        string    `gorm:"column:ip"`
	UserAgent string    `gorm:"column:user_agent"`
	Details   stringMap `gorm:"column:details"`
}

func (auditRow) TableName() string { return "audit_events" }

// Tables of fosite requests, all keyed by token signature.
const (
	tableCodes   = "authorize_codes"
	tablePKCE    = "pkce_requests"
	tableOIDC    = "oidc_requests"
	tableAccess  = "access_tokens"
	tableRefresh = "refresh_tokens"
)

// tableRotations holds the sealed successor pairs of the refresh grace
// window, by the rotated token's signature (rotation.go).
const tableRotations = "refresh_rotations"

// requestRow is the common shape of the fosite request tables.
type requestRow struct {
	Signature         string     `gorm:"column:signature;primaryKey"`
	RequestID         string     `gorm:"column:request_id"`
	ClientID          string     `gorm:"column:client_id"`
	Subject           string     `gorm:"column:subject"`
	GrantID           *string    `gorm:"column:grant_id"`
	RequestedAt       time.Time  `gorm:"column:requested_at"`
	ExpiresAt         *time.Time `gorm:"column:expires_at"`
	RequestedScopes   stringList `gorm:"column:requested_scopes"`
	GrantedScopes     stringList `gorm:"column:granted_scopes"`
	RequestedAudience stringList `gorm:"column:requested_audience"`
	GrantedAudience   stringList `gorm:"column:granted_audience"`
	Form              string     `gorm:"column:form"`
	Session           string     `gorm:"column:session"`
	Active            bool       `gorm:"column:active"`
}

// Req is a named field because gorm skips unexported embedded structs.
type accessTokenRow struct {
	Req requestRow `gorm:"embedded"`
	JTI *string    `gorm:"column:jti"`
}

func (accessTokenRow) TableName() string { return tableAccess }

type refreshTokenRow struct {
	Req                  requestRow `gorm:"embedded"`
	AccessTokenSignature string     `gorm:"column:access_token_signature"`
	RotatedAt            *time.Time `gorm:"column:rotated_at"`
}

func (refreshTokenRow) TableName() string { return tableRefresh }

// rotationRow is the sealed successor pair of a rotated refresh token.
type rotationRow struct {
	Signature string    `gorm:"column:signature;primaryKey"`
	RotatedAt time.Time `gorm:"column:rotated_at"`
	Sealed    []byte    `gorm:"column:sealed"`
}

func (rotationRow) TableName() string { return tableRotations }

// parRow is a pushed authorization request (par.go).
type parRow struct {
	RequestURIHash string    `gorm:"column:request_uri_hash;primaryKey"`
	ClientID       string    `gorm:"column:client_id"`
	RequestID      string    `gorm:"column:request_id"`
	RequestedAt    time.Time `gorm:"column:requested_at"`
	Form           string    `gorm:"column:form"`
	Opened         bool      `gorm:"column:opened"`
	Used           bool      `gorm:"column:used"`
	ExpiresAt      time.Time `gorm:"column:expires_at"`
}

func (parRow) TableName() string { return "par_requests" }
