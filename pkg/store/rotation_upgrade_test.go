package store_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/store"
	"github.com/petstore-auth/petstore-auth/pkg/store/storetest"
)

// TestUpgradeKeepsRotations: migration 00014 moves the sealed successor
// pairs out of refresh_tokens; a pair kept by the release before it is
// still replayable afterwards, and swept like a new one.
func TestUpgradeKeepsRotations(t *testing.T) {
	urls := map[string]func(testing.TB) string{
		"sqlite": func(tb testing.TB) string { return "sqlite://" + filepath.Join(tb.TempDir(), "u.db") },
	}
	if os.Getenv(storetest.PostgresEnv) != "" {
		urls["postgres"] = storetest.PostgresURL
	}
	rotatedAt := time.Now().UTC().Add(-5 * time.Second).Truncate(time.Second)
	for name, newURL := range urls {
		t.Run(name, func(t *testing.T) {
			storetest.Upgrade{From: 13, NewURL: newURL,
				Seed: func(t *testing.T, s *store.Store) {
					ctx := context.Background()
					if err := s.CreateClient(ctx, &identity.Client{ID: "app", Name: "App", Public: true,
						RedirectURIs: []string{"https://app.example/cb"}, TokenFormat: identity.TokenFormatOpaque}); err != nil {
						t.Fatal(err)
					}
					req := &fosite.Request{ID: "req-1", RequestedAt: rotatedAt, Client: &fosite.DefaultClient{ID: "app"},
						Session: &fosite.DefaultSession{}}
					for _, sig := range []string{"rt-old", "rt-plain"} {
						if err := s.CreateRefreshTokenSession(ctx, sig, "at-1", req); err != nil {
							t.Fatal(err)
						}
					}
				},
				// The previous release kept the pair in the rotated row.
				BeforeUpgrade: func(t *testing.T, db *sql.DB) {
					q := "UPDATE refresh_tokens SET active = ?, rotated_at = ?, rotation_sealed = ? WHERE signature = ?"
					if name == "postgres" {
						q = "UPDATE refresh_tokens SET active = $1, rotated_at = $2, rotation_sealed = $3 WHERE signature = $4"
					}
					if _, err := db.Exec(q, false, rotatedAt, []byte("sealed-pair"), "rt-old"); err != nil {
						t.Fatal(err)
					}
				},
				Check: func(t *testing.T, s *store.Store) {
					ctx := context.Background()
					rot, err := s.RotationOf(ctx, "rt-old")
					if err != nil || string(rot.Sealed) != "sealed-pair" || !rot.RotatedAt.Equal(rotatedAt) ||
						rot.RequestID != "req-1" || rot.ClientID != "app" {
						t.Fatalf("RotationOf after the upgrade = %+v, %v", rot, err)
					}
					if _, err := s.RotationOf(ctx, "rt-plain"); err == nil {
						t.Error("a token never rotated has a kept pair after the upgrade")
					}
					if n, err := s.ClearRotations(ctx, time.Now()); err != nil || n != 1 {
						t.Errorf("ClearRotations = %d, %v; want 1", n, err)
					}
				},
			}.Run(t)
		})
	}
}
