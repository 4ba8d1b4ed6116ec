-- +goose Up
-- OpenID Connect RP-Initiated Logout 1.0 and Back-Channel Logout 1.0.
-- Where end_session may send the browser back to (a JSON array like
-- redirect_uris), and where the client receives logout tokens. Existing
-- clients get none.
ALTER TABLE clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]';
ALTER TABLE clients ADD COLUMN backchannel_logout_uri TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN backchannel_logout_session_required BOOLEAN NOT NULL DEFAULT FALSE;

-- Which clients were issued an ID token in which browser session (sid, the
-- public session id): the clients to notify when that session ends.
CREATE TABLE oidc_session_clients (
    sid        TEXT NOT NULL,
    client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at DATETIME NOT NULL,
    expires_at DATETIME NOT NULL,
    PRIMARY KEY (sid, client_id)
);
CREATE INDEX oidc_session_clients_user_idx ON oidc_session_clients (user_id);
CREATE INDEX oidc_session_clients_expires_idx ON oidc_session_clients (expires_at);

-- Logout tokens still to deliver (an outbox): one row per client and
-- event. The token is signed at each attempt from these claims, so no
-- credential is stored. A worker claims a due row by setting lease_until
-- with a guarded update, so one replica delivers it; a row is deleted when
-- delivered or given up (the audit log keeps the outcome).
CREATE TABLE backchannel_logout_outbox (
    id              TEXT PRIMARY KEY,
    client_id       TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    subject         TEXT NOT NULL,
    sid             TEXT NOT NULL DEFAULT '',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DATETIME NOT NULL,
    lease_until     DATETIME,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL
);
CREATE INDEX backchannel_logout_outbox_due_idx ON backchannel_logout_outbox (next_attempt_at);

-- +goose Down
DROP TABLE backchannel_logout_outbox;
DROP TABLE oidc_session_clients;
ALTER TABLE clients DROP COLUMN backchannel_logout_session_required;
ALTER TABLE clients DROP COLUMN backchannel_logout_uri;
ALTER TABLE clients DROP COLUMN post_logout_redirect_uris;
