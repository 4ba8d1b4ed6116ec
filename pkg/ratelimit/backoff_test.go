package ratelimit

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

var testBackoff = Backoff{Free: 5, Base: time.Minute, Max: 8 * time.Minute, Forget: time.Hour}

func TestBackoffDelay(t *testing.T) {
	for n, want := range map[int]time.Duration{0: 0, 4: 0, 5: time.Minute, 6: 2 * time.Minute, 7: 4 * time.Minute, 8: 8 * time.Minute, 9: 8 * time.Minute, 1000: 8 * time.Minute} {
		if got := testBackoff.Delay(n); got != want {
			t.Errorf("Delay(%d) = %v, want %v", n, got, want)
		}
	}
}

// exerciseThrottle: 100 parallel charges of one key let exactly Free
// through; the next is refused with the delay; a refund makes room for one
// more; a reset forgets the key; keys are independent.
func exerciseThrottle(t *testing.T, th Throttle, key string) {
	t.Helper()
	ctx := context.Background()
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			ok, retry, err := th.Charge(ctx, key, testBackoff)
			if err != nil {
				t.Error(err)
			}
			if ok {
				allowed.Add(1)
			} else if retry <= 0 || retry > time.Minute+time.Second {
				// (a parallel charge may stamp its failure a few µs after
				// this one read the clock, so the wait can exceed Base by that)
				t.Errorf("refused with retryAfter %v", retry)
			}
		})
	}
	wg.Wait()
	if allowed.Load() != int64(testBackoff.Free) {
		t.Fatalf("100 parallel failures: %d charged, want %d", allowed.Load(), testBackoff.Free)
	}
	if n, err := th.Failures(ctx, key); err != nil || n != testBackoff.Free {
		t.Fatalf("Failures = %d, %v", n, err)
	}
	if err := th.Refund(ctx, key); err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := th.Charge(ctx, key, testBackoff); !ok {
		t.Fatal("refunded attempt did not make room")
	}
	if ok, _, _ := th.Charge(ctx, key+"-other", testBackoff); !ok {
		t.Fatal("keys are not independent")
	}
	if err := th.Reset(ctx, key); err != nil {
		t.Fatal(err)
	}
	if n, _ := th.Failures(ctx, key); n != 0 {
		t.Fatalf("after Reset: %d failures", n)
	}
	if ok, _, _ := th.Charge(ctx, key, testBackoff); !ok {
		t.Fatal("reset key still throttled")
	}
}

func TestMemoryThrottle(t *testing.T) { exerciseThrottle(t, &Memory{}, "acct:1") }

// The delay doubles with every failure after the free ones and ends; the
// key is forgotten after Forget.
func TestMemoryThrottleDelaysGrow(t *testing.T) {
	now := time.Unix(1000, 0)
	m := &Memory{Now: func() time.Time { return now }}
	ctx := context.Background()
	for range testBackoff.Free {
		if ok, _, _ := m.Charge(ctx, "k", testBackoff); !ok {
			t.Fatal("free failure refused")
		}
	}
	for i, want := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 8 * time.Minute} {
		ok, retry, _ := m.Charge(ctx, "k", testBackoff)
		if ok || retry != want {
			t.Fatalf("step %d: ok=%v retry=%v, want a refusal for %v", i, ok, retry, want)
		}
		now = now.Add(retry - time.Second)
		if ok, _, _ := m.Charge(ctx, "k", testBackoff); ok {
			t.Fatalf("step %d: allowed before the delay ended", i)
		}
		now = now.Add(time.Second)
		if ok, _, _ := m.Charge(ctx, "k", testBackoff); !ok {
			t.Fatalf("step %d: refused after the delay", i)
		}
	}
	now = now.Add(testBackoff.Forget)
	if n, _ := m.Failures(ctx, "k"); n != 0 {
		t.Fatalf("%d failures remembered after Forget", n)
	}
}

func redisForTest(t *testing.T) *Redis {
	addr := os.Getenv("PETSTORE_TEST_REDIS_ADDR")
	if addr == "" {
		t.Skip("PETSTORE_TEST_REDIS_ADDR not set")
	}
	r := &Redis{Client: redis.NewClient(&redis.Options{Addr: addr}), Prefix: "test:" + time.Now().Format("150405.000000") + ":"}
	if err := r.Client.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("PETSTORE_TEST_REDIS_ADDR set but Redis unreachable: %v", err)
	}
	return r
}

// TestRedisThrottleShared: the same behaviour in Redis, and a second client
// (another replica) sees the first one's failures.
func TestRedisThrottleShared(t *testing.T) {
	a := redisForTest(t)
	exerciseThrottle(t, a, "acct:1")
	b := &Redis{Client: redis.NewClient(&redis.Options{Addr: a.Client.Options().Addr}), Prefix: a.Prefix}
	for range testBackoff.Free - 1 {
		a.Charge(context.Background(), "acct:2", testBackoff)
	}
	if ok, _, _ := b.Charge(context.Background(), "acct:2", testBackoff); !ok {
		t.Fatal("last free failure refused")
	}
	if ok, retry, _ := a.Charge(context.Background(), "acct:2", testBackoff); ok || retry <= 0 {
		t.Fatal("a replica does not see the other's failures")
	}
}

func TestFailOpenThrottleFallsBack(t *testing.T) {
	dead := &Redis{Client: redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond, MaxRetries: -1}), Prefix: "x:"}
	exerciseThrottle(t, FailOpen{Shared: dead, Fallback: &Memory{}}, "acct:3")
}
