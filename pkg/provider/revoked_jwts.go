package provider

import (
	"net/http"
	"strconv"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/httpx"
)

// revokedJWTs is the answer of the revocation list: the ids of revoked JWT
// access tokens that have not expired, and the server's time for the next
// `since`.
type revokedJWTs struct {
	Revoked []revokedJWT `json:"revoked"`
	Now     int64        `json:"now"`
}

type revokedJWT struct {
	JTI string `json:"jti"`
	Exp int64  `json:"exp"`
}

// handleRevokedJWTs publishes the ids of revoked JWT access tokens that have
// not expired yet, for resource servers that verify JWTs locally. Only
// resource-server clients may read it (HTTP Basic).
func (p *Provider) handleRevokedJWTs(w http.ResponseWriter, r *http.Request) {
	out, err := p.revokedJWTs(r)
	if err != nil {
		p.writeError(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, out)
}

func (p *Provider) revokedJWTs(r *http.Request) (revokedJWTs, error) {
	if err := p.authenticateResourceServer(r, "", "This client is not allowed to read the revocation list."); err != nil {
		return revokedJWTs{}, err
	}
	var since time.Time
	if s := r.URL.Query().Get("since"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return revokedJWTs{}, oauthError(http.StatusBadRequest, "invalid_request", "'since' must be a Unix time in seconds.")
		}
		since = time.Unix(n, 0)
	}
	now := p.now()
	list, err := p.store.ListRevokedJWTs(r.Context(), since)
	if err != nil {
		return revokedJWTs{}, unavailable("The revocation list is unavailable.", err)
	}
	out := revokedJWTs{Revoked: []revokedJWT{}, Now: now.Unix()}
	for _, e := range list {
		out.Revoked = append(out.Revoked, revokedJWT{e.JTI, e.ExpiresAt.Unix()})
	}
	return out, nil
}
