package provider

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/handler/pkce"
	"github.com/ory/fosite/storage"
	"github.com/ory/fosite/token/hmac"

	"github.com/petstore-auth/petstore-auth/pkg/dpop"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/ratelimit"
)

// Storage is what the provider needs from the database.
type Storage interface {
	fosite.ClientManager
	oauth2.CoreStorage
	oauth2.TokenRevocationStorage
	pkce.PKCERequestStorage
	storage.Transactional
	// BeginFlatTX is BeginTX whose nested transactions join it
	// (rotateRefresh in refresh_grace.go).
	BeginFlatTX(ctx context.Context) (context.Context, error)
	// WithCodeMemo returns ctx in which the code being redeemed is read
	// from the database once (token.go exchange).
	WithCodeMemo(ctx context.Context) context.Context
	fosite.PARStorage
	// ConsumePARSession marks a pushed request used (par.go).
	ConsumePARSession(ctx context.Context, requestURI string) error
	identity.SigningKeyStore
	identity.RevocationList
	identity.SecurityEventStore
	SaveRotation(ctx context.Context, oldRefreshSignature string, sealed []byte) error
	RotationOf(ctx context.Context, oldRefreshSignature string) (identity.Rotation, error)
	APIKeyByHash(ctx context.Context, hash []byte) (*identity.APIKey, error)
	TouchAPIKeys(ctx context.Context, lastUsed map[string]time.Time) error
	SetRefreshTokenScopes(ctx context.Context, refreshSignature string, scopes []string) error
	// TouchClient records a token issued to a self-registered client.
	TouchClient(ctx context.Context, id string, now time.Time) error
	SetRefreshTokenAudience(ctx context.Context, refreshSignature string, audience []string) error
	// The OpenID Connect request of a code, by the code's signature
	// (fosite_storage.go adapts them to openid.OpenIDConnectRequestStorage).
	CreateOIDCRequest(ctx context.Context, signature string, req fosite.Requester) error
	GetOIDCRequest(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error)
	DeleteOIDCRequest(ctx context.Context, signature string) error
	// UserByID feeds UserInfo (userinfo.go).
	UserByID(ctx context.Context, id string) (*identity.User, error)
	// ListClients feeds the CORS origins of public clients (cors.go).
	ListClients(ctx context.Context, f identity.ClientFilter) ([]*identity.Client, int, error)
	DeviceStorage
}

// Config is the part of the server configuration the protocol core needs.
type Config struct {
	Issuer string
	// Secret is the system secret; keys for token HMACs and sealing are
	// derived from it.
	Secret []byte
	// PreviousSecrets are being rotated out: what they made still
	// validates (opaque tokens, sealed signing keys and refresh successors);
	// nothing new is made with them.
	PreviousSecrets              [][]byte
	AuthorizeCodeLifespan        time.Duration
	AccessTokenLifespan          time.Duration
	RefreshTokenIdleLifespan     time.Duration
	RefreshTokenAbsoluteLifespan time.Duration
	RefreshGraceWindow           time.Duration
	// Resources are the resource servers tokens are issued for (RFC 8707);
	// the first is the default audience (resource.go).
	Resources identity.Resources
	// Requests per minute on token, introspect and revoke; 0 is unlimited.
	// PerIP counts requests that did not authenticate a confidential
	// client, PerClient those that did (see limit.go).
	RateLimitPerIP, RateLimitPerClient int
	// Failed client authentications per minute, by address and by the
	// client id named; 0 is unlimited.
	RateLimitFailedAuthPerIP, RateLimitFailedAuthPerClient int
	// AllowPrivateJWKSURIs lets private_key_jwt clients' jwks_uri reach
	// loopback and private addresses (development and tests only).
	AllowPrivateJWKSURIs bool
	// RegistrationPolicy is manage.RegistrationOff, Open or Token; the
	// registration endpoint exists only when it is not off and
	// Options.Registrar is set (register.go).
	RegistrationPolicy string
	// RegistrationPerHour bounds registrations per address and hour; 0 is
	// unlimited.
	RegistrationPerHour int
	// ClientIDMetadataDocuments: client ids that are https URLs are
	// resolved by fetching their document (the store's resolver);
	// advertised as client_id_metadata_document_supported.
	ClientIDMetadataDocuments bool
	// DPoPWindow bounds |now - iat| of DPoP proofs; zero is dpop.DefaultWindow.
	DPoPWindow time.Duration
	// DPoPNonce makes a server nonce (RFC 9449 §8) required in proofs; the
	// nonces derive from Secret, so replicas agree on them.
	DPoPNonce bool
	// RequirePAR refuses authorization requests that were not pushed
	// (RFC 9126 require_pushed_authorization_requests), for every client.
	RequirePAR bool
}

// Provider is the protocol core: fosite composed over our storage.
type Provider struct {
	// OAuth2 is fosite's provider, used by the web package for /oauth2/auth.
	OAuth2 fosite.OAuth2Provider
	Issuer string

	fosite   *fosite.Fosite
	cfg      Config
	store    Storage
	strategy *tokenStrategy
	sealer   *sealer
	audit    identity.AuditLog
	log      *slog.Logger
	now      func() time.Time
	keyUsage keyUsage
	limiter  ratelimit.Limiter
	// grantTypes are the token endpoint's grants (token.go).
	grantTypes map[string]grant
	// jwks caches private_key_jwt clients' key sets (jwks_fetch.go).
	jwks *jwksFetcher

	corsOrigins corsOrigins
	registrar   Registrar
	dpop        *dpop.Validator
	// polls closes when the server shuts down, answering held event polls
	// at once (ssf.go).
	polls       chan struct{}
	releasePoll sync.Once
}

// Options are the optional collaborators of New.
type Options struct {
	Audit   identity.AuditLog // nil: events are only logged
	Limiter ratelimit.Limiter // nil: in-process counters
	Logger  *slog.Logger
	Now     func() time.Time
	// Registrar carries out RFC 7591/7592 registration (manage.Service).
	Registrar Registrar
	// DPoPReplay remembers used DPoP proofs; nil: in process (one
	// replica only: share Redis between replicas).
	DPoPReplay dpop.Replay
}

// idTokenLifespan is how long an ID token is valid (its exp): fosite's
// default, stated here because a retired key stays published that long.
const idTokenLifespan = time.Hour

// New composes fosite with an explicit list of handlers and loads the JWT
// signing keys (creating the first one when there is none).
func New(ctx context.Context, cfg Config, st Storage, opts Options) (*Provider, error) {
	if len(cfg.Secret) < 32 {
		return nil, errors.New("provider: system secret shorter than 32 bytes")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	fc := &fosite.Config{
		IDTokenIssuer:                  cfg.Issuer,
		AccessTokenIssuer:              cfg.Issuer,
		TokenURL:                       cfg.Issuer + "/oauth2/token",
		AuthorizeCodeLifespan:          cfg.AuthorizeCodeLifespan,
		AccessTokenLifespan:            cfg.AccessTokenLifespan,
		IDTokenLifespan:                idTokenLifespan,
		RefreshTokenLifespan:           cfg.RefreshTokenIdleLifespan,
		GlobalSecret:                   deriveKey(cfg.Secret, "token-hmac"),
		RotatedGlobalSecrets:           deriveKeys(cfg.PreviousSecrets, "token-hmac"),
		EnforcePKCE:                    true,
		EnablePKCEPlainChallengeMethod: false,
		ScopeStrategy:                  fosite.ExactScopeStrategy,
		ClientSecretsHasher:            SHA256Hasher{},
		RefreshTokenScopes:             []string{identity.ScopeOfflineAccess},
		SendDebugMessagesToClients:     false,
		// No minimum state length (fosite's default is 8, answered with the
		// non-RFC invalid_state): PKCE is required for every client, so a
		// short state is echoed as sent and a missing one is accepted by
		// pkg/web (DESIGN §5). fosite treats values below 1 as its default.
		MinParameterEntropy: 1,
		// RFC 9126; enforcement per client and globally is pkg/web's, so
		// that a refusal reaches the client at its redirect URI.
		PushedAuthorizeRequestURIPrefix: parURIPrefix,
		PushedAuthorizeContextLifespan:  parLifespan,
	}
	if len(cfg.Resources) == 0 {
		return nil, errors.New("provider: no resource server configured (resources)")
	}
	seal, err := newSealer(deriveKey(cfg.Secret, "seal"), deriveKeys(cfg.PreviousSecrets, "seal")...)
	if err != nil {
		return nil, err
	}
	if opts.Limiter == nil {
		opts.Limiter = &ratelimit.Memory{Now: opts.Now}
	}
	p := &Provider{polls: make(chan struct{}), Issuer: cfg.Issuer, cfg: cfg, store: st, sealer: seal, audit: opts.Audit, log: opts.Logger, now: opts.Now, limiter: opts.Limiter,
		registrar: opts.Registrar}
	fc.AudienceMatchingStrategy = p.audienceStrategy
	p.keyUsage.seen = map[string]time.Time{}
	if opts.DPoPReplay == nil {
		opts.DPoPReplay = &dpop.Memory{Now: opts.Now}
	}
	p.dpop = &dpop.Validator{Window: cfg.DPoPWindow, Replay: opts.DPoPReplay, Now: opts.Now}
	if cfg.DPoPNonce {
		p.dpop.Nonces = &dpop.Nonces{Key: deriveKey(cfg.Secret, "dpop-nonce"), Now: opts.Now}
	}
	p.jwks = newJWKSFetcher(cfg.AllowPrivateJWKSURIs, opts.Now)
	// Every client authentication (token, introspect, revoke) goes
	// through authenticateClient (client_assertion.go).
	fc.ClientAuthenticationStrategy = p.authenticateClient
	p.strategy = &tokenStrategy{
		hmac: oauth2.NewHMACSHAStrategyUnPrefixed(&hmac.HMACStrategy{Config: fc}, fc),
		jwt: &jwtIssuer{issuer: cfg.Issuer, keys: st, sealer: seal, now: opts.Now,
			publishFor: max(cfg.AccessTokenLifespan, idTokenLifespan) + 5*time.Minute},
	}
	if err := p.strategy.jwt.reload(ctx); err != nil {
		return nil, err
	}
	signer := idTokenSigner{keys: p.strategy.jwt}
	strategy := &compose.CommonStrategy{CoreStrategy: p.strategy, Signer: signer,
		OpenIDConnectTokenStrategy: idTokenStrategy{openid.DefaultStrategy{Signer: signer, Config: fc}}}
	// The OpenID Connect handlers come after the OAuth 2.0 code and refresh
	// handlers they extend (fosite's rule); implicit and hybrid are off.
	p.fosite = composeWith(fc, refreshScopes{fc}, &fositeStorage{Storage: st, p: p}, strategy,
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2PKCEFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OAuth2ClientCredentialsGrantFactory,
		compose.OAuth2TokenRevocationFactory,
		compose.OAuth2TokenIntrospectionFactory,
		compose.OpenIDConnectExplicitFactory,
		compose.OpenIDConnectRefreshFactory,
		compose.PushedAuthorizeHandlerFactory,
	).(*fosite.Fosite)
	p.OAuth2 = codeRowProvider{Fosite: p.fosite, p: p}
	// The device grant (token_device.go): fosite has no handler for it.
	fc.TokenEndpointHandlers.Append(deviceTokenHandler{p})
	p.grantTypes = p.grants()
	return p, nil
}

// RotateKeys makes new signing keys current, one per algorithm (ES256,
// RS256); the previous keys stay in the JWKS until the tokens they signed
// have expired.
func (p *Provider) RotateKeys(ctx context.Context) ([]*identity.SigningKey, error) {
	k, err := p.strategy.jwt.rotate(ctx)
	if err != nil {
		return nil, err
	}
	return k, p.strategy.jwt.reload(ctx)
}

// Run does the provider's background work until ctx ends: flushing API-key
// last-used times (coalesced, one write per interval, not per request).
func (p *Provider) Run(ctx context.Context) {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			p.flushKeyUsage(context.WithoutCancel(ctx))
			return
		case <-t.C:
			p.flushKeyUsage(ctx)
		}
	}
}

// keyUsage coalesces API-key last-used times in memory.
type keyUsage struct {
	mu      sync.Mutex
	pending map[string]time.Time
	seen    map[string]time.Time // last flushed value per key, to skip no-op writes
}

func (p *Provider) noteKeyUse(k *identity.APIKey) (first bool) {
	p.keyUsage.mu.Lock()
	defer p.keyUsage.mu.Unlock()
	if p.keyUsage.pending == nil {
		p.keyUsage.pending = map[string]time.Time{}
	}
	_, pending := p.keyUsage.pending[k.ID]
	_, seen := p.keyUsage.seen[k.ID]
	p.keyUsage.pending[k.ID] = p.now().UTC()
	return k.LastUsedAt == nil && !pending && !seen
}

func (p *Provider) flushKeyUsage(ctx context.Context) {
	p.keyUsage.mu.Lock()
	batch := p.keyUsage.pending
	p.keyUsage.pending = nil
	p.keyUsage.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	if err := p.store.TouchAPIKeys(ctx, batch); err != nil {
		p.log.Warn("record api key last use", "err", err, "keys", len(batch))
		return
	}
	p.keyUsage.mu.Lock()
	for id, t := range batch {
		p.keyUsage.seen[id] = t
	}
	p.keyUsage.mu.Unlock()
}

// record writes an audit event (the audit log also writes its slog line).
// Never pass secrets.
func (p *Provider) record(ctx context.Context, typ, outcome, clientID, userID string, details map[string]string) {
	e := &identity.AuditEvent{Time: p.now().UTC(), Type: typ, Outcome: outcome, ActorID: clientID, UserID: userID, ClientID: clientID, Details: details}
	if p.audit == nil {
		p.log.InfoContext(ctx, "audit", "event", typ, "outcome", outcome, "client_id", clientID, "user_id", userID)
		return
	}
	if err := p.audit.RecordAudit(context.WithoutCancel(ctx), e); err != nil {
		p.log.Warn("audit write failed", "event", typ, "err", err)
	}
}

// composeWith is compose.Compose with the handlers built on cfg, a
// Configurator over fc (fosite's Compose hands every factory fc itself),
// registered in fc's handler lists.
func composeWith(fc *fosite.Config, cfg fosite.Configurator, st any, strategy any, factories ...compose.Factory) fosite.OAuth2Provider {
	f := fosite.NewOAuth2Provider(st.(fosite.Storage), grantHandlers{fc})
	for _, factory := range factories {
		res := factory(cfg, st, strategy)
		if h, ok := res.(fosite.AuthorizeEndpointHandler); ok {
			fc.AuthorizeEndpointHandlers.Append(h)
		}
		if h, ok := res.(fosite.TokenEndpointHandler); ok {
			fc.TokenEndpointHandlers.Append(h)
		}
		if h, ok := res.(fosite.TokenIntrospector); ok {
			fc.TokenIntrospectionHandlers.Append(h)
		}
		if h, ok := res.(fosite.RevocationHandler); ok {
			fc.RevocationHandlers.Append(h)
		}
		if h, ok := res.(fosite.PushedAuthorizeEndpointHandler); ok {
			fc.PushedAuthorizeEndpointHandlers.Append(h)
		}
	}
	return f
}

// grantHandlers is the configuration fosite's own pipeline reads: with the
// access request in the context, the token endpoint handlers are only those
// that handle its grant type. fosite asks every handler for a response, and
// each of the others builds an error with a stack trace to say it does not
// apply: a tenth of the CPU of a client_credentials token. Every handler's
// CanHandleTokenEndpointRequest depends on the grant type alone, and fosite
// asks it before handling a request, so the answers are unchanged.
type grantHandlers struct{ *fosite.Config }

func (c grantHandlers) GetTokenEndpointHandlers(ctx context.Context) fosite.TokenEndpointHandlers {
	all := c.Config.GetTokenEndpointHandlers(ctx)
	ar, ok := ctx.Value(fosite.AccessRequestContextKey).(fosite.AccessRequester)
	if !ok {
		return all
	}
	mine := make(fosite.TokenEndpointHandlers, 0, 3)
	for _, h := range all {
		if h.CanHandleTokenEndpointRequest(ctx, ar) {
			mine = append(mine, h)
		}
	}
	return mine
}

// refreshScopes is the fosite configuration with one rule of ours: the
// scopes that earn a refresh token (fosite's RefreshTokenScopes,
// offline_access) are not required of a client for which
// identity.GetsRefreshWithoutOfflineAccess holds — a self-registered
// assistant whose grant types include refresh_token. fosite asks with the
// token request in the context (access_request_handler.go,
// access_response_writer.go).
type refreshScopes struct{ *fosite.Config }

func (c refreshScopes) GetRefreshTokenScopes(ctx context.Context) []string {
	if ar, ok := ctx.Value(fosite.AccessRequestContextKey).(fosite.AccessRequester); ok && ar.GetClient() != nil {
		if ic, ok := ar.GetClient().(identityClient); ok && identity.GetsRefreshWithoutOfflineAccess(ic.Identity()) {
			return nil
		}
	}
	return c.Config.GetRefreshTokenScopes(ctx)
}
