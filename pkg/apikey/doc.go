// Package apikey defines the format of PetStore API keys: generation,
// parsing, hashing and the non-secret display prefix. It is shared by the
// authorization server (which generates and stores hashes) and the resource
// server (which rejects malformed keys before any network call), so it uses
// the standard library only.
//
// A key looks like
//
//	sk_live_<43 base62 chars: 256 random bits><6 base62 chars: CRC32>
//
// The prefix makes keys greppable for secret scanners and tells live keys
// from test keys; the CRC32 of prefix+body (the GitHub token-format design)
// lets a scanner or server reject a mistyped or truncated key offline. The
// checksum is not a secret and adds no security; the 256 random bits do.
package apikey
