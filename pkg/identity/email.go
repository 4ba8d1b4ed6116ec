package identity

import (
	"net/mail"
	"strings"
)

// NormalizeEmail checks that s is a bare email address ("a@b.example", no
// display name) and returns it lower-cased, the form users are stored and
// looked up by.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" || len(s) > 254 {
		return "", Errorf(EINVALID, "%q is not an email address.", s)
	}
	local, domain, _ := strings.Cut(s, "@")
	if local == "" || !strings.Contains(domain, ".") && domain != "localhost" {
		return "", Errorf(EINVALID, "%q is not an email address.", s)
	}
	return strings.ToLower(s), nil
}
