package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ory/fosite"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// DefaultClientCacheTTL is how long GetClient answers from memory when
// Options.ClientCacheTTL is zero.
const DefaultClientCacheTTL = 3 * time.Second

// clientCacheMax bounds the cache: a flood of made-up client ids empties it
// rather than growing it.
const clientCacheMax = 10_000

// clientLoader loads one fosite client; *Store's uncached load and
// clientCache both are one.
type clientLoader interface {
	GetClient(ctx context.Context, id string) (fosite.Client, error)
}

// clientCache is a fosite.ClientManager decorator that answers GetClient
// from memory for ttl: every token, revocation and introspection request
// loads its client, and a code redemption loads it again for each stored
// request (code, PKCE) it reads, while the row rarely changes. Only found
// clients are kept, so an unknown id always reaches the database, and an
// update or delete through the same Store evicts the entry at once; other
// processes (CLI, other replicas) see a change within ttl.
type clientCache struct {
	next clientLoader
	ttl  time.Duration
	now  func() time.Time

	mu sync.Mutex
	m  map[string]cachedClient
}

type cachedClient struct {
	c   fosite.Client
	exp time.Time
}

var _ clientLoader = (*clientCache)(nil)

func newClientCache(next clientLoader, ttl time.Duration, now func() time.Time) *clientCache {
	return &clientCache{next: next, ttl: ttl, now: now, m: map[string]cachedClient{}}
}

// GetClient implements fosite.ClientManager's GetClient.
func (cc *clientCache) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	now := cc.now()
	cc.mu.Lock()
	e, ok := cc.m[id]
	cc.mu.Unlock()
	if ok && now.Before(e.exp) {
		return e.c, nil
	}
	c, err := cc.next.GetClient(ctx, id)
	if err != nil {
		return nil, err
	}
	cc.mu.Lock()
	if len(cc.m) >= clientCacheMax {
		cc.m = map[string]cachedClient{}
	}
	cc.m[id] = cachedClient{c: c, exp: now.Add(cc.ttl)}
	cc.mu.Unlock()
	return c, nil
}

// forget evicts id after the client changed.
func (cc *clientCache) forget(id string) {
	cc.mu.Lock()
	delete(cc.m, id)
	cc.mu.Unlock()
}

// uncachedClients is the Store's own load, the decorator's inner layer.
type uncachedClients struct{ s *Store }

// GetClient returns the client as a *Client. Disabled and unknown clients
// are both fosite.ErrNotFound, so a disabled client can neither start a
// flow nor use its existing tokens.
func (u uncachedClients) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	if !storableText(id) {
		return nil, fosite.ErrNotFound
	}
	if u.s.resolveURLClient != nil && identity.IsMetadataDocumentID(id) {
		c, err := u.s.resolveURLClient(ctx, id)
		switch code := identity.ErrorCode(err); {
		case err == nil:
			return NewClient(c, u.s.now), nil
		case code == identity.EINVALID || code == identity.ENOTFOUND:
			// A refused or bad document is an unknown client (invalid_client),
			// not an outage; the reason goes to the log.
			u.s.log.InfoContext(ctx, "client metadata document refused", "client_id", id, "reason", identity.ErrorMessage(err))
			return nil, fmt.Errorf("%w: %s", fosite.ErrNotFound, identity.ErrorMessage(err))
		default:
			return nil, err
		}
	}
	var row clientRow
	if err := u.s.conn(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, fositeErr(err, "get client")
	}
	if row.Disabled {
		return nil, fosite.ErrNotFound
	}
	return NewClient(row.toIdentity(), u.s.now), nil
}

// SetClientResolver makes GetClient load clients whose id is an http(s)
// URL with fn (client ID metadata documents; pkg/server wires the fetcher
// and manage's rules). Call it before serving.
func (s *Store) SetClientResolver(fn func(ctx context.Context, id string) (*identity.Client, error)) {
	s.resolveURLClient = fn
}
