package identity

import (
	"crypto/rand"
	"strings"
	"time"
)

// GrantDeviceCode is the device authorization grant (RFC 8628 §3.4);
// "device_code" is accepted as its short name at registration.
const GrantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"

// UserCodeAlphabet has no vowels (no words) and no look-alike characters
// (RFC 8628 §6.1): 20 letters, 8 of them give 34.5 bits.
const UserCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// UserCodeLen is the number of characters of a user code.
const UserCodeLen = 8

// Device authorization states.
const (
	DevicePending  = "pending"  // waiting for the user
	DeviceApproved = "approved" // the user allowed; tokens not yet fetched
	DeviceDenied   = "denied"   // the user denied
	DeviceRedeemed = "redeemed" // the device fetched its tokens (single use)
)

// DeviceCode is one device authorization request (RFC 8628 §3.1-§3.5).
// The device code and the user code are kept only as hashes.
type DeviceCode struct {
	DeviceCodeHash string // hex SHA-256 of the device_code
	UserCodeHash   string // hex keyed hash of the normalised user code
	ClientID       string
	Scopes         []string // requested
	Status         string   // DevicePending, DeviceApproved, DeviceDenied, DeviceRedeemed
	UserID         string   // who decided
	GrantID        string   // the grant an approval made
	GrantedScopes  []string
	// DeviceUserAgent and DeviceAddress describe the device that asked,
	// shown to the user on the /device page.
	DeviceUserAgent string
	DeviceAddress   string
	Interval        time.Duration // the polling interval; slow_down adds 5 s
	LastPolledAt    *time.Time
	CreatedAt       time.Time
	ExpiresAt       time.Time
}

// NewUserCode returns a random user code in its display form, XXXX-XXXX.
func NewUserCode() string {
	b := make([]byte, UserCodeLen)
	for i := range b {
		b[i] = UserCodeAlphabet[randIndex(len(UserCodeAlphabet))]
	}
	return string(b[:4]) + "-" + string(b[4:])
}

// randIndex is a uniform random index below n (n < 256), by rejection.
func randIndex(n int) int {
	limit := 256 - 256%n
	var b [1]byte
	for {
		_, _ = rand.Read(b[:])
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}

// NormalizeUserCode turns what a user typed into the canonical user code
// (8 letters of UserCodeAlphabet, upper case, no separators): case is
// ignored and spaces and dashes dropped (RFC 8628 §6.1). It reports false
// for anything else, so a typo never reaches the database.
func NormalizeUserCode(in string) (string, bool) {
	if len(in) > 64 {
		return "", false
	}
	var b strings.Builder
	for _, r := range in {
		switch {
		case r == '-' || r == ' ' || r == '\t' || r == '\u2010' || r == '\u2011' || r == '\u2013' || r == '\u2212':
			continue
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		}
		if r > 0x7f || !strings.ContainsRune(UserCodeAlphabet, r) {
			return "", false
		}
		b.WriteRune(r)
	}
	if b.Len() != UserCodeLen {
		return "", false
	}
	return b.String(), true
}

// FormatUserCode is the display form XXXX-XXXX of a normalised user code.
func FormatUserCode(normalized string) string {
	if len(normalized) != UserCodeLen {
		return normalized
	}
	return normalized[:4] + "-" + normalized[4:]
}

// CanonicalGrantTypes returns gs with the short name "device_code"
// replaced by GrantDeviceCode, the name stored and used at the token
// endpoint.
func CanonicalGrantTypes(gs []string) []string {
	if gs == nil {
		return nil
	}
	out := make([]string, len(gs))
	for i, g := range gs {
		if g == "device_code" {
			g = GrantDeviceCode
		}
		out[i] = g
	}
	return out
}
