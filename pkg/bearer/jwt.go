package bearer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v3/jwt"
)

// accessClaims are the RFC 9068 claims PetStore reads.
type accessClaims struct {
	jwt.Claims
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
}

// verifyJWT checks an RFC 9068 access token locally: pinned algorithm,
// explicit type, a key from the issuer's JWKS, iss, aud, time, and the
// revocation list.
// verifyJWTCached skips the signature check for a JWT verified before: the
// cached principal is reused until the token's exp (or CacheTTL), while the
// revocation list and the key set are consulted on every request, so a
// revoked token or a withdrawn key is refused as fast as without the cache.
func (v *Verifier) verifyJWTCached(ctx context.Context, token string) (*Principal, error) {
	key := sha256.Sum256([]byte(token))
	now := v.Now()
	if e, ok := v.jwtCache.get(key, now); ok && v.keyTrusted(e.kid, now) {
		revoked, err := v.isRevoked(ctx, e.jti)
		if err != nil {
			return nil, err
		}
		if revoked {
			return nil, fmt.Errorf("%w: revoked", ErrInvalid)
		}
		return e.principal, nil
	}
	p, jti, kid, err := v.verifyJWT(ctx, token)
	if err != nil {
		return nil, err
	}
	exp := p.Expiry.Add(Leeway)
	if limit := now.Add(v.CacheTTL); limit.Before(exp) {
		exp = limit
	}
	v.jwtCache.put(key, cacheEntry{principal: p, expires: exp, jti: jti, kid: kid})
	return p, nil
}

// keyTrusted reports whether kid is in a key set that is still fresh.
func (v *Verifier) keyTrusted(kid string, now time.Time) bool {
	s := &v.jwks
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, known := s.keys[kid]
	return known && now.Sub(s.fetchedAt) <= jwksMaxAge
}

func (v *Verifier) verifyJWT(ctx context.Context, token string) (p *Principal, jti, kid string, err error) {
	p, err = v.checkJWT(ctx, token, &jti, &kid)
	return p, jti, kid, err
}

func (v *Verifier) checkJWT(ctx context.Context, token string, jtiOut, kidOut *string) (*Principal, error) {
	if err := canonicalJWS(token); err != nil {
		return nil, err
	}
	tok, err := jwt.ParseSigned(token)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if len(tok.Headers) != 1 {
		return nil, fmt.Errorf("%w: %d signatures", ErrInvalid, len(tok.Headers))
	}
	h := tok.Headers[0]
	alg := jose.SignatureAlgorithm(h.Algorithm)
	if alg != jose.ES256 && alg != jose.RS256 {
		return nil, fmt.Errorf("%w: algorithm %q not allowed", ErrInvalid, h.Algorithm)
	}
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	if t := strings.TrimPrefix(strings.ToLower(typ), "application/"); t != "at+jwt" {
		// An ID token or a logout token is a JWT too, but not an access
		// token (RFC 8725 §3.11).
		return nil, fmt.Errorf("%w: typ %q", ErrInvalid, typ)
	}
	if h.KeyID == "" {
		return nil, fmt.Errorf("%w: no kid", ErrInvalid)
	}
	key, err := v.key(ctx, h.KeyID, alg)
	if err != nil {
		return nil, err
	}
	var c accessClaims
	if err := tok.Claims(key, &c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	now := v.Now()
	switch {
	case c.Issuer != v.Issuer:
		return nil, fmt.Errorf("%w: issuer %q", ErrInvalid, c.Issuer)
	case !v.audienceOK(c.Audience):
		return nil, fmt.Errorf("%w %v does not include %q", ErrAudience, []string(c.Audience), v.Audience)
	case c.Expiry == nil:
		return nil, fmt.Errorf("%w: no exp", ErrInvalid)
	case !now.Before(c.Expiry.Time().Add(Leeway)):
		return nil, fmt.Errorf("%w: expired", ErrInvalid)
	case c.NotBefore != nil && now.Add(Leeway).Before(c.NotBefore.Time()):
		return nil, fmt.Errorf("%w: not valid yet", ErrInvalid)
	case c.IssuedAt != nil && now.Add(Leeway).Before(c.IssuedAt.Time()):
		return nil, fmt.Errorf("%w: issued in the future", ErrInvalid)
	case c.ID == "":
		return nil, fmt.Errorf("%w: no jti, so it could not be revoked", ErrInvalid)
	}
	revoked, err := v.isRevoked(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	if revoked {
		return nil, fmt.Errorf("%w: revoked", ErrInvalid)
	}
	*jtiOut, *kidOut = c.ID, h.KeyID
	p := &Principal{Subject: c.Subject, ClientID: c.ClientID, Scopes: strings.Fields(c.Scope), Kind: KindJWT,
		Expiry: c.Expiry.Time()}
	if p.Subject == "" {
		p.Subject = p.ClientID
	}
	if p.Subject == "" {
		return nil, fmt.Errorf("%w: no subject", ErrInvalid)
	}
	return p, nil
}

// canonicalJWS refuses segments that are not canonical base64url (non-zero
// padding bits would let one signed token be written several ways) and
// protected headers with a duplicated member (a duplicated "alg" is read
// differently by different parsers).
func canonicalJWS(token string) error {
	header := ""
	for i, seg := range strings.SplitN(token, ".", 3) {
		b, err := base64.RawURLEncoding.Strict().DecodeString(seg)
		if err != nil {
			return fmt.Errorf("%w: segment %d is not canonical base64url", ErrInvalid, i)
		}
		if i == 0 {
			header = string(b)
		}
	}
	dec := json.NewDecoder(strings.NewReader(header))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("%w: header is not a JSON object", ErrInvalid)
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return fmt.Errorf("%w: header: %v", ErrInvalid, err)
		}
		name, _ := t.(string)
		if seen[name] {
			return fmt.Errorf("%w: duplicated header %q", ErrInvalid, name)
		}
		seen[name] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return fmt.Errorf("%w: header: %v", ErrInvalid, err)
		}
	}
	return nil
}

// jwksState holds the issuer's public keys by kid.
type jwksState struct {
	mu        sync.RWMutex // guards keys and fetchedAt
	keys      map[string]jose.JSONWebKey
	fetchedAt time.Time // last successful fetch

	fetchMu     sync.Mutex // one fetch at a time; guards attemptedAt
	attemptedAt time.Time
}

// key returns the public key for kid usable with alg, fetching the JWKS
// when the kid is unknown (at most once per jwksMinRefetch) or the keys are
// old.
func (v *Verifier) key(ctx context.Context, kid string, alg jose.SignatureAlgorithm) (any, error) {
	s := &v.jwks
	s.mu.RLock()
	k, known := s.keys[kid]
	fresh := s.keys != nil && v.Now().Sub(s.fetchedAt) <= jwksMaxAge
	s.mu.RUnlock()
	if !known || !fresh {
		var err error
		if k, known, err = v.refreshJWKS(ctx, kid); err != nil {
			return nil, err
		}
	}
	if !known {
		return nil, fmt.Errorf("%w: unknown kid %q", ErrInvalid, kid)
	}
	if k.Algorithm != "" && k.Algorithm != string(alg) {
		return nil, fmt.Errorf("%w: key %q is for %s, token says %s", ErrInvalid, kid, k.Algorithm, alg)
	}
	switch pub := k.Key.(type) {
	case *ecdsa.PublicKey:
		if alg == jose.ES256 && pub.Curve == elliptic.P256() {
			return pub, nil
		}
	case *rsa.PublicKey:
		if alg == jose.RS256 && pub.N.BitLen() >= 2048 {
			return pub, nil
		}
	}
	return nil, fmt.Errorf("%w: key %q cannot verify %s", ErrInvalid, kid, alg)
}

// refreshJWKS fetches the key set unless a fetch was attempted too recently,
// and returns the key for kid. Without any key set it fails with
// ErrUnavailable; with one, a failed fetch keeps the old keys so that a
// brief outage does not stop local verification.
func (v *Verifier) refreshJWKS(ctx context.Context, kid string) (jose.JSONWebKey, bool, error) {
	s := &v.jwks
	s.fetchMu.Lock()
	defer s.fetchMu.Unlock()
	s.mu.RLock()
	loaded := s.keys != nil
	k, known := s.keys[kid]
	fresh := loaded && v.Now().Sub(s.fetchedAt) <= jwksMaxAge
	s.mu.RUnlock()
	if known && fresh {
		return k, true, nil // another request fetched it meanwhile
	}
	now := v.Now()
	minGap := jwksMinRefetch
	if !loaded {
		minGap = time.Second // nothing to verify with yet: retry sooner
	}
	if !s.attemptedAt.IsZero() && now.Sub(s.attemptedAt) < minGap {
		if !loaded {
			return k, false, fmt.Errorf("%w: JWKS not loaded", ErrUnavailable)
		}
		return k, known, nil
	}
	s.attemptedAt = now
	var set jose.JSONWebKeySet
	if err := v.call(ctx, "GET", "/.well-known/jwks.json", nil, false, &set); err != nil {
		if !known {
			return k, false, err
		}
		return k, true, nil
	}
	keys := usableKeys(set)
	s.mu.Lock()
	s.keys, s.fetchedAt = keys, now
	s.mu.Unlock()
	k, known = keys[kid]
	return k, known, nil
}

// usableKeys keeps the public signing keys of a JWKS.
func usableKeys(set jose.JSONWebKeySet) map[string]jose.JSONWebKey {
	out := make(map[string]jose.JSONWebKey, len(set.Keys))
	for _, k := range set.Keys {
		if k.KeyID == "" || (k.Use != "" && k.Use != "sig") || !k.Valid() {
			continue
		}
		out[k.KeyID] = k.Public()
	}
	return out
}
