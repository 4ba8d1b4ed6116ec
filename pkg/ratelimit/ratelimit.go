// Package ratelimit counts requests per key in fixed windows, and failures
// per key with growing delays (Throttle), in process or shared between
// replicas through Redis. Fixed windows are the one scheme
// that is a single atomic INCR in Redis, so every replica sees the same
// count; the price (up to twice the limit across a window boundary) is
// acceptable for abuse protection.
package ratelimit

import (
	"context"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Limiter decides whether one more event for key is allowed.
type Limiter interface {
	// Allow counts one event and reports whether it is within limit per
	// window; when not, retryAfter says when the window ends.
	Allow(ctx context.Context, key string, limit int, window time.Duration) (ok bool, retryAfter time.Duration, err error)
}

// Peeker reads a count without adding to it, for budgets that are charged
// only after the outcome of a request is known (failed authentications,
// authenticated clients) but must be checked before the work is done.
type Peeker interface {
	// Peek returns the events counted for key in the current window and
	// how long that window still runs (0 and 0 when there is none).
	Peek(ctx context.Context, key string, window time.Duration) (count int, retryAfter time.Duration, err error)
}

// Memory is an in-process Limiter. Counters are exact under concurrency.
type Memory struct {
	Now func() time.Time

	mu      sync.Mutex
	windows map[string]*window
	sweep   time.Time

	bo memBackoff
}

type window struct {
	start time.Time
	count int
}

var (
	_ Limiter = (*Memory)(nil)
	_ Peeker  = (*Memory)(nil)
)

// Peek implements Peeker.
func (m *Memory) Peek(_ context.Context, key string, per time.Duration) (int, time.Duration, error) {
	now := time.Now()
	if m.Now != nil {
		now = m.Now()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.windows[key]
	if w == nil || now.Sub(w.start) >= per {
		return 0, 0, nil
	}
	return w.count, w.start.Add(per).Sub(now), nil
}

// Allow implements Limiter.
func (m *Memory) Allow(_ context.Context, key string, limit int, per time.Duration) (bool, time.Duration, error) {
	now := time.Now()
	if m.Now != nil {
		now = m.Now()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.windows == nil {
		m.windows = map[string]*window{}
	}
	// Drop finished windows now and then so memory stays bounded by the
	// number of keys active in the last window.
	if now.Sub(m.sweep) > per {
		for k, w := range m.windows {
			if now.Sub(w.start) >= per {
				delete(m.windows, k)
			}
		}
		m.sweep = now
	}
	w := m.windows[key]
	if w == nil || now.Sub(w.start) >= per {
		w = &window{start: now}
		m.windows[key] = w
	}
	w.count++
	if w.count > limit {
		return false, w.start.Add(per).Sub(now), nil
	}
	return true, 0, nil
}

// Redis is a Limiter shared by every replica that uses the same Redis.
type Redis struct {
	Client *redis.Client
	Prefix string // e.g. "petstore:rl:"
}

var (
	_ Limiter = (*Redis)(nil)
	_ Peeker  = (*Redis)(nil)
)

// peek reads a counter and its remaining lifetime in one round trip.
var peek = redis.NewScript(`
local n = redis.call("GET", KEYS[1])
if not n then return {0, 0} end
return {tonumber(n), redis.call("PTTL", KEYS[1])}`)

// Peek implements Peeker.
func (r *Redis) Peek(ctx context.Context, key string, _ time.Duration) (int, time.Duration, error) {
	res, err := peek.Run(ctx, r.Client, []string{r.Prefix + key}).Int64Slice()
	if err != nil {
		return 0, 0, err
	}
	if res[1] < 0 {
		res[1] = 0
	}
	return int(res[0]), time.Duration(res[1]) * time.Millisecond, nil
}

// incr counts and sets the expiry of a new window in one round trip.
var incr = redis.NewScript(`
local n = redis.call("INCR", KEYS[1])
if n == 1 then redis.call("PEXPIRE", KEYS[1], ARGV[1]) end
return {n, redis.call("PTTL", KEYS[1])}`)

// Allow implements Limiter.
func (r *Redis) Allow(ctx context.Context, key string, limit int, per time.Duration) (bool, time.Duration, error) {
	res, err := incr.Run(ctx, r.Client, []string{r.Prefix + key}, per.Milliseconds()).Int64Slice()
	if err != nil {
		return false, 0, err
	}
	if res[0] > int64(limit) {
		return false, time.Duration(res[1]) * time.Millisecond, nil
	}
	return true, 0, nil
}

// FailOpen wraps a shared limiter so that an unreachable Redis falls back to
// in-process counting instead of refusing every request.
type FailOpen struct {
	Shared   Limiter
	Fallback Limiter
}

// Allow implements Limiter.
func (f FailOpen) Allow(ctx context.Context, key string, limit int, per time.Duration) (bool, time.Duration, error) {
	ok, retry, err := f.Shared.Allow(ctx, key, limit, per)
	if err != nil {
		return f.Fallback.Allow(ctx, key, limit, per)
	}
	return ok, retry, nil
}

// Peek implements Peeker; either limiter that cannot peek reads as empty.
func (f FailOpen) Peek(ctx context.Context, key string, per time.Duration) (int, time.Duration, error) {
	if p, ok := f.Shared.(Peeker); ok {
		if n, retry, err := p.Peek(ctx, key, per); err == nil {
			return n, retry, nil
		}
	}
	if p, ok := f.Fallback.(Peeker); ok {
		return p.Peek(ctx, key, per)
	}
	return 0, 0, nil
}
