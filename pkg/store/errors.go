package store

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/ory/fosite"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"gorm.io/gorm"
)

// ErrCodeAlreadyRedeemed is returned by InvalidateAuthorizeCodeSession when
// the code was redeemed (or invalidated) before: the caller lost the race.
// It matches fosite.ErrInvalidatedAuthorizeCode with errors.Is.
var ErrCodeAlreadyRedeemed = fmt.Errorf("store: authorization code already redeemed: %w", fosite.ErrInvalidatedAuthorizeCode)

// ErrRefreshTokenRotated is returned by RotateRefreshToken when the token is
// no longer active: another request rotated it first. It matches
// fosite.ErrSerializationFailure with errors.Is, which fosite answers with
// an invalid_request error instead of a second token pair.
var ErrRefreshTokenRotated = fmt.Errorf("store: refresh token already rotated: %w", fosite.ErrSerializationFailure)

func isNotFound(err error) bool  { return errors.Is(err, gorm.ErrRecordNotFound) }
func isDuplicate(err error) bool { return errors.Is(err, gorm.ErrDuplicatedKey) }
func isForeignKey(err error) bool {
	return errors.Is(err, gorm.ErrForeignKeyViolated)
}

// fositeErr maps a database error for fosite's interfaces.
func fositeErr(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case isNotFound(err):
		return fosite.ErrNotFound
	default:
		return fmt.Errorf("store: %s: %w", what, err)
	}
}

// identityErr maps a database error for the identity interfaces.
func identityErr(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case isNotFound(err):
		return identity.Errorf(identity.ENOTFOUND, "%s not found.", what)
	case isDuplicate(err):
		return identity.Errorf(identity.ECONFLICT, "%s already exists.", what)
	case isForeignKey(err):
		return identity.Errorf(identity.ENOTFOUND, "%s refers to something that does not exist.", what)
	default:
		return fmt.Errorf("store: %s: %w", what, err)
	}
}

// storableText reports whether s can be a key in both dialects: PostgreSQL
// refuses NUL and invalid UTF-8 in text with an error (which would read as
// an outage), so a lookup by such a key — only ever sent by a client — is
// answered "not found" without asking the database.
func storableText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}
