-- +goose Up
-- DPoP (RFC 9449): a client registered dpop_bound must prove possession of
-- a key at the token endpoint. Existing clients are not bound.
ALTER TABLE clients ADD COLUMN dpop_bound BOOLEAN NOT NULL DEFAULT FALSE;

-- Used DPoP proofs (SHA-256 of key thumbprint and jti), kept for the iat
-- window so that every replica refuses a replayed proof.
CREATE TABLE dpop_proofs (
    key_hash   TEXT PRIMARY KEY,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX dpop_proofs_expires_at_idx ON dpop_proofs (expires_at);

-- +goose Down
DROP TABLE dpop_proofs;
ALTER TABLE clients DROP COLUMN dpop_bound;
