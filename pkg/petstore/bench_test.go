package petstore

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gorilla/mux"

	"github.com/petstore-auth/petstore-auth/pkg/bearer"
	"github.com/petstore-auth/petstore-auth/pkg/bearer/bearertest"
)

// noAuth stands in for the verifier: every request is the same principal.
type noAuth struct{ p *bearer.Principal }

func (n noAuth) Require(...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(bearer.NewContext(r.Context(), n.p)))
		})
	}
}

// BenchmarkPets measures GET /v1/pets over real HTTP with each kind of
// credential, to compare the cost of authentication:
//
//	go test -run=^$ -bench=BenchmarkPets ./pkg/petstore
func BenchmarkPets(b *testing.B) {
	as := bearertest.NewServer(b, nil)
	store := openSQLiteStore(b)
	v := &bearer.Verifier{Issuer: as.URL, ClientID: bearertest.ClientID, ClientSecret: bearertest.ClientSecret,
		Mode: "test", Logger: slog.New(slog.DiscardHandler)}
	jwt := as.JWT(as.Claims("read:pets"))
	opaque := as.AccessToken("pst_at_bench.sig", "read:pets")
	key := as.APIKey("test", "read:pets")
	for _, owner := range []string{"user-1", "user-2", "user-3"} {
		if err := store.Seed(context.Background(), owner, Pet{Name: "Rex", Species: "dog", Age: 3},
			Pet{Name: "Tom", Species: "cat", Age: 5}, Pet{Name: "Tweety", Species: "bird", Age: 1}); err != nil {
			b.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name  string
		auth  Authenticator
		token string
	}{
		{"none", noAuth{&bearer.Principal{Subject: "user-1", Scopes: []string{ScopeRead}}}, ""},
		{"jwt", v, jwt},
		{"opaque", v, opaque},
		{"api_key", v, key},
	} {
		b.Run(tc.name, func(b *testing.B) {
			r := mux.NewRouter()
			(&Handler{Store: store, Verifier: tc.auth}).Mount(r)
			srv := httptest.NewServer(r)
			defer srv.Close()
			tr := &http.Transport{MaxIdleConnsPerHost: 64}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			get := func() error {
				req, _ := http.NewRequest("GET", srv.URL+"/v1/pets", nil)
				if tc.token != "" {
					req.Header.Set("Authorization", "Bearer "+tc.token)
				}
				resp, err := client.Do(req)
				if err != nil {
					return err
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					return fmt.Errorf("status %d", resp.StatusCode)
				}
				return nil
			}
			if err := get(); err != nil { // warm the cache and the JWKS
				b.Fatal(err)
			}
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := get(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
