package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"math/big"
	"strings"

	"github.com/petstore-auth/petstore-auth/pkg/tokenformat"
)

// Environments a key belongs to; a live server refuses test keys and the
// reverse.
const (
	EnvLive = "live"
	EnvTest = "test"
)

const (
	prefixLive = "sk_live_"
	prefixTest = "sk_test_"
	prefixLen  = len(prefixLive) // both prefixes have the same length

	bodyLen     = 43 // 62^43 > 2^256
	checksumLen = tokenformat.ChecksumLen
	displayLen  = 6 // body characters shown in lists

	// Len is the length of every valid key.
	Len = prefixLen + bodyLen + checksumLen
)

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Errors returned by Parse. They say what is wrong with the shape of the
// string, never anything about whether a key exists.
var (
	ErrPrefix   = errors.New("apikey: not an API key: it must start with sk_live_ or sk_test_")
	ErrLength   = errors.New("apikey: wrong length: the key is truncated or has extra characters")
	ErrAlphabet = errors.New("apikey: invalid character: keys contain only letters and digits after the prefix")
	ErrChecksum = errors.New("apikey: checksum mismatch: the key was mistyped or altered")
	ErrEnv      = errors.New("apikey: environment must be live or test")
)

// Key is what a well-formed key tells without a database lookup.
type Key struct {
	Env string // EnvLive or EnvTest
}

// Generate returns a new key for env ("live" or "test") with 256 bits from
// crypto/rand.
func Generate(env string) (string, error) {
	prefix, err := prefixFor(env)
	if err != nil {
		return "", err
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	body := encode(new(big.Int).SetBytes(raw[:]), bodyLen)
	return prefix + body + checksum(prefix+body), nil
}

func prefixFor(env string) (string, error) {
	switch env {
	case EnvLive:
		return prefixLive, nil
	case EnvTest:
		return prefixTest, nil
	}
	return "", ErrEnv
}

// Parse checks the shape of s: exact, case-sensitive prefix, length,
// alphabet and checksum, in that order.
func Parse(s string) (Key, error) {
	var k Key
	switch {
	case strings.HasPrefix(s, prefixLive):
		k.Env = EnvLive
	case strings.HasPrefix(s, prefixTest):
		k.Env = EnvTest
	default:
		return Key{}, ErrPrefix
	}
	if len(s) != Len {
		return Key{}, ErrLength
	}
	for i := prefixLen; i < len(s); i++ {
		if !isBase62(s[i]) {
			return Key{}, ErrAlphabet
		}
	}
	payload, sum := s[:Len-checksumLen], s[Len-checksumLen:]
	if checksum(payload) != sum {
		return Key{}, ErrChecksum
	}
	return k, nil
}

// Hash is what the database stores and looks keys up by. A fast hash is
// right here: the key has 256 bits of entropy, so there is nothing to
// brute-force.
func Hash(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// DisplayPrefix is the non-secret start of a key shown in lists, e.g.
// "sk_test_Ab12Cd": enough for a human to recognise a key, useless to an
// attacker (36 of 256 bits). It returns "" for anything not key-shaped.
func DisplayPrefix(key string) string {
	if !LooksLikeKey(key) || len(key) < prefixLen+displayLen {
		return ""
	}
	return key[:prefixLen+displayLen]
}

// LooksLikeKey reports whether s carries an API-key prefix; it is how a
// server routes a credential to the API-key path. Use Parse to validate.
func LooksLikeKey(s string) bool {
	return strings.HasPrefix(s, prefixLive) || strings.HasPrefix(s, prefixTest)
}

// checksum is the CRC-32 in base62 that opaque tokens carry too.
func checksum(payload string) string { return tokenformat.Checksum(payload) }

// encode writes n in base62, left-padded with '0' to width characters.
func encode(n *big.Int, width int) string {
	out := make([]byte, width)
	base := big.NewInt(62)
	mod := new(big.Int)
	for i := width - 1; i >= 0; i-- {
		n.DivMod(n, base, mod)
		out[i] = alphabet[mod.Int64()]
	}
	return string(out)
}

func isBase62(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
}
