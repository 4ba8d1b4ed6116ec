package storetest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// testClientOwnersAndRotation (00008): a client keeps its owner, ListClients
// filters by owner, and the previous secret of a rotation round-trips and
// is offered to fosite (GetRotatedHashes) only until it expires.
func testClientOwnersAndRotation(t *testing.T, s Storage) {
	ctx := context.Background()
	mk := func(id, owner string) *identity.Client {
		_, hash := identity.NewClientSecret()
		c := &identity.Client{ID: id, Name: id, SecretHash: hash, OwnerID: owner, RedirectURIs: []string{"https://app.example/cb"},
			GrantTypes: []string{identity.GrantAuthorizationCode}, TokenFormat: identity.TokenFormatOpaque}
		if err := s.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	mk("ops", "")
	mk("alice-1", "usr_alice")
	mk("alice-2", "usr_alice")
	mk("bob-1", "usr_bob")
	list, total, err := s.ListClients(ctx, identity.ClientFilter{OwnerID: "usr_alice"})
	if err != nil || total != 2 || len(list) != 2 || list[0].OwnerID != "usr_alice" || list[1].OwnerID != "usr_alice" {
		t.Fatalf("ListClients(owner alice) = %d %v, %v", total, list, err)
	}
	if _, all, _ := s.ListClients(ctx, identity.ClientFilter{}); all != 4 {
		t.Errorf("ListClients() total %d, want 4", all)
	}

	c, err := s.ClientByID(ctx, "alice-1")
	if err != nil {
		t.Fatal(err)
	}
	old := c.SecretHash
	if _, err := c.RotateSecret(time.Now(), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := s.ClientByID(ctx, "alice-1")
	if err != nil || got.OwnerID != "usr_alice" || !bytes.Equal(got.PreviousSecretHash, old) || got.PreviousSecretExpiresAt == nil ||
		got.PreviousSecretExpiresAt.Sub(*c.PreviousSecretExpiresAt).Abs() > time.Millisecond {
		t.Fatalf("after rotation: %+v, %v", got, err)
	}
	fc, err := s.GetClient(ctx, "alice-1")
	if err != nil {
		t.Fatal(err)
	}
	rc, ok := fc.(fosite.ClientWithSecretRotation)
	if !ok || len(rc.GetRotatedHashes()) != 1 || !bytes.Equal(rc.GetRotatedHashes()[0], old) {
		t.Fatalf("fosite client does not offer the previous secret during its grace period: %T", fc)
	}
	past := time.Now().Add(-time.Minute)
	got.PreviousSecretExpiresAt = &past
	if err := s.UpdateClient(ctx, got); err != nil {
		t.Fatal(err)
	}
	if fc, err := s.GetClient(ctx, "alice-1"); err != nil || len(fc.(fosite.ClientWithSecretRotation).GetRotatedHashes()) != 0 {
		t.Fatalf("an expired previous secret is still offered: %v", err)
	}
	// A rotation without grace clears the previous secret in the row.
	if _, err := got.RotateSecret(time.Now(), 0); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateClient(ctx, got); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.ClientByID(ctx, "alice-1"); again.PreviousSecretHash != nil || again.PreviousSecretExpiresAt != nil {
		t.Errorf("rotation without grace left %+v", again)
	}
}
