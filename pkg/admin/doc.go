// Package admin serves the administration surface of the authorization
// server: a JSON API under /admin/api/v1 for scripts and an HTML console
// under /admin for people. Both call the operator service (pkg/manage),
// as the CLI and the account page do, so a grant revoked from the console,
// the API or the CLI ends the same way: in
// identity.GrantStore.RevokeGrant / RevokeGrants, which revokes the grant,
// its tokens and lists its JWT ids in one transaction.
//
// Who may use it:
//
//	/admin/api/v1/*   Authorization: Bearer <access token or API key> carrying
//	                  the "admin" scope. A client_credentials token is enough
//	                  (the client was registered with that scope); a user's
//	                  token or API key also needs the user to be an enabled
//	                  admin, so that an ordinary user cannot mint an admin key.
//	                  401 without or with a bad credential, 403 without the
//	                  scope. The OpenAPI document (openapi.json, also checked
//	                  in as docs/admin-openapi.json) is public: it describes
//	                  the shape of the API and holds no data.
//	/admin/*          the signed-in session of an enabled admin user (pkg/ui),
//	                  forms protected by the session's CSRF token; a signed-in
//	                  non-admin gets 403.
//
// Every action, successful or not, records one audit event through
// Handler.Audit (type identity.Event*, e.g. "client.created" whatever the
// channel; actor, target user/client, outcome, and the channel "admin_api"
// or "console" in Details["via"]); pkg/audit's Log writes the row and the
// one slog line. The JSON answers are pkg/manage's views, the same that
// `petstore-auth --output json` prints.
// A 403 on the API is recorded as "admin.access_denied"; 401s are not (they
// are unauthenticated noise). Secrets — client secrets, passwords, keys,
// tokens — never reach the audit log: a new client secret is shown once in
// the response and stored only as its SHA-256.
//
// Disabling a user also revokes their API keys, not only their grants: a
// disabled account must not keep a working server-to-server credential.
// Console sessions are checked on every request against the user's
// fingerprint (UpdatedAt, as pkg/web sets it at sign-in), so disabling a
// user or resetting their password ends their sessions.
package admin
