package dpop

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Replay remembers used proofs. Use records key for ttl and reports
// whether it was new; an error means the cache could not answer (the
// caller refuses the request as unavailable, never accepts it).
type Replay interface {
	Use(ctx context.Context, key string, ttl time.Duration) (fresh bool, err error)
}

// replayKey hashes the caller's key so that Redis keys have a fixed size.
func replayKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// Memory is an in-process Replay: enough for one replica.
type Memory struct {
	Now func() time.Time

	mu    sync.Mutex
	seen  map[[32]byte]time.Time // SHA-256 of the key -> expiry
	sweep time.Time
}

// Use implements Replay.
func (m *Memory) Use(_ context.Context, key string, ttl time.Duration) (bool, error) {
	now := time.Now()
	if m.Now != nil {
		now = m.Now()
	}
	k := sha256.Sum256([]byte(key))
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil {
		m.seen = map[[32]byte]time.Time{}
	}
	if now.After(m.sweep) {
		for k, exp := range m.seen {
			if !now.Before(exp) {
				delete(m.seen, k)
			}
		}
		m.sweep = now.Add(ttl)
	}
	if exp, ok := m.seen[k]; ok && now.Before(exp) {
		return false, nil
	}
	m.seen[k] = now.Add(ttl)
	return true, nil
}

// Redis is a Replay shared by every replica using the same Redis: SET NX
// with an expiry, one round trip.
type Redis struct {
	Client redis.UniversalClient
	Prefix string // e.g. "petstore:dpop:"
}

// Use implements Replay.
func (r *Redis) Use(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	return r.Client.SetNX(ctx, r.Prefix+replayKey(key), 1, ttl).Result()
}

// ReplayFromURL is the shared replay cache of a program configured with
// redisURL: a Redis one (keys under prefix), or nil when redisURL is ""
// (the caller picks its own: the database at the authorization server,
// memory at a single API replica). An unreachable Redis at start is an
// error; later, a check that cannot reach it fails closed (503), never
// accepting a proof it could not record.
func ReplayFromURL(ctx context.Context, redisURL, prefix string) (Replay, error) {
	if redisURL == "" {
		return nil, nil
	}
	o, err := redis.ParseURL(redisURL)
	if err != nil {
		return nil, fmt.Errorf("redis_url: %w", err)
	}
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout = time.Second, 500*time.Millisecond, 500*time.Millisecond
	c := redis.NewClient(o)
	if err := c.Ping(ctx).Err(); err != nil {
		return nil, fmt.Errorf("redis_url: Redis unreachable: %w", err)
	}
	return &Redis{Client: c, Prefix: prefix}, nil
}
