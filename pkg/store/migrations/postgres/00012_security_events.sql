-- +goose Up
-- Revocations pushed to resource servers: Security Event Tokens (RFC 8417)
-- delivered by polling (RFC 8936) on OpenID Shared Signals 1.0 streams.
-- A stream is one receiver (an API replica), owned by the resource-server
-- client that created it; it is deleted when idle past a limit.
CREATE TABLE ssf_streams (
    id         TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    polled_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX ssf_streams_client_idx ON ssf_streams (client_id);
CREATE INDEX ssf_streams_polled_idx ON ssf_streams (polled_at);

-- Events waiting on a stream until acknowledged: written in the
-- transaction that revokes the credential, one row per stream. event is
-- the SET's claims without iss, aud and jti (no secret: credential ids
-- only); the SET is signed when delivered.
CREATE TABLE ssf_events (
    seq       BIGSERIAL PRIMARY KEY,
    stream_id TEXT NOT NULL REFERENCES ssf_streams (id) ON DELETE CASCADE,
    jti       TEXT NOT NULL,
    event     TEXT NOT NULL
);
CREATE UNIQUE INDEX ssf_events_stream_jti_idx ON ssf_events (stream_id, jti);

-- +goose Down
DROP TABLE ssf_events;
DROP TABLE ssf_streams;
