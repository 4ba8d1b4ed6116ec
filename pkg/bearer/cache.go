package bearer

import (
	"sync"
	"time"
)

// cacheEntry is one introspection answer: a principal, or the reason the
// credential was refused.
type cacheEntry struct {
	principal *Principal
	err       error
	expires   time.Time
	// jti and kid of a verified JWT: a cached JWT is still checked against
	// the revocation list and the current key set on every use. jti is
	// also an introspected credential's id; revocation events drop
	// entries by it (dropID).
	jti, kid string
}

// evictionSample is how many random entries are compared when the cache is
// full (the Redis approximated-LRU idea, by expiry).
const evictionSample = 8

// cache maps SHA-256(token) to answers. It is bounded: when full, the entry
// expiring soonest among a few random ones (Go's map iteration order) makes
// room, in O(1).
type cache struct {
	mu  sync.Mutex
	max int
	m   map[[32]byte]cacheEntry
	ids map[string][32]byte // jti → key of the entries that have one
}

func newCache(max int) *cache {
	return &cache{max: max, m: make(map[[32]byte]cacheEntry), ids: make(map[string][32]byte)}
}

// remove deletes an entry and its id. The caller holds mu.
func (c *cache) remove(k [32]byte) {
	if e, ok := c.m[k]; ok && e.jti != "" && c.ids[e.jti] == k {
		delete(c.ids, e.jti)
	}
	delete(c.m, k)
}

// drop deletes the entry of k.
func (c *cache) drop(k [32]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.remove(k)
}

// dropID deletes the entry whose credential id is id, if any.
func (c *cache) dropID(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if k, ok := c.ids[id]; ok {
		c.remove(k)
	}
}

func (c *cache) get(k [32]byte, now time.Time) (cacheEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		return cacheEntry{}, false
	}
	if !now.Before(e.expires) {
		c.remove(k)
		return cacheEntry{}, false
	}
	return e, true
}

func (c *cache) put(k [32]byte, e cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		var victim [32]byte
		var soonest time.Time
		n := 0
		for key, old := range c.m {
			if n == 0 || old.expires.Before(soonest) {
				victim, soonest = key, old.expires
			}
			if n++; n == evictionSample {
				break
			}
		}
		c.remove(victim)
	}
	c.remove(k)
	c.m[k] = e
	if e.jti != "" {
		c.ids[e.jti] = k
	}
}

func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
