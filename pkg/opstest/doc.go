// Package opstest holds the operational tests of petstore-auth: several
// replicas on one PostgreSQL behaving as one server, rate limits shared
// through Redis, SQLite under many concurrent writers, a database outage
// answered with fast 503s, bad input at volume against a real http.Server
// with production limits, and sign-in throttling behind a trusted proxy.
// It has no code of its own.
//
// Environment: PETSTORE_TEST_POSTGRES_DSN (replica tests; skipped when
// unset, failing when set and unreachable) and PETSTORE_TEST_REDIS_ADDR,
// e.g. 127.0.0.1:6379 (shared rate limits; same rule).
//
// The slower, invasive fault tests — PostgreSQL restarted under load, kill -9
// during redemption, rotation and revocation — are the scripts
// scripts/fault-postgres-restart.sh and scripts/fault-kill9.sh.
package opstest
