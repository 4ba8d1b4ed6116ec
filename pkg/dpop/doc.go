// Package dpop checks DPoP proofs (RFC 9449) for the authorization server
// and for resource servers alike. It imports nothing of the authorization
// server (DESIGN §2): pkg/bearer uses it too.
//
// A check is Parse (the JWS itself: typ dpop+jwt, alg ES256, RS256 or
// EdDSA, a public JWK in the header that verifies the signature, the claims
// present) followed by Validator.Check (htm, htu, iat window, ath, nonce,
// jti replay). Replay caches (Memory, Redis) are keyed by the key's
// thumbprint and the jti and keep an entry for the whole iat window, so a
// proof is accepted at most once by every replica sharing the cache.
// Server nonces (Nonces) are a MAC of a time bucket under a key derived from
// a shared secret: replicas agree on them without sharing any state.
package dpop
