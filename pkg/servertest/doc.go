// Package servertest starts the programs the way their commands do, for
// end-to-end tests (the MustRunMain habit of benbjohnson/wtf): MustOpen
// builds petstore-auth through pkg/server on SQLite or, with
// PETSTORE_TEST_POSTGRES_DSN set, on a fresh PostgreSQL schema, behind a
// real HTTP listener, rendering from the embedded web files. The Server it
// returns seeds users, clients and API keys the way the CLI stores them,
// hands out browsers (webtest.Browser) with their own cookie jars, starts
// petstore-api in front of it on request, and keeps the server's log.
package servertest
