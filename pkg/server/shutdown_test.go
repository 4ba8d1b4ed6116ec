package server_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/servertest"
	"github.com/petstore-auth/petstore-auth/pkg/store"
)

// TestShutdownRecordsAPIKeyUse: an API key's first use, held in memory to
// be written with the next batch, is in the database once the server has
// stopped — the batch is written before the database is closed.
func TestShutdownRecordsAPIKeyUse(t *testing.T) {
	servertest.EachDatabase(t, func(t *testing.T, dbURL string) {
		var closers []func()
		s := servertest.MustOpen(t, servertest.Options{DatabaseURL: dbURL, Cleanup: func(f func()) { closers = append(closers, f) }})
		stop := func() {
			for i := len(closers) - 1; i >= 0; i-- {
				closers[i]()
			}
			closers = nil
		}
		defer stop()
		rs := s.MustClient(t, identity.Client{Name: "PetStore API", GrantTypes: []string{"client_credentials"}, CanIntrospect: true})
		u := s.MustUser(t, "keys@example.com", "correct horse battery")
		key, k := s.MustAPIKey(t, u.ID, "test", "ci", "read:pets")
		res := servertest.PostForm(t, nil, s.URL+"/oauth2/introspect", rs, url.Values{"token": {key}})
		if res.Status != http.StatusOK || res.JSON["active"] != true {
			t.Fatalf("introspect the key: %d %v", res.Status, res.JSON)
		}
		stop()

		st, err := store.Open(context.Background(), dbURL, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		got, err := st.APIKeyByID(context.Background(), k.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.LastUsedAt == nil {
			t.Error("the key's use before shutdown was not recorded")
		}
	})
}
