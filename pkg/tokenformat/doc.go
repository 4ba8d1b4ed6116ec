// Package tokenformat is the shape of the opaque credentials petstore-auth
// issues: a greppable prefix, fosite's HMAC token and a checksum, so that a
// mistyped, truncated or made-up token is refused without a network call or
// a database lookup. The authorization server (pkg/provider) writes it and
// resource servers (pkg/bearer) check it; it imports only the standard
// library so that both can.
//
// A checksummed token is
//
//	prefix key "." signature "_" checksum
//
// where key and signature are fosite's unpadded base64url HMAC token (the
// signature is HMAC-SHA-512/256: always 43 characters) and checksum is the
// CRC-32 of everything before it in 6 base62 characters, the scheme API keys
// use. Tokens issued before checksums existed (legacy) are prefix key "."
// signature; the length of the last segment tells the two apart (43 legacy,
// 50 checksummed), and any other length is refused. The checksum is not
// a MAC: it catches accidents and random junk, not forgeries; the HMAC
// signature still decides.
package tokenformat
