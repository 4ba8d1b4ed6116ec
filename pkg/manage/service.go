package manage

import (
	"context"
	"log/slog"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// Users is the part of the user store the actions use.
type Users interface {
	CreateUser(ctx context.Context, u *identity.User) error
	UserByID(ctx context.Context, id string) (*identity.User, error)
	UpdateUser(ctx context.Context, u *identity.User) error
}

// Clients is the part of the client store the actions use.
type Clients interface {
	CreateClient(ctx context.Context, c *identity.Client) error
	ClientByID(ctx context.Context, id string) (*identity.Client, error)
	ListClients(ctx context.Context, f identity.ClientFilter) ([]*identity.Client, int, error)
	UpdateClient(ctx context.Context, c *identity.Client) error
	DeleteClient(ctx context.Context, id string) error
}

// Grants is the part of the grant store the actions use. Revoking a grant
// revokes every token issued under it (identity.GrantStore).
type Grants interface {
	GrantByID(ctx context.Context, id string) (*identity.Grant, error)
	ListGrants(ctx context.Context, f identity.GrantFilter) ([]*identity.Grant, int, error)
	RevokeGrant(ctx context.Context, id string) error
	RevokeGrants(ctx context.Context, f identity.GrantFilter) (int, error)
}

// APIKeys is the part of the API-key store the actions use.
type APIKeys interface {
	CreateAPIKey(ctx context.Context, k *identity.APIKey) error
	APIKeyByID(ctx context.Context, idOrPrefix string) (*identity.APIKey, error)
	ListAPIKeys(ctx context.Context, f identity.APIKeyFilter) ([]*identity.APIKey, int, error)
	RevokeAPIKey(ctx context.Context, id string) error
}

// AuditSink records audit events (an *audit.Log or the store).
type AuditSink interface {
	RecordAudit(ctx context.Context, e *identity.AuditEvent) error
}

// Service performs operator actions. Every store field and Audit are
// required; Now and Logger default to the wall clock and slog.Default.
type Service struct {
	Users   Users
	Clients Clients
	Grants  Grants
	APIKeys APIKeys
	Audit   AuditSink
	// Registrations stores initial access tokens; only the registration
	// actions (registration.go) need it.
	Registrations Registrations
	Now           func() time.Time
	// Logger reports audit writes that failed: the action has happened by
	// then, so the failure is logged rather than returned.
	Logger *slog.Logger
}

// Actor kinds.
const (
	ActorUser     = "user"     // a signed-in person (admin or account owner)
	ActorClient   = "client"   // a client_credentials token with the admin scope
	ActorOperator = "operator" // whoever runs the CLI on the database
)

// Actor is who performs an action and through which channel, for the
// audit log and for the rules that depend on it.
type Actor struct {
	ID         string // user id, client id, or "cli"
	Kind       string // ActorUser, ActorClient or ActorOperator
	Channel    string // identity.Channel*
	Credential string // "token", "api_key", "session" or "" (CLI)
	IP         string
	UserAgent  string
}

// CLI is the actor of every command of cmd/petstore-auth.
var CLI = Actor{ID: "cli", Kind: ActorOperator, Channel: identity.ChannelCLI}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Record writes one audit event with a's identity and channel and the
// outcome err: what every action records, also usable for acts outside
// this package (a refused admin request).
func (s *Service) Record(ctx context.Context, a Actor, e *identity.AuditEvent, err error) {
	e.Time = s.now()
	e.ActorID, e.IP, e.UserAgent = a.ID, a.IP, a.UserAgent
	e.Outcome = "success"
	if e.Details == nil {
		e.Details = map[string]string{}
	}
	e.Details["actor_kind"], e.Details[identity.DetailChannel] = a.Kind, a.Channel
	if a.Credential != "" {
		e.Details["credential"] = a.Credential
	}
	if err != nil {
		e.Outcome = "failure"
		e.Details["error"] = identity.ErrorCode(err)
	}
	if werr := s.Audit.RecordAudit(context.WithoutCancel(ctx), e); werr != nil {
		l := s.Logger
		if l == nil {
			l = slog.Default()
		}
		l.ErrorContext(ctx, "audit write failed", "event", e.Type, "outcome", e.Outcome, "actor_id", e.ActorID, "err", werr)
	}
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
