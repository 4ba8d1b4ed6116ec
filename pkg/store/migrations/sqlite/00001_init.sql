-- +goose Up
-- Times are DATETIME so the driver returns time.Time; the store always
-- writes UTC, which keeps the driver's text encoding ordered.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL,
    password_hash TEXT NOT NULL DEFAULT '',
    admin         BOOLEAN NOT NULL DEFAULT FALSE,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_created_at_idx ON users (created_at);

CREATE TABLE clients (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL DEFAULT '',
    secret_hash    BLOB,
    redirect_uris  TEXT NOT NULL DEFAULT '[]',
    grant_types    TEXT NOT NULL DEFAULT '[]',
    scopes         TEXT NOT NULL DEFAULT '[]',
    audience       TEXT NOT NULL DEFAULT '[]',
    public         BOOLEAN NOT NULL DEFAULT FALSE,
    can_introspect BOOLEAN NOT NULL DEFAULT FALSE,
    token_format   TEXT NOT NULL DEFAULT 'opaque',
    disabled       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     DATETIME NOT NULL,
    updated_at     DATETIME NOT NULL
);
CREATE INDEX clients_created_at_idx ON clients (created_at);

CREATE TABLE grants (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id    TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scopes       TEXT NOT NULL DEFAULT '[]',
    remember     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   DATETIME NOT NULL,
    updated_at   DATETIME NOT NULL,
    last_used_at DATETIME NOT NULL,
    revoked_at   DATETIME
);
CREATE INDEX grants_user_id_idx ON grants (user_id);
CREATE INDEX grants_client_id_idx ON grants (client_id);
CREATE INDEX grants_created_at_idx ON grants (created_at);
-- At most one active grant per (user, client).
CREATE UNIQUE INDEX grants_active_key ON grants (user_id, client_id) WHERE revoked_at IS NULL;

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    owner_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL DEFAULT '',
    env          TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         BLOB NOT NULL,
    scopes       TEXT NOT NULL DEFAULT '[]',
    created_at   DATETIME NOT NULL,
    expires_at   DATETIME,
    last_used_at DATETIME,
    revoked_at   DATETIME
);
CREATE UNIQUE INDEX api_keys_hash_key ON api_keys (hash);
CREATE UNIQUE INDEX api_keys_prefix_key ON api_keys (prefix);
CREATE INDEX api_keys_owner_id_idx ON api_keys (owner_id);
CREATE INDEX api_keys_created_at_idx ON api_keys (created_at);

CREATE TABLE signing_keys (
    id                    TEXT PRIMARY KEY,
    algorithm             TEXT NOT NULL,
    encrypted_private_key BLOB NOT NULL,
    public_jwk            BLOB NOT NULL,
    created_at            DATETIME NOT NULL,
    retired_at            DATETIME
);
CREATE INDEX signing_keys_created_at_idx ON signing_keys (created_at);

CREATE TABLE revoked_jwts (
    jti        TEXT PRIMARY KEY,
    expires_at DATETIME NOT NULL,
    revoked_at DATETIME NOT NULL
);
CREATE INDEX revoked_jwts_expires_at_idx ON revoked_jwts (expires_at);
CREATE INDEX revoked_jwts_revoked_at_idx ON revoked_jwts (revoked_at);

CREATE TABLE client_assertion_jtis (
    jti        TEXT PRIMARY KEY,
    expires_at DATETIME NOT NULL
);
CREATE INDEX client_assertion_jtis_expires_at_idx ON client_assertion_jtis (expires_at);

CREATE TABLE audit_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    time       DATETIME NOT NULL,
    type       TEXT NOT NULL,
    outcome    TEXT NOT NULL DEFAULT '',
    actor_id   TEXT NOT NULL DEFAULT '',
    user_id    TEXT NOT NULL DEFAULT '',
    client_id  TEXT NOT NULL DEFAULT '',
    ip         TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    details    TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_time_idx ON audit_events (time);
CREATE INDEX audit_events_type_time_idx ON audit_events (type, time);
CREATE INDEX audit_events_user_id_idx ON audit_events (user_id);
CREATE INDEX audit_events_client_id_idx ON audit_events (client_id);

-- fosite request tables, keyed by the token signature (never the token).
CREATE TABLE authorize_codes (
    signature          TEXT PRIMARY KEY,
    request_id         TEXT NOT NULL,
    client_id          TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    subject            TEXT NOT NULL DEFAULT '',
    grant_id           TEXT REFERENCES grants (id) ON DELETE CASCADE,
    requested_at       DATETIME NOT NULL,
    expires_at         DATETIME,
    requested_scopes   TEXT NOT NULL DEFAULT '[]',
    granted_scopes     TEXT NOT NULL DEFAULT '[]',
    requested_audience TEXT NOT NULL DEFAULT '[]',
    granted_audience   TEXT NOT NULL DEFAULT '[]',
    form               TEXT NOT NULL DEFAULT '',
    session            TEXT NOT NULL DEFAULT '{}',
    active             BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE INDEX authorize_codes_request_id_idx ON authorize_codes (request_id);
CREATE INDEX authorize_codes_client_id_idx ON authorize_codes (client_id);
CREATE INDEX authorize_codes_grant_id_idx ON authorize_codes (grant_id);
CREATE INDEX authorize_codes_expires_at_idx ON authorize_codes (expires_at);

CREATE TABLE pkce_requests (
    signature          TEXT PRIMARY KEY,
    request_id         TEXT NOT NULL,
    client_id          TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    subject            TEXT NOT NULL DEFAULT '',
    grant_id           TEXT REFERENCES grants (id) ON DELETE CASCADE,
    requested_at       DATETIME NOT NULL,
    expires_at         DATETIME,
    requested_scopes   TEXT NOT NULL DEFAULT '[]',
    granted_scopes     TEXT NOT NULL DEFAULT '[]',
    requested_audience TEXT NOT NULL DEFAULT '[]',
    granted_audience   TEXT NOT NULL DEFAULT '[]',
    form               TEXT NOT NULL DEFAULT '',
    session            TEXT NOT NULL DEFAULT '{}',
    active             BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE INDEX pkce_requests_request_id_idx ON pkce_requests (request_id);
CREATE INDEX pkce_requests_client_id_idx ON pkce_requests (client_id);
CREATE INDEX pkce_requests_grant_id_idx ON pkce_requests (grant_id);
CREATE INDEX pkce_requests_expires_at_idx ON pkce_requests (expires_at);

CREATE TABLE access_tokens (
    signature          TEXT PRIMARY KEY,
    request_id         TEXT NOT NULL,
    client_id          TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    subject            TEXT NOT NULL DEFAULT '',
    grant_id           TEXT REFERENCES grants (id) ON DELETE CASCADE,
    requested_at       DATETIME NOT NULL,
    expires_at         DATETIME,
    requested_scopes   TEXT NOT NULL DEFAULT '[]',
    granted_scopes     TEXT NOT NULL DEFAULT '[]',
    requested_audience TEXT NOT NULL DEFAULT '[]',
    granted_audience   TEXT NOT NULL DEFAULT '[]',
    form               TEXT NOT NULL DEFAULT '',
    session            TEXT NOT NULL DEFAULT '{}',
    active             BOOLEAN NOT NULL DEFAULT TRUE,
    jti                TEXT
);
CREATE INDEX access_tokens_request_id_idx ON access_tokens (request_id);
CREATE INDEX access_tokens_client_id_idx ON access_tokens (client_id);
CREATE INDEX access_tokens_subject_idx ON access_tokens (subject);
CREATE INDEX access_tokens_grant_id_idx ON access_tokens (grant_id);
CREATE INDEX access_tokens_expires_at_idx ON access_tokens (expires_at);
CREATE INDEX access_tokens_requested_at_idx ON access_tokens (requested_at);
CREATE INDEX access_tokens_jti_idx ON access_tokens (jti);

CREATE TABLE refresh_tokens (
    signature              TEXT PRIMARY KEY,
    request_id             TEXT NOT NULL,
    client_id              TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    subject                TEXT NOT NULL DEFAULT '',
    grant_id               TEXT REFERENCES grants (id) ON DELETE CASCADE,
    requested_at           DATETIME NOT NULL,
    expires_at             DATETIME,
    requested_scopes       TEXT NOT NULL DEFAULT '[]',
    granted_scopes         TEXT NOT NULL DEFAULT '[]',
    requested_audience     TEXT NOT NULL DEFAULT '[]',
    granted_audience       TEXT NOT NULL DEFAULT '[]',
    form                   TEXT NOT NULL DEFAULT '',
    session                TEXT NOT NULL DEFAULT '{}',
    active                 BOOLEAN NOT NULL DEFAULT TRUE,
    access_token_signature TEXT NOT NULL DEFAULT '',
    rotated_at             DATETIME,
    rotation_sealed        BLOB
);
CREATE INDEX refresh_tokens_request_id_idx ON refresh_tokens (request_id);
CREATE INDEX refresh_tokens_client_id_idx ON refresh_tokens (client_id);
CREATE INDEX refresh_tokens_subject_idx ON refresh_tokens (subject);
CREATE INDEX refresh_tokens_grant_id_idx ON refresh_tokens (grant_id);
CREATE INDEX refresh_tokens_expires_at_idx ON refresh_tokens (expires_at);
CREATE INDEX refresh_tokens_rotated_at_idx ON refresh_tokens (rotated_at);

-- +goose Down
DROP TABLE refresh_tokens;
DROP TABLE access_tokens;
DROP TABLE pkce_requests;
DROP TABLE authorize_codes;
DROP TABLE audit_events;
DROP TABLE client_assertion_jtis;
DROP TABLE revoked_jwts;
DROP TABLE signing_keys;
DROP TABLE api_keys;
DROP TABLE grants;
DROP TABLE clients;
DROP TABLE users;
