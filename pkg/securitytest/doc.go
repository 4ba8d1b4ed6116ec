// Package securitytest is the security test catalogue
// (docs/security.md, after shared/reference/security-checklist.md) as
// executable tests: one test per P0/P1 case, named after its ID
// (TestPK09_ParallelCodeRedemption), black-box through real HTTP against
// the whole authorization server (pkg/server) and the PetStore resource
// server (pkg/petstore + pkg/bearer), both started by pkg/servertest, on
// SQLite and, when PETSTORE_TEST_POSTGRES_DSN is set, on PostgreSQL.
//
// The package has no exported API: it holds only tests. Every test
// environment records the secrets that passed through it (client secrets,
// passwords, codes, tokens, API keys) and, when the test ends, dumps its
// database and fails if any of them is stored in plain form (TK-07).
package securitytest
