-- +goose Up
-- private_key_jwt client authentication (RFC 7523 §2.2): the method, and
-- where the client's public keys are (a jwks_uri, or the JWK Set itself).
-- Existing clients keep authenticating with their secret (or none).
ALTER TABLE clients ADD COLUMN token_endpoint_auth_method TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN jwks_uri TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN jwks TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE clients DROP COLUMN jwks;
ALTER TABLE clients DROP COLUMN jwks_uri;
ALTER TABLE clients DROP COLUMN token_endpoint_auth_method;
