package store

import (
	"context"
	"sync"
	"time"

	"github.com/ory/fosite"
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
	var row clientRow
	if err := u.s.conn(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, fositeErr(err, "get client")
	}
	if row.Disabled {
		return nil, fosite.ErrNotFound
	}
	return NewClient(row.toIdentity(), u.s.now), nil
}
