// Package e2e holds the end-to-end test of what users run: it builds the
// three programs with `go build`, seeds them with the CLI commands the
// README documents, starts them as processes with the shipped
// configuration files, and walks every page of the authorization server
// and of MyApp in headless Chromium, failing on any 5xx or unexpected
// error page. It also writes the README's screenshots:
//
//	go test ./pkg/e2e -run Walk -screenshots
//
// The package has no code of its own; only the test.
package e2e
