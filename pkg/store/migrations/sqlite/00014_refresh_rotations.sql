-- +goose Up
-- The sealed successor pairs of the refresh grace window move from the
-- rotated token's row to a table of their own: written once, never updated,
-- no foreign keys. A rotation then changes no indexed column of
-- refresh_tokens (rotated_at loses its index, which only the blob sweeper
-- read) and keeping the pair is one insert, not a second update of the
-- row. The PostgreSQL migration of the same number says why there.
CREATE TABLE refresh_rotations (
    signature  TEXT PRIMARY KEY,
    rotated_at DATETIME NOT NULL,
    sealed     BLOB NOT NULL
);
CREATE INDEX refresh_rotations_rotated_at_idx ON refresh_rotations (rotated_at);
INSERT INTO refresh_rotations (signature, rotated_at, sealed)
    SELECT signature, rotated_at, rotation_sealed FROM refresh_tokens
    WHERE rotation_sealed IS NOT NULL AND rotated_at IS NOT NULL;
DROP INDEX refresh_tokens_rotated_at_idx;
ALTER TABLE refresh_tokens DROP COLUMN rotation_sealed;

-- The rotation now revokes the access token issued beside the refresh token
-- by its signature, so 00013's partial index of active access tokens serves
-- only the rare revocation of a whole family, and every revoke of an
-- access token had to maintain it.
DROP INDEX access_tokens_active_request_idx;

-- +goose Down
CREATE INDEX access_tokens_active_request_idx ON access_tokens (request_id) WHERE active = 1;
ALTER TABLE refresh_tokens ADD COLUMN rotation_sealed BLOB;
UPDATE refresh_tokens SET rotation_sealed = (SELECT r.sealed FROM refresh_rotations r WHERE r.signature = refresh_tokens.signature)
    WHERE rotated_at IS NOT NULL;
CREATE INDEX refresh_tokens_rotated_at_idx ON refresh_tokens (rotated_at);
DROP TABLE refresh_rotations;
