-- +goose Up
-- private_key_jwt client authentication (RFC 7523 §2.2; the method is the
-- token_endpoint_auth_method column of 00007): where the client's public
-- keys are (a jwks_uri, or the JWK Set itself).
-- Existing clients keep authenticating with their secret (or none).
ALTER TABLE clients ADD COLUMN jwks_uri TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN jwks TEXT NOT NULL DEFAULT '';

-- Device authorization requests (RFC 8628). The device code and the
-- user code are stored only hashed; status is pending, approved, denied
-- or redeemed; interval_seconds grows by 5 with every slow_down.
CREATE TABLE device_codes (
    device_code_hash  TEXT PRIMARY KEY,
    user_code_hash    TEXT NOT NULL UNIQUE,
    client_id         TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scopes            TEXT NOT NULL DEFAULT '[]',
    status            TEXT NOT NULL DEFAULT 'pending',
    user_id           TEXT NOT NULL DEFAULT '',
    grant_id          TEXT NOT NULL DEFAULT '',
    granted_scopes    TEXT NOT NULL DEFAULT '[]',
    device_user_agent TEXT NOT NULL DEFAULT '',
    device_address    TEXT NOT NULL DEFAULT '',
    interval_seconds  INTEGER NOT NULL,
    last_polled_at    DATETIME,
    created_at        DATETIME NOT NULL,
    expires_at        DATETIME NOT NULL
);
CREATE INDEX device_codes_expires_at_idx ON device_codes (expires_at);

-- +goose Down
DROP TABLE device_codes;
ALTER TABLE clients DROP COLUMN jwks;
ALTER TABLE clients DROP COLUMN jwks_uri;
