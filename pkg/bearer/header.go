package bearer

import (
	"fmt"
	"strings"
)

// MaxHeaderLen bounds the Authorization header; longer values are refused
// before any parsing (a 1 MB JWT header must cost nothing).
const MaxHeaderLen = 4096

// ParseAuthorization extracts the token from one Authorization header value.
// The scheme is case-insensitive (RFC 9110 §11.1); the token must be a
// non-empty RFC 6750 b64token. A value without the Bearer scheme counts as
// missing credentials (RFC 6750 §3.1: no error code for unsupported
// methods).
func ParseAuthorization(h string) (string, error) {
	if len(h) > MaxHeaderLen {
		return "", fmt.Errorf("%w: header longer than %d bytes", ErrInvalid, MaxHeaderLen)
	}
	h = strings.Trim(h, " \t")
	if h == "" {
		return "", ErrMissing
	}
	scheme, token, found := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", ErrMissing
	}
	if !found {
		return "", fmt.Errorf("%w: empty bearer token", ErrInvalid)
	}
	token = strings.TrimLeft(token, " ")
	if token == "" {
		return "", fmt.Errorf("%w: empty bearer token", ErrInvalid)
	}
	if !isB64Token(token) {
		return "", fmt.Errorf("%w: token has characters outside RFC 6750 b64token", ErrInvalid)
	}
	return token, nil
}

// isB64Token reports whether s matches 1*( ALPHA / DIGIT / "-" / "." / "_" /
// "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' {
			continue
		}
		break
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

// looksLikeJWT reports whether token is three non-empty base64url segments.
func looksLikeJWT(token string) bool {
	segs := 0
	n := 0
	for i := 0; i < len(token); i++ {
		c := token[i]
		switch {
		case c == '.':
			if n == 0 {
				return false
			}
			segs++
			n = 0
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_':
			n++
		default:
			return false
		}
	}
	return segs == 2 && n > 0
}
