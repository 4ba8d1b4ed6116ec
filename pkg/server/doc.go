// Package server is petstore-auth's composition root: the one place its
// parts — store, limiter, audit log, provider, pages, admin — are wired
// into one http.Handler with health, readiness and metrics, and run with
// production timeouts and graceful shutdown.
//
//   - OpenStore opens the database the one way every entry point does
//     (serve and all CLI commands): connect, migrate in development mode,
//     refuse a schema that is not current.
//   - New(ctx, Deps) assembles a Server from opened parts (config values,
//     store, limiter, logger, clock, web files); it opens nothing itself.
//   - Open = OpenStore + ratelimit.FromURL + New: the builder that
//     `petstore-auth serve`, petstore-dev and the end-to-end tests use.
//
// The resource server has its own root, petstore.NewServer, used by
// petstore-api and petstore-dev alike. Only cmd/* and tests call these
// builders; nothing else in pkg/ wires parts together.
package server
