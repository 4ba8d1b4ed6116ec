package password

import (
	_ "embed"
	"strings"
	"unicode/utf8"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// common lists passwords of at least MinLength characters that appear at
// the top of public breach corpora. It is short on purpose: the machines
// this is built on cannot fetch a full breached-password list; an operator
// who wants one puts the policy behind a larger list.
//
//go:embed common.txt
var commonList string

var common = func() map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(commonList, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			m[strings.ToLower(l)] = true
		}
	}
	return m
}()

// Check applies the password policy of NIST SP 800-63B: at least MinLength
// characters, at most MaxLength bytes, not a well-known breached password,
// not one character repeated and not the account's own email; no
// composition rules. The error is EINVALID with a message for the user.
func Check(pw, email string) error {
	switch {
	case utf8.RuneCountInString(pw) < MinLength:
		return identity.Errorf(identity.EINVALID, "The password must have at least %d characters.", MinLength)
	case len(pw) > MaxLength:
		return identity.Errorf(identity.EINVALID, "The password must have at most %d bytes.", MaxLength)
	case common[strings.ToLower(pw)]:
		return identity.Errorf(identity.EINVALID, "This password is one of the most common ones in breaches; choose another.")
	case strings.Count(pw, pw[:1]) == len(pw):
		return identity.Errorf(identity.EINVALID, "The password must not be one character repeated.")
	case email != "" && strings.EqualFold(pw, email):
		return identity.Errorf(identity.EINVALID, "The password must not be the email address.")
	}
	return nil
}

// ForAccount is the one way a password is set, whoever sets it (CLI, admin
// console, admin API, dev seeding): Check against the policy for the
// account's email, then Hash.
func ForAccount(pw, email string) (string, error) {
	if err := Check(pw, email); err != nil {
		return "", err
	}
	return Hash(pw)
}
