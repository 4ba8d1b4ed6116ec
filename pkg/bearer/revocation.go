package bearer

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// revocationOverlap is subtracted from the server's clock for the next
// "since", so a revocation committed while a poll was running is not
// missed; seeing an entry twice is harmless.
const revocationOverlap = 60 * time.Second

// revocationList is the set of revoked JWT ids, each kept until its exp.
type revocationList struct {
	mu     sync.RWMutex // guards jtis and polled
	jtis   map[string]time.Time
	polled time.Time // last successful poll, by our clock

	pollMu    sync.Mutex // one poll at a time; guards since and attempted
	since     int64
	attempted time.Time
}

// Run polls the revocation list every RevocationPollInterval until ctx is
// done, so that revoked JWTs are refused within that interval. Failures are
// logged and retried; JWTs stay accepted until the list is older than
// RevocationMaxAge.
func (v *Verifier) Run(ctx context.Context) {
	v.init()
	t := time.NewTicker(v.RevocationPollInterval)
	defer t.Stop()
	for {
		if err := v.pollRevocations(ctx); err != nil && ctx.Err() == nil {
			v.Logger.WarnContext(ctx, "polling the JWT revocation list failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// isRevoked reports whether jti is on the list, refreshing the list first
// when it is older than RevocationMaxAge. A list that cannot be refreshed
// means ErrUnavailable: a revoked token must not pass because the
// authorization server is unreachable.
func (v *Verifier) isRevoked(ctx context.Context, jti string) (bool, error) {
	r := &v.revoke
	r.mu.RLock()
	_, revoked := r.jtis[jti]
	age := v.Now().Sub(r.polled)
	never := r.polled.IsZero()
	r.mu.RUnlock()
	if never || age > v.RevocationMaxAge {
		if err := v.refreshStaleRevocations(ctx); err != nil {
			return false, err
		}
		r.mu.RLock()
		_, revoked = r.jtis[jti]
		r.mu.RUnlock()
	}
	return revoked, nil
}

// refreshStaleRevocations polls unless another request just did, or just
// failed to (so an outage does not queue every request behind a 2 s call).
func (v *Verifier) refreshStaleRevocations(ctx context.Context) error {
	r := &v.revoke
	r.pollMu.Lock()
	defer r.pollMu.Unlock()
	now := v.Now()
	r.mu.RLock()
	fresh := !r.polled.IsZero() && now.Sub(r.polled) <= v.RevocationMaxAge
	r.mu.RUnlock()
	if fresh {
		return nil
	}
	if !r.attempted.IsZero() && now.Sub(r.attempted) < time.Second {
		return fmt.Errorf("%w: revocation list unavailable", ErrUnavailable)
	}
	return v.poll(ctx)
}

// pollRevocations polls unconditionally (Run's ticker).
func (v *Verifier) pollRevocations(ctx context.Context) error {
	v.revoke.pollMu.Lock()
	defer v.revoke.pollMu.Unlock()
	return v.poll(ctx)
}

// poll fetches the JWT ids revoked since the last poll, merges them and
// forgets the expired ones. The caller holds pollMu.
func (v *Verifier) poll(ctx context.Context) error {
	r := &v.revoke
	r.attempted = v.Now()
	var ans struct {
		Revoked []struct {
			JTI string `json:"jti"`
			Exp int64  `json:"exp"`
		} `json:"revoked"`
		Now int64 `json:"now"`
	}
	path := "/oauth2/revoked-jwts?since=" + strconv.FormatInt(r.since, 10)
	if err := v.call(ctx, "GET", path, nil, true, &ans); err != nil {
		return err
	}
	if ans.Now <= 0 {
		return fmt.Errorf("%w: revocation list without 'now'", ErrUnavailable)
	}
	now := v.Now()
	r.mu.Lock()
	for _, e := range ans.Revoked {
		if e.JTI != "" {
			// Keep entries past exp by the leeway: the token verifies until then.
			r.jtis[e.JTI] = time.Unix(e.Exp, 0).Add(Leeway)
		}
	}
	for jti, until := range r.jtis {
		if now.After(until) {
			delete(r.jtis, jti)
		}
	}
	r.polled = now
	r.mu.Unlock()
	r.since = max(0, ans.Now-int64(revocationOverlap/time.Second))
	return nil
}

// RevokedJWTs returns the number of revoked JWT ids currently remembered.
func (v *Verifier) RevokedJWTs() int {
	v.init()
	v.revoke.mu.RLock()
	defer v.revoke.mu.RUnlock()
	return len(v.revoke.jtis)
}
