package identity

import "time"

// BackchannelLogout is one logout token still to deliver to a client
// (OpenID Connect Back-Channel Logout 1.0 §2.4): its claims, not the
// token, which is signed at each attempt.
type BackchannelLogout struct {
	// ID is the logout token's jti, the same at every attempt so the
	// client can tell a retry from a new event.
	ID       string
	ClientID string
	Subject  string // the user id, the sub of the client's ID tokens
	SID      string // the session's sid; empty when the event is not about one session
	// Attempts made so far (0 for a new row).
	Attempts    int
	NextAttempt time.Time
	LastError   string
	CreatedAt   time.Time
}
