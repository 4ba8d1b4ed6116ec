// Package proxytest runs the shipped binaries behind a real reverse proxy:
// petstore-auth and petstore-api built with `go build`, nginx (Debian's
// package) terminating TLS in front of them with the configuration in
// testdata/nginx.conf (the one the README shows), production mode with an
// https issuer and trusted_proxies: 127.0.0.1/32. It has no code of its own.
//
// Without nginx on PATH (or in /usr/sbin) the test is skipped, unless CI is
// set (as in CI): then it fails, so CI cannot silently lose it.
package proxytest
