// Package store is the database layer of the authorization server, and the
// only package that imports gorm. One *Store implements fosite's storage
// interfaces (clients, codes, PKCE, access and refresh tokens, revocation,
// storage.Transactional) and the identity stores (users, clients, grants,
// API keys, signing keys, the JWT revocation list, the audit log), on SQLite
// (sqlite://PATH, pure Go, the default) or PostgreSQL (postgres://…).
//
// # Schema
//
// The schema is versioned with goose; the SQL for each dialect is embedded
// (migrations/sqlite, migrations/postgres) and applied by MigrateUp, never by
// gorm's AutoMigrate. /readyz asks MigrationsCurrent. Tokens link to their
// client (ON DELETE CASCADE) and, when the session carries one, to their
// grant; every lookup column is indexed.
//
// # Signatures, not tokens
//
// Codes and tokens are stored under fosite's signature of the token, never
// the token itself: a leaked database or backup yields nothing that can be
// presented. The stored request form is stripped of credentials
// (client_secret, code, code_verifier, refresh_token, password, assertions)
// even though fosite already sanitises it, and gorm's logger is silent
// because SQL arguments hold signatures and hashes.
//
// # Exactly once
//
// Redeeming a code and rotating a refresh token are conditional updates
// ("UPDATE … SET active = false WHERE signature = ? AND active") whose
// rows-affected count decides the winner, inside the transaction fosite
// opens with BeginTX. Exactly one of any number of concurrent requests sees
// one row changed; the others get ErrCodeAlreadyRedeemed (which fosite
// treats as code reuse and answers by revoking what the first redemption
// issued) or ErrRefreshTokenRotated (fosite.ErrSerializationFailure). On
// PostgreSQL the losers block on the row lock and then see the row already
// inactive under READ COMMITTED; on SQLite transactions are serialised (see
// below). No read-then-write check is ever trusted for this.
//
// A refresh token chain shares one request id: rotation deactivates the
// presented token and the access token issued beside it (both by primary
// key: a prepared statement's generic plan must not walk the chain), and
// fosite then writes the successor pair in the same transaction. Older
// tokens of the chain need no change, since the rotation that replaced each
// one deactivated it. Neither update changes an indexed column, so on
// PostgreSQL both are HOT updates. RevokeRefreshToken and RevokeAccessToken
// work on the whole request id.
// Revoked access tokens are deactivated rather than deleted, and the JWT id
// of each (sessions implementing JTISession) is listed in revoked_jwts until
// the token expires, so resource servers that verify JWTs locally learn of it.
//
// The refresh grace window keeps the sealed successor pair in
// refresh_rotations under the old token's signature (SaveRotation,
// RotationOf) until ClearRotations deletes it; revoking the family clears
// the old token's rotation time, after which RotationOf no longer returns
// the pair, so a revoked family cannot be revived by replaying an old token.
//
// # SQLite locking
//
// SQLite allows one writer at a time. The store opens it in WAL mode (readers
// never block the writer) with busy_timeout=10s, foreign_keys on and
// synchronous=NORMAL, and begins every transaction with BEGIN IMMEDIATE
// (the driver's _txlock=immediate). A deferred transaction that reads before
// it writes cannot wait for the lock: SQLite fails its upgrade at once with
// SQLITE_BUSY ("database is locked") whenever another connection committed
// in between. Measured with the suite's ConcurrentWriters test (32 writers,
// read-then-write transactions): deferred produced dozens of "database is
// locked" errors per run, immediate none. Taking the write lock up front
// makes every writer queue under busy_timeout instead. Single statements
// outside a transaction take the write lock when they start, so they queue
// the same way. A small pool (8 connections) keeps readers concurrent; a
// single write connection was not needed and would deadlock any caller that
// reads outside its own transaction. Consequence for callers: while holding
// a transaction from BeginTX, write only through its context.
//
// Times are stored in UTC at microsecond precision on both dialects; SQLite
// keeps them as text, which orders correctly only when every value has the
// same offset.
package store
