package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ory/fosite"
	"github.com/ory/fosite/storage"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

const (
	racers = 20
	rounds = 50
)

// race runs attempt in racers goroutines started together and returns how
// many succeeded. Every failure must be one of the allowed losing errors.
func race(t *testing.T, attempt func(i int) error, losing ...error) int {
	t.Helper()
	var (
		wins  atomic.Int32
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make(chan error, racers)
	)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := attempt(i)
			if err == nil {
				wins.Add(1)
				return
			}
			for _, l := range losing {
				if errors.Is(err, l) {
					return
				}
			}
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("unexpected error from a racer: %v", err)
	}
	return int(wins.Load())
}

// inTx runs fn the way fosite's handlers do: BeginTX, work, Commit, and
// Rollback on any error.
func inTx(s storage.Transactional, fn func(ctx context.Context) error) error {
	ctx, err := s.BeginTX(context.Background())
	if err != nil {
		return err
	}
	if err := fn(ctx); err != nil {
		if rbErr := s.Rollback(ctx); rbErr != nil {
			return errors.Join(err, rbErr)
		}
		return err
	}
	return s.Commit(ctx)
}

func testConcurrentCodeRedemption(t *testing.T, s Storage) {
	mustClient(t, s, "app")
	ctx := context.Background()
	for round := range rounds {
		code := fmt.Sprintf("code-%d", round)
		reqID := fmt.Sprintf("req-%d", round)
		if err := s.CreateAuthorizeCodeSession(ctx, code, newRequest("app", reqID, nil)); err != nil {
			t.Fatal(err)
		}
		wins := race(t, func(i int) error {
			return inTx(s, func(ctx context.Context) error {
				if err := s.InvalidateAuthorizeCodeSession(ctx, code); err != nil {
					return err
				}
				return s.CreateAccessTokenSession(ctx, fmt.Sprintf("at-%d-%d", round, i), newRequest("app", reqID, nil))
			})
		}, fosite.ErrInvalidatedAuthorizeCode)
		if wins != 1 {
			t.Fatalf("round %d: %d redemptions succeeded; want exactly 1", round, wins)
		}
	}
	st, err := s.Stats(ctx, timeZero)
	if err != nil {
		t.Fatal(err)
	}
	if st.TokensIssuedSince != rounds {
		t.Errorf("%d access tokens stored; want %d (losers must leave nothing behind)", st.TokensIssuedSince, rounds)
	}
}

func testConcurrentRefreshRotation(t *testing.T, s Storage) {
	mustClient(t, s, "app")
	ctx := context.Background()
	for round := range rounds {
		reqID := fmt.Sprintf("req-%d", round)
		old := fmt.Sprintf("rt-%d", round)
		if err := s.CreateRefreshTokenSession(ctx, old, "at-old", newRequest("app", reqID, nil)); err != nil {
			t.Fatal(err)
		}
		wins := race(t, func(i int) error {
			return inTx(s, func(ctx context.Context) error {
				if err := s.RotateRefreshToken(ctx, reqID, old); err != nil {
					return err
				}
				at := fmt.Sprintf("at-%d-%d", round, i)
				if err := s.CreateAccessTokenSession(ctx, at, newRequest("app", reqID, nil)); err != nil {
					return err
				}
				return s.CreateRefreshTokenSession(ctx, fmt.Sprintf("rt-%d-%d", round, i), at, newRequest("app", reqID, nil))
			})
		}, fosite.ErrSerializationFailure)
		if wins != 1 {
			t.Fatalf("round %d: %d rotations succeeded; want exactly 1", round, wins)
		}
	}
	// Exactly one live refresh token per chain.
	live := 0
	for round := range rounds {
		for i := range racers {
			_, err := s.GetRefreshTokenSession(ctx, fmt.Sprintf("rt-%d-%d", round, i), emptySession())
			switch {
			case err == nil:
				live++
			case !errors.Is(err, fosite.ErrNotFound):
				t.Fatalf("GetRefreshTokenSession: %v", err)
			}
		}
	}
	if live != rounds {
		t.Errorf("%d live successor refresh tokens; want %d", live, rounds)
	}
}

// testConcurrentWriters checks that parallel writers never see a locking
// error (SQLite's "database is locked").
func testConcurrentWriters(t *testing.T, s Storage) {
	const writers, writes = 32, 8
	mustClient(t, s, "app")
	var wg sync.WaitGroup
	errs := make(chan error, writers*writes)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for i := range writes {
				u := &identity.User{Email: fmt.Sprintf("w%d-%d@example.com", w, i)}
				if err := s.CreateUser(ctx, u); err != nil {
					errs <- fmt.Errorf("CreateUser: %w", err)
				}
				if err := s.RecordAudit(ctx, &identity.AuditEvent{Type: "test.write", UserID: u.ID}); err != nil {
					errs <- fmt.Errorf("RecordAudit: %w", err)
				}
				// Read before write inside a transaction: the pattern that
				// fails on SQLite with deferred transactions.
				err := inTx(s, func(ctx context.Context) error {
					if _, err := s.GetClient(ctx, "app"); err != nil {
						return err
					}
					sig := fmt.Sprintf("at-w%d-%d", w, i)
					if err := s.CreateAccessTokenSession(ctx, sig, newRequest("app", sig, nil)); err != nil {
						return err
					}
					return s.RevokeAccessToken(ctx, sig)
				})
				if err != nil {
					errs <- fmt.Errorf("token tx: %w", err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent writer: %v", err)
	}
	_, total, err := s.ListUsers(context.Background(), identity.UserFilter{})
	if err != nil || total != writers*writes {
		t.Errorf("users stored = %d, %v; want %d", total, err, writers*writes)
	}
}

// testConcurrentAccessTokens: access tokens stored at once outside a
// transaction (client_credentials under load) are each stored once and
// readable when their call returns; one whose signature is taken fails
// alone, and the token already stored under it is left as it was.
func testConcurrentAccessTokens(t *testing.T, s Storage) {
	ctx := context.Background()
	mustClient(t, s, "app")
	taken := emptySession()
	taken.Subject = "first"
	if err := s.CreateAccessTokenSession(ctx, "at-taken", newRequest("app", "req-taken", taken)); err != nil {
		t.Fatal(err)
	}
	const tokens = 96
	var wg sync.WaitGroup
	errs := make([]error, tokens)
	start := make(chan struct{})
	for i := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			sig, sess := fmt.Sprintf("at-c%d", i), emptySession()
			sess.Subject = fmt.Sprintf("sub-%d", i)
			if i == tokens/2 {
				sig = "at-taken"
			}
			errs[i] = s.CreateAccessTokenSession(ctx, sig, newRequest("app", "req-"+sig, sess))
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if i == tokens/2 {
			if err == nil {
				t.Error("a second token under a taken signature was stored")
			}
			continue
		}
		if err != nil {
			t.Errorf("token %d: %v", i, err)
			continue
		}
		req, err := s.GetAccessTokenSession(ctx, fmt.Sprintf("at-c%d", i), emptySession())
		if err != nil {
			t.Errorf("token %d not readable after its call returned: %v", i, err)
			continue
		}
		if got := req.GetSession().(*Session).Subject; got != fmt.Sprintf("sub-%d", i) {
			t.Errorf("token %d: subject %q, want sub-%d", i, got, i)
		}
	}
	req, err := s.GetAccessTokenSession(ctx, "at-taken", emptySession())
	if err != nil || req.GetSession().(*Session).Subject != "first" {
		t.Errorf("the token first stored under at-taken: %v, %v; want it unchanged", req, err)
	}
}
