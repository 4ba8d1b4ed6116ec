package bearer

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/petstore-auth/petstore-auth/pkg/apikey"
	"github.com/petstore-auth/petstore-auth/pkg/dpop"
	"github.com/petstore-auth/petstore-auth/pkg/tokenformat"
)

// Errors returned by Verify. Wrapped errors carry the reason for logs;
// responses never reveal it.
var (
	// ErrMissing: no Bearer credential at all (401 without an error code).
	ErrMissing = errors.New("bearer: no credentials")
	// ErrInvalid: the credential is malformed, unknown, expired, revoked or
	// not meant for this API (401 invalid_token).
	ErrInvalid = errors.New("bearer: invalid token")
	// ErrUnavailable: the authorization server could not give an answer
	// (503); the credential may well be valid.
	ErrUnavailable = errors.New("bearer: authorization server unavailable")
	// ErrAudience: a valid token issued for another resource server (RFC
	// 8707); it is an ErrInvalid whose challenge says why.
	ErrAudience = fmt.Errorf("%w: audience", ErrInvalid)
	// ErrBadRequest: the request carries credentials the wrong way, e.g. two
	// Authorization headers or a token in the URL (400 invalid_request).
	ErrBadRequest = errors.New("bearer: malformed request")
)

// Kinds of credential a Principal was authenticated with.
const (
	KindJWT    = "jwt"
	KindOpaque = "opaque"
	KindAPIKey = "api_key"
)

// Principal is who is calling, as established by the credential.
type Principal struct {
	Subject  string // user id; for client_credentials tokens the client id
	ClientID string // the OAuth client; empty for API keys
	Scopes   []string
	Kind     string    // KindJWT, KindOpaque or KindAPIKey
	Expiry   time.Time // zero when the credential does not expire
	// JKT is the thumbprint of the DPoP key the token is bound to (cnf.jkt,
	// RFC 9449 §6); "" for a bearer token.
	JKT string
	// tokenID is the introspection's jti, which revocation events name
	// (events.go).
	tokenID string
}

// HasScope reports whether the principal was granted scope (exact match).
func (p *Principal) HasScope(scope string) bool {
	for _, s := range p.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

func (p *Principal) clone() *Principal {
	c := *p
	c.Scopes = append([]string(nil), p.Scopes...)
	return &c
}

// Defaults applied to zero-valued Verifier fields.
const (
	// DefaultAudience is the development API's identifier: its URL.
	DefaultAudience = "http://127.0.0.1:8081"
	// LegacyAudience is the audience of every token issued before resource
	// indicators; petstore-api accepts it by default for this release.
	LegacyAudience                = "petstore-api"
	DefaultMode                   = apikey.EnvTest
	DefaultCacheTTL               = 30 * time.Second
	DefaultNegativeTTL            = 5 * time.Second
	DefaultCacheSize              = 10000
	DefaultNegativeCacheSize      = 10000
	DefaultRevocationPollInterval = 5 * time.Second
	DefaultRevocationMaxAge       = 60 * time.Second

	// Leeway is the clock skew tolerated on exp, nbf and iat.
	Leeway = 30 * time.Second
	// callTimeout bounds every call to the authorization server, whatever
	// HTTPClient says, so a hung server turns into a 503 quickly.
	callTimeout = 2 * time.Second
	// jwksMinRefetch rate-limits JWKS fetches triggered by unknown key ids.
	jwksMinRefetch = 10 * time.Second
	// jwksMaxAge makes keys removed from the JWKS stop being trusted.
	jwksMaxAge = 5 * time.Minute
)

// Verifier checks bearer credentials against the authorization server. Set
// the exported fields before first use and do not change them afterwards;
// zero values take the defaults above.
type Verifier struct {
	Issuer       string // e.g. http://127.0.0.1:8080; JWT iss must equal it exactly
	ClientID     string // this API's own client, allowed to introspect
	ClientSecret string
	// Audience is this API's resource identifier (RFC 8707), its public
	// URL: a token's aud (JWT or introspection) must include it or one of
	// AcceptAudiences. API keys need no audience.
	Audience string
	// AcceptAudiences are further audiences accepted, e.g. LegacyAudience
	// while tokens issued before resource indicators are still alive.
	AcceptAudiences []string
	// ResourceMetadata is the URL of this API's RFC 9728 metadata, named
	// in every 401 challenge ("" leaves it out).
	ResourceMetadata string
	Mode             string // "live" or "test": API keys of the other environment are invalid

	HTTPClient  *http.Client
	CacheTTL    time.Duration // upper bound on how long a positive answer is reused
	NegativeTTL time.Duration
	CacheSize   int // entries; random eviction when full
	// NegativeCacheSize bounds the refused credentials remembered for
	// NegativeTTL. They live apart from the positive answers so that a
	// flood of unknown tokens can never evict a known one.
	NegativeCacheSize int

	RevocationPollInterval time.Duration // how often Run polls the JWT revocation list
	RevocationMaxAge       time.Duration // older than this, JWTs are refused (503)

	// PublicURL is this API's public base URL (scheme://host[:port]), the
	// start of the htu of DPoP proofs; "" derives it from the request
	// (clientaddr.Scheme and Host).
	PublicURL string
	// DPoP checks proofs; nil: the defaults with an in-process replay
	// cache (set a dpop.Redis replay when replicas share the load).
	DPoP *dpop.Validator

	Now    func() time.Time
	Logger *slog.Logger
	// OnEvent, when set, is called after each security event received by
	// ReceiveEvents was processed: err is nil when it was applied.
	OnEvent func(jti string, err error)

	once     sync.Once
	cache    *cache
	negCache *cache // refused credentials only
	jwtCache *cache // verified JWTs: signature checks cost more than the request
	inflight singleflight.Group
	jwks     jwksState
	revoke   revocationList

	hits, misses, introspections atomic.Uint64
	// revGen counts revocations applied from events (events.go).
	revGen atomic.Uint64
}

// CacheStats counts introspection-cache lookups.
type CacheStats struct {
	Hits, Misses uint64
	// Introspections is the number of calls made to the introspection
	// endpoint (misses that reached the network).
	Introspections uint64
}

// Stats returns the cache counters.
func (v *Verifier) Stats() CacheStats {
	return CacheStats{Hits: v.hits.Load(), Misses: v.misses.Load(), Introspections: v.introspections.Load()}
}

func (v *Verifier) init() {
	v.once.Do(func() {
		if v.Audience == "" {
			v.Audience = DefaultAudience
		}
		if v.Mode == "" {
			v.Mode = DefaultMode
		}
		if v.HTTPClient == nil {
			v.HTTPClient = &http.Client{Timeout: callTimeout}
		}
		if v.CacheTTL <= 0 {
			v.CacheTTL = DefaultCacheTTL
		}
		if v.NegativeTTL <= 0 {
			v.NegativeTTL = DefaultNegativeTTL
		}
		if v.CacheSize <= 0 {
			v.CacheSize = DefaultCacheSize
		}
		if v.NegativeCacheSize <= 0 {
			v.NegativeCacheSize = DefaultNegativeCacheSize
		}
		if v.RevocationPollInterval <= 0 {
			v.RevocationPollInterval = DefaultRevocationPollInterval
		}
		if v.RevocationMaxAge <= 0 {
			v.RevocationMaxAge = DefaultRevocationMaxAge
		}
		if v.Now == nil {
			v.Now = time.Now
		}
		if v.Logger == nil {
			v.Logger = slog.Default()
		}
		if v.DPoP == nil {
			v.DPoP = &dpop.Validator{Replay: &dpop.Memory{Now: v.Now}, Now: v.Now}
		}
		v.Issuer = strings.TrimRight(v.Issuer, "/")
		v.cache = newCache(v.CacheSize)
		v.negCache = newCache(v.NegativeCacheSize)
		v.jwtCache = newCache(v.CacheSize)
		v.revoke.jtis = map[string]time.Time{}
	})
}

// Verify checks the bearer credential in one Authorization header value.
// It returns ErrMissing, ErrInvalid or ErrUnavailable (possibly wrapped),
// or the principal. A DPoP-bound token is ErrInvalid here: it needs its
// proof (Require checks both schemes). The caller checks scopes.
func (v *Verifier) Verify(ctx context.Context, authorization string) (*Principal, error) {
	v.init()
	token, err := ParseAuthorization(authorization)
	if err != nil {
		return nil, err
	}
	p, err := v.verifyToken(ctx, token)
	if err == nil && p.JKT != "" {
		return nil, dpopScheme{fmt.Errorf("%w: DPoP-bound token presented as a bearer token", ErrInvalid)}
	}
	return p, err
}

// verifyToken checks a token under any scheme.
func (v *Verifier) verifyToken(ctx context.Context, token string) (*Principal, error) {
	switch {
	case apikey.LooksLikeKey(token):
		k, err := apikey.Parse(token)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		if k.Env != v.Mode {
			return nil, fmt.Errorf("%w: %s key on a %s server", ErrInvalid, k.Env, v.Mode)
		}
		return v.introspectCached(ctx, token, KindAPIKey)
	case looksLikeJWT(token):
		return v.verifyJWTCached(ctx, token)
	default:
		// Only our own opaque tokens are worth a network call; a made-up,
		// mistyped or truncated one fails its checksum here. Tokens issued
		// before checksums existed pass on their shape alone.
		if _, _, err := tokenformat.Open(tokenformat.AccessToken, token); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		return v.introspectCached(ctx, token, KindOpaque)
	}
}

// audienceOK reports whether aud names this API (Audience or one of
// AcceptAudiences).
func (v *Verifier) audienceOK(aud []string) bool {
	for _, a := range aud {
		if a == v.Audience || slices.Contains(v.AcceptAudiences, a) {
			return true
		}
	}
	return false
}

// Known reports whether the credential in an Authorization header value has
// a cached positive answer: it would be accepted (scopes aside) without a
// call to the authorization server. Rate limits use it so that a flood of
// unknown credentials from an address never locks out known ones.
func (v *Verifier) Known(authorization string) bool {
	v.init()
	token, err := ParseAuthorization(authorization)
	if err != nil {
		return false
	}
	key := sha256.Sum256([]byte(token))
	now := v.Now()
	if looksLikeJWT(token) {
		e, ok := v.jwtCache.get(key, now)
		return ok && e.principal != nil
	}
	e, ok := v.cache.get(key, now)
	return ok && e.principal != nil
}

// introspectCached answers from the cache or asks the authorization server.
// Only definitive answers are cached; ErrUnavailable never is.
func (v *Verifier) introspectCached(ctx context.Context, token, kind string) (*Principal, error) {
	key := sha256.Sum256([]byte(token))
	now := v.Now()
	if e, ok := v.cache.get(key, now); ok {
		v.hits.Add(1)
		return e.principal.clone(), nil
	}
	if e, ok := v.negCache.get(key, now); ok {
		v.hits.Add(1)
		return nil, e.err
	}
	v.misses.Add(1)
	// Concurrent misses for one token share one call; it is detached from
	// the first caller's cancellation (callTimeout still bounds it), so one
	// client hanging up does not fail the others. gen is revGen when the
	// call started (events.go).
	type answer struct {
		p   *Principal
		gen uint64
	}
	res, err, _ := v.inflight.Do(string(key[:]), func() (any, error) {
		gen := v.revGen.Load()
		p, err := v.introspect(context.WithoutCancel(ctx), token, kind)
		return answer{p, gen}, err
	})
	a, _ := res.(answer)
	p := a.p
	switch {
	case errors.Is(err, ErrUnavailable):
		return nil, err
	case err != nil:
		v.negCache.put(key, cacheEntry{err: err, expires: now.Add(v.NegativeTTL)})
		return nil, err
	}
	ttl := v.CacheTTL
	if !p.Expiry.IsZero() && p.Expiry.Sub(now) < ttl {
		ttl = p.Expiry.Sub(now)
	}
	v.cache.put(key, cacheEntry{principal: p, expires: now.Add(ttl), jti: p.tokenID})
	if v.revGen.Load() != a.gen {
		// A revocation event was applied meanwhile: this answer may
		// predate it, so it is not kept.
		v.cache.drop(key)
	}
	return p.clone(), nil
}
