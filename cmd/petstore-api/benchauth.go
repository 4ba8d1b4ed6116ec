//go:build !petstore_bench_noauth

package main

import (
	"log/slog"

	"github.com/petstore-auth/petstore-auth/pkg/petstore"
)

// benchAuthenticator is nil in every shipped build: the routes are guarded
// by the verifier, whatever the environment says. Only the benchmark build
// (benchauth_noauth.go) has another one.
func benchAuthenticator(*slog.Logger) petstore.Authenticator { return nil }
