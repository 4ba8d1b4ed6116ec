package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Both is a request limiter that is also a failure throttle; what FromURL
// returns (Memory or FailOpen) also implements Peeker.
type Both interface {
	Limiter
	Throttle
}

// FromURL is the one builder of the limiter both programs use: in Redis
// when redisURL is set, so that replicas share the counts (keys under
// prefix), falling back to in-process counting while Redis is unreachable;
// in process when redisURL is empty. A Redis that does not answer at start
// is an error, so a typo in the URL is found at once.
func FromURL(ctx context.Context, redisURL, prefix string, now func() time.Time) (Both, error) {
	mem := &Memory{Now: now}
	if redisURL == "" {
		return mem, nil
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
	return FailOpen{Shared: &Redis{Client: c, Prefix: prefix}, Fallback: mem}, nil
}
