// Package servertest starts the programs the way their commands do, for
// end-to-end tests (the MustRunMain habit of benbjohnson/wtf):
//
//	s := servertest.MustOpen(t, servertest.Options{DatabaseURL: dbURL})
//	alice := s.MustUser(t, "alice@example.com", "correct horse battery staple")
//	web := s.MustClient(t, identity.Client{Name: "MyApp", RedirectURIs: ...})
//	b := s.Browser(t) // a cookie jar; follows redirects within the server
//	api := s.StartAPI(t, rs)   // petstore-api introspecting as client rs
//	app := s.StartDemo(t, api) // MyApp, registered as a client
//
// MustOpen builds petstore-auth through pkg/server (one function, open, so
// a change of the builder is one edit) in development mode, behind a real
// HTTP listener whose URL is the issuer, rendering from the embedded web
// files, logging into Logs. EachDatabase and Databases give a fresh SQLite
// file always and a fresh PostgreSQL schema when PETSTORE_TEST_POSTGRES_DSN
// is set (failing, not skipping, when it is set but unreachable). The
// seeding helpers store users, clients and API keys as the CLI does, with
// the secrets generated and hashed the same way; PostForm is an OAuth
// client's form POST (RFC 6749 §2.3.1 credentials).
//
// Pages without a whole server (pkg/web, pkg/admin) use webtest's Browser
// directly; this package imports pkg/server, which imports them.
package servertest
