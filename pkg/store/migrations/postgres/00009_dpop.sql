-- +goose Up
-- DPoP (RFC 9449): a client registered dpop_bound must prove possession of
-- a key at the token endpoint. Existing clients are not bound.
ALTER TABLE clients ADD COLUMN dpop_bound BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE clients DROP COLUMN dpop_bound;
