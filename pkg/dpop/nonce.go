package dpop

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"time"
)

// DefaultNonceBucket is how long one server nonce is current; a nonce is
// accepted in its bucket and the next one.
const DefaultNonceBucket = 5 * time.Minute

// Nonces makes and checks server-provided DPoP nonces (RFC 9449 §8)
// without state: a nonce is HMAC-SHA256(Key, bucket number) for the
// current time bucket. Every replica configured with the same Key makes
// the same nonce and accepts the current and the previous bucket's.
type Nonces struct {
	Key    []byte        // at least 32 bytes, derived from the system secret
	Bucket time.Duration // zero is DefaultNonceBucket
	Now    func() time.Time
}

func (n *Nonces) bucket() (int64, time.Duration) {
	b := n.Bucket
	if b <= 0 {
		b = DefaultNonceBucket
	}
	now := time.Now()
	if n.Now != nil {
		now = n.Now()
	}
	return now.UnixNano() / int64(b), b
}

func (n *Nonces) at(bucket int64) string {
	m := hmac.New(sha256.New, n.Key)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(bucket))
	m.Write(b[:])
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// Current is the nonce to send in a DPoP-Nonce header.
func (n *Nonces) Current() string {
	b, _ := n.bucket()
	return n.at(b)
}

// Valid reports whether nonce is the current or the previous bucket's.
func (n *Nonces) Valid(nonce string) bool {
	if nonce == "" {
		return false
	}
	b, _ := n.bucket()
	ok := subtle.ConstantTimeCompare([]byte(nonce), []byte(n.at(b)))
	ok |= subtle.ConstantTimeCompare([]byte(nonce), []byte(n.at(b-1)))
	return ok == 1
}
