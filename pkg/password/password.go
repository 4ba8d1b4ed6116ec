// Package password hashes and verifies human passwords with Argon2id
// (OWASP parameters: 19 MiB, 2 iterations, 1 lane), stored as PHC strings.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// OWASP Password Storage Cheat Sheet, Argon2id minimum configuration.
const (
	memoryKiB = 19 * 1024
	time      = 2
	threads   = 1
	keyLen    = 32
	saltLen   = 16
	// MinLength is the shortest password accepted for a new account.
	MinLength = 10
	// MaxLength bounds the work an attacker can make us do per attempt.
	MaxLength = 1024
)

var b64 = base64.RawStdEncoding

// Hash returns the PHC string of an Argon2id hash of pw with a fresh salt.
func Hash(pw string) (string, error) {
	if len(pw) > MaxLength {
		return "", fmt.Errorf("password longer than %d bytes", MaxLength)
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, time, memoryKiB, threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, memoryKiB, time, threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// dummy is hashed against when the account does not exist, so that unknown
// emails and wrong passwords take the same time: the parameters of Hash; its
// salt and key are never compared to anything that could match (Verify
// reports false), so they need not come from a real hash — computing one at
// start would cost every start an Argon2id run and its 19 MiB.
var dummy = params{memory: memoryKiB, time: time, threads: threads, salt: make([]byte, saltLen), key: make([]byte, keyLen)}

// Verify reports whether pw matches the PHC string. An empty or malformed
// hash still costs one Argon2id computation and never matches.
func Verify(phc, pw string) bool {
	if len(pw) > MaxLength {
		pw = pw[:MaxLength]
	}
	ok := true
	p, err := parse(phc)
	if err != nil {
		p, ok = dummy, false
	}
	key := argon2.IDKey([]byte(pw), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(key, p.key) == 1 && ok
}

type params struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

func parse(phc string) (params, error) {
	var p params
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return p, fmt.Errorf("not an argon2id hash")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &p.threads); err != nil {
		return p, err
	}
	if p.memory == 0 || p.memory > 256*1024 || p.time == 0 || p.time > 10 || p.threads == 0 {
		return p, fmt.Errorf("argon2id parameters out of range")
	}
	var err error
	if p.salt, err = b64.DecodeString(parts[4]); err != nil {
		return p, err
	}
	if p.key, err = b64.DecodeString(parts[5]); err != nil || len(p.key) < 16 || len(p.key) > 64 {
		return p, fmt.Errorf("bad argon2id key")
	}
	return p, nil
}
