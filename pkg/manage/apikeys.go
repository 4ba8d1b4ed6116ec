package manage

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/petstore-auth/petstore-auth/pkg/apikey"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// MaxAPIKeyName bounds an API key's name, in characters. The name is
// optional: it only helps its owner recognise the key in lists.
const MaxAPIKeyName = 64

// APIKeyInput is a new API key as its owner or an operator asks for it.
type APIKeyInput struct {
	OwnerID   string
	Name      string
	Env       string // identity.EnvLive or identity.EnvTest
	Scopes    []string
	ExpiresAt *time.Time // nil: never
}

// CreateAPIKey creates a key for an enabled user. The key is returned once;
// only its SHA-256 and a display prefix are stored.
func (s *Service) CreateAPIKey(ctx context.Context, a Actor, in APIKeyInput) (_ *identity.APIKey, key string, err error) {
	k := &identity.APIKey{OwnerID: in.OwnerID, Name: strings.TrimSpace(in.Name), Env: in.Env, Scopes: in.Scopes, ExpiresAt: in.ExpiresAt}
	defer func() {
		s.Record(ctx, a, &identity.AuditEvent{Type: identity.EventAPIKeyCreated, UserID: in.OwnerID, Details: map[string]string{
			"key_id": k.ID, "name": k.Name, "env": k.Env, "prefix": k.Prefix, "scopes": strings.Join(k.Scopes, " "),
		}}, err)
	}()
	if err := validateAPIKey(k, s.now()); err != nil {
		return nil, "", err
	}
	u, err := s.Users.UserByID(ctx, in.OwnerID)
	if err != nil {
		return nil, "", err
	}
	if u.Disabled {
		return nil, "", identity.Errorf(identity.EINVALID, "The account %s is disabled; it cannot own API keys.", u.Email)
	}
	if key, err = apikey.Generate(k.Env); err != nil {
		return nil, "", err
	}
	k.Prefix, k.Hash, k.CreatedAt = apikey.DisplayPrefix(key), apikey.Hash(key), s.now()
	if err := s.APIKeys.CreateAPIKey(ctx, k); err != nil {
		return nil, "", err
	}
	return k, key, nil
}

func validateAPIKey(k *identity.APIKey, now time.Time) error {
	switch {
	case utf8.RuneCountInString(k.Name) > MaxAPIKeyName:
		return identity.Errorf(identity.EINVALID, "The key name has more than %d characters.", MaxAPIKeyName)
	case strings.ContainsFunc(k.Name, unicode.IsControl) || !utf8.ValidString(k.Name):
		return identity.Errorf(identity.EINVALID, "The key name holds control characters.")
	case k.Env != identity.EnvLive && k.Env != identity.EnvTest:
		return identity.Errorf(identity.EINVALID, "The key environment must be live or test.")
	case len(k.Scopes) == 0:
		return identity.Errorf(identity.EINVALID, "A key needs at least one scope, e.g. read:pets.")
	case k.ExpiresAt != nil && !k.ExpiresAt.After(now):
		return identity.Errorf(identity.EINVALID, "The key would expire before it is created.")
	}
	for i, sc := range k.Scopes {
		if _, ok := identity.LookupScope(sc); !ok {
			return identity.Errorf(identity.EINVALID, "unknown scope %q", sc)
		}
		if slices.Contains(k.Scopes[:i], sc) {
			return identity.Errorf(identity.EINVALID, "scope %q given twice", sc)
		}
	}
	return nil
}

// errNoKey is the answer for a key that does not exist or, for an owner
// revoking their own, is not theirs or no longer active: the same, so
// that ids of other users' keys cannot be probed.
var errNoKey = identity.Errorf(identity.ENOTFOUND, "No such API key.")

// RevokeAPIKey revokes an API key by id or display prefix. With owner set
// (the account page), only that user's active keys can be revoked.
func (s *Service) RevokeAPIKey(ctx context.Context, a Actor, idOrPrefix, owner string) (k *identity.APIKey, err error) {
	e := &identity.AuditEvent{Type: identity.EventAPIKeyRevoked, UserID: owner, Details: map[string]string{"key_id": idOrPrefix}}
	defer func() { s.Record(ctx, a, e, err) }()
	k, err = s.APIKeys.APIKeyByID(ctx, idOrPrefix)
	if identity.IsNotFound(err) || err == nil && owner != "" && (k.OwnerID != owner || k.RevokedAt != nil) {
		return nil, errNoKey
	}
	if err != nil {
		return nil, err
	}
	e.UserID, e.Details["key_id"], e.Details["prefix"] = k.OwnerID, k.ID, k.Prefix
	if err := s.APIKeys.RevokeAPIKey(ctx, k.ID); err != nil {
		return nil, err
	}
	return s.APIKeys.APIKeyByID(ctx, k.ID)
}
