-- +goose Up
-- Browser origins (besides those of the redirect URIs) from which a public
-- client may call the token and revocation endpoints (CORS); a JSON array
-- like redirect_uris. Existing clients get none.
ALTER TABLE clients ADD COLUMN allowed_origins TEXT NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE clients DROP COLUMN allowed_origins;
