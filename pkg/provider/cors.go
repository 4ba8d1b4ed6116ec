package provider

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/httpx"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// CORS for single-page apps (Fetch standard, "CORS protocol"). A public
// client may call the token and revocation endpoints from the origins of its
// redirect URIs and its registered allowed origins; nobody else gets CORS
// headers there, and /oauth2/auth never has any (RFC 9700 §2.6). The metadata
// and JWKS documents are public and answer every origin with "*".
//
// This is a small middleware of our own rather than github.com/rs/cors:
// the allowed set depends on the client the request names, which is in the
// form body, and a preflight (which carries no client id) is judged against
// a different set (every public client's origins) than the request itself.
const (
	corsAllowMethods  = "POST"
	corsAllowHeaders  = "Content-Type, Authorization, DPoP"
	corsExposeHeaders = "WWW-Authenticate, Retry-After, DPoP-Nonce"
	// corsMaxAge lets a browser reuse a preflight for 10 minutes (Chromium
	// caps it at 2 hours).
	corsMaxAge = "600"
	// corsOriginsTTL bounds how long a client change made by another
	// process (the CLI writes the database directly) takes to be seen;
	// changes through the admin console or API invalidate at once.
	corsOriginsTTL = 30 * time.Second
	// corsPeekBytes is how much of a form body is read for its client_id;
	// larger bodies are refused by the handler anyway (httpx.MaxBodyBytes).
	corsPeekBytes = 1 << 20
)

// corsOrigins caches, per public client, the origins it may call from,
// and their union for preflights.
type corsOrigins struct {
	mu       sync.Mutex
	loadedAt time.Time
	valid    bool
	byClient map[string][]string
	union    map[string]bool
}

// ClientsChanged drops the cached CORS origins; the admin console and API
// call it after creating, updating or deleting a client.
func (p *Provider) ClientsChanged() {
	p.corsOrigins.mu.Lock()
	p.corsOrigins.valid = false
	p.corsOrigins.mu.Unlock()
}

// originsSnapshot returns the cached origins, reloading them when stale.
// On a database error it returns nothing: without the list, no origin is
// allowed (fail closed), and the next request tries again.
func (p *Provider) originsSnapshot(ctx context.Context) (map[string][]string, map[string]bool) {
	c := &p.corsOrigins
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.valid && p.now().Sub(c.loadedAt) < corsOriginsTTL {
		return c.byClient, c.union
	}
	byClient, union := map[string][]string{}, map[string]bool{}
	for offset := 0; ; {
		list, total, err := p.store.ListClients(ctx, identity.ClientFilter{Page: identity.Page{Offset: offset, Limit: 500}})
		if err != nil {
			httpx.Logger(ctx).Warn("cors: load client origins", "err", err)
			return nil, nil
		}
		for _, cl := range list {
			if o := cl.CORSOrigins(); len(o) > 0 {
				byClient[cl.ID] = o
				for _, origin := range o {
					union[origin] = true
				}
			}
		}
		offset += len(list)
		if len(list) == 0 || offset >= total {
			break
		}
	}
	c.byClient, c.union, c.loadedAt, c.valid = byClient, union, p.now(), true
	return byClient, union
}

// corsPublic answers every origin with "*" on a public GET document
// (metadata, JWKS): no credentials are involved, so any page may read them.
func corsPublic(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		if r.Method == http.MethodOptions {
			w.Header().Set("Allow", "GET, OPTIONS")
			w.Header().Set("Access-Control-Allow-Methods", "GET")
			w.Header().Set("Access-Control-Max-Age", corsMaxAge)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next(w, r)
	})
}

// corsClients serves CORS for the token and revocation endpoints.
//
// A preflight (OPTIONS) carries no client id, so it is allowed when the
// Origin belongs to any public client; it answers 204 either way, with the
// CORS headers only for such an origin. The request itself is then judged
// against the client it names (client_id in the body, or Basic): only when
// the Origin is one of that public client's origins does the answer carry
// Access-Control-Allow-Origin. Otherwise the request is still processed
// (a form POST needs no preflight, so refusing it would protect nothing),
// but the browser hides the answer from the page.
func (p *Provider) corsClients(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		if r.Method == http.MethodOptions {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			h.Set("Allow", "OPTIONS, POST")
			if origin != "" && r.Header.Get("Access-Control-Request-Method") == http.MethodPost {
				if _, union := p.originsSnapshot(r.Context()); union[origin] {
					h.Set("Access-Control-Allow-Origin", origin)
					h.Set("Access-Control-Allow-Methods", corsAllowMethods)
					h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
					h.Set("Access-Control-Max-Age", corsMaxAge)
				}
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if origin != "" {
			if id := corsClientID(r); id != "" {
				if byClient, _ := p.originsSnapshot(r.Context()); slices.Contains(byClient[id], origin) {
					h.Set("Access-Control-Allow-Origin", origin)
					h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// corsClientID returns the client a request names: the Basic user name, or
// the single client_id of a form body. The body is read and put back
// unchanged, so the handler parses (and validates) it as usual.
func corsClientID(r *http.Request) string {
	if id, _, ok := r.BasicAuth(); ok {
		if u, err := url.QueryUnescape(id); err == nil {
			return u
		}
		return id
	}
	ct := strings.ToLower(r.Header.Get("Content-Type"))
	if r.Body == nil || !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return ""
	}
	body := r.Body
	buf, err := io.ReadAll(io.LimitReader(body, corsPeekBytes))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(buf), body), body}
	if err != nil {
		return ""
	}
	form, err := url.ParseQuery(string(buf))
	if err != nil || len(form["client_id"]) != 1 {
		return ""
	}
	return form.Get("client_id")
}
