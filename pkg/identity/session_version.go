package identity

import (
	"crypto/sha256"
	"encoding/binary"
	"strconv"
)

// SessionVersion fingerprints what must end a user's browser sessions when
// it changes: the password (its salted hash changes on every set, even to
// the same password), the email, the admin and disabled flags, and any
// update at all (UpdatedAt to the nanosecond). The sign-in pages record it
// in the session and both pkg/web and pkg/admin compare it on every
// request; a whole-second timestamp alone missed a password change made in
// the second of the sign-in.
func SessionVersion(u *User) int64 {
	h := sha256.New()
	for _, s := range []string{
		strconv.FormatInt(u.UpdatedAt.UnixNano(), 10), u.PasswordHash, u.Email,
		strconv.FormatBool(u.Admin), strconv.FormatBool(u.Disabled),
	} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return int64(binary.BigEndian.Uint64(h.Sum(nil)))
}
