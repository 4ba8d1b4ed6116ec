package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"syscall"
	"time"

	jose "github.com/go-jose/go-jose/v3"

	"github.com/petstore-auth/petstore-auth/pkg/clientmeta"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// jwksFetcher fetches and caches the JWK Sets of private_key_jwt clients
// (their jwks_uri). The URI is the client's, so the fetch is bounded: 5 s
// in all, 64 KiB of body, no redirects, no proxy, and — unless private
// addresses are allowed (development) — no connection to an address that
// is not clientmeta.PublicAddr (the one rule, shared with client metadata
// documents): loopback,
// private, link-local or otherwise non-public address, checked on the
// address actually dialled (after DNS), so a name that resolves inward
// cannot reach internal services.
type jwksFetcher struct {
	client *http.Client
	now    func() time.Time

	mu    sync.Mutex
	cache map[string]jwksEntry
}

type jwksEntry struct {
	set     *jose.JSONWebKeySet
	fetched time.Time
}

const (
	// jwksTTL is how long a fetched set is used before it is fetched again.
	jwksTTL = 5 * time.Minute
	// jwksMinRefresh spaces forced refetches (an assertion with an unknown
	// kid), so made-up kids cannot turn the server into a request pump.
	jwksMinRefresh = 30 * time.Second
)

var errNonPublicAddress = errors.New("jwks_uri resolves to a non-public address")

func newJWKSFetcher(allowPrivate bool, now func() time.Time) *jwksFetcher {
	dialer := &net.Dialer{Timeout: 3 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		if allowPrivate {
			return nil
		}
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !clientmeta.PublicAddr(ap.Addr()) {
			return errNonPublicAddress
		}
		return nil
	}}
	tr := &http.Transport{DialContext: dialer.DialContext, TLSHandshakeTimeout: 3 * time.Second,
		ResponseHeaderTimeout: 3 * time.Second, MaxResponseHeaderBytes: 16 << 10, DisableKeepAlives: true}
	return &jwksFetcher{now: now, cache: map[string]jwksEntry{}, client: &http.Client{
		Transport: tr, Timeout: 5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// keys returns the set at uri: from the cache while it is fresh, fetched
// otherwise. refresh asks for a new fetch (a kid the cached set lacks),
// honoured at most once per jwksMinRefresh.
func (f *jwksFetcher) keys(ctx context.Context, uri string, refresh bool) (*jose.JSONWebKeySet, error) {
	f.mu.Lock()
	e, ok := f.cache[uri]
	f.mu.Unlock()
	age := f.now().Sub(e.fetched)
	if ok && age < jwksTTL && (!refresh || age < jwksMinRefresh) {
		return e.set, nil
	}
	set, err := f.fetch(ctx, uri)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.cache[uri] = jwksEntry{set: set, fetched: f.now()}
	f.mu.Unlock()
	return set, nil
}

func (f *jwksFetcher) fetch(ctx context.Context, uri string) (*jose.JSONWebKeySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	res, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch jwks_uri: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch jwks_uri: status %d", res.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, identity.MaxJWKSSize+1))
	if err != nil {
		return nil, fmt.Errorf("fetch jwks_uri: %w", err)
	}
	if len(body) > identity.MaxJWKSSize {
		return nil, errors.New("fetch jwks_uri: the JWK Set is larger than 64 KiB")
	}
	return parseJWKS(body)
}

// parseJWKS reads a JWK Set and keeps its public signing keys.
func parseJWKS(doc []byte) (*jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(doc, &set); err != nil {
		return nil, fmt.Errorf("bad JWK Set: %w", err)
	}
	out := &jose.JSONWebKeySet{}
	for _, k := range set.Keys {
		if k.IsPublic() && k.Valid() && (k.Use == "" || k.Use == "sig") {
			out.Keys = append(out.Keys, k)
		}
	}
	return out, nil
}
