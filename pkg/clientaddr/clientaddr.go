// Package clientaddr gives the address and scheme of the client behind a
// request: the one place every rate limit, throttle, audit record, access
// log and session reads them.
//
// Behind a TLS-terminating reverse proxy the TCP peer is the proxy. Middleware
// then takes the client from the proxy's headers, but only when the peer is
// one of the configured trusted proxies (RFC 9700 §4.13; RFC 7239):
//
//   - X-Forwarded-For and X-Forwarded-Proto, which nginx, HAProxy and the
//     cloud load balancers set;
//   - without X-Forwarded-For, Forwarded (RFC 7239 §4): the for= and proto=
//     parameters of its elements.
//
// X-Forwarded-For comes first because proxies that set only it pass a
// client's own Forwarded header through untouched; a proxy that sets only
// Forwarded must drop X-Forwarded-For from clients.
//
// The hops are read right to left and the first one that is not itself a
// trusted proxy is the client: everything to its left was written by the
// client and can be forged. From any other peer these headers are ignored.
//
// The package uses the standard library only: petstore-api imports it too.
package clientaddr

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

type ctxKey struct{}

// Of returns the client's IP address for r (no port): the one Middleware
// derived, else the TCP peer.
func Of(r *http.Request) string {
	if c, ok := r.Context().Value(ctxKey{}).(Client); ok {
		return c.Addr
	}
	return peer(r)
}

// Bucket returns the key under which rate limits and throttles count r's
// client: its IPv4 address, or the /64 network of an IPv6 address, since one
// subscriber is routinely given a whole /64 (RFC 6177) and could otherwise
// step to a fresh address for every request.
func Bucket(r *http.Request) string {
	a, err := netip.ParseAddr(Of(r))
	if err != nil {
		return Of(r)
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.WithZone("").Prefix(64)
	return p.String()
}

// Scheme returns "https" or "http": what the client used to reach the first
// trusted proxy when Middleware saw X-Forwarded-Proto or Forwarded proto=
// from one, else whether this connection is TLS.
func Scheme(r *http.Request) string {
	if c, ok := r.Context().Value(ctxKey{}).(Client); ok && c.Scheme != "" {
		return c.Scheme
	}
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

func peer(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// ParsePrefixes parses a comma-separated list of CIDR prefixes; a bare
// address is a /32 (IPv4) or /128 (IPv6). Blank items are skipped; every bad
// item is reported.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	var bad []string
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		p, err := ParsePrefix(item)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%q", item))
			continue
		}
		out = append(out, p)
	}
	if len(bad) > 0 {
		return out, fmt.Errorf("not an IP address or CIDR prefix: %s", strings.Join(bad, ", "))
	}
	return out, nil
}

// ParsePrefix parses one CIDR prefix or bare address (a single-address
// prefix). The prefix is masked, so 10.1.2.3/8 means 10.0.0.0/8.
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if p.Addr().Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q: zones are not allowed", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q: zones are not allowed", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Middleware records the client's address and scheme for Of and Scheme. With
// no trusted proxies it records the TCP peer and the connection's scheme.
// Put it outside everything that reads the client address.
func Middleware(trusted []netip.Prefix) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, Resolve(r, trusted))))
		})
	}
}

// Client is the result of Resolve.
type Client struct {
	Addr   string // IP address without port
	Scheme string // "https" or "http"
}

// Resolve derives the client of r given the trusted proxies, without
// touching the request: the TCP peer unless it is trusted, in which case
// X-Forwarded-For and X-Forwarded-Proto when X-Forwarded-For is present,
// else the Forwarded header (RFC 7239).
func Resolve(r *http.Request, trusted []netip.Prefix) Client {
	c := Client{Addr: peer(r), Scheme: "http"}
	if r.TLS != nil {
		c.Scheme = "https"
	}
	peerAddr, err := netip.ParseAddr(c.Addr)
	if err != nil || !isTrusted(peerAddr, trusted) {
		return c
	}
	var hops []hop
	if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		hops = parseXFF(xff, r.Header.Values("X-Forwarded-Proto"))
	} else if fw := r.Header.Values("Forwarded"); len(fw) > 0 {
		hops = parseForwarded(fw)
	} else if p := lastProto(r.Header.Values("X-Forwarded-Proto")); p != "" {
		c.Scheme = p // a proxy that only tells the scheme
	}
	// Right to left: skip our own proxies; the first other hop is the client.
	// A hop we cannot parse stops the walk: whoever wrote it is not to be
	// believed further left, so the client is the last proxy we trusted.
	for i := len(hops) - 1; i >= 0; i-- {
		h := hops[i]
		if h.proto != "" { // written by the trusted proxy right of this hop
			c.Scheme = h.proto
		}
		if !h.addr.IsValid() {
			return c
		}
		c.Addr = h.addr.Unmap().String()
		if !isTrusted(h.addr, trusted) {
			return c
		}
	}
	return c
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	a = a.Unmap().WithZone("")
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// hop is one proxy hop: the address it received the request from and, when
// known, the scheme of that request.
type hop struct {
	addr  netip.Addr // invalid: unknown, obfuscated or malformed
	proto string
}

// maxHops bounds the work a long header can cause.
const maxHops = 64

// parseXFF reads X-Forwarded-For (all field lines, comma-separated). The
// right-most X-Forwarded-Proto value belongs to the right-most hop (the one
// our trusted peer added); other hops get no scheme.
func parseXFF(xff, xfp []string) []hop {
	var hops []hop
	for _, line := range xff {
		for _, item := range strings.Split(line, ",") {
			if len(hops) == maxHops {
				hops = hops[1:]
			}
			hops = append(hops, hop{addr: parseNode(strings.TrimSpace(item))})
		}
	}
	if len(hops) > 0 {
		hops[len(hops)-1].proto = lastProto(xfp)
	}
	return hops
}

// lastProto is the right-most X-Forwarded-Proto value when it is http or
// https.
func lastProto(values []string) string {
	if len(values) == 0 {
		return ""
	}
	items := strings.Split(values[len(values)-1], ",")
	return normProto(items[len(items)-1])
}

func normProto(s string) string {
	switch p := strings.ToLower(strings.TrimSpace(s)); p {
	case "http", "https":
		return p
	}
	return ""
}

// parseForwarded reads the elements of Forwarded header lines (RFC 7239 §4):
// forwarded-element = [ pair ] *( ";" [ pair ] ), elements separated by
// commas, values tokens or quoted strings.
func parseForwarded(lines []string) []hop {
	var hops []hop
	for _, line := range lines {
		for _, elem := range splitQuoted(line, ',') {
			if len(hops) == maxHops {
				hops = hops[1:]
			}
			var h hop
			for _, pair := range splitQuoted(elem, ';') {
				name, value, ok := strings.Cut(pair, "=")
				if !ok {
					continue
				}
				value = unquote(strings.TrimSpace(value))
				switch strings.ToLower(strings.TrimSpace(name)) {
				case "for":
					h.addr = parseNode(value)
				case "proto":
					h.proto = normProto(value)
				}
			}
			hops = append(hops, h)
		}
	}
	return hops
}

// splitQuoted splits s at sep outside double-quoted strings.
func splitQuoted(s string, sep byte) []string {
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if quoted {
				i++
			}
		case '"':
			quoted = !quoted
		case sep:
			if !quoted {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// unquote removes the quotes and backslash escapes of an RFC 7230
// quoted-string; other values are returned as they are.
func unquote(s string) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return s
	}
	s = s[1 : len(s)-1]
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// parseNode parses an address as proxies write it: "192.0.2.1",
// "192.0.2.1:4711", "[2001:db8::1]", "[2001:db8::1]:4711" or "2001:db8::1"
// (RFC 7239 §6 node). Obfuscated identifiers and "unknown" give an invalid
// address.
func parseNode(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr()
	}
	if strings.HasPrefix(s, "[") {
		if end := strings.IndexByte(s, ']'); end > 0 {
			rest := s[end+1:]
			if rest != "" && rest[0] != ':' {
				return netip.Addr{}
			}
			s = s[1:end]
		}
	} else if host, _, err := net.SplitHostPort(s); err == nil && strings.Count(s, ":") == 1 {
		s = host // "192.0.2.1:_obf" style ports
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}
	}
	return a
}
