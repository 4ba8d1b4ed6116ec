// Package bearer is the resource server's side of PetStore Auth: it checks
// the credential in "Authorization: Bearer …" and answers with RFC 6750
// errors. It knows the authorization server only over HTTP and imports
// nothing of it.
//
// The credential's shape decides how it is checked:
//
//	sk_live_… / sk_test_…  apikey.Parse (typos rejected locally), then introspection
//	xxx.yyy.zzz            JWT (RFC 9068) verified locally against the JWKS,
//	                       plus the polled list of revoked JWT ids
//	pst_at_…               tokenformat.Open (checksum; typos and made-up
//	                       tokens rejected locally), then introspection (RFC 7662)
//	anything else          rejected locally (401 invalid_token)
//
// Introspection answers are cached under SHA-256 of the token (never the
// token) for min(CacheTTL, exp-now); inactive answers for NegativeTTL, in a
// bounded cache of their own so that unknown tokens never evict known ones.
// Scopes are checked on every request, never cached as a decision
// (Oathkeeper CVE-2021-32701). When the authorization server cannot be
// reached the verifier fails closed with 503 and Retry-After.
//
// Revocation takes effect within CacheTTL for opaque tokens and API keys,
// and within RevocationPollInterval for JWTs when Run is running (without
// Run, within RevocationMaxAge). If the revocation list cannot be refreshed
// for RevocationMaxAge, JWTs are refused with 503 rather than trusted blindly.
package bearer
