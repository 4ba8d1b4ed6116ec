-- +goose Up
-- OpenID Connect: a display name and a verified-email flag per user (the
-- profile and email claims), the ID token algorithm per client ('' is the
-- default, RS256), and fosite's OpenID Connect request of each
-- authorization code (keyed by the code's signature, like pkce_requests).
-- Existing users get no name and an unverified email; existing clients get
-- RS256 ID tokens.
ALTER TABLE users ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE clients ADD COLUMN id_token_signed_response_alg TEXT NOT NULL DEFAULT '';

CREATE TABLE oidc_requests (
    signature          TEXT PRIMARY KEY,
    request_id         TEXT NOT NULL,
    client_id          TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    subject            TEXT NOT NULL DEFAULT '',
    grant_id           TEXT REFERENCES grants (id) ON DELETE CASCADE,
    requested_at       TIMESTAMPTZ NOT NULL,
    expires_at         TIMESTAMPTZ,
    requested_scopes   TEXT NOT NULL DEFAULT '[]',
    granted_scopes     TEXT NOT NULL DEFAULT '[]',
    requested_audience TEXT NOT NULL DEFAULT '[]',
    granted_audience   TEXT NOT NULL DEFAULT '[]',
    form               TEXT NOT NULL DEFAULT '',
    session            TEXT NOT NULL DEFAULT '{}',
    active             BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE INDEX oidc_requests_client_id_idx ON oidc_requests (client_id);
CREATE INDEX oidc_requests_grant_id_idx ON oidc_requests (grant_id);
CREATE INDEX oidc_requests_expires_at_idx ON oidc_requests (expires_at);

-- +goose Down
DROP TABLE oidc_requests;
ALTER TABLE clients DROP COLUMN id_token_signed_response_alg;
ALTER TABLE users DROP COLUMN email_verified;
ALTER TABLE users DROP COLUMN name;
