package provider

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ory/fosite"
)

// graceStorage is the storage fosite sees: ours, plus sealing the successor
// pair of a refresh rotation in the same transaction that rotates the old
// token, so that a replay within the grace window can answer with it.
type graceStorage struct {
	Storage
	p       *Provider
	clients clientCache
}

// GetClient answers from a cache of a few seconds: every token and
// introspection request authenticates a client, and the row rarely changes.
// A disabled or deleted client is refused everywhere within clientCacheTTL.
func (g *graceStorage) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	if c, ok := g.clients.get(id, g.p.now()); ok {
		return c, nil
	}
	c, err := g.Storage.GetClient(ctx, id)
	if err != nil && !errors.Is(err, fosite.ErrNotFound) {
		// Marked so that the endpoints answer 503, not invalid_client: a
		// client must not conclude its credentials are wrong during an outage.
		return nil, fosite.ErrTemporarilyUnavailable.WithWrap(err)
	}
	if err != nil {
		return nil, err
	}
	g.clients.put(id, c, g.p.now())
	return c, nil
}

const clientCacheTTL = 3 * time.Second

type clientCache struct {
	mu sync.Mutex
	m  map[string]cachedClient
}

type cachedClient struct {
	c   fosite.Client
	exp time.Time
}

func (cc *clientCache) get(id string, now time.Time) (fosite.Client, bool) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	e, ok := cc.m[id]
	if !ok || now.After(e.exp) {
		return nil, false
	}
	return e.c, true
}

func (cc *clientCache) put(id string, c fosite.Client, now time.Time) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.m == nil || len(cc.m) > 10_000 {
		cc.m = map[string]cachedClient{} // bounded: a flood of ids cannot grow it
	}
	cc.m[id] = cachedClient{c, now.Add(clientCacheTTL)}
}

// errGraceReplay marks a rotated refresh token presented again within the
// grace window. It stops fosite from treating the request as reuse (which
// would revoke the family) when the request read the token just after a
// parallel rotation committed; the token endpoint answers it with the
// sealed successor pair instead.
var errGraceReplay = errors.New("refresh token rotated within the grace window")

// tokenCaller is the client that authenticated at the token endpoint, read
// from the access request fosite carries in the context; "" elsewhere
// (revocation, introspection) and before the client has authenticated.
func tokenCaller(ctx context.Context) (string, bool) {
	ar, ok := ctx.Value(fosite.AccessRequestContextKey).(fosite.AccessRequester)
	if !ok || ar.GetClient() == nil {
		return "", false
	}
	return ar.GetClient().GetID(), true
}

// notTheCallers reports whether req, found at the token endpoint, belongs
// to another client than the one that authenticated. fosite checks the
// owner only after acting on a used code or a rotated refresh token
// (revoking what they issued), so another client presenting them would
// revoke the owner's tokens: such a credential is answered as unknown
// (RFC 6749 §4.1.3, §6: it was not issued to the caller) and changes nothing.
func notTheCallers(ctx context.Context, req fosite.Requester) bool {
	caller, ok := tokenCaller(ctx)
	return ok && req != nil && req.GetClient() != nil && req.GetClient().GetID() != caller
}

// GetAuthorizeCodeSession hides another client's code from the token
// endpoint (see notTheCallers).
func (g *graceStorage) GetAuthorizeCodeSession(ctx context.Context, sig string, s fosite.Session) (fosite.Requester, error) {
	req, err := g.Storage.GetAuthorizeCodeSession(ctx, sig, s)
	if notTheCallers(ctx, req) {
		return nil, fosite.ErrNotFound
	}
	return req, err
}

// GetRefreshTokenSession hides another client's refresh token from the
// token endpoint (see notTheCallers) and there reports a recently rotated
// token as errGraceReplay rather than fosite.ErrInactiveToken. Revocation
// and introspection see the stored verdict unchanged.
func (g *graceStorage) GetRefreshTokenSession(ctx context.Context, sig string, s fosite.Session) (fosite.Requester, error) {
	req, err := g.Storage.GetRefreshTokenSession(ctx, sig, s)
	if notTheCallers(ctx, req) {
		return nil, fosite.ErrNotFound
	}
	if _, atToken := tokenCaller(ctx); atToken && errors.Is(err, fosite.ErrInactiveToken) && g.p.cfg.RefreshGraceWindow > 0 {
		if rot, rerr := g.Storage.RotationOf(ctx, sig); rerr == nil && len(rot.Sealed) > 0 &&
			g.p.now().Sub(rot.RotatedAt) <= g.p.cfg.RefreshGraceWindow {
			return req, errGraceReplay
		}
	}
	return req, err
}

// successor is the sealed answer to a refresh request.
type successor struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token"`
	Scope        string    `json:"scope"`
	ExpiresAt    time.Time `json:"expires_at"`
	RefreshSig   string    `json:"refresh_sig"`
	// Requested is the normalised scope parameter of the rotating request.
	Requested string `json:"requested,omitempty"`
}

// withScope is a requester whose granted scope is replaced: the new refresh
// token keeps the grant's full scope while its access token was narrowed.
type withScope struct {
	fosite.Requester
	scope fosite.Arguments
}

func (w withScope) GetGrantedScopes() fosite.Arguments { return w.scope }

func (g *graceStorage) CreateRefreshTokenSession(ctx context.Context, sig, accessSig string, r fosite.Requester) error {
	c, ok := ctx.Value(issuedKey{}).(*issued)
	stored := r
	if ok && c.grantScope != nil {
		stored = withScope{r, c.grantScope}
	}
	if err := g.Storage.CreateRefreshTokenSession(ctx, sig, accessSig, stored); err != nil {
		return err
	}
	if !ok || c.oldSignature == "" || g.p.cfg.RefreshGraceWindow <= 0 {
		return nil
	}
	blob, err := json.Marshal(successor{
		AccessToken: c.access, RefreshToken: c.refresh, Scope: strings.Join(r.GetGrantedScopes(), " "),
		ExpiresAt: r.GetSession().GetExpiresAt(fosite.AccessToken), RefreshSig: sig, Requested: c.requested,
	})
	if err != nil {
		return err
	}
	return g.Storage.SaveRotation(ctx, c.oldSignature, g.p.sealer.seal(blob, []byte(c.oldSignature)))
}

// replayRotation answers a refresh request whose token was rotated within
// the grace window with the same successor pair. It reports false when the
// request is not such a replay; fosite then handles it (and treats a late
// replay as reuse, revoking the family).
func (p *Provider) replayRotation(w http.ResponseWriter, r *http.Request) bool {
	ctx := r.Context()
	if p.cfg.RefreshGraceWindow <= 0 {
		return false
	}
	oldSig := p.strategy.RefreshTokenSignature(ctx, r.PostForm.Get("refresh_token"))
	rot, err := p.store.RotationOf(ctx, oldSig)
	if err != nil || len(rot.Sealed) == 0 || p.now().Sub(rot.RotatedAt) > p.cfg.RefreshGraceWindow {
		return false
	}
	client, err := p.fosite.AuthenticateClient(ctx, r, r.PostForm)
	if err != nil || client.GetID() != rot.ClientID {
		return false
	}
	plain, err := p.sealer.open(rot.Sealed, []byte(oldSig))
	if err != nil {
		return false
	}
	var s successor
	if err := json.Unmarshal(plain, &s); err != nil {
		return false
	}
	// The successor must still be alive: once it was rotated or revoked, the
	// old token is plain reuse.
	if _, err := p.store.GetRefreshTokenSession(ctx, s.RefreshSig, NewSession("", "")); err != nil {
		return false
	}
	// The pair answers the request that made it: a replay asking for
	// another scope would get tokens it did not ask for. It is refused and
	// changes nothing; the client may use the successor it received.
	if normaliseScope(r.PostForm.Get("scope")) != s.Requested {
		p.tokenError(w, r, nil, fosite.ErrInvalidGrant.WithHint("The refresh token was just rotated; repeat the request with the same scope, or use the new refresh token."))
		return true
	}
	p.record(ctx, "token.refresh_replayed", "success", rot.ClientID, "", map[string]string{"request_id": rot.RequestID})
	expiresIn := int64(time.Until(s.ExpiresAt).Seconds())
	if expiresIn < 0 {
		expiresIn = 0
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": s.AccessToken, "refresh_token": s.RefreshToken, "token_type": "bearer",
		"expires_in": expiresIn, "scope": s.Scope,
	})
	return true
}

// lostRace reports whether err is a storage conflict with a parallel request.
func lostRace(err error) bool {
	return errors.Is(err, fosite.ErrSerializationFailure)
}

// normaliseScope is a scope parameter as a sorted set, to compare requests.
func normaliseScope(scope string) string {
	f := strings.Fields(scope)
	slices.Sort(f)
	return strings.Join(slices.Compact(f), " ")
}
