package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"math/big"
	"sync"

	jose "github.com/go-jose/go-jose/v3"
)

// proofKey is a proof's jwk header, parsed and checked: a public key of a
// type some algorithm in Algorithms uses, and its thumbprint.
type proofKey struct {
	pub any // *ecdsa.PublicKey (P-256), *rsa.PublicKey or ed25519.PublicKey
	jkt string
}

// fits reports whether alg is in Algorithms and is the algorithm of the
// key's type (RFC 9449 §4.3 items 5-6; RSA keys of minRSABits at least).
func (k *proofKey) fits(alg string) bool {
	switch pub := k.pub.(type) {
	case *ecdsa.PublicKey:
		return alg == "ES256" && pub.Curve == elliptic.P256()
	case *rsa.PublicKey:
		return alg == "RS256" && pub.N.BitLen() >= minRSABits
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}

// verify checks a JWS signature (RFC 7518 §3.3-3.4, RFC 8037 §3.1) over
// signingInput, the first two segments of the compact serialisation; the
// caller has checked that alg fits the key.
func (k *proofKey) verify(alg, signingInput string, sig []byte) bool {
	if alg == "EdDSA" {
		return ed25519.Verify(k.pub.(ed25519.PublicKey), []byte(signingInput), sig)
	}
	digest := sha256.Sum256([]byte(signingInput))
	switch pub := k.pub.(type) {
	case *ecdsa.PublicKey: // ES256: R || S, 32 bytes each
		if len(sig) != 64 {
			return false
		}
		return ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) == nil
	}
	return false
}

// keyCacheSize bounds the parsed keys kept: one per client key in use.
const keyCacheSize = 4096

// keyCache maps the SHA-256 of the exact bytes of a jwk header to the
// parsed key (a hash, so that 8 KiB headers cannot make it large). A proof
// is new on every request while its key is not, and parsing a JWK (with
// its point-on-curve check) and hashing its thumbprint cost as much as the
// rest of the proof apart from the signature. Same bytes, same key: the
// cache cannot change a verdict.
type keyCache struct {
	mu sync.RWMutex
	m  map[[32]byte]*proofKey
}

// keys is shared by every Validator and Parse call in the process.
var keys = &keyCache{m: make(map[[32]byte]*proofKey)}

// get returns the parsed key for raw, parsing it on a miss. A jwk that is
// not a usable public key is an ErrInvalidProof and is not remembered.
func (c *keyCache) get(raw []byte) (*proofKey, error) {
	sum := sha256.Sum256(raw)
	c.mu.RLock()
	k, ok := c.m[sum]
	c.mu.RUnlock()
	if ok {
		return k, nil
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(raw); err != nil {
		return nil, invalid("jwk header: %v", err)
	}
	if !jwk.Valid() || !jwk.IsPublic() {
		return nil, invalid("jwk header is not a public key")
	}
	jkt, err := Thumbprint(&jwk)
	if err != nil {
		return nil, err
	}
	k = &proofKey{pub: jwk.Key, jkt: jkt}
	c.mu.Lock()
	if len(c.m) >= keyCacheSize {
		for old := range c.m { // any one: Go's map order is random
			delete(c.m, old)
			break
		}
	}
	c.m[sum] = k
	c.mu.Unlock()
	return k, nil
}
