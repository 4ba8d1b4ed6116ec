// Package tlstest serves the TLS tests of petstore-auth and petstore-api:
// a throw-away self-signed certificate, and one table of handshakes that
// both servers must answer alike (TLS 1.2+ only, forward-secret AEAD
// suites only). It imports nothing of either server.
package tlstest
