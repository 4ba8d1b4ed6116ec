package provider

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"

	"github.com/petstore-auth/petstore-auth/pkg/clientaddr"
	"github.com/petstore-auth/petstore-auth/pkg/httpkit"
	"github.com/petstore-auth/petstore-auth/pkg/httpx"
	"github.com/petstore-auth/petstore-auth/pkg/ratelimit"
)

// Budgets on the protocol endpoints, per minute. Which budget a request is
// charged to depends on its outcome, so that spending one takes the
// authority it protects:
//
//   - an authenticated confidential client is charged to its own budget
//     (per endpoint) and never to its address: a resource server that
//     introspects thousands of tokens per second from one address is
//     limited only by that budget;
//   - a failed client authentication (the 401 of RFC 6749 §5.2
//     invalid_client) is charged to the address and to the client id it
//     named;
//   - anything else (public clients, malformed requests) is charged to the
//     address, per endpoint.
//
// The budgets are checked before the work is done and charged after it, so
// concurrent requests may overshoot a limit slightly; for abuse protection
// that is acceptable.
const limitWindow = time.Minute

// authOutcome is set by the secret hasher when a client secret matched
// during this request: the positive proof that the named client
// authenticated (a 4xx alone cannot tell a wrong secret from a bad form).
type authOutcome struct{ authenticated atomic.Bool }

type authOutcomeKey struct{}

// markAuthenticated records a matching client secret for the request of ctx.
func markAuthenticated(ctx context.Context) {
	if o, ok := ctx.Value(authOutcomeKey{}).(*authOutcome); ok {
		o.authenticated.Store(true)
	}
}

// limit applies the budgets above around a protocol endpoint; over one it
// answers 429 with Retry-After before any database work is done.
func (p *Provider) limit(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := r.URL.Path
		if cr := mux.CurrentRoute(r); cr != nil {
			route, _ = cr.GetPathTemplate()
		}
		addr := clientaddr.Of(r)
		rl := p.cfg
		// An address that keeps failing, or that spent its budget for
		// unauthenticated requests, is refused outright.
		if p.over(w, r, "authfail:ip:"+addr, rl.RateLimitFailedAuthPerIP) ||
			p.over(w, r, "ip:"+route+":"+addr, rl.RateLimitPerIP) {
			return
		}
		if !parseForm(w, r) {
			p.charge(r, "ip:"+route+":"+addr, rl.RateLimitPerIP)
			return
		}
		id := clientIDOf(r)
		if id != "" {
			// A client id under attack: addresses that failed in this
			// window get no further tries for it; the right secret from
			// any other address still works.
			if n, _ := p.peek(r, "authfail:ip:"+addr); n > 0 && p.over(w, r, "authfail:client:"+id, rl.RateLimitFailedAuthPerClient) {
				return
			}
			// Only the authenticated client fills its own budget, so
			// reading it here refuses nobody but the client itself.
			if p.over(w, r, "client:"+route+":"+id, rl.RateLimitPerClient) {
				return
			}
		}
		outcome := &authOutcome{}
		r = r.WithContext(context.WithValue(r.Context(), authOutcomeKey{}, outcome))
		sw, rec := httpkit.Record(w)
		next(sw, r)
		switch {
		case outcome.authenticated.Load() && id != "":
			p.charge(r, "client:"+route+":"+id, rl.RateLimitPerClient)
		case rec.Status == http.StatusUnauthorized:
			// The address's failures are counted whenever either failure
			// limit is on: the per-id limit reads them too.
			perIP := rl.RateLimitFailedAuthPerIP
			if perIP <= 0 && rl.RateLimitFailedAuthPerClient > 0 {
				perIP = math.MaxInt32
			}
			p.charge(r, "authfail:ip:"+addr, perIP)
			if id != "" {
				p.charge(r, "authfail:client:"+id, rl.RateLimitFailedAuthPerClient)
			}
			p.charge(r, "ip:"+route+":"+addr, rl.RateLimitPerIP)
		default:
			p.charge(r, "ip:"+route+":"+addr, rl.RateLimitPerIP)
		}
	})
}

// peek reads a budget without charging it. Limiters that cannot peek read
// as empty.
func (p *Provider) peek(r *http.Request, key string) (int, time.Duration) {
	pk, ok := p.limiter.(ratelimit.Peeker)
	if !ok {
		return 0, 0
	}
	n, retry, err := pk.Peek(r.Context(), key, limitWindow)
	if err != nil {
		httpx.Logger(r.Context()).Warn("rate limiter unavailable", "err", err)
		return 0, 0 // fail open: the limiter protects, it must not take the server down
	}
	return n, retry
}

// over reports whether the budget key is spent, and then writes the 429.
func (p *Provider) over(w http.ResponseWriter, r *http.Request, key string, limit int) bool {
	if limit <= 0 {
		return false
	}
	n, retry := p.peek(r, key)
	if n < limit {
		return false
	}
	w.Header().Set("Retry-After", fmt.Sprint(max(1, int(math.Ceil(retry.Seconds())))))
	oauthError(w, http.StatusTooManyRequests, "rate_limited", "Too many requests; retry after the time in Retry-After.")
	return true
}

// charge counts one event against the budget key.
func (p *Provider) charge(r *http.Request, key string, limit int) {
	if limit <= 0 {
		return
	}
	if _, _, err := p.limiter.Allow(r.Context(), key, limit, limitWindow); err != nil {
		httpx.Logger(r.Context()).Warn("rate limiter unavailable", "err", err)
	}
}

// clientIDOf returns the client id the request names: from Basic
// credentials (RFC 6749 §2.3.1, form-encoded) or the parsed client_id
// parameter. Call it after the form is parsed.
func clientIDOf(r *http.Request) string {
	id, _, ok := r.BasicAuth()
	if ok {
		if u, err := url.QueryUnescape(id); err == nil {
			id = u
		}
	} else {
		id = r.PostForm.Get("client_id")
	}
	if len(id) > 200 {
		return ""
	}
	return id
}
