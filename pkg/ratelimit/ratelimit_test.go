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

func exercise(t *testing.T, l Limiter, key string) {
	t.Helper()
	ctx := context.Background()
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, _, err := l.Allow(ctx, key, 10, time.Minute)
			if err != nil {
				t.Error(err)
			}
			if ok {
				allowed.Add(1)
			}
		}()
	}
	wg.Wait()
	if allowed.Load() != 10 {
		t.Fatalf("100 parallel events with a limit of 10: %d allowed", allowed.Load())
	}
	if p, isPeeker := l.(Peeker); isPeeker {
		// Peeking reads the count without adding to it.
		for range 2 {
			n, retry, err := p.Peek(ctx, key, time.Minute)
			if err != nil || n != 100 || retry <= 0 || retry > time.Minute {
				t.Fatalf("Peek after 100 events: n=%d retry=%v err=%v", n, retry, err)
			}
		}
		if n, retry, err := p.Peek(ctx, key+"-unused", time.Minute); err != nil || n != 0 || retry != 0 {
			t.Fatalf("Peek of an unused key: n=%d retry=%v err=%v", n, retry, err)
		}
	}
	ok, retry, _ := l.Allow(ctx, key, 10, time.Minute)
	if ok || retry <= 0 || retry > time.Minute {
		t.Fatalf("over the limit: ok=%v retryAfter=%v", ok, retry)
	}
	if ok, _, _ := l.Allow(ctx, key+"-other", 10, time.Minute); !ok {
		t.Fatal("keys are not independent")
	}
}

func TestMemoryCountsEveryParallelEvent(t *testing.T) { exercise(t, &Memory{}, "ip:1") }

func TestMemoryWindowEnds(t *testing.T) {
	now := time.Unix(1000, 0)
	m := &Memory{Now: func() time.Time { return now }}
	for range 3 {
		m.Allow(context.Background(), "k", 3, time.Minute)
	}
	if ok, _, _ := m.Allow(context.Background(), "k", 3, time.Minute); ok {
		t.Fatal("fourth event allowed")
	}
	now = now.Add(time.Minute)
	if ok, _, _ := m.Allow(context.Background(), "k", 3, time.Minute); !ok {
		t.Fatal("new window still limited")
	}
}

// TestRedisSharedAcrossClients: two clients (as two replicas would) share
// one count.
func TestRedisSharedAcrossClients(t *testing.T) {
	addr := os.Getenv("PETSTORE_TEST_REDIS_ADDR")
	if addr == "" {
		t.Skip("PETSTORE_TEST_REDIS_ADDR not set")
	}
	a := &Redis{Client: redis.NewClient(&redis.Options{Addr: addr}), Prefix: "test:" + time.Now().Format("150405.000000") + ":"}
	if err := a.Client.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("PETSTORE_TEST_REDIS_ADDR set but Redis unreachable: %v", err)
	}
	exercise(t, a, "ip:1")
	b := &Redis{Client: redis.NewClient(&redis.Options{Addr: addr}), Prefix: a.Prefix}
	if ok, _, _ := b.Allow(context.Background(), "ip:1", 10, time.Minute); ok {
		t.Fatal("a second replica does not see the first one's count")
	}
}

func TestFailOpenFallsBack(t *testing.T) {
	dead := &Redis{Client: redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond, MaxRetries: -1}), Prefix: "x:"}
	exercise(t, FailOpen{Shared: dead, Fallback: &Memory{}}, "ip:2")
}
