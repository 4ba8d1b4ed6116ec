// Package clientmeta fetches client ID metadata documents
// (draft-ietf-oauth-client-id-metadata-document): a client whose client_id
// is an https URL publishes its metadata as JSON at that URL, and the
// authorization server fetches it instead of keeping a registration.
//
// Fetching a URL a stranger chose is a server-side request forgery risk.
// The Fetcher therefore:
//
//   - fetches https only (plain http to a loopback host in development
//     mode only);
//   - checks every address it connects to, after name resolution, at
//     connect time (net.Dialer.Control): never private, loopback,
//     link-local, unspecified, multicast or otherwise non-public addresses
//     in production, so a name that resolves to 10.0.0.1 or 127.0.0.1 —
//     or is rebound to one after a first lookup — is refused;
//   - follows no redirects, reads at most MaxBytes (5 KB) and gives up
//     after Timeout (3 s);
//   - caches answers per their Cache-Control max-age, bounded by MinTTL
//     and MaxTTL, and failures for FailTTL, so a client id cannot make
//     the server fetch on every request.
//
// It only fetches: what the document must contain is decided by
// pkg/manage (ClientFromDocument).
package clientmeta

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Defaults of the Fetcher's limits.
const (
	DefaultTimeout  = 3 * time.Second
	DefaultMaxBytes = 5 << 10
	DefaultMinTTL   = time.Minute
	DefaultMaxTTL   = 24 * time.Hour
	DefaultFailTTL  = 10 * time.Second
	// DefaultTTL applies when the answer has no max-age.
	DefaultTTL = 5 * time.Minute
	// maxEntries bounds the cache: a flood of made-up client ids empties
	// it rather than growing it.
	maxEntries = 10_000
)

// ErrRefused wraps every refusal of the Fetcher.
var ErrRefused = errors.New("client metadata document refused")

// Fetcher fetches and caches client ID metadata documents. The zero value
// is a production fetcher with the defaults; set the fields before first
// use.
type Fetcher struct {
	// Dev allows plain http to loopback hosts and connections to
	// non-public addresses (a developer's machine).
	Dev bool
	// Timeout bounds one fetch, connect to last byte (0: 3 s).
	Timeout time.Duration
	// MaxBytes is the largest document accepted (0: 5 KB).
	MaxBytes int64
	// MinTTL, MaxTTL bound how long an answer is cached; FailTTL is how
	// long a failure is (0: 1 min, 24 h, 10 s).
	MinTTL, MaxTTL, FailTTL time.Duration
	// RootCAs verifies servers (nil: the system pool); for tests.
	RootCAs *x509.CertPool
	// Resolve maps a host name to addresses (nil: the system resolver);
	// tests map names to chosen addresses.
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
	Now     func() time.Time

	once   sync.Once
	client *http.Client
	mu     sync.Mutex
	cache  map[string]entry
}

type entry struct {
	doc []byte
	err error
	exp time.Time
}

func (f *Fetcher) init() {
	f.once.Do(func() {
		if f.Timeout <= 0 {
			f.Timeout = DefaultTimeout
		}
		if f.MaxBytes <= 0 {
			f.MaxBytes = DefaultMaxBytes
		}
		if f.MinTTL <= 0 {
			f.MinTTL = DefaultMinTTL
		}
		if f.MaxTTL <= 0 {
			f.MaxTTL = DefaultMaxTTL
		}
		if f.FailTTL <= 0 {
			f.FailTTL = DefaultFailTTL
		}
		if f.Now == nil {
			f.Now = time.Now
		}
		if f.Resolve == nil {
			f.Resolve = func(ctx context.Context, host string) ([]netip.Addr, error) {
				return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
			}
		}
		f.cache = map[string]entry{}
		f.client = &http.Client{
			Transport: &http.Transport{
				DialContext:            f.dial,
				TLSClientConfig:        &tls.Config{RootCAs: f.RootCAs, MinVersion: tls.VersionTLS12},
				TLSHandshakeTimeout:    f.Timeout,
				ResponseHeaderTimeout:  f.Timeout,
				MaxResponseHeaderBytes: 16 << 10,
				DisableKeepAlives:      true,
				Proxy:                  nil, // never through a proxy: the address check is ours
			},
			// No redirects (draft §4): a document is at its own URL.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	})
}

// Fetch returns the document at clientID, from the cache while it is
// fresh. Every refusal wraps ErrRefused and says why.
func (f *Fetcher) Fetch(ctx context.Context, clientID string) ([]byte, error) {
	f.init()
	now := f.Now()
	f.mu.Lock()
	e, ok := f.cache[clientID]
	f.mu.Unlock()
	if ok && now.Before(e.exp) {
		return e.doc, e.err
	}
	doc, ttl, err := f.fetch(ctx, clientID)
	if err != nil {
		ttl = f.FailTTL
	}
	f.mu.Lock()
	if len(f.cache) >= maxEntries {
		f.cache = map[string]entry{}
	}
	f.cache[clientID] = entry{doc: doc, err: err, exp: now.Add(ttl)}
	f.mu.Unlock()
	return doc, err
}

func refused(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrRefused, fmt.Sprintf(format, args...))
}

func (f *Fetcher) fetch(ctx context.Context, clientID string) ([]byte, time.Duration, error) {
	u, err := url.Parse(clientID)
	if err != nil || u.Host == "" {
		return nil, 0, refused("%q is not a URL", clientID)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && f.Dev && isLoopbackName(u.Hostname()):
	default:
		return nil, 0, refused("%q: client ID metadata documents are fetched over https only", clientID)
	}
	ctx, cancel := context.WithTimeout(ctx, f.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, clientID, nil)
	if err != nil {
		return nil, 0, refused("%q: %v", clientID, err)
	}
	req.Header.Set("Accept", "application/json")
	res, err := f.client.Do(req)
	if err != nil {
		if errors.Is(err, ErrRefused) {
			return nil, 0, err
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, 0, refused("%q did not answer within %s", clientID, f.Timeout)
		}
		return nil, 0, refused("%q could not be fetched: %v", clientID, unwrapURLError(err))
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 && res.StatusCode < 400 {
		return nil, 0, refused("%q answered with a redirect (%d); redirects are not followed", clientID, res.StatusCode)
	}
	if res.StatusCode != http.StatusOK {
		return nil, 0, refused("%q answered %d", clientID, res.StatusCode)
	}
	if res.ContentLength > f.MaxBytes {
		return nil, 0, refused("%q is %d bytes; at most %d are accepted", clientID, res.ContentLength, f.MaxBytes)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, f.MaxBytes+1))
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, 0, refused("%q did not answer within %s", clientID, f.Timeout)
		}
		return nil, 0, refused("%q could not be read: %v", clientID, err)
	}
	if int64(len(body)) > f.MaxBytes {
		return nil, 0, refused("%q is larger than %d bytes", clientID, f.MaxBytes)
	}
	return body, f.ttl(res.Header.Get("Cache-Control")), nil
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// ttl reads max-age from Cache-Control (RFC 9111 §5.2.2.1) and bounds it;
// no-store and no-cache get the minimum.
func (f *Fetcher) ttl(cc string) time.Duration {
	d := DefaultTTL
	for _, dir := range strings.Split(cc, ",") {
		dir = strings.ToLower(strings.TrimSpace(dir))
		switch {
		case dir == "no-store" || dir == "no-cache":
			return f.MinTTL
		case strings.HasPrefix(dir, "max-age="):
			if n, err := strconv.ParseInt(strings.Trim(dir[len("max-age="):], `"`), 10, 64); err == nil && n >= 0 {
				d = time.Duration(min(n, int64(f.MaxTTL/time.Second)+1)) * time.Second
			}
		}
	}
	return min(max(d, f.MinTTL), f.MaxTTL)
}

// dial resolves the host itself and connects only to allowed addresses;
// the dialer's Control checks again the address the socket is about to
// connect to, so no path (a literal, a resolver answer) bypasses the rule.
func (f *Fetcher) dial(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, refused("bad address %q", address)
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else if addrs, err = f.Resolve(ctx, host); err != nil {
		return nil, refused("%s does not resolve: %v", host, err)
	}
	d := &net.Dialer{Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !f.allowed(ap.Addr()) {
			return refused("connecting to %s is not allowed (not a public address)", address)
		}
		return nil
	}}
	last := refused("%s has no address", host)
	for _, a := range addrs {
		a = a.Unmap()
		if !f.allowed(a) {
			last = refused("%s resolves to %s, which is not a public address", host, a)
			continue
		}
		c, err := d.DialContext(ctx, network, net.JoinHostPort(a.String(), port))
		if err == nil {
			return c, nil
		}
		last = err
	}
	return nil, last
}

// allowed reports whether the fetcher may connect to a: in development
// mode any address; in production public unicast addresses only.
func (f *Fetcher) allowed(a netip.Addr) bool {
	if f.Dev {
		return true
	}
	return PublicAddr(a)
}

// PublicAddr reports whether a is a public unicast address: not loopback,
// private (RFC 1918, RFC 4193), link-local, unspecified, multicast,
// carrier-grade NAT (RFC 6598), documentation or benchmarking space, nor
// an IPv4-mapped or NAT64 form of one.
func PublicAddr(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

var nonPublic = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15", "198.51.100.0/24",
		"203.0.113.0/24", "240.0.0.0/4", "255.255.255.255/32",
		"64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32", "2002::/16", "fc00::/7", "fec0::/10",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

func isLoopbackName(h string) bool {
	if h == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.IsLoopback()
}
