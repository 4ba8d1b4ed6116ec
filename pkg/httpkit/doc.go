// Package httpkit is the HTTP plumbing both programs share — the
// authorization server (petstore-auth) and the resource server
// (petstore-api): the one JSON error shape and its code→status map,
// request ids, the access log, panic recovery, status recording and
// serve-with-graceful-shutdown.
//
// It is a leaf: it imports the standard library, httpsnoop and clientaddr
// (itself standard-library only), and nothing of either server, so the
// resource server may use it without linking the authorization server
// (DESIGN §2). The authorization server's identity errors reach it through
// pkg/httpx, which maps an error to its code.
package httpkit
