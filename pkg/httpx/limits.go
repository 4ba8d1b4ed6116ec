package httpx

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// MaxInFlight answers 503 with Retry-After: 1 at once when n requests are
// already being served, so that overload sheds requests quickly instead of
// queueing them until every client times out. Requests for which exempt
// returns true (liveness, metrics) are never refused. n <= 0 disables it.
func MaxInFlight(n int, exempt func(*http.Request) bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if n <= 0 {
			return next
		}
		slots := make(chan struct{}, n)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if exempt != nil && exempt(r) {
				next.ServeHTTP(w, r)
				return
			}
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
				next.ServeHTTP(w, r)
			default:
				Unavailable(w, 1, "The server is overloaded; retry after the time in Retry-After.")
			}
		})
	}
}

// Unavailable writes a 503 with Retry-After (seconds) and an RFC 6749-style
// temporarily_unavailable body, which OAuth clients already understand.
func Unavailable(w http.ResponseWriter, retryAfter int, description string) {
	w.Header().Set("Retry-After", strconv.Itoa(max(retryAfter, 1)))
	w.Header().Set("Connection", "close") // shed the connection too, not only the request
	JSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable", "error_description": description})
}

// Deadline gives every request a context deadline of d, so a database
// call never waits longer than the client would (the store runs its
// queries under the request context). d <= 0 disables it.
func Deadline(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if d <= 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}
