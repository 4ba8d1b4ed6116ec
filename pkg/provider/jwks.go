package provider

import (
	"net/http"

	"github.com/ory/fosite"
)

// handleJWKS serves the public signing keys (RFC 7517 §5), current and
// previous (jwt.go), cacheable and readable from any origin.
func (p *Provider) handleJWKS(w http.ResponseWriter, r *http.Request) {
	b, err := p.strategy.jwt.jwks(r.Context())
	if err != nil {
		p.writeError(w, r, fosite.ErrServerError.WithWrap(err))
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=60")
	_, _ = w.Write(b)
}
