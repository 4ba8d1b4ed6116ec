-- +goose Up
-- Signed-in browser sessions, by SHA-256 of the session id, so that logout
-- ends every copy of the session cookie (the cookie alone would stay valid
-- until it expires).
CREATE TABLE browser_sessions (
    id_hash    TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at DATETIME NOT NULL,
    expires_at DATETIME NOT NULL
);
CREATE INDEX browser_sessions_user_idx ON browser_sessions (user_id);
CREATE INDEX browser_sessions_expires_idx ON browser_sessions (expires_at);

-- +goose Down
DROP TABLE browser_sessions;
