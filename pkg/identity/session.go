package identity

import "time"

// MaxSessionUserAgent bounds the User-Agent kept with a browser session
// (bytes; longer ones are cut).
const MaxSessionUserAgent = 256

// BrowserSession is a signed-in browser session as the server records it:
// what the account page lists. The secret session id is not part of it
// (the store keeps only its SHA-256).
type BrowserSession struct {
	// SID is the public id of the session (the OpenID Connect sid claim).
	SID    string
	UserID string
	// UserAgent is the browser's User-Agent at sign-in, at most
	// MaxSessionUserAgent bytes.
	UserAgent string
	// IP is the client address at sign-in.
	IP         string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}
