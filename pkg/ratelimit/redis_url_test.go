package ratelimit

import (
	"context"
	"os"
	"testing"
	"time"
)

// TestFromURL: no URL counts in process; a malformed or unreachable URL is
// an error at start (not a silent fallback); a reachable Redis is shared,
// with the in-process fallback behind it.
func TestFromURL(t *testing.T) {
	ctx := context.Background()
	l, err := FromURL(ctx, "", "t:", nil)
	if _, ok := l.(*Memory); err != nil || !ok {
		t.Fatalf("no URL: %T %v, want *Memory", l, err)
	}
	if _, err := FromURL(ctx, "http://not-redis", "t:", nil); err == nil {
		t.Fatal("a non-redis URL was accepted")
	}
	if _, err := FromURL(ctx, "redis://127.0.0.1:1/0", "t:", nil); err == nil {
		t.Fatal("an unreachable Redis was accepted")
	}
	addr := os.Getenv("PETSTORE_TEST_REDIS_ADDR")
	if addr == "" {
		t.Skip("PETSTORE_TEST_REDIS_ADDR not set")
	}
	l, err = FromURL(ctx, "redis://"+addr+"/0", "fromurl-test:"+time.Now().Format("150405.000000")+":", nil)
	if err != nil {
		t.Fatal(err)
	}
	fo, ok := l.(FailOpen)
	if !ok {
		t.Fatalf("%T, want FailOpen", l)
	}
	if _, ok := fo.Shared.(*Redis); !ok {
		t.Fatalf("shared %T, want *Redis", fo.Shared)
	}
	if ok, _, err := l.Allow(ctx, "k", 1, time.Minute); !ok || err != nil {
		t.Fatalf("first request: %v %v", ok, err)
	}
	if ok, _, _ := l.Allow(ctx, "k", 1, time.Minute); ok {
		t.Fatal("second request within the limit of 1 was allowed")
	}
}
