package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/dpop"
)

// DPoPReplay is the database's DPoP replay cache (dpop.Replay), shared
// by every replica on the same database: a proof key is taken by one
// statement (insert, or take over an expired row), so of two replicas
// racing on the same proof exactly one sees it fresh.
func (s *Store) DPoPReplay() dpop.Replay { return dpopReplay{s} }

type dpopReplay struct{ s *Store }

// Use implements dpop.Replay.
func (r dpopReplay) Use(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	sum := sha256.Sum256([]byte(key))
	now := dbTime(r.s.now())
	res := r.s.conn(ctx).Exec(`INSERT INTO dpop_proofs (key_hash, expires_at) VALUES (?, ?)
		ON CONFLICT (key_hash) DO UPDATE SET expires_at = excluded.expires_at WHERE dpop_proofs.expires_at <= ?`,
		hex.EncodeToString(sum[:]), now.Add(ttl), now)
	if res.Error != nil {
		return false, fmt.Errorf("store: record dpop proof: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}
