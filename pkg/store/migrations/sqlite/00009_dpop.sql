-- +goose Up
-- DPoP (RFC 9449): a client registered dpop_bound must prove possession of
-- a key at the token endpoint. Existing clients are not bound.
ALTER TABLE clients ADD COLUMN dpop_bound BOOLEAN NOT NULL DEFAULT FALSE;

-- Used DPoP proofs (SHA-256 of key thumbprint and jti), kept for the iat
-- window so that every replica refuses a replayed proof.
CREATE TABLE dpop_proofs (
    key_hash   TEXT PRIMARY KEY,
    expires_at DATETIME NOT NULL
);
CREATE INDEX dpop_proofs_expires_at_idx ON dpop_proofs (expires_at);

-- PAR (RFC 9126): a client registered require_par must push its
-- authorization requests.
ALTER TABLE clients ADD COLUMN require_par BOOLEAN NOT NULL DEFAULT FALSE;

-- A client security profile: '' (none) or 'fapi2' (FAPI 2.0 Security
-- Profile: PAR, DPoP, short codes, no refresh grace).
ALTER TABLE clients ADD COLUMN profile TEXT NOT NULL DEFAULT '';

-- Pushed authorization requests, by SHA-256 of their request_uri. opened:
-- the browser has arrived at the authorization endpoint (expires_at then
-- covers the sign-in); used: a code was issued for it (single use).
CREATE TABLE par_requests (
    request_uri_hash TEXT PRIMARY KEY,
    client_id        TEXT NOT NULL,
    request_id       TEXT NOT NULL,
    requested_at     DATETIME NOT NULL,
    form             TEXT NOT NULL,
    opened           BOOLEAN NOT NULL DEFAULT FALSE,
    used             BOOLEAN NOT NULL DEFAULT FALSE,
    expires_at       DATETIME NOT NULL
);
CREATE INDEX par_requests_expires_at_idx ON par_requests (expires_at);

-- +goose Down
DROP TABLE par_requests;
ALTER TABLE clients DROP COLUMN profile;
ALTER TABLE clients DROP COLUMN require_par;
DROP TABLE dpop_proofs;
ALTER TABLE clients DROP COLUMN dpop_bound;
