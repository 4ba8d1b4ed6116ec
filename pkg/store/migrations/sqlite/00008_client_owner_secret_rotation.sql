-- +goose Up
-- owner_id: the user who registered the client on the developer page
-- (/account/apps); '' for clients made by an operator (CLI, admin), which
-- every existing client is.
ALTER TABLE clients ADD COLUMN owner_id TEXT NOT NULL DEFAULT '';
CREATE INDEX clients_owner_id_idx ON clients (owner_id);
-- The SHA-256 of the secret replaced by the last rotation and when it
-- stops authenticating the client (the rotation's grace period). NULL: no
-- previous secret, as for every existing client.
ALTER TABLE clients ADD COLUMN previous_secret_hash BLOB;
ALTER TABLE clients ADD COLUMN previous_secret_expires_at DATETIME;

-- +goose Down
DROP INDEX clients_owner_id_idx;
ALTER TABLE clients DROP COLUMN previous_secret_expires_at;
ALTER TABLE clients DROP COLUMN previous_secret_hash;
ALTER TABLE clients DROP COLUMN owner_id;
