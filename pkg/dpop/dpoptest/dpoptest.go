// Package dpoptest makes DPoP proofs for tests, good ones and every kind
// of bad one.
package dpoptest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"time"

	jose "github.com/go-jose/go-jose/v3"

	"github.com/petstore-auth/petstore-auth/pkg/dpop"
)

// Key is a client's DPoP key.
type Key struct {
	Priv crypto.Signer
	Alg  jose.SignatureAlgorithm
}

// NewKey makes an ES256 key.
func NewKey() *Key {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return &Key{Priv: k, Alg: jose.ES256}
}

// JKT is the key's RFC 7638 thumbprint.
func (k *Key) JKT() string {
	jwk := jose.JSONWebKey{Key: k.Priv.Public()}
	s, err := dpop.Thumbprint(&jwk)
	if err != nil {
		panic(err)
	}
	return s
}

// Opts change a proof; the zero value makes a good one.
type Opts struct {
	Typ         string // "" is dpop+jwt; "-" leaves typ out
	IAT         time.Time
	JTI         string
	AccessToken string // sets ath
	ATH         string // overrides ath
	Nonce       string
	// EmbedPrivate puts the private key in the jwk header.
	EmbedPrivate bool
	// SignWith signs with another key than the one in the header.
	SignWith crypto.Signer
	// Claims replaces the claims entirely.
	Claims map[string]any
}

// Proof makes a proof for method and url.
func (k *Key) Proof(method, url string, o Opts) string {
	typ := o.Typ
	if typ == "" {
		typ = "dpop+jwt"
	}
	iat := o.IAT
	if iat.IsZero() {
		iat = time.Now()
	}
	jti := o.JTI
	if jti == "" {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		jti = base64.RawURLEncoding.EncodeToString(b)
	}
	claims := map[string]any{"jti": jti, "htm": method, "htu": url, "iat": iat.Unix()}
	if o.AccessToken != "" {
		claims["ath"] = dpop.AccessTokenHash(o.AccessToken)
	}
	if o.ATH != "" {
		claims["ath"] = o.ATH
	}
	if o.Nonce != "" {
		claims["nonce"] = o.Nonce
	}
	if o.Claims != nil {
		claims = o.Claims
	}
	embed := jose.JSONWebKey{Key: k.Priv.Public()}
	if o.EmbedPrivate {
		embed = jose.JSONWebKey{Key: k.Priv}
	}
	signer := o.SignWith
	if signer == nil {
		signer = k.Priv
	}
	so := &jose.SignerOptions{EmbedJWK: false, ExtraHeaders: map[jose.HeaderKey]any{"jwk": embed}}
	if typ != "-" {
		so = so.WithType(jose.ContentType(typ))
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.Alg, Key: signer}, so)
	if err != nil {
		panic(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := s.Sign(payload)
	if err != nil {
		panic(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		panic(err)
	}
	return out
}

// Unsigned makes a proof with alg none, or signed with a MAC (alg HS256).
func Unsigned(alg string, method, url string) string {
	enc := base64.RawURLEncoding.EncodeToString
	h, _ := json.Marshal(map[string]any{"typ": "dpop+jwt", "alg": alg, "jwk": map[string]string{"kty": "oct", "k": enc([]byte("0123456789abcdef0123456789abcdef"))}})
	c, _ := json.Marshal(map[string]any{"jti": "x", "htm": method, "htu": url, "iat": time.Now().Unix()})
	return enc(h) + "." + enc(c) + "." + enc([]byte("sig"))
}
