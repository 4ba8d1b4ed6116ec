// Package clientaddr gives the address of the client behind a request: the
// one place every rate limit, throttle, audit record and session reads it.
package clientaddr

import (
	"net"
	"net/http"
)

// Of returns the client's IP address for r (no port). Until a trusted-proxy
// middleware is in front, it is the TCP peer.
func Of(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
