-- +goose Up
-- What the account page lists of each signed-in session: a public id (the
-- OpenID Connect sid claim; not a secret, unlike the session id kept only
-- as a hash), the browser's User-Agent (cut to 256 bytes) and client
-- address at sign-in, and when the session was last seen (written at most
-- once a minute per session). Sessions of the previous release get a
-- random sid and were last seen when they started.
ALTER TABLE browser_sessions ADD COLUMN sid TEXT NOT NULL DEFAULT '';
ALTER TABLE browser_sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE browser_sessions ADD COLUMN ip TEXT NOT NULL DEFAULT '';
ALTER TABLE browser_sessions ADD COLUMN last_seen_at TIMESTAMPTZ;
UPDATE browser_sessions SET sid = md5(random()::text || clock_timestamp()::text || id_hash) WHERE sid = '';
UPDATE browser_sessions SET last_seen_at = created_at WHERE last_seen_at IS NULL;
CREATE UNIQUE INDEX browser_sessions_sid_idx ON browser_sessions (sid);

-- +goose Down
DROP INDEX browser_sessions_sid_idx;
ALTER TABLE browser_sessions DROP COLUMN last_seen_at;
ALTER TABLE browser_sessions DROP COLUMN ip;
ALTER TABLE browser_sessions DROP COLUMN user_agent;
ALTER TABLE browser_sessions DROP COLUMN sid;
