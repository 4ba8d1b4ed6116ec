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

// sealer encrypts small blobs with AES-256-GCM.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (*sealer, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead}, nil
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
	return s.aead.Open(nil, sealed[:n], sealed[n:], ad)
}
