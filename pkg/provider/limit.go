package provider

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"time"

	"github.com/gorilla/mux"

	"github.com/petstore-auth/petstore-auth/pkg/clientaddr"
	"github.com/petstore-auth/petstore-auth/pkg/httpx"
)

// limit counts a protocol request against the caller's address and, when
// the request names one, its client id; over either limit it answers 429
// with Retry-After before any database work is done.
func (p *Provider) limit(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := r.URL.Path
		if cr := mux.CurrentRoute(r); cr != nil {
			route, _ = cr.GetPathTemplate()
		}
		check := func(key string, limit int) bool {
			if limit <= 0 {
				return true
			}
			ok, retry, err := p.limiter.Allow(r.Context(), key, limit, time.Minute)
			if err != nil {
				httpx.Logger(r.Context()).Warn("rate limiter unavailable", "err", err)
				return true // fail open: the limiter protects, it must not take the server down
			}
			if !ok {
				w.Header().Set("Retry-After", fmt.Sprint(int(math.Ceil(retry.Seconds()))))
				oauthError(w, http.StatusTooManyRequests, "rate_limited", "Too many requests; retry after the time in Retry-After.")
			}
			return ok
		}
		if !check("ip:"+route+":"+clientaddr.Of(r), p.cfg.RateLimitPerIP) {
			return
		}
		if id := clientIDOf(r); id != "" && !check("client:"+route+":"+id, p.cfg.RateLimitPerClient) {
			return
		}
		next(w, r)
	})
}

// clientIDOf reads the client id from Basic credentials without parsing the
// body (the handler parses and validates it).
func clientIDOf(r *http.Request) string {
	id, _, ok := r.BasicAuth()
	if !ok || len(id) > 200 {
		return ""
	}
	if u, err := url.QueryUnescape(id); err == nil {
		return u
	}
	return id
}
