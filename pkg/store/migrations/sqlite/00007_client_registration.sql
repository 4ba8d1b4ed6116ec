-- +goose Up
-- Clients that registered themselves (RFC 7591, "dynamic") or are known
-- by a client ID metadata document ("metadata_document"); '' for clients
-- an operator made. Such clients are shown as unverified.
ALTER TABLE clients ADD COLUMN registration TEXT NOT NULL DEFAULT '';
-- SHA-256 of the RFC 7592 registration access token; NULL for others.
ALTER TABLE clients ADD COLUMN registration_access_token_hash BLOB;
-- When a token was last issued to the client (coalesced); unused
-- self-registered clients are removed after registration_unused_ttl.
ALTER TABLE clients ADD COLUMN last_used_at DATETIME;
-- RFC 7591 §2 metadata kept as sent.
ALTER TABLE clients ADD COLUMN client_uri TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN logo_uri TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN software_id TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN software_version TEXT NOT NULL DEFAULT '';
-- RFC 7591 token_endpoint_auth_method as registered ('' for operator clients).
ALTER TABLE clients ADD COLUMN token_endpoint_auth_method TEXT NOT NULL DEFAULT '';
CREATE INDEX clients_registration_idx ON clients (registration);

-- Initial access tokens (RFC 7591 §3) for registration: token, by SHA-256.
CREATE TABLE registration_tokens (
    id          TEXT PRIMARY KEY,
    hash        BLOB NOT NULL UNIQUE,
    prefix      TEXT NOT NULL DEFAULT '',
    max_uses    INTEGER NOT NULL DEFAULT 0,
    uses        INTEGER NOT NULL DEFAULT 0,
    created_at  DATETIME NOT NULL,
    expires_at  DATETIME,
    revoked_at  DATETIME
);

-- +goose Down
DROP TABLE registration_tokens;
DROP INDEX clients_registration_idx;
ALTER TABLE clients DROP COLUMN token_endpoint_auth_method;
ALTER TABLE clients DROP COLUMN software_version;
ALTER TABLE clients DROP COLUMN software_id;
ALTER TABLE clients DROP COLUMN logo_uri;
ALTER TABLE clients DROP COLUMN client_uri;
ALTER TABLE clients DROP COLUMN last_used_at;
ALTER TABLE clients DROP COLUMN registration_access_token_hash;
ALTER TABLE clients DROP COLUMN registration;
