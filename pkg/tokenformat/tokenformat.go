package tokenformat

import (
	"errors"
	"hash/crc32"
	"strings"
)

// Prefixes of the opaque credentials (RFC 6749 §1.4, §1.5, §1.3.1).
const (
	AccessToken   = "pst_at_"
	RefreshToken  = "pst_rt_"
	AuthorizeCode = "pst_ac_"
	// DeviceCode marks RFC 8628 device codes (pkg/provider device.go).
	DeviceCode = "pst_dc_"
)

const (
	// ChecksumLen is the length of the checksum (62^6 > 2^32).
	ChecksumLen = 6
	// signatureLen is fosite's HMAC-SHA-512/256 signature in unpadded
	// base64url.
	signatureLen = 43
	// MaxLen bounds what is worth parsing; issued tokens are about 100
	// characters.
	MaxLen = 512
)

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Errors returned by Open. They describe the shape, never whether a token
// exists.
var (
	ErrPrefix   = errors.New("tokenformat: wrong prefix for this kind of token")
	ErrShape    = errors.New("tokenformat: not a token of this server: wrong length or characters")
	ErrChecksum = errors.New("tokenformat: checksum mismatch: the token was mistyped, truncated or made up")
)

// Checksum returns the 6-character base62 CRC-32 (IEEE) of payload.
func Checksum(payload string) string {
	n := crc32.ChecksumIEEE([]byte(payload))
	var out [ChecksumLen]byte
	for i := ChecksumLen - 1; i >= 0; i-- {
		out[i] = alphabet[n%62]
		n /= 62
	}
	return string(out[:])
}

// Seal returns the checksummed token for fosite's HMAC token body.
func Seal(prefix, body string) string {
	return prefix + body + "_" + Checksum(prefix+body)
}

// Open checks token against prefix and returns fosite's HMAC token inside
// it. legacy reports a token issued before checksums (no checksum to
// verify; its shape is still checked).
func Open(prefix, token string) (body string, legacy bool, err error) {
	if !strings.HasPrefix(token, prefix) {
		return "", false, ErrPrefix
	}
	rest := token[len(prefix):]
	if len(token) > MaxLen {
		return "", false, ErrShape
	}
	key, sig, ok := strings.Cut(rest, ".")
	if !ok || key == "" || sig == "" || !isBase64URL(key) || !isBase64URL(sig) {
		return "", false, ErrShape
	}
	switch {
	case len(sig) == signatureLen:
		return rest, true, nil
	case len(sig) != signatureLen+1+ChecksumLen || sig[signatureLen] != '_':
		return "", false, ErrShape
	}
	body, sum := token[len(prefix):len(token)-ChecksumLen-1], token[len(token)-ChecksumLen:]
	if Checksum(prefix+body) != sum {
		return "", false, ErrChecksum
	}
	return body, false, nil
}

func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
