package ratelimit

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Backoff is a failure throttle's policy (NIST SP 800-63B §5.2.2): the first
// Free failures of a key cost nothing; after that, each attempt must wait
// Base after the last failure, doubling with every further failure up to
// Max. A key is forgotten Forget after its last failure.
type Backoff struct {
	Free   int
	Base   time.Duration
	Max    time.Duration
	Forget time.Duration
}

// Delay is the wait after n failures.
func (b Backoff) Delay(n int) time.Duration {
	if n < b.Free {
		return 0
	}
	d := b.Base
	for i := b.Free; i < n && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// Throttle counts failures per key with growing delays. Charge an attempt
// before doing the work, so that parallel attempts are all counted, and
// Refund or Reset it when the attempt turned out to succeed.
type Throttle interface {
	// Charge counts one failure for key unless the key is within its
	// delay; then ok is false, nothing is counted and retryAfter says how
	// long the delay still lasts.
	Charge(ctx context.Context, key string, b Backoff) (ok bool, retryAfter time.Duration, err error)
	// Refund takes back one failure of key.
	Refund(ctx context.Context, key string) error
	// Reset forgets key.
	Reset(ctx context.Context, key string) error
	// Failures returns the failures counted for key.
	Failures(ctx context.Context, key string) (int, error)
}

var (
	_ Throttle = (*Memory)(nil)
	_ Throttle = (*Redis)(nil)
	_ Throttle = FailOpen{}
)

// failures is the in-process state of one throttle key.
type failures struct {
	n    int
	last time.Time
	keep time.Duration
}

// memBackoff is Memory's throttle state; a separate map from the windows
// so the two kinds of key never collide.
type memBackoff struct {
	mu    sync.Mutex
	keys  map[string]*failures
	sweep time.Time
}

func (m *Memory) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// get returns the live state of key (nil when none), dropping expired keys
// now and then so memory stays bounded. Call with m.bo.mu held.
func (m *Memory) get(key string, now time.Time) *failures {
	if m.bo.keys == nil {
		m.bo.keys = map[string]*failures{}
	}
	if now.Sub(m.bo.sweep) > time.Minute {
		for k, f := range m.bo.keys {
			if now.Sub(f.last) >= f.keep {
				delete(m.bo.keys, k)
			}
		}
		m.bo.sweep = now
	}
	f := m.bo.keys[key]
	if f != nil && now.Sub(f.last) >= f.keep {
		delete(m.bo.keys, key)
		return nil
	}
	return f
}

// Charge implements Throttle.
func (m *Memory) Charge(_ context.Context, key string, b Backoff) (bool, time.Duration, error) {
	now := m.now()
	m.bo.mu.Lock()
	defer m.bo.mu.Unlock()
	f := m.get(key, now)
	if f == nil {
		f = &failures{}
		m.bo.keys[key] = f
	}
	if d := b.Delay(f.n); d > 0 && now.Before(f.last.Add(d)) {
		return false, f.last.Add(d).Sub(now), nil
	}
	f.n++
	f.last, f.keep = now, b.Forget
	return true, 0, nil
}

// Refund implements Throttle.
func (m *Memory) Refund(_ context.Context, key string) error {
	m.bo.mu.Lock()
	defer m.bo.mu.Unlock()
	if f := m.get(key, m.now()); f != nil {
		f.n--
		if f.n <= 0 {
			delete(m.bo.keys, key)
		}
	}
	return nil
}

// Reset implements Throttle.
func (m *Memory) Reset(_ context.Context, key string) error {
	m.bo.mu.Lock()
	defer m.bo.mu.Unlock()
	delete(m.bo.keys, key)
	return nil
}

// Failures implements Throttle.
func (m *Memory) Failures(_ context.Context, key string) (int, error) {
	m.bo.mu.Lock()
	defer m.bo.mu.Unlock()
	if f := m.get(key, m.now()); f != nil {
		return f.n, nil
	}
	return 0, nil
}

// charge checks the delay and counts a failure in one atomic step, on
// Redis's clock so that replicas with skewed clocks agree.
var charge = redis.NewScript(`
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = tonumber(redis.call("HGET", KEYS[1], "n") or "0")
local last = tonumber(redis.call("HGET", KEYS[1], "t") or "0")
local free, base, maxd, forget = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if n >= free then
  local d = base
  for i = free + 1, n do
    if d >= maxd then break end
    d = d * 2
  end
  if d > maxd then d = maxd end
  if now < last + d then return {0, last + d - now} end
end
redis.call("HSET", KEYS[1], "n", n + 1, "t", now)
redis.call("PEXPIRE", KEYS[1], forget)
return {1, 0}`)

var refund = redis.NewScript(`
if redis.call("EXISTS", KEYS[1]) == 0 then return 0 end
local n = redis.call("HINCRBY", KEYS[1], "n", -1)
if n <= 0 then redis.call("DEL", KEYS[1]) end
return n`)

// Charge implements Throttle.
func (r *Redis) Charge(ctx context.Context, key string, b Backoff) (bool, time.Duration, error) {
	res, err := charge.Run(ctx, r.Client, []string{r.Prefix + "f:" + key},
		b.Free, b.Base.Milliseconds(), b.Max.Milliseconds(), max(b.Forget.Milliseconds(), 1)).Int64Slice()
	if err != nil {
		return false, 0, err
	}
	if res[0] == 0 {
		return false, time.Duration(res[1]) * time.Millisecond, nil
	}
	return true, 0, nil
}

// Refund implements Throttle.
func (r *Redis) Refund(ctx context.Context, key string) error {
	return refund.Run(ctx, r.Client, []string{r.Prefix + "f:" + key}).Err()
}

// Reset implements Throttle.
func (r *Redis) Reset(ctx context.Context, key string) error {
	return r.Client.Del(ctx, r.Prefix+"f:"+key).Err()
}

// Failures implements Throttle.
func (r *Redis) Failures(ctx context.Context, key string) (int, error) {
	n, err := r.Client.HGet(ctx, r.Prefix+"f:"+key, "n").Int()
	if err == redis.Nil {
		return 0, nil
	}
	return n, err
}

// throttles returns f's parts as throttles; ok is false when one is not.
func (f FailOpen) throttles() (shared, fallback Throttle, ok bool) {
	s, ok1 := f.Shared.(Throttle)
	b, ok2 := f.Fallback.(Throttle)
	return s, b, ok1 && ok2
}

// Charge implements Throttle, falling back to in-process counting while
// the shared store is unreachable.
func (f FailOpen) Charge(ctx context.Context, key string, b Backoff) (bool, time.Duration, error) {
	s, fb, ok := f.throttles()
	if !ok {
		return true, 0, errNotThrottle
	}
	allowed, retry, err := s.Charge(ctx, key, b)
	if err != nil {
		return fb.Charge(ctx, key, b)
	}
	return allowed, retry, nil
}

// Refund implements Throttle.
func (f FailOpen) Refund(ctx context.Context, key string) error {
	s, fb, ok := f.throttles()
	if !ok {
		return errNotThrottle
	}
	if err := s.Refund(ctx, key); err != nil {
		return fb.Refund(ctx, key)
	}
	return nil
}

// Reset implements Throttle.
func (f FailOpen) Reset(ctx context.Context, key string) error {
	s, fb, ok := f.throttles()
	if !ok {
		return errNotThrottle
	}
	// Forget what was counted in process during an outage too.
	if err := fb.Reset(ctx, key); err != nil {
		return err
	}
	// An unreachable shared store keeps its count; fail open as Charge does.
	_ = s.Reset(ctx, key)
	return nil
}

// Failures implements Throttle.
func (f FailOpen) Failures(ctx context.Context, key string) (int, error) {
	s, fb, ok := f.throttles()
	if !ok {
		return 0, errNotThrottle
	}
	n, err := s.Failures(ctx, key)
	if err != nil {
		return fb.Failures(ctx, key)
	}
	return n, nil
}

var errNotThrottle = errors.New("ratelimit: FailOpen parts are not throttles")
