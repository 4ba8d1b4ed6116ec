// Package petstore is the PetStore resource server's domain and HTTP API:
// pets that belong to the caller (the credential's subject), stored in the
// API's own database through database/sql (SQLite by default, or
// PostgreSQL). It never opens the authorization server's database; who the
// caller is comes from pkg/bearer.
//
//	GET    /v1/pets        read:pets   list the caller's pets (?limit=, ?cursor= or ?offset=)
//	GET    /v1/pets/{id}   read:pets
//	POST   /v1/pets        write:pets  {"name":…,"species":…,"age":…} → 201 + Location
//	DELETE /v1/pets/{id}   write:pets  204; 404 for pets of others
//	GET    /healthz                    liveness
//	GET    /readyz                     database reachable
//
// Another owner's pet answers 404, exactly like a missing one, so ids cannot
// be probed across accounts.
package petstore
