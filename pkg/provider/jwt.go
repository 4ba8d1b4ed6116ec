package provider

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v3/jwt"
	"github.com/ory/fosite"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// jwtIssuer holds the signing keys: one current key per algorithm in
// signingAlgs (ES256 signs RFC 9068 access tokens and ID tokens on request,
// RS256 signs ID tokens by default) and every published key for
// verification. Keys live in the database (private halves sealed with a key
// derived from the system secret), so all replicas sign with the same keys;
// each replica reloads them periodically.
type jwtIssuer struct {
	issuer string
	keys   identity.SigningKeyStore
	sealer *sealer
	now    func() time.Time
	// publishFor is how long a retired key stays in the JWKS: the longest
	// lifetime of a token it may have signed.
	publishFor time.Duration

	mu       sync.RWMutex
	current  map[string]*jose.JSONWebKey // by algorithm; private
	verify   map[string]*jose.JSONWebKey // by kid; public
	public   jose.JSONWebKeySet
	loadedAt time.Time
}

// signingAlgs are the algorithms the server keeps a current key for.
var signingAlgs = []string{string(jose.ES256), string(jose.RS256)}

// rsaKeyBits is the size of new RS256 keys (RFC 7518 §3.3 asks for 2048 or
// more).
const rsaKeyBits = 2048

func jwtSignature(token string) string { return token[strings.LastIndexByte(token, '.')+1:] }

// reload reads the keys from the database, creating a first key for each
// algorithm that has none.
func (j *jwtIssuer) reload(ctx context.Context) error {
	keys, err := j.listOrCreate(ctx)
	if err != nil {
		return err
	}
	now := j.now()
	verify := map[string]*jose.JSONWebKey{}
	current := map[string]*jose.JSONWebKey{}
	var public jose.JSONWebKeySet
	for _, k := range keys {
		if k.RetiredAt != nil && now.Sub(*k.RetiredAt) > j.publishFor {
			continue
		}
		var pub jose.JSONWebKey
		if err := pub.UnmarshalJSON(k.PublicJWK); err != nil {
			return fmt.Errorf("signing key %s: %w", k.ID, err)
		}
		verify[k.ID] = &pub
		public.Keys = append(public.Keys, pub)
		if current[k.Algorithm] == nil && k.RetiredAt == nil {
			if current[k.Algorithm], err = j.openPrivate(k); err != nil {
				return err
			}
		}
	}
	for _, alg := range signingAlgs {
		if current[alg] == nil {
			return fmt.Errorf("no active %s signing key: run 'petstore-auth keys rotate'", alg)
		}
	}
	j.mu.Lock()
	j.current, j.verify, j.public, j.loadedAt = current, verify, public, now
	j.mu.Unlock()
	return nil
}

// listOrCreate lists the signing keys, first creating a key for each
// algorithm without an active one (a new database, or one from before RS256
// keys).
func (j *jwtIssuer) listOrCreate(ctx context.Context) ([]*identity.SigningKey, error) {
	keys, err := j.keys.ListSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	created := false
	for _, alg := range signingAlgs {
		if !slices.ContainsFunc(keys, func(k *identity.SigningKey) bool { return k.Algorithm == alg && k.RetiredAt == nil }) {
			if _, err := j.rotateAlg(ctx, alg); err != nil {
				return nil, err
			}
			created = true
		}
	}
	if !created {
		return keys, nil
	}
	return j.keys.ListSigningKeys(ctx)
}

// openPrivate unseals the private half of k.
func (j *jwtIssuer) openPrivate(k *identity.SigningKey) (*jose.JSONWebKey, error) {
	raw, err := j.sealer.open(k.EncryptedPrivateKey, []byte(k.ID))
	if err != nil {
		return nil, fmt.Errorf("signing key %s does not open with this system secret: %w", k.ID, err)
	}
	var priv jose.JSONWebKey
	if err := priv.UnmarshalJSON(raw); err != nil {
		return nil, fmt.Errorf("signing key %s: %w", k.ID, err)
	}
	if rk, ok := priv.Key.(*rsa.PrivateKey); ok {
		// Once per load, not per signature: without it every RS256
		// signature rebuilds and re-checks the CRT key (~15% of a sign).
		rk.Precompute()
	}
	return &priv, nil
}

// maybeReload refreshes the key set when it is older than a minute, so that a
// rotation made by the CLI or another replica is picked up.
func (j *jwtIssuer) maybeReload(ctx context.Context) {
	j.mu.RLock()
	stale := j.now().Sub(j.loadedAt) > time.Minute
	j.mu.RUnlock()
	if stale {
		_ = j.reload(ctx) // keep the old keys when the database is briefly away
	}
}

// signingKey is the current private key for alg (ES256 or RS256).
func (j *jwtIssuer) signingKey(ctx context.Context, alg string) (*jose.JSONWebKey, error) {
	j.maybeReload(ctx)
	j.mu.RLock()
	defer j.mu.RUnlock()
	if k := j.current[alg]; k != nil {
		return k, nil
	}
	return nil, fmt.Errorf("no %s signing key", alg)
}

// publicKey is the published key with id kid, nil when there is none.
func (j *jwtIssuer) publicKey(kid string) *jose.JSONWebKey {
	j.mu.RLock()
	defer j.mu.RUnlock()
	return j.verify[kid]
}

// rotate creates a new key for every algorithm and retires the others;
// retired keys stay published for publishFor.
func (j *jwtIssuer) rotate(ctx context.Context) ([]*identity.SigningKey, error) {
	var out []*identity.SigningKey
	for _, alg := range signingAlgs {
		k, err := j.rotateAlg(ctx, alg)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

// rotateAlg creates a new key for alg and retires the other keys of alg.
func (j *jwtIssuer) rotateAlg(ctx context.Context, alg string) (*identity.SigningKey, error) {
	k, err := newSigningKey(j.sealer, alg, j.now())
	if err != nil {
		return nil, err
	}
	if err := j.keys.CreateSigningKey(ctx, k); err != nil {
		return nil, err
	}
	if err := j.keys.RetireSigningKeys(ctx, k.ID, j.now()); err != nil {
		return nil, err
	}
	return k, nil
}

// newSigningKey makes a fresh key for alg (ES256: P-256; RS256: RSA
// rsaKeyBits) with its private half sealed.
func newSigningKey(s *sealer, alg string, now time.Time) (*identity.SigningKey, error) {
	var priv any
	var err error
	switch alg {
	case string(jose.ES256):
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case string(jose.RS256):
		priv, err = rsa.GenerateKey(rand.Reader, rsaKeyBits)
	default:
		return nil, fmt.Errorf("unsupported signing algorithm %q", alg)
	}
	if err != nil {
		return nil, err
	}
	idb := make([]byte, 12)
	_, _ = rand.Read(idb)
	kid := now.UTC().Format("20060102") + "-" + base64.RawURLEncoding.EncodeToString(idb)
	jwk := jose.JSONWebKey{Key: priv, KeyID: kid, Algorithm: alg, Use: "sig"}
	privJSON, err := jwk.MarshalJSON()
	if err != nil {
		return nil, err
	}
	pubJSON, err := jwk.Public().MarshalJSON()
	if err != nil {
		return nil, err
	}
	return &identity.SigningKey{ID: kid, Algorithm: alg, EncryptedPrivateKey: s.seal(privJSON, []byte(kid)),
		PublicJWK: pubJSON, CreatedAt: now.UTC()}, nil
}

// accessClaims are the RFC 9068 claims of a JWT access token.
type accessClaims struct {
	jwt.Claims
	ClientID string `json:"client_id"`
	Scope    string `json:"scope,omitempty"`
	// Cnf binds the token to a DPoP key (RFC 9449 §6.1).
	Cnf *confirmation `json:"cnf,omitempty"`
}

// confirmation is the cnf claim (RFC 7800) with the DPoP key's thumbprint.
type confirmation struct {
	JKT string `json:"jkt"`
}

func (j *jwtIssuer) generate(ctx context.Context, r fosite.Requester) (string, string, error) {
	key, err := j.signingKey(ctx, string(jose.ES256))
	if err != nil {
		return "", "", err
	}
	sess, ok := r.GetSession().(*Session)
	if !ok {
		return "", "", errors.New("jwt access token needs a provider session")
	}
	now := j.now().UTC()
	exp := sess.GetExpiresAt(fosite.AccessToken)
	if exp.IsZero() {
		return "", "", errors.New("access token expiry not set")
	}
	jti := make([]byte, 16)
	_, _ = rand.Read(jti)
	sess.JTI = base64.RawURLEncoding.EncodeToString(jti)
	// The granted audience is the token's resources (resource.go).
	aud := jwt.Audience(r.GetGrantedAudience())
	claims := accessClaims{
		Claims: jwt.Claims{Issuer: j.issuer, Subject: sess.Subject, Audience: aud, ID: sess.JTI,
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(exp)},
		ClientID: r.GetClient().GetID(),
		Scope:    strings.Join(r.GetGrantedScopes(), " "),
	}
	if sess.JKT != "" {
		claims.Cnf = &confirmation{JKT: sess.JKT}
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", key.KeyID))
	if err != nil {
		return "", "", err
	}
	// The claims are one struct: encoded once, not through go-jose's
	// builder, which encodes, decodes and encodes them again to merge.
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", "", err
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", "", err
	}
	token, err := obj.CompactSerialize()
	if err != nil {
		return "", "", err
	}
	return token, jwtSignature(token), nil
}

// validate checks signature, type and expiry; the database row (looked up
// by signature) decides whether it was revoked.
func (j *jwtIssuer) validate(_ context.Context, _ fosite.Requester, token string) error {
	tok, err := jwt.ParseSigned(token)
	if err != nil || len(tok.Headers) != 1 || tok.Headers[0].Algorithm != string(jose.ES256) {
		return fosite.ErrTokenSignatureMismatch
	}
	if typ, _ := tok.Headers[0].ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(typ, "at+jwt") {
		return fosite.ErrTokenSignatureMismatch
	}
	key := j.publicKey(tok.Headers[0].KeyID)
	if key == nil {
		return fosite.ErrTokenSignatureMismatch
	}
	var c accessClaims
	if err := tok.Claims(key, &c); err != nil {
		return fosite.ErrTokenSignatureMismatch
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: j.issuer, Time: j.now()}, 0); err != nil {
		return fosite.ErrTokenExpired.WithWrap(err)
	}
	return nil
}

// jwks returns the published public keys.
func (j *jwtIssuer) jwks(ctx context.Context) ([]byte, error) {
	j.maybeReload(ctx)
	j.mu.RLock()
	defer j.mu.RUnlock()
	return json.Marshal(j.public)
}
