package provider

import (
	"net/http"

	"github.com/gorilla/mux"
)

// Mount registers the machine endpoints, one file each:
//
//	POST /oauth2/token                        token.go (+ token_code.go, token_refresh.go, token_client_credentials.go, refresh_grace.go)
//	POST /oauth2/revoke                       revoke.go
//	POST /oauth2/introspect                   introspect.go
//	POST /oauth2/par                          par.go
//	POST /oauth2/device/auth                  device.go (+ token_device.go; the /device page is pkg/web's)
//	GET  /oauth2/revoked-jwts                 revoked_jwts.go
//	GET  /.well-known/ssf-configuration, POST|DELETE /ssf/streams, POST /ssf/poll/{id}  ssf.go
//	GET  /.well-known/oauth-authorization-server  metadata.go
//	GET  /.well-known/openid-configuration    metadata.go
//	GET|POST /oauth2/userinfo                 userinfo.go
//	GET  /.well-known/jwks.json               jwks.go
//	POST /oauth2/register, GET|PUT|DELETE /oauth2/register/{id}  register.go (RFC 7591/7592; only when registration is on)
//
// Every error answer goes through writeError (errors.go).
func (p *Provider) Mount(r *mux.Router) {
	// CORS (cors.go): token and revoke for public clients' origins;
	// introspection and the revocation list are for servers only.
	r.Handle("/oauth2/token", p.corsClients(p.limit(p.handleToken))).Methods(http.MethodPost, http.MethodOptions)
	r.Handle("/oauth2/revoke", p.corsClients(p.limit(p.handleRevoke))).Methods(http.MethodPost, http.MethodOptions)
	r.Handle("/oauth2/introspect", p.limit(p.handleIntrospect)).Methods(http.MethodPost)
	r.Handle("/oauth2/par", p.limit(p.handlePAR)).Methods(http.MethodPost)
	r.Handle("/oauth2/device/auth", p.limit(p.handleDeviceAuthorization)).Methods(http.MethodPost)
	r.HandleFunc("/oauth2/revoked-jwts", p.handleRevokedJWTs).Methods(http.MethodGet)
	r.Handle("/.well-known/oauth-authorization-server", corsPublic(p.handleMetadata)).Methods(http.MethodGet, http.MethodOptions)
	r.Handle("/.well-known/openid-configuration", corsPublic(p.handleOpenIDConfiguration)).Methods(http.MethodGet, http.MethodOptions)
	r.Handle("/.well-known/jwks.json", corsPublic(p.handleJWKS)).Methods(http.MethodGet, http.MethodOptions)
	r.Handle("/oauth2/userinfo", corsBearer(p.handleUserInfo)).Methods(http.MethodGet, http.MethodPost, http.MethodOptions)
	p.mountSSF(r)
	p.mountRegistration(r)
	for _, path := range []string{"/oauth2/token", "/oauth2/revoke", "/oauth2/introspect", "/oauth2/par", "/oauth2/device/auth"} {
		r.HandleFunc(path, p.methodNotAllowed)
	}
}

func (p *Provider) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", http.MethodPost)
	p.writeError(w, r, oauthError(http.StatusMethodNotAllowed, "invalid_request", "This endpoint accepts POST only."))
}
