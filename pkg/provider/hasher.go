package provider

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"

	"github.com/ory/fosite"
)

// SHA256Hasher hashes client secrets with SHA-256. The server generates every
// secret with 256 bits of entropy, so a slow hash buys nothing (it protects
// guessable human passwords) and would cost milliseconds of CPU on every
// token request.
type SHA256Hasher struct{}

var _ fosite.Hasher = SHA256Hasher{}

// Hash implements fosite.Hasher.
func (SHA256Hasher) Hash(_ context.Context, data []byte) ([]byte, error) {
	sum := sha256.Sum256(data)
	return sum[:], nil
}

// Compare implements fosite.Hasher in constant time. A match is recorded
// in ctx: the rate limits charge a client's own budget only once it has
// proved its secret.
func (h SHA256Hasher) Compare(ctx context.Context, hash, data []byte) error {
	if !h.matches(hash, data) {
		return errors.New("client secret mismatch")
	}
	markAuthenticated(ctx)
	return nil
}

// matches compares data with hash in constant time.
func (SHA256Hasher) matches(hash, data []byte) bool {
	sum := sha256.Sum256(data)
	return len(hash) == len(sum) && subtle.ConstantTimeCompare(hash, sum[:]) == 1
}
