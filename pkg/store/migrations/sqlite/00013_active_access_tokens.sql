-- +goose Up
-- A refresh rotation revokes the active access tokens of its request id.
-- Every token of a refresh chain shares that id, so the plain index made
-- the revoke visit the whole chain; this one holds the active tokens only
-- (queries must say "active = 1" as a literal to use it).
CREATE INDEX access_tokens_active_request_idx ON access_tokens (request_id) WHERE active = 1;

-- +goose Down
DROP INDEX access_tokens_active_request_idx;
