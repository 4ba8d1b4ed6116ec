package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"time"
)

// Security events announce revocations to resource servers as Security
// Event Tokens (RFC 8417) delivered by polling (RFC 8936) over OpenID Shared
// Signals 1.0 streams, one stream per receiver (an API replica). A revoked
// grant, a disabled user or a reused refresh-token family is announced
// through the credentials it revokes: one event per access token or API
// key, so a receiver only needs the credential's id to drop what it cached.

// Event types and their members (CAEP 1.0 §3.2 credential-change). CAEP
// lets transmitter and receiver agree on further credential types; these
// two are ours.
const (
	EventCredentialChange = "https://schemas.openid.net/secevent/caep/event-type/credential-change"
	ChangeTypeRevoke      = "revoke"
	CredentialAccessToken = "oauth2-access-token"
	CredentialAPIKey      = "api-key"
)

// Subject identifier formats (RFC 9493 §3, SSF 1.0 §3.2.2).
const (
	// SubjectOpaque is {"format":"opaque","id":…}: an opaque access token's
	// TokenID or an API key's id.
	SubjectOpaque = "opaque"
	// SubjectJWTID is {"format":"jwt_id","iss":…,"jti":…}: a JWT access
	// token; the transmitter adds iss when it signs the SET.
	SubjectJWTID = "jwt_id"
)

// SecurityEvent is one event to deliver: the claims of a SET other than
// iss, aud and jti, which are set per stream when it is signed.
type SecurityEvent struct {
	IssuedAt int64             `json:"iat"`    // Unix seconds, also the event_timestamp
	Subject  map[string]string `json:"sub_id"` // RFC 9493 subject identifier
	// Events maps the event type URI to its members.
	Events map[string]map[string]any `json:"events"`
}

// StreamEvent is a SecurityEvent waiting on a stream, as stored.
type StreamEvent struct {
	JTI   string // the SET's jti; the receiver acknowledges it (RFC 8936 §2.4)
	Event []byte // SecurityEvent as JSON
}

// NewEventID returns a fresh SET jti (128 random bits, base64url).
func NewEventID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// TokenID is the public id of an opaque access token whose storage
// signature is signature: introspection answers it as jti and revocation
// events name it, so a resource server can drop the token's cache entry.
// It is a hash, so it can never be presented as the token.
func TokenID(signature string) string {
	h := sha256.Sum256([]byte("petstore-token-id\x00" + signature))
	return base64.RawURLEncoding.EncodeToString(h[:16])
}

// CredentialRevoked is the CAEP credential-change event (change_type
// revoke) for one credential: credType is CredentialAccessToken or
// CredentialAPIKey; subject is its identifier.
func CredentialRevoked(credType string, subject map[string]string, at time.Time) SecurityEvent {
	return SecurityEvent{IssuedAt: at.Unix(), Subject: subject, Events: map[string]map[string]any{
		EventCredentialChange: {
			"credential_type": credType, "change_type": ChangeTypeRevoke, "event_timestamp": at.Unix(),
		},
	}}
}

// SecurityEventStore keeps event streams and the events waiting on them
// (OpenID Shared Signals 1.0 §8 with RFC 8936 poll delivery). A stream
// belongs to the resource-server client that created it; another client
// is told ENOTFOUND.
type SecurityEventStore interface {
	// CreateStream makes a stream for clientID and returns its id;
	// EINVALID when the client has max streams already.
	CreateStream(ctx context.Context, clientID string, max int) (string, error)
	// DeleteStream deletes a stream with its events.
	DeleteStream(ctx context.Context, clientID, streamID string) error
	// AckStream marks the stream used now and removes the events whose
	// jti is in done (acknowledged or reported as errors).
	AckStream(ctx context.Context, clientID, streamID string, done []string) error
	// StreamEvents returns up to max events waiting on the stream, oldest
	// first, and whether more are waiting. It only reads.
	StreamEvents(ctx context.Context, streamID string, max int) ([]StreamEvent, bool, error)
	// EventsChanged returns a channel closed when this process next
	// commits an event (other replicas' events are found by polling).
	EventsChanged() <-chan struct{}
}
