//go:build petstore_bench_noauth

package main

import (
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/petstore-auth/petstore-auth/pkg/bearer"
	"github.com/petstore-auth/petstore-auth/pkg/httpkit"
	"github.com/petstore-auth/petstore-auth/pkg/petstore"
)

// This file exists only in the benchmark build (go build -tags
// petstore_bench_noauth, made by scripts/bench-all.sh into a binary of its
// own): the fair "no authentication" baseline of GET /v1/pets is the same
// handler, behind the same middleware, without the credential check.

// BenchNoAuthEnv names the subject every request is served as; unset or
// empty, the bench build checks credentials like any other.
const BenchNoAuthEnv = "PETSTORE_API_BENCH_NOAUTH_SUBJECT"

// benchAuthenticator returns the fixed principal of BenchNoAuthEnv, with
// the read and write scopes, or nil when it is not set.
func benchAuthenticator(log *slog.Logger) petstore.Authenticator {
	sub := strings.TrimSpace(os.Getenv(BenchNoAuthEnv))
	if sub == "" {
		return nil
	}
	log.Warn("BENCHMARK BUILD: authentication is off, every request is " + sub)
	return fixedPrincipal{&bearer.Principal{Subject: sub, Scopes: []string{petstore.ScopeRead, petstore.ScopeWrite}, Kind: "bench"}}
}

// fixedPrincipal puts the same principal in every request's context and
// still makes the scope decision, as bearer.Verifier.Require does.
type fixedPrincipal struct{ p *bearer.Principal }

func (f fixedPrincipal) Require(scopes ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for _, s := range scopes {
				if !f.p.HasScope(s) {
					petstore.WriteError(w, httpkit.CodeForbidden, "Insufficient scope: this call needs "+strings.Join(scopes, " "))
					return
				}
			}
			next.ServeHTTP(w, r.WithContext(bearer.NewContext(r.Context(), f.p)))
		})
	}
}
