// Package identity is the domain vocabulary of PetStore Auth: users, OAuth
// clients, grants, API keys, signing keys and audit events, the store
// interfaces the rest of the server consumes, and the error codes that the
// HTTP edge turns into statuses.
//
// It imports only the standard library so that every other package can depend
// on it without dragging in fosite, gorm or net/http.
package identity
