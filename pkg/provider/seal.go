package provider

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
)

// deriveKey derives an independent 32-byte key for one purpose from the
// system secret, so that the HMAC key of tokens, the session cookie keys and
// the sealing key never coincide.
func deriveKey(secret []byte, purpose string) []byte {
	k, err := hkdf.Key(sha256.New, secret, nil, "petstore-auth "+purpose, 32)
	if err != nil {
		panic(err) // only for lengths hkdf cannot produce
	}
	return k
}

// DeriveKey is deriveKey for the other packages that key things off the
// system secret (session cookies).
func DeriveKey(secret []byte, purpose string) []byte { return deriveKey(secret, purpose) }

// deriveKeys derives the key for purpose from each of several secrets.
func deriveKeys(secrets [][]byte, purpose string) [][]byte {
	var out [][]byte
	for _, s := range secrets {
		out = append(out, deriveKey(s, purpose))
	}
	return out
}

// sealer encrypts small blobs with AES-256-GCM under the current key, and
// opens blobs sealed under the current or a previous one (secret rotation).
type sealer struct {
	aead     cipher.AEAD
	previous []cipher.AEAD
}

func newSealer(key []byte, previous ...[]byte) (*sealer, error) {
	var aeads []cipher.AEAD
	for _, k := range append([][]byte{key}, previous...) {
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		aeads = append(aeads, aead)
	}
	return &sealer{aead: aeads[0], previous: aeads[1:]}, nil
}

// seal binds the ciphertext to ad (e.g. the row it is stored in) so that a
// blob copied to another row does not open.
func (s *sealer) seal(plain, ad []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, plain, ad)
}

func (s *sealer) open(sealed, ad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed blob too short")
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], ad)
	for _, prev := range s.previous {
		if err == nil {
			break
		}
		plain, err = prev.Open(nil, sealed[:n], sealed[n:], ad)
	}
	return plain, err
}
