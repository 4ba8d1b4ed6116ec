package manage

import (
	"context"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// KeyRotator makes a new signing key current ((*provider.Provider).RotateKeys).
type KeyRotator interface {
	RotateKeys(ctx context.Context) (*identity.SigningKey, error)
}

// RotateSigningKey makes a new JWT signing key current; the previous keys
// stay published in the JWKS until their tokens expire.
func (s *Service) RotateSigningKey(ctx context.Context, a Actor, r KeyRotator) (k *identity.SigningKey, err error) {
	e := &identity.AuditEvent{Type: identity.EventSigningKeyRotated, Details: map[string]string{}}
	defer func() { s.Record(ctx, a, e, err) }()
	if k, err = r.RotateKeys(ctx); err != nil {
		return nil, err
	}
	e.Details["kid"], e.Details["alg"] = k.ID, k.Algorithm
	return k, nil
}
