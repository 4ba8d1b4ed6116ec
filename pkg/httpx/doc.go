// Package httpx is the authorization server's side of the HTTP plumbing:
// it maps identity errors onto the one JSON error shape and code→status map
// of pkg/httpkit, caps request bodies, sheds overload, bounds request time
// and sets the security headers. The plumbing the resource server shares
// (request ids, access log, recovery, the error writer) is in pkg/httpkit.
package httpx
