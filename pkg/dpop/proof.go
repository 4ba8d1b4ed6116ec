package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v3"
)

// Algorithms are the JWS algorithms accepted in proofs (never none or a
// MAC: the key must be asymmetric and public, RFC 9449 §4.3 items 5-6).
var Algorithms = []string{"ES256", "RS256", "EdDSA"}

// MaxProofLen bounds a proof before any parsing.
const MaxProofLen = 8192

// minRSABits refuses toy RSA keys.
const minRSABits = 2048

// ErrInvalidProof is the cause of every refusal of a proof (RFC 9449 §7.1
// invalid_dpop_proof); the wrapped text says why, for logs only.
var ErrInvalidProof = errors.New("dpop: invalid proof")

// ErrUseNonce means the proof lacked the current server nonce (RFC 9449
// §8, use_dpop_nonce): answer with a fresh DPoP-Nonce header.
var ErrUseNonce = errors.New("dpop: use the server nonce")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidProof, fmt.Sprintf(format, args...))
}

// Proof is a parsed DPoP proof JWT whose signature has been verified with
// the public key it carries.
type Proof struct {
	// JKT is the base64url RFC 7638 SHA-256 thumbprint of the proof's key:
	// the value of cnf.jkt in tokens bound to it.
	JKT      string
	Alg      string
	JTI      string
	HTM      string
	HTU      string
	IssuedAt time.Time
	ATH      string // base64url SHA-256 of the access token; "" when absent
	Nonce    string // "" when absent
}

type claims struct {
	JTI   string          `json:"jti"`
	HTM   string          `json:"htm"`
	HTU   string          `json:"htu"`
	IAT   json.RawMessage `json:"iat"`
	ATH   string          `json:"ath,omitempty"`
	Nonce string          `json:"nonce,omitempty"`
}

// Parse checks the proof JWT itself (RFC 9449 §4.3 items 2-7): one
// compact JWS, typ dpop+jwt, alg in Algorithms, a jwk header holding a
// public key of that algorithm (no private parts), a valid signature by it,
// and the claims jti, htm, htu and iat. It does not look at the request,
// the clock or any cache: that is Validator.Check. Errors wrap
// ErrInvalidProof.
func Parse(compact string) (*Proof, error) {
	if compact == "" {
		return nil, invalid("empty proof")
	}
	if len(compact) > MaxProofLen {
		return nil, invalid("proof longer than %d bytes", MaxProofLen)
	}
	if strings.Count(compact, ".") != 2 || strings.ContainsAny(compact, "{ \t\r\n") {
		return nil, invalid("not a compact JWS")
	}
	jws, err := jose.ParseSigned(compact)
	if err != nil {
		return nil, invalid("not a JWS: %v", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, invalid("want one signature")
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "dpop+jwt" {
		return nil, invalid("typ is %q, want dpop+jwt", typ)
	}
	jwk := h.JSONWebKey
	if jwk == nil {
		return nil, invalid("no jwk header")
	}
	if err := keyFits(h.Algorithm, jwk); err != nil {
		return nil, err
	}
	payload, err := jws.Verify(jwk)
	if err != nil {
		return nil, invalid("signature does not verify with the jwk header")
	}
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, invalid("claims are not a JSON object")
	}
	iat, err := parseIAT(c.IAT)
	if err != nil {
		return nil, err
	}
	if c.JTI == "" || c.HTM == "" || c.HTU == "" {
		return nil, invalid("jti, htm and htu are required")
	}
	if len(c.JTI) > 256 {
		return nil, invalid("jti too long")
	}
	jkt, err := Thumbprint(jwk)
	if err != nil {
		return nil, err
	}
	return &Proof{JKT: jkt, Alg: h.Algorithm, JTI: c.JTI, HTM: c.HTM, HTU: c.HTU, IssuedAt: iat, ATH: c.ATH, Nonce: c.Nonce}, nil
}

// keyFits refuses an algorithm outside Algorithms, a private or symmetric
// key, and a key of another type than the algorithm needs.
func keyFits(alg string, jwk *jose.JSONWebKey) error {
	if !jwk.Valid() || !jwk.IsPublic() {
		return invalid("jwk header is not a public key")
	}
	ok := false
	switch k := jwk.Key.(type) {
	case *ecdsa.PublicKey:
		ok = alg == "ES256" && k.Curve == elliptic.P256()
	case *rsa.PublicKey:
		ok = alg == "RS256" && k.N.BitLen() >= minRSABits
	case ed25519.PublicKey:
		ok = alg == "EdDSA"
	}
	if !ok {
		return invalid("alg %q with this jwk is not accepted (want one of %s)", alg, strings.Join(Algorithms, ", "))
	}
	return nil
}

// parseIAT reads iat as a JSON number of seconds.
func parseIAT(raw json.RawMessage) (time.Time, error) {
	var f float64
	if len(raw) == 0 || json.Unmarshal(raw, &f) != nil || f <= 0 || f > 1<<40 {
		return time.Time{}, invalid("iat missing or not a number")
	}
	return time.Unix(int64(f), 0), nil
}

// Thumbprint is the base64url RFC 7638 SHA-256 thumbprint of a public JWK.
func Thumbprint(jwk *jose.JSONWebKey) (string, error) {
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", invalid("jwk has no thumbprint: %v", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// AccessTokenHash is the ath of an access token (RFC 9449 §4.2):
// base64url of its SHA-256.
func AccessTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
