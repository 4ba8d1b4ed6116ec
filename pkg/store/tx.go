package store

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/ory/fosite/storage"
	"gorm.io/gorm"
)

var _ storage.Transactional = (*Store)(nil)

type txKey struct{}

// txState is what BeginTX puts in the context. A BeginTX inside another
// opens a savepoint, so a nested Rollback undoes only its own work; inside
// a BeginFlatTX it joins the outer transaction instead.
type txState struct {
	tx        *gorm.DB
	savepoint string // "" for the outermost transaction
	// flat: nested BeginTX calls join this transaction (BeginFlatTX).
	flat bool
	// joined: this is a nested BeginTX of a flat transaction; its Commit
	// and Rollback leave the outer transaction to its owner.
	joined bool
	done   atomic.Bool
	// outer is the transaction a savepoint or a joined BeginTX is in; nil
	// for the outermost.
	outer *txState
	// emitted: security events were queued; the outermost Commit wakes
	// their waiters.
	emitted atomic.Bool
}

// rootState is the outermost transaction of st.
func (st *txState) rootState() *txState {
	for st.outer != nil {
		st = st.outer
	}
	return st
}

var savepointSeq atomic.Uint64

// errNoTx is returned by Commit and Rollback without a BeginTX context.
var errNoTx = errors.New("store: no transaction in context")

// BeginTX starts a transaction and returns a context carrying it. Every store
// method called with that context runs inside the transaction.
func (s *Store) BeginTX(ctx context.Context) (context.Context, error) {
	if outer, ok := ctx.Value(txKey{}).(*txState); ok && !outer.done.Load() {
		if outer.flat {
			return context.WithValue(ctx, txKey{}, &txState{tx: outer.tx, joined: true, outer: outer}), nil
		}
		name := fmt.Sprintf("sp_%d", savepointSeq.Add(1))
		if err := outer.tx.Exec("SAVEPOINT " + name).Error; err != nil {
			return ctx, fmt.Errorf("store: savepoint: %w", err)
		}
		return context.WithValue(ctx, txKey{}, &txState{tx: outer.tx, savepoint: name, outer: outer}), nil
	}
	tx := s.db.WithContext(ctx).Begin()
	if tx.Error != nil {
		return ctx, fmt.Errorf("store: begin transaction: %w", tx.Error)
	}
	return context.WithValue(ctx, txKey{}, &txState{tx: tx}), nil
}

// BeginFlatTX starts a transaction like BeginTX, in which nested BeginTX
// calls join instead of opening savepoints: two round trips fewer per
// nesting. Their Commit and Rollback do nothing, so the caller must roll
// back the whole transaction when any nested work fails (fosite's handlers
// return the error after their Rollback).
func (s *Store) BeginFlatTX(ctx context.Context) (context.Context, error) {
	ctx, err := s.BeginTX(ctx)
	if err != nil {
		return ctx, err
	}
	st := ctx.Value(txKey{}).(*txState)
	if st.savepoint != "" || st.joined {
		return ctx, errors.New("store: BeginFlatTX inside another transaction")
	}
	st.flat = true
	return ctx, nil
}

// Commit commits the transaction BeginTX put in ctx.
func (s *Store) Commit(ctx context.Context) error {
	st, ok := ctx.Value(txKey{}).(*txState)
	if !ok {
		return errNoTx
	}
	if !st.done.CompareAndSwap(false, true) {
		return fmt.Errorf("store: commit: %w", gorm.ErrInvalidTransaction)
	}
	if st.joined {
		return nil
	}
	if st.savepoint != "" {
		if err := st.tx.Exec("RELEASE SAVEPOINT " + st.savepoint).Error; err != nil {
			return fmt.Errorf("store: release savepoint: %w", err)
		}
		return nil
	}
	if err := st.tx.Commit().Error; err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	if st.emitted.Load() {
		s.events.signal()
	}
	return nil
}

// Rollback discards the transaction BeginTX put in ctx. Rolling back a
// transaction that already ended is a no-op, so deferred rollbacks are safe.
func (s *Store) Rollback(ctx context.Context) error {
	st, ok := ctx.Value(txKey{}).(*txState)
	if !ok {
		return errNoTx
	}
	if !st.done.CompareAndSwap(false, true) || st.joined {
		return nil
	}
	if st.savepoint != "" {
		if err := st.tx.Exec("ROLLBACK TO SAVEPOINT " + st.savepoint).Error; err != nil {
			return fmt.Errorf("store: rollback to savepoint: %w", err)
		}
		return nil
	}
	if err := st.tx.Rollback().Error; err != nil {
		return fmt.Errorf("store: rollback: %w", err)
	}
	return nil
}

// conn returns the transaction carried by ctx, or the pool bound to ctx.
func (s *Store) conn(ctx context.Context) *gorm.DB {
	if st, ok := ctx.Value(txKey{}).(*txState); ok {
		return st.tx.WithContext(ctx)
	}
	return s.db.WithContext(ctx)
}

// inTx runs fn in the caller's transaction when ctx carries one, else in a
// transaction of its own that commits when fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	if _, ok := ctx.Value(txKey{}).(*txState); ok {
		return fn(ctx)
	}
	txCtx, err := s.BeginTX(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			if rbErr := s.Rollback(txCtx); rbErr != nil {
				err = errors.Join(err, rbErr)
			}
		}
	}()
	if err = fn(txCtx); err != nil {
		return err
	}
	return s.Commit(txCtx)
}
