package manage

import (
	"context"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// KeyRotator makes new signing keys current, one per algorithm
// ((*provider.Provider).RotateKeys).
type KeyRotator interface {
	RotateKeys(ctx context.Context) ([]*identity.SigningKey, error)
}

// RotateSigningKey makes new JWT signing keys current (one per algorithm);
// the previous keys stay published in the JWKS until their tokens expire.
// The audit event names each new key as kid_<alg>.
func (s *Service) RotateSigningKey(ctx context.Context, a Actor, r KeyRotator) (keys []*identity.SigningKey, err error) {
	e := &identity.AuditEvent{Type: identity.EventSigningKeyRotated, Details: map[string]string{}}
	defer func() { s.Record(ctx, a, e, err) }()
	if keys, err = r.RotateKeys(ctx); err != nil {
		return nil, err
	}
	for _, k := range keys {
		e.Details["kid_"+k.Algorithm] = k.ID
	}
	return keys, nil
}
