package provider

import (
	"context"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
	"github.com/ory/fosite"

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
// answers 429 with Retry-After before the endpoint does any work. A request
// whose client secret is right is judged by its client's own budget alone:
// failures by others — at its address or under its client id — never
// refuse the authenticated owner.
func (p *Provider) limit(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := budgetsOf(r)
		if err := parseForm(r); err != nil {
			if over := p.admit(r, b); over != nil {
				err = over
			}
			p.writeError(w, r, err)
			p.charge(r, b.ip, p.cfg.RateLimitPerIP)
			return
		}
		b.client = clientIDOf(r)
		if err := p.admitRequest(r, b); err != nil {
			p.writeError(w, r, err)
			return
		}
		outcome := &authOutcome{}
		r = r.WithContext(context.WithValue(r.Context(), authOutcomeKey{}, outcome))
		sw, rec := httpkit.Record(w)
		next(sw, r)
		p.settle(r, b, outcome.authenticated.Load(), rec.Status)
	})
}

// admitRequest decides before the endpoint runs: the owner of a client
// (its secret matches) only against its own budget; anyone else against
// the address's budgets and the failure budget of the client id it named.
func (p *Provider) admitRequest(r *http.Request, b *budgets) error {
	if b.client != "" && (p.secretMatches(r, b.client) || p.assertionValid(r, b.client)) {
		return p.over(r, "client:"+b.route+":"+b.client, p.cfg.RateLimitPerClient)
	}
	if err := p.admit(r, b); err != nil {
		return err
	}
	if b.client != "" && presentsSecret(r) {
		// A client id under attack: further wrong secrets for it are
		// refused from every address; the right one still passes above.
		return p.over(r, "authfail:client:"+b.client, p.cfg.RateLimitFailedAuthPerClient)
	}
	return nil
}

// presentsSecret reports whether r carries a client secret (Basic or
// client_secret_post, RFC 6749 §2.3.1) or a client assertion (RFC 7523).
func presentsSecret(r *http.Request) bool {
	if r.PostForm.Has("client_assertion") {
		return true
	}
	if _, secret, ok := r.BasicAuth(); ok {
		return secret != ""
	}
	return r.PostForm.Get("client_secret") != ""
}

// secretMatches reports whether r presents the right secret of client id.
// It reads the client through the store's client cache and compares in
// constant time; the endpoint authenticates again as usual, so this only
// chooses the budget, it grants nothing.
func (p *Provider) secretMatches(r *http.Request, id string) bool {
	secret := r.PostForm.Get("client_secret")
	if _, s, ok := r.BasicAuth(); ok {
		if u, err := url.QueryUnescape(s); err == nil {
			s = u
		}
		secret = s
	}
	if secret == "" {
		return false
	}
	c, err := p.store.GetClient(r.Context(), id)
	if err != nil || c.IsPublic() {
		return false
	}
	hashes := [][]byte{c.GetHashedSecret()}
	if rc, ok := c.(fosite.ClientWithSecretRotation); ok {
		hashes = append(hashes, rc.GetRotatedHashes()...)
	}
	for _, h := range hashes {
		if len(h) > 0 && (SHA256Hasher{}).matches(h, []byte(secret)) {
			return true
		}
	}
	return false
}

// assertionValid reports whether r carries a valid, unused client
// assertion of client id: for private_key_jwt clients the proof of
// ownership that a matching secret is for others. Nothing is spent; the
// endpoint verifies again and spends the jti.
func (p *Provider) assertionValid(r *http.Request, id string) bool {
	if !r.PostForm.Has("client_assertion") {
		return false
	}
	c, err := p.verifyAssertion(r.Context(), r.PostForm, false)
	return err == nil && c.GetID() == id
}

// budgets names the budget keys of one request.
type budgets struct {
	route, addr string
	ip          string // this endpoint's budget of the address
	client      string // the client id named, "" for none
}

func budgetsOf(r *http.Request) *budgets {
	route := r.URL.Path
	if cr := mux.CurrentRoute(r); cr != nil {
		route, _ = cr.GetPathTemplate()
	}
	addr := clientaddr.Bucket(r)
	return &budgets{route: route, addr: addr, ip: "ip:" + route + ":" + addr}
}

// admit refuses an address that keeps failing, or that spent its budget
// for unauthenticated requests.
func (p *Provider) admit(r *http.Request, b *budgets) error {
	if err := p.over(r, "authfail:ip:"+b.addr, p.cfg.RateLimitFailedAuthPerIP); err != nil {
		return err
	}
	return p.over(r, b.ip, p.cfg.RateLimitPerIP)
}

// settle charges the request to the budget its outcome calls for.
func (p *Provider) settle(r *http.Request, b *budgets, authenticated bool, status int) {
	rl := p.cfg
	switch {
	case authenticated && b.client != "":
		p.charge(r, "client:"+b.route+":"+b.client, rl.RateLimitPerClient)
		return
	case status == http.StatusUnauthorized:
		p.charge(r, "authfail:ip:"+b.addr, rl.RateLimitFailedAuthPerIP)
		if b.client != "" {
			p.charge(r, "authfail:client:"+b.client, rl.RateLimitFailedAuthPerClient)
		}
	}
	p.charge(r, b.ip, rl.RateLimitPerIP)
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

// over returns the 429 refusal when the budget key is spent.
func (p *Provider) over(r *http.Request, key string, limit int) error {
	if limit <= 0 {
		return nil
	}
	n, retry := p.peek(r, key)
	if n < limit {
		return nil
	}
	return rateLimited{retryAfter: retry}
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
