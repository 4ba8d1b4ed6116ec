package storetest_test

import (
	"testing"

	"github.com/ory/fosite"
	"github.com/ory/fosite/storage"

	"github.com/petstore-auth/petstore-auth/pkg/store/storetest"
)

// TestFositeMemoryStore runs the fosite subset against fosite's memory
// store, the stand-in of pkg/web's tests: where those tests rely on it, it
// behaves like our store. The differences are named, not hidden.
func TestFositeMemoryStore(t *testing.T) {
	storetest.RunFosite(t, func(t *testing.T) storetest.FositeStorage { return storage.NewMemoryStore() }, storetest.FositeOptions{
		AddClient: func(t *testing.T, s storetest.FositeStorage, id string) {
			s.(*storage.MemoryStore).Clients[id] = &fosite.DefaultClient{ID: id, Secret: []byte("0123456789abcdef0123456789abcdef"),
				RedirectURIs: []string{"https://app.example/cb"}, ResponseTypes: []string{"code"},
				GrantTypes: []string{"authorization_code", "refresh_token"}, Scopes: []string{"read:pets", "offline_access"}}
		},
		Skip: map[string]string{
			"FormHasNoSecrets":   "the memory store keeps the request object in memory, never at rest; ours strips secret form fields before storing",
			"RotateRefreshToken": "the memory store's RotateRefreshToken has no conditional update (a second rotation succeeds) and only revokes the latest token of a request",
			"Transactions":       "the memory store does not implement storage.Transactional",
		},
		Lenient: map[string]string{
			storetest.LenientSessionDecode:         "the memory store hands back the stored request and its session instead of decoding into the session given",
			storetest.LenientDoubleInvalidate:      "the memory store has no conditional update: invalidating a used code again succeeds (ours reports ErrCodeAlreadyRedeemed)",
			storetest.LenientRevokeAccessByRequest: "the memory store maps a request id to its latest access token only and deletes it (ErrNotFound) rather than marking every token of the request inactive",
		},
	})
}
