//go:build unix

package petstore

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/petstore-auth/petstore-auth/pkg/bearer"
	"github.com/petstore-auth/petstore-auth/pkg/bearer/bearertest"
	"github.com/petstore-auth/petstore-auth/pkg/dpop/dpoptest"
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
// credential, to compare the cost of authentication with the same handler
// without it ("none"):
//
//	go test -run=^$ -bench=BenchmarkPets -benchmem ./pkg/petstore
//
// The DPoP proofs (one per request, ES256) are made before the timer
// starts, so ns/op counts the server's check of a proof, not the client's
// signature. cpu-ns/op is the process's CPU time (server and client) per
// request, which other programs on a busy machine disturb less than ns/op.
func BenchmarkPets(b *testing.B) {
	as := bearertest.NewServer(b, nil)
	store := openSQLiteStore(b)
	v := &bearer.Verifier{Issuer: as.URL, ClientID: bearertest.ClientID, ClientSecret: bearertest.ClientSecret,
		Mode: "test", Logger: slog.New(slog.DiscardHandler)}
	dpopKey := dpoptest.NewKey()
	bound := as.Claims(ScopeRead)
	bound["cnf"] = map[string]any{"jkt": dpopKey.JKT()}
	for _, owner := range []string{"user-1", "user-2", "user-3"} {
		if err := store.Seed(context.Background(), owner, Pet{Name: "Rex", Species: "dog", Age: 3},
			Pet{Name: "Tom", Species: "cat", Age: 5}, Pet{Name: "Tweety", Species: "bird", Age: 1}); err != nil {
			b.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name   string
		auth   Authenticator
		scheme string
		token  string
		dpop   bool
	}{
		{"none", noAuth{&bearer.Principal{Subject: "user-1", Scopes: []string{ScopeRead}}}, "", "", false},
		{"jwt", v, "Bearer ", as.JWT(as.Claims(ScopeRead)), false},
		{"opaque", v, "Bearer ", as.AccessToken(bearertest.Opaque("bench"), ScopeRead), false},
		{"api_key", v, "Bearer ", as.APIKey("test", ScopeRead), false},
		{"dpop_jwt", v, "DPoP ", as.JWT(bound), true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			r := mux.NewRouter()
			(&Handler{Store: store, Verifier: tc.auth}).Mount(r)
			srv := httptest.NewServer(r)
			defer srv.Close()
			tr := &http.Transport{MaxIdleConnsPerHost: 64}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			url := srv.URL + "/v1/pets"
			var proofs []string
			var next atomic.Int64
			if tc.dpop {
				proofs = make([]string, b.N+1)
				for i := range proofs {
					proofs[i] = dpopKey.Proof(http.MethodGet, url, dpoptest.Opts{AccessToken: tc.token})
				}
			}
			get := func() error {
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				if tc.token != "" {
					req.Header.Set("Authorization", tc.scheme+tc.token)
				}
				if proofs != nil {
					req.Header.Set("DPoP", proofs[next.Add(1)-1])
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
			cpu := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := get(); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
