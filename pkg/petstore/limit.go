package petstore

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/clientaddr"
	"github.com/petstore-auth/petstore-auth/pkg/httpkit"
	"github.com/petstore-auth/petstore-auth/pkg/ratelimit"
)

// credentialLimit counts every /v1/ request against its credential — the
// SHA-256 of the Authorization header, so the key never holds the secret —
// or against the client address when there is none, and answers 429 with
// Retry-After above perMinute. It runs before the credential is checked, so
// one credential replayed in a loop costs at most perMinute introspections;
// a new junk token on every request is failureLimit's job.
func credentialLimit(l ratelimit.Limiter, perMinute int, log *slog.Logger, onLimited func()) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if perMinute <= 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !limited(r.URL.Path) {
				next.ServeHTTP(w, r)
				return
			}
			key := "ip:" + clientaddr.Bucket(r)
			if a := r.Header.Get("Authorization"); a != "" {
				sum := sha256.Sum256([]byte(a))
				key = "cred:" + hex.EncodeToString(sum[:16])
			}
			ok, retry, err := l.Allow(r.Context(), key, perMinute, time.Minute)
			if err != nil {
				log.WarnContext(r.Context(), "rate limiter unavailable", "err", err)
				ok = true // fail open: the limiter protects the API, it must not take it down
			}
			if !ok {
				if onLimited != nil {
					onLimited()
				}
				w.Header().Set("Retry-After", fmt.Sprint(max(1, int(math.Ceil(retry.Seconds())))))
				WriteError(w, httpkit.CodeRateLimited, "Too many requests; retry after the time in Retry-After.")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// failureLimit counts refused credentials (401 invalid_token: unknown,
// expired, malformed) per client address. Above perMinute the address gets
// 429 with Retry-After before its credential is checked, so a flood of junk
// tokens from one address costs at most perMinute introspections a minute
// and cannot spend the API's budget at the authorization server. A
// credential with a cached positive answer (known) still passes, so that a
// flood from a shared address does not lock out callers already served.
func failureLimit(l ratelimit.Limiter, perMinute int, known func(authorization string) bool, log *slog.Logger, onLimited func()) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		pk, ok := l.(ratelimit.Peeker)
		if perMinute <= 0 || !ok {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !limited(r.URL.Path) {
				next.ServeHTTP(w, r)
				return
			}
			key := "fail:ip:" + clientaddr.Bucket(r)
			n, retry, err := pk.Peek(r.Context(), key, time.Minute)
			if err != nil {
				log.WarnContext(r.Context(), "rate limiter unavailable", "err", err)
			} else if n >= perMinute && !known(r.Header.Get("Authorization")) {
				if onLimited != nil {
					onLimited()
				}
				w.Header().Set("Retry-After", fmt.Sprint(max(1, int(math.Ceil(retry.Seconds())))))
				WriteError(w, httpkit.CodeRateLimited, "Too many invalid credentials from this address; retry after the time in Retry-After.")
				return
			}
			rw, rec := httpkit.Record(w)
			next.ServeHTTP(rw, r)
			if rec.Status == http.StatusUnauthorized && strings.Contains(w.Header().Get("WWW-Authenticate"), `error="invalid_token"`) {
				if _, _, err := l.Allow(r.Context(), key, perMinute, time.Minute); err != nil {
					log.WarnContext(r.Context(), "rate limiter unavailable", "err", err)
				}
			}
		})
	}
}

// limited reports whether path is under the rate limits: the API's routes
// and the MCP endpoint (one budget per credential for both), not health,
// metrics or the public metadata.
func limited(path string) bool { return strings.HasPrefix(path, "/v1/") || path == MCPPath }
