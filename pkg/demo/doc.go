// Package demo is "MyApp — Pet Journal", a third-party web app that
// connects to PetStore the way any outside developer would: over HTTP only,
// with golang.org/x/oauth2 as the OAuth client.
//
//	GET  /           invitation to connect, or the user's pets
//	GET  /connect    new state (130 bits) + PKCE S256 verifier in the session → 303 to /oauth2/auth
//	GET  /callback   state checked and consumed, iss required and equal to the issuer (RFC 9207),
//	                 access_denied shown kindly, code exchanged → tokens in the session
//	POST /pets       add a pet (POST /v1/pets)
//	POST /disconnect revoke the refresh and access token (RFC 7009), forget them
//
// Sessions live in memory on the server; the browser holds only a random
// session id (HttpOnly, SameSite=Lax, Secure and __Host- unless MyApp runs
// on plain-http loopback). Tokens never reach the browser. A restart
// forgets every session: fine for a demo, and no token lands on disk.
//
// API calls send the access token; on a 401 MyApp refreshes once and
// retries. A refused refresh (invalid_grant: revoked or expired) drops the
// tokens and sends the user back to "Connect" with an explanation. Forms
// carry a per-session CSRF token and pass http.CrossOriginProtection.
package demo
