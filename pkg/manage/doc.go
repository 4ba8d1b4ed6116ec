// Package manage holds the rules of every operator action — registering,
// changing and deleting clients, creating and disabling users, setting
// passwords, creating and revoking API keys, revoking grants, rotating
// signing keys — once, for every channel that offers them: the CLI
// (cmd/petstore-auth), the admin JSON API and console (pkg/admin) and the
// user's account page (pkg/web).
//
// Each action validates its input, changes the stores and records exactly
// one audit event (identity.Event*), successful or not, with the channel in
// Details["via"]. Errors are *identity.Error values, so that each channel
// turns them into an exit code, an HTTP status or a form message its own
// way. views.go is the one JSON shape of each object, printed by
// `--output json` and answered by the admin API.
package manage
