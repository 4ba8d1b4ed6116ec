package identity

// Audit event types (AuditEvent.Type). One type per act, whatever the
// channel it came through; the channel is in Details[DetailChannel].
const (
	// Operator actions (pkg/manage).
	EventClientCreated       = "client.created"
	EventClientUpdated       = "client.updated"
	EventClientSecretRotated = "client.secret_rotated"
	EventClientDisabled      = "client.disabled"
	EventClientEnabled       = "client.enabled"
	EventClientDeleted       = "client.deleted"
	EventUserCreated         = "user.created"
	EventUserDisabled        = "user.disabled"
	EventUserEnabled         = "user.enabled"
	EventUserPasswordReset   = "user.password_reset"
	EventUserUpdated         = "user.updated"
	EventAPIKeyCreated       = "apikey.created"
	EventAPIKeyRevoked       = "apikey.revoked"
	EventGrantRevoked        = "grant.revoked"  // one grant
	EventGrantsRevoked       = "grants.revoked" // every grant of a user and/or client
	EventSigningKeyRotated   = "keys.rotated"
	EventAdminAccessDenied   = "admin.access_denied"

	// Client registration (RFC 7591; pkg/manage).
	EventClientRegistered         = "client.registered"
	EventRegistrationTokenCreated = "registration_token.created"
	EventRegistrationTokenRevoked = "registration_token.revoked"

	// The user's sign-in and consent (pkg/web).
	EventLoginSuccess   = "login.success"
	EventLoginFailure   = "login.failure"
	EventLogout         = "logout"
	EventConsentGranted = "consent.granted"
	EventConsentDenied  = "consent.denied"
	EventCodeIssued     = "code.issued"
	// The account page's session list: one session signed out, or all
	// ("sign out everywhere").
	EventSessionEnded     = "session.ended"
	EventSessionsEndedAll = "sessions.ended_all"

	// The OAuth endpoints (pkg/provider).
	EventCodeRedeemed         = "code.redeemed"
	EventCodeReused           = "code.reused"
	EventTokenIssued          = "token.issued"
	EventTokenRefreshed       = "token.refreshed"
	EventTokenRefreshReplayed = "token.refresh_replayed"
	EventTokenReuseDetected   = "token.reuse_detected"
	EventTokenRevoked         = "token.revoked"
	EventIntrospectionDenied  = "introspection.denied"
	EventAPIKeyFirstUsed      = "apikey.first_used"
	// The device authorization grant (RFC 8628).
	EventDeviceRequested    = "device.requested"     // a device asked for codes
	EventDeviceCodeRejected = "device.code_rejected" // a wrong user code on /device
	EventDeviceApproved     = "device.approved"
	EventDeviceDenied       = "device.denied"
	EventDeviceRedeemed     = "device.redeemed" // the device fetched its tokens
)

// OpenID Connect logout events (RP-Initiated Logout 1.0, Back-Channel
// Logout 1.0). A back-channel delivery is recorded once per attempt that
// failed, once when delivered, and once when the server gives up.
const (
	EventEndSession                 = "logout.end_session"
	EventEndSessionRefused          = "logout.end_session_refused"
	EventBackchannelLogoutDelivered = "logout.backchannel_delivered"
	EventBackchannelLogoutFailed    = "logout.backchannel_failed"
	EventBackchannelLogoutGaveUp    = "logout.backchannel_gave_up"
)

// AuditEventTypes lists every type above, for filters and pickers.
var AuditEventTypes = []string{
	EventLoginSuccess, EventLoginFailure, EventLogout, EventConsentGranted, EventConsentDenied, EventCodeIssued,
	EventCodeRedeemed, EventCodeReused, EventTokenIssued, EventTokenRefreshed, EventTokenRefreshReplayed,
	EventTokenReuseDetected, EventTokenRevoked, EventIntrospectionDenied, EventAPIKeyFirstUsed,
	EventClientCreated, EventClientUpdated, EventClientSecretRotated, EventClientDisabled, EventClientEnabled,
	EventClientDeleted, EventUserCreated, EventUserDisabled, EventUserEnabled, EventUserPasswordReset,
	EventUserUpdated,
	EventAPIKeyCreated, EventAPIKeyRevoked, EventGrantRevoked, EventGrantsRevoked, EventSigningKeyRotated,
	EventAdminAccessDenied, EventSessionEnded, EventSessionsEndedAll, EventClientRegistered, EventRegistrationTokenCreated, EventRegistrationTokenRevoked,
	EventEndSession, EventEndSessionRefused, EventBackchannelLogoutDelivered,
	EventBackchannelLogoutFailed, EventBackchannelLogoutGaveUp,
	EventDeviceRequested, EventDeviceCodeRejected, EventDeviceApproved, EventDeviceDenied, EventDeviceRedeemed,
}

// DetailChannel is the Details key naming the channel an operator action
// came through: one of the Channel constants.
const DetailChannel = "via"

// Channels through which operator actions arrive.
const (
	ChannelCLI      = "cli"       // cmd/petstore-auth
	ChannelAdminAPI = "admin_api" // /admin/api/v1
	ChannelConsole  = "console"   // the /admin pages
	ChannelAccount  = "account"   // the user's own /account page
)
